"""``longtail eval-quality``: how well perplexity, the classifier and the heuristics separate clean text from junk."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from longtail.fileio import atomic_write_text

REPO_ROOT = Path(__file__).resolve().parents[2]

EVAL_DESCRIPTION = """\
Score a labelled quality corpus (JSONL rows {lang_script, label: clean|junk|templated, kind, text}; built by
scripts/make_quality_eval.py into data/quality_eval/) with the KenLM model of each row's language, the quality
classifier and the heuristic signals, and print ROC-AUC (clean vs junk) per language per signal, then per junk
kind. 1.0 = every clean item scores better than every junk item, 0.5 = chance.

Models missing at the given paths are first trained (KenLM from data/reference/, the classifier from
data/quality/train.jsonl as `longtail demo` does), so the command works on a fresh checkout.
"""


def cmd_eval_quality(args) -> int:
    from longtail.filters.quality_eval import auc_by_junk_kind, auc_table, load_eval_corpus, markdown_table, score_rows

    from longtail.pipeline.models import train_default_classifier, train_kenlm_folder

    kenlm_dir, classifier = Path(args.kenlm_models), Path(args.classifier)
    if not args.no_train:
        train_kenlm_folder(REPO_ROOT / "data" / "reference", kenlm_dir)
        train_default_classifier(REPO_ROOT / "data" / "quality" / "train.jsonl", classifier)
    rows = load_eval_corpus(args.corpus)
    if args.languages:
        rows = [r for r in rows if r["lang_script"] in args.languages]
    scored = score_rows(rows, str(kenlm_dir), str(classifier))
    per_language = auc_table(scored)
    per_kind = auc_by_junk_kind(scored)
    n_clean = sum(r["label"] == "clean" for r in scored)
    n_junk = sum(r["label"] == "junk" for r in scored)
    print(f"ROC-AUC, clean ({n_clean}) vs junk ({n_junk}), per language:\n")
    print(markdown_table(per_language, "lang_script"))
    print("\nROC-AUC, clean vs one kind of junk (mean over languages):\n")
    print(markdown_table(per_kind, "junk kind"))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps({"per_language": per_language, "per_junk_kind": per_kind, "clean": n_clean, "junk": n_junk}, indent=2))
    return 0


CALIBRATE_DESCRIPTION = """\
Derive each language's thresholds for the heuristic signals (letter_ratio, dup_line_frac, top_2gram_frac,
dup_5gram_frac) from a run's annotations (OUTPUT/annotated/), so that about --keep of the language's
reference-like documents pass them (method: docs/quality.md). Writes a YAML for selection.thresholds_file,
a JSON report, and one PNG per language with the distributions and thresholds. The crawl is not read.

example:
  longtail calibrate out/sample --thresholds out/sample/calibration/thresholds.yaml
  # then in the manifest:  selection: {thresholds_file: ../out/sample/calibration/thresholds.yaml}
  longtail select manifests/sample.yaml
"""


def cmd_calibrate(args) -> int:
    from longtail.filters.calibration import CalibrationSettings

    from longtail.pipeline.tools.calibrate import calibrate_run, kenlm_dir_of_run, plot_run, write_thresholds_yaml

    output = Path(args.output)
    folder = output / "calibration"
    settings = CalibrationSettings(keep=args.keep, strict_lid=args.strict_lid, reference_percentile=args.reference_percentile,
                                   min_quality_score=args.min_quality_score, min_documents=args.min_documents)
    kenlm_models = args.kenlm_models or kenlm_dir_of_run(output)
    results = calibrate_run(output, settings, kenlm_models)
    thresholds_path = Path(args.thresholds) if args.thresholds else folder / "thresholds.yaml"
    write_thresholds_yaml(results, settings, thresholds_path, str(output.resolve()))
    report = Path(args.report) if args.report else folder / "calibration.json"
    atomic_write_text(report, json.dumps({"settings": settings.as_dict(), "kenlm_models": kenlm_models, "languages": results}, indent=2, ensure_ascii=False))
    plots = [] if args.no_plots else plot_run(output, results, settings, kenlm_models, Path(args.plots) if args.plots else folder / "plots")
    print(f"{'lang_script':<12} {'docs':>5} {'ref-like':>8} {'kept ref':>8} {'kept all':>8}  thresholds")
    for label, r in results.items():
        if r["thresholds"]:
            shown = ", ".join(f"{k}={v}" for k, v in r["thresholds"].items())
            print(f"{label:<12} {r['documents']:>5} {r['reference_like']:>8} {r['kept_reference_like']:>8.2f} {r['kept_all']:>8.2f}  {shown}")
        else:
            print(f"{label:<12} {r['documents']:>5} {r['reference_like']:>8} {'-':>8} {'-':>8}  skipped: {r['skipped']}")
    print(f"thresholds: {thresholds_path}\nreport: {report}" + (f"\nplots: {len(plots)} PNG in {plots[0].parent}" if plots else ""))
    return 0


BOOTSTRAP_DESCRIPTION = """\
Train a KenLM model for a language that has no reference corpus, from a run's own annotated documents
(OUTPUT/annotated/): the distinct lines of documents that pass strict LID and the heuristic checks are the
training text of a first model; when it separates held-out lines from negatives (rejected, wrong-language and
grapheme-shuffled text) less well than --retrain-below-auc, one iteration then keeps the head of their
perplexity distribution and retrains, and that iteration is kept only if it separates them better. The card
(<models>/<label>.json) records both iterations.

Inside a run the same method runs by itself with `stages.quality.kenlm_bootstrap` (manifests/sample.yaml does
this): models go to OUTPUT/bootstrap/kenlm/ and perplexity is re-scored from the annotations, never the crawl.
This command is for trying the method on one language, or for training models to reuse in other runs
(point stages.quality.kenlm_models at --models).

example:
  longtail bootstrap-kenlm out/sample --label yor_Latn --models models/kenlm-bootstrap
"""


def cmd_bootstrap_kenlm(args) -> int:
    from longtail.langid.labels import is_safe_label

    from longtail.pipeline.bootstrap import BootstrapSettings, bootstrap_kenlm

    labels = args.label
    if not all(is_safe_label(label) for label in labels):
        raise SystemExit("--label takes lang_script labels like yor_Latn")
    settings = BootstrapSettings(strict_lid=args.strict_lid, head_percentile=args.head_percentile, retrain_below_auc=args.retrain_below_auc,
                                 order=args.order, memory=args.memory)
    for label in labels:
        bootstrap_kenlm(args.output, label, args.models, settings)
    return 0


AUDIT_SAMPLE_DESCRIPTION = """\
Draw, for each output language, a stratified sample of kept documents (strata: perplexity bucket x domain;
every stratum gets one document before any gets two) for a person to judge. Writes audit_sample.jsonl (with
each document's stratum weight) and audit.html (verdict buttons; 'save verdicts.jsonl').

example:
  longtail audit-sample out/sample --per-language 30
  # judge in out/sample/audit/audit.html, save verdicts.jsonl, then:
  longtail audit-report out/sample/audit/audit_sample.jsonl verdicts.jsonl
"""


def cmd_audit_sample(args) -> int:
    from longtail.pipeline.tools.audit import write_audit_sample

    folder = Path(args.folder) if args.folder else Path(args.output) / "audit"
    jsonl, page, counts = write_audit_sample(args.output, folder, args.per_language, args.seed, args.languages)
    for label, c in counts.items():
        print(f"{label:<12} {c['sampled']:>4} of {c['documents']:>6} documents from {c['strata']} strata")
    print(f"sample: {jsonl}\npage: {page}")
    return 0


def cmd_audit_report(args) -> int:
    from longtail.pipeline.tools.audit import audit_report

    report = audit_report(args.sample, args.verdicts)
    print(f"{'lang_script':<12} {'judged':>6} {'wrong':>5} {'est. wrong-language rate':>25} {'95% CI (unweighted)':>20}")
    for label, r in report.items():
        rate = "-" if r["wrong_language_rate"] is None else f"{100 * r['wrong_language_rate']:.1f}%"
        low, high = r["wrong_language_ci95"]
        print(f"{label:<12} {r['judged']:>6} {r['wrong_language']:>5} {rate:>25} {f'{100 * low:.1f}-{100 * high:.1f}%':>20}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


def cmd_bootstrap_classifier(args) -> int:
    from longtail.filters.classifier import train_classifier

    from longtail.pipeline.bootstrap import BootstrapSettings, bootstrap_classifier_examples

    examples = bootstrap_classifier_examples(args.output, args.label, BootstrapSettings(strict_lid=args.strict_lid, head_percentile=args.head_percentile))
    good = sum(e["label"] == "good" for e in examples)
    print(f"bootstrap-classifier: {good} good (strict LID + heuristics, perplexity head), {len(examples) - good} bad (heuristic failures, perplexity tail)")
    bootstrap = {"source": str(Path(args.output).resolve()), "languages": sorted({e["lang_script"] for e in examples}), "good": good, "bad": len(examples) - good}
    card = train_classifier(examples, args.model, card_extra={"bootstrap": bootstrap})
    held = card["heldout"]
    print(f"classifier: {args.model}; held-out precision {held['precision_good']:.3f}, recall {held['recall_good']:.3f} on {held['examples']} examples")
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("eval-quality", help="ROC-AUC of perplexity, classifier and heuristics on a clean/junk corpus",
                                   description=EVAL_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=str(REPO_ROOT / "data" / "quality_eval"), help="folder of *.jsonl evaluation files (default: data/quality_eval)")
    parser.add_argument("--kenlm-models", default=str(REPO_ROOT / "models" / "kenlm"), help="folder of <lang_script>.binary KenLM models (default: models/kenlm)")
    parser.add_argument("--classifier", default=str(REPO_ROOT / "models" / "quality" / "classifier.bin"), help="fastText quality classifier (default: models/quality/classifier.bin)")
    parser.add_argument("--no-train", action="store_true", help="do not train missing default models; languages without a model get no perplexity")
    parser.add_argument("--languages", nargs="*", help="only these lang_script labels")
    parser.add_argument("--json", help="also write the tables as JSON to this file")
    parser.set_defaults(func=cmd_eval_quality)

    cal = subparsers.add_parser("calibrate", help="derive per-language heuristic thresholds from a run's annotations",
                                description=CALIBRATE_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    cal.add_argument("output", help="the run's output folder (holds annotated/)")
    cal.add_argument("--keep", type=float, default=0.95, help="share of reference-like documents the thresholds should keep (default 0.95)")
    cal.add_argument("--strict-lid", type=float, default=0.8, help="LID score a reference-like document needs (default 0.8)")
    cal.add_argument("--reference-percentile", type=int, choices=(50, 75, 90, 95, 99), default=90,
                     help="perplexity ceiling for reference-like documents: this percentile of the KenLM card's held-out sentences (default 90)")
    cal.add_argument("--min-quality-score", type=float, default=0.5, help="classifier score a reference-like document needs, when scored (default 0.5)")
    cal.add_argument("--min-documents", type=int, default=8, help="languages with fewer reference-like documents keep the defaults (default 8)")
    cal.add_argument("--kenlm-models", help="KenLM models folder with the cards (default: the run's manifest)")
    cal.add_argument("--thresholds", help="YAML to write (default OUTPUT/calibration/thresholds.yaml)")
    cal.add_argument("--report", help="JSON report (default OUTPUT/calibration/calibration.json)")
    cal.add_argument("--plots", help="folder for PNG plots (default OUTPUT/calibration/plots)")
    cal.add_argument("--no-plots", action="store_true", help="skip the plots")
    cal.set_defaults(func=cmd_calibrate)

    boot = subparsers.add_parser("bootstrap-kenlm", help="train KenLM models from a run's own documents (no reference corpus needed)",
                                 description=BOOTSTRAP_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    boot.add_argument("output", help="the run's output folder (holds annotated/)")
    boot.add_argument("--label", nargs="+", required=True, help="lang_script label(s) to train, e.g. yor_Latn lao_Laoo")
    boot.add_argument("--models", default="models/kenlm-bootstrap", help="output folder for <label>.binary and .json (default models/kenlm-bootstrap)")
    boot.add_argument("--strict-lid", type=float, default=0.9, help="LID score a training document needs (default 0.9)")
    boot.add_argument("--head-percentile", type=float, default=70.0, help="iteration 1 keeps documents at or below this perplexity percentile (default 70)")
    boot.add_argument("--retrain-below-auc", type=float, default=0.95,
                      help="iteration 1 is tried only when iteration 0's held-out AUC is below this (default 0.95)")
    boot.add_argument("--order", type=int, default=5, help="n-gram order (default 5)")
    boot.add_argument("--memory", default="10%", help="lmplz -S memory bound (default 10%%)")
    boot.set_defaults(func=cmd_bootstrap_kenlm)

    sample = subparsers.add_parser("audit-sample", help="stratified sample of each output language for a wrong-language audit (JSONL + HTML)",
                                   description=AUDIT_SAMPLE_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    sample.add_argument("output", help="the run's output folder (reads dataset/)")
    sample.add_argument("--per-language", type=int, default=30, help="documents per language (default 30)")
    sample.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    sample.add_argument("--languages", nargs="*", help="only these lang_script labels")
    sample.add_argument("--folder", help="where to write audit_sample.jsonl and audit.html (default OUTPUT/audit)")
    sample.set_defaults(func=cmd_audit_sample)

    report = subparsers.add_parser("audit-report", help="estimated wrong-language rate per language from audit verdicts",
                                   description="Join verdicts (JSONL rows {id, verdict: ok|wrong_language|not_language|unsure}) with the audit sample and "
                                               "report per language the stratum-weighted wrong-language rate (unsure left out) and a Wilson 95% interval.")
    report.add_argument("sample", help="audit_sample.jsonl written by audit-sample")
    report.add_argument("verdicts", help="verdicts JSONL")
    report.add_argument("--json", help="also write the report as JSON here")
    report.set_defaults(func=cmd_audit_report)


    boot_clf = subparsers.add_parser("bootstrap-classifier", help="train the fastText quality classifier from a run's own documents",
                                     description="Positives: documents passing strict LID and the heuristic rules, not templated, in the head of their "
                                                 "language's perplexity (annotations need a perplexity column). Negatives: documents failing the heuristic "
                                                 "rules and documents in the perplexity tail (above the 90th percentile). Prints and saves held-out precision/recall.")
    boot_clf.add_argument("output", help="the run's output folder (holds annotated/)")
    boot_clf.add_argument("--label", nargs="*", help="lang_script labels to use (default: all)")
    boot_clf.add_argument("--model", default="models/quality/bootstrapped.bin", help="model path (default models/quality/bootstrapped.bin)")
    boot_clf.add_argument("--strict-lid", type=float, default=0.9, help="LID score a positive needs (default 0.9; lowered to the language median)")
    boot_clf.add_argument("--head-percentile", type=float, default=70.0, help="positives are at or below this perplexity percentile (default 70)")
    boot_clf.set_defaults(func=cmd_bootstrap_classifier)

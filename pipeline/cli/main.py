"""``longtail`` command line."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Further subcommands live in their own modules, each with ``register(subparsers)`` that adds its parser(s)
# and sets ``func``; add a module here to expose it. Imports inside ``register`` must stay light.
COMMAND_MODULES: list[str] = []
COMMAND_MODULES.append("longtail.pipeline.cli.quality")  # eval-quality, calibrate, audit (issue 4)
COMMAND_MODULES.append("longtail.pipeline.cli.release")  # export, verify, report (issue 6)
COMMAND_MODULES.append("longtail.pipeline.cli.targeted")  # targeted-fetch (issue 6)
COMMAND_MODULES.append("longtail.pipeline.cli.lid")  # eval-lid, identify (issue 3)
COMMAND_MODULES.append("longtail.pipeline.cli.dedup")  # eval-dedup, dedup-index (issue 5)
SAMPLE_MANIFEST = REPO_ROOT / "manifests" / "sample.yaml"

DESCRIPTION = """\
longtail turns raw web crawls into clean, deduplicated, per-language text corpora, with care for
low-resource languages and scripts. A job is described by a YAML run manifest (see manifests/).

The job runs in two passes, with a bootstrap pass between them for each of stages.quality.kenlm_bootstrap
and classifier_bootstrap (both on in manifests/sample.yaml):
  annotate  read WARC/WET/ARC/JSONL/Parquet -> extract main text -> identify language and script ->
            heuristic signals, KenLM perplexity, classifier score -> MinHash signature,
            written per input file to <output>/annotated/ (resumable: finished files are skipped)
  bootstrap per language: a KenLM model trained on the run's own strict-LID, heuristic-passing
            documents, then perplexity re-scored from the annotations (the crawl is not re-read);
            likewise one fastText quality classifier for the run
  finalize  per language: apply thresholds -> deduplicate -> write Parquet shards to
            <output>/dataset/lang_script=<label>/, drops to <output>/removed/, stats to <output>/stats/
The run ends with the wall-clock time of each pass (console and <output>/logs/run.log).
"""

EPILOG = """\
examples:
  longtail demo                                   train the classifier, run the sample crawl (KenLM bootstrapped)
  longtail run manifests/sample.yaml              run a manifest on a local Ray
  longtail run job.yaml --address auto            the same job on an existing Ray cluster
  longtail select job.yaml                        re-apply changed thresholds without re-reading the crawl
  longtail train-kenlm --text yor.txt --label yor_Latn --models models/kenlm
"""


def _manifest(args):
    from longtail.fileio import is_url
    from longtail.pipeline.manifest import check_object_storage, load_manifest

    manifest = load_manifest(args.manifest)
    if getattr(args, "output", None):
        manifest = replace(manifest, output=args.output if is_url(args.output) else str(Path(args.output).resolve()))
        check_object_storage(manifest)
    return manifest


def cmd_run(args) -> int:
    from longtail.pipeline.run import InputsFailed, run

    try:
        run(_manifest(args), address=args.address, workers=args.workers, progress=not args.quiet, skip_bad_inputs=args.skip_bad_inputs)
    except InputsFailed as exc:
        print(f"longtail: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_select(args) -> int:
    from longtail.pipeline.run import reselect

    reselect(_manifest(args), address=args.address, progress=not args.quiet)
    return 0


def cmd_demo(args) -> int:
    from longtail.pipeline.models import train_default_classifier
    from longtail.pipeline.run import run

    data = REPO_ROOT / "data"
    models = REPO_ROOT / "models"
    # KenLM models are not trained here: the sample manifest bootstraps them from the crawl's own documents
    print("demo: training the quality classifier from data/quality (skipped when present)")
    train_default_classifier(data / "quality" / "train.jsonl", models / "quality" / "classifier.bin")
    args.manifest = str(SAMPLE_MANIFEST)
    manifest = _manifest(args)
    print(f"demo: running {SAMPLE_MANIFEST.relative_to(REPO_ROOT)} -> {manifest.output}")
    run(manifest, address=args.address, workers=args.workers, progress=not args.quiet)
    return 0


def cmd_train_kenlm(args) -> int:
    from longtail.filters.kenlm_model import train_kenlm
    from longtail.langid.labels import is_safe_label

    from longtail.pipeline.models import read_texts, train_kenlm_folder

    source = Path(args.text)
    if source.is_dir():
        train_kenlm_folder(source, args.models, order=args.order, unit=args.unit, force=True)
        return 0
    if not args.label or not is_safe_label(args.label):
        raise SystemExit("--label lang_script (e.g. yor_Latn) is required when --text is a file")
    path = train_kenlm(read_texts(source, args.text_field), args.label, args.models, order=args.order, unit=args.unit, memory=args.memory)
    print(f"kenlm: wrote {path} and {path.with_suffix('.json')}")
    return 0


def cmd_train_classifier(args) -> int:
    from longtail.pipeline.models import train_default_classifier

    train_default_classifier(args.examples, args.output, force=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="longtail", description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log more (Ray and stage details)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def job_options(p, manifest=True):
        if manifest:
            p.add_argument("manifest", help="run manifest (YAML); see manifests/sample.yaml")
        p.add_argument("--address", default=None, help="Ray cluster to join ('auto', 'ray://host:10001'); default: start a local Ray")
        p.add_argument("--output", default=None, help="output folder (overrides the manifest's 'output')")
        p.add_argument("--quiet", action="store_true", help="no progress bars or summary table")

    run_p = sub.add_parser("run", help="run a job described by a manifest", description="Run the annotate pass (resumable) and then selection, dedup and writing.\n"
                           "Inputs: WARC 1.0/1.1 and 0.18 (ClueWeb09), WET, ARC (v1/v2), JSONL, Parquet; WAT files are refused.\n"
                           "An input file that fails while annotated is recorded with its traceback in stats/errors.jsonl; the others\n"
                           "finish and are written, the command exits 1 naming the failed files, and running it again retries only those.\n" + EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    job_options(run_p)
    run_p.add_argument("--workers", type=int, default=None, help="annotate actors, one CPU each (default: the manifest's ray.workers)")
    run_p.add_argument("--skip-bad-inputs", action="store_true", help="inputs are checked before Ray starts (WAT files, unknown names, empty or unreadable files, "
                       "no text column...) and any bad one stops the run with a list of all of them; with this flag the bad ones are left out, "
                       "listed in stats/run.json (refused_inputs) and stats/errors.jsonl (input_refused), and the run goes on")
    run_p.set_defaults(func=cmd_run)

    select_p = sub.add_parser("select", help="re-run selection, dedup and writing from existing annotations", description="Apply the manifest's (possibly changed) thresholds to the stored annotations. The crawl is not read again.")
    job_options(select_p)
    select_p.set_defaults(func=cmd_select)

    demo_p = sub.add_parser("demo", help="train default models and run the sample crawl shipped in the repo", description="Trains the quality classifier from data/quality (once), then runs manifests/sample.yaml on a local Ray; that manifest bootstraps per-language KenLM models from the sample crawl's own documents (stages.quality.kenlm_bootstrap).")
    job_options(demo_p, manifest=False)
    demo_p.add_argument("--workers", type=int, default=None, help="annotate actors (default 2)")
    demo_p.set_defaults(func=cmd_demo)

    kenlm_p = sub.add_parser("train-kenlm", help="train a KenLM model for a language with lmplz", description="Train an n-gram model (lmplz -S bounded memory, --discount_fallback for tiny corpora) and write <models>/<label>.binary plus a JSON card.")
    kenlm_p.add_argument("--text", required=True, help="text file (one paragraph per line), JSONL, or a folder of <lang_script>.txt files")
    kenlm_p.add_argument("--label", help="lang_script of the text, e.g. yor_Latn (not needed for a folder)")
    kenlm_p.add_argument("--models", default="models/kenlm", help="output folder (default: models/kenlm)")
    kenlm_p.add_argument("--order", type=int, default=5, help="n-gram order, at most 6 with the pip-built KenLM (default 5)")
    kenlm_p.add_argument("--unit", choices=("grapheme", "word"), default="grapheme", help="token unit: grapheme clusters (default; robust with little text) or words (for large corpora)")
    kenlm_p.add_argument("--memory", default="10%", help="lmplz -S memory bound (default 10%%)")
    kenlm_p.add_argument("--text-field", default="text", help="JSONL field holding the text")
    kenlm_p.set_defaults(func=cmd_train_kenlm)

    clf_p = sub.add_parser("train-classifier", help="train the fastText quality classifier", description="Train from JSONL rows {label: good|bad, text, lang_script}; prints held-out precision/recall and saves them in a JSON card next to the model.")
    clf_p.add_argument("--examples", required=True, help="JSONL of labelled examples")
    clf_p.add_argument("--output", default="models/quality/classifier.bin", help="model path")
    clf_p.set_defaults(func=cmd_train_classifier)

    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(sub)
    return parser


# commands that take a run folder, release or model path as one of these; only `run` and `select`
# write and read a run folder on object storage so far (docs/cluster.md)
RUN_FOLDER_ARGS = ("output", "run_dir", "folder", "to", "release_dir")
OBJECT_STORAGE_COMMANDS = ("run", "select")


def refusal_message(command: str, url: str) -> str:
    return (f"longtail {command}: {url} is on object storage, which only `longtail run` and `longtail select` support so far; "
            f"copy the run folder to a local one first (e.g. `aws s3 sync {url} ./run`)")


def refuse_remote_run_folder(args) -> None:
    from longtail.fileio import is_url

    if args.command in OBJECT_STORAGE_COMMANDS:
        return
    for name in RUN_FOLDER_ARGS:
        value = getattr(args, name, None)
        if isinstance(value, str) and is_url(value):
            raise ValueError(refusal_message(args.command, value))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("longtail").setLevel(logging.DEBUG if args.verbose else logging.INFO)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from longtail.pipeline.manifest import ManifestError

    try:
        refuse_remote_run_folder(args)
        return args.func(args)
    except ManifestError as exc:
        print(f"longtail: manifest error: {exc}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as exc:
        print(f"longtail: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

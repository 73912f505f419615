"""``longtail eval-dedup`` and ``longtail dedup-index build|merge|prune|info`` (near-duplicate removal)."""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

EVAL_DESCRIPTION = """\
Measure near-duplicate detection on labelled pairs. --docs is JSONL {id, text, optional lang_script}, --pairs is
JSONL {id_a, id_b, label: duplicate|not_duplicate, optional category}. Documents are MinHashed and clustered per
lang_script exactly as the pipeline does (script-aware shingles, LSH, confirmation threshold); a pair counts as
predicted duplicate when both documents land in the same cluster. Prints precision, recall and F1 per script
and overall, and the predicted-duplicate rate per pair category.

The pair set in data/dedup_eval/ is composed by scripts/make_dedup_pairs.py (see docs/dedup.md).
example: longtail eval-dedup --docs data/dedup_eval/docs.jsonl --pairs data/dedup_eval/pairs.jsonl --sweep
"""

INDEX_DESCRIPTION = """\
A dedup index holds the MinHash signatures, LSH band hashes, exact-text hashes and URLs of released documents,
one folder per release. Point a later run's manifest at it (stages.dedup.previous_index: PATH) and pages of the
new crawl that duplicate an indexed document are removed as dedup:previous_release, without recomputing
anything for the old releases.
"""


def _params(args):
    from longtail.stages.dedup.minhash import MinHashParams

    params = MinHashParams()
    if getattr(args, "manifest", None):
        from longtail.pipeline.manifest import load_manifest

        params = load_manifest(args.manifest).dedup
    overrides = {k: getattr(args, k) for k in ("num_perm", "bands", "rows", "shingle", "char_ngram", "char_ngram_han", "ngram", "threshold") if getattr(args, k, None) is not None}
    return replace(params, **overrides)


def cmd_eval_dedup(args) -> int:
    from longtail.stages.dedup.evaluate import evaluate, format_report, read_jsonl

    report = evaluate(read_jsonl(args.docs), read_jsonl(args.pairs), _params(args), sweep=args.sweep)
    clusters = report.pop("clusters")
    if args.clusters_out:
        with open(args.clusters_out, "w", encoding="utf-8") as handle:
            for doc_id in sorted(clusters):
                handle.write(json.dumps({"id": doc_id, "dup_cluster_id": clusters[doc_id]}, ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print(format_report(report))
    return 0


def index_run(output, index_dir, params, release: str) -> dict:
    """Index the documents a finished run kept (its ``dataset/``) as release ``release``, with the signatures
    stored in its ``annotated/`` files."""
    from longtail.stages.dedup import index as dedup_index
    from longtail.pipeline.runfolder import RunFolder

    from longtail.fileio import is_url
    from longtail.pipeline.cli.main import refusal_message

    if is_url(output):
        raise ValueError(refusal_message("dedup-index build", str(output)))
    run = RunFolder(output)
    kept = run.kept_files()
    if not kept:
        raise FileNotFoundError(f"no kept documents under {run.dataset}")
    return dedup_index.build_from_files(kept, run.annotated_files(), index_dir, params, release, source=str(output))


def cmd_index_build(args) -> int:
    from longtail.pipeline.manifest import load_manifest

    manifest = load_manifest(args.manifest)
    output = args.output or manifest.output
    entry = index_run(output, args.index, manifest.dedup, args.release)
    print(f"dedup-index: release {entry['name']}: indexed {entry['documents']} documents of {output} into {args.index}")
    return 0


def cmd_index_merge(args) -> int:
    from longtail.stages.dedup import index as dedup_index

    merged = dedup_index.merge(args.output, args.indexes)
    print(f"dedup-index: merged {len(merged['releases'])} releases into {args.output}")
    return 0


def cmd_index_prune(args) -> int:
    from longtail.stages.dedup import index as dedup_index

    if args.keep_last is None and not args.drop:
        raise ValueError("prune needs --keep-last N and/or --drop RELEASE")
    removed = dedup_index.prune(args.index, keep_last=args.keep_last, drop=args.drop)
    print(f"dedup-index: removed releases {', '.join(removed) if removed else '(none)'} from {args.index}")
    return 0


def cmd_index_info(args) -> int:
    from longtail.stages.dedup import index as dedup_index

    print(dedup_index.info(args.index))
    return 0


def register(subparsers) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    p = subparsers.add_parser("eval-dedup", help="precision/recall of near-duplicate detection on labelled pairs", description=EVAL_DESCRIPTION, formatter_class=fmt)
    p.add_argument("--docs", required=True, help="JSONL documents {id, text, lang_script?}")
    p.add_argument("--pairs", required=True, help="JSONL labelled pairs {id_a, id_b, label, category?}")
    p.add_argument("--clusters-out", help="write {id, dup_cluster_id} JSONL for every document")
    p.add_argument("--sweep", action="store_true", help="also score confirmation thresholds 0.50-0.95")
    p.add_argument("--manifest", help="take the MinHash params from this manifest's stages.dedup (default: built-in defaults)")
    p.add_argument("--num-perm", type=int, help="override num_perm")
    p.add_argument("--bands", type=int, help="override LSH bands")
    p.add_argument("--rows", type=int, help="override LSH rows per band")
    p.add_argument("--shingle", choices=("char", "word"), help="override the shingles: char n-grams in lines (default) or word n-grams (before issue 14)")
    p.add_argument("--char-ngram", type=int, help="override the char shingle size (code points; Chinese and Japanese: --char-ngram-han)")
    p.add_argument("--char-ngram-han", type=int, help="override the char shingle size (code points) of Chinese and Japanese")
    p.add_argument("--ngram", type=int, help="override the word shingle size (--shingle word; x2 grapheme clusters for unspaced scripts)")
    p.add_argument("--threshold", type=float, help="override the confirmation threshold (estimated Jaccard)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_eval_dedup)

    index = subparsers.add_parser("dedup-index", help="build, merge, prune or show a dedup index of released documents", description=INDEX_DESCRIPTION, formatter_class=fmt)
    actions = index.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="index the documents a finished run kept, as one release")
    build.add_argument("manifest", help="the run's manifest (its output folder and MinHash params)")
    build.add_argument("--index", required=True, help="index folder (created, or a release is appended)")
    build.add_argument("--release", required=True, help="release name, e.g. 2026-11")
    build.add_argument("--output", help="the run's output folder (default: the manifest's)")
    build.set_defaults(func=cmd_index_build)
    merge = actions.add_parser("merge", help="combine indexes (same params, distinct release names) into a new one")
    merge.add_argument("indexes", nargs="+", help="index folders to merge")
    merge.add_argument("--output", required=True, help="new index folder")
    merge.set_defaults(func=cmd_index_merge)
    prune = actions.add_parser("prune", help="drop old or named releases from an index")
    prune.add_argument("index", help="index folder")
    prune.add_argument("--keep-last", type=int, help="keep only the newest N releases")
    prune.add_argument("--drop", action="append", help="release to remove (repeatable)")
    prune.set_defaults(func=cmd_index_prune)
    info = actions.add_parser("info", help="print an index's params, releases and document counts")
    info.add_argument("index", help="index folder")
    info.set_defaults(func=cmd_index_info)

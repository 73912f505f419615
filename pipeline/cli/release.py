"""``longtail export``, ``longtail verify`` and ``longtail report``: dataset releases and their report page."""

from __future__ import annotations

import argparse
import sys


def _parse_bytes(value: str) -> int:
    """``268435456``, ``256M``, ``1G``, ``512K`` -> bytes."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    text = value.strip().upper().removesuffix("B")
    try:
        if text and text[-1] in units:
            return int(float(text[:-1]) * units[text[-1]])
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {value!r} (e.g. 268435456, 256M, 1G)") from None


def cmd_export(args) -> int:
    from longtail.pipeline.release.export import ReleaseError, export_release, verify_release

    try:
        manifest = export_release(args.run_dir, args.to, shard_bytes=args.shard_bytes, force=args.force, progress=not args.quiet, audit=args.audit)
    except ReleaseError as exc:
        print(f"longtail export: {exc}", file=sys.stderr)
        return 1
    problems = verify_release(args.to)
    if problems:  # a release that does not verify right after writing is a bug or a disk problem
        print("longtail export: the written release does not verify:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    shards = [f for f in manifest["files"] if f["path"].startswith("data/")]
    print(f"export: {len(manifest['languages'])} languages, {sum(f['rows'] for f in shards)} documents in {len(shards)} shards "
          f"({sum(f['bytes'] for f in shards)} bytes) -> {args.to}")
    return 0


def cmd_verify(args) -> int:
    from longtail.pipeline.release.export import verify_release

    problems = verify_release(args.release_dir)
    if problems:
        print(f"longtail verify: {args.release_dir} FAILED ({len(problems)} problem(s)):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    import json
    from pathlib import Path

    files = json.loads((Path(args.release_dir) / "manifest.json").read_text())["files"]
    print(f"verify: OK, {len(files)} files match manifest.json ({args.release_dir})")
    return 0


def cmd_publish(args) -> int:
    from longtail.pipeline.release.export import ReleaseError, publish_release

    try:
        count = publish_release(args.release_dir, args.url)
    except ReleaseError as exc:
        print(f"longtail publish: {exc}", file=sys.stderr)
        return 1
    print(f"publish: {count} files copied to {args.url} and checked (sha256)")
    return 0


def cmd_report(args) -> int:
    from pathlib import Path

    from longtail.pipeline.release.report import write_report

    source = Path(args.folder)
    output = Path(args.output) if args.output else source / "report.html"
    write_report(source, output)
    print(f"report: {output}")
    return 0


def register(subparsers) -> None:
    export_p = subparsers.add_parser(
        "export", help="write a dataset release (Parquet shards, manifest.json, dataset card) from a finished run",
        description="Write a release folder from RUN_DIR (a run's output folder): data/<lang_script>/train-*.parquet with the "
                    "documented release schema (docs/release.md), manifest.json (every file's sha256, rows, bytes; the run "
                    "configuration, code version and model hashes), stats/, and a Hugging Face dataset card README.md. "
                    "The folder is built aside and renamed into place; the result is verified before the command returns.",
    )
    export_p.add_argument("run_dir", help="output folder of a finished `longtail run`")
    export_p.add_argument("--to", required=True, metavar="RELEASE_DIR", help="release folder to create")
    export_p.add_argument("--shard-bytes", type=_parse_bytes, default=256 << 20, metavar="N",
                          help="target uncompressed bytes per shard, e.g. 268435456 or 256M (default 256M)")
    export_p.add_argument("--audit", default=None, metavar="JSON",
                          help="wrong-language audit results (`longtail audit-report --json`) for the card's contamination column "
                               "(default: RUN_DIR/stats/contamination.json if present)")
    export_p.add_argument("--force", action="store_true", help="replace RELEASE_DIR if it exists")
    export_p.add_argument("--quiet", action="store_true", help="no progress bar")
    export_p.set_defaults(func=cmd_export)

    verify_p = subparsers.add_parser(
        "verify", help="recheck every file of a release against its manifest.json",
        description="Recompute the sha256, size and row count of every file listed in RELEASE_DIR/manifest.json and look "
                    "for unlisted shards. Exits 1 and names each bad file when anything differs.",
    )
    verify_p.add_argument("release_dir", help="release folder written by `longtail export`")
    verify_p.set_defaults(func=cmd_verify)

    publish_p = subparsers.add_parser(
        "publish", help="copy a verified release to an fsspec URL (s3://, gs://, ...) and check it there",
        description="Verify RELEASE_DIR, upload every file listed in its manifest.json and then manifest.json itself "
                    "(so readers never see a manifest whose files are missing), re-reading each upload to compare its sha256.",
    )
    publish_p.add_argument("release_dir", help="release folder written by `longtail export`")
    publish_p.add_argument("url", help="destination folder URL, e.g. s3://bucket/longtail/CC-MAIN-2026-44")
    publish_p.set_defaults(func=cmd_publish)

    report_p = subparsers.add_parser(
        "report", help="one self-contained HTML page of plots for a run or a release",
        description="Documents and words per language, removals per reason, perplexity and LID-score distributions, "
                    "duplicate-cluster sizes and scripts per language, as one HTML file with inline images.",
    )
    report_p.add_argument("folder", help="a run's output folder or a release folder")
    report_p.add_argument("--output", default=None, help="HTML file to write (default: FOLDER/report.html)")
    report_p.set_defaults(func=cmd_report)

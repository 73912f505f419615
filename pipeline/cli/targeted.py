"""``longtail targeted-fetch``: select records of small languages in a Common Crawl columnar index, fetch only
those by byte range, and write them as one small WARC for ``longtail run``."""

from __future__ import annotations

import sys

EPILOG = """\
example (Common Crawl):
  longtail targeted-fetch \\
      --index 's3://commoncrawl/cc-index/table/cc-main/warc/crawl=CC-MAIN-2026-44/subset=warc/*.parquet' \\
      --languages yor_Latn,uig_Arab,que_Latn --warc-prefix https://data.commoncrawl.org/ \\
      --output /data/cc-main-2026-44/small-languages.warc.gz
  then list the WARC under `inputs:` of a run manifest and `longtail run` it.
"""


def cmd_targeted_fetch(args) -> int:
    from longtail.pipeline.tools.targeted import fetch_to_warc, select_records

    targets = [t.strip() for t in args.languages.split(",") if t.strip()]
    if not targets:
        print("longtail targeted-fetch: --languages needs at least one label", file=sys.stderr)
        return 2
    records = select_records(args.index, targets, primary_only=args.primary_only, limit=args.limit)
    print(f"targeted-fetch: {len(records)} candidate records for {', '.join(targets)} in the index")
    if not records:
        return 1
    result = fetch_to_warc(records, args.warc_prefix, args.output, threads=args.threads, progress=not args.quiet)
    print(f"targeted-fetch: {result['records']} records, {result['bytes']} bytes -> {result['output']} (origin of each record: {result['index']})")
    return 0


def register(subparsers) -> None:
    import argparse

    parser = subparsers.add_parser(
        "targeted-fetch", help="fetch only the records of chosen languages, found in a Common Crawl columnar index",
        description="Select HTTP-200 HTML records whose content_languages (ISO 639-3, any position) include a target "
                    "language from Common Crawl columnar-index Parquet files with DuckDB, read each record with one "
                    "ranged request through fsspec, and write them unchanged (one gzip member each) into a WARC.gz, "
                    "with <output>.index.jsonl mapping every record back to its original WARC file and offset.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--index", required=True, action="append", help="index Parquet file, glob or URL (repeatable)")
    parser.add_argument("--languages", required=True, help="comma-separated targets: lang_script labels or ISO 639 codes (yor_Latn,uig)")
    parser.add_argument("--warc-prefix", default="", help="prefix turning warc_filename into a path or URL (https://data.commoncrawl.org/ for CC)")
    parser.add_argument("--output", required=True, help="WARC.gz to write")
    parser.add_argument("--primary-only", action="store_true", help="only records whose first listed language is a target")
    parser.add_argument("--limit", type=int, default=None, help="at most this many records")
    parser.add_argument("--threads", type=int, default=8, help="parallel ranged reads (default 8)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=cmd_targeted_fetch)

"""Write a Common Crawl-style columnar URL index (Parquet) for local WARC files, e.g. the sample crawl.

One row per WARC response record, with the columns of Common Crawl's columnar index that longtail uses
(url, fetch_time, fetch_status, content_mime_type, content_mime_detected, content_charset, content_languages,
warc_filename, warc_record_offset, warc_record_length, warc_segment, crawl, subset). Offsets and lengths are
read from the WARCs themselves (one gzip member per record, as in Common Crawl). ``content_languages`` comes
from a ground-truth JSONL (``url`` -> ``lang_script``), as ISO 639-3 codes like Common Crawl's.

    python scripts/make_cc_index.py data/sample/crawl/*.warc.gz --ground-truth data/sample/ground_truth.jsonl \
        --output /tmp/cc-index/part-0.parquet --crawl CC-SAMPLE
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

INDEX_SCHEMA = pa.schema(
    [
        ("url", pa.string()),
        ("url_host_name", pa.string()),
        ("fetch_time", pa.timestamp("ms", tz="UTC")),
        ("fetch_status", pa.int16()),
        ("content_mime_type", pa.string()),
        ("content_mime_detected", pa.string()),
        ("content_charset", pa.string()),
        ("content_languages", pa.string()),
        ("warc_filename", pa.string()),
        ("warc_record_offset", pa.int64()),
        ("warc_record_length", pa.int32()),
        ("warc_segment", pa.string()),
        ("crawl", pa.string()),
        ("subset", pa.string()),
    ]
)


def _http_head(block: bytes) -> tuple[int | None, str | None]:
    head = block.split(b"\r\n\r\n", 1)[0].decode("latin-1").splitlines()
    status = None
    if head and head[0].upper().startswith("HTTP/"):
        parts = head[0].split(None, 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    content_type = next((line.split(":", 1)[1].strip() for line in head[1:] if line.lower().startswith("content-type:")), None)
    return status, content_type


def _detected_mime(payload: bytes, declared: str | None) -> str | None:
    start = payload.lstrip()[:512].lower()
    if start.startswith((b"<!doctype html", b"<html")) or b"<body" in start or b"<head" in start:
        return "text/html"
    return declared


def record_spans(path: Path) -> list[tuple[int, int]]:
    """(offset, length) of every gzip member that starts a WARC record, by walking the file's members."""
    from fastwarc.warc import ArchiveIterator

    with open(path, "rb") as handle:
        offsets = [record.stream_pos for record in ArchiveIterator(handle, parse_http=False)]
    size = path.stat().st_size
    return [(start, (offsets[i + 1] if i + 1 < len(offsets) else size) - start) for i, start in enumerate(offsets)]


def index_rows(path: Path, languages: dict[str, str], crawl: str, relative_to: Path | None) -> list[dict]:
    import datetime

    from fastwarc.warc import ArchiveIterator, WarcRecordType

    spans = dict(record_spans(path))
    name = str(path.relative_to(relative_to)) if relative_to else path.name
    rows = []
    with open(path, "rb") as handle:
        for record in ArchiveIterator(handle, parse_http=False):
            if record.record_type != WarcRecordType.response:
                record.reader.consume()
                continue
            offset = record.stream_pos
            block = record.reader.read()
            status, content_type = _http_head(block)
            mime = (content_type or "").split(";")[0].strip().lower() or None
            charset = next((p.split("=", 1)[1].strip() for p in (content_type or "").split(";")[1:] if p.strip().lower().startswith("charset=")), None)
            payload = block.split(b"\r\n\r\n", 1)[-1]
            url = record.headers.get("WARC-Target-URI")
            date = record.headers.get("WARC-Date")
            label = languages.get(url)
            rows.append({
                "url": url,
                "url_host_name": url.split("/")[2] if url and "//" in url else None,
                "fetch_time": datetime.datetime.fromisoformat(date.replace("Z", "+00:00")) if date else None,
                "fetch_status": status,
                "content_mime_type": mime,
                "content_mime_detected": _detected_mime(payload, mime) if status == 200 else None,
                "content_charset": charset,
                "content_languages": label.split("_")[0] if label else None,
                "warc_filename": name,
                "warc_record_offset": offset,
                "warc_record_length": spans[offset],
                "warc_segment": None,
                "crawl": crawl,
                "subset": "warc" if status == 200 else "crawldiagnostics",
            })
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("warcs", nargs="+", help="WARC(.gz) files, one gzip member per record")
    parser.add_argument("--ground-truth", required=True, help="JSONL with url and lang_script per record")
    parser.add_argument("--output", required=True, help="Parquet file to write")
    parser.add_argument("--crawl", default="CC-SAMPLE", help="value of the crawl column")
    parser.add_argument("--relative-to", default=None, help="store warc_filename relative to this folder (default: the file name)")
    args = parser.parse_args(argv)
    languages = {}
    for line in Path(args.ground_truth).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if row.get("lang_script"):
                languages[row["url"]] = row["lang_script"]
    rows = [r for warc in sorted(args.warcs) for r in index_rows(Path(warc), languages, args.crawl, Path(args.relative_to) if args.relative_to else None)]
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.tmp")
    pq.write_table(pa.Table.from_pylist(rows, schema=INDEX_SCHEMA), tmp)
    os.replace(tmp, output)
    print(f"index: {len(rows)} response records from {len(args.warcs)} WARC files -> {output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

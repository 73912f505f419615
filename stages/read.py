"""Read inputs into record batches: WARC / WARC.gz (Common Crawl layout), JSONL and Parquet text.

Only HTTP 200 HTML responses become documents; every other record is counted by kind (``warcinfo``,
``request``, ``metadata``, ``non_200``, ``non_html``, ``malformed``), so nothing disappears silently.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Iterator

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

DOCUMENT_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("url", pa.string()),
        ("source_file", pa.string()),
        ("warc_record_id", pa.string()),
        ("warc_offset", pa.int64()),
        ("crawl_date", pa.string()),
        ("content_type", pa.string()),
        ("html", pa.binary()),
        ("text", pa.string()),
    ]
)


@dataclass
class ReadReport:
    """Counts of records by kind and the errors met, for the unit's completion record."""

    records: Counter = field(default_factory=Counter)
    errors: list = field(default_factory=list)

    def error(self, source: str, offset: int | None, reason: str, detail: str = "") -> None:
        self.records[reason] += 1
        self.errors.append({"file": source, "offset": offset, "reason": reason, "detail": detail[:300]})


def input_format(path: str) -> str:
    name = PurePosixPath(path.split("?", 1)[0]).name.lower()
    if name.endswith((".warc", ".warc.gz", ".arc.gz")):
        return "warc"
    if name.endswith((".jsonl", ".jsonl.gz", ".json.gz", ".ndjson")):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    raise ValueError(f"cannot tell the format of input {path!r} (expected .warc[.gz], .jsonl[.gz] or .parquet)")


def _batches(rows: list[dict], batch_size: int) -> Iterator[pa.Table]:
    for start in range(0, len(rows), batch_size):
        yield pa.Table.from_pylist(rows[start : start + batch_size], schema=DOCUMENT_SCHEMA)


def _strip_uuid(record_id: str) -> str:
    return record_id.strip("<>").removeprefix("urn:uuid:")


def parse_http_response(block: bytes) -> tuple[int, str | None, bytes]:
    """Split an HTTP response block into (status, Content-Type, body); ValueError if it is not one."""
    head, sep, body = block.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = block.partition(b"\n\n")
    if not sep:
        raise ValueError("no end of headers")
    lines = head.decode("latin-1").splitlines()
    parts = lines[0].split(None, 2) if lines else []
    if len(parts) < 2 or not parts[0].upper().startswith("HTTP/") or not parts[1].isdigit():
        raise ValueError(f"bad status line {lines[0][:80]!r}" if lines else "empty")
    content_type = None
    for line in lines[1:]:
        key, colon, value = line.partition(":")
        if colon and key.strip().lower() == "content-type":
            content_type = value.strip()
    return int(parts[1]), content_type, body


def read_warc(path: str, report: ReadReport, batch_size: int = 256, max_payload_bytes: int = 10 << 20) -> Iterator[pa.Table]:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    name = PurePosixPath(path).name
    rows: list[dict] = []
    offset = None
    with fsspec.open(path, "rb") as stream:
        iterator = iter(ArchiveIterator(stream, parse_http=False, fsspec_args=False))
        while True:
            try:
                record = next(iterator)
            except StopIteration:
                break
            except Exception as exc:  # a broken record ends what can be read of this file: count it
                report.error(name, offset, "malformed", repr(exc))
                break
            offset = record.stream_pos
            try:
                if record.record_type != WarcRecordType.response:
                    report.records[str(record.record_type)] += 1  # warcinfo, request, metadata, ...
                    record.reader.consume()
                    continue
                report.records["response"] += 1
                declared = record.content_length or 0
                block = record.reader.read(max_payload_bytes + 1)
                if len(block) > max_payload_bytes:
                    report.error(name, offset, "too_large", f"record over {max_payload_bytes} bytes")
                    record.reader.consume()
                    continue
                if declared == 0 or len(block) < declared:
                    report.error(name, offset, "malformed", f"truncated record: {len(block)} of {declared} bytes")
                    continue
                try:
                    status, content_type, payload = parse_http_response(block)
                except ValueError as exc:
                    report.error(name, offset, "malformed", f"bad HTTP header: {exc}")
                    continue
                if status != 200:
                    report.records["non_200"] += 1
                    continue
                mime = (content_type or "").split(";")[0].strip().lower()
                if mime not in HTML_TYPES:
                    report.records["non_html"] += 1
                    continue
                record_id = _strip_uuid(record.record_id or "")
                rows.append(
                    {
                        "id": record_id or hashlib.sha1(f"{name}:{offset}".encode()).hexdigest(),
                        "url": record.headers.get("WARC-Target-URI"),
                        "source_file": name,
                        "warc_record_id": record_id,
                        "warc_offset": offset,
                        "crawl_date": record.headers.get("WARC-Date"),
                        "content_type": content_type,
                        "html": payload,
                        "text": None,
                    }
                )
            except Exception as exc:
                report.error(name, offset, "malformed", repr(exc))
                continue
            if len(rows) >= batch_size:
                yield from _batches(rows, batch_size)
                rows = []
    yield from _batches(rows, batch_size)


@dataclass(frozen=True)
class TextFields:
    """Field names of JSONL / Parquet text inputs."""

    text: str = "text"
    id: str = "id"
    url: str = "url"
    date: str = "date"


def _text_row(raw: dict, fields: TextFields, name: str, position: int) -> dict:
    doc_id = raw.get(fields.id)
    return {
        "id": str(doc_id) if doc_id is not None else hashlib.sha1(f"{name}:{position}".encode()).hexdigest(),
        "url": raw.get(fields.url),
        "source_file": name,
        "warc_record_id": None,
        "warc_offset": position,
        "crawl_date": str(raw[fields.date]) if raw.get(fields.date) is not None else None,
        "content_type": None,
        "html": None,
        "text": raw.get(fields.text),
    }


def read_jsonl(path: str, report: ReadReport, fields: TextFields, batch_size: int = 256) -> Iterator[pa.Table]:
    name = PurePosixPath(path).name
    rows = []
    with fsspec.open(path, "rt", encoding="utf-8", errors="replace", compression="infer") as handle:
        for line_no, line in enumerate(handle):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                if not isinstance(raw, dict) or not isinstance(raw.get(fields.text), str):
                    raise ValueError(f"no string field {fields.text!r}")
            except ValueError as exc:
                report.error(name, line_no, "malformed", str(exc))
                continue
            report.records["text_record"] += 1
            rows.append(_text_row(raw, fields, name, line_no))
            if len(rows) >= batch_size:
                yield from _batches(rows, batch_size)
                rows = []
    yield from _batches(rows, batch_size)


def read_parquet(path: str, report: ReadReport, fields: TextFields, batch_size: int = 256) -> Iterator[pa.Table]:
    name = PurePosixPath(path).name
    with fsspec.open(path, "rb") as handle:
        parquet = pq.ParquetFile(handle)
        if fields.text not in parquet.schema_arrow.names:
            report.error(name, None, "malformed", f"no column {fields.text!r}")
            return
        position = 0
        for batch in parquet.iter_batches(batch_size=batch_size):
            rows = []
            for raw in batch.to_pylist():
                if isinstance(raw.get(fields.text), str):
                    report.records["text_record"] += 1
                    rows.append(_text_row(raw, fields, name, position))
                else:
                    report.error(name, position, "malformed", f"{fields.text!r} is not a string")
                position += 1
            yield from _batches(rows, batch_size)


def read_unit(path: str, report: ReadReport, fields: TextFields = TextFields(), batch_size: int = 256) -> Iterator[pa.Table]:
    fmt = input_format(path)
    if fmt == "warc":
        return read_warc(path, report, batch_size)
    if fmt == "jsonl":
        return read_jsonl(path, report, fields, batch_size)
    return read_parquet(path, report, fields, batch_size)

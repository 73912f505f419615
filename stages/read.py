"""Read inputs into record batches: WARC / WARC.gz (Common Crawl layout), JSONL and Parquet text.

Only HTTP 200 HTML responses become documents; every other record is counted by kind (``warcinfo``,
``request``, ``metadata``, ``non_200``, ``non_html``, ``malformed``), so nothing disappears silently.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import zlib
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


_GZIP_MAGIC = b"\x1f\x8b\x08"
_BINARY_MAGIC = (b"\x89PNG", b"%PDF-", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b", b"RIFF", b"\x00\x00\x01\x00",
                 b"OggS", b"fLaC", b"ID3", b"\x7fELF", b"MZ", b"wOF2", b"wOFF", b"7z\xbc\xaf")


def _next_record_start(stream, after: int, gzipped: bool, window: int = 1 << 20) -> int | None:
    """Offset of the first gzip member (uncompressed: the first ``WARC/1.x`` line) at or after ``after`` whose
    content starts like a WARC record; None if there is none."""
    pattern = re.compile(re.escape(_GZIP_MAGIC) if gzipped else rb"WARC/1\.[01]\r?\n")
    pos = after
    while True:
        stream.seek(pos)
        chunk = stream.read(window + 4096)
        for match in pattern.finditer(chunk):
            if match.start() >= window and len(chunk) > window:
                break
            if not gzipped:
                return pos + match.start()
            try:
                head = zlib.decompressobj(31).decompress(chunk[match.start() : match.start() + 4096], 16)
            except zlib.error:
                continue
            if head.startswith(b"WARC/1."):
                return pos + match.start()
        if len(chunk) <= window:
            return None
        pos += window


def _sha1_ok(block: bytes, digest: str | None) -> bool:
    if not digest or not digest.lower().startswith("sha1:"):
        return True  # nothing to check against
    value = digest[5:].strip()
    raw = hashlib.sha1(block).digest()
    return value.upper() == base64.b32encode(raw).decode() or value.lower() == raw.hex()


def _content_encoding(block: bytes) -> str | None:
    head = block.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    for line in head.decode("latin-1").splitlines()[1:]:
        key, colon, value = line.partition(":")
        if colon and key.strip().lower() == "content-encoding":
            return value.strip().lower()
    return None


def _looks_binary(payload: bytes) -> bool:
    start = payload[:1024].lstrip()
    if start.startswith(_BINARY_MAGIC):
        return True
    if start.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 BOM
        return False
    return b"\x00" in start


class RecordRejected(Exception):
    """A response record that does not become a document; ``reason`` is its counted kind."""

    def __init__(self, reason: str, detail: str = "", counted_only: bool = False, resync: bool = False):
        super().__init__(detail)
        self.reason, self.detail = reason, detail
        self.counted_only = counted_only  # an ordinary skip (non_200, non_html): counted, not an error
        self.resync = resync  # the iterator's position can no longer be trusted


def _response_document(record, path: str, offset: int, max_payload_bytes: int) -> dict:
    """Turn a WARC response record into a document row, or raise :class:`RecordRejected`."""
    name = PurePosixPath(path).name
    declared = record.content_length or 0
    block = record.reader.read(max_payload_bytes + 1)
    if len(block) > max_payload_bytes:
        record.reader.consume()
        raise RecordRejected("too_large", f"record over {max_payload_bytes} bytes")
    if declared == 0 or len(block) < declared:
        raise RecordRejected("malformed", f"truncated record: {len(block)} of {declared} bytes")
    if not _sha1_ok(block, record.headers.get("WARC-Block-Digest")):
        raise RecordRejected("malformed", "WARC-Block-Digest mismatch (wrong Content-Length?)", resync=True)
    try:
        status, content_type, payload = parse_http_response(block)
    except ValueError as exc:
        raise RecordRejected("malformed", f"bad HTTP header: {exc}") from None
    if status != 200:
        raise RecordRejected("non_200", counted_only=True)
    mime = (content_type or "").split(";")[0].strip().lower()
    if mime not in HTML_TYPES:
        raise RecordRejected("non_html", counted_only=True)
    encoding = _content_encoding(block)
    if encoding in ("gzip", "x-gzip", "deflate"):
        try:
            payload = zlib.decompressobj(47).decompress(payload, max_payload_bytes + 1)
        except zlib.error as exc:
            raise RecordRejected("malformed", f"bad {encoding} payload: {exc}") from None
        if len(payload) > max_payload_bytes:
            raise RecordRejected("too_large", f"{encoding} payload over {max_payload_bytes} bytes")
    if _looks_binary(payload):
        raise RecordRejected("non_html", f"binary payload labelled {mime}: {payload[:8]!r}")
    record_id = _strip_uuid(record.record_id or "")
    return {
        "id": record_id or fallback_id(path, offset),
        "url": record.headers.get("WARC-Target-URI"),
        "source_file": name,
        "warc_record_id": record_id,
        "warc_offset": offset,
        "crawl_date": record.headers.get("WARC-Date"),
        "content_type": content_type,
        "html": payload,
        "text": None,
    }


def read_warc(path: str, report: ReadReport, batch_size: int = 256, max_payload_bytes: int = 10 << 20) -> Iterator[pa.Table]:
    """Documents from a WARC file. A broken record is counted and reading resumes at the next record
    (for one-gzip-member-per-record files, the Common Crawl layout), so good records after it are kept."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    name = PurePosixPath(path).name
    rows: list[dict] = []
    with fsspec.open(path, "rb") as stream:
        magic = stream.read(3)
        if not magic:
            report.error(name, 0, "malformed", "empty file")
            return
        gzipped = magic == _GZIP_MAGIC
        start: int | None = 0
        while start is not None:
            stream.seek(start)
            iterator = iter(ArchiveIterator(stream, parse_http=False, fsspec_args=False))
            last, resume_after = None, None
            while True:
                try:
                    record = next(iterator)
                except StopIteration:
                    break
                except Exception as exc:  # unreadable record: count it where it starts, resume after it
                    bad = _next_record_start(stream, start if last is None else last + 1, gzipped)
                    bad = start if bad is None else bad
                    report.error(name, bad, "malformed", repr(exc))
                    resume_after = bad + 1
                    break
                offset = last = record.stream_pos
                if record.record_type != WarcRecordType.response:
                    report.records[str(record.record_type)] += 1  # warcinfo, request, metadata, ...
                    record.reader.consume()
                    continue
                report.records["response"] += 1
                try:
                    rows.append(_response_document(record, path, offset, max_payload_bytes))
                except RecordRejected as rejected:
                    if rejected.counted_only:
                        report.records[rejected.reason] += 1
                    else:
                        report.error(name, offset, rejected.reason, rejected.detail)
                    if rejected.resync:
                        resume_after = offset + 1
                        break
                except Exception as exc:  # anything unexpected in one record must not stop the file
                    report.error(name, offset, "malformed", repr(exc))
                if len(rows) >= batch_size:
                    yield from _batches(rows, batch_size)
                    rows = []
            start = None if resume_after is None else _next_record_start(stream, resume_after, gzipped)
    yield from _batches(rows, batch_size)


@dataclass(frozen=True)
class TextFields:
    """Field names of JSONL / Parquet text inputs."""

    text: str = "text"
    id: str = "id"
    url: str = "url"
    date: str = "date"


def fallback_id(path: str, position: int) -> str:
    """Stable id of a record without one: from the input's full path (base names repeat across folders)."""
    return hashlib.sha1(f"{path}:{position}".encode()).hexdigest()


def _text_row(raw: dict, fields: TextFields, path: str, name: str, position: int) -> dict:
    doc_id, url = raw.get(fields.id), raw.get(fields.url)
    return {
        "id": str(doc_id) if doc_id is not None else fallback_id(path, position),
        "url": str(url) if url is not None else None,
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
            rows.append(_text_row(raw, fields, path, name, line_no))
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
                    rows.append(_text_row(raw, fields, path, name, position))
                else:
                    report.error(name, position, "malformed", f"{fields.text!r} is not a string")
                position += 1
            yield from _batches(rows, batch_size)


def read_unit(path: str, report: ReadReport, fields: TextFields = TextFields(), batch_size: int = 256,
              max_payload_bytes: int = 10 << 20) -> Iterator[pa.Table]:
    fmt = input_format(path)
    if fmt == "warc":
        return read_warc(path, report, batch_size, max_payload_bytes)
    if fmt == "jsonl":
        return read_jsonl(path, report, fields, batch_size)
    return read_parquet(path, report, fields, batch_size)

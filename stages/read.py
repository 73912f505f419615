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

from longtail.reasons import RECORD_RESPONSE, RECORD_TEXT, SKIP_CONVERSION, SKIP_MALFORMED
from longtail.stages.read_legacy import LEGACY_WARC_VERSION, Inflated, RawRecord, head_bytes, iter_arc, iter_legacy_warc

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


WAT_REFUSAL = "a WAT file holds only metadata (links, headers), no page text: give the matching WARC or WET file"


def input_format(path: str) -> str:
    """The format an input's name says: ``warc`` (WARC 1.0/1.1 or 0.18), ``wet``, ``arc``, ``wat`` (refused by
    :func:`input_problem`), ``jsonl`` or ``parquet``; ValueError for any other name. The container is sniffed
    when the file is read (an ARC file named ``.warc.gz`` is still read as ARC)."""
    name = PurePosixPath(path.split("?", 1)[0]).name.lower()
    if name.endswith((".wat", ".wat.gz")):
        return "wat"
    if name.endswith((".wet", ".wet.gz")):
        return "wet"
    if name.endswith((".arc", ".arc.gz")):
        return "arc"
    if name.endswith((".warc", ".warc.gz")):
        return "warc"
    if name.endswith((".jsonl", ".jsonl.gz", ".json.gz", ".ndjson")):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    raise ValueError(f"cannot tell the format of input {path!r} (expected .warc[.gz], .warc.wet.gz, .arc[.gz], .jsonl[.gz] or .parquet)")


def _batches(rows: list[dict], batch_size: int) -> Iterator[pa.Table]:
    for start in range(0, len(rows), batch_size):
        yield pa.Table.from_pylist(rows[start : start + batch_size], schema=DOCUMENT_SCHEMA)


def _strip_uuid(record_id: str) -> str:
    return record_id.strip("<>").removeprefix("urn:uuid:")


def parse_http_response(block: bytes) -> tuple[int, str | None, bytes]:
    """Split an HTTP response block into (status, Content-Type, body); ValueError if it is not one."""
    ends = [(block.find(sep), sep) for sep in (b"\r\n\r\n", b"\n\n") if sep in block]
    if not ends:
        raise ValueError("no end of headers")
    at, sep = min(ends)  # the first blank line (ClueWeb09's headers end in bare LFs; its pages may hold CRLFs)
    head, body = block[:at], block[at + len(sep) :]
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
_BINARY_MAGIC = (
    b"\x89PNG",
    b"%PDF-",
    b"GIF8",
    b"\xff\xd8\xff",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"RIFF",
    b"\x00\x00\x01\x00",
    b"OggS",
    b"fLaC",
    b"ID3",
    b"\x7fELF",
    b"MZ",
    b"wOF2",
    b"wOFF",
    b"7z\xbc\xaf",
)


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
    declared = record.content_length or 0
    block = record.reader.read(max_payload_bytes + 1)
    if len(block) > max_payload_bytes:
        record.reader.consume()
        raise RecordRejected("too_large", f"record over {max_payload_bytes} bytes")
    if declared == 0 or len(block) < declared:
        raise RecordRejected("malformed", f"truncated record: {len(block)} of {declared} bytes")
    if not _sha1_ok(block, record.headers.get("WARC-Block-Digest")):
        raise RecordRejected("malformed", "WARC-Block-Digest mismatch (wrong Content-Length?)", resync=True)
    return http_document(block, path, offset, max_payload_bytes, record.headers.get("WARC-Target-URI"), record.record_id, record.headers.get("WARC-Date"))


def _looks_like_html(payload: bytes) -> bool:
    start = payload[:2048].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<?xml")) or b"<html" in start or b"<body" in start


def http_document(
    block: bytes, path: str, offset: int, max_payload_bytes: int, url: str | None, record_id: str | None, date: str | None, payload_type: str | None = None
) -> dict:
    """Turn an HTTP response (status line, headers, payload) into a document row, or raise :class:`RecordRejected`.

    Leniency for what crawlers write: a ``Content-Encoding: gzip``/``deflate`` header over a payload the
    crawler already decoded (ClueWeb09, many WARC writers) is ignored when the payload is not compressed; a
    response with no ``Content-Type`` is HTML if ``payload_type`` (WARC-Identified-Payload-Type) says so or its
    first bytes are HTML markup.
    """
    try:
        status, content_type, payload = parse_http_response(block)
    except ValueError as exc:
        raise RecordRejected("malformed", f"bad HTTP header: {exc}") from None
    if status != 200:
        raise RecordRejected("non_200", counted_only=True)
    mime = (content_type or "").split(";")[0].strip().lower()
    if content_type is None:
        mime = (payload_type or "").split(";")[0].strip().lower() or ("text/html" if _looks_like_html(payload) else "")
    if mime not in HTML_TYPES:
        raise RecordRejected("non_html", counted_only=True)
    encoding = _content_encoding(block)
    if encoding in ("gzip", "x-gzip", "deflate"):
        try:
            payload = zlib.decompressobj(47).decompress(payload, max_payload_bytes + 1)
        except zlib.error as exc:
            if payload.startswith(b"\x1f\x8b") or not _looks_like_html(payload):
                raise RecordRejected("malformed", f"bad {encoding} payload: {exc}") from None
            # the header was kept but the payload is already decoded: read it as it is
        if len(payload) > max_payload_bytes:
            raise RecordRejected("too_large", f"{encoding} payload over {max_payload_bytes} bytes")
    if _looks_binary(payload):
        raise RecordRejected("non_html", f"binary payload labelled {mime}: {payload[:8]!r}")
    return _document(path, offset, record_id, url, date, content_type or mime, html=payload)


def conversion_document(block: bytes, path: str, offset: int, url: str | None, record_id: str | None, date: str | None, content_type: str | None) -> dict:
    """A WARC ``conversion`` record (WET: the page's text, already extracted) as a document row: ``text`` set,
    ``html`` None, so extraction passes it through. ``RecordRejected("conversion")`` if it is not text."""
    mime = (content_type or "text/plain").split(";")[0].strip().lower()
    if not mime.startswith("text/"):
        raise RecordRejected("conversion", counted_only=True)
    charset = _HEADER_CHARSET.search(content_type or "")
    try:
        text = block.decode(charset.group(1) if charset else "utf-8", errors="replace")
    except LookupError:
        text = block.decode("utf-8", errors="replace")
    return _document(path, offset, record_id, url, date, content_type or mime, text=text)


_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.IGNORECASE)


def _conversion_from_fastwarc(record, path: str, offset: int, max_payload_bytes: int) -> dict:
    block = record.reader.read(max_payload_bytes + 1)
    if len(block) > max_payload_bytes:
        record.reader.consume()
        raise RecordRejected("too_large", f"record over {max_payload_bytes} bytes")
    declared = record.content_length or 0
    if len(block) < declared:
        raise RecordRejected("malformed", f"truncated record: {len(block)} of {declared} bytes")
    if not _sha1_ok(block, record.headers.get("WARC-Block-Digest")):
        raise RecordRejected("malformed", "WARC-Block-Digest mismatch (wrong Content-Length?)", resync=True)
    return conversion_document(
        block, path, offset, record.headers.get("WARC-Target-URI"), record.record_id, record.headers.get("WARC-Date"), record.headers.get("Content-Type")
    )


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
                if record.record_type == WarcRecordType.conversion:  # WET: the text, already extracted
                    make, kind = _conversion_from_fastwarc, RECORD_TEXT
                elif record.record_type == WarcRecordType.response:
                    make, kind = _response_document, RECORD_RESPONSE
                else:
                    report.records[str(record.record_type)] += 1  # warcinfo, request, metadata, ...
                    record.reader.consume()
                    continue
                try:
                    row = make(record, path, offset, max_payload_bytes)
                    report.records[kind] += 1
                    rows.append(row)
                except RecordRejected as rejected:
                    if kind == RECORD_RESPONSE or rejected.reason != SKIP_CONVERSION:
                        report.records[kind] += 1
                    if rejected.counted_only:
                        report.records[rejected.reason] += 1
                    else:
                        report.error(name, offset, rejected.reason, rejected.detail)
                    if rejected.resync:
                        resume_after = offset + 1
                        break
                except Exception as exc:  # anything unexpected in one record must not stop the file
                    report.records[kind] += 1
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


def _read_raw_records(path: str, report: ReadReport, kind: str, batch_size: int, max_payload_bytes: int) -> Iterator[pa.Table]:
    """Documents from a WARC/0.x (``kind`` "warc0") or ARC ("arc") file, via ``stages/read_legacy.py``."""
    name = PurePosixPath(path).name
    rows: list[dict] = []
    with fsspec.open(path, "rb") as stream:
        source = Inflated(stream)
        records = iter_arc(source, max_payload_bytes) if kind == "arc" else iter_legacy_warc(source, max_payload_bytes)
        for raw in records:
            rows.extend(_raw_document(raw, path, name, report, max_payload_bytes))
            if len(rows) >= batch_size:
                yield from _batches(rows, batch_size)
                rows = []
        for offset, why in source.damage:
            report.error(name, offset, SKIP_MALFORMED, why)
    yield from _batches(rows, batch_size)


def _raw_document(raw: RawRecord, path: str, name: str, report: ReadReport, max_payload_bytes: int) -> list[dict]:
    """[document] or [] for one legacy record, counting it as read_warc counts WARC records."""
    if raw.kind == "response":
        counted = RECORD_RESPONSE
    elif raw.kind == "conversion":
        counted = RECORD_TEXT
    elif raw.kind in ("warcinfo", "request", "metadata", "revisit", "resource", "continuation"):
        report.records[raw.kind] += 1
        return []
    else:
        report.error(name, raw.offset, *(raw.problem or (SKIP_MALFORMED, f"unknown record type {raw.kind!r}")))
        return []
    report.records[counted] += 1
    if raw.problem:
        report.error(name, raw.offset, *raw.problem)
        return []
    try:
        if counted == RECORD_TEXT:
            return [conversion_document(raw.block, path, raw.offset, raw.url, raw.record_id, raw.date, raw.headers.get("content-type"))]
        return [
            http_document(raw.block, path, raw.offset, max_payload_bytes, raw.url, raw.record_id, raw.date, raw.headers.get("warc-identified-payload-type"))
        ]
    except RecordRejected as rejected:
        if rejected.counted_only:
            report.records[rejected.reason] += 1
        else:
            report.error(name, raw.offset, rejected.reason, rejected.detail)
    except Exception as exc:  # anything unexpected in one record must not stop the file
        report.error(name, raw.offset, SKIP_MALFORMED, repr(exc))
    return []


def _first_line(head: bytes) -> bytes:
    """An archive head's first line (leading blank lines skipped), with its LF: what tells the container apart."""
    return head.lstrip(b"\r\n").split(b"\n", 1)[0] + b"\n"


def container(head: bytes) -> str | None:
    """What the first decompressed bytes of an archive are: ``warc`` (1.x), ``warc0`` (0.x), ``arc``, ``wat``
    (a WARC whose first non-warcinfo record is JSON metadata), or None (not an archive; empty is ``warc``)."""
    start = head.lstrip(b"\r\n")
    if not start:
        return "warc"  # an empty (or empty gzip) archive: nothing to read, nothing wrong
    if start.startswith(b"filedesc://"):
        return "arc"
    first = _first_line(head)
    if LEGACY_WARC_VERSION.match(first):
        return "warc0"
    if not re.match(rb"^WARC/1\.[01]\r?\n$", first):
        return None
    for record in re.split(rb"\r?\nWARC/1\.[01]\r?\n", start)[:4]:
        fields = dict(re.findall(rb"(?m)^([A-Za-z-]+):[ \t]*(.*?)\r?$", record.split(b"\r\n\r\n", 1)[0]))
        kind = fields.get(b"WARC-Type", b"").lower()
        if kind == b"warcinfo":
            continue
        return "wat" if kind == b"metadata" and fields.get(b"Content-Type", b"").startswith(b"application/json") else "warc"
    return "warc"


def input_problem(path: str, fields: TextFields = TextFields()) -> str | None:
    """Why ``path`` cannot be read as an input, or None if it can: checked before any work is scheduled, from
    the file's name and first bytes (a WAT file, an unknown name, a missing or empty file, bytes that are no
    archive, a bad gzip header, a JSONL file whose first line is no JSON object, a Parquet file with no footer or
    no text column). Damage further into a readable file is the reader's to count, record by record."""
    try:
        fmt = input_format(path)
    except ValueError as exc:
        return str(exc)
    if fmt == "wat":
        return WAT_REFUSAL
    try:
        with fsspec.open(path, "rb") as stream:
            if fmt == "parquet":
                names = pq.ParquetFile(stream).schema_arrow.names
                return None if fields.text in names else f"no column {fields.text!r} (set text_fields.text in the manifest); columns: {names[:12]}"
            if not stream.read(1):
                return "empty file (0 bytes)"
            if fmt == "jsonl":
                return _jsonl_problem(path, fields)
            head = head_bytes(stream)
            found = container(head)
    except Exception as exc:  # noqa: BLE001 - whatever stops the file from opening is the reason to give
        return f"cannot be read: {exc!r}"[:300]
    if found is None:
        # the line itself: "WARC/1.0\r\r\n" (a text conversion doubled the CRs) reads as a version line to the eye
        first = _first_line(head)[:-1][:60] + b"\n"  # long lines cut, as the message quotes them
        return (f"not a WARC or ARC file: its first line is {first!r}, not a WARC/1.0 or WARC/1.1 line (ending in CRLF or LF) "
                "or an ARC filedesc:// record")
    if found == "wat":
        return WAT_REFUSAL
    return None


def _jsonl_problem(path: str, fields: TextFields) -> str | None:
    with fsspec.open(path, "rt", encoding="utf-8", errors="replace", compression="infer") as handle:
        for line in handle:
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                return f"not JSON Lines: the first line is not JSON ({exc})"
            if not isinstance(row, dict):
                return "not JSON Lines of objects: the first line is not a JSON object"
            if fields.text not in row:
                return f"the first row has no field {fields.text!r} (set text_fields.text in the manifest); fields: {sorted(row)[:12]}"
            return None
    return None


def read_unit(path: str, report: ReadReport, fields: TextFields = TextFields(), batch_size: int = 256, max_payload_bytes: int = 10 << 20) -> Iterator[pa.Table]:
    fmt = input_format(path)
    if fmt == "wat":
        raise ValueError(f"{path}: {WAT_REFUSAL}")
    if fmt == "jsonl":
        return read_jsonl(path, report, fields, batch_size)
    if fmt == "parquet":
        return read_parquet(path, report, fields, batch_size)
    with fsspec.open(path, "rb") as stream:
        try:
            kind = container(head_bytes(stream))
        except ValueError:
            kind = None  # a damaged start: read_warc counts it and resynchronises
    if kind == "wat":
        raise ValueError(f"{path}: {WAT_REFUSAL}")
    if kind in ("warc0", "arc"):
        return _read_raw_records(path, report, kind, batch_size, max_payload_bytes)
    return read_warc(path, report, batch_size, max_payload_bytes)  # WARC 1.0/1.1, WET; anything else is counted there


def _document(path: str, offset: int, record_id: str | None, url, date, content_type: str, html=None, text=None) -> dict:
    """One document row of the reader: an HTML payload to extract, or text already extracted (conversion records)."""
    record_id = _strip_uuid(record_id or "")
    return {
        "id": record_id or fallback_id(path, offset),
        "url": url,
        "source_file": PurePosixPath(path).name,
        "warc_record_id": record_id,
        "warc_offset": offset,
        "crawl_date": date,
        "content_type": content_type,
        "html": html,
        "text": text,
    }

"""Lenient readers of the archive layouts FastWARC does not parse: WARC/0.x (ClueWeb09's WARC/0.18) and ARC.

Both work on the decompressed byte stream of a file that may be plain, one gzip stream for the whole file
(ClueWeb09), or one gzip member per record (the Internet Archive's and Common Crawl's ``.arc.gz``), and yield
:class:`RawRecord` objects; ``stages/read.py`` turns their blocks into documents.

* **WARC/0.x** records are found by their version line (``WARC/0.18``), not by ``Content-Length``: ClueWeb09's
  lengths are known to be wrong (its files lost their CRs after the lengths were computed), its lines end in a
  bare LF, and its ``WARC-Target-URI`` values may hold raw non-ASCII bytes. A record's block is everything up to
  the next version line that is followed by a ``WARC-`` header (trailing blank lines removed; ``Content-Length``
  is used only when the bytes after it are blank).
* **ARC** (version 1 and 2): a header line (URL, IP, date, content type, [v2: result code, checksum, location,
  offset, file name,] length), then ``length`` bytes. The header is parsed from the right, so a URL holding
  spaces (Common Crawl's ARC files have them) survives. A record whose length does not lead to the next header
  is reported and reading resumes at the next line that is one.

Offsets: for a record that starts a gzip member, the member's offset in the file as stored (what a CDX index
holds); otherwise the record's position in the decompressed stream.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Iterator
from urllib.parse import quote

GZIP_MAGIC = b"\x1f\x8b\x08"
_CHUNK = 1 << 16
_MAX_LINE = 1 << 16
LEGACY_WARC_VERSION = re.compile(rb"^WARC/0\.\d+\r?\n$")
_ANY_WARC_VERSION = re.compile(rb"^WARC/\d+\.\d+\r?\n$")


@dataclass
class RawRecord:
    """One record as found: its kind (WARC-Type, or ``warcinfo``/``response`` for ARC), where it starts, its
    headers (lower-case names), URL, date, id and block; ``problem`` = (reason, detail) if it is unusable."""

    kind: str
    offset: int
    headers: dict = field(default_factory=dict)
    url: str | None = None
    date: str | None = None
    record_id: str | None = None
    block: bytes = b""
    problem: tuple[str, str] | None = None


class Inflated:
    """The decompressed bytes of a plain or gzip (one or many members) stream, read by lines or by count.

    Memory stays bounded: at most one chunk of output is decompressed ahead (a gzip bomb is read as it is
    consumed). A damaged gzip member is recorded in ``damage`` (its offset and why) and reading resumes at the
    next gzip member.
    """

    def __init__(self, stream):
        self.stream = stream
        stream.seek(0)
        self.gzipped = stream.read(3) == GZIP_MAGIC
        stream.seek(0)
        self.buf = bytearray()
        self.start = 0  # decompressed offset of buf[0]
        self.member_starts: dict[int, int] = {}  # decompressed offset -> offset of its gzip member in the file
        self.damage: list[tuple[int, str]] = []
        self._pending = b""  # compressed bytes read but not yet decompressed
        self._raw = 0  # file offset of _pending[0]
        self._inflater = None
        self._member = 0
        self._eof = False

    # --- decompression ------------------------------------------------------------------------------------------
    def _read_raw(self) -> bool:
        more = self.stream.read(_CHUNK)
        if not more:
            return False
        self._pending += more
        return True

    def _fill(self) -> bool:
        """Append more decompressed bytes to ``buf``; False at the end of the stream."""
        if self._eof:
            return False
        if not self.gzipped:
            more = self.stream.read(_CHUNK)
            self.buf += more
            self._eof = not more
            return bool(more)
        while True:
            if not self._pending and not self._read_raw():
                if self._inflater is not None:
                    self.damage.append((self._member, "gzip member cut short (end of file inside it)"))
                    self._inflater = None
                self._eof = True
                return False
            if self._inflater is None:
                while len(self._pending) < 3 and self._read_raw():
                    pass
                if not self._pending.startswith(GZIP_MAGIC):
                    self._skip_to_member(f"no gzip member at offset {self._raw}")
                    continue
                self._inflater = zlib.decompressobj(31)
                self._member = self._raw
                self.member_starts[self.start + len(self.buf)] = self._raw
            data = self._pending
            try:
                out = self._inflater.decompress(data, _CHUNK)
            except zlib.error as exc:
                self._inflater = None
                self._skip_to_member(f"bad gzip member: {exc}", failed_member=self._member)
                continue
            rest = self._inflater.unused_data if self._inflater.eof else self._inflater.unconsumed_tail
            self._raw += len(data) - len(rest)
            self._pending = rest
            if self._inflater.eof:
                self._inflater = None
            if out:
                self.buf += out
                return True

    def _skip_to_member(self, why: str, failed_member: int | None = None) -> None:
        """Drop compressed bytes up to the next gzip member that decompresses (after the failed one, if any)."""
        self.damage.append((self._raw if failed_member is None else failed_member, why))
        start = 1
        while True:
            found = self._pending.find(GZIP_MAGIC, start)
            while found >= 0 and len(self._pending) - found < 4096 and self._read_raw():
                pass
            if found >= 0:
                try:
                    zlib.decompressobj(31).decompress(self._pending[found : found + 4096], 16)
                except zlib.error:
                    start = found + 1
                    continue
                self._raw += found
                self._pending = self._pending[found:]
                return
            keep = self._pending[-2:]
            self._raw += len(self._pending) - len(keep)
            self._pending, start = keep, 0
            if not self._read_raw():
                self._raw += len(self._pending)
                self._pending = b""
                return

    # --- reading ------------------------------------------------------------------------------------------------
    def tell(self) -> int:
        return self.start

    def _consume(self, n: int) -> bytes:
        out = bytes(self.buf[:n])
        del self.buf[:n]
        self.start += n
        return out

    def readline(self, limit: int = _MAX_LINE) -> bytes:
        """The next line with its LF (at most ``limit`` bytes); b"" at the end."""
        searched = 0
        while True:
            end = self.buf.find(b"\n", searched, limit)
            if end >= 0:
                return self._consume(end + 1)
            if len(self.buf) >= limit:
                return self._consume(limit)
            searched = len(self.buf)
            if not self._fill():
                return self._consume(len(self.buf))

    def peek(self, n: int) -> bytes:
        while len(self.buf) < n and self._fill():
            pass
        return bytes(self.buf[:n])

    def peekline(self, limit: int = _MAX_LINE) -> bytes:
        while b"\n" not in self.buf[:limit] and len(self.buf) < limit and self._fill():
            pass
        end = self.buf.find(b"\n", 0, limit)
        return bytes(self.buf[: end + 1 if end >= 0 else limit])

    def read(self, n: int) -> bytes:
        while len(self.buf) < n and self._fill():
            pass
        return self._consume(min(n, len(self.buf)))

    def skip(self, n: int) -> int:
        """Discard up to ``n`` bytes without holding them; returns how many were there."""
        skipped = 0
        while skipped < n:
            if not self.buf and not self._fill():
                break
            take = min(n - skipped, len(self.buf))
            self._consume(take)
            skipped += take
        return skipped

    def offset_of(self, position: int) -> int:
        """Where a record starting at decompressed ``position`` is, as the module docstring says."""
        return self.member_starts.get(position, position)


def head_bytes(stream, limit: int = 1 << 16) -> bytes:
    """Up to ``limit`` decompressed bytes from the start of a plain or gzip stream (ValueError if the gzip is bad)."""
    stream.seek(0)
    raw = stream.read(3)
    stream.seek(0)
    if raw != GZIP_MAGIC:
        return stream.read(limit)
    inflater, out = zlib.decompressobj(31), bytearray()
    while len(out) < limit:
        data = inflater.unconsumed_tail or stream.read(_CHUNK)
        if not data:
            break
        try:
            out += inflater.decompress(data, limit - len(out))
        except zlib.error as exc:
            raise ValueError(f"not a readable gzip file: {exc}") from None
        if inflater.eof:  # next member
            rest = inflater.unused_data
            inflater = zlib.decompressobj(31)
            if rest:
                try:
                    out += inflater.decompress(rest, max(limit - len(out), 1))
                except zlib.error as exc:
                    raise ValueError(f"not a readable gzip file: {exc}") from None
    return bytes(out[:limit])


def safe_url(raw: bytes | str) -> str:
    """A URL with raw non-ASCII bytes, spaces and control characters percent-encoded (as a WARC writer would)."""
    data = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else raw
    return quote(data.strip(), safe="!#$%&'()*+,/:;=?@[]~-._")


def _header_text(value: bytes) -> str:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


def _strip_block(body: bytes, declared: str | None) -> bytes:
    if declared and declared.strip().isdigit():
        length = int(declared)
        if length <= len(body) and not body[length:].strip(b"\r\n"):
            return body[:length]
    return body.rstrip(b"\r\n")


def iter_legacy_warc(src: Inflated, max_bytes: int) -> Iterator[RawRecord]:
    """Records of a WARC/0.x file (see the module docstring)."""
    line = src.readline()
    garbage = None
    while line and not _ANY_WARC_VERSION.match(line):
        garbage = src.tell() - len(line) if garbage is None else garbage
        line = src.readline()
    if garbage is not None:
        yield RawRecord("", src.offset_of(garbage), problem=("malformed", "bytes before the first WARC record"))
    while line:
        position = src.tell() - len(line)
        headers: dict[str, str] = {}
        raw_url = None
        while True:
            header = src.readline()
            if header.strip() == b"" or not header:
                break
            key, colon, value = header.partition(b":")
            if not colon:
                continue
            name = key.strip().decode("latin-1").lower()
            if name == "warc-target-uri":
                raw_url = value.strip()
            headers[name] = _header_text(value.strip())
        body, size, at_line_start = bytearray(), 0, True
        while True:
            line = src.readline(1 << 20)
            if not line:
                break
            if at_line_start and _ANY_WARC_VERSION.match(line) and src.peek(5) == b"WARC-":
                break  # the next record
            size += len(line)
            if size <= max_bytes:
                body += line
            at_line_start = line.endswith(b"\n")
        record = RawRecord(
            kind=headers.get("warc-type", "").strip().lower(),
            offset=src.offset_of(position),
            headers=headers,
            url=safe_url(raw_url) if raw_url else None,
            date=headers.get("warc-date"),
            record_id=headers.get("warc-record-id"),
        )
        if size > max_bytes:
            record.problem = ("too_large", f"record over {max_bytes} bytes")
        else:
            record.block = _strip_block(bytes(body), headers.get("content-length"))
        yield record


_ARC_DATE = re.compile(r"^\d{8,14}$")


def parse_arc_header(line: bytes, version: int = 1) -> tuple[str, str, str, int] | None:
    """(url, date, content type, length) of an ARC header line (the file's ``version`` tried first, then the
    other: the filedesc line says which it is), or None if it is not one."""
    parts = line.rstrip(b"\r\n").split(b" ")
    if len(parts) < 5 or not parts[-1].isdigit():
        return None
    shapes = [(4, -3, -2), (9, -8, -7)]  # (fields after the URL, date, content type): v1, v2
    for after_url, date_at, type_at in shapes if version != 2 else shapes[::-1]:
        if len(parts) <= after_url:
            continue
        url, date = b" ".join(parts[:-after_url]), parts[date_at].decode("latin-1")
        if url and _ARC_DATE.match(date):
            return safe_url(url), date, parts[type_at].decode("latin-1"), int(parts[-1])
    return None


def arc_date(date: str) -> str:
    """ARC's ``YYYYMMDDhhmmss`` as the ISO 8601 form WARC-Date uses."""
    date = date.ljust(14, "0")
    return f"{date[0:4]}-{date[4:6]}-{date[6:8]}T{date[8:10]}:{date[10:12]}:{date[12:14]}Z"


def iter_arc(src: Inflated, max_bytes: int) -> Iterator[RawRecord]:
    """Records of an ARC file (see the module docstring): the ``filedesc://`` record as ``warcinfo``, then
    ``response`` records."""
    version, bad_stretch = 1, None
    while True:
        line = src.readline()
        if not line:
            break
        if not line.strip():
            continue
        position = src.tell() - len(line)
        header = parse_arc_header(line, version)
        if header is None:
            if bad_stretch is None:  # one report per unreadable stretch, then look for the next header
                bad_stretch = position
                yield RawRecord("", src.offset_of(position), problem=("malformed", f"not an ARC header: {line[:80]!r}"))
            continue
        bad_stretch = None
        url, date, content_type, length = header
        record = RawRecord("response", src.offset_of(position), {"content-type": content_type}, url, arc_date(date))
        if length > max_bytes:
            got = src.skip(length)
            record.problem = ("too_large", f"record over {max_bytes} bytes") if got == length else ("malformed", f"truncated record: {got} of {length} bytes")
            yield record
            continue
        record.block = src.read(length)
        following = src.peekline()
        if len(record.block) < length:
            record.problem = ("malformed", f"truncated record: {len(record.block)} of {length} bytes")
        elif following.strip() and parse_arc_header(following, version) is None:
            record.problem = ("malformed", "ARC length does not end at a record boundary")
            bad_stretch = position  # the lines up to the next header are this record's: not reported again
        if url.startswith("filedesc:"):
            record.kind = "warcinfo"
            first = record.block.split(b"\n", 1)[0].split(b" ")
            if first and first[0] == b"2":
                version = 2
        elif not url.lower().startswith(("http:", "https:")):
            record.kind = "resource"  # dns: and other non-HTTP captures
        yield record

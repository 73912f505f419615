"""Main-text extraction with trafilatura, after decoding the payload with the right charset.

Charset order: a byte-order mark; bytes that are valid UTF-8 (a wrong ``charset=iso-8859-1`` header on
UTF-8 bytes is common and decoding by the header would produce mojibake); the HTTP header's charset; the
``<meta>`` charset; detection (charset-normalizer). Windows-1251 pages with no declaration are the usual
case detection has to catch.
"""

from __future__ import annotations

import codecs
import re

import pyarrow as pa

from .base import set_column

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-:.]+)", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _known(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def decode_html(payload: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Return ``(text, charset_used)``."""
    for bom, name in _BOMS:
        if payload.startswith(bom):
            return payload.decode(name, errors="replace"), name
    try:
        return payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = []
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        declared.append(match.group(1) if match else None)
    meta = _META_CHARSET.search(payload[:4096])
    declared.append(meta.group(1).decode("ascii", "ignore") if meta else None)
    if "utf-8" in map(_known, declared):
        # Declared UTF-8 with a few invalid sequences (a cut multi-byte char, a stray byte): keep UTF-8 and
        # replace them, rather than let detection pick a legacy charset and turn every accent into mojibake.
        # Legacy bytes mislabelled utf-8 (windows-1251...) fail on nearly every non-ASCII byte and go on.
        lenient = payload.decode("utf-8", errors="replace")
        if lenient.count("\ufffd") <= 3 + len(payload) // 1000:
            return lenient, "utf-8-replace"
    for charset in filter(None, map(_known, declared)):
        if charset in ("utf-8", "ascii"):
            continue  # already failed strict UTF-8
        try:
            return payload.decode(charset), charset
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(payload[:200_000]).best()
    if best is not None and best.encoding:
        return payload.decode(best.encoding, errors="replace"), best.encoding
    return payload.decode("utf-8", errors="replace"), "utf-8-replace"


def extract_main_text(html: str) -> str | None:
    import trafilatura

    return trafilatura.extract(html, include_comments=False, include_tables=True, deduplicate=False, with_metadata=False)


class ExtractStage:
    """``html`` (bytes) -> ``text``; rows that already have ``text`` (JSONL/Parquet inputs) pass through."""

    name = "extract"

    def __init__(self, max_html_chars: int = 5_000_000):
        self.max_html_chars = max_html_chars

    def setup(self) -> None:
        import trafilatura  # noqa: F401  (import cost paid once per worker)

    def __call__(self, batch: pa.Table) -> pa.Table:
        texts, charsets, errors = [], [], []
        for html, text, content_type in zip(
            batch.column("html").to_pylist(), batch.column("text").to_pylist(), batch.column("content_type").to_pylist()
        ):
            if html is None:
                texts.append(text or "")
                charsets.append(None)
                errors.append(None)
                continue
            try:
                decoded, charset = decode_html(html, content_type)
                extracted = extract_main_text(decoded[: self.max_html_chars]) if decoded.strip() else None
                texts.append(extracted or "")
                charsets.append(charset)
                errors.append(None)
            except Exception as exc:  # one bad page never stops the unit: it is recorded and dropped
                texts.append("")
                charsets.append(None)
                errors.append(repr(exc)[:300])
        batch = set_column(batch, "text", texts, pa.string())
        batch = set_column(batch, "charset", charsets, pa.string())
        batch = set_column(batch, "extract_error", errors, pa.string())
        return batch.drop_columns(["html"])

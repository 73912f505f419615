"""Main-text extraction with trafilatura, after decoding the payload with the right charset.

Charset order: a byte-order mark; bytes that are valid UTF-8 (a wrong ``charset=iso-8859-1`` header on
UTF-8 bytes is common and decoding by the header would produce mojibake); the HTTP header's charset; the
``<meta>`` charset; detection (charset-normalizer). Windows-1251 pages with no declaration are the usual
case detection has to catch.
"""

from __future__ import annotations

import codecs
import ctypes
import re
import threading
import time

import pyarrow as pa

from longtail.stages.base import set_column

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


ENGINES = ("trafilatura", "resiliparse")
TIMEOUT_ERROR = "timeout"  # extract_error value of a page that ran out of time (drop reason extract:timeout)


def extract_main_text(html: str, engine: str = "trafilatura") -> str | None:
    if engine == "resiliparse":
        from resiliparse.extract.html2text import extract_plain_text
        from resiliparse.parse.html import HTMLTree

        return extract_plain_text(HTMLTree.parse(html), main_content=True, alt_texts=False, links=False)
    import trafilatura

    return trafilatura.extract(html, include_comments=False, include_tables=True, deduplicate=False, with_metadata=False)


class ExtractTimeout(BaseException):  # not Exception: library `except Exception` blocks must not swallow it
    """A page's extraction ran longer than the stage's time limit."""


class TimeLimit:
    """``run(fn, *args)`` raises :class:`ExtractTimeout` in the calling thread once ``seconds`` have passed.

    ``signal.alarm`` only works on the main thread, and Ray Data runs actor batches on a pool thread, so one
    watchdog thread per stage injects the exception instead (``PyThreadState_SetAsyncExc``). It lands at the
    next Python bytecode; trafilatura's work is Python-level tree walking, the C parts are bounded by
    ``max_html_chars``. Arming is two attribute writes (no thread per page); the watchdog polls a few times
    per limit, so a page is stopped between 1x and ~1.25x the limit.

    The exception can land anywhere up to the moment the watchdog is disarmed, including just after ``fn``
    returned, on the way into the disarming code. So disarming is retried inside ``run`` until it completes
    (a context manager cannot do this: a shot landing at the start of ``__exit__`` would leave the watchdog
    armed, shooting at whatever the thread runs next), and such a page counts as timed out.
    """

    def __init__(self, seconds: float | None):
        self.seconds = seconds
        self._lock = threading.Lock()
        self._deadline: float | None = None
        self._target = 0
        self._watchdog: threading.Thread | None = None

    def run(self, fn, *args):
        """``fn(*args)``'s result; :class:`ExtractTimeout` if the limit passed before it was stored."""
        if not self.seconds:
            return fn(*args)
        if self._watchdog is None:
            self._watchdog = threading.Thread(target=self._watch, daemon=True, name="extract-time-limit")
            self._watchdog.start()
        started = timed_out = False
        result = error = None
        while True:
            try:
                if not started:
                    started = True
                    self._arm()
                    try:
                        result = fn(*args)
                    except ExtractTimeout:
                        raise
                    except BaseException as exc:  # raised once the watchdog is disarmed
                        error = exc
                self._disarm()
                break
            except ExtractTimeout:  # from fn, or a shot sent just before _disarm took the lock: disarm again
                timed_out = True
        if timed_out:
            raise ExtractTimeout
        if error is not None:
            raise error
        return result

    def _arm(self) -> None:
        with self._lock:
            self._target = threading.get_ident()
            self._deadline = time.monotonic() + self.seconds

    def _disarm(self) -> None:
        with self._lock:  # while held no shot is sent; one sent and not yet delivered is withdrawn
            self._deadline = None
            self._interrupt(None)

    def _watch(self) -> None:
        poll = min(1.0, self.seconds / 4)
        while True:
            time.sleep(poll)
            self._fire_if_due(time.monotonic())

    def _fire_if_due(self, now: float) -> None:
        with self._lock:
            # Sent again at every poll until disarmed: an exception that lands in a weakref or GC callback is
            # printed and dropped by the interpreter, so one shot is not enough.
            if self._deadline is not None and now >= self._deadline:
                self._interrupt(ExtractTimeout)

    def _interrupt(self, exc: type[BaseException] | None) -> None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(self._target), ctypes.py_object(exc) if exc else None)


class ExtractStage:
    """``html`` (bytes) -> ``text``; rows that already have ``text`` (JSONL/Parquet inputs) pass through.

    Per-page limits: HTML beyond ``max_html_chars`` is cut before parsing, and a page whose decoding plus
    extraction takes longer than ``timeout_seconds`` is dropped as ``extract:timeout``.
    """

    name = "extract"
    reads = ("html", "text", "content_type")
    adds = ("text", "charset", "extract_error")
    removes = ("html",)

    def __init__(self, max_html_chars: int = 5_000_000, timeout_seconds: float | None = 30.0, engine: str = "trafilatura"):
        if engine not in ENGINES:
            raise ValueError(f"unknown extraction engine {engine!r} (choose {', '.join(ENGINES)})")
        self.max_html_chars = max_html_chars
        self.timeout_seconds = timeout_seconds
        self.engine = engine
        self._time_limit = None  # made in setup(): it owns a thread, which must not be pickled to workers

    def setup(self) -> None:  # import cost paid once per worker
        if self._time_limit is None:
            self._time_limit = TimeLimit(self.timeout_seconds)
        # The first extraction pays lazy initialisation (~0.1-0.2 s): pay it here, not against a page's time limit.
        extract_main_text("<html><body><article><p>warm up</p></article></body></html>", self.engine)

    def _extract(self, html: bytes, content_type: str | None) -> tuple[str | None, str]:
        decoded, charset = decode_html(html, content_type)
        return (extract_main_text(decoded[: self.max_html_chars], self.engine) if decoded.strip() else None), charset

    def __call__(self, batch: pa.Table) -> pa.Table:
        if self._time_limit is None:
            self.setup()
        texts, charsets, errors = [], [], []
        for html, text, content_type in zip(
            batch.column("html").to_pylist(), batch.column("text").to_pylist(), batch.column("content_type").to_pylist()
        ):
            if html is None:
                texts.append(text or "")
                charsets.append(None)
                errors.append(None)
                continue
            # Appended once per page, so the three columns cannot get out of step.
            try:
                extracted, charset = self._time_limit.run(self._extract, html, content_type)
                row = (extracted or "", charset, None)
            except ExtractTimeout:
                row = ("", None, TIMEOUT_ERROR)
            except Exception as exc:  # one bad page never stops the unit: it is recorded and dropped
                row = ("", None, repr(exc)[:300])
            texts.append(row[0])
            charsets.append(row[1])
            errors.append(row[2])
        batch = set_column(batch, "text", texts, pa.string())
        batch = set_column(batch, "charset", charsets, pa.string())
        batch = set_column(batch, "extract_error", errors, pa.string())
        return batch.drop_columns(["html"])

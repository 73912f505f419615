"""The run folder's log file, ``<output>/logs/run.log``.

Everything the ``longtail`` loggers say at INFO and above goes there, plus per-file progress lines sent to the
``longtail.runlog`` logger, which writes only to the file so the console keeps its progress bars.
"""

from __future__ import annotations

import hashlib
import logging
import time
from contextlib import contextmanager
from pathlib import Path

from longtail.fileio import is_url, scratch_dir, upload
from longtail.pipeline.runfolder import RunFolder

RUNLOG = "longtail.runlog"
_MARK = "_longtail_run_log"


def attach_run_log(output: str | Path) -> logging.Logger:
    """Send longtail's logs to ``<output>/logs/run.log`` (appending); replaces the handler of an earlier run in
    this process. Returns the file-only progress logger."""
    path = RunFolder(output).run_log
    if is_url(path):  # an object cannot be appended to: log to a local copy, uploaded by save_run_log
        remote, path = path, _local_log(output)
        if remote.is_file():
            path.write_bytes(remote.read_bytes())
        else:
            path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(path, encoding="utf-8")
    setattr(handler, _MARK, True)
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    longtail, runlog = logging.getLogger("longtail"), logging.getLogger(RUNLOG)
    for logger in (longtail, runlog):
        for old in [h for h in logger.handlers if getattr(h, _MARK, False)]:
            logger.removeHandler(old)
            old.close()
        logger.addHandler(handler)
    if longtail.getEffectiveLevel() > logging.INFO:
        longtail.setLevel(logging.INFO)  # the console shows only WARNING+ unless the CLI says otherwise
    runlog.setLevel(logging.INFO)
    runlog.propagate = False
    return runlog


class PassClock:
    """Wall-clock seconds of a run's passes, for the run log's and the console's line on where the time went (e.g. the
    KenLM bootstrap's share of a run on your crawl; bench/bench_real_speed.py measures CPU time as well)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}

    @contextmanager
    def timed(self, name: str, on: bool = True):
        """Times the block as the pass ``name``; ``on=False``: a pass that is switched off, not listed."""
        started = time.monotonic()
        try:
            yield
        finally:
            if on:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.monotonic() - started

    def summary(self) -> str:
        total = sum(self.seconds.values())
        parts = ", ".join(f"{name} {seconds:.1f} s ({seconds / total:.0%})" for name, seconds in self.seconds.items()) if total else "nothing ran"
        return f"time per pass (wall): {parts}; {total:.1f} s in all"


def _local_log(output: str) -> Path:
    return scratch_dir() / "logs" / f"{hashlib.sha1(str(output).encode()).hexdigest()[:16]}.run.log"


def save_run_log(output: str | Path) -> None:
    """Upload the run log of an object-store output (a local output's log is written in place)."""
    if not is_url(output):
        return
    for logger in (logging.getLogger("longtail"), logging.getLogger(RUNLOG)):
        for handler in logger.handlers:
            if getattr(handler, _MARK, False):
                handler.flush()
    local = _local_log(str(output))
    if local.is_file():
        upload(local, RunFolder(output).run_log)

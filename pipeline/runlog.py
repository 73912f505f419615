"""The run folder's log file, ``<output>/logs/run.log``.

Everything the ``longtail`` loggers say at INFO and above goes there, plus per-file progress lines sent to the
``longtail.runlog`` logger, which writes only to the file so the console keeps its progress bars.
"""

from __future__ import annotations

import hashlib
import logging
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

"""Atomic file writes: write to a temporary file in the target's folder, then ``os.replace`` it into place.

A crash (or an exception while writing) leaves the previous file untouched and never a half-written one
that a later run would load. The temporary name starts with a dot and ends in ``.tmp``, so globs such as
``*.binary`` or ``*.png`` do not pick it up.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path``, on error it is removed.

    For writers that take a file name (fastText ``save_model``, matplotlib ``savefig``: give it ``format=``,
    the temporary name's suffix is ``.tmp``).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")

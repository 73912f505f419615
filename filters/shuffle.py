"""``random.Random.shuffle`` with the same draws, inlined: junk generation and the text signals shuffle ~10^5
short lists per 1,000 pages, and CPython's shuffle spends most of its time in method calls."""

from __future__ import annotations

import random

_BIT_LENGTH = [n.bit_length() for n in range(256)]


def shuffle_with(x: list, getrandbits) -> None:
    """``random.Random.shuffle(x)`` of the Random whose ``getrandbits`` is given: the same draws and the same
    order (CPython's shuffle + _randbelow_with_getrandbits, inlined). Falls back to ``Random.shuffle`` if a
    Python's shuffle draws differently (checked at import)."""
    for i in range(len(x) - 1, 0, -1):
        n = i + 1
        k = _BIT_LENGTH[n] if n < 256 else n.bit_length()
        r = getrandbits(k)
        while r >= n:
            r = getrandbits(k)
        x[i], x[r] = x[r], x[i]


def _shuffle_is_exact() -> bool:
    for seed in range(20):
        ours, theirs = random.Random(seed), random.Random(seed)
        for size in (0, 1, 2, 3, 4, 5, 9, 17, 64, 255, 300):
            a, b = list(range(size)), list(range(size))
            shuffle_with(a, ours.getrandbits)
            theirs.shuffle(b)
            if a != b:
                return False
    return ours.random() == theirs.random()


if not _shuffle_is_exact():  # pragma: no cover - another Python's shuffle
    def shuffle_with(x: list, getrandbits) -> None:  # noqa: F811
        getrandbits.__self__.shuffle(x)

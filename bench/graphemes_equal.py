"""filters.words.graphemes against the plain ``\\X`` regex on every line of the bench text (development data):
the same clusters on every line, and the time of each.

    .venv/bin/python bench/graphemes_equal.py        # needs bench/data/text (docs/bench.md)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import regex


def main() -> int:
    from longtail.filters.words import graphemes

    plain = regex.compile(r"\X")
    lines = [line for path in sorted(Path("bench/data/text").glob("*.jsonl")) for row in path.open(encoding="utf-8")
             for line in json.loads(row)["text"].splitlines() if line]
    start = time.process_time()
    expected = [plain.findall(line) for line in lines]
    middle = time.process_time()
    got = [graphemes(line) for line in lines]
    end = time.process_time()
    differ = sum(a != b for a, b in zip(expected, got))
    print(f"{len(lines):,} lines: {differ} differ; \\X {middle - start:.2f} CPU s, graphemes() {end - middle:.2f} CPU s")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())

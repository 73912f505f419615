"""Heuristic quality signals, computed once in the annotate pass and stored as columns.

Signals follow the Gopher/FineWeb family (duplicate lines, repeated n-grams, share of letters) but on
script-aware words, so their values mean the same thing in Lao as in Swahili.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import asdict, dataclass

from longtail.filters.words import is_unspaced, word_count, words


@dataclass(frozen=True)
class TextSignals:
    n_chars: int
    n_words: int
    n_lines: int
    letter_ratio: float  # letters (incl. combining marks) among non-space characters
    dup_line_frac: float  # share of characters in lines that occur more than once
    top_2gram_frac: float  # share of word characters covered by the most frequent word 2-gram
    dup_5gram_frac: float  # share of word characters inside 5-grams that occur more than once

    def as_dict(self) -> dict:
        return asdict(self)


SIGNAL_NAMES = tuple(TextSignals.__dataclass_fields__)


def _dup_line_frac(lines: list[str]) -> float:
    total = sum(len(line) for line in lines)
    if not total:
        return 0.0
    counts = Counter(lines)
    return sum(len(line) for line in lines if counts[line] > 1) / total


def _top_ngram_frac(units: list[str], n: int) -> float:
    total = sum(len(u) for u in units)
    if len(units) < n or not total:
        return 0.0
    grams = Counter(tuple(units[i : i + n]) for i in range(len(units) - n + 1))
    gram, count = grams.most_common(1)[0]
    if count < 2:
        return 0.0
    return min(1.0, count * sum(len(u) for u in gram) / total)


def _dup_ngram_frac(units: list[str], n: int) -> float:
    total = sum(len(u) for u in units)
    if len(units) < n or not total:
        return 0.0
    starts: dict[tuple, list[int]] = {}
    for i in range(len(units) - n + 1):
        starts.setdefault(tuple(units[i : i + n]), []).append(i)
    covered = bytearray(len(units))
    for positions in starts.values():
        if len(positions) > 1:
            for i in positions:
                covered[i : i + n] = b"\x01" * n
    return sum(len(u) for u, c in zip(units, covered) if c) / total


def text_signals(text: str, script: str) -> TextSignals:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    non_space = [ch for ch in text if not ch.isspace()]
    letters = sum(1 for ch in non_space if unicodedata.category(ch)[0] in "LM")
    units = words(text, script)
    # Word n-grams for spaced scripts; for unspaced scripts units are grapheme clusters, so use longer n.
    scale = 3 if is_unspaced(script) else 1
    return TextSignals(
        n_chars=len(text),
        n_words=word_count(text, script),
        n_lines=len(lines),
        letter_ratio=letters / len(non_space) if non_space else 0.0,
        dup_line_frac=_dup_line_frac(lines),
        top_2gram_frac=_top_ngram_frac(units, 2 * scale),
        dup_5gram_frac=_dup_ngram_frac(units, 5 * scale),
    )

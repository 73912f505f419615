"""Heuristic quality signals, computed once in the annotate pass and stored as columns.

Signals follow the Gopher/FineWeb family (duplicate lines, repeated n-grams, share of letters) but on
script-aware words, so their values mean the same thing in Lao as in Swahili.
"""

from __future__ import annotations

import unicodedata
import zlib
from collections import Counter
from dataclasses import asdict, dataclass

import regex

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
    compress_ratio: float  # zlib-compressed size / UTF-8 size of the text: low = repetitive, in any script
    mojibake_frac: float  # share of non-space characters in sequences that are UTF-8 bytes decoded as cp1252/latin-1
    scrambled_frac: float  # repeated long words spelt with their inner letters in another order (see scrambled_frac())

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


def compress_ratio(text: str) -> float:
    """zlib (level 6) compressed size over UTF-8 size. Prose compresses to ~0.3-0.5 of its size in every script
    (multi-byte scripts no worse: zlib sees the repeated lead bytes); text that repeats itself, or a few keywords,
    compresses much further. Texts under 200 bytes return 1.0 (zlib's fixed overhead dominates)."""
    data = text.encode("utf-8")
    if len(data) < 200:
        return 1.0
    return len(zlib.compress(data, 6)) / len(data)


def _mojibake_pattern() -> regex.Pattern:
    # UTF-8 continuation bytes 0x80-0xBF as cp1252 shows them (bytes cp1252 leaves undefined: as latin-1, i.e. C1
    # controls), and as latin-1 shows them (C1 controls, NBSP..¿).
    cont = set()
    for b in range(0x80, 0xC0):
        cont.add(bytes([b]).decode("latin-1"))
        try:
            cont.add(bytes([b]).decode("cp1252"))
        except UnicodeDecodeError:
            pass
    c = "[" + "".join(regex.escape(ch) for ch in sorted(cont)) + "]"
    # lead bytes of 2-, 3- and 4-byte sequences: 0xC2-0xDF (Â..ß), 0xE0-0xEF (à..ï), 0xF0-0xF4 (ð..ô)
    return regex.compile(f"[\u00c2-\u00df]{c}|[\u00e0-\u00ef]{c}{{2}}|[\u00f0-\u00f4]{c}{{3}}")


_MOJIBAKE = _mojibake_pattern()
_SPACE = regex.compile(r"\s+")


_LONG_WORD = regex.compile(r"[\p{L}\p{M}]{5,}")
SCRAMBLED_MIN_REPEATS = 6  # fewer repeated long words than this: too little evidence, 0.0


def scrambled_frac(text: str) -> float:
    """Share of the repeated long words (5+ letters) of a text that recur with their inner letters reordered.

    A word is written the same way each time it recurs, in every language and script with spaces; text whose
    letters were shuffled inside words (first and last kept, as obfuscated spam does) spells each occurrence
    differently. Occurrences are grouped by first letter, last letter and the multiset of letters, so no
    lexicon or language model is needed: the language's own repeated words are the reference. Counted per
    group of 2+ occurrences: (distinct spellings - 1) / occurrences. 0.0 when fewer than
    ``SCRAMBLED_MIN_REPEATS`` occurrences are in such groups. Not defined for unspaced scripts (the caller
    passes 0.0): their word boundaries are not in the text.
    """
    groups: dict[tuple, Counter] = {}
    for word in _LONG_WORD.findall(text.lower()):
        groups.setdefault((word[0], word[-1], "".join(sorted(word))), Counter())[word] += 1
    occurrences = extra = 0
    for spellings in groups.values():
        total = sum(spellings.values())
        if total >= 2:
            occurrences += total
            extra += len(spellings) - 1
    return extra / occurrences if occurrences >= SCRAMBLED_MIN_REPEATS else 0.0


def mojibake_frac(text: str) -> float:
    """Share of non-space characters inside sequences that are a UTF-8 character's bytes read as cp1252 or
    latin-1 ("Ã©" for "é", "Ð¿" for "п", "ä¸\xad" for "中"). Script-agnostic: any double-encoded UTF-8 text
    turns into Latin-1 letters followed by the punctuation/symbol characters of bytes 0x80-0xBF, a pairing that
    well-formed text of any language almost never has."""
    if not text:
        return 0.0
    hits = sum(len(m) for m in _MOJIBAKE.findall(text))
    if not hits:
        return 0.0
    non_space = len(text) - sum(len(m) for m in _SPACE.findall(text))
    return min(1.0, hits / non_space) if non_space else 0.0


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
        compress_ratio=compress_ratio(text),
        mojibake_frac=mojibake_frac(text),
        scrambled_frac=0.0 if is_unspaced(script) else scrambled_frac(text),
    )

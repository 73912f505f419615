"""Heuristic quality signals, computed once in the annotate pass and stored as columns.

Signals follow the Gopher/FineWeb family (duplicate lines, repeated n-grams, share of letters) but on
script-aware words, so their values mean the same thing in Lao as in Swahili.
"""

from __future__ import annotations

import math
import random
import statistics
import unicodedata
import zlib
from collections import Counter
from dataclasses import asdict, dataclass

import numpy as np
import regex

from longtail.filters.shuffle import shuffle_with
from longtail.filters.words import count_of_words, graphemes, is_unspaced, may_join_clusters, words


@dataclass(frozen=True)
class TextSignals:
    n_chars: int
    n_words: int
    n_lines: int
    n_letters: int  # letters incl. combining marks
    letter_ratio: float  # letters (incl. combining marks) among non-space characters
    dup_line_frac: float  # share of characters in lines that occur more than once
    top_2gram_frac: float  # share of word characters covered by the most frequent word 2-gram
    dup_5gram_frac: float  # share of word characters inside 5-grams that occur more than once
    compress_ratio: float  # zlib-compressed size / UTF-8 size of the text: low = repetitive, in any script
    mojibake_frac: float  # share of non-space characters in sequences that are UTF-8 bytes decoded as cp1252/latin-1
    scrambled_frac: float  # repeated long words spelt with their inner letters in another order (see scrambled_frac())
    word_order_z: float | None  # how far the text's word order is from its own shuffle; None: too little evidence
    word_order_power: float | None  # the z perfectly placed sentence boundaries would give: what the text can show
    letter_order_ratio: float | None  # distinct letter pairs inside words vs. with inner letters reshuffled; None: too few
    prose_frac: float  # share of words in lines of PROSE_LINE_WORDS+ words (not menus, tags, link lists)

    def as_dict(self) -> dict:
        return asdict(self)


SIGNAL_NAMES = tuple(TextSignals.__dataclass_fields__)


def _dup_line_frac(lines: list[str]) -> float:
    total = sum(len(line) for line in lines)
    if not total:
        return 0.0
    counts = Counter(lines)
    return sum(len(line) for line in lines if counts[line] > 1) / total


def unit_numbers(units: list[str]) -> tuple[np.ndarray, int]:
    """(each unit's number, numbered by first occurrence; how many distinct units): the n-gram statistics' input,
    computed once for both."""
    numbers: dict[str, int] = {}
    return np.array([numbers.setdefault(u, len(numbers)) for u in units], dtype=np.int64), len(numbers)


def _ngram_groups(numbered: tuple[np.ndarray, int], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The word n-grams of the :func:`unit_numbers` ``numbered`` grouped exactly (numpy, not a dict of tuples):
    (each n-gram's group number, in order of start; each group's first start). The windows of
    n numbers are sorted lexicographically (stable, so a group's first row is its first start)."""
    ids, distinct = numbered
    windows = np.lib.stride_tricks.sliding_window_view(ids, n)
    if n == 1 or distinct ** n < 2**62:  # the window fits in one int64 key
        keys = np.zeros(len(windows), dtype=np.int64)
        for column in range(n):
            keys = keys * distinct + windows[:, column]
        order = np.argsort(keys, kind="stable")
        changes = keys[order][1:] != keys[order][:-1]
    else:
        order = np.lexsort(windows.T[::-1])
        changes = (windows[order][1:] != windows[order][:-1]).any(axis=1)
    group_sorted = np.concatenate([[0], np.cumsum(changes)])
    groups = np.empty(len(windows), dtype=np.int64)
    groups[order] = group_sorted
    first = order[np.flatnonzero(np.concatenate([[True], changes]))]
    return groups, first


def _top_ngram_frac(units: list[str], n: int, numbered: tuple[np.ndarray, int] | None = None) -> float:
    """Share of the word characters covered by the most frequent n-gram (counted once per occurrence; among
    equally frequent n-grams the one that occurs first). ``numbered``: :func:`unit_numbers` of ``units``."""
    total = sum(len(u) for u in units)
    if len(units) < n or not total:
        return 0.0
    groups, first = _ngram_groups(numbered or unit_numbers(units), n)
    counts = np.bincount(groups)
    best = int(counts.max())
    if best < 2:
        return 0.0
    start = int(first[counts == best].min())
    return min(1.0, best * sum(len(u) for u in units[start : start + n]) / total)


def _dup_ngram_frac(units: list[str], n: int, numbered: tuple[np.ndarray, int] | None = None) -> float:
    """Share of the word characters inside n-grams that occur more than once. ``numbered``: as above."""
    total = sum(len(u) for u in units)
    if len(units) < n or not total:
        return 0.0
    groups, _ = _ngram_groups(numbered or unit_numbers(units), n)
    repeated = np.flatnonzero(np.bincount(groups)[groups] > 1)  # the starts of n-grams that occur again
    if not len(repeated):
        return 0.0
    depth = np.zeros(len(units) + 1, dtype=np.int64)  # +1 where a repeated n-gram starts, -1 after it ends
    np.add.at(depth, repeated, 1)
    np.add.at(depth, repeated + n, -1)
    covered = np.cumsum(depth[:-1]) > 0
    lengths = np.fromiter(map(len, units), dtype=np.int64, count=len(units))
    return int(lengths[covered].sum()) / total


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
_MOJIBAKE_LEADS = frozenset(chr(c) for c in range(0xC2, 0xF5))  # Â..ô: the lead bytes' characters
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
    groups: dict[tuple, list[int]] = {}  # (first, last, letters) -> occurrences of each spelling
    for word, count in Counter(_LONG_WORD.findall(text.lower())).items():  # each spelling sorted once
        groups.setdefault((word[0], word[-1], "".join(sorted(word))), []).append(count)
    occurrences = extra = 0
    for spellings in groups.values():
        total = sum(spellings)
        if total >= 2:
            occurrences += total
            extra += len(spellings) - 1
    return extra / occurrences if occurrences >= SCRAMBLED_MIN_REPEATS else 0.0


# A token ending a sentence, with any closing quotes/brackets after the terminal.
_SENTENCE_END = regex.compile(r"\p{Sentence_Terminal}[\p{Pe}\p{Pf}\"'’]*$")
_FIRST_LETTER = regex.compile(r"\p{L}")
WORD_ORDER_MIN_WORDS = 50  # fewer words than this: too little evidence (None)
WORD_ORDER_MIN_TERMINALS = 3  # fewer sentence terminals: nothing says where sentences are (None)
WORD_ORDER_MIN_POWER = 1.5  # z that perfectly placed terminals and capitals would reach; below: cannot tell (None). Not under min_word_order_z: a text that could not reach the threshold would be dropped for lack of power (a Cherokee Bible page at 0.78)
WORD_ORDER_SHUFFLES = 32  # 8 left the shuffles' mean/sd so noisy that 1 in 7 word-salad pages reached z 1 by chance
WORD_ORDER_LONG_LINE = 8  # lines of this many words are paragraphs: they start with a capital and end a sentence


def _order_lines(text: str) -> list[list[str]]:
    """Word tokens per line, for the word-order test. A free-standing terminal (Amharic "።", French "quoi ?") joins
    the word before it; tokens without letters or digits (table pipes, dashes) are dropped. Lines repeated, or
    repeating the start of a longer line (a title copied into the first paragraph), are kept once: a copy would
    count as order evidence for shuffled words too."""
    lines = []
    for line in text.splitlines():
        tokens = line.split()
        if not all([token.isalnum() or any(map(str.isalnum, token)) for token in tokens]):  # rare: a token to drop
            kept_tokens: list[str] = []
            for token in tokens:
                if token.isalnum() or any(map(str.isalnum, token)):
                    kept_tokens.append(token)
                elif kept_tokens and _SENTENCE_END.search(token):
                    kept_tokens[-1] += token
            tokens = kept_tokens
        if len(tokens) >= 2:
            lines.append(tokens)
    keys = [" ".join(tokens).lower() for tokens in lines]
    # a key that starts a longer key is followed by such a key in sorted order (what starts with it sorts right
    # after it): one sort, not every pair of lines
    ordered = sorted(set(keys))
    prefixes = {key for key, following in zip(ordered, ordered[1:]) if following.startswith(key)}
    seen: set[str] = set()
    kept = []
    for key, tokens in zip(keys, lines):
        if key in seen or key in prefixes:
            continue
        seen.add(key)
        kept.append(tokens)
    return kept


def _is_capital(token: str) -> bool:
    if token[:1].isalpha():  # most tokens start with their first letter (every str.isalpha character is \p{L})
        return token[0].isupper()
    letter = _FIRST_LETTER.search(token)
    return bool(letter) and letter.group().isupper()


# Punctuation and symbols at a token's edges, in every script (Arabic "،", Armenian "։", Devanagari "।", "«»", "「」").
_EDGE_MARKS = regex.compile(r"^[\p{P}\p{S}]+|[\p{P}\p{S}]+$")


def _fold(token: str) -> str:
    """A token as the word-order test compares it: lower-cased (a no-op in scripts without case), edge marks off."""
    return _EDGE_MARKS.sub("", token.lower())


def _order_counts(lines: list[list[str]]) -> tuple[int, int]:
    """(word bigrams that recur, sentence-boundary cues): the evidence of word order that shuffling destroys.
    Cues: a terminal followed by a capital; a paragraph-long line that ends with a terminal or starts with a
    capital."""
    evidence = _OrderEvidence(lines)
    return evidence.counts(np.arange(len(evidence.ids)))


def argsort_rows(keys: np.ndarray) -> np.ndarray:
    """``np.argsort(keys, axis=1, kind="stable")``, by quicksort (twice as fast on the shuffles' random keys) when
    no row has two equal keys: then every sort gives the one order. Rows with a tie, which random doubles almost
    never have, are sorted stably, so the result is the stable sort's on every machine."""
    order = np.argsort(keys, axis=1)
    ordered = np.take_along_axis(keys, order, axis=1)
    if keys.shape[1] > 1 and (ordered[:, 1:] == ordered[:, :-1]).any():
        return np.argsort(keys, axis=1, kind="stable")
    return order


class _OrderEvidence:
    """Each token's folded form (as an int), sentence end and capital, computed once, as flat arrays over the lines:
    a shuffle permutes tokens within their lines, so :meth:`counts` of a permutation gives what
    :func:`_order_counts` of the shuffled lines would (numpy: the test shuffles every page 32 times)."""

    def __init__(self, lines: list[list[str]]):
        vocabulary: dict[str, int] = {}
        lengths = [len(tokens) for tokens in lines]
        self.line_of = np.repeat(np.arange(len(lines)), lengths)
        # each distinct token is folded and classified once (a page repeats most of its tokens); tokens are
        # numbered by first occurrence and the per-token arrays gathered from the per-distinct ones
        position: dict[str, int] = {}
        codes = [position.setdefault(t, len(position)) for tokens in lines for t in tokens]
        distinct = list(position)
        plain = [t.isalnum() for t in distinct]  # letters and digits only: no edge marks to strip, no terminal
        ids = [vocabulary.setdefault(t.lower() if p else _fold(t), len(vocabulary)) for t, p in zip(distinct, plain)]
        ends = [False if p else bool(_SENTENCE_END.search(t)) for t, p in zip(distinct, plain)]
        capitals = [t[0].isupper() if t[0].isalpha() else _is_capital(t) for t in distinct]
        codes_array = np.array(codes, dtype=np.int64)
        self.ids = np.array(ids, dtype=np.int64)[codes_array]
        self.ends = np.array(ends, dtype=bool)[codes_array]
        self.capitals = np.array(capitals, dtype=bool)[codes_array]
        self.size = max(len(vocabulary), 1)
        self.same_line = self.line_of[:-1] == self.line_of[1:]  # adjacent positions in one line
        self.lengths = np.array(lengths, dtype=np.int64)
        self.starts = np.cumsum([0, *lengths], dtype=np.int64)[:-1]
        long_lines = self.lengths >= WORD_ORDER_LONG_LINE
        self.long_first = self.starts[long_lines]
        self.long_last = (self.starts + self.lengths - 1)[long_lines]

    def best_boundaries(self) -> int:
        """The boundary cues if every terminal were followed by a capital and every long line were a paragraph:
        per line, min(terminals but the last token's, capitals but the first token's), plus one each for a long
        line with a terminal and with a capital (what :func:`word_order_test` calls power)."""
        if not len(self.lengths):
            return 0
        ends_per_line = np.add.reduceat(self.ends.astype(np.int64), self.starts)
        capitals_per_line = np.add.reduceat(self.capitals.astype(np.int64), self.starts)
        last, first = self.starts + self.lengths - 1, self.starts
        best = np.minimum(ends_per_line - self.ends[last], capitals_per_line - self.capitals[first]).sum()
        long_lines = self.lengths >= WORD_ORDER_LONG_LINE
        best += (ends_per_line[long_lines] > 0).sum() + (capitals_per_line[long_lines] > 0).sum()
        return int(best)

    def permutations(self, shuffles: int, seed: int) -> np.ndarray:
        """``shuffles`` x tokens: each row permutes the tokens within their lines (random keys sorted within each
        line's span). A local generator seeded from the text: the same text always gets the same shuffles."""
        keys = np.random.default_rng(seed).random((shuffles, len(self.ids))) + self.line_of
        return argsort_rows(keys)

    def counts(self, order: np.ndarray) -> tuple[int, int]:
        recurring, boundary = self.counts_all(order[np.newaxis, :])
        return int(recurring[0]), int(boundary[0])

    def counts_all(self, orders: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`counts` of every row of ``orders`` (shuffles x tokens) at once: (recurring, boundary) arrays."""
        ids, ends, capitals = self.ids[orders], self.ends[orders], self.capitals[orders]
        pairs = (ids[:, :-1] * self.size + ids[:, 1:])[:, self.same_line]
        pairs.sort(axis=1)
        # a pair recurs when a sorted neighbour equals it: count the members of runs of 2+
        equal = pairs[:, 1:] == pairs[:, :-1]
        in_run = np.zeros(pairs.shape, dtype=bool)
        in_run[:, 1:] |= equal
        in_run[:, :-1] |= equal
        boundary = (ends[:, :-1] & capitals[:, 1:] & self.same_line).sum(axis=1) + ends[:, self.long_last].sum(axis=1) + capitals[:, self.long_first].sum(axis=1)
        return in_run.sum(axis=1), boundary


def word_order_z(text: str) -> float | None:
    """:func:`word_order_test`'s z."""
    return word_order_test(text)[0]


def word_order_test(text: str) -> tuple[float | None, float | None]:
    """(z, power). z: how many standard deviations the text's word-order evidence lies above that of its own words shuffled
    within each line (a permutation test, ``WORD_ORDER_SHUFFLES`` seeded shuffles).

    Word salad (a real text's words shuffled, as spam generators make it) uses the language's own words, so a
    lexicon, a word-frequency model or a small language's 3-page KenLM model cannot see it. Its order can: in
    real text word pairs recur ("of the", names), terminals are followed by capitals and end paragraphs. Shuffled
    text scores about 0, real text of 50+ words usually 5-100. The text is its own reference, so it works for a
    language with one page. None when the test has no power: under ``WORD_ORDER_MIN_WORDS`` words, under
    ``WORD_ORDER_MIN_TERMINALS`` sentence terminals, or when even perfectly placed terminals and capitals would
    not reach ``WORD_ORDER_MIN_POWER`` (unpunctuated text, one sentence per line in a script without case): those
    are judged by the other rules. Scripts without spaces: :func:`unspaced_order_test`. The RNG is a local instance
    seeded from the text. power: the z of the boundary cues alone if every terminal were followed by a capital and
    every long line were a paragraph (None with z None).
    """
    lines = _order_lines(text)
    if sum(len(tokens) for tokens in lines) < WORD_ORDER_MIN_WORDS:
        return None, None
    evidence = _OrderEvidence(lines)  # per token once; a shuffle only permutes tokens
    if int(evidence.ends.sum()) < WORD_ORDER_MIN_TERMINALS:
        return None, None
    observed = evidence.counts(np.arange(len(evidence.ids)))
    recurring, boundaries = evidence.counts_all(evidence.permutations(WORD_ORDER_SHUFFLES, zlib.crc32(text.encode("utf-8"))))
    # Power: the boundary cues if every terminal were followed by a capital and every long line were a paragraph.
    power = (evidence.best_boundaries() - _mean(boundaries)) / max(_pstdev(boundaries), 1.0)
    if power < WORD_ORDER_MIN_POWER:
        return None, None
    totals = recurring + boundaries
    return round((sum(observed) - _mean(totals)) / max(_pstdev(totals), 1.0), 3), round(power, 3)


def _mean(counts: np.ndarray) -> float:
    """``statistics.mean`` of integer counts, without its exact rational arithmetic: int / int is correctly
    rounded in Python, as the mean of ints is there."""
    return int(counts.sum()) / len(counts)


def _pstdev(counts: np.ndarray) -> float:
    """``statistics.pstdev`` of integer counts: the exact variance as integers, then one square root (the
    statistics module rounds its square root of the exact fraction correctly; this one rounds the fraction
    first, which can differ in the last bit, and the callers round to 3 decimals)."""
    n, total, squares = len(counts), int(counts.sum()), int((counts.astype(np.int64) ** 2).sum())
    return math.sqrt((n * squares - total * total) / (n * n))


# Terminals of scripts written without spaces: "." is left out (there it marks abbreviations and numbers,
# "ธ.ค.", "3.5", more often than sentence ends; Thai and Lao end sentences with a space, not a mark).
_UNSPACED_TERMINAL = regex.compile(r"(?!\.)\p{Sentence_Terminal}")


def unspaced_order_z(text: str) -> float | None:
    """:func:`unspaced_order_test`'s z."""
    return unspaced_order_test(text)[0]


def unspaced_order_test(text: str) -> tuple[float | None, float | None]:
    """(z, power) of the word-order evidence for scripts written without spaces (Han, Japanese, Thai, ...), where words cannot be
    shuffled because their boundaries are not in the text: do sentence terminals ("。", "！", "။") end the
    paragraph-long lines (``WORD_ORDER_LONG_LINE`` x 3 grapheme clusters) more often than if they stood at random
    positions in them? Text shuffled in pieces puts them anywhere. z against the exact null (a line ends with a
    terminal with probability terminals/clusters; Poisson-binomial variance, floored at 1). None under 150
    clusters, under ``WORD_ORDER_MIN_TERMINALS`` terminals, or without the power to reach
    ``WORD_ORDER_MIN_POWER`` (Thai and Lao text without terminals: judged by the other rules)."""
    long_line = WORD_ORDER_LONG_LINE * 3
    lines = []
    for line in text.splitlines():
        clusters = [g for g in graphemes(line) if not g.isspace()]
        if len(clusters) >= long_line:
            lines.append([bool(_UNSPACED_TERMINAL.match(g)) for g in clusters])
    if sum(len(line) for line in lines) < WORD_ORDER_MIN_WORDS * 3:
        return None, None
    terminals = [sum(line) for line in lines]
    if sum(terminals) < WORD_ORDER_MIN_TERMINALS:
        return None, None
    shares = [t / len(line) for t, line in zip(terminals, lines)]
    mean = sum(shares)
    sd = max(sum(p * (1 - p) for p in shares) ** 0.5, 1.0)
    power = (sum(1 for t in terminals if t) - mean) / sd
    if power < WORD_ORDER_MIN_POWER:
        return None, None
    return round((sum(1 for line in lines if line[-1]) - mean) / sd, 3), round(power, 3)


_LETTERS = regex.compile(r"[\p{L}\p{M}]+")
LETTER_ORDER_MIN_PAIRS = 200  # cluster pairs inside words of 4+ clusters; fewer: too little evidence (None)
LETTER_ORDER_SHUFFLES = 8  # numpy reshuffles are cheap; with 2, two different draws put a page's ratio up to 0.07 apart
UNSPACED_LETTER_SHUFFLES = 2  # the windowed reshuffle of unspaced text is in Python: as measured on the bench


def _distinct_pairs(words_as_clusters: list[list[str]]) -> int:
    return len({pair for clusters in words_as_clusters for pair in zip(clusters, clusters[1:])})




def inner_permutations(lengths: list[int], shuffles: int, seed: int) -> np.ndarray:
    """``shuffles`` x positions: index orders of the flat clusters of words of ``lengths`` that shuffle the inner
    clusters (all but first and last) of every word of 4+ clusters and leave the rest in place (random keys sorted
    within each word's inner span). A local generator seeded from the text."""
    lengths_array = np.array(lengths, dtype=np.int64)
    starts = np.cumsum(lengths_array) - lengths_array
    word_of = np.repeat(np.arange(len(lengths)), lengths_array)
    offset = np.arange(len(word_of)) - starts[word_of]
    inner = np.flatnonzero((lengths_array[word_of] >= 4) & (offset > 0) & (offset < lengths_array[word_of] - 1))
    orders = np.tile(np.arange(len(word_of)), (shuffles, 1))
    # all rows' keys in one draw: the generator gives the same numbers as one draw of len(inner) per row
    keys = word_of[inner] + np.random.default_rng(seed).random((shuffles, len(inner)))
    orders[:, inner] = inner[argsort_rows(keys)]
    return orders


def letter_order_ratio(text: str, characters: Counter | None = None) -> float | None:
    """Distinct pairs of adjacent grapheme clusters inside the text's words, over the same count after shuffling
    the inner clusters of each word of 4+ clusters (first and last kept), mean of ``LETTER_ORDER_SHUFFLES``.

    A language spells with a small set of letter sequences, so real text has far fewer distinct pairs than its
    reshuffle (ratio about 0.7 on the bench's real pages, in every spaced script); text whose letters were already
    scrambled inside words has as many as its reshuffle (about 1.0). Unlike :func:`scrambled_frac` it needs no
    word to recur, so it also sees scrambled Korean, Cyrillic or Ethiopic pages whose long words occur once. None
    under ``LETTER_ORDER_MIN_PAIRS`` pairs. Clusters are ints and the shuffles numpy permutations
    (:func:`inner_permutations`): the test reshuffles every word of every page. ``characters``: ``Counter(text)``,
    when the caller has it (whether a joining code point occurs is then asked of the distinct characters)."""
    lowered = text.lower()
    words = _LETTERS.findall(lowered)
    # lower() maps each character on its own (only sigma looks at its neighbours, and it stays a letter either way)
    if may_join_clusters("".join(characters).lower() if characters is not None else lowered):
        words_as_clusters = [graphemes(word) for word in words]
        lengths = [len(clusters) for clusters in words_as_clusters]
        if sum(n - 1 for n in lengths if n >= 4) < LETTER_ORDER_MIN_PAIRS:
            return None
        vocabulary: dict[str, int] = {}
        ids = np.array([vocabulary.setdefault(c, len(vocabulary)) for clusters in words_as_clusters for c in clusters], dtype=np.int64)
        size = len(vocabulary)
    else:  # without marks or conjoining jamo every letter is a cluster of its own, and its code point its id
        lengths = np.fromiter(map(len, words), dtype=np.int64, count=len(words))
        if int((lengths - 1)[lengths >= 4].sum()) < LETTER_ORDER_MIN_PAIRS:
            return None
        ids = np.frombuffer("".join(words).encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        size = 0x110000
    word_of = np.repeat(np.arange(len(lengths)), lengths)
    same_word = word_of[:-1] == word_of[1:]
    if size == 0x110000:  # code points -> 0..distinct-1, so that a row's pairs fit a small table
        distinct_ids, ids = np.unique(ids, return_inverse=True)
        size = len(distinct_ids)

    orders = np.vstack([np.arange(len(ids)), inner_permutations(lengths, LETTER_ORDER_SHUFFLES, zlib.crc32(text.encode("utf-8")))])
    permuted = ids[orders]
    pairs = (permuted[:, :-1] * size + permuted[:, 1:])[:, same_word]
    distinct = _distinct_per_row(pairs, size * size)
    return round(int(distinct[0]) / _mean(distinct[1:]), 4)


def _distinct_per_row(values: np.ndarray, bound: int) -> np.ndarray:
    """Number of distinct values in each row of ``values`` (ints in 0..bound-1). A table of every possible value per
    row when that is small beside the values (an alphabet's letter pairs: a few thousand), else a sort of each row."""
    rows, width = values.shape
    if rows * bound <= max(4 * values.size, 1 << 16):
        seen = np.zeros(rows * bound, dtype=bool)
        seen[(values + (np.arange(rows, dtype=np.int64) * bound)[:, np.newaxis]).ravel()] = True
        return seen.reshape(rows, bound).sum(axis=1)
    ordered = np.sort(values, axis=1)  # 1 + the changes along the sorted row (rows sorted at once)
    return (ordered[:, 1:] != ordered[:, :-1]).sum(axis=1) + (width > 0)


UNSPACED_LETTER_WINDOW = 5  # clusters: the pieces that scramblers of unspaced text shuffle inside are 4-6 long


def unspaced_letter_order_ratio(text: str) -> float | None:
    """:func:`letter_order_ratio` for scripts written without spaces (Han, Japanese, Thai): their words are not
    in the text, so the reshuffle moves the inner letters of consecutive ``UNSPACED_LETTER_WINDOW``-cluster
    windows (from a random offset per line). Real text repeats its words, so it has far fewer distinct letter
    pairs than that reshuffle (0.75-0.97 on the bench's real pages); text scrambled in pieces has as many
    (0.96-1.0). Letters only (digits and punctuation have no order to scramble). None under
    ``LETTER_ORDER_MIN_PAIRS`` pairs. The RNG is a local instance seeded from the text."""
    window = UNSPACED_LETTER_WINDOW
    lines = [[g for g in graphemes(line) if g[0].isalpha()] for line in text.splitlines()]
    lines = [clusters for clusters in lines if len(clusters) >= window]
    if sum(len(clusters) - 1 for clusters in lines) < LETTER_ORDER_MIN_PAIRS:
        return None
    getrandbits = random.Random(zlib.crc32(text.encode("utf-8"))).getrandbits
    reshuffled = []
    for _ in range(UNSPACED_LETTER_SHUFFLES):
        shuffled_lines = []
        for clusters in lines:
            clusters = clusters[:]
            for start in range(getrandbits(32) % window, len(clusters) - window + 1, window):
                inner = clusters[start + 1:start + window - 1]
                shuffle_with(inner, getrandbits)
                clusters[start + 1:start + window - 1] = inner
            shuffled_lines.append(clusters)
        reshuffled.append(_distinct_pairs(shuffled_lines))
    return round(_distinct_pairs(lines) / statistics.mean(reshuffled), 4)


def mojibake_frac(text: str, characters: Counter | None = None) -> float:
    """Share of non-space characters inside sequences that are a UTF-8 character's bytes read as cp1252 or
    latin-1 ("Ã©" for "é", "Ð¿" for "п", "ä¸\xad" for "中"). Script-agnostic: any double-encoded UTF-8 text
    turns into Latin-1 letters followed by the punctuation/symbol characters of bytes 0x80-0xBF, a pairing that
    well-formed text of any language almost never has."""
    if not text or _MOJIBAKE_LEADS.isdisjoint(characters if characters is not None else text):  # every match starts with one
        return 0.0
    hits = sum(len(m) for m in _MOJIBAKE.findall(text))
    if not hits:
        return 0.0
    non_space = len(text) - sum(len(m) for m in _SPACE.findall(text))
    return min(1.0, hits / non_space) if non_space else 0.0


PROSE_LINE_WORDS = 6  # a line of this many words can be a sentence; navigation, tags and menus are 1-4 words a line


def prose_frac(lines: list[str], script: str, line_words: list[int] | None = None) -> float:
    """Share of the words that stand in prose lines: lines of ``PROSE_LINE_WORDS`` or more words (grapheme
    clusters: 3x as many, for scripts without spaces), or of 2+ words ending with a sentence terminal (a short
    sentence: agglutinative languages say "I am running." in two words). A page of navigation, tag clouds and
    footer links has almost none in any language. 1.0 for no words."""
    long_line = PROSE_LINE_WORDS * (3 if is_unspaced(script) else 1)
    total = prose = 0
    for line, n in zip(lines, line_words or [len(words(line, script)) for line in lines]):
        total += n
        if n >= long_line or (n >= 2 and _SENTENCE_END.search(line)):
            prose += n
    return prose / total if total else 1.0


def _letter_counts(characters: Counter) -> tuple[int, int]:
    """(non-space characters, letters incl. combining marks) of a text's ``Counter``: each distinct character is
    classified once (a page has a few hundred distinct characters and thousands of characters; counting is in C)."""
    non_space = letters = 0
    for ch, n in characters.items():
        if not ch.isspace():
            non_space += n
            if unicodedata.category(ch)[0] in "LM":
                letters += n
    return non_space, letters


def text_signals(text: str, script: str) -> TextSignals:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    characters = Counter(text)  # the distinct characters, for the signals that only ask which occur
    non_space, letters = _letter_counts(characters)
    if script == "Tibt":  # its separators split at \s, which is not every line break of str.splitlines
        units, line_words = words(text, script), None
    else:  # words never span a line break: the text's words are its lines' words, each line split once
        per_line = [words(line, script) for line in lines]
        units, line_words = [u for line_units in per_line for u in line_units], [len(u) for u in per_line]
    # Word n-grams for spaced scripts; for unspaced scripts units are grapheme clusters, so use longer n.
    scale = 3 if is_unspaced(script) else 1
    numbered = unit_numbers(units)
    order_z, order_power = unspaced_order_test(text) if is_unspaced(script) else word_order_test(text)
    return TextSignals(
        n_chars=len(text),
        n_words=count_of_words(units, script),
        n_lines=len(lines),
        n_letters=letters,
        letter_ratio=letters / non_space if non_space else 0.0,
        dup_line_frac=_dup_line_frac(lines),
        top_2gram_frac=_top_ngram_frac(units, 2 * scale, numbered),
        dup_5gram_frac=_dup_ngram_frac(units, 5 * scale, numbered),
        compress_ratio=compress_ratio(text),
        mojibake_frac=mojibake_frac(text, characters),
        scrambled_frac=0.0 if is_unspaced(script) else scrambled_frac(text),
        word_order_z=order_z,
        word_order_power=order_power,
        letter_order_ratio=unspaced_letter_order_ratio(text) if is_unspaced(script) else letter_order_ratio(text, characters),
        prose_frac=prose_frac(lines, script, line_words),
    )

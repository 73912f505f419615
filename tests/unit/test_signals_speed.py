"""The faster signals (issue 15) give exactly the values of the implementations they replaced.

The reference functions below are the code of filters/signals.py before the change (commit a39ea6c), kept
here verbatim (except that the word-order and letter-order tests' shuffles are drawn with the generator the new
code uses, numpy since 2026-12-04); every composed text of fixtures/corpus, its word salad, its letter-scrambled copy and its lines
joined without breaks are compared field by field."""

from __future__ import annotations

import random
import statistics
import unicodedata
import zlib
from collections import Counter
from pathlib import Path

import pytest
import regex
import yaml

from longtail.filters import signals
from longtail.filters.shuffle import shuffle_with
from longtail.filters.signals import _FIRST_LETTER, _fold, _LETTERS, _SENTENCE_END, WORD_ORDER_LONG_LINE, WORD_ORDER_MIN_POWER, WORD_ORDER_MIN_TERMINALS, WORD_ORDER_MIN_WORDS, WORD_ORDER_SHUFFLES, LETTER_ORDER_MIN_PAIRS, LETTER_ORDER_SHUFFLES, _order_lines, text_signals

_GRAPHEME = regex.compile(r"\X")  # the reference code splits clusters with the plain regex

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "corpus"


# --- reference: the code before issue 15 ---------------------------------------------------------------------

def _is_capital_ref(token):
    letter = _FIRST_LETTER.search(token)
    return bool(letter) and letter.group().isupper()


def _order_counts_ref(lines):
    bigrams = Counter()
    boundary = 0
    for tokens in lines:
        folded = [_fold(t) for t in tokens]  # the token folding is shared; what is compared is the evidence counting
        bigrams.update(zip(folded, folded[1:]))
        ends = [bool(_SENTENCE_END.search(t)) for t in tokens]
        capitals = [_is_capital_ref(t) for t in tokens]
        boundary += sum(1 for i in range(len(tokens) - 1) if ends[i] and capitals[i + 1])
        if len(tokens) >= WORD_ORDER_LONG_LINE:
            boundary += ends[-1] + capitals[0]
    return sum(c for c in bigrams.values() if c >= 2), boundary


def word_order_z_ref(text):
    lines = _order_lines(text)
    if sum(len(tokens) for tokens in lines) < WORD_ORDER_MIN_WORDS:
        return None
    if sum(1 for tokens in lines for t in tokens if _SENTENCE_END.search(t)) < WORD_ORDER_MIN_TERMINALS:
        return None
    observed = _order_counts_ref(lines)
    # the shuffles themselves are drawn as the new code draws them (numpy, in-line permutations); what is compared
    # is the counting of the evidence over them
    flat = [t for tokens in lines for t in tokens]
    shuffled_counts = []
    for order in signals._OrderEvidence(lines).permutations(WORD_ORDER_SHUFFLES, zlib.crc32(text.encode("utf-8"))):
        permuted, shuffled = [flat[i] for i in order], []
        for tokens in lines:
            shuffled.append(permuted[:len(tokens)])
            permuted = permuted[len(tokens):]
        assert all(sorted(a) == sorted(b) for a, b in zip(shuffled, lines))  # tokens stay in their line
        shuffled_counts.append(_order_counts_ref(shuffled))
    best = 0
    for tokens in lines:
        ends = sum(1 for t in tokens[:-1] if _SENTENCE_END.search(t))
        capitals = sum(1 for t in tokens[1:] if _is_capital_ref(t))
        best += min(ends, capitals)
        if len(tokens) >= WORD_ORDER_LONG_LINE:
            best += any(_SENTENCE_END.search(t) for t in tokens) + any(_is_capital_ref(t) for t in tokens)
    boundary = [b for _, b in shuffled_counts]
    if (best - statistics.mean(boundary)) / max(statistics.pstdev(boundary), 1.0) < WORD_ORDER_MIN_POWER:
        return None
    totals = [r + b for r, b in shuffled_counts]
    return round((sum(observed) - statistics.mean(totals)) / max(statistics.pstdev(totals), 1.0), 3)


def letter_order_ratio_ref(text):
    words_as_clusters = [_GRAPHEME.findall(word) for word in _LETTERS.findall(text.lower())]
    long_words = [clusters for clusters in words_as_clusters if len(clusters) >= 4]
    if sum(len(clusters) - 1 for clusters in long_words) < LETTER_ORDER_MIN_PAIRS:
        return None
    # the reshuffles are drawn as the new code draws them (numpy); what is compared is the pair counting
    flat = [c for clusters in words_as_clusters for c in clusters]
    reshuffled = []
    for order in signals.inner_permutations([len(cl) for cl in words_as_clusters], LETTER_ORDER_SHUFFLES, zlib.crc32(text.encode("utf-8"))):
        permuted, words = [flat[i] for i in order], []
        for clusters in words_as_clusters:
            shuffled, permuted = permuted[:len(clusters)], permuted[len(clusters):]
            assert shuffled[0] == clusters[0] and shuffled[-1] == clusters[-1] and sorted(shuffled) == sorted(clusters)
            assert len(clusters) >= 4 or shuffled == clusters  # short words stay as they are
            words.append(shuffled)
        reshuffled.append(len({pair for cl in words for pair in zip(cl, cl[1:])}))
    return round(len({pair for cl in words_as_clusters for pair in zip(cl, cl[1:])}) / statistics.mean(reshuffled), 4)


def letters_ref(text):
    non_space = [ch for ch in text if not ch.isspace()]
    letters = sum(1 for ch in non_space if unicodedata.category(ch)[0] in "LM")
    return letters, letters / len(non_space) if non_space else 0.0


# --- texts ---------------------------------------------------------------------------------------------------

def composed_texts():
    rng = random.Random(15)
    for path in sorted(CORPUS.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        script = data["lang_script"].split("_")[1]
        for article in data["articles"]:
            text = "\n".join([article["title"], *article["paragraphs"]])
            salad = "\n".join(" ".join(rng.sample(line.split(), len(line.split()))) for line in text.splitlines())
            scrambled = " ".join(w[0] + "".join(rng.sample(w[1:-1], len(w) - 2)) + w[-1] if len(w) > 3 else w for w in text.split(" "))
            for variant in (text, salad, scrambled, " ".join(text.splitlines()), text + "\n" + text):
                yield script, variant
        yield script, "\n".join(data["reference"])
        yield script, " \t\n".join(data["nav"] + [data["footer"]])


TEXTS = list(composed_texts())


def test_the_texts_exercise_both_signals():
    assert len(TEXTS) > 200
    assert sum(word_order_z_ref(t) is not None for _, t in TEXTS) > 50
    assert sum(letter_order_ratio_ref(t) is not None for _, t in TEXTS) > 50


@pytest.mark.parametrize("index", range(0, len(TEXTS)))
def test_signals_identical_to_reference(index):
    script, text = TEXTS[index]
    new = text_signals(text, script)
    letters, ratio = letters_ref(text)
    assert (new.n_letters, new.letter_ratio) == (letters, ratio)
    if not signals.is_unspaced(script):
        assert new.word_order_z == word_order_z_ref(text)
        assert new.letter_order_ratio == letter_order_ratio_ref(text)


def test_inlined_shuffle_draws_like_random_shuffle():
    for seed in range(50):
        ours, theirs = random.Random(seed), random.Random(seed)
        for size in (2, 3, 4, 8, 31, 257, 1000):
            a, b = list(range(size)), list(range(size))
            shuffle_with(a, ours.getrandbits)
            theirs.shuffle(b)
            assert a == b
        assert ours.getstate() == theirs.getstate()


def inner_permutations_ref(lengths, shuffles, seed):
    """inner_permutations before it drew all rows at once (2026-12-04): one draw and one sort per row."""
    import numpy as np

    lengths_array = np.array(lengths, dtype=np.int64)
    starts = np.cumsum(lengths_array) - lengths_array
    word_of = np.repeat(np.arange(len(lengths)), lengths_array)
    offset = np.arange(len(word_of)) - starts[word_of]
    inner = np.flatnonzero((lengths_array[word_of] >= 4) & (offset > 0) & (offset < lengths_array[word_of] - 1))
    rng = np.random.default_rng(seed)
    orders = np.tile(np.arange(len(word_of)), (shuffles, 1))
    for row in orders:
        row[inner] = inner[np.argsort(word_of[inner] + rng.random(len(inner)), kind="stable")]
    return orders


@pytest.mark.parametrize("lengths", [[], [3, 2, 1], [4], [7, 2, 9, 4, 12, 1, 5] * 20])
def test_inner_permutations_drawn_at_once_equal_row_by_row(lengths):
    for seed in (0, 11, 2**31):
        assert (signals.inner_permutations(lengths, LETTER_ORDER_SHUFFLES, seed) == inner_permutations_ref(lengths, LETTER_ORDER_SHUFFLES, seed)).all()


def test_argsort_rows_is_the_stable_sort_with_and_without_ties():
    import numpy as np

    keys = np.random.default_rng(3).random((6, 50)) + np.repeat(np.arange(5), 10)
    assert (signals.argsort_rows(keys) == np.argsort(keys, axis=1, kind="stable")).all()
    tied = keys.copy()
    tied[2, 7] = tied[2, 3]  # a tie: quicksort may order the two either way, the stable sort keeps 3 before 7
    tied[4, :] = 1.0  # a row of ties
    assert (signals.argsort_rows(tied) == np.argsort(tied, axis=1, kind="stable")).all()
    assert signals.argsort_rows(np.zeros((3, 1))).tolist() == [[0], [0], [0]]


def test_mojibake_needs_a_lead_character():
    assert signals.mojibake_frac("plain ASCII text, nothing else") == 0.0
    assert signals.mojibake_frac("Ð¿Ñ€Ð¸Ð²ÐµÑ‚ Ð¼Ð¸Ñ€") > 0.5  # привет мир as cp1252
    assert signals.mojibake_frac("Ελληνικά κείμενα χωρίς λάθη") == 0.0

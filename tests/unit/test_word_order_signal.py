"""The word-order signal: a text's word order against its own words shuffled (word salad), in spaced scripts."""

from __future__ import annotations

import random

from longtail import reasons
from longtail.filters.quality import Thresholds, first_failure
from longtail.filters.signals import text_signals, word_order_z

# Composed for this test: paragraphs of ordinary prose (several sentences each) in two cased scripts.
SWAHILI = "\n".join(
    [
        "Soko la mji wetu lilifunguliwa tena siku ya Jumatatu. Wafanyabiashara wengi walifika mapema asubuhi. "
        "Walileta mboga, matunda na samaki kutoka pwani. Bei ya samaki ilipanda kidogo kwa sababu ya upepo mkali.",
        "Mama Amina aliuza nyanya na vitunguu kama kawaida. Alisema kwamba wateja wengi walirudi baada ya mvua. "
        "Watoto wa shule walimsaidia kubeba vikapu vizito. Jioni soko lilikuwa limejaa watu wa kila umri.",
        "Mkuu wa wilaya alitembelea soko la mji wetu mchana. Aliwaahidi wafanyabiashara barabara mpya na maji safi. "
        "Wananchi walifurahi sana kusikia habari hiyo. Wengi walisema kwamba soko la mji wetu litakua haraka.",
    ]
)
RUSSIAN = "\n".join(
    [
        "В нашем городе открылась новая библиотека. Она стоит рядом со школой и парком. "
        "В первый день туда пришли дети и их родители. Библиотекари рассказали гостям о новых книгах.",
        "В библиотеке есть большой читальный зал. Там тихо и светло даже зимой. "
        "Студенты приходят туда после занятий. Они читают книги и готовятся к экзаменам.",
        "Директор библиотеки сказал, что фонд будет расти каждый год. Город выделил деньги на новые книги. "
        "Жители нашего города благодарны за этот подарок. Многие уже записались в библиотеку.",
    ]
)


def word_salad(text: str, seed: int) -> str:
    """Each line's words shuffled, as a spam generator does with a real page."""
    rng = random.Random(seed)
    lines = []
    for line in text.splitlines():
        words = line.split()
        rng.shuffle(words)
        lines.append(" ".join(words))
    return "\n".join(lines)


def test_prose_scores_above_the_threshold_and_its_salad_below():
    limit = Thresholds().min_word_order_z
    for text in (SWAHILI, RUSSIAN):
        assert word_order_z(text) >= limit
        for seed in range(3):
            assert word_order_z(word_salad(text, seed)) < limit


def test_deterministic():
    assert word_order_z(SWAHILI) == word_order_z(SWAHILI)
    salad = word_salad(RUSSIAN, 1)
    assert word_order_z(salad) == word_order_z(salad)


def test_no_verdict_without_evidence():
    assert word_order_z("Habari za asubuhi. Karibu sana.") is None  # too few words
    unpunctuated = " ".join(SWAHILI.replace(".", "").replace(",", "").split())  # one line, no terminals
    assert word_order_z(unpunctuated) is None
    assert text_signals("ภาษาไทยเป็นภาษาที่สวยงามมาก " * 30, "Thai").word_order_z is None  # unspaced script


def test_a_title_copied_into_the_first_paragraph_is_not_order_evidence():
    salad = word_salad(SWAHILI, 2)
    first = salad.splitlines()[0]
    titled = " ".join(first.split()[:6]).capitalize() + "\n" + salad
    assert word_order_z(titled) < Thresholds().min_word_order_z


def test_filter_names_the_reason_and_can_be_turned_off():
    salad = word_salad(RUSSIAN, 0)
    doc = text_signals(salad, "Cyrl").as_dict() | {"text": salad, "lang": "rus", "lang_score": 0.9}
    limits = Thresholds(min_words=1, max_perplexity=None, min_quality_score=None)
    assert first_failure(doc, limits) == reasons.QUALITY_WORD_ORDER
    assert first_failure({**doc, "word_order_z": None}, limits) is None
    assert first_failure(doc, Thresholds(min_words=1, max_perplexity=None, min_quality_score=None, min_word_order_z=None)) is None

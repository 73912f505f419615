"""The scrambled-letters signal: a text's own repeated words are the reference, in any spaced script."""

from __future__ import annotations

import random

from longtail import reasons
from longtail.filters.quality import Thresholds, first_failure
from longtail.filters.signals import scrambled_frac, text_signals

# Composed for this test: short prose with recurring long words, in three scripts.
LATIN = ("Abarundi barashaka amahoro. Amahoro araturuka mu mitima. Abarundi bose bakunda amahoro n'ubumwe. "
         "Ubumwe bwacu buradukomeza, kandi amahoro aradufasha. Abarundi barakora cane kugira amahoro aramba.")
CYRILLIC = ("Колхозники начали работу рано. Работу закончили вечером, колхозники устали. "
            "Завтра колхозники снова начнут работу в поле, потому что работу нельзя оставить.")
ETHIOPIC = ("ተማሪዎቹ ትምህርታቸውን ጀመሩ። ትምህርታቸውን በደንብ ተከታተሉ። ተማሪዎቹ ደስተኞች ናቸው። "
            "ትምህርታቸውን ሲጨርሱ ተማሪዎቹ ወደ ቤት ሄዱ። ተማሪዎቹ ነገም ትምህርታቸውን ይቀጥላሉ።")


def scramble(text: str, seed: int) -> str:
    rng = random.Random(seed)

    def one(word: str) -> str:
        if len(word) <= 3:
            return word
        middle = list(word[1:-1])
        rng.shuffle(middle)
        return word[0] + "".join(middle) + word[-1]

    return " ".join(one(w) for w in text.split(" "))


def test_real_spelling_scores_zero_in_every_script():
    for text in (LATIN, CYRILLIC, ETHIOPIC):
        assert scrambled_frac(text) == 0.0


def test_scrambled_text_scores_high_in_every_script():
    for text in (LATIN, CYRILLIC):
        assert scrambled_frac(scramble(text, 1)) > Thresholds().max_scrambled_frac


def test_too_few_repeated_words_is_no_evidence():
    assert scrambled_frac("Nakupenda sana rafiki yangu mpendwa") == 0.0


def test_unspaced_scripts_are_not_judged():
    assert text_signals("ภาษาไทยเป็นภาษาที่สวยงามมาก" * 5, "Thai").scrambled_frac == 0.0


def test_filter_names_the_reason_and_a_missing_column_keeps():
    limits = Thresholds(min_words=1, max_perplexity=None, min_quality_score=None)
    doc = {"text": "x", "lang": "run", "lang_score": 0.9, "n_words": 60, "letter_ratio": 0.9, "dup_line_frac": 0.0,
           "top_2gram_frac": 0.0, "dup_5gram_frac": 0.0}
    assert first_failure(doc, limits) is None
    assert first_failure({**doc, "scrambled_frac": 0.4}, limits) == reasons.QUALITY_SCRAMBLED
    assert first_failure({**doc, "scrambled_frac": 0.4}, Thresholds(min_words=1, max_perplexity=None, min_quality_score=None, max_scrambled_frac=None)) is None


def test_letter_order_ratio_sees_scrambled_words_that_never_recur():
    from longtail.filters.signals import letter_order_ratio
    from longtail.tests.unit.test_word_order_signal import RUSSIAN, SWAHILI

    limit = Thresholds().max_letter_order_ratio
    assert letter_order_ratio(SWAHILI) < limit < letter_order_ratio(scramble(SWAHILI, 2))
    # A shorter text has fewer repeated letter pairs to lose: the gap narrows (the Russian one ends near 0.95).
    assert letter_order_ratio(RUSSIAN) + 0.15 < letter_order_ratio(scramble(RUSSIAN, 2))
    assert letter_order_ratio(LATIN) is None  # too few letter pairs to judge


def test_scrambled_filter_uses_either_signal():
    limits = Thresholds(min_words=1, max_perplexity=None, min_quality_score=None)
    doc = {"text": "x", "lang": "run", "lang_score": 0.9, "n_words": 60, "letter_ratio": 0.9, "dup_line_frac": 0.0,
           "top_2gram_frac": 0.0, "dup_5gram_frac": 0.0, "scrambled_frac": 0.0}
    assert first_failure({**doc, "letter_order_ratio": 0.99}, limits) == reasons.QUALITY_SCRAMBLED
    assert first_failure({**doc, "letter_order_ratio": 0.7}, limits) is None
    assert first_failure({**doc, "letter_order_ratio": None}, limits) is None

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


def test_unspaced_scripts_are_not_judged_by_recurring_spellings():
    assert text_signals("ภาษาไทยเป็นภาษาที่สวยงามมาก" * 5, "Thai").scrambled_frac == 0.0  # their words are not in the text


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


# Composed for this test: Chinese prose whose words recur (村子, 小学, 孩子们, 老师), as real text's do.
CHINESE = ("我们的村子在山脚下。村子里有一所小学，小学的老师都很认真。每天早上，孩子们走路去小学上课。老师教孩子们读书、写字和算数。"
           "下午放学以后，孩子们回到村子里帮助父母干活。村子里的人都很喜欢这所小学，因为小学让孩子们学到了很多知识。\n"
           "今年春天，村子里修了一条新路，孩子们去小学的路更好走了。父母们说，新路和小学是村子里最重要的两件事情。"
           "老师也说，孩子们的成绩比去年更好了。村子里的老人常常坐在路边，看孩子们走路去小学，心里很高兴。\n"
           "秋天的时候，村子里的人一起收粮食。孩子们放学以后也去田里帮忙，老师有时候也来帮助大家。"
           "晚上，村子里很安静，孩子们在家里读书写字，父母们在门口说话。大家都说，有了小学和新路，村子的明天会更好。")


def scramble_pieces(text: str, seed: int, piece: int = 5) -> str:
    """Unspaced text scrambled as spam does it: the inner characters of consecutive pieces shuffled."""
    rng = random.Random(seed)
    out = []
    for line in text.split("\n"):
        chars = list(line)
        for start in range(0, len(chars) - piece + 1, piece):
            inner = chars[start + 1:start + piece - 1]
            rng.shuffle(inner)
            chars[start + 1:start + piece - 1] = inner
        out.append("".join(chars))
    return "\n".join(out)


def test_letter_order_ratio_of_unspaced_text_sees_scrambled_pieces():
    from longtail.filters.signals import unspaced_letter_order_ratio

    limit = Thresholds().max_letter_order_ratio
    real = unspaced_letter_order_ratio(CHINESE)
    assert real is not None and real < limit - 0.1
    for seed in (1, 2, 3):
        # a page this short repeats few pairs even when real; the bench's real pages score 0.75-0.97, scrambled 0.96-1.0
        assert unspaced_letter_order_ratio(scramble_pieces(CHINESE, seed)) > real + 0.1
    assert unspaced_letter_order_ratio(CHINESE[:60]) is None  # too few letter pairs to judge
    assert text_signals(CHINESE, "Hani").letter_order_ratio == real  # the column the scrambled rule reads
    doc = {"text": "x", "lang": "zho", "lang_score": 0.9, "n_words": 300, "letter_ratio": 0.9, "dup_line_frac": 0.0,
           "top_2gram_frac": 0.0, "dup_5gram_frac": 0.0, "letter_order_ratio": real}
    limits = Thresholds(min_words=1, max_perplexity=None, min_quality_score=None)
    assert first_failure(doc, limits) is None
    assert first_failure({**doc, "letter_order_ratio": 0.99}, limits) == reasons.QUALITY_SCRAMBLED


def test_distinct_pairs_per_row_table_and_sort_agree():
    """letter_order_ratio counts distinct letter pairs per shuffle with a table of every possible pair when the
    alphabet is small, by sorting when it is not (Hangul syllables): both must count what a set does."""
    import numpy as np

    from longtail.filters.signals import _distinct_per_row

    rng = np.random.default_rng(7)
    for bound, width in ((36, 500), (2_500, 40_000), (4_000_000, 300), (9, 0)):
        values = rng.integers(0, bound, size=(9, width))
        expected = [len(set(row.tolist())) for row in values]
        assert _distinct_per_row(values, bound).tolist() == expected, (bound, width)

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
    assert text_signals("ภาษาไทยเป็นภาษาที่สวยงามมาก " * 30, "Thai").word_order_z is None  # no terminals


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


# Composed for this test: five paragraphs of Chinese, each a few sentences ending in "。".
CHINESE = "\n".join(
    [
        "我们村子里新开了一家小图书馆。每天下午都有很多孩子来这里看书。图书管理员很热情，总是帮助大家找书。",
        "图书馆里有两千多本书，还有几台电脑。老人们喜欢在早上来读报纸。年轻人常常在晚上来这里学习。",
        "上个星期，图书馆举办了一次读书比赛。参加比赛的学生有五十多个。获奖的同学得到了新书和证书。",
        "村长说，明年还要再买一些新书。他希望每个孩子都能养成读书的好习惯。大家听了都非常高兴。",
        "现在，图书馆已经成了村子里最热闹的地方之一。很多家长周末也带着孩子一起来看书和聊天。",
    ]
)


def piece_salad(text: str, seed: int) -> str:
    """Each line cut into pieces of 2-4 characters and shuffled: word salad where words have no spaces."""
    rng = random.Random(seed)
    lines = []
    for line in text.splitlines():
        pieces, i = [], 0
        while i < len(line):
            n = rng.randint(2, 4)
            pieces.append(line[i : i + n])
            i += n
        rng.shuffle(pieces)
        lines.append("".join(pieces))
    return "\n".join(lines)


def test_scripts_without_spaces_terminals_end_paragraphs_in_prose_not_in_salad():
    limit = Thresholds().min_word_order_z
    assert text_signals(CHINESE, "Hani").word_order_z >= limit
    caught = [text_signals(piece_salad(CHINESE, seed), "Hani").word_order_z for seed in range(5)]
    assert all(z is not None for z in caught)
    assert sum(z < limit for z in caught) >= 4  # a shuffled piece may still end a line with "。" by chance


def test_scripts_without_spaces_abbreviation_dots_are_not_terminals():
    # Thai ends sentences with a space, not a mark; "." there marks abbreviations and numbers: no verdict.
    thai = "\n".join(["ประชุมเมื่อวันที่ 4 ธ.ค. ที่ สนง.ผบ.ตร. มีผู้เข้าร่วมประมาณ 3.5 พันคนจากทุกจังหวัดทั่วประเทศ"] * 8)
    assert text_signals(thai, "Thai").word_order_z is None


def test_power_is_what_a_perfect_arrangement_would_reach_and_z_cannot_exceed_it_much():
    prose = text_signals(SWAHILI, "Latn")
    assert prose.word_order_power is not None and prose.word_order_power >= 1.5
    assert text_signals("Habari za asubuhi. Karibu sana.", "Latn").word_order_power is None  # no test, no power
    assert text_signals(CHINESE, "Hani").word_order_power >= text_signals(CHINESE, "Hani").word_order_z


def test_a_low_power_text_needs_only_a_share_of_its_power():
    salad = word_salad(RUSSIAN, 0)
    doc = text_signals(salad, "Cyrl").as_dict() | {"text": salad, "lang": "rus", "lang_score": 0.9}
    limits = Thresholds(min_words=1, max_perplexity=None, min_quality_score=None)
    # a short caseless text: best possible z 1.6, shows 1.35 (84% of it): ordered as far as it can tell
    assert first_failure({**doc, "word_order_z": 1.35, "word_order_power": 1.6}, limits) is None
    # the same z from a text that could have shown 6: not enough
    assert first_failure({**doc, "word_order_z": 1.35, "word_order_power": 6.0}, limits) == reasons.QUALITY_WORD_ORDER
    # a salad-like z at low power is still dropped
    assert first_failure({**doc, "word_order_z": 0.9, "word_order_power": 1.6}, limits) == reasons.QUALITY_WORD_ORDER
    # older annotations without the column: the threshold alone
    without = {k: v for k, v in doc.items() if k != "word_order_power"} | {"word_order_z": 1.35}
    assert first_failure(without, limits) == reasons.QUALITY_WORD_ORDER
    assert first_failure({**doc, "word_order_z": 1.35, "word_order_power": 1.6}, Thresholds(min_words=1, max_perplexity=None, min_quality_score=None, min_word_order_power_share=None)) == reasons.QUALITY_WORD_ORDER

"""Compression ratio, mojibake share and the repetition rule that tells structure from spam (issue 12).

Plain pytest, no Ray, no models: the signals are pure functions of the text and the rules read stored columns.
"""

from __future__ import annotations

import random

import pytest

from longtail import reasons
from longtail.filters.quality import DEFAULT_FILTERS, MojibakeFilter, RepetitionFilter, Thresholds, first_failure
from longtail.filters.signals import SIGNAL_NAMES, compress_ratio, mojibake_frac, text_signals

# Real-looking prose in scripts with and without spaces (a few sentences each, not repeated).
PROSE = {
    "Latn": (
        "Die oorspronklike aansoek moet gepos word, anders sal 'n permit nie uitgereik word nie. "
        "Jy moet 'n aansoekfooi van R225 betaal voordat die aansoek oorweeg word. Die kantoor is oop van "
        "Maandag tot Vrydag, behalwe op openbare vakansiedae, en navrae kan ook per e-pos gestuur word. "
        "Dokumente wat nie gesertifiseer is nie, sal teruggestuur word sonder dat dit verwerk is."
    ),
    "Cyrl": (
        "Оно было построено мастером из соседнего города в начале прошлого века. Позднее здание перестроили, "
        "добавив второй этаж и широкую веранду. Сейчас в нём работает небольшой музей, куда летом приезжают "
        "школьники и туристы, а зимой проходят концерты местного хора и выставки художников."
    ),
    "Thai": (
        "ผู้เห็นเหตุการณ์กล่าวว่ากองกำลังได้ควบคุมถนนสายสำคัญหลายแห่งที่มุ่งหน้าไปสู่ใจกลางเมือง "
        "ขณะที่ประชาชนจำนวนมากอพยพออกจากพื้นที่เพื่อความปลอดภัย เจ้าหน้าที่ท้องถิ่นระบุว่าจะเปิดศูนย์พักพิงชั่วคราว "
        "และแจกจ่ายอาหารกับน้ำดื่มให้แก่ผู้ได้รับผลกระทบภายในสัปดาห์นี้"
    ),
    "Hani": (
        "该建筑始建于十九世纪末，由当地商人出资修建，最初用作仓库。二十世纪三十年代，政府将其改建为学校，"
        "并在东侧增建了礼堂。战后学校迁出，建筑一度闲置，直到九十年代才被列为文物保护单位，经过修缮后对公众开放。"
    ),
}

SWEDISH = "Det är en vacker dag i Göteborg och många människor går längs ån för att äta glass. " * 3


def _stuffing(words: list[str], sep: str, n: int = 300, seed: int = 1) -> str:
    rng = random.Random(seed)
    return sep.join(rng.choice(words) for _ in range(n))


def _doc(**overrides) -> dict:
    doc = {"text": "x", "lang": "afr", "lang_score": 0.9, "lid_agreement": "agreed", "n_words": 300, "n_lines": 8,
           "letter_ratio": 0.9, "dup_line_frac": 0.0, "top_2gram_frac": 0.02, "dup_5gram_frac": 0.0,
           "compress_ratio": 0.45, "mojibake_frac": 0.0, "perplexity": None, "max_perplexity": None, "quality_score": None}
    doc.update(overrides)
    return doc


# ------------------------------------------------------------------------------------------------ signals
def test_new_signals_are_columns():
    assert "compress_ratio" in SIGNAL_NAMES and "mojibake_frac" in SIGNAL_NAMES
    s = text_signals(PROSE["Latn"], "Latn").as_dict()
    assert 0.0 < s["compress_ratio"] < 1.0 and s["mojibake_frac"] == 0.0


@pytest.mark.parametrize("script", sorted(PROSE))
def test_prose_compresses_less_than_keyword_stuffing(script):
    prose = PROSE[script]
    if script in ("Thai", "Hani"):  # unspaced: pieces of 2-3 characters joined without spaces, as spam is
        pieces = [prose[i:i + 3] for i in range(0, 30, 3)][:5]
        stuffed = _stuffing(pieces, "")
    else:
        stuffed = _stuffing(prose.split()[5:10], " ")
    assert compress_ratio(prose) > 0.25
    assert compress_ratio(stuffed) < Thresholds().min_compress_ratio


def test_compress_ratio_of_short_text_is_neutral():
    assert compress_ratio("") == 1.0
    assert compress_ratio("kort teks") == 1.0


@pytest.mark.parametrize("script", sorted(PROSE))
def test_mojibake_detected_in_every_script(script):
    text = SWEDISH if script == "Latn" else PROSE[script]  # the Afrikaans sample is all ASCII: nothing to garble
    for codec in ("cp1252", "latin-1"):
        garbled = text.encode("utf-8").decode(codec, errors="replace")
        assert mojibake_frac(garbled) > 0.05, (script, codec)
    assert mojibake_frac(text) == 0.0


def test_mojibake_of_mostly_ascii_latin_text():
    # Swedish with ~5% non-ASCII letters: each å/ä/ö becomes two characters ("Ã¥").
    text = SWEDISH
    garbled = text.encode("utf-8").decode("cp1252")
    assert mojibake_frac(garbled) > Thresholds().max_mojibake_frac
    assert mojibake_frac(text) == 0.0


def test_mojibake_rare_legitimate_pairs_stay_under_threshold():
    # "ß»" (German quotes) and "Â©"-like pairs can occur in good text; one pair in a paragraph is far below 5%.
    text = "Er sagte «Fuß» und ging. " + PROSE["Latn"]
    assert 0.0 < mojibake_frac(text) < Thresholds().max_mojibake_frac


# ------------------------------------------------------------------------------------------------ rules
def test_mojibake_reason_is_listed_and_ordered():
    assert reasons.QUALITY_MOJIBAKE == "quality:mojibake"
    order = reasons.DOCUMENT_REASONS
    assert order.index(reasons.QUALITY_TOO_SHORT) < order.index(reasons.QUALITY_MOJIBAKE) < order.index(reasons.QUALITY_SYMBOLS)
    filter_reasons = [f.reason for f in DEFAULT_FILTERS]
    assert filter_reasons.index(reasons.QUALITY_MOJIBAKE) < filter_reasons.index(reasons.QUALITY_SYMBOLS)


def test_mojibake_filter():
    assert first_failure(_doc(mojibake_frac=0.2, letter_ratio=0.3), Thresholds()) == "quality:mojibake"
    assert MojibakeFilter()(_doc(mojibake_frac=0.01), Thresholds()) is True
    assert MojibakeFilter()(_doc(mojibake_frac=None), Thresholds()) is True
    assert MojibakeFilter()(_doc(mojibake_frac=0.9), Thresholds(max_mojibake_frac=None)) is True


@pytest.mark.parametrize("dup5, n_lines, expected", [
    (0.17, 4, True),     # recurring legal formulae in a multi-paragraph text (afr_Latn, 0.168)
    (0.39, 8, True),     # a news chunk whose headline recurs in its lead, lines repeated (fon, lav)
    (0.49, 40, True),    # just under the limit for any text
    (0.17, 2, False),    # one block (title + paragraph) whose 5-grams recur: the repetition is all there is
    (0.16, 1, False),
    (0.55, 40, False),   # more than half the text inside repeated 5-grams, whatever its layout
])
def test_dup_5gram_counts_only_for_one_block_or_beyond_hard_limit(dup5, n_lines, expected):
    verdict = RepetitionFilter()(_doc(dup_5gram_frac=dup5, n_lines=n_lines), Thresholds())
    assert (verdict is True) == expected


def test_dup_5gram_old_rule_when_lines_unknown_or_disabled():
    # Annotations without n_lines (older runs, or a caller reading fewer columns) keep the old 0.15 rule.
    doc = _doc(dup_5gram_frac=0.2)
    del doc["n_lines"]
    assert RepetitionFilter()(doc, Thresholds()) == (False, "quality:repetition")
    assert RepetitionFilter()(_doc(dup_5gram_frac=0.2), Thresholds(dup_5gram_max_lines=None)) == (False, "quality:repetition")


def test_compressibility_rule():
    assert RepetitionFilter()(_doc(compress_ratio=0.12), Thresholds()) == (False, "quality:repetition")
    assert RepetitionFilter()(_doc(compress_ratio=0.25), Thresholds()) is True
    assert RepetitionFilter()(_doc(compress_ratio=None), Thresholds()) is True
    assert RepetitionFilter()(_doc(compress_ratio=0.05), Thresholds(min_compress_ratio=None)) is True


@pytest.mark.parametrize("script", sorted(PROSE))
def test_end_to_end_signals_then_rule(script):
    """text -> text_signals -> RepetitionFilter, in spaced and unspaced scripts."""
    prose = "\n".join([PROSE[script]] * 1)
    sig = text_signals(prose, script).as_dict()
    assert RepetitionFilter()(_doc(**sig), Thresholds()) is True
    if script in ("Thai", "Hani"):
        stuffed = "\n".join(_stuffing([prose[i:i + 3] for i in range(0, 15, 3)], "", 60, seed=k) for k in range(12))
    else:
        stuffed = "\n".join(_stuffing(prose.split()[3:8], " ", 30, seed=k) for k in range(12))
    sig = text_signals(stuffed, script).as_dict()
    assert RepetitionFilter()(_doc(**sig), Thresholds()) == (False, "quality:repetition")

"""The prose signal: a page of short lines only (navigation, menus, tags) has almost no words in sentence-long lines."""

from __future__ import annotations

from longtail import reasons
from longtail.filters.quality import Thresholds, first_failure
from longtail.filters.signals import text_signals

# Composed for this test.
MENU = "\n".join(
    ["Mwanzo", "Habari", "Michezo", "Biashara", "Burudani", "Wasiliana nasi", "Kuhusu sisi"] * 4
    + ["Habari » Michezo » Soka", "Sera ya faragha", "Masharti ya matumizi", "« 1 2 3 4 5 »"]
)
ARTICLE = (
    MENU.split("\n")[0]
    + "\n"
    + (
        "Timu ya mpira wa miguu ya kijiji chetu ilishinda mchezo wa jana jioni kwa mabao mawili kwa moja. "
        "Mashabiki wengi walifika uwanjani mapema na kuimba nyimbo za kuwatia moyo wachezaji wao.\n"
        "Kocha alisema kwamba ushindi huo ni matokeo ya mazoezi ya muda mrefu na nidhamu ya wachezaji wote."
    )
)
THAI_MENU = "\n".join(["หน้าแรก", "ข่าว", "กีฬา", "ติดต่อเรา", "เกี่ยวกับเรา"] * 8)
THAI_PROSE = "ทีมฟุตบอลของหมู่บ้านชนะการแข่งขันเมื่อวานนี้ด้วยคะแนนสองต่อหนึ่งและแฟนบอลจำนวนมากมาเชียร์ที่สนามตั้งแต่เช้า\n" * 3


def test_menus_score_low_and_prose_high_in_spaced_and_unspaced_scripts():
    limit = Thresholds().min_prose_frac
    assert text_signals(MENU, "Latn").prose_frac < limit
    assert text_signals(ARTICLE, "Latn").prose_frac > 0.9
    assert text_signals(THAI_MENU, "Thai").prose_frac < limit
    assert text_signals(THAI_PROSE, "Thai").prose_frac == 1.0
    assert text_signals("", "Latn").prose_frac == 1.0


def test_filter_names_the_reason_and_can_be_turned_off():
    doc = text_signals(MENU, "Latn").as_dict() | {"text": MENU, "lang": "swa", "lang_score": 0.9}
    limits = Thresholds(
        min_words=1,
        max_perplexity=None,
        min_quality_score=None,
        max_dup_line_frac=None,
        max_top_2gram_frac=None,
        max_dup_5gram_frac=None,
        max_dup_5gram_frac_any=None,
        min_compress_ratio=None,
    )
    assert first_failure(doc, limits) == reasons.QUALITY_NO_PROSE
    assert first_failure({**doc, "prose_frac": None}, limits) is None
    off = Thresholds(**{**limits.__dict__, "min_prose_frac": None})
    assert first_failure(doc, off) is None


def test_few_long_words_are_not_too_short():
    # Composed Malayalam-like case: 35 long words, 300 letters; and an English notice of 10 words.
    long_words = {"n_words": 35, "n_letters": 300, "lang": "mal", "lang_score": 0.9, "text": "x"}
    short = {"n_words": 10, "n_letters": 49, "lang": "eng", "lang_score": 0.9, "text": "x"}
    limits = Thresholds(max_perplexity=None, min_quality_score=None)
    assert reasons.QUALITY_TOO_SHORT != first_failure(long_words, limits)
    assert first_failure(short, limits) == reasons.QUALITY_TOO_SHORT
    assert first_failure({**long_words, "n_letters": None}, limits) == reasons.QUALITY_TOO_SHORT  # older annotations
    assert first_failure(long_words, Thresholds(max_perplexity=None, min_quality_score=None, letters_per_word=None)) == reasons.QUALITY_TOO_SHORT
    # min_words is the one knob: raising it raises the letter alternative too
    assert first_failure(long_words, Thresholds(max_perplexity=None, min_quality_score=None, min_words=100)) == reasons.QUALITY_TOO_SHORT
    assert text_signals("ഞാൻ ഓടുന്നു.", "Mlym").n_letters == 10  # letters and combining marks, not the full stop


def test_short_sentences_are_prose():
    # Composed: short Malayalam sentences, one per line (two or three long words each), well over 250 letters.
    sentences = "\n".join(["ഞാൻ പുസ്തകം വായിക്കുന്നു.", "അവൾ പാട്ടു പാടുന്നു.", "കുട്ടികൾ കളിക്കുകയാണ്.", "നീ എവിടെ പോകുന്നു?"] * 6)
    assert text_signals(sentences, "Mlym").prose_frac == 1.0
    assert text_signals(MENU, "Latn").prose_frac < Thresholds().min_prose_frac  # menu items end without a terminal

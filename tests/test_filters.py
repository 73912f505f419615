"""Heuristic signals, selection filters and thresholds, on hand-made inputs."""

import pytest

from longtail.filters.quality import (
    DEFAULT_FILTERS,
    RepetitionFilter,
    Thresholds,
    first_failure,
    resolve_max_perplexity,
)
from longtail.filters.signals import text_signals
from longtail.filters.words import lm_tokens, normalise, word_count, words

SWAHILI = (
    "Mvua za masika zimeanza mapema mwaka huu katika vijiji vya mkoa wa Morogoro. Wakulima wengi wameanza "
    "kupanda mahindi na maharagwe, wakitumaini kupata mavuno mazuri. Afisa kilimo wa wilaya aliwashauri "
    "kutumia mbegu bora na kupanda kwa mistari ili kurahisisha palizi."
)


def test_words_split_by_script():
    assert words("Ẹ kú àárọ̀, ṣé dáadáa ni?", "Latn") == ["Ẹ", "kú", "àárọ̀", "ṣé", "dáadáa", "ni"]
    assert len(words("ມື້ນີ້ຕະຫຼາດມີຄົນຫຼາຍ", "Laoo")) > 5  # no spaces: grapheme clusters, not one giant word
    assert word_count("ມື້ນີ້ຕະຫຼາດມີຄົນຫຼາຍ ແລະ ອາກາດດີ", "Laoo") >= 4
    assert words("བཀྲ་ཤིས་བདེ་ལེགས།", "Tibt") == ["བཀྲ", "ཤིས", "བདེ", "ལེགས"]


def test_normalise_folds_case_only_where_the_script_has_case():
    assert normalise("Habari ZA Asubuhi 2026!", "Latn") == "habari za asubuhi 0000"
    georgian = "დღეს ბაზარში"
    assert normalise(georgian, "Geor") == georgian
    assert lm_tokens("ສະບາຍດີ ທ່ານ", "Laoo").count("▁") == 1


def test_signals_on_clean_text():
    s = text_signals(SWAHILI, "Latn")
    assert s.n_words == len(SWAHILI.split())
    assert s.letter_ratio > 0.9
    assert s.dup_line_frac == 0 and s.dup_5gram_frac == 0


def test_signals_on_repetition_and_symbols():
    spam = "\n".join(["cheap casino bonus best price today"] * 20)
    s = text_signals(spam, "Latn")
    assert s.dup_line_frac == pytest.approx(1.0)
    assert s.top_2gram_frac > 0.2
    prices = "\n".join(f"SKU {1000 + i} — ${i}.99 — 4.5/5 #A{i}-33" for i in range(50))
    assert text_signals(prices, "Latn").letter_ratio < 0.55


def test_repetition_in_unspaced_script():
    phrase = "ມື້ນີ້ຕະຫຼາດມີຄົນຫຼາຍ"
    assert text_signals(phrase * 30, "Laoo").dup_5gram_frac > 0.5


def _doc(**overrides):
    doc = {"text": SWAHILI, "lang": "swa", "lang_score": 0.9, "n_words": 120, "letter_ratio": 0.95, "dup_line_frac": 0.0,
           "top_2gram_frac": 0.02, "dup_5gram_frac": 0.0, "perplexity": 300.0, "max_perplexity": 1000.0, "quality_score": 0.9}
    doc.update(overrides)
    return doc


@pytest.mark.parametrize(
    "overrides, reason",
    [
        ({}, None),
        ({"text": "  "}, "extract:empty"),
        ({"lang": "und"}, "lid:undetermined"),
        ({"lang_score": 0.1}, "lid:undetermined"),
        ({"n_words": 10}, "quality:too_short"),
        ({"letter_ratio": 0.3}, "quality:symbols"),
        ({"dup_line_frac": 0.5}, "quality:repetition"),
        ({"perplexity": 5000.0}, "quality:perplexity"),
        ({"perplexity": 5000.0, "max_perplexity": None}, None),  # no model for the language: keep
        ({"quality_score": 0.2}, "quality:classifier"),
        ({"n_words": 10, "letter_ratio": 0.1}, "quality:too_short"),  # first failing filter names the reason
    ],
)
def test_first_failure(overrides, reason):
    assert first_failure(_doc(**overrides), Thresholds()) == reason


def test_filters_return_true_or_false_with_reason():
    for flt in DEFAULT_FILTERS:
        verdict = flt(_doc(), Thresholds())
        assert verdict is True
    assert RepetitionFilter()(_doc(dup_line_frac=0.9), Thresholds()) == (False, "quality:repetition")


def test_thresholds_per_language_and_disabled_rules():
    limits = Thresholds().updated({"min_words": 5, "min_quality_score": None})
    assert first_failure(_doc(n_words=10, quality_score=0.0), limits) is None


def test_auto_perplexity_uses_model_card():
    card = {"heldout_perplexity": {"p50": 300.0, "p99": 400.0}}
    assert resolve_max_perplexity(Thresholds(), card) == 600.0
    assert resolve_max_perplexity(Thresholds(), None) is None
    assert resolve_max_perplexity(Thresholds(max_perplexity=123.0), card) == 123.0
    assert resolve_max_perplexity(Thresholds(max_perplexity=None), card) is None


def test_zero_width_joiners_stay_inside_words():
    assert words("می‌خواهم بروم", "Arab") == ["می\u200cخواهم", "بروم"]


def test_malformed_url_does_not_break_templated_signal():
    from longtail.filters.templated import domain_shares

    assert len(domain_shares(["a\nb", "c"], ["http://[broken", None])) == 2

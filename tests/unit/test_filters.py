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
    card = {"heldout_perplexity": {"p10": 200.0, "p25": 250.0, "p50": 300.0, "p99": 400.0}}
    assert resolve_max_perplexity(Thresholds(), card) == 500.0  # 2.5 x p10
    assert resolve_max_perplexity(Thresholds(perplexity_basis_percentile=25, perplexity_margin=2.0), card) == 500.0
    assert resolve_max_perplexity(Thresholds(), {"heldout_perplexity": {"p50": 300.0}}) == 600.0  # an older card: 2 x median
    # a bootstrapped card with held-out documents: their percentile, not the lines' (a document averages its lines)
    assert resolve_max_perplexity(Thresholds(), {**card, "heldout_document_perplexity": {"p10": 240.0, "p50": 290.0}}) == 600.0
    assert resolve_max_perplexity(Thresholds(), {"heldout_perplexity": {"p10": float("nan"), "p50": float("nan")}}) is None
    assert resolve_max_perplexity(Thresholds(), None) is None
    assert resolve_max_perplexity(Thresholds(max_perplexity=123.0), card) == 123.0
    assert resolve_max_perplexity(Thresholds(max_perplexity=None), card) is None


def test_auto_perplexity_follows_a_wide_lower_spread():
    """Han text's held-out perplexities spread widely at the bottom (the bench's Chinese card: p10 95.5, p25 186.9, real
    pages up to 441): 2.5 x p10 fell below the median. A narrow lower quarter (Thai: good pages close together,
    junk above) keeps 2.5 x p10. Figures of the bench's cards, written here."""
    chinese = {"heldout_document_perplexity": {"p10": 95.5, "p25": 186.9, "p50": 242.8}}
    assert abs(resolve_max_perplexity(Thresholds(), chinese) - (186.9 + 3 * (186.9 - 95.5))) < 1e-9
    assert abs(resolve_max_perplexity(Thresholds(perplexity_spread_factor=None), chinese) - 2.5 * 95.5) < 1e-9
    narrow = {"heldout_document_perplexity": {"p10": 15.0, "p25": 18.0, "p50": 46.0}}
    assert resolve_max_perplexity(Thresholds(), narrow) == 2.5 * 15.0


def test_zero_width_joiners_stay_inside_words():
    assert words("می‌خواهم بروم", "Arab") == ["می\u200cخواهم", "بروم"]


def test_malformed_url_does_not_break_templated_signal():
    from longtail.filters.templated import domain_shares

    assert len(domain_shares(["a\nb", "c"], ["http://[broken", None])) == 2


# --- drop reasons: one list (longtail/reasons.py), used by filters, stats and docs ---------------------------------

_REASON_RE = r"^(extract|lid|url|quality|dedup):[a-z_]+$"


def _package_sources():
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    for path in sorted(root.glob("*.py")) + sorted(p for pkg in ("pipeline", "stages", "filters", "langid") for p in (root / pkg).rglob("*.py")):
        yield path.relative_to(root).as_posix(), path.read_text(encoding="utf-8")


def test_every_filter_reason_is_listed_in_judging_order():
    from longtail.reasons import DOCUMENT_REASONS

    assert len(set(DOCUMENT_REASONS)) == len(DOCUMENT_REASONS)
    filter_reasons = [f.reason for f in DEFAULT_FILTERS]
    assert set(filter_reasons) <= set(DOCUMENT_REASONS)
    assert filter_reasons == sorted(filter_reasons, key=DOCUMENT_REASONS.index)  # same order as the filters run


def test_every_reason_string_in_the_code_is_listed():
    """Any literal that looks like a drop reason, in any module of the package, is one of DOCUMENT_REASONS; the
    reader's counted rejections are RECORD_SKIPS."""
    import ast
    import re

    from longtail.reasons import DOCUMENT_REASONS, RECORD_SKIPS

    found, skips = {}, set()
    for name, source in _package_sources():
        for node in ast.walk(ast.parse(source, name)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.match(_REASON_RE, node.value):
                found.setdefault(node.value, name)
            if name == "stages/read.py" and isinstance(node, ast.Call):
                func = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                position = {"RecordRejected": 0, "error": 2}.get(func)
                if position is not None and len(node.args) > position and isinstance(node.args[position], ast.Constant):
                    skips.add(node.args[position].value)
    assert {r: where for r, where in found.items() if r not in DOCUMENT_REASONS} == {}
    assert skips and skips <= set(RECORD_SKIPS), skips - set(RECORD_SKIPS)


def test_stats_have_a_column_for_every_reason(tmp_path):
    from longtail.pipeline.stats import write_stats
    from longtail.reasons import DOCUMENT_REASONS

    write_stats(tmp_path, [], {}, [], {})
    header = (tmp_path / "languages.csv").read_text().splitlines()[0].split(",")
    assert [c[len("dropped:"):] for c in header if c.startswith("dropped:")] == sorted(DOCUMENT_REASONS)


def test_stats_csv_says_which_classifier_threshold_judged_each_language(tmp_path):
    """A spreadsheet of the languages shows a language given its own threshold, not only the JSON."""
    import csv

    from longtail.pipeline.stats import write_stats

    def language(label, classifier):
        return {"lang_script": label, "documents": 5, "dropped": {}, "kenlm": {"source": "bootstrap"}, "classifier": classifier}

    write_stats(tmp_path, [language("spa_Latn", {"rule": "bootstrap:language", "min_quality_score": 0.0}),
                           language("eng_Latn", {"rule": "bootstrap", "min_quality_score": 0.12}),
                           language("yor_Latn", {"rule": "bootstrap:too_little_text", "min_quality_score": None})], {}, [], {})
    rows = {r["lang_script"]: r for r in csv.DictReader((tmp_path / "languages.csv").open(encoding="utf-8"))}
    assert {label: (r["kenlm_source"], r["classifier_rule"], r["min_quality_score"]) for label, r in rows.items()} == {
        "spa_Latn": ("bootstrap", "bootstrap:language", "0.0"), "eng_Latn": ("bootstrap", "bootstrap", "0.12"),
        "yor_Latn": ("bootstrap", "bootstrap:too_little_text", "")}


def test_contracts_doc_lists_the_same_reasons():
    import pathlib
    import re

    from longtail.reasons import DOCUMENT_REASONS, RECORD_SKIPS

    text = (pathlib.Path(__file__).resolve().parents[2] / "docs" / "contracts.md").read_text(encoding="utf-8")
    section = text.split("## Drop and skip reasons", 1)[1].split("\n## ", 1)[0]
    skipped, documents = section.split("Document drop reasons", 1)
    named = [t for t in re.findall(r"`([^`]+)`", documents) if re.match(_REASON_RE, t)]
    assert list(dict.fromkeys(named)) == list(DOCUMENT_REASONS)  # same set, same order
    skip_part = skipped.split("(counted, not documents)", 1)[1]
    assert [t for t in re.findall(r"`([^`]+)`", skip_part) if re.match(r"^[a-z_0-9]+$", t)] == list(RECORD_SKIPS)

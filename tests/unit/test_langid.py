"""Label normalisation, script detection and document-level identification (real fastText and heliport)."""

import pycountry
import pytest

from longtail.langid.backends import FastTextLid, HeliportLid, Prediction
from longtail.langid.document import identify_documents, split_chunks
from longtail.langid.labels import (
    apply_macro_policy,
    canonical_language,
    is_safe_label,
    is_valid_script,
    to_bcp47,
)
from longtail.langid.scripts import script_profile


@pytest.mark.parametrize(
    "label, macro, individual",
    [
        ("__label__yo", "yor", "yor"),
        ("__label__sw", "swa", "swa"),
        ("swh", "swa", "swh"),
        ("npi", "nep", "npi"),
        ("pes_Arab", "fas", "pes"),
        ("zsm_Latn", "msa", "zsm"),
        ("arb", "ara", "arb"),
        ("__label__als", "gsw", "gsw"),  # lid.176's `als` is Alemannic, not Tosk Albanian
        ("__label__sh", "hbs", "hbs"),
        ("srp", "srp", "srp"),  # bos/hrv/srp stay apart even under the macro policy
        ("__label__qq", "und", "und"),
        ("garbage label", "und", "und"),
    ],
)
def test_canonical_language(label, macro, individual):
    assert canonical_language(label, "macro") == macro
    assert canonical_language(label, "individual") == individual


def test_every_lid176_label_maps_to_a_valid_code():
    backend = FastTextLid()
    backend.setup()
    for raw in backend._model.get_labels():
        lang = canonical_language(raw)
        assert lang == "und" or pycountry.languages.get(alpha_3=lang) is not None, raw


def test_macro_policy_rejects_unknown_policy():
    with pytest.raises(ValueError):
        apply_macro_policy("swh", "merge-everything")


def test_bcp47_and_safe_labels():
    assert to_bcp47("yor_Latn") == "yo-Latn"
    assert to_bcp47("uig_Arab") == "ug-Arab"
    assert to_bcp47("kpv_Cyrl") == "kpv-Cyrl"
    assert is_safe_label("yor_Latn")
    for bad in ("../etc", "yor_latn", "yor_Latn/..", "", "yor"):
        assert not is_safe_label(bad)
    assert is_valid_script("Ethi") and not is_valid_script("Xxxq")


@pytest.mark.parametrize(
    "text, script",
    [
        ("Ẹ kú àárọ̀, ẹ jọ̀ọ́ ẹ jókòó", "Latn"),
        ("Сегодня на рынке много людей", "Cyrl"),
        ("ئۈرۈمچىدە ھاۋا ئوچۇق", "Arab"),
        ("आज बाज़ार में बहुत भीड़ है", "Deva"),
        ("ዛሬ ገበያው ብዙ ሰው አለው", "Ethi"),
        ("ມື້ນີ້ຕະຫຼາດມີຄົນຫຼາຍ", "Laoo"),
        ("ថ្ងៃនេះផ្សារមានមនុស្សច្រើន", "Khmr"),
        ("დღეს ბაზარში ბევრი ხალხია", "Geor"),
        ("今日は市場に人がたくさんいます", "Jpan"),
        ("12345 !!! ...", "Zyyy"),
    ],
)
def test_script_from_characters(text, script):
    assert script_profile(text).script == script


def test_mixed_script_flag():
    profile = script_profile("Сегодня на рынке много людей and the market is very busy today")
    assert profile.mixed
    assert not script_profile("Сегодня на рынке много людей").mixed


def test_split_chunks_merges_short_lines():
    text = "Short.\nAlso short.\n" + "A much longer line of text that goes on and on and on. " * 3 + "\nTail."
    chunks = split_chunks(text, min_chars=60)
    assert all(len(c) >= 30 for c in chunks)
    assert " ".join(chunks).split() == text.split()


class FixedBackend:
    """Hand-made backend: answers by a keyword, to test aggregation independently of any model."""

    name = "fixed"

    def setup(self):
        pass

    def predict(self, texts):
        return [Prediction("eng", 0.9, "en") if "English" in t else Prediction("yor", 0.6, "yo") for t in texts]


def test_document_language_is_the_content_majority():
    yoruba = "Ọjà Ọ̀yọ́ kún fún àwọn èèyàn lónìí, wọ́n ń ra iṣu àti ẹja tuntun láti oko. " * 4
    english = "English boilerplate: accept cookies to continue reading this page today."
    result = identify_documents([yoruba + "\n" + english + " " + english], FixedBackend())[0]
    assert result.lang == "yor" and result.script == "Latn" and result.label == "yor_Latn"
    assert 0.5 < result.share < 1.0
    assert result.other_langs == ["eng"]
    assert result.score == pytest.approx(0.6)


def test_romanised_text_gets_latin_script():
    result = identify_documents(["Aaj mausam bahut accha hai aur hum bazaar ja rahe hain, wahan bahut bheed hai."], FixedBackend())[0]
    assert result.script == "Latn"


def test_fasttext_backend_real_model():
    backend = FastTextLid()
    preds = backend.predict(["Сегодня хорошая погода, и мы идём гулять в парк с детьми.", "", "The weather is lovely today and we are going to the park."])
    assert preds[0].lang == "rus" and preds[0].score > 0.8
    assert preds[1].lang == "zxx"
    assert preds[2].lang == "eng"


def test_heliport_backend_real_model():
    backend = HeliportLid()
    preds = backend.predict(["Habari za asubuhi, leo tunaenda sokoni kununua samaki na ndizi.", "Ẹ kú àárọ̀, a ń lọ sí ọjà láti ra iṣu àti ẹja lónìí."])
    assert [p.lang for p in preds] == ["swa", "yor"]
    assert all(0.0 <= p.score <= 1.0 for p in preds)


def test_missing_model_path_is_a_clear_error(tmp_path):
    from longtail.langid.backends import BackendNotAvailable

    with pytest.raises(BackendNotAvailable, match="not found"):
        FastTextLid(tmp_path / "nope.bin").setup()


def test_wikipedia_codes_only_apply_to_bare_labels():
    assert canonical_language("__label__als") == "gsw"  # lid.176: Alemannic Wikipedia
    assert canonical_language("__label__als_Latn") == "sqi"  # GlotLID/OpenLID: Tosk Albanian (macro: Albanian)


def test_letters_count_combining_marks():
    from longtail.langid.document import _letters

    assert _letters("हिन्दी") == 6 and _letters("abc 12!") == 3

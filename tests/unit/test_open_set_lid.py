"""Issue 13: open-set LID (per-label calibration), und for rare scripts, the lid:outlier finalize stage."""

from __future__ import annotations

import pyarrow as pa
import pytest

from longtail.langid.calibration import Calibration
from longtail.langid.labels import canonical_language

# a few words in each script, written for this test (not copied from any corpus)
RARE_SCRIPT_TEXT = {
    "Cakm": "𑄌𑄋𑄴𑄟𑄳𑄦 𑄃𑄧𑄏𑄮𑄖𑄴 𑄟𑄚𑄬𑄭 𑄉𑄮𑄢𑄴𑄬 𑄥𑄧𑄁𑄥𑄢𑄴 𑄃𑄬𑄇𑄴",
    "Lana": "ᨣᩤᩴᨾᩮᩬᩥᨦ ᨻᩣᩈᩣ ᩃᩣ᩠ᨶᨶᩣ ᨠᩴ᩵ᨾᩱ᩠ᨿ ᨴᩦ᩶ᨶᩦ᩶ ᨾᩦᨣ᩠ᨶ",
    "Tavt": "ꪁꪮꪣ ꪼꪕ ꪀꪱꪙ ꪻꪊ ꪎꪷ ꪋꪴꪙ ꪹꪣꪉ ꪎꪱꪉ",
    "Vaii": "ꕙꔤ ꕢꕌ ꔳ ꕉ ꕮꔕ ꔒꕢ ꗏꕎ ꕉ ꔌꔳ ꖷ ꗬ ꘋ",
    "Yiii": "ꆈꌠꁱꂷ ꀉꂿ ꌠ ꆏꃅ ꑭ ꐯ ꌐ ꀋ ꉌ ꈌ ꌠ ꃅꂿ",
}


@pytest.mark.parametrize("backend", ["heliport", "fasttext", "ensemble"])
def test_rare_script_text_is_und_never_zxx(backend):
    from longtail.langid.ensemble import make_identifier

    identifier = make_identifier(backend)
    texts = [" ".join([t] * 4) for t in RARE_SCRIPT_TEXT.values()]
    for (script, _), result in zip(RARE_SCRIPT_TEXT.items(), identifier.identify(texts)):
        assert result.script == script
        assert result.lang == "und", (backend, script, result)


def test_zxx_chunk_with_letters_becomes_und_and_no_letters_stay_zxx():
    from longtail.langid.backends import Prediction
    from longtail.langid.document import identify_documents

    class SaysZxx:
        name = "zxx"

        def predict(self, texts):
            return [Prediction("zxx", 1.0, "") for _ in texts]

    letters, symbols = identify_documents([RARE_SCRIPT_TEXT["Yiii"], "12 34 -- 56 %%"], SaysZxx())
    assert (letters.lang, letters.script) == ("und", "Yiii")
    assert symbols.lang == "zxx"


def test_retired_and_macro_codes():
    assert canonical_language("ory") == "ori"
    assert canonical_language("ory", "individual") == "ory"
    assert canonical_language("ajp") == "ara"


def test_calibration_floors_are_per_label():
    examples = [("b", "aaa_Latn", s, 3.0 + f) for s, f in [(0.9, 0.0), (0.95, 0.1), (0.92, 0.05), (0.97, 0.02), (0.91, 0.08)]]
    examples += [("b", "bbb_Latn", s, 4.0 + f) for s, f in [(0.3, 0.0), (0.35, 0.1), (0.32, 0.05), (0.37, 0.02), (0.31, 0.08)]]
    calibration = Calibration.build(examples, quantile=0.05, min_examples=4)
    assert calibration.admits("b", "bbb_Latn", 0.33, 4.05)
    assert not calibration.admits("b", "aaa_Latn", 0.33, 3.05)  # fine for bbb, far too unsure for aaa
    assert not calibration.admits("b", "aaa_Latn", 0.95, 4.5)  # sure, but the text does not fit aaa's model
    assert calibration.admits("other", "aaa_Latn", 0.01, None)  # a backend without a table is not judged
    assert "*" in calibration.limits["b"]


def test_tightened_ceiling_refuses_a_loose_fit_only_for_the_named_languages(tmp_path):
    examples = [("b", label, 0.9, base + f) for label, base in (("aaa_Latn", 3.0), ("bbb_Latn", 3.0))
                for f in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)]
    calibration = Calibration.build(examples, quantile=0.05, min_examples=4)
    loose_fit = calibration.limits["b"]["aaa_Latn"]["fit_ceiling"] - 0.01
    assert calibration.admits("b", "aaa_Latn", 0.9, loose_fit)
    calibration.tighten_fit_ceilings({"aaa"}, 0.5, why="a relative")
    assert not calibration.admits("b", "aaa_Latn", 0.9, loose_fit)  # the relative's looser fit is refused now
    assert calibration.admits("b", "aaa_Latn", 0.9, 3.2)  # the language's own typical text still passes
    assert calibration.admits("b", "bbb_Latn", 0.9, loose_fit)  # other languages keep their ceiling
    calibration.save(tmp_path / "c.json")
    assert Calibration.load(tmp_path / "c.json").settings["tightened"]["langs"] == ["aaa"]


def test_a_tightened_ceiling_still_admits_the_languages_own_web_pages():
    examples = [("b", "aaa_Latn", 0.9, 3.0 + f) for f in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)]
    untouched = Calibration.build(examples, quantile=0.05, min_examples=4)
    loose_fit = untouched.limits["b"]["aaa_Latn"]["fit_ceiling"] - 0.01
    own_page_fit = loose_fit + 0.001  # the web pages' 95% quantile: the ceiling that keeps them
    few, many = ([own_page_fit] * n for n in (11, 12))
    for pages, admitted in ((few, False), (many, True)):
        calibration = Calibration.build(examples, quantile=0.05, min_examples=4)
        calibration.tighten_fit_ceilings({"aaa"}, 0.5, page_fits={"b": {"aaa_Latn": pages}}, min_pages=12)
        assert calibration.admits("b", "aaa_Latn", 0.9, loose_fit) is admitted  # 12 web pages that fit so are its own
        assert calibration.limits["b"]["aaa_Latn"]["fit_ceiling"] <= untouched.limits["b"]["aaa_Latn"]["fit_ceiling"]


def test_shipped_calibration_loads():
    calibration = Calibration.load()
    assert {"heliport", "fasttext"} <= set(calibration.limits)


def test_lid_outlier_stage_drops_a_page_unlike_the_core():
    from longtail.reasons import DOCUMENT_REASONS, LID_OUTLIER
    from longtail.stages.lid_outlier import LidOutlierStage

    assert LID_OUTLIER in DOCUMENT_REASONS
    words = "the market opens early and the farmers bring maize beans and fresh milk to town every day".split()
    core = [" ".join(words[i:] + words[:i]) * 3 for i in range(len(words))] * 2
    odd = "Ọlọ́run sì wí pé, jẹ́ kí ìmọ́lẹ̀ kí ó wà, ìmọ́lẹ̀ sì wà ní ayé gbogbo lónìí"
    texts = core + [odd]
    table = pa.table({"text": texts, "lang_score": [0.9] * len(texts), "drop_reason": pa.array([None] * len(texts), pa.string())})
    stage = LidOutlierStage(min_core=10)
    out = stage(table)
    reasons = out.column("drop_reason").to_pylist()
    assert reasons[-1] == LID_OUTLIER
    assert reasons[:-1].count(LID_OUTLIER) == 0
    assert stage.info["contamination"] == pytest.approx(1 / len(texts), abs=1e-3)


def test_lid_outlier_stage_finds_a_relative_by_its_function_words():
    """Two made-up relatives with the same content words and letters, differing only in their function words (as
    Dutch and Afrikaans do): the relative's page is dropped, none of the split's own pages are."""
    import random

    from longtail.reasons import LID_OUTLIER
    from longtail.stages.lid_outlier import LidOutlierStage

    syllables = "ba de ki lo mu ra se to".split()
    content = [a + b + c for a in syllables for b in syllables for c in syllables][:300]  # made-up content words
    rng = random.Random(7)

    def page(function_words: list[str]) -> str:
        sentences = []
        for _ in range(12):
            words = [rng.choice(content if k % 2 else function_words) for k in range(10)]
            sentences.append(" ".join(words).capitalize() + ".")
        return " ".join(sentences)

    own = [page("de het een niet van en is op".split()) for _ in range(40)]
    relative = page("die nie n van en is op ons".split())
    texts = own + [relative]
    table = pa.table({"text": texts, "lang_score": [0.9] * len(texts), "drop_reason": pa.array([None] * len(texts), pa.string())})
    stage = LidOutlierStage(script="Latn")
    reasons = stage(table).column("drop_reason").to_pylist()
    assert reasons[-1] == LID_OUTLIER
    assert reasons[:-1].count(LID_OUTLIER) == 0


def test_lid_outlier_stage_keeps_a_split_whose_core_scores_alike():
    """Every core page 1.0 (a small vocabulary): a MAD of 0 must not turn the median into the floor."""
    from longtail.stages.lid_outlier import LidOutlierStage

    stage = LidOutlierStage(min_core=10)
    live = list(range(40))
    scores = [1.0] * 30 + [0.97] * 9 + [0.2]
    _, outliers = stage.judge(live, stage.core(live, [0.9] * 30 + [0.5] * 10), scores)
    assert outliers.tolist() == [39]


def test_lid_outlier_counts_copies_of_a_page_once():
    """A split of a few pages in many copies (several formats of one crawl, before dedup): the copies do not make
    their words "common" and the other pages outliers; with too few distinct core pages nothing is judged."""
    from longtail.stages.lid_outlier import LidOutlierStage

    stories = ["the ferry across the river runs again after three weeks of repairs to its engine",
               "tomato prices fell at the central market as the first harvest arrived from the hills",
               "the school garden won the regional prize for its vegetables and its pond"]
    others = ["the town library will offer free evening classes in reading and writing for adults",
              "the football club invited families to watch the training and meet the players"]
    texts = stories * 10 + others
    table = pa.table({"text": texts, "lang_score": [0.9] * 30 + [0.5] * 2, "drop_reason": pa.array([None] * len(texts), pa.string())})
    stage = LidOutlierStage(min_core=10)
    assert stage(table).column("drop_reason").to_pylist() == [None] * len(texts)
    assert stage.info["judged"] is False and stage.info["contamination"] is None


def test_lid_outlier_reference_rows_are_bounded_and_spread():
    from longtail.stages.lid_outlier import MAX_REFERENCE_PAGES, reference_rows

    assert reference_rows([5, 1, 3]).tolist() == [1, 3, 5]
    many = reference_rows(list(range(2_500, 0, -1)))
    assert len(many) <= MAX_REFERENCE_PAGES and many[0] == 1 and many[-1] > 2_000  # every k-th, in row order


def test_lid_outlier_core_and_floor_in_numpy_equal_the_list_rule():
    """The core (highest LID scores first, ties in row order) and the floor (median - k x MAD of the core) are
    computed on arrays, for languages of millions of pages; the reference is the per-row rule they replaced."""
    import random

    from longtail.stages.lid_outlier import MIN_SPREAD, LidOutlierStage

    def median(values):
        values = sorted(values)
        mid = len(values) // 2
        return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2

    rng = random.Random(4)
    for size in (25, 26, 401):
        scores = [rng.choice([0.5, 0.75, 0.9, 1.0, None]) for _ in range(size)]  # many ties
        live = sorted(rng.sample(range(size), k=size * 3 // 4))
        similarities = [round(rng.random(), 3) for _ in live]
        stage = LidOutlierStage(min_core=10)
        core = stage.core(live, [0.0 if s is None else s for s in scores])
        reference = sorted(live, key=lambda i: -(scores[i] or 0.0))[: max(10, int(len(live) * stage.core_share))]
        assert core.tolist() == reference
        floor, outliers = stage.judge(live, core, similarities)
        position = {row: n for n, row in enumerate(live)}
        core_values = [similarities[position[i]] for i in reference]
        middle = median(core_values)
        expected = middle - stage.max_deviations * max(1.4826 * median([abs(v - middle) for v in core_values]), MIN_SPREAD)
        assert floor == expected and outliers.tolist() == [row for row, value in zip(live, similarities) if value < expected]
        assert stage.info["core_median"] == round(middle, 4) and stage.info["outliers"] == len(outliers)


def test_lid_outlier_stage_does_not_judge_a_small_split():
    from longtail.stages.lid_outlier import LidOutlierStage

    table = pa.table({"text": ["a b c"] * 5, "lang_score": [0.9] * 5, "drop_reason": pa.array([None] * 5, pa.string())})
    stage = LidOutlierStage()
    out = stage(table)
    assert out.column("drop_reason").to_pylist() == [None] * 5
    assert stage.info["contamination"] is None


def test_calibration_turns_an_answer_less_sure_than_its_label_into_und():
    """Nepali that lid.176 calls Hindi: sure enough for the bare ensemble's veto (0.5), not for lid.176's Hindi."""
    import json
    from pathlib import Path

    from longtail.langid.ensemble import DISAGREED, SINGLE, VETO_SCORE, make_identifier

    dev = Path(__file__).parents[2] / "data" / "lid_dev" / "dev.jsonl"
    nepali = next(json.loads(line)["text"] for line in dev.read_text(encoding="utf-8").splitlines() if '"npi_Deva-6"' in line)
    calibrated, bare = make_identifier("ensemble"), make_identifier("ensemble", open_set=False)
    calibrated.setup()
    heliport, fasttext = (results[0] for results in calibrated.identify_members([nepali]))
    assert (heliport.label, fasttext.label) == ("nep_Deva", "hin_Deva")
    hindi_floor = calibrated.calibration.limits_for("fasttext", "hin_Deva")["score_floor"]
    assert VETO_SCORE <= fasttext.score < hindi_floor  # the rule alone would let it veto; Hindi text scores higher
    assert calibrated.calibration.admits("heliport", "nep_Deva", heliport.score, heliport.fit)

    without = bare.identify([nepali])[0]
    assert (without.label, without.agreement, without.votes) == ("nep_Deva", DISAGREED, ("heliport:nep", "fasttext:hin"))
    result = calibrated.identify([nepali])[0]
    # lid.176's Hindi is its und; heliport's Nepali stands alone and is sure enough to be assigned
    assert (result.label, result.agreement, result.votes) == ("nep_Deva", SINGLE, ("heliport:nep", "fasttext:und"))


def test_single_answer_that_only_names_the_script_is_und():
    """Ojibwe syllabics: heliport knows one language in Canadian syllabics (Inuktitut), lid.176 none. Without a
    calibration entry of its own, heliport's sure answer says "syllabics", not "Inuktitut": und."""
    from longtail.langid.document import DocumentLanguage
    from longtail.langid.ensemble import SINGLE, make_identifier

    identifier = make_identifier("ensemble")
    identifier.setup()
    heliport = DocumentLanguage("iku", "Cans", 0.97, 1.0, 1.0, False, fit=3.1)
    fasttext = DocumentLanguage("und", "Cans", 0.0, 1.0, 1.0, False)
    limits = {"*": {"n": 100, "score_floor": 0.3, "fit_ceiling": 5.0}}
    identifier.calibration = Calibration({"heliport": dict(limits), "fasttext": dict(limits)})
    result = identifier._combine(heliport, fasttext)
    assert (result.lang, result.agreement) == ("und", SINGLE)
    # measured on Inuktitut text: the answer is evidence of the language and stands
    identifier.calibration.limits["heliport"]["iku_Cans"] = {"n": 30, "score_floor": 0.9, "fit_ceiling": 3.5}
    assert identifier._combine(heliport, fasttext).lang == "iku"
    # the bare rules (no open set) are unchanged
    bare = make_identifier("ensemble", open_set=False)
    bare.setup()
    assert bare._combine(heliport, fasttext).lang == "iku"


def test_a_trusted_label_is_assigned_without_calibration_of_its_own(tmp_path):
    """A team that knows its crawl holds Inuktitut says so (stages.identify.trusted_labels): heliport's sure
    Inuktitut answer stands although nothing calibrated iku_Cans; other labels keep the rule."""
    from longtail.langid.document import DocumentLanguage
    from longtail.langid.ensemble import make_identifier
    from longtail.pipeline.manifest import ManifestError, parse_manifest

    limits = {"*": {"n": 100, "score_floor": 0.3, "fit_ceiling": 5.0}}
    heliport = DocumentLanguage("iku", "Cans", 0.97, 1.0, 1.0, False, fit=3.1)
    fasttext = DocumentLanguage("und", "Cans", 0.0, 1.0, 1.0, False)
    trusting = make_identifier("ensemble", trusted_labels=("iku_Cans",))
    trusting.setup()
    trusting.calibration = Calibration({"heliport": dict(limits), "fasttext": dict(limits)})
    assert trusting._combine(heliport, fasttext).lang == "iku"
    other = make_identifier("ensemble", trusted_labels=("sat_Olck",))
    other.setup()
    other.calibration = Calibration({"heliport": dict(limits), "fasttext": dict(limits)})
    assert other._combine(heliport, fasttext).lang == "und"

    base = {"name": "t", "inputs": ["x.warc"], "output": "o"}
    manifest = parse_manifest({**base, "stages": {"identify": {"trusted_labels": ["iku_Cans"]}}}, tmp_path)
    assert manifest.identify.trusted_labels == ("iku_Cans",)
    assert parse_manifest(base, tmp_path).identify.trusted_labels == ()
    with pytest.raises(ManifestError, match="stages.identify.trusted_labels"):
        parse_manifest({**base, "stages": {"identify": {"trusted_labels": "iku"}}}, tmp_path)


def test_labels_a_backend_was_tried_on_and_missed_are_listed_and_saved(tmp_path):
    attempts = {"uzb_Latn": (36, 0), "uzb_Cyrl": (36, 30), "vep_Latn": (3, 0), "som_Latn": (36, 4), "scn_Latn": (18, 2)}
    missed = Calibration.missed_labels(attempts, min_examples=4, min_tried=12)
    # named in fewer than 4 of at least 12 tries; 3 tries are too few to say (vep), 4 right answers are enough (som)
    assert missed == ["scn_Latn", "uzb_Latn"]
    table = Calibration({"heliport": {"*": {"n": 10, "score_floor": 0.3}}}, {}, {"heliport": missed})
    table.save(tmp_path / "c.json")
    loaded = Calibration.load(tmp_path / "c.json")
    assert not loaded.recognises("heliport", "uzb_Latn")
    assert loaded.recognises("heliport", "uzb_Cyrl") and loaded.recognises("fasttext", "uzb_Latn")


def test_a_member_that_misses_a_label_neither_vouches_nor_vetoes():
    """heliport lists Uzbek but answers und on Latin-script Uzbek: its silence must not block lid.176's sure Uzbek.
    lid.176 lists Bavarian and never names it: its German must not veto heliport's Bavarian."""
    from longtail.langid.document import DocumentLanguage
    from longtail.langid.ensemble import DISAGREED, SINGLE, make_identifier

    limits = {"*": {"n": 100, "score_floor": 0.3, "fit_ceiling": 5.0}}
    identifier = make_identifier("ensemble")
    identifier.setup()
    identifier.calibration = Calibration({"heliport": dict(limits), "fasttext": dict(limits)})
    silent = DocumentLanguage("und", "Latn", 0.05, 1.0, 1.0, False, fit=6.2)
    uzbek = DocumentLanguage("uzb", "Latn", 0.9, 1.0, 1.0, False)
    bavarian = DocumentLanguage("bar", "Latn", 0.8, 1.0, 1.0, False, fit=3.5)
    german = DocumentLanguage("deu", "Latn", 0.6, 1.0, 1.0, False)
    assert identifier._combine(silent, uzbek).lang == "und"  # heliport knows Uzbek: its abstention counts
    assert identifier._combine(bavarian, german).agreement == DISAGREED
    identifier.calibration.unrecognised = {"heliport": ["uzb_Latn"], "fasttext": ["bar_Latn"]}
    assert (identifier._combine(silent, uzbek).lang, identifier._combine(silent, uzbek).agreement) == ("uzb", SINGLE)
    assert (identifier._combine(bavarian, german).lang, identifier._combine(bavarian, german).agreement) == ("bar", SINGLE)
    # a script it was not measured in keeps the veto: Cyrillic Uzbek is still heliport's to judge
    assert identifier._combine(replace_script(silent, "Cyrl"), replace_script(uzbek, "Cyrl")).lang == "und"


def replace_script(result, script):
    from dataclasses import replace

    return replace(result, script=script)


def test_the_shipped_table_lists_what_the_bench_measured_missed():
    calibration = Calibration.load()
    assert calibration.unrecognised, "bench/lid_calibrate.py writes the labels each backend misses"
    for backend, labels in calibration.unrecognised.items():
        assert all(label not in calibration.limits[backend] for label in labels)  # missed labels have no entry


def test_the_shipped_table_demands_a_closer_fit_where_a_historical_relative_is_unknown():
    calibration = Calibration.load()
    tightened = calibration.settings["tightened"]
    assert {"tur", "hye", "fra", "eng"} <= set(tightened["langs"]) and 0 < tightened["factor"] < 1
    assert "pages/" in calibration.settings["source"]  # limits learned on real web pages too, not only Bible/treebank text

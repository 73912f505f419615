"""The HTML report opens with an overview (languages, documents, words, drops by reason, estimated contamination,
plots) before the long per-language tables; the run-level lid:outlier figure in stats/lid_contamination.json.
Stats dicts are built here (no Ray, no run): a folder with stats/ only, as a run of 130 languages would have."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict

import pytest

from longtail.pipeline.release.report import build_report
from longtail.pipeline.stats import judged_pages, lid_contamination_summary, write_stats
from longtail.reasons import DEDUP_EXACT, LID_OUTLIER, QUALITY_TOO_SHORT
from longtail.tests.support import report_fact, report_overview

N_LANGUAGES = 130


def _language(n: int) -> dict:
    """Split n: documents fall with n; every 10th split is too small for lid:outlier to judge (null)."""
    label = f"{chr(97 + n // 26 % 26)}{chr(97 + n % 26)}x_Latn"
    small = n % 10 == 9
    documents = 5 if small else 1000 - 7 * n
    outliers = 0 if small else n % 7
    dedup = n % 5
    live = documents + outliers + dedup
    dropped = {QUALITY_TOO_SHORT: 3 + n % 4, DEDUP_EXACT: dedup}
    if outliers:
        dropped[LID_OUTLIER] = outliers
    return {
        "lang_script": label,
        "documents": documents,
        "words": 150 * documents + n,
        "dropped": dropped,
        "lid_contamination": None if small else round(outliers / live, 4),
        "lid_outlier": {"judged": not small, "live": live, "outliers": outliers, "contamination": None if small else round(outliers / live, 4)},
    }


@pytest.fixture
def languages() -> list[dict]:
    return [_language(n) for n in range(N_LANGUAGES)]


@pytest.fixture
def stats_folder(tmp_path, languages):
    write_stats(tmp_path / "stats", languages, {"response": 9999}, [], {"manifest": {}})
    return tmp_path


def test_run_level_contamination_is_outliers_over_judged_pages(languages):
    summary = lid_contamination_summary(languages)
    judged = [s for s in languages if s["lid_contamination"] is not None]
    assert summary["splits_judged"] == len(judged) == 117 and summary["splits_not_judged"] == 13
    assert summary["pages_judged"] == sum(s["lid_outlier"]["live"] for s in judged)
    assert summary["outliers"] == sum(s["dropped"].get(LID_OUTLIER, 0) for s in judged) > 0
    assert summary["contamination"] == pytest.approx(summary["outliers"] / summary["pages_judged"], abs=1e-4)
    assert summary["lower_bound"] is True and summary["pages_not_judged"] == 13 * 5 + sum(n % 5 for n in range(9, 130, 10))


def test_judged_pages_without_the_stage_record_is_kept_plus_outliers_plus_dedup(languages):
    """Runs written before languages.json carried ``lid_outlier``: the same count from kept and dropped pages."""
    for stats in languages:
        older = {k: v for k, v in stats.items() if k != "lid_outlier"}
        assert judged_pages(older) == stats["lid_outlier"]["live"]


def test_write_stats_writes_the_run_level_figure(stats_folder, languages):
    written = json.loads((stats_folder / "stats" / "lid_contamination.json").read_text())
    assert written == lid_contamination_summary(languages)


def test_overview_comes_first_with_the_counts_of_languages_json(stats_folder):
    page = build_report(stats_folder)
    stats = json.loads((stats_folder / "stats" / "languages.json").read_text())
    overview_at = page.index('<section id="overview">')
    first_table = page.index("<h2>Languages</h2>")
    assert overview_at < first_table
    assert page.index("<table><thead><tr><th>lang_script</th>") > overview_at  # the long per-language table
    # a plot precedes the first long table, and both overview plots sit inside the overview
    assert re.search(r"<(img|svg)\b", page[:first_table])
    assert report_overview(page).count('<img alt="') == 2
    assert report_fact(page, "languages").startswith(f"{len([s for s in stats if s['documents']]):,} ")
    assert report_fact(page, "documents") == f"{sum(s['documents'] for s in stats):,}"
    assert report_fact(page, "words") == f"{sum(s['words'] for s in stats):,}"
    drops = Counter()
    for s in stats:
        drops.update(s["dropped"])
    assert report_fact(page, "removed") == f"{sum(drops.values()):,}"
    reasons = dict(re.findall(r'<tr data-reason="([^"]+)"><td>[^<]*</td><td>([^<]*)</td>', report_overview(page)))
    assert reasons == {r: f"{n:,}" for r, n in drops.items() if n}


def test_overview_states_the_contamination_figure_as_a_lower_bound(stats_folder):
    page = build_report(stats_folder)
    summary = json.loads((stats_folder / "stats" / "lid_contamination.json").read_text())
    fact = report_fact(page, "contamination")
    assert fact.startswith(f"{100 * summary['contamination']:.1f}% (")
    assert f"{summary['outliers']:,} of {summary['pages_judged']:,} pages" in fact
    assert "117 splits judged" in fact and "13 splits" in fact
    assert "lower bound" in report_overview(page) and "misses relatives" in report_overview(page)


def test_per_language_table_has_a_contamination_column(stats_folder, languages):
    (stats_folder / "stats" / "contamination.json").write_text(json.dumps({languages[0]["lang_script"]: {"wrong_language_rate": 0.125}}))
    page = build_report(stats_folder)
    table = page[page.index("<h2>Languages</h2>") :]
    assert "<th>est. contamination</th>" in table
    rows = {m.group(1): m.group(0) for m in re.finditer(r"<tr><td>([a-z]{2}x_Latn)</td>.*?</tr>", table)}
    assert len(rows) == N_LANGUAGES
    assert "<td>audited 12.5%; lid:outlier 0.0%</td>" in rows[languages[0]["lang_script"]]
    assert "<td>not judged</td>" in rows[languages[9]["lang_script"]]
    assert f"<td>lid:outlier {100 * languages[3]['lid_contamination']:.1f}%</td>" in rows[languages[3]["lang_script"]]
    assert 'data-key="audited"' in report_overview(page)


def test_per_language_table_shows_each_languages_classifier_threshold_and_its_rule(tmp_path, languages):
    ruled = [dict(languages[0], classifier={"rule": "bootstrap:language", "min_quality_score": 0.0}),
             dict(languages[1], classifier={"rule": "bootstrap", "min_quality_score": 0.12}),
             dict(languages[2], classifier={"rule": "bootstrap:too_little_text", "min_quality_score": None}), languages[3]]
    write_stats(tmp_path / "stats", ruled, {}, [], {"manifest": {}})
    page = build_report(tmp_path)
    table = page[page.index("<h2>Languages</h2>") :]
    assert "<th>classifier threshold</th>" in table
    rows = {m.group(1): m.group(0) for m in re.finditer(r"<tr><td>([a-z]{2}x_Latn)</td>.*?</tr>", table)}
    assert "<td>0 (bootstrap:language)</td>" in rows[ruled[0]["lang_script"]]
    assert "<td>0.12 (bootstrap)</td>" in rows[ruled[1]["lang_script"]]
    assert "<td>none (bootstrap:too_little_text)</td>" in rows[ruled[2]["lang_script"]]
    assert "(bootstrap" not in rows[ruled[3]["lang_script"]]  # stats written before the classifier entry: an empty cell


def test_report_without_the_run_level_file_computes_the_same_figure(stats_folder):
    page = build_report(stats_folder)
    (stats_folder / "stats" / "lid_contamination.json").unlink()
    assert report_fact(build_report(stats_folder), "contamination") == report_fact(page, "contamination")


def test_measured_blind_spots_are_named_in_the_stats_and_the_overview(tmp_path, languages):
    """hye_Armn: Western and Classical Armenian go there and no check can see it; the run says so where it states
    its contamination estimate (langid/blind_spots.json, measured on the LID bench)."""
    from longtail.langid.blind_spots import load_blind_spots

    from longtail.pipeline.manifest import IdentifySettings

    default = asdict(IdentifySettings())
    shipped = load_blind_spots(default)
    assert {e["lang"] for e in shipped["hye_Armn"]} >= {"hyw", "xcl"}
    # measured for the default ensemble: another identifier (GlotLID knows Western Armenian) gets no claims
    assert load_blind_spots(dict(default, model_path="glotlid.bin")) == {} == load_blind_spots(dict(default, backend="heliport"))
    armenian = dict(_language(3), lang_script="hye_Armn")
    write_stats(tmp_path / "stats", languages + [armenian], {"response": 1}, [], {"manifest": {"identify": default}})
    written = {s["lang_script"]: s for s in json.loads((tmp_path / "stats" / "languages.json").read_text())}
    assert written["hye_Armn"]["lid_blind_spots"] == shipped["hye_Armn"]
    assert "lid_blind_spots" not in written[languages[0]["lang_script"]] and "lid_blind_spots" not in armenian
    summary = json.loads((tmp_path / "stats" / "lid_contamination.json").read_text())
    assert list(summary["blind_spots"]) == ["hye_Armn"] and "Western Armenian (hyw)" in summary["blind_spots"]["hye_Armn"]
    page = build_report(tmp_path)
    assert "Known LID blind spots" in report_overview(page) and "Western Armenian (hyw)" in report_overview(page)
    table = page[page.index("<h2>Languages</h2>") :]
    assert "blind spots: " in table


def test_blind_spot_table_lists_unknown_languages_filed_at_least_twice():
    from longtail.langid.blind_spots import blind_spot_table

    gold = ["hyw_Armn"] * 4 + ["xcl_Armn"] * 2 + ["hye_Armn"] * 3 + ["tlh_Latn"] * 3
    predicted = ["hye_Armn", "hye_Armn", "hye_Armn", "und_Armn", "hye_Armn", "und_Armn", "hye_Armn", "hye_Armn", "und_Armn",
                 "eng_Latn", "deu_Latn", "und_Latn"]
    table = blind_spot_table(gold, predicted, {"hyw_Armn", "xcl_Armn", "tlh_Latn"}, {"hyw": "Western Armenian"}, "test")
    # xcl once, tlh once per label: not listed; hye_Armn is known, its own items are not blind spots
    assert table["labels"] == {"hye_Armn": [{"lang": "hyw", "name": "Western Armenian", "filed": 3, "items": 4}]}

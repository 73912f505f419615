"""The report of a real run (the session's ``reference_run``, read only) and of its release opens with the overview:
its counts are those of stats/languages.json, its contamination figure that of stats/lid_contamination.json,
and a plot comes before the first per-language table."""

from __future__ import annotations

import json
import re
from collections import Counter

from longtail.pipeline.release.report import build_report
from longtail.pipeline.stats import lid_contamination_summary
from longtail.reasons import LID_OUTLIER
from longtail.tests.support import report_fact, report_overview


def test_run_records_the_lid_outlier_counts_and_the_run_level_figure(reference_run):
    stats = json.loads((reference_run.output / "stats" / "languages.json").read_text())
    for language in stats:
        info = language["lid_outlier"]
        assert info["contamination"] == language["lid_contamination"] and info["judged"] == (language["lid_contamination"] is not None)
        assert info["outliers"] == language["dropped"].get(LID_OUTLIER, 0)
        assert info["live"] == language["documents"] + info["outliers"] + sum(n for r, n in language["dropped"].items() if r.startswith("dedup:"))
    summary = json.loads((reference_run.output / "stats" / "lid_contamination.json").read_text())
    assert summary == lid_contamination_summary(stats)
    assert summary["splits_judged"] + summary["splits_not_judged"] == len(stats)
    assert summary["pages_judged"] + summary["pages_not_judged"] == sum(s["lid_outlier"]["live"] for s in stats)


def test_report_of_the_run_opens_with_thereport_overview(reference_run):
    page = build_report(reference_run.output)
    stats = json.loads((reference_run.output / "stats" / "languages.json").read_text())
    summary = json.loads((reference_run.output / "stats" / "lid_contamination.json").read_text())
    first_table = page.index("<h2>Languages</h2>")
    assert page.index('<section id="overview">') < first_table and page.index("</section>", page.index('<section id="overview">')) < first_table
    assert re.search(r"<(img|svg)\b", page[:first_table]), "no plot before the first per-language table"
    assert report_fact(page, "languages").startswith(f"{len([s for s in stats if s['documents']]):,} (of {len(stats):,} ")
    assert report_fact(page, "documents") == f"{sum(s['documents'] for s in stats):,}"
    assert report_fact(page, "words") == f"{sum(s['words'] for s in stats):,}"
    drops = Counter()
    for s in stats:
        drops.update(s["dropped"])
    reasons = dict(re.findall(r'<tr data-reason="([^"]+)"><td>[^<]*</td><td>([^<]*)</td>', report_overview(page)))
    assert reasons == {r: f"{n:,}" for r, n in drops.items() if n} and "dedup:exact" in reasons
    contamination = report_fact(page, "contamination")
    figure = "n/a" if summary["contamination"] is None else f"{100 * summary['contamination']:.1f}%"
    assert contamination.startswith(f"{figure} (") and f"{summary['splits_judged']} splits judged" in contamination
    assert "lower bound" in report_overview(page) and "misses relatives" in report_overview(page)
    spotted = {s["lang_script"] for s in stats if s.get("lid_blind_spots") and s["documents"]}
    assert spotted and set(summary["blind_spots"]) == spotted and "Known LID blind spots" in report_overview(page)
    table = page[first_table:]
    for s in stats:
        cell = "not judged" if s["lid_contamination"] is None else f"lid:outlier {100 * s['lid_contamination']:.1f}%"
        if s.get("lid_blind_spots"):  # the sample's Hindi: Magahi text lands there (langid/blind_spots.json)
            cell += "; blind spots: " + ", ".join(e["lang"] for e in s["lid_blind_spots"])
        assert re.search(rf"<tr><td>{s['lang_script']}</td>(<td>[^<]*</td>)*<td>{re.escape(cell)}</td>", table), s["lang_script"]


def test_release_carries_the_run_level_figure_into_its_report(reference_run, release):
    run_summary = (reference_run.output / "stats" / "lid_contamination.json").read_text()
    assert (release / "stats" / "lid_contamination.json").read_text() == run_summary
    assert report_fact(build_report(release), "contamination") == report_fact(build_report(reference_run.output), "contamination")

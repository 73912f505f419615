"""Targeted fast path (stages/prefilter.py): with keep_languages set and stages.extract.target_prefilter on,
a run keeps exactly the documents of the same run without the prefilter, and pages in other languages skip
the full chain but are still accounted for in removed/ as lid:not_selected."""

from __future__ import annotations

from dataclasses import replace

import pyarrow.parquet as pq
import pytest

from longtail.pipeline.manifest import ExtractSettings, QualitySettings, load_manifest
from longtail.pipeline.run import run

TARGETS = ["yor_Latn", "que_Latn", "uig_Arab"]
pytestmark = pytest.mark.slow  # two whole runs on Ray (~60 s on an idle machine)


def outcome(output) -> dict:
    rows = {}
    for folder in ("dataset", "removed"):
        for part in (output / folder).glob("lang_script=*/part-*.parquet"):
            for row in pq.read_table(part, columns=["id", "text", "drop_reason"]).to_pylist():
                assert row["id"] not in rows, "a document came out twice"
                rows[row["id"]] = (folder, part.parent.name.split("=", 1)[1], row["drop_reason"], row["text"])
    return rows


@pytest.fixture(scope="module")
def both_runs(repo, ray_local, trained_models, tmp_path_factory):
    base = replace(load_manifest(repo / "manifests" / "sample.yaml"), languages=TARGETS,
                   quality=QualitySettings(str(trained_models / "kenlm"), str(trained_models / "quality" / "classifier.bin")))
    results = {}
    for prefilter in (False, True):
        output = tmp_path_factory.mktemp(f"prefilter-{prefilter}")
        run(replace(base, output=str(output), extract=replace(ExtractSettings(), target_prefilter=prefilter)), progress=False)
        results[prefilter] = outcome(output)
    return results


def test_targets_are_kept_exactly_as_without_the_prefilter(both_runs):
    full, fast = both_runs[False], both_runs[True]
    kept_full = {i: v for i, v in full.items() if v[0] == "dataset"}
    kept_fast = {i: v for i, v in fast.items() if v[0] == "dataset"}
    assert kept_full and {v[1] for v in kept_full.values()} <= set(TARGETS)
    assert kept_fast == kept_full


def test_every_document_is_accounted_for(both_runs):
    full, fast = both_runs[False], both_runs[True]
    assert set(fast) == set(full)
    assert all(v[2] for v in fast.values() if v[0] == "removed")


def test_most_other_pages_skip_the_full_chain(both_runs):
    full, fast = both_runs[False], both_runs[True]
    not_selected = [i for i, v in fast.items() if v[2] == "lid:not_selected"]
    assert len(not_selected) > len(fast) / 2
    # a page set aside by the prefilter was not a target in the full run either
    for doc_id in not_selected:
        assert full[doc_id][1] not in TARGETS or full[doc_id][0] == "removed", (doc_id, full[doc_id][:3])

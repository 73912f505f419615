"""The whole job on the sample crawl, on a real local Ray, checked page by page against the ground truth.

The run is the session's ``reference_run`` (tests/conftest.py); tests that rerun or reselect work on a copy."""

from __future__ import annotations

import json
from dataclasses import replace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from longtail.pipeline.run import reselect, run
from longtail.tests.support import read_partitioned


@pytest.fixture
def sample_run(reference_run):
    """The session's sample run with the reference KenLM models (tests/conftest.py), read only."""
    return reference_run


@pytest.fixture(scope="module")
def ground_truth(repo):
    return [json.loads(line) for line in (repo / "data" / "sample" / "ground_truth.jsonl").read_text().splitlines() if line.strip()]


def test_every_page_has_the_expected_outcome(sample_run, ground_truth):
    _, output, _ = sample_run
    kept = {r["url"]: r for r in read_partitioned(output / "dataset").to_pylist()}
    removed = {r["url"]: r for r in read_partitioned(output / "removed").to_pylist()}
    id_of = {url: row["id"] for url, row in {**kept, **removed}.items()}
    problems = []
    for truth in ground_truth:
        url, expected = truth["url"], truth["expected"]
        if expected == "kept":
            row = kept.get(url)
            if row is None:
                problems.append(f"{url}: expected kept as {truth['lang_script']}, got {removed.get(url, {}).get('drop_reason', 'missing')} "
                                f"({removed.get(url, {}).get('lang_script')}) [{truth.get('note')}]")
                continue
            if row["partition"] != truth["lang_script"]:
                problems.append(f"{url}: kept in {row['partition']}, expected {truth['lang_script']}")
            if truth.get("cluster_size") and row["dup_cluster_size"] != truth["cluster_size"]:
                problems.append(f"{url}: cluster size {row['dup_cluster_size']}, expected {truth['cluster_size']}")
        elif expected == "dropped":
            row = removed.get(url)
            if row is None:
                problems.append(f"{url}: expected dropped ({truth['reason']}), but it was {'kept' if url in kept else 'missing'} [{truth.get('note')}]")
                continue
            if row["drop_reason"] != truth["reason"]:
                problems.append(f"{url}: dropped for {row['drop_reason']}, expected {truth['reason']} [{truth.get('note')}]")
            if truth.get("duplicate_of") and row["duplicate_of"] != id_of.get(truth["duplicate_of"]):
                problems.append(f"{url}: duplicate_of {row['duplicate_of']}, expected the id of {truth['duplicate_of']}")
        else:
            if url in kept or url in removed:
                problems.append(f"{url}: expected skipped ({truth['reason']}), but it became a document")
    assert not problems, "\n".join(problems)


def test_nothing_is_lost(sample_run):
    _, output, result = sample_run
    kept = read_partitioned(output / "dataset")
    removed = read_partitioned(output / "removed")
    annotated = sum(pq.read_metadata(p).num_rows for p in (output / "annotated").glob("*.parquet"))
    assert kept.num_rows + removed.num_rows == annotated
    assert len(set(kept.column("id").to_pylist()) | set(removed.column("id").to_pylist())) == annotated


def test_record_counts_match_expectation(sample_run, repo):
    _, output, result = sample_run
    expected = json.loads((repo / "data" / "sample" / "expected_counts.json").read_text())
    records = json.loads((output / "stats" / "records.json").read_text())
    for kind in ("warcinfo", "request", "response", "metadata", "non_200", "non_html", "malformed"):
        assert records.get(kind, 0) == expected[kind], kind
    errors = [json.loads(line) for line in (output / "stats" / "errors.jsonl").read_text().splitlines()]
    assert any(e["reason"] == "malformed" and e["file"].endswith(".warc.gz") for e in errors)


def test_stats_per_language(sample_run, repo):
    _, output, result = sample_run
    stats = {s["lang_script"]: s for s in json.loads((output / "stats" / "languages.json").read_text())}
    expected = json.loads((repo / "data" / "sample" / "expected_counts.json").read_text())["kept_per_lang_script"]
    for label, count in expected.items():
        assert stats[label]["documents"] == count, label
        assert stats[label]["words"] > 0 and stats[label]["bytes"] >= stats[label]["characters"]
        assert stats[label]["perplexity"].get("p50"), label
    csv_header = (output / "stats" / "languages.csv").read_text().splitlines()[0]
    assert "dropped:dedup:near" in csv_header and "duplicate_rate" in csv_header
    assert any(s["duplicate_rate"] > 0 for s in stats.values())
    dropped = {}
    for s in stats.values():
        for reason, count in s["dropped"].items():
            dropped[reason] = dropped.get(reason, 0) + count
    assert dropped == json.loads((repo / "data" / "sample" / "expected_counts.json").read_text())["dropped_per_reason"]


def test_partitions_are_sharded_and_sorted(sample_run):
    _, output, _ = sample_run
    for folder in (output / "dataset").glob("lang_script=*"):
        ids = []
        for part in sorted(folder.glob("part-*.parquet")):
            ids += pq.read_table(part, columns=["id"]).column("id").to_pylist()
        assert ids == sorted(ids)


def test_rerun_resumes_and_gives_identical_output(reference_run_copy):
    sample_run = reference_run_copy
    manifest, output, _ = sample_run
    before = {p.relative_to(output): p.read_bytes() for p in (output / "dataset").rglob("*.parquet")}
    result = run(manifest, progress=False)  # every unit is done: nothing is re-annotated
    after = {p.relative_to(output): p.read_bytes() for p in (output / "dataset").rglob("*.parquet")}
    assert before == after
    assert result["records"] == sample_run[2]["records"]


def test_threshold_change_reruns_selection_only(reference_run_copy, tmp_path):
    manifest, output, _ = reference_run_copy
    stricter = replace(manifest, inputs=[str(tmp_path / "gone" / "*.warc.gz")],  # the crawl is not even reachable
                       thresholds=replace(manifest.thresholds, min_words=100_000))
    result = reselect(stricter, progress=False)
    assert sum(s["documents"] for s in result["languages"]) == 0
    assert read_partitioned(output / "dataset") is None
    reselect(manifest, progress=False)  # and back to the shipped thresholds
    assert read_partitioned(output / "dataset").num_rows > 0


def test_distributed_dedup_equals_reference_on_the_sample(sample_run):
    """The distributed dedup on Ray tasks gives the in-process reference's clusters on the sample's annotations (issue 5)."""
    import pyarrow.compute as pc

    from longtail.pipeline.ray_backend import RayEngine
    from longtail.stages.dedup.cluster import cluster_duplicates
    from longtail.stages.dedup.distributed import cluster_table

    manifest, output, _ = sample_run
    annotated = pa.concat_tables([pq.read_table(p) for p in sorted((output / "annotated").glob("*.parquet"))], promote_options="default")
    compared = 0
    for label in sorted(set(annotated.column("lang_script").to_pylist())):
        part = annotated.filter(pc.equal(annotated.column("lang_script"), label)).sort_by("id")
        reference = cluster_duplicates(part, manifest.dedup)
        assert cluster_table(part, manifest.dedup, chunk_rows=3, partitions=2, engine=RayEngine()).select(reference.column_names).equals(reference), label
        compared += sum(1 for r in reference.column("dedup_reason").to_pylist() if r)
    assert compared >= 5  # the sample's exact and near duplicates are among them

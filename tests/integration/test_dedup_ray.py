"""Distributed MinHash dedup on a real local Ray: same clusters as the in-process reference, deterministic,
incremental against a previous release's index, unchanged by a worker dying mid-run."""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from longtail.pipeline.ray_backend import RayEngine
from longtail.stages.dedup import distributed
from longtail.stages.dedup import index as dedup_index
from longtail.stages.dedup.cluster import cluster_duplicates
from longtail.stages.dedup.distributed import LocalEngine
from longtail.stages.dedup.evaluate import read_jsonl, signed_table
from longtail.stages.dedup.minhash import MinHashParams

REPO = Path(__file__).resolve().parents[2]
EVAL = REPO / "data" / "dedup_eval"


def cluster_table(table: pa.Table, *args, **kwargs) -> pa.Table:
    """The task graph on Ray tasks (the tests' default engine)."""
    return distributed.cluster_table(table, *args, engine=kwargs.pop("engine", None) or RayEngine(), **kwargs)


@pytest.fixture(scope="module")
def eval_table() -> pa.Table:
    """The composed pair set's 1,009 documents (15 languages, 8 scripts incl. Lao and Khmer), signed."""
    docs = read_jsonl(EVAL / "docs.jsonl")
    for i, doc in enumerate(docs):
        doc["url"] = f"https://{doc['lang_script']}.test/{doc['id']}"
        doc["crawl_date"] = f"2026-10-{1 + i % 28:02d}"
        if doc["id"].endswith("-6-truncated_70"):  # re-crawl of the cluster keeper's URL (the templated page) with 70 % of the text
            doc["url"] = "http://www." + doc["url"].replace("truncated_70", "site").split("://", 1)[1]
    return signed_table(docs, MinHashParams())


def _per_language(table: pa.Table, cluster) -> pa.Table:
    parts = []
    for label in sorted(set(table.column("lang_script").to_pylist())):
        part = table.filter(pc.equal(table.column("lang_script"), label))
        parts.append(cluster(part).select(["id", "dup_cluster_id", "dup_cluster_size", "duplicate_of", "dedup_reason"]))
    return pa.concat_tables(parts).sort_by([("id", "ascending")])


def _big_bucket_table() -> pa.Table:
    """80 one-word variants of one text (a band bucket over MAX_PAIRWISE_BUCKET) plus unrelated texts."""
    rng = random.Random(7)
    vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 8))) for _ in range(2000)]
    base = [rng.choice(vocab) for _ in range(120)]
    docs = []
    for k in range(80):
        words = list(base)
        words[k] = "xyz"
        docs.append({"id": f"v{k:03d}", "text": " ".join(words), "lang_script": "eng_Latn"})
    for k in range(60):
        docs.append({"id": f"u{k:03d}", "text": " ".join(rng.choice(vocab) for _ in range(rng.randint(40, 200))), "lang_script": "eng_Latn"})
    return signed_table(docs, MinHashParams())


def test_distributed_equals_reference_and_is_deterministic(ray_local, eval_table):
    reference = _per_language(eval_table, cluster_duplicates)
    runs = [
        _per_language(eval_table, lambda t: cluster_table(t, chunk_rows=9, partitions=4)),
        _per_language(eval_table, lambda t: cluster_table(t, chunk_rows=9, partitions=4)),
        _per_language(eval_table, lambda t: cluster_table(t, chunk_rows=1000, partitions=1)),
    ]
    assert runs[0].equals(reference)
    assert runs[1].equals(runs[0]) and runs[2].equals(runs[0])
    # (exact copies mostly show as dedup:near here: each cluster keeps its longest member, the templated page)
    assert {"dedup:near", "dedup:url", None} <= set(reference.column("dedup_reason").to_pylist())
    # the composed near duplicates really cluster, in unspaced scripts too
    by_id = {r["id"]: r for r in reference.to_pylist()}
    assert by_id["lao_Laoo-0-edit_10"]["dup_cluster_id"] == by_id["lao_Laoo-0-base"]["dup_cluster_id"]
    assert by_id["khm_Khmr-1-boilerplate"]["dup_cluster_id"] == by_id["khm_Khmr-1-base"]["dup_cluster_id"]
    assert by_id["khm_Khmr-1-base"]["dup_cluster_id"] != by_id["khm_Khmr-2-base"]["dup_cluster_id"]


def test_large_buckets_match_reference(ray_local):
    table = _big_bucket_table()
    reference = cluster_duplicates(table)
    got = cluster_table(table, chunk_rows=17, partitions=3).select(reference.column_names)
    assert got.equals(reference)
    assert max(reference.column("dup_cluster_size").to_pylist()) >= 70


def test_local_engine_runs_the_same_graph(eval_table):
    """The task graph serially in this process (no Ray) gives the Ray engine's and the reference's result."""
    reference = _per_language(eval_table, cluster_duplicates)
    assert _per_language(eval_table, lambda t: distributed.cluster_table(t, chunk_rows=9, partitions=4, engine=LocalEngine())).equals(reference)


@pytest.mark.parametrize("engine", ["ray", "local"])
def test_the_exchange_through_partitioned_files_gives_the_same_clusters(ray_local, eval_table, tmp_path, engine):
    """``exchange=folder``: the steps pass their partitioned tables as one Arrow file per task and step, and the
    clusters are joined by star steps instead of one merge (what a language finalized in shards uses), with the
    engine-object graph's result."""
    reference = _per_language(eval_table, cluster_duplicates)
    chosen = RayEngine() if engine == "ray" else LocalEngine()
    got = _per_language(eval_table, lambda t: cluster_table(t, chunk_rows=9, partitions=4, engine=chosen, exchange=str(tmp_path / t.column("lang_script")[0].as_py())))
    assert got.equals(reference)
    labels = eval_table.column("lang_script").to_pylist()
    assert sorted(f.name for f in tmp_path.iterdir()) == sorted(set(labels))
    for folder in tmp_path.iterdir():
        # per language: keys (two files a part); buckets, sig_a, members and the components' first edges (a file a
        # partition); then a file a partition for each of at least three star steps
        parts = -(-labels.count(folder.name) // 9)
        assert sum(1 for _ in folder.glob("*.arrow")) >= 2 * parts + 4 * 4 + 3 * 4, folder.name


def _crash_once(function, marker: str):
    """``function`` whose first call, across all workers, kills its worker process like an OOM kill would."""

    def crash_once(*args):
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))  # atomic: exactly one attempt wins
        except FileExistsError:
            return function(*args)
        os._exit(1)

    return crash_once


class CrashOnceEngine(RayEngine):
    """Ray engine whose first confirm task (step 4) dies mid-task: the test's fault injection, not production's."""

    def __init__(self, marker: str):
        super().__init__()
        self.marker = marker

    def task(self, function, num_returns=1):
        if function is distributed._confirm_task:
            function = _crash_once(function, self.marker)  # a closure: cloudpickle ships it by value
        return super().task(function, num_returns)


def test_killed_worker_does_not_change_result(ray_local, eval_table, tmp_path):
    expected = cluster_table(eval_table, chunk_rows=50, partitions=3)
    marker = tmp_path / "crashed-once"
    got = cluster_table(eval_table, chunk_rows=50, partitions=3, engine=CrashOnceEngine(str(marker)))
    assert marker.exists()  # a confirm task's first attempt really died (os._exit) and Ray retried it
    assert got.equals(expected)


def _crawl(docs: list[tuple[str, str, str]], date: str) -> pa.Table:
    rows = [{"id": i, "text": t, "lang_script": "swa_Latn", "url": u, "crawl_date": date} for i, t, u in docs]
    return signed_table(rows, MinHashParams())


def test_second_crawl_against_index_of_first(ray_local, tmp_path):
    docs = read_jsonl(EVAL / "docs.jsonl")
    text = {d["id"]: d["text"] for d in docs if d["lang_script"] == "swa_Latn"}
    first = _crawl([(f"c1-{k}", text[f"swa_Latn-{k}-base"], f"https://sw.test/{k}") for k in range(5)], "2026-01-01")
    index = tmp_path / "index"
    entry = dedup_index.add_release(index, first, MinHashParams(), "2026-01")
    assert entry["documents"] == 5 and entry["languages"] == {"swa_Latn": 5}

    second = _crawl(
        [
            ("c2-exact", text["swa_Latn-0-reformatted"], "https://sw.test/other-0"),  # same text as c1-0
            ("c2-near", text["swa_Latn-1-edit_5"], "https://sw.test/other-1"),  # near c1-1
            ("c2-url", text["swa_Latn-6-base"], "http://www.sw.test/2"),  # new text at c1-2's URL (re-crawl)
            ("c2-new", text["swa_Latn-5-base"], "https://sw.test/5"),  # new page
            ("c2-new-copy", text["swa_Latn-5-exact"], "https://sw.test/5-copy"),  # duplicate within crawl 2
            ("c2-new-near", text["swa_Latn-5-boilerplate"], "https://sw.test/5-near"),
        ],
        "2026-02-01",
    )
    params = MinHashParams(previous_index=str(index))
    files = dedup_index.language_files(index, "swa_Latn", params)
    out = {r["id"]: r for r in cluster_table(second, params, index_files=files, lang_script="swa_Latn", partitions=2).to_pylist()}
    assert set(out) == {"c2-exact", "c2-near", "c2-url", "c2-new", "c2-new-copy", "c2-new-near"}  # index rows never output
    previous = {i for i, r in out.items() if r["dedup_reason"] == "dedup:previous_release"}
    assert previous == {"c2-exact", "c2-near", "c2-url"}
    assert out["c2-exact"]["duplicate_of"] == "c1-0" and out["c2-near"]["duplicate_of"] == "c1-1" and out["c2-url"]["duplicate_of"] == "c1-2"
    # within crawl 2 the longest page (with boilerplate) is kept, the others point at it
    assert out["c2-new-near"]["dedup_reason"] is None and out["c2-new-near"]["dup_cluster_size"] == 3
    assert out["c2-new"]["duplicate_of"] == out["c2-new-copy"]["duplicate_of"] == "c2-new-near"
    assert out["c2-new"]["dedup_reason"] == out["c2-new-copy"]["dedup_reason"] == "dedup:near"
    # without the index, only the within-crawl duplicates go
    alone = {r["id"]: r for r in cluster_table(second, partitions=2).to_pylist()}
    assert {i for i, r in alone.items() if r["dedup_reason"]} == {"c2-new", "c2-new-copy"}
    # a language with nothing selected this time still runs (index rows only, nothing output)
    assert cluster_table(second.slice(0, 0), params, index_files=files, lang_script="swa_Latn").num_rows == 0


def _swahili_texts() -> dict[str, str]:
    return {d["id"]: d["text"] for d in read_jsonl(EVAL / "docs.jsonl") if d["lang_script"] == "swa_Latn"}


def _verdicts(result: pa.Table) -> list[tuple]:
    return [(r["id"], r["duplicate_of"], r["dedup_reason"]) for r in result.sort_by([("id", "ascending"), ("_dedup_row", "ascending")]).to_pylist()]


def test_repeated_ids_get_one_verdict_per_row(ray_local, monkeypatch):
    text = _swahili_texts()
    # two different documents both called "same": only the second copies "other" (dated earlier, so "other" wins)
    table = signed_table([
        {"id": "same", "text": text["swa_Latn-0-base"], "lang_script": "swa_Latn", "crawl_date": "2026-10-02"},
        {"id": "same", "text": text["swa_Latn-1-base"], "lang_script": "swa_Latn", "crawl_date": "2026-10-02"},
        {"id": "other", "text": text["swa_Latn-1-exact"], "lang_script": "swa_Latn", "crawl_date": "2026-10-01"},
    ], MinHashParams())
    docs = table.select(["id", "text"]).to_pylist()
    result = cluster_table(table, chunk_rows=1, partitions=2).to_pylist()
    assert sorted((docs[r["_dedup_row"]]["id"], docs[r["_dedup_row"]]["text"], r["duplicate_of"], r["dedup_reason"]) for r in result) == [
        ("other", text["swa_Latn-1-exact"], None, None),
        ("same", text["swa_Latn-0-base"], None, None),
        ("same", text["swa_Latn-1-base"], "other", "dedup:exact"),
    ]
    assert all(r["id"] == docs[r["_dedup_row"]]["id"] for r in result)
    # the in-process path of cluster_language returns the same row keys and verdicts; with an engine, a language of
    # up to IN_PROCESS_MAX_ROWS documents takes the in-process path too (set to 0 here to force the task graph)
    assert distributed.IN_PROCESS_MAX_ROWS >= table.num_rows
    small = distributed.cluster_language(table, MinHashParams(), "swa_Latn", engine=RayEngine())
    monkeypatch.setattr(distributed, "IN_PROCESS_MAX_ROWS", 0)
    on_ray = distributed.cluster_language(table, MinHashParams(), "swa_Latn", engine=RayEngine())
    in_process = distributed.cluster_language(table, MinHashParams(), "swa_Latn")
    assert _verdicts(in_process) == _verdicts(on_ray) == _verdicts(small) == [("other", None, None), ("same", None, None), ("same", "other", "dedup:exact")]


def test_repeated_ids_through_the_pipeline(ray_local, tmp_path):
    """JSONL user ids that repeat: finalize maps dedup verdicts back per row, not per id."""
    from dataclasses import replace

    from longtail.pipeline.manifest import QualitySettings, load_manifest
    from longtail.pipeline.run import run

    text = _swahili_texts()
    rows = [
        {"id": "same", "text": text["swa_Latn-0-base"], "url": "https://sw.test/a", "date": "2026-10-02"},
        {"id": "same", "text": text["swa_Latn-1-base"], "url": "https://sw.test/b", "date": "2026-10-02"},
        {"id": "other", "text": text["swa_Latn-1-exact"], "url": "https://sw.test/c", "date": "2026-10-01"},
    ]
    crawl = tmp_path / "docs.jsonl"
    crawl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    base = load_manifest(REPO / "manifests" / "sample.yaml")
    manifest = replace(base, name="ids", inputs=[str(crawl)], output=str(tmp_path / "out"), quality=QualitySettings(None, None),
                       thresholds=replace(base.thresholds, max_perplexity=None, min_quality_score=None))
    run(manifest, workers=1, progress=False)

    def urls(folder):
        return {r["url"]: r for p in sorted((tmp_path / "out" / folder).glob("lang_script=*/part-*.parquet")) for r in pq.read_table(p).to_pylist()}

    kept, removed = urls("dataset"), urls("removed")
    assert set(kept) == {"https://sw.test/a", "https://sw.test/c"} and set(removed) == {"https://sw.test/b"}
    assert removed["https://sw.test/b"]["duplicate_of"] == "other" and removed["https://sw.test/b"]["drop_reason"] == "dedup:exact"
    assert kept["https://sw.test/a"]["dup_cluster_size"] == 1 and "_dedup_row" not in kept["https://sw.test/a"]


def test_undated_copy_loses_to_dated_ones(ray_local):
    text = _swahili_texts()["swa_Latn-2-base"]
    # same text and length; the undated copy has the smallest id and URL, so only the date rule can make it lose
    table = signed_table([
        {"id": "a-undated", "text": text, "lang_script": "swa_Latn", "url": "https://sw.test/a", "crawl_date": None},
        {"id": "b-later", "text": text, "lang_script": "swa_Latn", "url": "https://sw.test/b", "crawl_date": "2026-10-05"},
        {"id": "c-earlier", "text": text, "lang_script": "swa_Latn", "url": "https://sw.test/c", "crawl_date": "2026-10-02"},
    ], MinHashParams())
    reference = cluster_duplicates(table)
    assert cluster_table(table, partitions=2).select(reference.column_names).equals(reference)
    assert reference.column("dup_cluster_id").to_pylist() == ["c-earlier"] * 3
    assert reference.column("duplicate_of").to_pylist() == ["c-earlier", "c-earlier", None]


def test_url_dedup_off_ignores_shared_urls(ray_local):
    text = _swahili_texts()
    table = signed_table([
        {"id": "page-1", "text": text["swa_Latn-3-base"], "lang_script": "swa_Latn", "url": "https://sw.test/p"},
        {"id": "page-2", "text": text["swa_Latn-4-base"], "lang_script": "swa_Latn", "url": "http://www.sw.test/p"},  # other text
        {"id": "near-1", "text": text["swa_Latn-5-boilerplate"], "lang_script": "swa_Latn", "url": "https://sw.test/n"},
        {"id": "near-2", "text": text["swa_Latn-5-base"], "lang_script": "swa_Latn", "url": "https://sw.test/n#top"},
    ], MinHashParams())
    params = MinHashParams(url_dedup=False)
    reference = cluster_duplicates(table, params)
    got = cluster_table(table, params, partitions=2)
    assert got.select(reference.column_names).equals(reference)
    assert _verdicts(got) == [("near-1", None, None), ("near-2", "near-1", "dedup:near"), ("page-1", None, None), ("page-2", None, None)]
    # with url_dedup on, the shared URLs are one page
    on = {r["id"]: r["dedup_reason"] for r in cluster_table(table, partitions=2).to_pylist()}
    assert on == {"page-1": None, "page-2": "dedup:url", "near-1": None, "near-2": "dedup:url"}


def test_copy_without_url_loses_the_url_step(ray_local):
    text = _swahili_texts()["swa_Latn-2-base"]
    # same text, length and date; the copy without a URL has the smallest id, so only the URL rule decides
    table = signed_table([
        {"id": "a-no-url", "text": text, "lang_script": "swa_Latn", "url": None, "crawl_date": "2026-10-02"},
        {"id": "b-with-url", "text": text, "lang_script": "swa_Latn", "url": "https://sw.test/b", "crawl_date": "2026-10-02"},
    ], MinHashParams())
    reference = cluster_duplicates(table)
    assert cluster_table(table, partitions=2).select(reference.column_names).equals(reference)
    assert reference.column("dup_cluster_id").to_pylist() == ["b-with-url"] * 2

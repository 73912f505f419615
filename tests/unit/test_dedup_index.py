"""Distributed MinHash dedup on a real local Ray: same clusters as the in-process reference, deterministic,
incremental against a previous release's index, unchanged by a worker dying mid-run."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from longtail.stages.dedup import index as dedup_index
from longtail.stages.dedup.evaluate import evaluate, read_jsonl, signed_table
from longtail.stages.dedup.minhash import MinHashParams

REPO = Path(__file__).resolve().parents[2]
EVAL = REPO / "data" / "dedup_eval"


def test_index_build_merge_prune_info(tmp_path):
    docs = read_jsonl(EVAL / "docs.jsonl")[:30]
    table = signed_table(docs, MinHashParams())
    # a finished run's output: annotations with signatures, and the kept documents
    output = tmp_path / "run"
    (output / "annotated").mkdir(parents=True)
    pq.write_table(table.drop_columns(["text"]), output / "annotated" / "a.parquet")
    kept = table.filter(pc.is_in(table.column("id"), value_set=pa.array([d["id"] for d in docs[:12]])))
    for label in set(kept.column("lang_script").to_pylist()):
        folder = output / "dataset" / f"lang_script={label}"
        folder.mkdir(parents=True)
        pq.write_table(kept.filter(pc.equal(kept.column("lang_script"), label)).select(["id", "text"]), folder / "part-00000.parquet")
    from longtail.pipeline.cli.dedup import index_run

    entry = index_run(output, tmp_path / "a", MinHashParams(), "r1")
    assert entry["documents"] == 12
    dedup_index.add_release(tmp_path / "b", table.slice(12, 10), MinHashParams(), "r2")
    with pytest.raises(ValueError, match="other MinHash params"):
        dedup_index.add_release(tmp_path / "b", table.slice(0, 1), MinHashParams(bands=8), "r3")
    merged = dedup_index.merge(tmp_path / "m", [tmp_path / "a", tmp_path / "b"])
    assert [r["name"] for r in merged["releases"]] == ["r1", "r2"] and dedup_index.total_documents(tmp_path / "m") == 22
    stored = pq.read_table(dedup_index.language_files(tmp_path / "m", docs[0]["lang_script"], MinHashParams())[0])
    assert {"id", "bands", "text_hash", "url", "minhash", "release"} <= set(stored.column_names)
    assert dedup_index.prune(tmp_path / "m", keep_last=1) == ["r1"]
    assert "release r2: 10 documents" in dedup_index.info(tmp_path / "m") and not (tmp_path / "m" / "release=r1").exists()


def test_eval_dedup_meets_targets_at_defaults():
    report = evaluate(read_jsonl(EVAL / "docs.jsonl"), read_jsonl(EVAL / "pairs.jsonl"), MinHashParams())
    assert report["overall"]["precision"] >= 0.95 and report["overall"]["recall"] >= 0.90
    assert {"Laoo", "Khmr"} <= set(report["per_script"]) and len(report["per_script"]) >= 6
    for script, scores in report["per_script"].items():
        assert scores["precision"] >= 0.9 and scores["recall"] >= 0.85, (script, scores)
    # issue 14: every kind of copy at the rates of the held-out pairs, recall >= 0.8 each; hard negatives kept apart
    kinds = {"exact", "boilerplate", "reformatted", "shuffled", "truncated_70", "edit_5", "edit_10"}
    assert set(report["per_kind"]) == kinds
    for kind, by in report["per_kind"].items():
        assert by["all"]["recall"] >= 0.8, (kind, by["all"])
    for negative in ("different (not_duplicate)", "same_template (not_duplicate)", "translation (not_duplicate)"):
        assert report["categories"][negative]["predicted_duplicate"] <= 0.05 * report["categories"][negative]["pairs"], negative
    assert len({d["lang_script"] for d in read_jsonl(EVAL / "docs.jsonl")}) >= 8
    assert report["per_kind"]["edit_10"]["Laoo"]["pairs"] == 7  # per kind and per script
    from longtail.stages.dedup.evaluate import format_report

    assert "recall per kind of copy" in format_report(report)


def test_eval_dedup_cli_writes_clusters(tmp_path):
    from longtail.pipeline.cli.main import main

    docs, pairs = tmp_path / "docs.jsonl", tmp_path / "pairs.jsonl"
    rows = [d for d in read_jsonl(EVAL / "docs.jsonl") if d["lang_script"] in ("khm_Khmr", "yor_Latn")]
    docs.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in rows), encoding="utf-8")
    keep = {d["id"] for d in rows}
    pairs.write_text("".join(json.dumps(p) + "\n" for p in read_jsonl(EVAL / "pairs.jsonl") if p["id_a"] in keep), encoding="utf-8")
    out = tmp_path / "clusters.jsonl"
    assert main(["eval-dedup", "--docs", str(docs), "--pairs", str(pairs), "--clusters-out", str(out)]) == 0
    clusters = {r["id"]: r["dup_cluster_id"] for r in read_jsonl(out)}
    assert set(clusters) == keep
    assert clusters["yor_Latn-0-exact"] == clusters["yor_Latn-0-base"] != clusters["yor_Latn-1-base"]


def test_manifest_dedup_options(tmp_path):
    from longtail.pipeline.manifest import ManifestError, parse_manifest

    manifest = parse_manifest({"name": "x", "inputs": ["a.warc.gz"], "output": "out",
                               "stages": {"dedup": {"previous_index": "indexes/sw", "url_dedup": False, "threshold": 0.8}}}, tmp_path)
    assert manifest.dedup.previous_index == str((tmp_path / "indexes" / "sw").resolve())
    assert manifest.dedup.url_dedup is False and manifest.dedup.threshold == 0.8
    with pytest.raises(ManifestError, match="stages.dedup.url_dedup"):
        parse_manifest({"name": "x", "inputs": ["a"], "output": "o", "stages": {"dedup": {"url_dedup": "yes"}}}, tmp_path)

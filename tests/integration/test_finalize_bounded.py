"""A language bigger than finalize's memory budget (``stages.write.finalize_memory_mb``; docs/cluster.md, "Languages
bigger than a worker"): selection, dedup and writing run in batches of annotated rows, and give what the
whole-language path gives.

The language is generated (scripts/make_synthetic_language.py: exact and near duplicates, shared URLs, short and
templated pages) and annotated by a real run on the session's Ray; the same annotations are then finalized with
the default budget (one batch) and with a tiny one (dozens of batches).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from longtail.pipeline.manifest import QualitySettings, load_manifest, parse_manifest
from longtail.pipeline.run import reselect, run
from longtail.pipeline.runfolder import RunFolder
from longtail.tests.support import load_script

LABEL = "swa_Latn"
TINY_BUDGET_MB = 330  # 10 MiB above a worker's baseline: ~100 of the generated pages per batch


def _outputs(output) -> dict:
    """Kept and removed rows (sorted by language and id), shard counts, languages.json and stages.json."""
    found = {}
    for folder in ("dataset", "removed"):
        parts = sorted((output / folder).glob("lang_script=*/part-*.parquet"))
        tables = [pq.ParquetFile(p).read().append_column("partition", pa.array([p.parent.name] * pq.read_metadata(p).num_rows)) for p in parts]
        found[folder] = pa.concat_tables(tables).sort_by([("partition", "ascending"), ("id", "ascending")])
        found[f"{folder}_shards"] = len(parts)
    found["languages"] = json.loads((output / "stats" / "languages.json").read_text())
    found["stages"] = json.loads((output / "stats" / "stages.json").read_text())
    return found


def _without_seconds(value):
    if isinstance(value, dict):
        return {k: _without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_without_seconds(v) for v in value]
    return value


def _manifest(repo, inputs, output, budget_mb=None, bootstrap=False):
    manifest = load_manifest(repo / "manifests" / "sample.yaml")
    # no given KenLM or classifier; with ``bootstrap`` both are trained on the run (overlays, buckets, perplexity rule)
    quality = QualitySettings(kenlm_bootstrap=manifest.quality.kenlm_bootstrap, classifier_bootstrap=manifest.quality.classifier_bootstrap) if bootstrap else QualitySettings()
    manifest = replace(manifest, inputs=[str(p) for p in inputs], output=str(output), quality=quality)
    return manifest if budget_mb is None else replace(manifest, write=replace(manifest.write, finalize_memory_mb=budget_mb))


@pytest.fixture(scope="module")
def generated(repo, ray_local, tmp_path_factory):
    inputs = load_script(repo, "make_synthetic_language").write_language(tmp_path_factory.mktemp("synthetic-in"), 3000, files=3)
    output = tmp_path_factory.mktemp("synthetic-out")
    run(_manifest(repo, inputs, output), progress=False)  # default budget: every language in one batch
    whole = _outputs(output)
    reselect(_manifest(repo, inputs, output, TINY_BUDGET_MB), progress=False)
    return {"inputs": inputs, "output": output, "whole": whole, "bounded": _outputs(output)}


def test_the_generated_language_exercises_every_language_wide_rule(generated):
    stats = {s["lang_script"]: s for s in generated["whole"]["languages"]}[LABEL]
    assert stats["annotated"] > 2000  # most pages: random word order sends some to other labels
    assert {"dedup:exact", "dedup:near", "quality:too_short"} <= set(stats["dropped"])
    assert stats["lid_outlier"]["judged"] and stats["perplexity_buckets"]["cutoffs"] is None  # no KenLM: no buckets
    assert generated["whole"]["dataset_shards"] == 1  # the whole-language path: one shard per language here


def test_bounded_finalize_gives_the_same_rows_reasons_and_stats(generated):
    whole, bounded = generated["whole"], generated["bounded"]
    assert bounded["dataset_shards"] > 5  # written in batches: more (smaller) shards, the only difference
    for folder in ("dataset", "removed"):
        assert bounded[folder].schema == whole[folder].schema
        assert bounded[folder].num_rows == whole[folder].num_rows
        for column in whole[folder].column_names:
            assert bounded[folder].column(column).equals(whole[folder].column(column)), (folder, column)
    assert bounded["languages"] == whole["languages"]
    assert _without_seconds(bounded["stages"]) == _without_seconds(whole["stages"])


def test_bounded_finalize_equals_the_whole_language_with_bootstrapped_models(repo, ray_local, tmp_path_factory):
    """The same comparison with KenLM and the classifier bootstrapped on the run: perplexity and quality_score come
    from the bootstrap's side files (overlays), buckets have cut-offs, the perplexity rule judges."""
    inputs = load_script(repo, "make_synthetic_language").write_language(tmp_path_factory.mktemp("synthetic-boot-in"), 2000, files=2, seed=1)
    output = tmp_path_factory.mktemp("synthetic-boot-out")
    run(_manifest(repo, inputs, output, bootstrap=True), progress=False)
    whole = _outputs(output)
    reselect(_manifest(repo, inputs, output, TINY_BUDGET_MB, bootstrap=True), progress=False)
    bounded = _outputs(output)
    stats = {s["lang_script"]: s for s in whole["languages"]}[LABEL]
    assert stats["kenlm"]["source"] == "bootstrap" and stats["perplexity_buckets"]["cutoffs"] is not None
    assert stats["classifier"]["rule"].startswith("bootstrap")
    assert bounded["dataset_shards"] > 5
    for folder in ("dataset", "removed"):
        assert bounded[folder].schema == whole[folder].schema
        for column in whole[folder].column_names:
            assert bounded[folder].column(column).equals(whole[folder].column(column)), (folder, column)
    assert bounded["languages"] == whole["languages"]
    assert _without_seconds(bounded["stages"]) == _without_seconds(whole["stages"])


def test_bounded_task_holds_a_batch_not_the_language(repo, generated, tmp_path):
    from longtail.pipeline.finalize import finalize_language

    manifest = _manifest(repo, generated["inputs"], generated["output"], TINY_BUDGET_MB)
    files = [str(p) for p in RunFolder(generated["output"]).annotated_files()]
    result = finalize_language(manifest, LABEL, files, str(tmp_path / "staging"))
    memory = result.memory
    assert memory["rows"] == result.stats["annotated"]
    assert memory["rows_per_chunk"] * 10 < memory["rows"]
    assert memory["max_rows_held"] <= memory["rows_per_chunk"]  # text-bearing rows held at once, in every pass
    assert result.stats == {s["lang_script"]: s for s in generated["bounded"]["languages"]}[LABEL]
    shards = sorted((tmp_path / "staging" / "dataset" / f"lang_script={LABEL}").glob("part-*.parquet"))
    assert [p.name for p in shards] == [f"part-{i:05d}.parquet" for i in range(len(shards))]
    assert all(pq.read_metadata(p).num_rows <= memory["rows_per_chunk"] * 2 for p in shards)


_PEAK = """
import json, sys
from dataclasses import replace
from pathlib import Path
from longtail.pipeline import ray_backend
from longtail.pipeline.finalize import finalize_language
from longtail.pipeline.manifest import QualitySettings, load_manifest
repo, output, budget, files = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
ray_backend.connect(sys.argv[5])  # dedup's tasks run in the session's workers, as under a finalize task
manifest = replace(load_manifest(repo / "manifests" / "sample.yaml"), inputs=[], output=output, quality=QualitySettings())
manifest = replace(manifest, write=replace(manifest.write, finalize_memory_mb=budget))
import pyarrow.parquet as pq
warm = output + f"/.warm{budget}.parquet"  # 40 pages of the language: every import and cache, before the peak is read
pq.write_table(pq.read_table(files[0], filters=[("lang_script", "=", sys.argv[6])]).slice(0, 40), warm)
finalize_language(manifest, sys.argv[6], [warm], output + f"/.warm{budget}")
import os, threading, time
page = os.sysconf("SC_PAGE_SIZE")
def rss():  # resident now, bytes (not ru_maxrss: the warm-up's transient peak would hide the call's)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * page
before, peak, done = rss(), [0], threading.Event()
def sample():
    while not done.is_set():
        peak[0] = max(peak[0], rss())
        time.sleep(0.005)
sampler = threading.Thread(target=sample)
sampler.start()
finalize_language(manifest, sys.argv[6], files, output + f"/.peak{budget}")
done.set()
sampler.join()
peak[0] = max(peak[0], rss())
print(json.dumps({"growth_mb": (peak[0] - before) // 2**20, "peak_mb": peak[0] // 2**20}))
"""


def _peak(repo, output, budget: int, ray_address: str, label: str = LABEL) -> dict:
    """Peak RSS (MiB, sampled every 5 ms) of finalize_language for ``label`` in a fresh process, and its growth over
    the RSS before the call (after a warm-up)."""
    files = json.dumps([str(p) for p in RunFolder(output).annotated_files()])
    done = subprocess.run([sys.executable, "-c", _PEAK, str(repo), str(output), str(budget), files, ray_address, label], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_bounded_finalize_grows_memory_less_than_the_whole_language(repo, generated, ray_address):
    """Peak RSS growth of finalize_language in a fresh process: the whole language vs batches under a tiny budget."""
    growth = {budget: _peak(repo, generated["output"], budget, ray_address)["growth_mb"] for budget in (100_000, TINY_BUDGET_MB)}
    assert growth[100_000] > 50, growth  # MiB: the whole language's profiles and rows
    assert growth[TINY_BUDGET_MB] * 2 < growth[100_000], growth
    print("peak RSS growth (MiB) by budget:", growth)


def test_finalize_memory_setting():
    from longtail.pipeline.finalize import rows_per_chunk

    manifest = parse_manifest({"name": "t", "inputs": ["x.warc"], "output": "out", "stages": {"write": {"finalize_memory_mb": 4096}}})
    assert manifest.write.finalize_memory_mb == 4096
    assert rows_per_chunk(4096, 500) > rows_per_chunk(2048, 500) > rows_per_chunk(2048, 5000) >= 1
    with pytest.raises(ValueError, match="finalize_memory_mb"):
        rows_per_chunk(300, 500)


SLOW_DOCUMENTS = 300_000
SLOW_BUDGET_MB = 1024


@pytest.mark.slow
def test_a_language_of_300000_documents_finishes_within_the_budget(repo, ray_local, ray_address, tmp_path_factory):
    """~300,000 generated pages (~90 KB each in the whole-language path: ~27 GB) through a whole run with a
    1 GiB finalize budget; then the language's finalize alone in a fresh process, to read its peak memory."""
    inputs = load_script(repo, "make_synthetic_language").write_language(tmp_path_factory.mktemp("synthetic-big-in"), SLOW_DOCUMENTS, files=30)
    output = tmp_path_factory.mktemp("synthetic-big-out")
    manifest = _manifest(repo, inputs, output, SLOW_BUDGET_MB)
    stats = {s["lang_script"]: s for s in run(manifest, progress=False)["languages"]}[LABEL]
    assert stats["annotated"] > 0.6 * SLOW_DOCUMENTS and stats["documents"] > 0.4 * SLOW_DOCUMENTS
    assert {"dedup:exact", "dedup:near"} <= set(stats["dropped"]) and stats["lid_outlier"]["judged"]
    assert "finalize swa_Latn in batches" in RunFolder(output).run_log.read_text()
    kept = sum(pq.read_metadata(p).num_rows for p in RunFolder(output).kept_files_of(LABEL))
    assert kept == stats["documents"]
    peak = _peak(repo, output, SLOW_BUDGET_MB, ray_address)
    assert peak["peak_mb"] < SLOW_BUDGET_MB, peak  # the whole process, interpreter and Ray client included

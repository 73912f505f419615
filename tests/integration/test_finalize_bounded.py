"""A language bigger than finalize's memory budget (``stages.write.finalize_memory_mb``; docs/cluster.md, "Languages
bigger than a worker"): selection, dedup and writing run in batches of annotated rows, and give what the
whole-language path gives.

The language is generated (scripts/make_synthetic_language.py: exact and near duplicates, shared URLs, short and
templated pages) and annotated by a real run on the session's Ray; the same annotations are then finalized with
the default budget (one batch) and with a tiny one (dozens of batches).
"""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
import time
from collections import Counter
from dataclasses import replace

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from longtail.pipeline.manifest import QualitySettings, load_manifest, parse_manifest
from longtail.pipeline.run import annotate, reselect, run
from longtail.pipeline.runfolder import RunFolder, UnitResult, load_done, partition, write_done
from longtail.stages.base import set_column
from longtail.stages.dedup.distributed import WORKER_BASELINE_MB
from longtail.stages.dedup.minhash import MinHashStage
from longtail.tests.support import load_script, without_seconds

LABEL = "swa_Latn"
TINY_BUDGET_MB = 323  # 3 MiB above a worker's baseline: ~110 of the generated pages per batch


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


ONE_SHARD = 10**9  # finalize_shard_rows that keeps the language in one task (whole, or in batches)


def _manifest(repo, inputs, output, budget_mb=None, bootstrap=False, shard_rows=ONE_SHARD):
    manifest = load_manifest(repo / "manifests" / "sample.yaml")
    # no given KenLM or classifier; with ``bootstrap`` both are trained on the run (overlays, buckets, perplexity rule)
    quality = QualitySettings(kenlm_bootstrap=manifest.quality.kenlm_bootstrap, classifier_bootstrap=manifest.quality.classifier_bootstrap) if bootstrap else QualitySettings()
    manifest = replace(manifest, inputs=[str(p) for p in inputs], output=str(output), quality=quality)
    manifest = replace(manifest, write=replace(manifest.write, finalize_shard_rows=shard_rows))
    if not bootstrap:  # a classifier threshold of the language's own (none: no classifier), whose rule every path must state
        manifest = replace(manifest, language_thresholds={**manifest.language_thresholds, LABEL: {"min_quality_score": None}})
    return manifest if budget_mb is None else replace(manifest, write=replace(manifest.write, finalize_memory_mb=budget_mb))


SHARD_ROWS = 700  # the generated language (~2,300 rows) in four shards


def _assert_same_output(found: dict, whole: dict) -> None:
    """Every row and column, languages.json and stages.json (but for seconds) as the whole-language path's."""
    for folder in ("dataset", "removed"):
        assert found[folder].schema == whole[folder].schema
        assert found[folder].num_rows == whole[folder].num_rows
        for column in whole[folder].column_names:
            assert found[folder].column(column).equals(whole[folder].column(column)), (folder, column)
    assert found["languages"] == whole["languages"]
    assert without_seconds(found["stages"]) == without_seconds(whole["stages"])


@pytest.fixture(scope="module")
def generated(repo, ray_local, tmp_path_factory):
    inputs = load_script(repo, "make_synthetic_language").write_language(tmp_path_factory.mktemp("synthetic-in"), 3000, files=3)
    output = tmp_path_factory.mktemp("synthetic-out")
    run(_manifest(repo, inputs, output), progress=False)  # default budget: every language in one batch
    whole = _outputs(output)
    reselect(_manifest(repo, inputs, output, TINY_BUDGET_MB), progress=False)
    bounded = _outputs(output)
    reselect(_manifest(repo, inputs, output, shard_rows=SHARD_ROWS), progress=False)
    sharded = _outputs(output)
    sharded_files = sorted(p.name for p in (output / "dataset" / f"lang_script={LABEL}").glob("part-*.parquet"))
    # the templated cap across shards (no perplexities here: the capped pages are the last by id)
    reselect(_capped(_manifest(repo, inputs, output)), progress=False)
    capped = _outputs(output)
    reselect(_capped(_manifest(repo, inputs, output, shard_rows=SHARD_ROWS)), progress=False)
    return {"inputs": inputs, "output": output, "whole": whole, "bounded": bounded, "sharded": sharded, "sharded_files": sharded_files,
            "capped": capped, "capped_sharded": _outputs(output)}


def _capped(manifest, share: float = 0.01):
    """A templated share cap, with the rules that drop the generated templated pages first off: repetition, and
    the bootstrapped models' perplexity and quality score."""
    relaxed = {"max_dup_line_frac": 1.0, "max_top_2gram_frac": 1.0, "max_dup_5gram_frac": 1.0, "max_dup_5gram_frac_any": None, "min_compress_ratio": None,
               "max_perplexity": None, "min_quality_score": None}
    return replace(manifest, thresholds=manifest.thresholds.updated({"max_templated_share": share, **relaxed}),
                   explicit_defaults=(*manifest.explicit_defaults, "min_quality_score"))


def test_the_generated_language_exercises_every_language_wide_rule(generated):
    stats = {s["lang_script"]: s for s in generated["whole"]["languages"]}[LABEL]
    assert stats["annotated"] > 2000  # most pages: random word order sends some to other labels
    assert {"dedup:exact", "dedup:near", "quality:too_short"} <= set(stats["dropped"])
    assert stats["lid_outlier"]["judged"] and stats["perplexity_buckets"]["cutoffs"] is None  # no KenLM: no buckets
    assert generated["whole"]["dataset_shards"] == 1  # the whole-language path: one shard per language here


def test_bounded_finalize_gives_the_same_rows_reasons_and_stats(generated):
    assert generated["bounded"]["dataset_shards"] > 5  # written in batches: more (smaller) shards, the only difference
    _assert_same_output(generated["bounded"], generated["whole"])


def test_sharded_finalize_gives_the_same_rows_reasons_and_stats(generated):
    """A language split by id into shards, each handled by its own Ray tasks: the language-wide rules (LID core,
    templated domains, dedup) span the shards and give the whole-language path's rows, reasons and statistics."""
    _assert_same_output(generated["sharded"], generated["whole"])
    shards = {name.split("-")[1] for name in generated["sharded_files"]}
    assert shards == {f"s{i:05d}" for i in range(4)}  # every shard wrote its own kept documents
    stats = {s["lang_script"]: s for s in generated["sharded"]["languages"]}[LABEL]
    assert stats["lid_outlier"]["judged"] and stats["templated"]["annotated_share"] > 0  # core and domains span shards
    assert stats["classifier"] == {"rule": "manifest:language", "min_quality_score": None}
    capped = {s["lang_script"]: s for s in generated["capped"]["languages"]}[LABEL]
    assert capped["dropped"].get("quality:templated", 0) > 10
    _assert_same_output(generated["capped_sharded"], generated["capped"])


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
    _assert_same_output(bounded, whole)
    # in shards: the overlays are applied when the rows are split, the cut-offs and quantiles are order statistics
    reselect(_manifest(repo, inputs, output, bootstrap=True, shard_rows=SHARD_ROWS // 2), progress=False)
    _assert_same_output(_outputs(output), whole)
    # the templated cap keeps the templated pages of lowest perplexity: a threshold found across shards
    reselect(_capped(_manifest(repo, inputs, output, bootstrap=True)), progress=False)
    capped = _outputs(output)
    assert {s["lang_script"]: s for s in capped["languages"]}[LABEL]["dropped"].get("quality:templated", 0) > 10
    reselect(_capped(_manifest(repo, inputs, output, bootstrap=True, shard_rows=SHARD_ROWS // 2)), progress=False)
    _assert_same_output(_outputs(output), capped)


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


def test_sharded_tasks_hold_a_shard_not_the_language(repo, generated, tmp_path):
    from longtail.pipeline.finalize import finalize_language

    manifest = _manifest(repo, generated["inputs"], generated["output"], TINY_BUDGET_MB, shard_rows=SHARD_ROWS)
    # dedup's keys tasks sized for ~250 documents: a shard's live rows go to dedup in several parts
    manifest = replace(manifest, dedup_partition_memory_mb=WORKER_BASELINE_MB + 1)
    files = [str(p) for p in RunFolder(generated["output"]).annotated_files()]
    result = finalize_language(manifest, LABEL, files, str(tmp_path / "staging"))
    memory = result.memory
    assert memory["rows"] == result.stats["annotated"] and memory["shards"] == 4
    assert memory["dedup_parts"] >= 2 * memory["shards"] and memory["split_groups"] >= 2
    assert memory["largest_shard"] <= SHARD_ROWS * 1.25  # id boundaries from a sample: shards near even
    assert memory["max_rows_held"] <= memory["rows_per_chunk"]  # text in batches within each shard
    assert result.stats == {s["lang_script"]: s for s in generated["whole"]["languages"]}[LABEL]
    assert not (tmp_path / "staging" / "_shards").exists() or not any((tmp_path / "staging" / "_shards").iterdir())  # the split is removed


def test_a_shard_step_whose_worker_is_killed_is_retried_and_the_output_is_the_same(repo, generated):
    """A Ray worker killed (SIGKILL) while it runs a shard's step: Ray runs the step again (its inputs are the part
    files and engine objects, which outlive the worker), and the language comes out as the whole-language path's."""
    import os
    import signal
    import threading
    from pathlib import Path

    killed, stop = [], threading.Event()

    def kill_the_first_shard_step():
        while not stop.is_set() and not killed:
            for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
                try:
                    title = cmdline.read_bytes()
                except OSError:
                    continue
                if title.startswith(b"ray::_shard_select"):  # Ray names a worker's process after its running task
                    os.kill(int(cmdline.parent.name), signal.SIGKILL)
                    killed.append(title.split(b"\0")[0].decode())
                    break
            time.sleep(0.005)

    killer = threading.Thread(target=kill_the_first_shard_step)
    killer.start()
    try:
        reselect(_manifest(repo, generated["inputs"], generated["output"], shard_rows=SHARD_ROWS), progress=False)
    finally:
        stop.set()
        killer.join()
    assert killed, "no shard step was running while watched"
    _assert_same_output(_outputs(generated["output"]), generated["whole"])


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
manifest = replace(manifest, write=replace(manifest.write, finalize_memory_mb=budget, finalize_shard_rows=int(sys.argv[7])))
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
result = finalize_language(manifest, sys.argv[6], files, output + f"/.peak{budget}-{len(files)}")
done.set()
sampler.join()
peak[0] = max(peak[0], rss())
print(json.dumps({"growth_mb": (peak[0] - before) // 2**20, "peak_mb": peak[0] // 2**20, "memory": result.memory}))
"""


def _peak(repo, output, budget: int, ray_address: str, label: str = LABEL, files: list[str] | None = None, shard_rows: int = ONE_SHARD) -> dict:
    """Peak RSS (MiB, sampled every 5 ms) of finalize_language for ``label`` in a fresh process, and its growth over
    the RSS before the call (after a warm-up); of the run's annotated files, or of ``files``. In shards, the
    shards' tasks run in the Ray workers: the process is the finalize task that drives them."""
    files = json.dumps(files or [str(p) for p in RunFolder(output).annotated_files()])
    done = subprocess.run([sys.executable, "-c", _PEAK, str(repo), str(output), str(budget), files, ray_address, label, str(shard_rows)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_finalize_memory_setting():
    from longtail.pipeline.finalize import rows_per_chunk

    manifest = parse_manifest({"name": "t", "inputs": ["x.warc"], "output": "out", "stages": {"write": {"finalize_memory_mb": 4096}}})
    assert manifest.write.finalize_memory_mb == 4096
    assert rows_per_chunk(4096, 500) > rows_per_chunk(2048, 500) > rows_per_chunk(2048, 5000) >= 1
    with pytest.raises(ValueError, match="finalize_memory_mb"):
        rows_per_chunk(300, 500)


SLOW_ANNOTATED_PAGES = 40_000  # generated pages annotated by the real annotate pass (~31,000 of them swa_Latn)
SLOW_VARIANTS = 9  # Parquet-level copies of those annotations besides the originals: ~310,000 rows of swa_Latn
SLOW_BUDGET_MB = 1024
SLOW_SHARD_ROWS = 40_000  # ~311,000 rows in eight shards
_WORD = re.compile(r"\w+")


def _word_bijection(generator, seed: int) -> dict[str, str]:
    """A shuffle of the generator's words among words of the same length, so a substituted text keeps its
    characters, words and lines (the stored signals stay true) but shares no shingles with the original; the
    templated pages' boilerplate words map to themselves, so their domains stay templated in every variant."""
    fixed = {w.lower() for line in generator.TEMPLATE for w in _WORD.findall(line)}
    words = sorted({w.lower() for w in _WORD.findall(generator.REFERENCE.read_text(encoding="utf-8"))} - fixed)
    rng, mapping = random.Random(seed), {}
    for length in sorted({len(w) for w in words}):
        group = [w for w in words if len(w) == length]
        shuffled = group[:]
        rng.shuffle(shuffled)
        mapping.update(zip(group, shuffled))
    return mapping


def _substituted(text: str, mapping: dict[str, str]) -> str:
    def one(match):
        word = match.group(0)
        new = mapping.get(word.lower())
        if new is None or len(new) != len(word):
            return word
        return new.capitalize() if word[0].isupper() else new

    return _WORD.sub(one, text)


def _variant(table: pa.Table, number: int, mapping: dict[str, str], minhash: MinHashStage) -> pa.Table:
    """Annotated rows of one language as another crawl's pages of it: new ids, texts with the words substituted
    (signatures and text hashes recomputed), URLs on renamed domains. Duplicates across variants occur as in a
    crawl: 1% of pages keep their text (exact duplicates), 1% have one line substituted (near duplicates), 1% keep
    their URL; the templated domains keep their names."""
    rng = random.Random(number)
    texts, urls = [], []
    for text, url in zip(table.column("text").to_pylist(), table.column("url").to_pylist()):
        roll = rng.random()
        if roll < 0.01:
            texts.append(text)
        elif roll < 0.02:
            lines = text.split("\n")
            line = rng.randrange(len(lines))
            lines[line] = _substituted(lines[line], mapping)
            texts.append("\n".join(lines))
        else:
            texts.append(_substituted(text, mapping))
        scheme, _, rest = url.partition("://")
        host, _, path = rest.partition("/")
        if rng.random() >= 0.01:
            host = host if host.startswith("template") else host.replace(".example.test", f".v{number}.example.test")
            url = f"{scheme}://{host}/v{number}/{path}"
        urls.append(url)
    table = set_column(table, "text", pa.array(texts, pa.string()))
    table = set_column(table, "url", pa.array(urls, pa.string()))
    table = set_column(table, "id", pc.binary_join_element_wise(table.column("id"), f"-v{number}", ""))
    return minhash(table)


def _page_of(doc_id: str) -> str:
    """The generated page a copy (:func:`_variant`) was made from."""
    return re.sub(r"-v\d+$", "", doc_id)


def _add_variants(manifest, generator, label: str, variants: int) -> tuple[int, list[list[str]]]:
    """Write ``variants`` copies (:func:`_variant`) of the run's annotated ``label`` rows as further annotated
    units, with done records. Returns the language's annotated rows per copy (the originals too), and each copy's
    annotated files (the originals' first)."""
    folder = RunFolder(manifest.output)
    minhash = MinHashStage(manifest.dedup)
    originals = [load_done(done) for done in folder.done_records()]
    mappings = {number: _word_bijection(generator, number) for number in range(1, variants + 1)}  # one per copy, all files
    rows, files = 0, [[] for _ in range(variants + 1)]
    for original in originals:
        files[0].append(str(folder.unit_files(original.unit)[0]))
        table = pq.read_table(files[0][-1], filters=[("lang_script", "=", label)])
        rows += table.num_rows
        for number in range(1, variants + 1):
            unit = f"{original.unit}.variant{number}"
            annotations, done = folder.unit_files(unit)
            pq.write_table(_variant(table, number, mappings[number], minhash), annotations)
            write_done(done, UnitResult(unit, table.num_rows, {"text_record": table.num_rows}, [], 0.0))
            files[number].append(str(annotations))
    return rows, files


@pytest.mark.slow
def test_a_language_of_300000_documents_finishes_within_the_budget(repo, ray_local, ray_address, tmp_path_factory):
    """~310,000 annotated rows of one language (~90 KB each in the whole-language path: ~28 GB) finalized with a
    1 GiB budget; then the language's finalize alone in a fresh process, to read its peak memory.

    Annotating 300,000 pages takes most of an hour here, so 40,000 generated pages go through the real annotate
    pass and their annotations are copied nine times at the Parquet level (:func:`_variant`): the language-wide
    steps see ten times the rows, with duplicates across the copies."""
    generator = load_script(repo, "make_synthetic_language")
    inputs = generator.write_language(tmp_path_factory.mktemp("synthetic-big-in"), SLOW_ANNOTATED_PAGES, files=10)
    output = tmp_path_factory.mktemp("synthetic-big-out")
    manifest = _manifest(repo, inputs, output, SLOW_BUDGET_MB)
    annotate(manifest, manifest.input_files(), manifest.ray.workers, progress=False)
    per_copy, files = _add_variants(manifest, generator, LABEL, SLOW_VARIANTS)
    annotated = per_copy * (SLOW_VARIANTS + 1)
    assert annotated > 0.7 * SLOW_ANNOTATED_PAGES * (SLOW_VARIANTS + 1)

    stats = {s["lang_script"]: s for s in reselect(manifest, progress=False)["languages"]}[LABEL]
    assert stats["annotated"] == annotated
    folder = RunFolder(output)
    kept = sum(pq.read_metadata(p).num_rows for p in folder.kept_files_of(LABEL))
    removed = sum(pq.read_metadata(p).num_rows for p in partition(folder.removed, LABEL).glob("part-*.parquet"))
    assert kept == stats["documents"] and kept + removed == annotated
    assert stats["documents"] > 0.4 * annotated and stats["lid_outlier"]["judged"]
    # duplicates across the copies (1% each of kept texts, one-line edits, kept URLs) are found across files
    removed_rows = pa.concat_tables(pq.read_table(p, columns=["id", "drop_reason", "duplicate_of"]) for p in partition(folder.removed, LABEL).glob("part-*.parquet"))
    across = Counter(reason for doc_id, reason, of in zip(*(removed_rows.column(c).to_pylist() for c in removed_rows.column_names))
                     if of and _page_of(of) == _page_of(doc_id) and of != doc_id)
    assert all(across[reason] > 0.004 * annotated for reason in ("dedup:exact", "dedup:near", "dedup:url")), across
    assert "finalize swa_Latn in batches" in folder.run_log.read_text()
    peak = _peak(repo, output, SLOW_BUDGET_MB, ray_address)
    assert peak["peak_mb"] < SLOW_BUDGET_MB, peak  # the whole process, interpreter and Ray client included
    # what the language's size costs beyond a batch: the peak of the originals and two copies, against all of them
    smaller = _peak(repo, output, SLOW_BUDGET_MB, ray_address, files=[f for copy in files[:3] for f in copy])
    per_document = (peak["peak_mb"] - smaller["peak_mb"]) * 2**20 / (annotated - 3 * per_copy)
    print(f"{annotated} documents ({stats['documents']} kept), finalize in a fresh process: {peak}; {3 * per_copy} documents: {smaller};"
          f" {per_document:.0f} bytes a document")

    # in shards: the same rows and statistics, and a finalize task whose memory does not grow with the language
    batched = _outputs(output)
    reselect(_manifest(repo, inputs, output, SLOW_BUDGET_MB, shard_rows=SLOW_SHARD_ROWS), progress=False)
    sharded = _outputs(output)
    assert sharded["dataset_shards"] > batched["dataset_shards"] // 2
    _assert_same_output(sharded, batched)
    del sharded, batched
    assert "finalize swa_Latn in shards" in folder.run_log.read_text()
    peak = _peak(repo, output, SLOW_BUDGET_MB, ray_address, shard_rows=SLOW_SHARD_ROWS)
    smaller = _peak(repo, output, SLOW_BUDGET_MB, ray_address, files=[f for copy in files[:3] for f in copy], shard_rows=SLOW_SHARD_ROWS)
    assert peak["memory"]["shards"] >= 7 and peak["memory"]["largest_shard"] <= 1.25 * SLOW_SHARD_ROWS
    growth = (peak["peak_mb"] - smaller["peak_mb"]) * 2**20 / (annotated - 3 * per_copy)
    print(f"in shards of {SLOW_SHARD_ROWS}: {peak}; {3 * per_copy} documents: {smaller}; {growth:.0f} bytes a document in the finalize task")
    assert growth < 100  # sums, an id sample and handles: not a row's state (the batched task: ~350-600 bytes)

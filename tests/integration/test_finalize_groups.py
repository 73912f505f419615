"""Small languages share finalize tasks (``stages.write.small_language_rows``; pipeline/finalize.py::finalize_groups):
each annotated file is read once for the whole group, and the output is the one a task per language gives."""

from __future__ import annotations

import json
from dataclasses import replace

import pyarrow as pa
import pyarrow.parquet as pq

from longtail.pipeline.finalize import finalize_groups, language_sizes, rows_per_chunk
from longtail.pipeline.run import reselect
from longtail.pipeline.runfolder import RunFolder
from longtail.tests.support import without_seconds


def _outputs(output) -> dict:
    found = {}
    for folder in ("dataset", "removed"):
        parts = sorted((output / folder).glob("lang_script=*/part-*.parquet"))
        tables = [pq.read_table(p).append_column("partition", pa.array([p.parent.name] * pq.read_metadata(p).num_rows)) for p in parts]
        found[folder] = pa.concat_tables(tables).sort_by([("partition", "ascending"), ("id", "ascending")])
        found[f"{folder}_shards"] = [str(p.relative_to(output)) for p in parts]
    found["languages"] = json.loads((output / "stats" / "languages.json").read_text())
    stages = json.loads((output / "stats" / "stages.json").read_text())
    found["stages"] = without_seconds(stages)
    return found


def _with_rows(manifest, small_language_rows: int):
    return replace(manifest, write=replace(manifest.write, small_language_rows=small_language_rows))


def test_grouped_small_languages_give_what_one_task_per_language_gives(sample_run_copy):
    run = sample_run_copy
    sizes = language_sizes([str(p) for p in RunFolder(run.output).annotated_files()])
    assert len(sizes) > 5
    groups = finalize_groups(sizes, run.manifest.write.small_language_rows, run.manifest.write.finalize_memory_mb, run.manifest.ray.workers)
    assert len(groups) < len(sizes) and max(len(g) for g in groups) > 1  # the default groups the sample's languages
    reselect(_with_rows(run.manifest, 0), progress=False)  # one task per language, as before groups
    alone = _outputs(run.output)
    reselect(run.manifest, progress=False)
    grouped = _outputs(run.output)
    for folder in ("dataset", "removed"):
        assert grouped[f"{folder}_shards"] == alone[f"{folder}_shards"]
        assert grouped[folder].schema == alone[folder].schema
        for column in alone[folder].column_names:
            assert grouped[folder].column(column).equals(alone[folder].column(column)), (folder, column)
    assert grouped["languages"] == alone["languages"]
    assert grouped["stages"] == alone["stages"]


def test_finalize_groups_packs_small_languages_and_leaves_big_ones_alone():
    sizes = {"aaa_Latn": (30_000, 90_000_000), "bbb_Latn": (120, 300_000), "ccc_Cyrl": (80, 200_000),
             "ddd_Ethi": (900, 2_000_000), "eee_Latn": (700, 1_500_000), "fff_Arab": (5, 9_000)}
    groups = finalize_groups(sizes, small_language_rows=5000, memory_mb=2048, workers=2)
    assert ["aaa_Latn"] in groups  # over small_language_rows: a task of its own
    small = [g for g in groups if g != ["aaa_Latn"]]
    assert sorted(label for g in small for label in g) == ["bbb_Latn", "ccc_Cyrl", "ddd_Ethi", "eee_Latn", "fff_Arab"]
    assert 2 <= len(small) < 5  # up to an even share of the 1,805 small-language rows per worker in each
    assert all(sum(sizes[label][0] for label in g) <= 903 for g in small)
    assert finalize_groups(sizes, small_language_rows=0, memory_mb=2048, workers=2) == [[label] for label in sorted(sizes)]
    # the memory budget bounds a group: pages of 1,000,000 characters fit 45 at a time in 2 GB
    heavy = {f"l{i:02d}_Latn": (30, 30_000_000) for i in range(20)}
    assert rows_per_chunk(2048, 1_000_000) == 45
    assert [len(g) for g in finalize_groups(heavy, 5000, 2048, 1)] == [1] * 20

"""A language finalized in shards (pipeline/finalize_sharded.py): exact order statistics, against numpy over the
concatenation, with many ties and uneven shards; the LID core's reference pages picked shard by shard."""

from __future__ import annotations

import numpy as np
import pytest

from longtail.filters.perplexity_buckets import sorted_percentile
from longtail.pipeline.finalize_sharded import _quotas, order_statistics, percentiles
from longtail.stages.dedup.distributed import LocalEngine


def _shards(seed: int, sizes, distinct: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [np.sort(rng.integers(0, distinct, size).astype(np.float64) / 7) for size in sizes]


@pytest.mark.parametrize("sizes,distinct", [((5000, 3000, 1, 0, 7000), 50), ((20000, 20000), 10**9), ((3,), 2), ((2500, 4100, 900), 3)])
def test_every_rank_is_the_value_numpy_sorts_there(sizes, distinct):
    shards = _shards(len(sizes) * distinct, sizes, distinct)
    whole = np.sort(np.concatenate(shards))
    ranks = sorted({0, len(whole) - 1, len(whole) // 2, *np.random.default_rng(1).integers(0, len(whole), 40).tolist()})
    assert order_statistics(LocalEngine(), shards, ranks) == [float(whole[r]) for r in ranks]


def test_percentiles_are_the_one_percentile_definition():
    shards = _shards(3, (1234, 999, 4000), 300)
    whole = np.sort(np.concatenate(shards))
    qs = (10, 25, 50, 75, 90, 99.9)
    assert percentiles(LocalEngine(), shards, len(whole), qs) == [sorted_percentile(whole, q) for q in qs]


def test_ties_at_the_cut_go_to_earlier_shards():
    shards = [np.array([1.0, 2.0, 2.0]), np.array([2.0, 2.0, 3.0]), np.array([0.5, 2.0])]
    below, quotas = _quotas(LocalEngine(), shards, 2.0, 5)  # the 5 smallest: 1.0, 0.5 and three of the five 2.0s
    assert below == [1, 0, 1] and quotas == [2, 1, 0]


def test_the_shards_reference_pages_are_the_whole_cores():
    from longtail.pipeline.finalize_sharded import references_in_shard
    from longtail.stages.lid_outlier import reference_rows, reference_step

    rng = np.random.default_rng(5)
    for rows, core_share in ((9_000, 0.5), (40_000, 0.3), (1_500, 0.9)):
        core = np.sort(rng.choice(rows, int(rows * core_share), replace=False))
        bounds = [0, *sorted(rng.choice(rows, 3, replace=False).tolist()), rows]  # four shards of row keys
        found, before = [], 0
        for start, end in zip(bounds, bounds[1:]):
            local = core[(core >= start) & (core < end)] - start
            found.extend((start + references_in_shard(local, before, reference_step(len(core)))).tolist())
            before += len(local)
        assert found == reference_rows(core).tolist() and len(found) <= 1000


def test_annotated_files_are_split_in_groups_of_consecutive_files():
    from longtail.pipeline.finalize_sharded import _file_groups

    assert _file_groups([5, 0, 3, 4, 9, 1, 1], 8) == [[0, 2], [3], [4], [5, 6]]  # a file bigger than the cap alone
    assert _file_groups([0, 0], 8) == []


def test_a_partitioned_file_gives_each_receiver_its_batch(tmp_path):
    import pyarrow as pa

    from longtail.fileio import partitioned_schema, read_partition, write_partitioned

    schema = pa.schema([("id", pa.string()), ("n", pa.int64())])
    rows = pa.table({"n": [1, 2, 3, 4], "id": ["a", "b", "c", "d"]})  # columns in another order than the schema
    target = tmp_path / "out" / "g.arrow"
    write_partitioned(target, [rows.slice(0, 3), None, pa.concat_tables([rows.slice(3, 1), rows.slice(3, 1)])], schema)
    assert partitioned_schema(target) == schema
    assert [read_partition(target, i).to_pydict() for i in range(3)] == [
        {"id": ["a", "b", "c"], "n": [1, 2, 3]}, {"id": [], "n": []}, {"id": ["d", "d"], "n": [4, 4]}]
    assert [p.name for p in target.parent.iterdir()] == ["g.arrow"]  # no temporary file left
    with pytest.raises(ValueError, match="out of range"):
        read_partition(target, 3)


def test_a_partitioned_file_holds_text_in_64_bit_offsets_and_gives_it_back_as_written(tmp_path, monkeypatch):
    """A receiver's rows are one batch, so the file keeps strings with 64-bit offsets (more than 2 GB of text in
    one batch); they come back in the written types, in chunks a 32-bit column can hold."""
    import pyarrow as pa

    from longtail import fileio

    schema = pa.schema([("text", pa.string()), ("raw", pa.binary()), ("tags", pa.list_(pa.string())), ("n", pa.int32())])
    rows = pa.table({"text": [f"page {i}" for i in range(10)], "raw": [b"x" * i for i in range(10)], "tags": [["a"]] * 10, "n": list(range(10))}, schema=schema)
    target = tmp_path / "g.arrow"
    fileio.write_partitioned(target, [rows, rows.slice(0, 0)], schema)
    with pa.OSFile(str(target)) as handle:
        stored = pa.ipc.open_file(handle).schema
    assert stored.field("text").type == pa.large_string() and stored.field("raw").type == pa.large_binary()
    monkeypatch.setattr(fileio, "_READ_CHUNK_ROWS", 4)
    back = fileio.read_partition(target, 0)
    assert back.schema == schema and back.equals(rows)
    assert [len(chunk) for chunk in back.column("text").chunks] == [4, 4, 2]
    assert fileio.partitioned_schema(target) == schema and fileio.read_partition(target, 1).schema == schema


def _annotated_file(path, ids: list[str], label: str, with_url: bool) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {"id": ids, "lang_script": [label if i % 3 else "eng_Latn" for i in range(len(ids))], "text": [f"text of {i}" for i in ids]}
    if with_url:
        columns["url"] = [f"https://example.org/{i}" for i in ids]
    pq.write_table(pa.table(columns), path)


def test_split_groups_spill_and_gather_give_each_shard_its_id_range_in_file_order(tmp_path, monkeypatch):
    """Annotated files split in two groups (one of three files, through the spill), gathered into three shards:
    every row of the label lands in the shard of its id range once, rows in annotated-file order, and a column
    one file lacks comes as nulls."""
    import pyarrow.parquet as pq

    from longtail.pipeline.finalize_sharded import _gather_shard, _split_files

    monkeypatch.setenv("LONGTAIL_SCRATCH", str(tmp_path / "scratch"))
    rng = np.random.default_rng(5)
    files = []
    for n in range(4):
        ids = [f"{x:04d}" for x in rng.choice(10_000, 60, replace=False)]
        files.append(str(tmp_path / f"annotated-{n}.parquet"))
        _annotated_file(files[-1], ids, "swa_Latn", with_url=n != 1)
    boundaries = ["3000", "6500"]
    folder = tmp_path / "split"
    counts = [_split_files(g, group, "swa_Latn", boundaries, [None] * len(group), [None] * len(group), str(folder))[0]
              for g, group in enumerate([files[:3], files[3:]])]
    assert not any((tmp_path / "scratch").iterdir())  # spills removed
    expected = [[], [], []]
    for f in files:
        table = pq.read_table(f)
        for i, label in zip(table.column("id").to_pylist(), table.column("lang_script").to_pylist()):
            if label == "swa_Latn":
                expected[int(np.searchsorted(boundaries, i, side="right"))].append(i)
    assert np.array(counts).sum(axis=0).tolist() == [len(e) for e in expected]
    for s in range(3):
        target = tmp_path / f"s{s}.parquet"
        _gather_shard(s, [str(folder / "groups" / f"g{g:06d}.arrow") for g in range(2)], str(target))
        shard = pq.read_table(target)
        # within a file, read_languages sorts by id; files follow each other in order
        by_file = [sorted(i for i in pq.read_table(f).column("id").to_pylist() if i in set(expected[s])) for f in files]
        assert shard.column("id").to_pylist() == [i for ids in by_file for i in ids]
        assert set(shard.column("lang_script").to_pylist()) == {"swa_Latn"}
        assert shard.column("url").null_count == len(by_file[1])  # the file without urls

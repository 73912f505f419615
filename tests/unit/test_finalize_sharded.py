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

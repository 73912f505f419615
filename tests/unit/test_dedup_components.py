"""Connected components by large-star / small-star steps (stages/dedup/distributed.py, ``_star_components``): the
same forest, split by node partition, as one union-find over every edge, with engine objects and with files."""

from __future__ import annotations

import random

import pyarrow as pa
import pytest

from longtail.stages.dedup.distributed import LocalEngine, _Exchange, _forest, _split_forest_task, _star_components


def _graph(seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    names = sorted({f"n{rng.randint(0, 10**6):07d}" for _ in range(rng.randint(1, 300))})
    if seed % 3 == 0:  # one long path in random order: the most steps
        rng.shuffle(names)
        return list(zip(names, names[1:]))
    edges = [(rng.choice(names), rng.choice(names)) for _ in range(rng.randint(0, 2 * len(names)))]
    return [(a, b) for a, b in edges if a != b]


def _forest_of(edges) -> pa.Table:
    return _forest(pa.array([a for a, _ in edges], pa.string()), pa.array([b for _, b in edges], pa.string()))


@pytest.mark.parametrize("exchange", [False, True])
@pytest.mark.parametrize("seed", range(12))
def test_star_steps_give_the_union_find_forest(seed, exchange, tmp_path):
    edges = _graph(seed)
    partitions = 1 + seed % 4
    forests = [_forest_of(edges[p::partitions]) for p in range(partitions)]  # each partition's own forest, as confirm gives
    expected = _split_forest_task(partitions, _forest_of(edges))
    expected = list(expected) if partitions > 1 else [expected]
    engine = LocalEngine()
    got = engine.get(_star_components(_Exchange(engine, str(tmp_path) if exchange else None).send, engine, forests, partitions))
    assert [g.to_pydict() for g in got] == [e.to_pydict() for e in expected]
    if edges:
        assert sum(g.num_rows for g in got) == len({n for e in edges for n in e})

"""What a stage is: a small object that loads its models in ``setup()`` and maps a batch to a batch.

Stages never import Ray; :mod:`longtail.pipeline.ray_backend` runs them on Ray Data. Constructors take plain
settings only, so a stage pickles cheaply to any worker and does nothing expensive until ``setup()``.

A stage declares its contract as class attributes: ``reads`` (columns it needs), ``adds`` (columns it adds or
replaces) and, rarely, ``removes``. A :class:`Chain` checks the contracts when it is built (every column a
stage reads comes from the input or an earlier stage) and keeps the bookkeeping once, around each call, so no
stage counts anything itself: documents in and out, documents dropped per reason, seconds.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Protocol, runtime_checkable

import pyarrow as pa
import pyarrow.compute as pc

DROP_REASON = "drop_reason"  # null = the document is still in; set by selection and dedup, never cleared
REMOVED_ROWS = "(rows removed)"  # "dropped" key for rows a stage took out of the batch instead of marking them


@runtime_checkable
class Stage(Protocol):
    name: str
    reads: tuple[str, ...]
    adds: tuple[str, ...]

    def setup(self) -> None: ...

    def __call__(self, batch: pa.Table) -> pa.Table: ...


class ColumnContractError(ValueError):
    """A stage reads a column that neither the chain's input nor an earlier stage provides."""


def check_columns(stages: Iterable, input_columns: Iterable[str]) -> set[str]:
    """Check that every stage's ``reads`` are available when it runs; return the columns after the last stage."""
    available = set(input_columns)
    for position, stage in enumerate(stages):
        missing = [c for c in getattr(stage, "reads", ()) if c not in available]
        if missing:
            raise ColumnContractError(
                f"stage {getattr(stage, 'name', type(stage).__name__)!r} (position {position}) reads {', '.join(missing)}, "
                f"which neither the input nor an earlier stage provides (available: {', '.join(sorted(available)) or 'none'})"
            )
        available -= set(getattr(stage, "removes", ()))
        available |= set(getattr(stage, "adds", ()))
    return available


@dataclass
class StageCounters:
    """One stage's bookkeeping: documents in (not dropped yet), out (not dropped after it), dropped per reason."""

    documents_in: int = 0
    documents_out: int = 0
    dropped: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"in": self.documents_in, "out": self.documents_out, "dropped": dict(sorted(self.dropped.items())), "seconds": round(self.seconds, 3)}

    def add(self, other: dict) -> None:
        """Add counters in :meth:`as_dict` form (another unit's, another language's)."""
        self.documents_in += other.get("in", 0)
        self.documents_out += other.get("out", 0)
        self.dropped.update(other.get("dropped", {}))
        self.seconds += other.get("seconds", 0.0)


def sum_counters(many: Iterable[dict[str, dict]]) -> dict[str, dict]:
    """Sum ``{stage: counters}`` dicts (one per unit or language) stage by stage, in first-seen stage order."""
    total: dict[str, StageCounters] = {}
    for counters in many:
        for name, values in (counters or {}).items():
            total.setdefault(name, StageCounters()).add(values)
    return {name: c.as_dict() for name, c in total.items()}


def _live(batch: pa.Table) -> int:
    if DROP_REASON not in batch.column_names:
        return batch.num_rows
    return batch.column(DROP_REASON).null_count


def _newly_dropped(before: pa.Table, after: pa.Table) -> Counter:
    """Reasons of the rows a stage marked: no ``drop_reason`` before, one after (rows are aligned)."""
    if DROP_REASON not in after.column_names or after.num_rows != before.num_rows or after.num_rows == 0:
        return Counter()
    reasons = after.column(DROP_REASON)
    marked = pc.is_valid(reasons)
    if DROP_REASON in before.column_names:
        marked = pc.and_(marked, pc.is_null(before.column(DROP_REASON)))
    return Counter(pc.filter(reasons, marked).to_pylist())


class Chain:
    """Stages run in order, with their column contracts checked when the chain is built and counters kept per
    stage (:class:`StageCounters`). ``input_columns``: the columns of the batches the chain will be given.
    Iterating a chain gives its stages."""

    def __init__(self, stages: Iterable, input_columns: Iterable[str]):
        self.stages = list(stages)
        names = [stage.name for stage in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"stage names must be unique in a chain: {names}")
        self.input_columns = tuple(input_columns)
        self.output_columns = check_columns(self.stages, self.input_columns)
        self.counters = {name: StageCounters() for name in names}

    def __iter__(self):
        return iter(self.stages)

    def setup(self) -> None:
        for stage in self.stages:
            stage.setup()

    def __call__(self, batch: pa.Table) -> pa.Table:
        for stage in self.stages:
            counters = self.counters[stage.name]
            live = _live(batch)
            started = time.perf_counter()
            result = stage(batch)
            counters.seconds += time.perf_counter() - started
            counters.documents_in += live
            counters.documents_out += _live(result)
            counters.dropped.update(_newly_dropped(batch, result))
            if result.num_rows < batch.num_rows:
                counters.dropped[REMOVED_ROWS] += batch.num_rows - result.num_rows
            batch = result
        return batch

    def stats(self) -> dict[str, dict]:
        """``{stage name: {"in", "out", "dropped", "seconds"}}`` in chain order."""
        return {name: counters.as_dict() for name, counters in self.counters.items()}


def set_column(table: pa.Table, name: str, values, type_=None) -> pa.Table:
    """Add or replace a column."""
    array = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, type=type_)
    index = table.schema.get_field_index(name)
    if index >= 0:
        return table.set_column(index, name, array)
    return table.append_column(name, array)


def run_chain(stages, batch: pa.Table) -> pa.Table:
    for stage in stages:
        batch = stage(batch)
    return batch

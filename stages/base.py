"""What a stage is: a small object that loads its models in ``setup()`` and maps a batch to a batch.

Stages never import Ray; :mod:`longtail.pipeline.ray_backend` runs them on Ray Data. Constructors take plain
settings only, so a stage pickles cheaply to any worker and does nothing expensive until ``setup()``.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import pyarrow as pa


@runtime_checkable
class Stage(Protocol):
    name: str

    def setup(self) -> None: ...

    def __call__(self, batch: pa.Table) -> pa.Table: ...


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

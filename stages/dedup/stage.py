"""Dedup as a finalize stage: one language's selected documents are clustered, verdicts joined back to every row.

The clustering is :func:`longtail.stages.dedup.distributed.cluster_language` (in process, or its task graph on
the ``engine`` the pipeline passes, and against ``params.previous_index`` when set); this stage only picks the
documents still in, and maps the verdicts back by row.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from longtail.stages.base import set_column
from longtail.stages.dedup.distributed import INPUT_COLUMNS, ROW_KEY, cluster_language, with_row_key
from longtail.stages.dedup.minhash import MinHashParams

DEDUP_COLUMNS = ("dup_cluster_id", "dup_cluster_size", "duplicate_of")


def attach_clusters(selected: pa.Table, clusters: pa.Table) -> pa.Table:
    """Add the dedup columns to every row, matched by :data:`ROW_KEY` (ids may repeat), which is then dropped.

    Arrow joins do not carry list columns, so the match is a dict."""
    by_row = {row[ROW_KEY]: row for row in clusters.to_pylist()}
    found = [by_row.get(k) for k in selected.column(ROW_KEY).to_pylist()]
    selected = selected.drop_columns([ROW_KEY])
    reasons = [r or (f["dedup_reason"] if f else None) for r, f in zip(selected.column("drop_reason").to_pylist(), found)]
    selected = set_column(selected, "drop_reason", reasons, pa.string())
    selected = set_column(selected, "dup_cluster_id", [f["dup_cluster_id"] if f else None for f in found], pa.string())
    selected = set_column(selected, "dup_cluster_size", [f["dup_cluster_size"] if f else None for f in found], pa.int32())
    return set_column(selected, "duplicate_of", [f["duplicate_of"] if f else None for f in found], pa.string())


class DedupStage:
    """Exact, URL and near dedup of the documents not dropped yet (one language per call); adds the cluster
    columns to every row and the ``dedup:*`` reason to the duplicates."""

    name = "dedup"
    reads = tuple(INPUT_COLUMNS) + ("drop_reason",)
    adds = ("drop_reason",) + DEDUP_COLUMNS

    def __init__(self, params: MinHashParams, label: str, engine=None, partition_memory_mb: int | None = None):
        self.params = params
        self.label = label
        self.engine = engine  # a TaskEngine (the pipeline's Ray one), or None for in-process
        self.partition_memory_mb = partition_memory_mb  # budget per partition task: sets the number of partitions

    def setup(self) -> None:
        pass

    def __call__(self, batch: pa.Table) -> pa.Table:
        selected = with_row_key(batch)  # verdicts map back by row: user ids may repeat
        passing = selected.filter(pc.is_null(selected.column("drop_reason")))
        return attach_clusters(selected, cluster_language(passing, self.params, self.label, engine=self.engine,
                                                                partition_memory_mb=self.partition_memory_mb))

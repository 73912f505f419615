"""Columns that selection derives per language from the annotations: perplexity buckets and the templated flag,
and the per-language templated share cap; as functions and as the finalize chain's stages
(:class:`SelectionColumnsStage`, :class:`TemplatedCapStage`).

They need the whole language at once (percentiles of its perplexities, pages of the same domain), so they are
computed in the per-language finalize task, not in the per-file annotate pass; changing their settings needs
no re-annotation. A batch given to these stages is one language's whole table.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.compute as pc

from longtail.stages.base import set_column

from longtail.filters.perplexity_buckets import BUCKET_NAMES, BUCKETS, bucket_codes, bucket_cutoffs
from longtail.filters.quality import Thresholds
from longtail.filters.templated import templated_scores
from longtail.reasons import QUALITY_TEMPLATED


def add_selection_columns(table: pa.Table, limits: Thresholds) -> tuple[pa.Table, dict]:
    """Add ``perplexity_bucket``, ``templated_score`` and ``templated``; return the table and the cut-offs used."""
    perplexities = table.column("perplexity") if "perplexity" in table.column_names else [None] * table.num_rows
    cutoffs = bucket_cutoffs(perplexities, limits.perplexity_bucket_percentiles)
    table = set_column(table, "perplexity_bucket", pa.array(BUCKET_NAMES[bucket_codes(perplexities, cutoffs)], pa.string()))
    urls = table.column("url").to_pylist() if "url" in table.column_names else [None] * table.num_rows
    scores = templated_scores(table.column("text").to_pylist(), urls, table.column("script").to_pylist())
    table = set_column(table, "templated_score", scores, pa.float32())
    table = set_column(table, "templated", [s >= limits.templated_threshold for s in scores], pa.bool_())
    return table, {"cutoffs": [round(c, 2) for c in cutoffs] if cutoffs else None, "percentiles": list(limits.perplexity_bucket_percentiles)}


def cap_templated(selected: pa.Table, limits: Thresholds) -> pa.Table:
    """Drop templated documents beyond ``max_templated_share`` of the selected ones (most typical, by perplexity, kept)."""
    cap = limits.max_templated_share
    if cap is None:
        return selected
    reasons = selected.column("drop_reason").to_pylist()
    flagged = [i for i, (r, t) in enumerate(zip(reasons, selected.column("templated").to_pylist())) if r is None and t]
    unflagged = sum(1 for i, r in enumerate(reasons) if r is None) - len(flagged)
    allowed = len(flagged) if cap >= 1 else int(cap * unflagged / (1 - cap))
    if len(flagged) <= allowed:
        return selected
    perplexities = selected.column("perplexity").to_pylist() if "perplexity" in selected.column_names else [None] * selected.num_rows
    ids = selected.column("id").to_pylist()
    order = sorted(flagged, key=lambda i: (perplexities[i] is None, perplexities[i] or 0.0, ids[i]))
    for i in order[allowed:]:
        reasons[i] = QUALITY_TEMPLATED
    return set_column(selected, "drop_reason", reasons, pa.string())


class SelectionColumnsStage:
    """Adds ``perplexity_bucket``, ``templated_score`` and ``templated`` (``url`` and ``perplexity`` are read
    when present). After a call, :attr:`info` holds the bucket cut-offs it used (for the language's stats)."""

    name = "selection_columns"
    reads = ("text", "script")
    adds = ("perplexity_bucket", "templated_score", "templated")

    def __init__(self, limits: Thresholds):
        self.limits = limits
        self.info: dict | None = None

    def setup(self) -> None:
        pass

    def __call__(self, batch: pa.Table) -> pa.Table:
        batch, self.info = add_selection_columns(batch, self.limits)
        return batch


class TemplatedCapStage:
    """Drops templated documents beyond the language's ``max_templated_share`` (:func:`cap_templated`)."""

    name = "templated_cap"
    reads = ("id", "drop_reason", "templated")
    adds = ("drop_reason",)

    def __init__(self, limits: Thresholds):
        self.limits = limits

    def setup(self) -> None:
        pass

    def __call__(self, batch: pa.Table) -> pa.Table:
        return cap_templated(batch, self.limits)


def selection_stats(annotated: pa.Table, kept: pa.Table, bucket_info: dict) -> dict:
    return selection_stats_from([selection_counts(annotated, kept)], bucket_info)


def selection_counts(annotated: pa.Table, kept: pa.Table) -> dict:
    """The additive parts of :func:`selection_stats`, of the whole language or of one shard of it."""
    def buckets(table):
        return Counter(table.column("perplexity_bucket").to_pylist()) if table.num_rows else Counter()

    def templated(table):
        return int(pc.sum(pc.cast(table.column("templated"), pa.int64())).as_py() or 0) if table.num_rows else 0

    return {"rows": {"kept": kept.num_rows, "annotated": annotated.num_rows}, "buckets": {"kept": buckets(kept), "annotated": buckets(annotated)},
            "templated": {"kept": templated(kept), "annotated": templated(annotated)}}


def selection_stats_from(parts: list[dict], bucket_info: dict) -> dict:
    """The selection statistics from the :func:`selection_counts` of the language's parts."""
    def total(kind, scope):
        return sum((part[kind][scope] for part in parts), Counter() if kind == "buckets" else 0)

    def share(scope):
        return round(total("templated", scope) / total("rows", scope), 4) if total("rows", scope) else 0.0

    return {
        "perplexity_buckets": {**bucket_info, **{scope: {b: total("buckets", scope).get(b, 0) for b in BUCKETS} for scope in ("kept", "annotated")}},
        "templated": {"kept_share": share("kept"), "annotated_share": share("annotated"), "kept": total("templated", "kept")},
    }

"""Finalize for a language whose per-row state outgrows one task (docs/cluster.md, "Languages bigger than a worker").

:func:`~longtail.pipeline.finalize.finalize_partitioned` reads text in batches but keeps small columns and results
of every row of the language in one task, ~350-600 bytes a document: one 2 GiB task handles ~3M documents, and a
snapshot's English has hundreds of millions. Here the language is split by id range into shards of at most
``stages.write.finalize_shard_rows`` rows (written to the staging folder: local, shared or ``s3://``); tasks
hold one shard each, pass its per-row results to the next step as engine objects, and the finalize task itself
holds only sums, a sample of ids and the LID core's reference texts. Every shuffle (the split, the templated
lines, dedup's steps) goes through partitioned files (:func:`~longtail.fileio.write_partitioned`): one file per
sending task, so thousands of shards make thousands of files, not millions of files or engine objects.

The language-wide rules need order statistics (perplexity bucket cut-offs, the templated cap, the LID core and the
median and MAD of its scores, the statistics' quantiles): :func:`order_statistics` finds them exactly from the
shards' sorted values in two rounds. Templated domains are counted from the shards' (line, page) hashes
(:func:`~longtail.filters.templated.domain_line_pages`), shuffled by line. Shards are id ranges, so a row's key
is its position in the whole language's id order, as in the other two paths: tie-breaks, the LID core, its
reference pages and dedup's node order are the same, and so are the rows, reasons and statistics. Only the shard
files differ (``part-s<shard>-<n>.parquet``).

Without Ray (a :class:`~longtail.stages.dedup.distributed.LocalEngine`) the steps run here one after another and
every shard's state stays in this process: the same output, no memory bound.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from longtail.fileio import (as_path, atomic_path, parquet_rows, partitioned_schema, read_partition, read_table, remove_tree, scratch_dir,
                             write_partitioned)
from longtail.filters.kenlm_model import load_card
from longtail.filters.perplexity_buckets import bucket_codes, perplexity_values, sorted_percentile
from longtail.filters.templated import domain_line_pages, shared_lines, templated_scores
from longtail.reasons import LID_NOT_SELECTED, LID_OUTLIER, QUALITY_TEMPLATED
from longtail.stages.base import StageCounters
from longtail.stages.dedup.distributed import RESULT_SCHEMA, ROW_KEY, WORKER_BASELINE_MB, LocalEngine, cluster_parts, part_rows_within, partition_count
from longtail.stages.dedup.index import language_files
from longtail.stages.lid_outlier import LidOutlierStage, reference_step, sorted_median
from longtail.stages.select import SelectStage
from longtail.stages.selection_columns import selection_counts, selection_stats_from

from longtail.pipeline.bootstrap import BootstrapOutcome, ClassifierOutcome
from longtail.pipeline.finalize_parts import (NEVER_EXPORTED, STATS_PERCENTILES, ClassifierThreshold, LanguageResult, LanguageRows, RowFloats, counted, dedup_part,
                                              kenlm_stats, language_counts, language_stats_from, peak_memory_mb, reset_peak_memory,
                                              selected_small_columns, with_selection_columns, write_language)
from longtail.pipeline.manifest import Manifest
from longtail.pipeline.ray_backend import dedup_engine
from longtail.pipeline.runfolder import read_languages

# What a shard task holds per row beyond one batch of text: finalize_partitioned measured ~350-600 bytes a document
# for the same small columns and results (docs/cluster.md); twice that, for longer ids and URLs.
SHARD_ROW_BYTES = 1_024
SAMPLES_PER_SHARD = 256  # ids sampled per shard to place the id boundaries (shards within ~1/16 of even)
GRID_POINTS = 1_024  # values per shard in order_statistics' first round
SHUFFLE_FOLDER = "_shards"  # under the staging folder: the language's rows split by id range (removed at the end)
PART_ROWS = 256  # rows a shard gets from a split group, on average, at least: ~1 MB reads from an object store


def shard_rows(manifest: Manifest) -> int:
    """Rows one shard task holds: ``stages.write.finalize_shard_rows``, or half the finalize budget (the other half
    for a batch of text) at :data:`SHARD_ROW_BYTES` a row."""
    if manifest.write.finalize_shard_rows:
        return manifest.write.finalize_shard_rows
    return max(1, (manifest.write.finalize_memory_mb - WORKER_BASELINE_MB) * 2**20 // 2 // SHARD_ROW_BYTES)


# --- exact order statistics over sorted arrays held by tasks --------------------------------------------------
def _grid(values: np.ndarray, points: int) -> tuple[int, np.ndarray, int]:
    step = max(1, -(-len(values) // points))
    return len(values), values[::step].copy(), step


def _bracketed(values: np.ndarray, brackets: list[tuple[float, float]]) -> list[tuple[int, np.ndarray]]:
    found = []
    for lo, hi in brackets:
        start, end = np.searchsorted(values, lo, "left"), np.searchsorted(values, hi, "right")
        found.append((int(start), values[start:end].copy()))
    return found


def _below_and_equal(values: np.ndarray, value: float) -> tuple[int, int]:
    start, end = np.searchsorted(values, value, "left"), np.searchsorted(values, value, "right")
    return int(start), int(end - start)


def _deviations(values: np.ndarray, center: float) -> np.ndarray:
    return np.sort(np.abs(values - center))


def order_statistics(engine, handles: list, ranks: list[int]) -> list[float]:
    """The values at ``ranks`` (0-based) of the union of the ascending float arrays behind ``handles``, exact.

    Round one: every shard's every k-th value, which bound how many values lie below any of them; each rank gets
    the tightest bracket [lo, hi] that must hold it. Round two: each shard's count below lo and its values in the
    bracket (about total / GRID_POINTS of them a shard). No task holds more than one shard's values."""
    grids = engine.get([engine.task(_grid)(h, GRID_POINTS) for h in handles])
    candidates = np.unique(np.concatenate([g for _, g, _ in grids]))
    at_most_below = sum(np.minimum(n, np.searchsorted(g, candidates, "left") * k) for n, g, k in grids)  # >= count(< x)
    at_least_up_to = sum(np.where(j > 0, (j - 1) * k + 1, 0) for j, k in ((np.searchsorted(g, candidates, "right"), k) for _, g, k in grids))  # <= count(<= x)
    brackets = []
    for rank in ranks:
        i = int(np.searchsorted(at_most_below, rank, "right")) - 1
        j = int(np.searchsorted(at_least_up_to, rank + 1, "left"))
        brackets.append((float(candidates[i]) if i >= 0 else -math.inf, float(candidates[j]) if j < len(candidates) else math.inf))
    found = engine.get([engine.task(_bracketed)(h, brackets) for h in handles])
    values = []
    for b, rank in enumerate(ranks):
        below = sum(shard[b][0] for shard in found)
        values.append(float(np.sort(np.concatenate([shard[b][1] for shard in found]))[rank - below]))
    return values


class _Ranked:
    """The few values of a sorted sequence that :func:`sorted_percentile` reads, fetched by rank (so the one
    percentile definition serves a language held in shards)."""

    def __init__(self, length: int, values: dict[int, float]):
        self.length, self.values = length, values

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, rank: int) -> float:
        return self.values[rank]


def percentiles(engine, handles: list, total: int, qs) -> list[float]:
    """:func:`~longtail.filters.perplexity_buckets.sorted_percentile` of each ``q`` in ``qs``, over ``total``
    values held sorted by the shards behind ``handles``."""
    ranks = sorted({r for q in qs for r in _percentile_ranks(total, q)})
    ranked = _Ranked(total, dict(zip(ranks, order_statistics(engine, handles, ranks))))
    return [sorted_percentile(ranked, q) for q in qs]


def _percentile_ranks(total: int, q: float) -> tuple[int, int]:
    low = math.floor(q / 100 * (total - 1))
    return low, min(low + 1, total - 1)


def _median(engine, handles: list, total: int) -> float:
    """:func:`~longtail.stages.lid_outlier.sorted_median` of ``total`` values held sorted by the shards."""
    ranks = sorted({total // 2, (total - 1) // 2})
    return sorted_median(_Ranked(total, dict(zip(ranks, order_statistics(engine, handles, ranks)))))


def _quotas(engine, handles: list, value: float, wanted: int) -> tuple[list[int], list[int]]:
    """Per shard: (its values below ``value``, how many of its values equal to it are among the ``wanted``
    smallest of all), ties going to earlier shards (shards are id ranges, so that is row order)."""
    counts = engine.get([engine.task(_below_and_equal)(h, value) for h in handles])
    left, quotas = wanted - sum(below for below, _ in counts), []
    for _, equal in counts:
        quotas.append(min(equal, max(left, 0)))
        left -= quotas[-1]
    return [below for below, _ in counts], quotas


def _length(values: np.ndarray) -> int:
    return len(values)


def _listed(handles, n: int) -> list:
    """A submitter's handles as a list (an engine gives one handle, not a list, for one return)."""
    return list(handles) if n > 1 else [handles]


# --- shards ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Shard:
    label: str
    index: int
    path: str  # the Parquet file its rows were gathered into, in annotated-file order
    offset: int  # the row key of its first row: keys are positions in the whole language's id order
    batch_rows: int

    def rows(self) -> LanguageRows:
        return LanguageRows([self.path], self.label, None, None, self.batch_rows)


def _memory(state: dict | None, held: int) -> dict:
    """The most a shard's steps so far held (``peak_mb``, the worker's resident memory) and added while running
    (``growth_mb``: beyond what the worker held when the step began, ``held``)."""
    peak = peak_memory_mb()
    return {"peak_mb": max(peak, state["peak_mb"] if state else 0), "growth_mb": max(peak - held, state["growth_mb"] if state else 0)}


def _id_sample(path: str, label: str, every: int) -> tuple[int, list[str]]:
    ids = read_table(path, columns=["id"], filters=[("lang_script", "=", label)]).column("id")
    return len(ids), ids.take(pc.sort_indices(ids).take(pa.array(np.arange(0, len(ids), every)))).to_pylist()


def _promoted(tables: list[pa.Table], schema: pa.Schema) -> pa.Table:
    """``tables`` as one table of ``schema`` (their unified schema: columns a file lacks come as nulls)."""
    return pa.concat_tables([schema.empty_table(), *tables], promote_options="default").select(schema.names).cast(schema)


def _split_files(group: int, paths: list[str], label: str, boundaries: list[str], perplexity_files: list, quality_files: list, folder: str) -> tuple[list[int], int]:
    """Task: a group of annotated files' rows of ``label`` (bootstrap overlays applied, as every path reads them),
    written as one partitioned file (``groups/g<group>.arrow``) whose batch ``s`` holds shard ``s``'s rows, the
    files' rows in file order. Returns the rows per shard and the most the task added to its worker (MiB).

    The task holds one annotated file's rows at a time: each file's rows, sorted by shard, go to a spill file in
    this node's scratch folder, and the group's file is written shard by shard from the spills. So a group can be
    far bigger than memory, and a language of thousands of shards still gets parts of hundreds of rows."""
    held = reset_peak_memory()
    bounds = np.asarray(boundaries, dtype=object)
    shards = len(boundaries) + 1
    counts = np.zeros(shards, np.int64)
    with tempfile.TemporaryDirectory(dir=scratch_dir()) as spill:
        spilled, schemas = [], []
        for n, (path, perplexity_file, quality_file) in enumerate(zip(paths, perplexity_files, quality_files)):
            table = read_languages([path], [label], {path: perplexity_file} if perplexity_file else None, {path: quality_file} if quality_file else None)[label]
            shard_of = np.searchsorted(bounds, np.asarray(table.column("id").to_pylist(), dtype=object), side="right")
            table = table.take(pa.array(np.argsort(shard_of, kind="stable")))
            here = np.bincount(shard_of, minlength=shards)
            starts = np.concatenate([[0], np.cumsum(here)[:-1]])
            spilled.append(str(Path(spill) / f"{n}.arrow"))
            write_partitioned(spilled[-1], [table.slice(int(a), int(c)) for a, c in zip(starts, here)], table.schema)
            schemas.append(table.schema)
            counts += here
            del table
        schema = pa.unify_schemas(schemas, promote_options="default")
        write_partitioned(as_path(folder) / "groups" / f"g{group:06d}.arrow",
                          (_promoted([read_partition(f, s) for f in spilled], schema) if counts[s] else None for s in range(shards)), schema)
    return counts.tolist(), peak_memory_mb() - held


def _gather_shard(index: int, group_files: list[str], target: str) -> int:
    """Task: shard ``index``'s rows from the groups' partitioned files, written to its own Parquet file one
    group's part at a time (row groups in group order: the rows in annotated-file order). Returns the most the
    task added to its worker (MiB)."""
    held = reset_peak_memory()
    schema = pa.unify_schemas([partitioned_schema(f) for f in group_files], promote_options="default")
    with atomic_path(target) as tmp, pq.ParquetWriter(str(tmp), schema) as writer:
        for f in group_files:
            writer.write_table(_promoted([read_partition(f, index)], schema))
    return peak_memory_mb() - held


def _file_groups(counts: list[int], cap: int) -> list[list[int]]:
    """Consecutive files (by index, those with rows) in groups of at most ``cap`` rows (a bigger file alone)."""
    groups: list[list[int]] = []
    held = 0
    for n, count in enumerate(counts):
        if not count:
            continue
        if not groups or held + count > cap:
            groups.append([])
            held = 0
        groups[-1].append(n)
        held += count
    return groups


_PAIRS = pa.schema([("line", pa.uint64()), ("page", pa.uint64())])
_LINES = pa.schema([("line", pa.uint64())])


def _shard_lines(shard: _Shard, partitions: int, target: str):
    """Task: the shard's sorted perplexities, and its (domain line, page) hashes written by line partition to
    ``target`` (batch ``p``: partition ``p``); pairs per partition."""
    language = shard.rows()
    values = perplexity_values(language.small.column("perplexity")) if "perplexity" in language.small.column_names else np.zeros(0)
    pairs = [np.zeros((0, 2), np.uint64)]
    for table, _ in language.batches(["text", "url"]):
        urls = table.column("url").to_pylist() if "url" in table.column_names else [None] * table.num_rows
        pairs.append(domain_line_pages(table.column("text").to_pylist(), urls))
    pairs = np.concatenate(pairs)
    part = pairs[:, 0] % np.uint64(partitions)
    by_part = [pairs[part == p] for p in range(partitions)]
    write_partitioned(target, (pa.table([pa.array(held[:, 0]), pa.array(held[:, 1])], schema=_PAIRS) for held in by_part), _PAIRS)
    return np.sort(values[~np.isnan(values)]), np.array([len(held) for held in by_part])


def _shared_part(part: int, line_files: list[str], target: str) -> None:
    """Task: one line partition's shared lines (pages of every shard counted together), written to ``target``
    split by the shard that has them (batch ``s``: the ``s``-th of ``line_files``' shards)."""
    pairs = [read_partition(f, part) for f in line_files]
    arrays = [np.column_stack([t.column("line").to_numpy(), t.column("page").to_numpy()]).reshape(-1, 2).astype(np.uint64) for t in pairs]
    shared = shared_lines(np.concatenate([np.zeros((0, 2), np.uint64), *arrays]))
    write_partitioned(target, (pa.table([pa.array(np.intersect1d(shared, held[:, 0]))], schema=_LINES) for held in arrays), _LINES)


def _shard_select(shard: _Shard, position: int, manifest: Manifest, card: dict | None, cutoffs, shared_files: list[str]):
    """Task: selection columns (templated scores with the language's shared lines: batch ``position`` of every line
    partition's ``shared_files``) and select, batch by batch. Returns the shard's state, the sorted perplexities of
    its live templated rows (the cap's order) and a summary."""
    held = reset_peak_memory()
    limits = manifest.thresholds.updated(manifest.language_thresholds.get(shard.label, {}))
    language = shard.rows()
    n, small = language.rows, language.small
    shared_lines_here = {line for f in shared_files for line in read_partition(f, position).column("line").to_numpy().tolist()}  # a set once, not per batch
    perplexity = perplexity_values(small.column("perplexity")) if "perplexity" in small.column_names else np.full(n, math.nan)
    buckets = bucket_codes(perplexity, cutoffs)
    templated_score, templated = np.zeros(n), np.zeros(n, bool)
    select = SelectStage(manifest.thresholds, manifest.language_thresholds, {shard.label: card} if card else {})
    reasons: list[str | None] = [None] * n
    ceilings = RowFloats(n)
    columns_seconds = select_seconds = 0.0
    for table, keys in language.batches(full=True):
        started = time.perf_counter()
        urls = table.column("url").to_pylist() if "url" in table.column_names else [None] * table.num_rows
        templated_score[keys] = templated_scores(table.column("text").to_pylist(), urls, table.column("script").to_pylist(), shared_lines_here)
        templated[keys] = templated_score[keys] >= limits.templated_threshold
        table = with_selection_columns(table.drop_columns([c for c in NEVER_EXPORTED if c in table.column_names]), keys, buckets, templated_score, templated)
        middle = time.perf_counter()
        table = select(table)
        for key, reason in zip(keys.tolist(), table.column("drop_reason").to_pylist()):
            reasons[key] = reason
        ceilings.set(keys, table.column("max_perplexity"))
        columns_seconds += middle - started
        select_seconds += time.perf_counter() - middle
    counters = {"selection_columns": StageCounters(n, n, Counter(), columns_seconds), "select": StageCounters()}
    counted(counters["select"], None, reasons, select_seconds)
    live = np.array([r is None for r in reasons], bool)
    flagged = live & templated
    known = ~np.isnan(perplexity)
    state = {"perplexity": perplexity, "buckets": buckets, "templated_score": templated_score, "templated": templated,
             "reasons": pa.array(reasons, pa.string()), "ceilings": (ceilings.values, ceilings.valid), **_memory(None, held)}
    summary = {"flagged": int(flagged.sum()), "flagged_unknown": int((flagged & ~known).sum()), "unflagged": int((live & ~templated).sum()),
               "counters": {name: c.as_dict() for name, c in counters.items()}, "max_held": language.max_held}
    return state, np.sort(perplexity[flagged & known]), summary


def _shard_core(shard: _Shard, state: dict, cap: tuple | None, keep: bool):
    """Task: the templated cap (``cap``: (value, ties, unknown) this shard keeps, or None), ``keep_languages``
    (``keep``: False drops every live row) and the sorted negated LID scores of the live rows (the core's order)."""
    held = reset_peak_memory()
    language = shard.rows()
    reasons = state["reasons"].to_pylist()
    counters = {"templated_cap": StageCounters(), "keep_languages": StageCounters()}
    started, before = time.perf_counter(), list(reasons)
    if cap is not None:
        value, ties, unknown = cap
        flagged = np.flatnonzero(np.array([r is None for r in reasons], bool) & state["templated"])
        perplexity = state["perplexity"][flagged]
        drop = np.ones(len(flagged), bool)
        if value is not None:
            drop[perplexity < value] = False
            drop[np.flatnonzero(perplexity == value)[:ties]] = False
        else:  # every templated row with a perplexity is kept
            drop[~np.isnan(perplexity)] = False
        drop[np.flatnonzero(np.isnan(perplexity))[:unknown]] = False
        for row in flagged[drop].tolist():
            reasons[row] = QUALITY_TEMPLATED
    counted(counters["templated_cap"], before, reasons, time.perf_counter() - started)
    before = list(reasons)
    if not keep:
        reasons = [r or LID_NOT_SELECTED for r in reasons]
    counted(counters["keep_languages"], before, reasons, 0.0)
    live = np.array([r is None for r in reasons], bool)
    scores = np.nan_to_num(np.asarray(pc.fill_null(language.small.column("lang_score"), 0.0).to_numpy(zero_copy_only=False), dtype=np.float64), nan=0.0)
    state = {**state, "reasons": pa.array(reasons, pa.string()), "negated_lang_scores": -scores, **_memory(state, held)}
    return state, np.sort(-scores[live]), {"live": int(live.sum()), "counters": {name: c.as_dict() for name, c in counters.items()}}


def _shard_reference(shard: _Shard, state: dict, value: float, ties: int, core_offset: int, step: int):
    """Task: the shard's part of the LID core (live rows whose negated score is below ``value``, and its first
    ``ties`` equal to it) and the texts of its reference pages (every ``step``-th core row in key order, counted
    from the language's first)."""
    held = reset_peak_memory()
    language = shard.rows()
    live = np.array([r is None for r in state["reasons"].to_pylist()], bool)
    negated = state["negated_lang_scores"]
    core = live & (negated < value)
    core[np.flatnonzero(live & (negated == value))[:ties]] = True
    reference = np.zeros(len(core), bool)
    reference[references_in_shard(np.flatnonzero(core), core_offset, step)] = True
    texts = [text for table, keys in language.batches(["text"]) for key, text in zip(keys.tolist(), table.column("text").to_pylist()) if reference[key]]
    return {**state, "core": core, **_memory(state, held)}, texts


def references_in_shard(core_rows: np.ndarray, core_offset: int, step: int) -> np.ndarray:
    """The shard's :func:`~longtail.stages.lid_outlier.reference_rows`: of its core rows (ascending), those whose
    rank in the whole core (``core_offset`` core rows come before the shard's) is a multiple of ``step``."""
    return core_rows[(core_offset + np.arange(len(core_rows))) % step == 0]


def _shard_scores(shard: _Shard, state: dict, common):
    """Task: every live row's common-word share (``common``: the language's CommonWords); the core's, sorted."""
    held = reset_peak_memory()
    language = shard.rows()
    live = np.array([r is None for r in state["reasons"].to_pylist()], bool)
    scores = RowFloats(language.rows)
    for table, keys in language.batches(["text"]):
        for key, text in zip(keys.tolist(), table.column("text").to_pylist()):
            if live[key]:
                scores.values[key], scores.valid[key] = common.score(text or ""), True
    return {**state, "lid_scores": (scores.values, scores.valid), **_memory(state, held)}, np.sort(scores.values[state["core"]])


def _shard_outliers(shard: _Shard, state: dict, floor: float | None):
    """Task: live rows below the LID ``floor`` (None: the split is not judged) dropped as outliers; then its rows'
    keys and liveness (in file order) for dedup's input."""
    held = reset_peak_memory()
    language = shard.rows()
    reasons = state["reasons"].to_pylist()
    started, before = time.perf_counter(), list(reasons)
    outliers = 0
    if floor is not None:
        values, valid = state["lid_scores"]
        for row in np.flatnonzero(valid & (values < floor)).tolist():
            reasons[row] = LID_OUTLIER
            outliers += 1
    counters = StageCounters()
    counted(counters, before, reasons, time.perf_counter() - started)
    alive = np.array([r is None for r in reasons], bool)
    [(_, keys)] = list(language.file_keys())  # the shard's one file
    summary = {"outliers": outliers, "alive": int(alive.sum()), "counters": {"lid_outlier": counters.as_dict()}}
    return {**state, "reasons": pa.array(reasons, pa.string()), **_memory(state, held)}, summary, (shard.offset + keys, alive[keys])


def _dedup_file_part(path: str, label: str, keys_alive: tuple, batch_rows: int, start: int, rows: int) -> pa.Table:
    """Task: dedup's input part of a shard's live rows ``start`` to ``start + rows`` (in file order): a shard's
    live rows can be more than one ``keys`` task may hold."""
    keys, alive = keys_alive
    ordinal = np.cumsum(alive) - 1
    return dedup_part(path, label, keys, alive & (ordinal >= start) & (ordinal < start + rows), batch_rows)


def _shard_write(shard: _Shard, state: dict, staging: str, write, *verdicts: pa.Table):
    """Task: dedup's verdicts applied, the shard's kept and removed rows written (``part-s<shard>-<n>.parquet``);
    its statistics' parts and the sorted perplexities of its kept rows."""
    held = reset_peak_memory()
    language = shard.rows()
    n = language.rows
    reasons = state["reasons"].to_pylist()
    started, before = time.perf_counter(), list(reasons)
    clusters = pa.concat_tables(list(verdicts)) if verdicts else RESULT_SCHEMA.empty_table()
    where = np.full(n, -1, np.int64)
    if clusters.num_rows:
        where[clusters.column(ROW_KEY).to_numpy() - shard.offset] = np.arange(clusters.num_rows)
        found = pc.is_valid(clusters.column("dedup_reason"))
        for key, reason in zip(pc.filter(clusters.column(ROW_KEY), found).to_pylist(), pc.filter(clusters.column("dedup_reason"), found).to_pylist()):
            reasons[key - shard.offset] = reasons[key - shard.offset] or reason
    counters = StageCounters()
    counted(counters, before, reasons, time.perf_counter() - started)
    buckets, templated_score, templated = state["buckets"], state["templated_score"], state["templated"]
    ceilings, lid_scores = RowFloats(0), RowFloats(0)
    ceilings.values, ceilings.valid = state["ceilings"]
    if "lid_scores" in state:
        lid_scores.values, lid_scores.valid = state["lid_scores"]
    else:
        lid_scores.values, lid_scores.valid = np.zeros(n), np.zeros(n, bool)
    characters, size = write_language(language, staging, write, shard.batch_rows, f"s{shard.index:05d}-", (buckets, templated_score, templated), ceilings, lid_scores,
                                      reasons, clusters, where)
    annotated, kept = selected_small_columns(language.small, buckets, templated, reasons)
    kept_perplexity = state["perplexity"][np.array([r is None for r in reasons], bool)]
    summary = {"language": language_counts(annotated, kept, (characters, size)), "selection": selection_counts(annotated, kept),
               "counters": {"dedup": counters.as_dict()}, "max_held": language.max_held, **_memory(state, held)}
    return summary, np.sort(kept_perplexity[~np.isnan(kept_perplexity)])


# --- the finalize task of one language ----------------------------------------------------------------------
def finalize_sharded(manifest: Manifest, label: str, files: list[str], staging: str, bootstrap: BootstrapOutcome | None,
                     classifier: ClassifierOutcome | None, classifier_threshold: ClassifierThreshold, rows: int, batch_rows: int, rows_per_shard: int) -> LanguageResult:
    """:func:`~longtail.pipeline.finalize.finalize_language` for a language of more than ``rows_per_shard`` rows:
    the same rows, drop reasons, statistics and stage counters, from tasks that each hold one shard."""
    engine = dedup_engine() or LocalEngine()
    limits = manifest.thresholds.updated(manifest.language_thresholds.get(label, {}))
    card = bootstrap.card(label) if bootstrap else None
    if card is None and manifest.quality.kenlm_models:
        card = load_card(manifest.quality.kenlm_models, label)
    folder = as_path(staging) / SHUFFLE_FOLDER / label
    remove_tree(folder)

    # id boundaries from a sample, then the annotated files, in groups, split into the shards' part files
    shards_wanted = max(1, -(-rows // rows_per_shard))
    every = max(1, rows // (shards_wanted * SAMPLES_PER_SHARD))
    samples = engine.get([engine.task(_id_sample)(f, label, every) for f in files])
    sample = sorted(i for _, ids in samples for i in ids)
    boundaries = sorted({sample[len(sample) * s // shards_wanted] for s in range(1, shards_wanted)}) if sample else []
    # a split task holds one annotated file's rows at a time (it spills to local disk), so a group is as big as
    # a batch of the finalize budget or as it takes for its parts to average PART_ROWS rows a shard
    groups = _file_groups([count for count, _ in samples], max(batch_rows, (len(boundaries) + 1) * PART_ROWS))
    if not groups:
        raise ValueError(f"no annotated rows for {label}")
    perplexity_files = bootstrap.perplexity_files if bootstrap else None
    quality_files = classifier.quality_files if classifier else None
    split = engine.get([engine.task(_split_files)(g, [files[n] for n in group], label, boundaries,
                                                              [perplexity_files[files[n]] if perplexity_files else None for n in group],
                                                              [quality_files[files[n]] if quality_files else None for n in group], str(folder))
                                  for g, group in enumerate(groups)])
    counts = np.array([c for c, _ in split])
    per_shard = counts.sum(axis=0)
    if int(per_shard.sum()) != rows:
        raise ValueError(f"{label}: {int(per_shard.sum())} rows split into shards, {rows} annotated")
    offsets = np.concatenate([[0], np.cumsum(per_shard)[:-1]]).astype(np.int64)
    group_files = [str(as_path(folder) / "groups" / f"g{g:06d}.arrow") for g in range(len(groups))]
    shard_files = [str(as_path(folder) / f"s{s:05d}.parquet") for s in range(len(per_shard))]
    gathered = engine.get([engine.task(_gather_shard)(s, [group_files[g] for g in np.flatnonzero(counts[:, s]).tolist()], shard_files[s])
                           for s in range(len(per_shard)) if per_shard[s]])
    remove_tree(as_path(folder) / "groups")
    # a shard's task holds its rows' state in half the budget (shard_rows), so its batches of text get the other half
    shard_batch_rows = max(1, batch_rows // 2)
    shards = [_Shard(label, s, shard_files[s], int(offsets[s]), shard_batch_rows) for s in range(len(per_shard)) if per_shard[s]]
    names = ["selection_columns", "select", "templated_cap"] + (["keep_languages"] if manifest.languages is not None else []) + ["lid_outlier", "dedup"]
    counters = {name: StageCounters() for name in names}

    def task(function, num_returns=1):
        """A submitter whose handles come as a list of ``num_returns``."""
        submit = engine.task(function, num_returns)
        return lambda *args: _listed(submit(*args), num_returns)

    def count(summaries):
        for summary in summaries:
            for name, values in summary["counters"].items():
                if name in counters:
                    counters[name].add(values)

    # bucket cut-offs, and the (line, page) pairs of templated domains shuffled by line
    # (as many line partitions as shards: a partition's pairs are about a shard's, which a shard task holds; the
    # exchange is through files, shards + partitions of them, not shards x partitions engine objects)
    partitions = max(1, len(shards))
    line_files = [str(as_path(folder) / "lines" / f"s{shard.index:05d}.arrow") for shard in shards]
    first = [task(_shard_lines, 2)(shard, partitions, target) for shard, target in zip(shards, line_files)]
    perplexity_handles = [out[0] for out in first]
    perplexity_total = sum(engine.get([engine.task(_length)(h) for h in perplexity_handles]))
    cutoffs = tuple(percentiles(engine, perplexity_handles, perplexity_total, limits.perplexity_bucket_percentiles)) if perplexity_total else None
    bucket_info = {"cutoffs": [round(c, 2) for c in cutoffs] if cutoffs else None, "percentiles": list(limits.perplexity_bucket_percentiles)}
    pair_counts = np.array(engine.get([out[1] for out in first]))
    with_pairs = np.flatnonzero(pair_counts.sum(axis=0)).tolist()
    shared_files = [str(as_path(folder) / "shared" / f"p{p:05d}.arrow") for p in with_pairs]
    engine.get([engine.task(_shared_part)(p, line_files, target) for p, target in zip(with_pairs, shared_files)])
    remove_tree(as_path(folder) / "lines")
    del first, perplexity_handles

    # selection columns and select; then the templated cap from the live templated rows' perplexities
    selected = [task(_shard_select, 3)(shard, position, manifest, card, cutoffs, shared_files) for position, shard in enumerate(shards)]
    states = [out[0] for out in selected]
    summaries = engine.get([out[2] for out in selected])
    count(summaries)
    caps = [None] * len(shards)
    cap = limits.max_templated_share
    if cap is not None:
        flagged, unknown, unflagged = (sum(s[k] for s in summaries) for k in ("flagged", "flagged_unknown", "unflagged"))
        allowed = flagged if cap >= 1 else int(cap * unflagged / (1 - cap))
        if flagged > allowed:
            known = flagged - unknown
            if allowed < known:
                value = order_statistics(engine, [out[1] for out in selected], [allowed])[0]
                caps = [(value, ties, 0) for ties in _quotas(engine, [out[1] for out in selected], value, allowed)[1]]
            else:
                left, caps = allowed - known, []
                for summary in summaries:
                    caps.append((None, 0, min(summary["flagged_unknown"], left)))
                    left -= caps[-1][2]
    max_held = max(s["max_held"] for s in summaries)
    del selected

    # keep_languages, then the LID core: the top core_size live rows by score (ties in row order)
    keep = manifest.languages is None or label in frozenset(manifest.languages)
    cored = [task(_shard_core, 3)(shard, state, caps[s], keep) for s, (shard, state) in enumerate(zip(shards, states))]
    states = [out[0] for out in cored]
    summaries = engine.get([out[2] for out in cored])
    count(summaries)
    live = sum(s["live"] for s in summaries)
    outlier = LidOutlierStage.for_split(label)
    common, floor = None, None
    if live >= outlier.min_core:
        size = outlier.core_size(live)
        negated = [out[1] for out in cored]
        value = order_statistics(engine, negated, [size - 1])[0]
        below, ties = _quotas(engine, negated, value, size)
        core_counts = [b + t for b, t in zip(below, ties)]
        core_offsets = np.concatenate([[0], np.cumsum(core_counts)[:-1]]).tolist()
        step = reference_step(size)
        referenced = [task(_shard_reference, 2)(shard, state, value, ties[s], int(core_offsets[s]), step) for s, (shard, state) in enumerate(zip(shards, states))]
        states = [out[0] for out in referenced]
        common = outlier.common_words(text for texts in engine.get([out[1] for out in referenced]) for text in texts)
        del referenced
    del cored
    if common is None:  # too few (distinct) confident pages to judge against
        outlier.not_judged(live)
    else:
        common_handle = engine.put(common)
        scored = [task(_shard_scores, 2)(shard, state, common_handle) for shard, state in zip(shards, states)]
        states = [out[0] for out in scored]
        core_scores = [out[1] for out in scored]
        median = _median(engine, core_scores, size)
        deviations = [engine.task(_deviations)(h, median) for h in core_scores]
        floor = outlier.floor(median, _median(engine, deviations, size))
        del scored, core_scores, deviations

    # outliers; dedup's inputs read from the shard files, clustered, and the verdicts left split by shard
    judged = [task(_shard_outliers, 3)(shard, state, floor) for shard, state in zip(shards, states)]
    states = [out[0] for out in judged]
    summaries = engine.get([out[1] for out in judged])
    count(summaries)
    if common is not None:
        outlier.judged(live, size, floor, median, sum(s["outliers"] for s in summaries))
    part_rows = part_rows_within(manifest.dedup, manifest.dedup_partition_memory_mb)
    parts = [engine.task(_dedup_file_part)(shard.path, label, out[2], batch_rows, start, part_rows)
             for shard, out, summary in zip(shards, judged, summaries) for start in range(0, summary["alive"], part_rows)]
    alive = sum(s["alive"] for s in summaries)
    del judged
    index_files = language_files(manifest.dedup.previous_index, label, manifest.dedup) if manifest.dedup.previous_index else []
    dedup_partitions = partition_count(alive + sum(parquet_rows(f) for f in index_files), manifest.dedup, manifest.dedup_partition_memory_mb)
    # dedup's steps exchange through files too: P x P engine objects, all owned by this task, do not scale to English
    verdicts = cluster_parts(parts + index_files, manifest.dedup, dedup_partitions, label, engine, split_at=[shard.offset for shard in shards[1:]],
                             exchange=str(as_path(folder) / "dedup"))
    dedup_parts = len(parts)
    del parts

    # writing, shard by shard; the statistics from their parts
    written = [task(_shard_write, 2)(shard, state, staging, manifest.write, *verdicts[s]) for s, (shard, state) in enumerate(zip(shards, states))]
    del states, verdicts
    summaries = engine.get([out[0] for out in written])
    count(summaries)
    kept_perplexities = [out[1] for out in written]
    kept_total = sum(engine.get([engine.task(_length)(h) for h in kept_perplexities]))
    quantiles = {f"p{q}": round(v, 2) for q, v in zip(STATS_PERCENTILES, percentiles(engine, kept_perplexities, kept_total, STATS_PERCENTILES))} if kept_total else {}
    del written, kept_perplexities
    remove_tree(folder)
    stats = {**language_stats_from(label, [s["language"] for s in summaries], quantiles), **selection_stats_from([s["selection"] for s in summaries], bucket_info),
             "kenlm": kenlm_stats(label, manifest, bootstrap, card),
             "classifier": classifier_threshold.stats(manifest, label),
             "lid_contamination": outlier.info.get("contamination"), "lid_outlier": outlier.info}
    memory = {"rows": rows, "shards": len(shards), "split_groups": len(groups), "rows_per_shard": rows_per_shard, "largest_shard": int(per_shard.max()), "rows_per_chunk": shard_batch_rows,
              "max_rows_held": max(max_held, *(s["max_held"] for s in summaries)), "dedup_partitions": dedup_partitions, "dedup_parts": dedup_parts,
              "peak_rss_mb": peak_memory_mb(),  # this task's process (since the last shard step it ran itself, on a LocalEngine)
              # the shards' steps: the most a worker held while running one, and the most one added to what its worker held
              "shard_task_peak_mb": max(s["peak_mb"] for s in summaries), "shard_task_growth_mb": max(s["growth_mb"] for s in summaries),
              "split_task_growth_mb": max(g for _, g in split), "gather_task_growth_mb": max(gathered)}
    return LanguageResult(stats, {name: c.as_dict() for name, c in counters.items()}, memory)

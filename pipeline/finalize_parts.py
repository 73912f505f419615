"""What finalize's three paths (a whole language, one in batches, one in shards) share: a language's annotated
rows read back in batches, per-row results held as arrays, shards written as rows arrive, and the statistics
built from additive parts."""

from __future__ import annotations

import math
import resource
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longtail.fileio import is_url, iter_batches, read_schema, read_table, write_parquet
from longtail.filters.quality import perplexity_basis, resolve_max_perplexity
from longtail.stages.base import StageCounters, set_column
from longtail.stages.dedup.distributed import INPUT_COLUMNS, ROW_KEY
from longtail.filters.perplexity_buckets import BUCKET_NAMES

from longtail.pipeline.bootstrap import BootstrapOutcome
from longtail.pipeline.manifest import Manifest
from longtail.pipeline.runfolder import RunFolder, partition


NEVER_EXPORTED = ("minhash",)


def write_shards(table: pa.Table, folder: Path, max_rows: int, max_bytes: int, compression: str, first: int = 0, prefix: str = "") -> list[str]:
    """Write ``table`` as ``part-<prefix>00000.parquet``... (numbered from ``first``) with at most ``max_rows`` rows
    and ~``max_bytes`` of text each."""
    if not is_url(folder):
        folder.mkdir(parents=True, exist_ok=True)
    sizes = pc.binary_length(pc.cast(pc.fill_null(table.column("text"), ""), pa.binary())).to_pylist() if table.num_rows else []
    names, start, shard = [], 0, first
    while start < table.num_rows:
        end, budget = start, 0
        while end < table.num_rows and end - start < max_rows and (budget + sizes[end] <= max_bytes or end == start):
            budget += sizes[end]
            end += 1
        name = f"part-{prefix}{shard:05d}.parquet"
        write_parquet(table.slice(start, end - start), folder / name, compression=compression)
        names.append(name)
        start, shard = end, shard + 1
    return names


STATS_PERCENTILES = (10, 25, 50, 75, 90)  # of the kept documents' perplexities, in stats/languages.json


def _quantiles(values: list[float]) -> dict:
    values = sorted(v for v in values if v is not None and not math.isnan(v))
    if not values:
        return {}
    from longtail.filters.perplexity_buckets import percentile

    return {f"p{q}": round(percentile(values, q), 2) for q in STATS_PERCENTILES}


def language_stats(label: str, annotated: pa.Table, kept: pa.Table, text_sizes: tuple[int, int] | None = None) -> dict:
    """``text_sizes``: (characters, bytes) of the kept texts, when ``kept`` has no text (the partitioned path)."""
    quantiles = _quantiles(kept.column("perplexity").to_pylist()) if "perplexity" in kept.column_names and kept.num_rows else {}
    return language_stats_from(label, [language_counts(annotated, kept, text_sizes)], quantiles)


def language_counts(annotated: pa.Table, kept: pa.Table, text_sizes: tuple[int, int] | None = None) -> dict:
    """The additive parts of :func:`language_stats`, of the whole language or of one shard of it."""
    texts = kept.column("text").to_pylist() if kept.num_rows and text_sizes is None else []
    characters, size = text_sizes or (sum(len(t) for t in texts), sum(len(t.encode("utf-8")) for t in texts))
    return {
        "annotated": annotated.num_rows,
        "documents": kept.num_rows,
        "words": int(pc.sum(kept.column("n_words")).as_py() or 0) if kept.num_rows else 0,
        "characters": characters,
        "bytes": size,
        "dropped": Counter(r for r in annotated.column("drop_reason").to_pylist() if r),
        "lang_score_sum": sum(kept.column("lang_score").to_pylist()) if kept.num_rows else 0.0,
        "mixed": sum(1 for o in kept.column("other_langs").to_pylist() if o) if kept.num_rows else 0,
        "pii": pii_stats(annotated, kept),
    }


def language_stats_from(label: str, parts: list[dict], perplexity_quantiles: dict) -> dict:
    """``stats/languages.json``'s entry from the :func:`language_counts` of the language's parts and the kept
    documents' perplexity quantiles."""
    total = {key: sum(part[key] for part in parts) for key in ("annotated", "documents", "words", "characters", "bytes", "mixed")}
    reasons = sum((part["dropped"] for part in parts), Counter())
    dedup_drops = sum(count for reason, count in reasons.items() if reason.startswith("dedup:"))
    kept, pii = total["documents"], {}
    for part in parts:
        for scope, counts in part["pii"].items():
            pii.setdefault(scope, Counter()).update(counts)
    return {
        "lang_script": label,
        "annotated": total["annotated"],
        "documents": kept,
        "words": total["words"],
        "characters": total["characters"],
        "bytes": total["bytes"],
        "dropped": dict(sorted(reasons.items())),
        "duplicate_rate": round(dedup_drops / (kept + dedup_drops), 4) if kept + dedup_drops else 0.0,
        "perplexity": perplexity_quantiles,
        "mean_lang_score": round(sum(part["lang_score_sum"] for part in parts) / kept, 4) if kept else None,
        "mixed_language_share": round(total["mixed"] / kept, 4) if kept else 0.0,
        "pii": {scope: dict(counts) for scope, counts in pii.items()},
    }


def pii_stats(annotated: pa.Table, kept: pa.Table) -> dict:
    """Personal data found (replaced, or only counted with ``stages.pii.mode: annotate``) per kind, in the kept
    documents and in all the language's documents; ``{}`` for annotations made without the PII stage."""
    if "pii_email" not in annotated.column_names:
        return {}

    def counts(table: pa.Table) -> dict:
        found = {kind: int(pc.sum(table.column(f"pii_{kind}")).as_py() or 0) if table.num_rows else 0 for kind in ("email", "ip", "phone")}
        documents = pc.sum(pc.add(pc.add(table.column("pii_email"), table.column("pii_ip")), table.column("pii_phone")).cast(pa.bool_()).cast(pa.int64())).as_py() if table.num_rows else 0
        return {**found, "documents": int(documents or 0)}

    return {"kept": counts(kept), "all": counts(annotated)}


@dataclass
class LanguageResult:
    """What a finalize task returns: the language's statistics (``stats/languages.json``) and its chain's
    per-stage counters (``stats/stages.json``)."""

    stats: dict
    stages: dict
    memory: dict = field(default_factory=dict)  # how the task bounded its memory (not published): chunks, rows held at once


# Columns read for the whole language in the partitioned path (no text, no signature): what the statistics and
# the language-wide rules (bucket cut-offs, templated cap, LID core, dedup row keys) need.
SMALL_COLUMNS = ("id", "lang_score", "perplexity", "kenlm_source", "quality_score", "n_words", "other_langs", "pii_email", "pii_ip", "pii_phone")


class LanguageRows:
    """One language's annotated rows, read back as often as needed in batches of at most ``batch_rows`` rows.

    ``small`` holds :data:`SMALL_COLUMNS` of every row (overlays applied), sorted by id as :func:`read_language`
    sorts; a row's key is its position there, so dedup's row keys (and its tie-breaks) are the whole-language path's.
    """

    def __init__(self, files: list[str], label: str, perplexity_files: dict | None, quality_files: dict | None, batch_rows: int):
        self.label, self.batch_rows, self.overlays = label, batch_rows, (bool(perplexity_files), bool(quality_files))
        tables, self.files = [], []
        for f in files:
            present = set(read_schema(f).names)
            table = read_table(f, columns=["lang_script", *[c for c in SMALL_COLUMNS if c in present]], filters=[("lang_script", "=", label)])
            if not table.num_rows:
                continue
            if perplexity_files:  # the same overlays, and checks, as read_language
                rescored = read_table(perplexity_files[f], columns=["lang_script", "perplexity", "kenlm_source"], filters=[("lang_script", "=", label)])
                if rescored.num_rows != table.num_rows:
                    raise ValueError(f"{perplexity_files[f]} does not match {f} ({rescored.num_rows} vs {table.num_rows} rows of {label}); delete it to re-score")
                table = set_column(set_column(table, "perplexity", rescored.column("perplexity")), "kenlm_source", rescored.column("kenlm_source"))
            if quality_files:
                rescored = read_table(quality_files[f], columns=["lang_script", "quality_score"], filters=[("lang_script", "=", label)])
                if rescored.num_rows != table.num_rows:
                    raise ValueError(f"{quality_files[f]} does not match {f} ({rescored.num_rows} vs {table.num_rows} rows of {label}); delete it to re-score")
                table = set_column(table, "quality_score", rescored.column("quality_score"))
            table = table.append_column("_file", pa.array(np.full(table.num_rows, len(self.files), np.int64)))
            tables.append(table.append_column("_pos", pa.array(np.arange(table.num_rows, dtype=np.int64))))
            self.files.append(f)
        if not tables:
            raise ValueError(f"no annotated rows for {label}")
        small = pa.concat_tables(tables, promote_options="default")
        self.small = small.take(pc.sort_indices(small, sort_keys=[("id", "ascending")]))  # stable: ties keep file order
        self.rows = self.small.num_rows
        self.counts = np.bincount(self.small.column("_file").to_numpy(), minlength=len(self.files))
        self.offsets = np.concatenate([[0], np.cumsum(self.counts)[:-1]])
        self.keys = np.empty(self.rows, np.int64)  # file order -> row key
        self.keys[self.offsets[self.small.column("_file").to_numpy()] + self.small.column("_pos").to_numpy()] = np.arange(self.rows)
        self.small = self.small.drop_columns(["_file", "_pos"])
        self.schema = pa.unify_schemas([read_schema(f) for f in self.files], promote_options="default")
        self.max_held = 0  # most rows this task held with their text at once

    def batches(self, columns: list[str] | None = None, full: bool = False):
        """(rows, their keys) batch by batch; ``full``: every column, in the whole-language table's order, with overlays."""
        for n, f in enumerate(self.files):
            present = read_schema(f).names
            wanted = None if columns is None else ["lang_script", *[c for c in columns if c in present and c != "lang_script"]]
            position = self.offsets[n]
            for batch in iter_batches(f, columns=wanted, batch_size=self.batch_rows, equal=("lang_script", self.label)):
                table = pa.Table.from_batches([batch])
                table = table.filter(pc.equal(table.column("lang_script"), self.label))
                if not table.num_rows:
                    continue
                keys = self.keys[position : position + table.num_rows]
                position += table.num_rows
                self.max_held = max(self.max_held, table.num_rows)
                if full:
                    table = pa.concat_tables([self.schema.empty_table(), table], promote_options="default")
                    table = self.overlay(table, keys)
                yield table, keys

    def file_keys(self):
        """(annotated file, the row keys of its rows of the language in file order) for each file."""
        for f, offset, count in zip(self.files, self.offsets.tolist(), self.counts.tolist()):
            yield f, self.keys[offset : offset + count]

    def overlay(self, table: pa.Table, keys: np.ndarray) -> pa.Table:
        rows = self.small.take(pa.array(keys))
        if self.overlays[0]:
            table = set_column(set_column(table, "perplexity", rows.column("perplexity")), "kenlm_source", rows.column("kenlm_source"))
        if self.overlays[1]:
            table = set_column(table, "quality_score", rows.column("quality_score"))
        return table


def dedup_part(path: str, label: str, keys: np.ndarray, alive: np.ndarray, batch_rows: int) -> pa.Table:
    """Task: dedup's input part of one annotated file, the :data:`INPUT_COLUMNS` of its live rows of ``label`` with
    their row keys. ``keys``, ``alive``: row key and liveness of the file's rows of the language, in file order."""
    tables, position = [], 0
    for batch in iter_batches(path, columns=list(INPUT_COLUMNS), batch_size=batch_rows, equal=("lang_script", label)):
        table = pa.Table.from_batches([batch])
        table = table.filter(pc.equal(table.column("lang_script"), label))
        mask, rows = alive[position : position + table.num_rows], keys[position : position + table.num_rows]
        position += table.num_rows
        if mask.any():
            tables.append(table.filter(pa.array(mask)).select(list(INPUT_COLUMNS)).append_column(ROW_KEY, pa.array(rows[mask])))
    return pa.concat_tables(tables)


def release_arrow_memory() -> None:
    """Give the batches' freed Arrow buffers back to the system between passes: the allocator keeps freed pages for
    reuse, and a pass's peak would otherwise stay resident through the next ones."""
    pa.default_memory_pool().release_unused()


def counted(counters: StageCounters, before: list | None, after: list, seconds: float) -> None:
    """A stage's counters, as :class:`Chain` keeps them, from the drop reasons before and after it (``before``
    None: no drop_reason yet, every row live)."""
    before = before if before is not None else [None] * len(after)
    counters.documents_in += sum(1 for r in before if r is None)
    counters.documents_out += sum(1 for r in after if r is None)
    counters.dropped.update(a for b, a in zip(before, after) if a is not None and b is None)
    counters.seconds += seconds


class ShardWriter:
    """Shards of one partition written as rows arrive: rows wait until a shard's worth (or ``hold`` rows) is
    there, so a language spread thinly over many annotated files still gets full shards; each written group is
    sorted by id."""

    def __init__(self, folder: Path, write, hold: int, prefix: str = ""):
        self.folder, self.write, self.hold, self.prefix = folder, write, hold, prefix
        self.pending: list[tuple[pa.Table, np.ndarray]] = []
        self.rows = self.bytes = self.shards = 0

    def add(self, table: pa.Table, keys: np.ndarray) -> None:
        if not table.num_rows:
            return
        self.pending.append((table, keys))
        self.rows += table.num_rows
        self.bytes += int(pc.sum(pc.binary_length(pc.cast(pc.fill_null(table.column("text"), ""), pa.binary()))).as_py() or 0)
        if self.rows >= min(self.write.max_rows_per_shard, self.hold) or self.bytes >= self.write.max_bytes_per_shard:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        table = pa.concat_tables([t for t, _ in self.pending])
        table = table.take(pa.array(np.argsort(np.concatenate([k for _, k in self.pending]), kind="stable")))
        self.pending, self.rows, self.bytes = [], 0, 0
        self.shards += len(write_shards(table, self.folder, self.write.max_rows_per_shard, self.write.max_bytes_per_shard, self.write.compression, self.shards, self.prefix))


def with_selection_columns(table: pa.Table, keys: np.ndarray, buckets: np.ndarray, templated_score: np.ndarray, templated: np.ndarray) -> pa.Table:
    table = set_column(table, "perplexity_bucket", pa.array(BUCKET_NAMES[buckets[keys]], pa.string()))
    table = set_column(table, "templated_score", pa.array(templated_score[keys]).cast(pa.float32()))
    return set_column(table, "templated", pa.array(templated[keys], pa.bool_()))


class RowFloats:
    """A nullable float per row of the language, as two numpy arrays (9 bytes a row, not a Python float each)."""

    def __init__(self, rows: int):
        self.values, self.valid = np.zeros(rows), np.zeros(rows, bool)

    def set(self, keys: np.ndarray, column) -> None:
        self.values[keys] = np.asarray(pc.fill_null(column, 0.0), np.float64)
        self.valid[keys] = np.asarray(pc.is_valid(column), bool)

    def take(self, keys: np.ndarray) -> pa.Array:
        """The rows' values as float32 (null where unset), as the whole-language path writes them."""
        return pa.array(self.values[keys], mask=~self.valid[keys]).cast(pa.float32())


def kenlm_stats(label: str, manifest: Manifest, bootstrap: BootstrapOutcome | None, card: dict | None) -> dict:
    """Which KenLM model judged the language: ``bootstrap`` (trained on this run), ``given`` or ``none``."""
    status = bootstrap.languages.get(label) if bootstrap else None
    if status and status.get("status") == "bootstrapped":
        limits = manifest.thresholds.updated(manifest.language_thresholds.get(label, {}))
        # the ceiling the language was judged against (auto: 2.5 x the basis, or the spread floor when higher)
        return {"source": "bootstrap", **{k: v for k, v in status.items() if k != "status"}, "max_perplexity_basis": perplexity_basis(card, limits),
                "max_perplexity": resolve_max_perplexity(limits, card)}
    info = {"source": "given" if card else "none"}
    if status:  # bootstrap was on but did not train this language: say why
        info["bootstrap"] = status
    return info


@dataclass(frozen=True)
class ClassifierThreshold:
    """The ``min_quality_score`` selection applies: ``default`` and its ``rule`` (pipeline/finalize.py::classifier_rule),
    and the languages whose own value has another source: ``manifest:language`` (set for the language in
    ``selection.languages``) or ``bootstrap:language`` (the bootstrapped classifier's calibration of that language)."""

    default: float | None
    rule: str
    language_rules: dict[str, str] = field(default_factory=dict)

    def stats(self, manifest: Manifest, label: str) -> dict:
        """The language's ``classifier`` entry in ``stats/languages.json`` (``manifest`` with the thresholds applied)."""
        return {"rule": self.language_rules.get(label, self.rule),
                "min_quality_score": manifest.language_thresholds.get(label, {}).get("min_quality_score", self.default)}


def reset_peak_memory() -> int:
    """Start this process's peak resident memory afresh (Linux's VmHWM): a Ray worker runs many tasks, and its
    ``ru_maxrss`` is the largest of them all, not the current task's. Returns the resident memory now (MiB): what
    the worker already held, freed memory of earlier tasks that its allocators kept included."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:  # not Linux, or not allowed: the peak then counts from the process's start
        pass
    return peak_memory_mb()


def peak_memory_mb() -> int:
    """This process's peak resident memory since :func:`reset_peak_memory` (or its start), MiB."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) // 1024
    except (OSError, StopIteration, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def write_language(language: LanguageRows, staging, write, hold: int, prefix: str, selection_columns: tuple, ceilings: RowFloats, lid_scores: RowFloats,
                   reasons: list, clusters: pa.Table, where: np.ndarray) -> tuple[int, int]:
    """The writing pass of a language read in batches (or of one shard of it): every row with its per-row results
    (``selection_columns``: bucket codes, templated scores and flags; ``where``: each row's position in dedup's
    ``clusters``, -1 if none), in the whole-language table's column order, to kept and removed shards named
    ``part-<prefix><n>.parquet`` under the staging folder. Returns the kept texts' characters and UTF-8 bytes."""
    buckets, templated_score, templated = selection_columns
    staged = RunFolder(staging)
    kept_shards = ShardWriter(partition(staged.dataset, language.label), write, hold, prefix)
    removed_shards = ShardWriter(partition(staged.removed, language.label), write, hold, prefix)
    characters = size = 0
    for table, keys in language.batches(full=True):
        table = with_selection_columns(table, keys, buckets, templated_score, templated)
        table = set_column(table, "max_perplexity", ceilings.take(keys))
        table = set_column(table, "drop_reason", [reasons[k] for k in keys.tolist()], pa.string())
        table = set_column(table, "lid_outlier_score", lid_scores.take(keys))
        rows = where[keys]
        found = pa.array(np.maximum(rows, 0), mask=rows < 0)
        for column in ("dup_cluster_id", "dup_cluster_size", "duplicate_of"):
            table = set_column(table, column, clusters.column(column).take(found))
        table = table.drop_columns([c for c in NEVER_EXPORTED if c in table.column_names])
        is_kept = pc.is_null(table.column("drop_reason"))
        kept = table.filter(is_kept)
        kept_shards.add(kept, keys[is_kept.to_numpy(zero_copy_only=False)])
        removed_shards.add(table.filter(pc.invert(is_kept)), keys[~is_kept.to_numpy(zero_copy_only=False)])
        texts = kept.column("text").to_pylist()
        characters += sum(len(t) for t in texts)
        size += sum(len(t.encode("utf-8")) for t in texts)
    kept_shards.flush()
    removed_shards.flush()
    release_arrow_memory()
    return characters, size


def selected_small_columns(small: pa.Table, buckets: np.ndarray, templated: np.ndarray, reasons: list) -> tuple[pa.Table, pa.Table]:
    """(every row, the kept rows) of a language's small columns with the selection's columns: what its statistics
    are built from when its text is read in batches."""
    annotated = small.drop_columns([c for c in ("kenlm_source", "quality_score") if c in small.column_names])
    annotated = annotated.append_column("perplexity_bucket", pa.array(BUCKET_NAMES[buckets], pa.string())).append_column("templated", pa.array(templated, pa.bool_()))
    annotated = annotated.append_column("drop_reason", pa.array(reasons, pa.string()))
    return annotated, annotated.filter(pc.is_null(annotated.column("drop_reason")))

"""Selection, dedup and writing, per language, from the annotations (never from the crawl).

Each language is one Ray task, or small languages share one (:func:`finalize_groups`): tasks run in parallel and
none ever holds the whole corpus. A language's
table goes through a :class:`~longtail.stages.base.Chain` of stages (:func:`selection_chain`: selection
columns -> select -> templated cap -> keep_languages -> dedup), which checks their columns and counts their
drops; this module then splits kept/removed, writes shards and statistics. Outputs go to a staging folder
first and replace the previous ``dataset/``, ``removed/`` and ``stats/`` only when every language has finished,
so a crash never leaves a half-written release.
"""

from __future__ import annotations

import json
import math
import resource
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from longtail.fileio import as_path, is_url, iter_batches, parquet_rows, read_schema, read_table, remove_tree, replace_tree, scratch_dir, write_parquet
from longtail.filters.perplexity_buckets import BUCKET_NAMES, bucket_codes, bucket_cutoffs, perplexity_values
from longtail.filters.templated import hostname, templated_scores
from longtail.filters.kenlm_model import load_card
from longtail.filters.quality import perplexity_basis
from longtail.langid.labels import is_safe_label
from longtail.reasons import LID_NOT_SELECTED, LID_OUTLIER
from longtail.stages.base import Chain, StageCounters, set_column
from longtail.stages.dedup.distributed import INPUT_COLUMNS, ROW_KEY, WORKER_BASELINE_MB, LocalEngine, cluster_parts, partition_count
from longtail.stages.dedup.index import language_files
from longtail.stages.dedup.stage import DedupStage
from longtail.stages.lid_outlier import LidOutlierStage, reference_rows
from longtail.stages.select import KeepLanguagesStage, SelectStage
from longtail.stages.selection_columns import SelectionColumnsStage, TemplatedCapStage, cap_templated, selection_stats

from longtail.pipeline.bootstrap import BootstrapOutcome, ClassifierOutcome

from longtail.pipeline.manifest import Manifest
from longtail.pipeline.ray_backend import dedup_engine
from longtail.pipeline.runfolder import PUBLISHED, RUN_JSON, STATS, RunFolder, partition, read_language, read_languages

_NEVER_EXPORTED = ("minhash",)


def write_shards(table: pa.Table, folder: Path, max_rows: int, max_bytes: int, compression: str, first: int = 0) -> list[str]:
    """Write ``table`` as ``part-00000.parquet``... (numbered from ``first``) with at most ``max_rows`` rows and
    ~``max_bytes`` of text each."""
    if not is_url(folder):
        folder.mkdir(parents=True, exist_ok=True)
    sizes = pc.binary_length(pc.cast(pc.fill_null(table.column("text"), ""), pa.binary())).to_pylist() if table.num_rows else []
    names, start, shard = [], 0, first
    while start < table.num_rows:
        end, budget = start, 0
        while end < table.num_rows and end - start < max_rows and (budget + sizes[end] <= max_bytes or end == start):
            budget += sizes[end]
            end += 1
        name = f"part-{shard:05d}.parquet"
        write_parquet(table.slice(start, end - start), folder / name, compression=compression)
        names.append(name)
        start, shard = end, shard + 1
    return names


def _quantiles(values: list[float]) -> dict:
    values = sorted(v for v in values if v is not None and not math.isnan(v))
    if not values:
        return {}
    from longtail.filters.perplexity_buckets import percentile

    return {f"p{q}": round(percentile(values, q), 2) for q in (10, 25, 50, 75, 90)}


def language_stats(label: str, annotated: pa.Table, kept: pa.Table, text_sizes: tuple[int, int] | None = None) -> dict:
    """``text_sizes``: (characters, bytes) of the kept texts, when ``kept`` has no text (the partitioned path)."""
    reasons = Counter(r for r in annotated.column("drop_reason").to_pylist() if r)
    dedup_drops = sum(count for reason, count in reasons.items() if reason.startswith("dedup:"))
    texts = kept.column("text").to_pylist() if kept.num_rows and text_sizes is None else []
    characters, size = text_sizes or (sum(len(t) for t in texts), sum(len(t.encode("utf-8")) for t in texts))
    other_langs = kept.column("other_langs").to_pylist() if kept.num_rows else []
    lang_scores = [s for s in kept.column("lang_score").to_pylist()] if kept.num_rows else []
    return {
        "lang_script": label,
        "annotated": annotated.num_rows,
        "documents": kept.num_rows,
        "words": int(pc.sum(kept.column("n_words")).as_py() or 0) if kept.num_rows else 0,
        "characters": characters,
        "bytes": size,
        "dropped": dict(sorted(reasons.items())),
        "duplicate_rate": round(dedup_drops / (kept.num_rows + dedup_drops), 4) if kept.num_rows + dedup_drops else 0.0,
        "perplexity": _quantiles(kept.column("perplexity").to_pylist()) if "perplexity" in kept.column_names and kept.num_rows else {},
        "mean_lang_score": round(sum(lang_scores) / len(lang_scores), 4) if lang_scores else None,
        "mixed_language_share": round(sum(1 for o in other_langs if o) / len(other_langs), 4) if other_langs else 0.0,
        "pii": pii_stats(annotated, kept),
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


def selection_chain(manifest: Manifest, label: str, input_columns, card: dict | None = None, engine=None) -> Chain:
    """The stages one language's annotated table goes through (checked against ``input_columns``)."""
    limits = manifest.thresholds.updated(manifest.language_thresholds.get(label, {}))
    stages = [
        SelectionColumnsStage(limits),
        SelectStage(manifest.thresholds, manifest.language_thresholds, {label: card} if card else {}),
        TemplatedCapStage(limits),
    ]
    if manifest.languages is not None:
        stages.append(KeepLanguagesStage(manifest.languages))
    stages.append(LidOutlierStage.for_split(label))  # corpus-level LID check of the split (docs/lid.md)
    stages.append(DedupStage(manifest.dedup, label, engine, manifest.dedup_partition_memory_mb))
    return Chain(stages, input_columns)


def given_classifier_threshold(model_path: str | None) -> float | None:
    """The calibrated threshold in a given classifier's card (``calibration.min_quality_score``), if any."""
    if not model_path:
        return None
    card = as_path(model_path).with_suffix(".json")
    try:
        return (json.loads(card.read_text()).get("calibration") or {}).get("min_quality_score") if card.is_file() else None
    except (OSError, ValueError):
        return None


def classifier_rule(manifest: Manifest, classifier: ClassifierOutcome | None) -> tuple[float | None, str]:
    """The ``min_quality_score`` selection applies by default, and why.

    Set in ``selection.defaults``: that value, on whatever score the run has. Otherwise: the bootstrapped
    classifier's calibrated threshold (none when it had too little text); a given classifier's only when its card
    has a ``calibration`` (the demo classifier's has none: its score is an annotation); no classifier: none.
    """
    if "min_quality_score" in manifest.explicit_defaults:
        return manifest.thresholds.min_quality_score, "manifest"
    if classifier is not None:
        return (classifier.threshold, "bootstrap") if classifier.trained else (None, f"bootstrap:{classifier.card.get('status') or 'too_little_text'}")
    threshold = given_classifier_threshold(manifest.quality.classifier_model)
    if threshold is not None:
        return threshold, "given:calibrated"
    return None, "given:annotation_only" if manifest.quality.classifier_model else "none"


def finalize_language(manifest: Manifest, label: str, files: list[str], staging: str, bootstrap: BootstrapOutcome | None = None,
                      classifier: ClassifierOutcome | None = None) -> LanguageResult:
    """Select, deduplicate and write one language; returns its statistics and stage counters."""
    if not is_safe_label(label):  # labels become folder names: refuse anything else
        raise ValueError(f"unsafe language label {label!r}")
    threshold, rule = classifier_rule(manifest, classifier)
    manifest = replace(manifest, thresholds=manifest.thresholds.updated({"min_quality_score": threshold}))
    rows, characters = language_size(files, label)
    batch_rows = rows_per_chunk(manifest.write.finalize_memory_mb, characters / max(rows, 1))
    if rows > batch_rows:  # bigger than the task's budget: selection, dedup and writing chunk by chunk
        return finalize_partitioned(manifest, label, files, staging, bootstrap, classifier, threshold, rule, batch_rows)
    table = read_language(files, label, bootstrap.perplexity_files if bootstrap else None, classifier.quality_files if classifier else None)
    return _finalize_table(manifest, label, table, staging, bootstrap, threshold, rule)


def finalize_languages(manifest: Manifest, labels: list[str], files: list[str], staging: str, bootstrap: BootstrapOutcome | None = None,
                       classifier: ClassifierOutcome | None = None) -> list[LanguageResult]:
    """Ray task: :func:`finalize_language` for each of ``labels`` (a group from :func:`finalize_groups`). A group of
    small languages reads each annotated file once for all of them, then selects, dedups and writes each alone:
    the same output as one task per language."""
    if len(labels) == 1:
        return [finalize_language(manifest, labels[0], files, staging, bootstrap, classifier)]
    for label in labels:
        if not is_safe_label(label):
            raise ValueError(f"unsafe language label {label!r}")
    threshold, rule = classifier_rule(manifest, classifier)
    manifest = replace(manifest, thresholds=manifest.thresholds.updated({"min_quality_score": threshold}))
    tables = read_languages(files, labels, bootstrap.perplexity_files if bootstrap else None, classifier.quality_files if classifier else None)
    return [_finalize_table(manifest, label, tables.pop(label), staging, bootstrap, threshold, rule) for label in labels]


def finalize_groups(sizes: dict[str, tuple[int, int]], small_language_rows: int, memory_mb: int, workers: int) -> list[list[str]]:
    """Labels per finalize task. ``sizes``: label -> (documents, characters), from :func:`language_sizes`. A
    language of more than ``small_language_rows`` documents has a task of its own (in batches if over the
    budget). Smaller ones are packed in label order into groups of at most the rows that fit ``memory_mb`` and
    about an even share of the small languages' rows per worker, so that the workers stay busy."""
    small = sorted(label for label, (rows, _) in sizes.items() if rows <= small_language_rows)
    groups = [[label] for label in sorted(sizes) if sizes[label][0] > small_language_rows]
    if not small:
        return groups
    rows = sum(sizes[label][0] for label in small)
    characters = sum(sizes[label][1] for label in small)
    cap = min(rows_per_chunk(memory_mb, characters / max(rows, 1)), max(math.ceil(rows / max(workers, 1)), MIN_GROUP_ROWS))
    group, held = [], 0
    for label in small:
        if group and held + sizes[label][0] > cap:
            groups.append(group)
            group, held = [], 0
        group.append(label)
        held += sizes[label][0]
    groups.append(group)
    return groups


def _finalize_table(manifest: Manifest, label: str, table: pa.Table, staging: str, bootstrap: BootstrapOutcome | None,
                    threshold: float | None, rule: str) -> LanguageResult:
    card = bootstrap.card(label) if bootstrap else None
    if card is None and manifest.quality.kenlm_models:
        card = load_card(manifest.quality.kenlm_models, label)
    chain = selection_chain(manifest, label, table.column_names, card, engine=dedup_engine())
    annotated = chain(table)
    annotated = annotated.drop_columns([c for c in _NEVER_EXPORTED if c in annotated.column_names])

    kept = annotated.filter(pc.is_null(annotated.column("drop_reason")))
    removed = annotated.filter(pc.is_valid(annotated.column("drop_reason")))
    write, staged = manifest.write, RunFolder(staging)
    if kept.num_rows:
        write_shards(kept, partition(staged.dataset, label), write.max_rows_per_shard, write.max_bytes_per_shard, write.compression)
    if removed.num_rows:
        write_shards(removed, partition(staged.removed, label), write.max_rows_per_shard, write.max_bytes_per_shard, write.compression)
    bucket_info = next(stage for stage in chain if isinstance(stage, SelectionColumnsStage)).info
    outlier_info = next((stage.info for stage in chain if isinstance(stage, LidOutlierStage)), {})  # judged, live (pages judged), outliers
    stats = {**language_stats(label, annotated, kept), **selection_stats(annotated, kept, bucket_info), "kenlm": kenlm_stats(label, manifest, bootstrap, card),
             "classifier": {"rule": rule, "min_quality_score": manifest.language_thresholds.get(label, {}).get("min_quality_score", threshold)},
             "lid_contamination": outlier_info.get("contamination"), "lid_outlier": outlier_info}
    return LanguageResult(stats, chain.stats())


# --- languages bigger than a task's memory -------------------------------------------------------------------
# What the whole-language chain costs per document beyond a worker's baseline (dedup's WORKER_BASELINE_MB): its
# Python row in select (~60 fields), the text in Arrow and as Python strings, dedup's columns. Measured with
# finalize_language's whole-language path on a generated language of pages of ~490 characters (2026-12-04, after
# the LID stage stopped building an n-gram profile per page, which cost ~180 bytes a character): 276 MiB at 26,320
# rows and 1,010 MiB at 96,280, about 11 KB a document (docs/cluster.md). The estimate, 27.6 KB at 490 characters,
# keeps a margin for longer text and for scripts whose Python strings take 4 bytes a character.
ROW_BYTES = 8_000
BYTES_PER_CHARACTER = 40
# Columns read for the whole language in the partitioned path (no text, no signature): what the statistics and
# the language-wide rules (bucket cut-offs, templated cap, LID core, dedup row keys) need.
SMALL_COLUMNS = ("id", "lang_score", "perplexity", "kenlm_source", "quality_score", "n_words", "other_langs", "pii_email", "pii_ip", "pii_phone")


MIN_GROUP_ROWS = 200  # a group of small languages holds at least this many documents (fewer: task overhead dominates)


def language_sizes(files: list[str]) -> dict[str, tuple[int, int]]:
    """label -> (documents, characters) of every language in the annotated files, in one pass over ``lang_script``
    and ``n_chars``."""
    rows: Counter = Counter()
    characters: Counter = Counter()
    for f in files:
        table = read_table(f, columns=["lang_script", "n_chars"])
        if not table.num_rows:
            continue
        grouped = table.group_by("lang_script").aggregate([("n_chars", "count"), ("n_chars", "sum")])
        for label, count, total in zip(*(grouped.column(c).to_pylist() for c in ("lang_script", "n_chars_count", "n_chars_sum"))):
            rows[label] += count
            characters[label] += total or 0
    return {label: (rows[label], characters[label]) for label in rows}


def language_size(files: list[str], label: str) -> tuple[int, int]:
    """(documents, characters) of one language's annotated rows, from the ``n_chars`` column only."""
    rows = characters = 0
    for f in files:
        chars = read_table(f, columns=["lang_script", "n_chars"], filters=[("lang_script", "=", label)]).column("n_chars")
        rows += len(chars)
        characters += int(pc.sum(chars).as_py() or 0)
    return rows, characters


def rows_per_chunk(memory_mb: int, mean_characters: float) -> int:
    """Documents one finalize task may hold with their text within ``memory_mb`` (``write.finalize_memory_mb``)."""
    budget = (memory_mb - WORKER_BASELINE_MB) * 2**20
    if budget <= 0:
        raise ValueError(f"write.finalize_memory_mb must exceed a worker's baseline of {WORKER_BASELINE_MB} MiB")
    return max(1, int(budget // (ROW_BYTES + BYTES_PER_CHARACTER * max(mean_characters, 1.0))))


class _LanguageRows:
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


def _dedup_part(path: str, label: str, keys: np.ndarray, alive: np.ndarray, batch_rows: int) -> pa.Table:
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


def _live_rows(reasons: list) -> np.ndarray:
    """Row keys without a drop reason, ascending (an array: not a Python int per row)."""
    return np.flatnonzero(np.fromiter((reason is None for reason in reasons), dtype=bool, count=len(reasons)))


def _release_arrow_memory() -> None:
    """Give the batches' freed Arrow buffers back to the system between passes: the allocator keeps freed pages for
    reuse, and a pass's peak would otherwise stay resident through the next ones."""
    pa.default_memory_pool().release_unused()


def _counted(counters: StageCounters, before: list | None, after: list, seconds: float) -> None:
    """A stage's counters, as :class:`Chain` keeps them, from the drop reasons before and after it (``before``
    None: no drop_reason yet, every row live)."""
    before = before if before is not None else [None] * len(after)
    counters.documents_in += sum(1 for r in before if r is None)
    counters.documents_out += sum(1 for r in after if r is None)
    counters.dropped.update(a for b, a in zip(before, after) if a is not None and b is None)
    counters.seconds += seconds


def finalize_partitioned(manifest: Manifest, label: str, files: list[str], staging: str, bootstrap: BootstrapOutcome | None,
                         classifier: ClassifierOutcome | None, threshold: float | None, rule: str, batch_rows: int) -> LanguageResult:
    """:func:`finalize_language` for a language bigger than the task's budget: the same stages, statistics and rows.

    The language-wide rules work on small columns of every row (:class:`_LanguageRows`); text is read in batches
    of ``batch_rows`` rows, once per pass: templated scores (texts spilled to local scratch by hash of their
    domain, then scored one domain partition at a time: a page's score depends on its domain's pages only),
    select, the LID core's common words, LID scores, dedup's inputs (read by one task per annotated file, as parts,
    Ray object handles when Ray runs) and the writing. Shards are written as rows arrive (:class:`_ShardWriter`),
    each written group sorted by id.
    """
    limits = manifest.thresholds.updated(manifest.language_thresholds.get(label, {}))
    card = bootstrap.card(label) if bootstrap else None
    if card is None and manifest.quality.kenlm_models:
        card = load_card(manifest.quality.kenlm_models, label)
    language = _LanguageRows(files, label, bootstrap.perplexity_files if bootstrap else None, classifier.quality_files if classifier else None, batch_rows)
    n, small = language.rows, language.small
    names = ["selection_columns", "select", "templated_cap"] + (["keep_languages"] if manifest.languages is not None else []) + ["lid_outlier", "dedup"]
    counters = {name: StageCounters() for name in names}

    # selection columns: bucket cut-offs from every perplexity; templated scores per domain partition
    started = time.perf_counter()
    # per-row results are numpy arrays (or lists of shared strings), not a Python object per row: they stay for the
    # whole task, so their bytes per row are what a language's size costs beyond one batch
    perplexity = small.column("perplexity") if "perplexity" in small.column_names else pa.nulls(n, pa.float64())
    perplexities = perplexity_values(perplexity)
    cutoffs = bucket_cutoffs(perplexities, limits.perplexity_bucket_percentiles)
    bucket_info = {"cutoffs": [round(c, 2) for c in cutoffs] if cutoffs else None, "percentiles": list(limits.perplexity_bucket_percentiles)}
    buckets = bucket_codes(perplexities, cutoffs)  # int8 codes into BUCKET_NAMES
    del perplexities
    templated_score = np.zeros(n)
    # twice the batches: hash partitions are uneven; one domain is never split (its pages are judged together)
    domains = -(-2 * n // batch_rows)
    with tempfile.TemporaryDirectory(dir=scratch_dir()) as spill:
        # one read of the text, spilled by hash(domain) to local files; then one domain partition at a time
        writers: dict[int, pq.ParquetWriter] = {}
        for table, keys in language.batches(["text", "url", "script"]):
            urls = table.column("url").to_pylist() if "url" in table.column_names else [None] * table.num_rows
            part = np.fromiter((xxhash.xxh64_intdigest(hostname(u)) % domains for u in urls), np.int64, count=len(urls))
            rows = pa.table({"key": pa.array(keys), "text": table.column("text"), "url": pa.array(urls, pa.string()), "script": table.column("script")})
            for d in np.unique(part).tolist():
                chosen = rows.filter(pa.array(part == d))
                if d not in writers:
                    writers[d] = pq.ParquetWriter(f"{spill}/{d}.parquet", chosen.schema)
                writers[d].write_table(chosen)
        for writer in writers.values():
            writer.close()
        for d in sorted(writers):
            rows = pq.read_table(f"{spill}/{d}.parquet")
            language.max_held = max(language.max_held, rows.num_rows)
            scores = templated_scores(rows.column("text").to_pylist(), rows.column("url").to_pylist(), rows.column("script").to_pylist())
            templated_score[rows.column("key").to_numpy()] = scores
            del rows
    templated = templated_score >= limits.templated_threshold
    _release_arrow_memory()
    counters["selection_columns"] = StageCounters(n, n, Counter(), time.perf_counter() - started)  # adds columns, drops nothing

    # select, batch by batch
    started = time.perf_counter()
    select = SelectStage(manifest.thresholds, manifest.language_thresholds, {label: card} if card else {})
    reasons: list[str | None] = [None] * n
    ceilings = _RowFloats(n)
    for table, keys in language.batches(full=True):
        table = _with_selection_columns(table.drop_columns([c for c in _NEVER_EXPORTED if c in table.column_names]), keys, buckets, templated_score, templated)
        table = select(table)
        for key, reason in zip(keys.tolist(), table.column("drop_reason").to_pylist()):
            reasons[key] = reason
        ceilings.set(keys, table.column("max_perplexity"))
    _counted(counters["select"], None, reasons, time.perf_counter() - started)
    _release_arrow_memory()

    # templated cap and keep_languages: small columns only
    started = time.perf_counter()
    capped = cap_templated(pa.table({"id": small.column("id"), "perplexity": pc.cast(perplexity, pa.float64()), "drop_reason": pa.array(reasons, pa.string()),
                                     "templated": pa.array(templated, pa.bool_())}), limits).column("drop_reason").to_pylist()
    _counted(counters["templated_cap"], reasons, capped, time.perf_counter() - started)
    reasons = capped
    if manifest.languages is not None:
        kept_languages = [r or (None if label in frozenset(manifest.languages) else LID_NOT_SELECTED) for r in reasons]
        _counted(counters["keep_languages"], reasons, kept_languages, 0.0)
        reasons = kept_languages

    # LID outliers: the core's common words in one pass, every live page's score in another
    started = time.perf_counter()
    outlier = LidOutlierStage.for_split(label)
    live = _live_rows(reasons)
    core_rows = outlier.core(live, pc.fill_null(small.column("lang_score"), 0.0).to_numpy())
    lid_scores = _RowFloats(n)
    before = list(reasons)
    common = None
    if core_rows is not None:
        reference = np.zeros(n, bool)
        reference[reference_rows(core_rows)] = True
        common = outlier.common_words(text for table, keys in language.batches(["text"])
                                      for key, text in zip(keys.tolist(), table.column("text").to_pylist()) if reference[key])
        del reference
    if common is None:  # too few (distinct) confident pages to judge against
        outlier.not_judged(live)
    else:
        alive = np.zeros(n, bool)
        alive[live] = True
        for table, keys in language.batches(["text"]):
            for key, text in zip(keys.tolist(), table.column("text").to_pylist()):
                if alive[key]:
                    lid_scores.values[key], lid_scores.valid[key] = common.score(text or ""), True
        del alive
        _, outliers = outlier.judge(live, core_rows, lid_scores.values[live])
        for row in outliers:
            reasons[row] = LID_OUTLIER
    del common
    _counted(counters["lid_outlier"], before, reasons, time.perf_counter() - started)
    _release_arrow_memory()

    # dedup: the live rows' signatures go to the distributed dedup as parts, one per annotated file (handles on Ray)
    started = time.perf_counter()
    engine = dedup_engine()
    alive = np.zeros(n, bool)
    alive[_live_rows(reasons)] = True
    # one task per annotated file reads its live rows' dedup columns: they never pass through this task (on Ray)
    part_of_file = (engine or LocalEngine()).task(_dedup_part)
    parts = [part_of_file(f, label, keys, alive[keys], batch_rows) for f, keys in language.file_keys() if alive[keys].any()]
    index_files = language_files(manifest.dedup.previous_index, label, manifest.dedup) if manifest.dedup.previous_index else []
    partitions = partition_count(int(alive.sum()) + sum(parquet_rows(f) for f in index_files), manifest.dedup, manifest.dedup_partition_memory_mb)
    clusters = cluster_parts(parts + index_files, manifest.dedup, partitions, label, engine or LocalEngine())
    del parts
    where = np.full(n, -1, np.int64)
    where[clusters.column(ROW_KEY).to_numpy()] = np.arange(clusters.num_rows)
    before = list(reasons)
    found = pc.is_valid(clusters.column("dedup_reason"))  # most live rows have no duplicate: not listed one by one
    for key, reason in zip(pc.filter(clusters.column(ROW_KEY), found).to_pylist(), pc.filter(clusters.column("dedup_reason"), found).to_pylist()):
        reasons[key] = reasons[key] or reason
    _counted(counters["dedup"], before, reasons, time.perf_counter() - started)
    _release_arrow_memory()

    # writing, batch by batch: the columns in the whole-language table's order
    staged = RunFolder(staging)
    kept_shards = _ShardWriter(partition(staged.dataset, label), manifest.write, batch_rows)
    removed_shards = _ShardWriter(partition(staged.removed, label), manifest.write, batch_rows)
    characters = size = 0
    for table, keys in language.batches(full=True):
        table = _with_selection_columns(table, keys, buckets, templated_score, templated)
        table = set_column(table, "max_perplexity", ceilings.take(keys))
        table = set_column(table, "drop_reason", [reasons[k] for k in keys.tolist()], pa.string())
        table = set_column(table, "lid_outlier_score", lid_scores.take(keys))
        rows = where[keys]
        found = pa.array(np.maximum(rows, 0), mask=rows < 0)
        for column in ("dup_cluster_id", "dup_cluster_size", "duplicate_of"):
            table = set_column(table, column, clusters.column(column).take(found))
        table = table.drop_columns([c for c in _NEVER_EXPORTED if c in table.column_names])
        is_kept = pc.is_null(table.column("drop_reason"))
        kept = table.filter(is_kept)
        kept_shards.add(kept, keys[is_kept.to_numpy(zero_copy_only=False)])
        removed_shards.add(table.filter(pc.invert(is_kept)), keys[~is_kept.to_numpy(zero_copy_only=False)])
        texts = kept.column("text").to_pylist()
        characters += sum(len(t) for t in texts)
        size += sum(len(t.encode("utf-8")) for t in texts)
    kept_shards.flush()
    removed_shards.flush()
    _release_arrow_memory()

    annotated = small.drop_columns([c for c in ("kenlm_source", "quality_score") if c in small.column_names])
    annotated = annotated.append_column("perplexity_bucket", pa.array(BUCKET_NAMES[buckets], pa.string())).append_column("templated", pa.array(templated, pa.bool_()))
    annotated = annotated.append_column("drop_reason", pa.array(reasons, pa.string()))
    kept = annotated.filter(pc.is_null(annotated.column("drop_reason")))
    stats = {**language_stats(label, annotated, kept, (characters, size)), **selection_stats(annotated, kept, bucket_info), "kenlm": kenlm_stats(label, manifest, bootstrap, card),
             "classifier": {"rule": rule, "min_quality_score": manifest.language_thresholds.get(label, {}).get("min_quality_score", threshold)},
             "lid_contamination": outlier.info.get("contamination"), "lid_outlier": outlier.info}
    memory = {"rows": n, "rows_per_chunk": batch_rows, "max_rows_held": language.max_held, "domain_partitions": domains, "dedup_partitions": partitions,
              "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}  # the worker process's peak so far (Linux: KiB)
    return LanguageResult(stats, {name: c.as_dict() for name, c in counters.items()}, memory)


class _ShardWriter:
    """Shards of one partition written as rows arrive: rows wait until a shard's worth (or ``hold`` rows) is
    there, so a language spread thinly over many annotated files still gets full shards; each written group is
    sorted by id."""

    def __init__(self, folder: Path, write, hold: int):
        self.folder, self.write, self.hold = folder, write, hold
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
        self.shards += len(write_shards(table, self.folder, self.write.max_rows_per_shard, self.write.max_bytes_per_shard, self.write.compression, self.shards))


def _with_selection_columns(table: pa.Table, keys: np.ndarray, buckets: np.ndarray, templated_score: np.ndarray, templated: np.ndarray) -> pa.Table:
    table = set_column(table, "perplexity_bucket", pa.array(BUCKET_NAMES[buckets[keys]], pa.string()))
    table = set_column(table, "templated_score", pa.array(templated_score[keys]).cast(pa.float32()))
    return set_column(table, "templated", pa.array(templated[keys], pa.bool_()))


class _RowFloats:
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
        return {"source": "bootstrap", **{k: v for k, v in status.items() if k != "status"}, "max_perplexity_basis": perplexity_basis(card, manifest.thresholds.updated(manifest.language_thresholds.get(label, {})))}
    info = {"source": "given" if card else "none"}
    if status:  # bootstrap was on but did not train this language: say why
        info["bootstrap"] = status
    return info


def publish(folder: RunFolder) -> None:
    """Swap the staged folders into place: the old one is moved aside before the rename and deleted after,
    so a crash at any point leaves a complete folder (old or new) under its name or beside it."""
    output, staging = folder.root, folder.staging().root
    if is_url(output):
        _publish_remote(output, staging)
        return
    for name in PUBLISHED:
        target, staged, old = output / name, staging / name, output / f".{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        if staged.exists():
            staged.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


def _publish_remote(output, staging) -> None:
    """An object store has no rename, so no swap either: ``stats/`` goes first (its absence says a publish is
    under way), then ``dataset/`` and ``removed/`` are replaced by server-side copies, then ``stats/`` with
    ``run.json`` last. Each object is whole; a crash midway leaves no ``stats/run.json`` and ``.staging/``
    intact, and the next ``longtail run`` / ``select`` writes everything again."""
    remove_tree(output / STATS)
    for name in PUBLISHED:
        if (staging / name).exists():
            replace_tree(staging / name, output / name, last=(RUN_JSON,))
        else:
            remove_tree(output / name)
    remove_tree(staging)

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
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from longtail.fileio import as_path, is_url, parquet_rows, read_table, remove_tree, replace_tree, scratch_dir
from longtail.filters.perplexity_buckets import bucket_codes, bucket_cutoffs, perplexity_values
from longtail.filters.templated import hostname, templated_scores
from longtail.filters.kenlm_model import load_card
from longtail.langid.labels import is_safe_label
from longtail.reasons import LID_NOT_SELECTED, LID_OUTLIER
from longtail.stages.base import Chain, StageCounters
from longtail.stages.dedup.distributed import ROW_KEY, WORKER_BASELINE_MB, LocalEngine, cluster_parts, partition_count
from longtail.stages.dedup.index import language_files
from longtail.stages.dedup.stage import DedupStage
from longtail.stages.lid_outlier import LidOutlierStage, reference_rows
from longtail.stages.select import KeepLanguagesStage, SelectStage
from longtail.stages.selection_columns import SelectionColumnsStage, TemplatedCapStage, cap_templated, selection_stats

from longtail.pipeline.bootstrap import BootstrapOutcome, ClassifierOutcome

from longtail.pipeline.finalize_parts import (NEVER_EXPORTED, ClassifierThreshold, LanguageResult, LanguageRows, RowFloats, counted, dedup_part, kenlm_stats,
                                              language_stats, peak_memory_mb, release_arrow_memory, selected_small_columns, with_selection_columns,
                                              write_language, write_shards)
from longtail.pipeline.finalize_sharded import finalize_sharded, shard_rows
from longtail.pipeline.manifest import Manifest
from longtail.pipeline.ray_backend import dedup_engine
from longtail.pipeline.runfolder import PUBLISHED, RUN_JSON, STATS, RunFolder, partition, read_language, read_languages


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


def with_classifier_thresholds(manifest: Manifest, classifier: ClassifierOutcome | None) -> tuple[Manifest, ClassifierThreshold]:
    """``manifest`` with the classifier threshold of :func:`classifier_rule` as the default, and, under the
    bootstrapped classifier's own rule, its per-language calibration for the languages the manifest sets no
    ``min_quality_score`` for (each lower than the pooled threshold: a language whose positives score low as a whole
    keeps them); with the threshold, its rule and each language's own rule for the stats."""
    threshold, rule = classifier_rule(manifest, classifier)
    language_rules = {label: "manifest:language" for label, values in manifest.language_thresholds.items() if "min_quality_score" in values}
    manifest = replace(manifest, thresholds=manifest.thresholds.updated({"min_quality_score": threshold}))
    if rule == "bootstrap" and classifier.language_thresholds:
        per_language = {label: dict(values) for label, values in manifest.language_thresholds.items()}
        for label, value in classifier.language_thresholds.items():
            if label not in language_rules:
                per_language.setdefault(label, {})["min_quality_score"] = value
                language_rules[label] = "bootstrap:language"
        manifest = replace(manifest, language_thresholds=per_language)
    return manifest, ClassifierThreshold(threshold, rule, language_rules)


def finalize_language(manifest: Manifest, label: str, files: list[str], staging: str, bootstrap: BootstrapOutcome | None = None,
                      classifier: ClassifierOutcome | None = None) -> LanguageResult:
    """Select, deduplicate and write one language; returns its statistics and stage counters."""
    if not is_safe_label(label):  # labels become folder names: refuse anything else
        raise ValueError(f"unsafe language label {label!r}")
    manifest, classifier_threshold = with_classifier_thresholds(manifest, classifier)
    rows, characters = language_size(files, label)
    batch_rows = rows_per_chunk(manifest.write.finalize_memory_mb, characters / max(rows, 1))
    if rows > shard_rows(manifest):  # too many rows for one task's per-row state: shards of rows, each its own tasks
        return finalize_sharded(manifest, label, files, staging, bootstrap, classifier, classifier_threshold, rows, batch_rows, shard_rows(manifest))
    if rows > batch_rows:  # bigger than the task's budget: selection, dedup and writing chunk by chunk
        return finalize_partitioned(manifest, label, files, staging, bootstrap, classifier, classifier_threshold, batch_rows)
    table = read_language(files, label, bootstrap.perplexity_files if bootstrap else None, classifier.quality_files if classifier else None)
    return _finalize_table(manifest, label, table, staging, bootstrap, classifier_threshold)


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
    manifest, classifier_threshold = with_classifier_thresholds(manifest, classifier)
    tables = read_languages(files, labels, bootstrap.perplexity_files if bootstrap else None, classifier.quality_files if classifier else None)
    return [_finalize_table(manifest, label, tables.pop(label), staging, bootstrap, classifier_threshold) for label in labels]


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
                    classifier_threshold: ClassifierThreshold) -> LanguageResult:
    card = bootstrap.card(label) if bootstrap else None
    if card is None and manifest.quality.kenlm_models:
        card = load_card(manifest.quality.kenlm_models, label)
    chain = selection_chain(manifest, label, table.column_names, card, engine=dedup_engine())
    annotated = chain(table)
    annotated = annotated.drop_columns([c for c in NEVER_EXPORTED if c in annotated.column_names])

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
             "classifier": classifier_threshold.stats(manifest, label),
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


def _live_rows(reasons: list) -> np.ndarray:
    """Row keys without a drop reason, ascending (an array: not a Python int per row)."""
    return np.flatnonzero(np.fromiter((reason is None for reason in reasons), dtype=bool, count=len(reasons)))


def finalize_partitioned(manifest: Manifest, label: str, files: list[str], staging: str, bootstrap: BootstrapOutcome | None,
                         classifier: ClassifierOutcome | None, classifier_threshold: ClassifierThreshold, batch_rows: int) -> LanguageResult:
    """:func:`finalize_language` for a language bigger than the task's budget: the same stages, statistics and rows.

    The language-wide rules work on small columns of every row (:class:`LanguageRows`); text is read in batches
    of ``batch_rows`` rows, once per pass: templated scores (texts spilled to local scratch by hash of their
    domain, then scored one domain partition at a time: a page's score depends on its domain's pages only),
    select, the LID core's common words, LID scores, dedup's inputs (read by one task per annotated file, as parts,
    Ray object handles when Ray runs) and the writing. Shards are written as rows arrive (:class:`ShardWriter`),
    each written group sorted by id.
    """
    limits = manifest.thresholds.updated(manifest.language_thresholds.get(label, {}))
    card = bootstrap.card(label) if bootstrap else None
    if card is None and manifest.quality.kenlm_models:
        card = load_card(manifest.quality.kenlm_models, label)
    language = LanguageRows(files, label, bootstrap.perplexity_files if bootstrap else None, classifier.quality_files if classifier else None, batch_rows)
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
    release_arrow_memory()
    counters["selection_columns"] = StageCounters(n, n, Counter(), time.perf_counter() - started)  # adds columns, drops nothing

    # select, batch by batch
    started = time.perf_counter()
    select = SelectStage(manifest.thresholds, manifest.language_thresholds, {label: card} if card else {})
    reasons: list[str | None] = [None] * n
    ceilings = RowFloats(n)
    for table, keys in language.batches(full=True):
        table = with_selection_columns(table.drop_columns([c for c in NEVER_EXPORTED if c in table.column_names]), keys, buckets, templated_score, templated)
        table = select(table)
        for key, reason in zip(keys.tolist(), table.column("drop_reason").to_pylist()):
            reasons[key] = reason
        ceilings.set(keys, table.column("max_perplexity"))
    counted(counters["select"], None, reasons, time.perf_counter() - started)
    release_arrow_memory()

    # templated cap and keep_languages: small columns only
    started = time.perf_counter()
    capped = cap_templated(pa.table({"id": small.column("id"), "perplexity": pc.cast(perplexity, pa.float64()), "drop_reason": pa.array(reasons, pa.string()),
                                     "templated": pa.array(templated, pa.bool_())}), limits).column("drop_reason").to_pylist()
    counted(counters["templated_cap"], reasons, capped, time.perf_counter() - started)
    reasons = capped
    if manifest.languages is not None:
        kept_languages = [r or (None if label in frozenset(manifest.languages) else LID_NOT_SELECTED) for r in reasons]
        counted(counters["keep_languages"], reasons, kept_languages, 0.0)
        reasons = kept_languages

    # LID outliers: the core's common words in one pass, every live page's score in another
    started = time.perf_counter()
    outlier = LidOutlierStage.for_split(label)
    live = _live_rows(reasons)
    core_rows = outlier.core(live, pc.fill_null(small.column("lang_score"), 0.0).to_numpy())
    lid_scores = RowFloats(n)
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
    counted(counters["lid_outlier"], before, reasons, time.perf_counter() - started)
    release_arrow_memory()

    # dedup: the live rows' signatures go to the distributed dedup as parts, one per annotated file (handles on Ray)
    started = time.perf_counter()
    engine = dedup_engine()
    alive = np.zeros(n, bool)
    alive[_live_rows(reasons)] = True
    # one task per annotated file reads its live rows' dedup columns: they never pass through this task (on Ray)
    part_of_file = (engine or LocalEngine()).task(dedup_part)
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
    counted(counters["dedup"], before, reasons, time.perf_counter() - started)
    release_arrow_memory()

    # writing, batch by batch: the columns in the whole-language table's order
    characters, size = write_language(language, staging, manifest.write, batch_rows, "", (buckets, templated_score, templated), ceilings, lid_scores, reasons, clusters, where)
    annotated, kept = selected_small_columns(small, buckets, templated, reasons)
    stats = {**language_stats(label, annotated, kept, (characters, size)), **selection_stats(annotated, kept, bucket_info), "kenlm": kenlm_stats(label, manifest, bootstrap, card),
             "classifier": classifier_threshold.stats(manifest, label),
             "lid_contamination": outlier.info.get("contamination"), "lid_outlier": outlier.info}
    memory = {"rows": n, "rows_per_chunk": batch_rows, "max_rows_held": language.max_held, "domain_partitions": domains, "dedup_partitions": partitions,
              "peak_rss_mb": peak_memory_mb()}  # this process's peak (VmHWM; ru_maxrss would carry a forking parent's over exec)
    return LanguageResult(stats, {name: c.as_dict() for name, c in counters.items()}, memory)


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

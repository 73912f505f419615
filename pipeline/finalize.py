"""Selection, dedup and writing, per language, from the annotations (never from the crawl).

Each language is one Ray task: languages run in parallel and no task ever holds the whole corpus. Outputs go
to a staging folder first and replace the previous ``dataset/``, ``removed/`` and ``stats/`` only when every
language has finished, so a crash never leaves a half-written release.
"""

from __future__ import annotations

import math
import shutil
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from longtail.filters.kenlm_model import load_card
from longtail.stages.selection_columns import add_selection_columns, cap_templated, selection_stats
from longtail.langid.labels import is_safe_label
from longtail.stages.base import set_column
from longtail.pipeline.bootstrap import BootstrapOutcome
from longtail.stages.dedup.distributed import ROW_KEY, cluster_language, with_row_key
from longtail.stages.select import SelectStage

from longtail.pipeline.manifest import Manifest
from longtail.pipeline.ray_backend import dedup_engine
from longtail.pipeline.runfolder import PUBLISHED, RunFolder, partition, read_language

NOT_SELECTED = "lid:not_selected"
_NEVER_EXPORTED = ("minhash",)


def write_shards(table: pa.Table, folder: Path, max_rows: int, max_bytes: int, compression: str) -> list[str]:
    """Write ``table`` as ``part-00000.parquet``... with at most ``max_rows`` rows and ~``max_bytes`` of text each."""
    folder.mkdir(parents=True, exist_ok=True)
    sizes = pc.binary_length(pc.cast(pc.fill_null(table.column("text"), ""), pa.binary())).to_pylist() if table.num_rows else []
    names, start, shard = [], 0, 0
    while start < table.num_rows:
        end, budget = start, 0
        while end < table.num_rows and end - start < max_rows and (budget + sizes[end] <= max_bytes or end == start):
            budget += sizes[end]
            end += 1
        name = f"part-{shard:05d}.parquet"
        pq.write_table(table.slice(start, end - start), folder / name, compression=compression)
        names.append(name)
        start, shard = end, shard + 1
    return names


def _quantiles(values: list[float]) -> dict:
    values = sorted(v for v in values if v is not None and not math.isnan(v))
    if not values:
        return {}
    from longtail.filters.perplexity_buckets import percentile

    return {f"p{q}": round(percentile(values, q), 2) for q in (10, 25, 50, 75, 90)}


def language_stats(label: str, annotated: pa.Table, kept: pa.Table) -> dict:
    reasons = Counter(r for r in annotated.column("drop_reason").to_pylist() if r)
    dedup_drops = sum(count for reason, count in reasons.items() if reason.startswith("dedup:"))
    texts = kept.column("text").to_pylist() if kept.num_rows else []
    other_langs = kept.column("other_langs").to_pylist() if kept.num_rows else []
    lang_scores = [s for s in kept.column("lang_score").to_pylist()] if kept.num_rows else []
    return {
        "lang_script": label,
        "annotated": annotated.num_rows,
        "documents": kept.num_rows,
        "words": int(pc.sum(kept.column("n_words")).as_py() or 0) if kept.num_rows else 0,
        "characters": sum(len(t) for t in texts),
        "bytes": sum(len(t.encode("utf-8")) for t in texts),
        "dropped": dict(sorted(reasons.items())),
        "duplicate_rate": round(dedup_drops / (kept.num_rows + dedup_drops), 4) if kept.num_rows + dedup_drops else 0.0,
        "perplexity": _quantiles(kept.column("perplexity").to_pylist()) if "perplexity" in kept.column_names and kept.num_rows else {},
        "mean_lang_score": round(sum(lang_scores) / len(lang_scores), 4) if lang_scores else None,
        "mixed_language_share": round(sum(1 for o in other_langs if o) / len(other_langs), 4) if other_langs else 0.0,
    }


def finalize_language(manifest: Manifest, label: str, files: list[str], staging: str, bootstrap: BootstrapOutcome | None = None) -> dict:
    """Select, deduplicate and write one language; returns its statistics."""
    if not is_safe_label(label):  # labels become folder names: refuse anything else
        raise ValueError(f"unsafe language label {label!r}")
    table = read_language(files, label, bootstrap.perplexity_files if bootstrap else None)
    limits = manifest.thresholds.updated(manifest.language_thresholds.get(label, {}))
    table, bucket_info = add_selection_columns(table, limits)
    card = bootstrap.card(label) if bootstrap else None
    if card is None and manifest.quality.kenlm_models:
        card = load_card(manifest.quality.kenlm_models, label)
    cards = {label: card} if card else {}
    selected = cap_templated(SelectStage(manifest.thresholds, manifest.language_thresholds, cards)(table), limits)
    if manifest.languages is not None and label not in manifest.languages:
        selected = set_column(selected, "drop_reason", [r or NOT_SELECTED for r in selected.column("drop_reason").to_pylist()], pa.string())

    selected = with_row_key(selected)  # dedup verdicts map back by row: user ids may repeat
    passing = selected.filter(pc.is_null(selected.column("drop_reason")))
    annotated = attach_clusters(selected, cluster_language(passing, manifest.dedup, label, engine=dedup_engine()))
    annotated = annotated.drop_columns([c for c in _NEVER_EXPORTED if c in annotated.column_names])

    kept = annotated.filter(pc.is_null(annotated.column("drop_reason")))
    removed = annotated.filter(pc.is_valid(annotated.column("drop_reason")))
    write, staged = manifest.write, RunFolder(staging)
    if kept.num_rows:
        write_shards(kept, partition(staged.dataset, label), write.max_rows_per_shard, write.max_bytes_per_shard, write.compression)
    if removed.num_rows:
        write_shards(removed, partition(staged.removed, label), write.max_rows_per_shard, write.max_bytes_per_shard, write.compression)
    return {**language_stats(label, annotated, kept), **selection_stats(annotated, kept, bucket_info), "kenlm": kenlm_stats(label, manifest, bootstrap, card)}


def kenlm_stats(label: str, manifest: Manifest, bootstrap: BootstrapOutcome | None, card: dict | None) -> dict:
    """Which KenLM model judged the language: ``bootstrap`` (trained on this run), ``given`` or ``none``."""
    status = bootstrap.languages.get(label) if bootstrap else None
    if status and status.get("status") == "bootstrapped":
        return {"source": "bootstrap", **{k: v for k, v in status.items() if k != "status"}, "max_perplexity_basis": (card or {}).get("heldout_perplexity", {}).get("p50")}
    info = {"source": "given" if card else "none"}
    if status:  # bootstrap was on but did not train this language: say why
        info["bootstrap"] = status
    return info


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


def publish(folder: RunFolder) -> None:
    """Swap the staged folders into place: the old one is moved aside before the rename and deleted after,
    so a crash at any point leaves a complete folder (old or new) under its name or beside it."""
    output, staging = folder.root, folder.staging().root
    for name in PUBLISHED:
        target, staged, old = output / name, staging / name, output / f".{name}.old"
        shutil.rmtree(old, ignore_errors=True)
        if target.exists():
            target.rename(old)
        if staged.exists():
            staged.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)

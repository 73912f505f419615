"""Selection, dedup and writing, per language, from the annotations (never from the crawl).

Each language is one Ray task: languages run in parallel and no task ever holds the whole corpus. A language's
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
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from longtail.fileio import as_path, is_url, remove_tree, replace_tree, write_parquet
from longtail.filters.kenlm_model import load_card
from longtail.filters.quality import perplexity_basis
from longtail.langid.labels import is_safe_label
from longtail.stages.base import Chain
from longtail.stages.dedup.stage import DedupStage
from longtail.stages.lid_outlier import LidOutlierStage
from longtail.stages.select import KeepLanguagesStage, SelectStage
from longtail.stages.selection_columns import SelectionColumnsStage, TemplatedCapStage, selection_stats

from longtail.pipeline.bootstrap import BootstrapOutcome, ClassifierOutcome

from longtail.pipeline.manifest import Manifest
from longtail.pipeline.ray_backend import dedup_engine
from longtail.pipeline.runfolder import PUBLISHED, RUN_JSON, STATS, RunFolder, partition, read_language

_NEVER_EXPORTED = ("minhash",)


def write_shards(table: pa.Table, folder: Path, max_rows: int, max_bytes: int, compression: str) -> list[str]:
    """Write ``table`` as ``part-00000.parquet``... with at most ``max_rows`` rows and ~``max_bytes`` of text each."""
    if not is_url(folder):
        folder.mkdir(parents=True, exist_ok=True)
    sizes = pc.binary_length(pc.cast(pc.fill_null(table.column("text"), ""), pa.binary())).to_pylist() if table.num_rows else []
    names, start, shard = [], 0, 0
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
    stages.append(LidOutlierStage())  # corpus-level LID check of the split (docs/lid.md)
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
        return (classifier.threshold, "bootstrap") if classifier.trained else (None, "bootstrap:too_little_text")
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
    table = read_language(files, label, bootstrap.perplexity_files if bootstrap else None, classifier.quality_files if classifier else None)
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

"""The run folder: the one module that knows where a run keeps its files, and how to read them back.

Layout of ``<output>/`` (every other module asks :class:`RunFolder` for a path instead of spelling one)::

    annotated/<unit>.parquet, <unit>.done.json        annotate pass: one pair per input file ("unit");
                                                      the done record is written last (temp + rename)
    bootstrap/kenlm/<label>.json, folds/, index.json KenLM models trained on this run (pipeline/bootstrap.py; <label>.binary with final_model)
    bootstrap/perplexity/<unit>.parquet               perplexity re-scored with them, row-aligned with
        FINGERPRINT, COMPLETE                         annotated/<unit>.parquet (the "overlay"; annotations stay immutable)
    bootstrap/classifier/fold*.bin, card.json         the quality classifier trained on this run (card: status, counts, AUC)
    bootstrap/quality/<unit>.parquet                  its quality_score per row, row-aligned like bootstrap/perplexity
        FINGERPRINT, COMPLETE
    dataset/lang_script=<label>/part-*.parquet        kept documents
    removed/lang_script=<label>/part-*.parquet        dropped documents, with drop_reason
    stats/languages.json, languages.csv, records.json, run.json, errors.jsonl, stages.json,
        lid_contamination.json (contamination.json)   lid_contamination.json: the whole run's estimated wrong-language
                                                      contamination from lid:outlier (pipeline/stats.py); contamination.json:
                                                      a human audit (longtail audit-report --json), when one was run
    logs/run.log
    .staging/{dataset,removed,stats}/                 finalize's output, swapped into place when complete

Reading annotations back (:meth:`RunFolder.read_annotations`, :func:`read_language`) applies the overlay: a
re-scored ``perplexity`` replaces the annotate pass's when the bootstrap's scores are current.
This module imports nothing from ``longtail.pipeline``, so every pipeline module may import it. The root may be a URL
(``s3://bucket/runs/x``): paths are then ``UPath`` objects, Parquet is read through :mod:`longtail.fileio`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import pyarrow as pa
import pyarrow.compute as pc

from longtail.fileio import as_path, is_url, read_schema, read_table
from longtail.langid.labels import NON_LANGUAGE, is_safe_label
from longtail.stages.base import set_column

# sub-folders
ANNOTATED, BOOTSTRAP, DATASET, REMOVED, STATS, LOGS, STAGING = "annotated", "bootstrap", "dataset", "removed", "stats", "logs", ".staging"
KENLM, RESCORED = f"{BOOTSTRAP}/kenlm", f"{BOOTSTRAP}/perplexity"
CLASSIFIER, RESCORED_QUALITY = f"{BOOTSTRAP}/classifier", f"{BOOTSTRAP}/quality"
CLASSIFIER_CARD = "card.json"  # bootstrap/classifier/: fingerprint, status, counts, held-out AUC, calibrated threshold
PUBLISHED = (DATASET, REMOVED, STATS)  # what finalize writes to .staging and swaps into place

# files
PARQUET_SUFFIX, DONE_SUFFIX = ".parquet", ".done.json"
KENLM_INDEX = "index.json"  # bootstrap/kenlm/: fingerprint, settings and per-language status
RESCORED_FINGERPRINT = "FINGERPRINT"  # bootstrap/perplexity/: which models its scores belong to
RESCORED_COMPLETE = "COMPLETE"  # bootstrap/perplexity/: written when every annotated file has its scores
LANGUAGES_JSON, LANGUAGES_CSV, RECORDS_JSON, RUN_JSON = "languages.json", "languages.csv", "records.json", "run.json"
ERRORS_JSONL, STAGES_JSON, CONTAMINATION_JSON = "errors.jsonl", "stages.json", "contamination.json"
LID_CONTAMINATION_JSON = "lid_contamination.json"  # stats/: the run-level lid:outlier estimate (pipeline/stats.py)
RUN_LOG = "run.log"


def unit_name(path: str) -> str:
    """File-system-safe, collision-free name of an input unit."""
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in PurePosixPath(path).name)[:80]
    return f"{stem}-{hashlib.sha1(path.encode()).hexdigest()[:10]}"


def done_record_of(annotated: str | Path) -> Path:
    """The done record next to an annotated Parquet file."""
    annotated = as_path(annotated)
    return annotated.with_name(annotated.name.removesuffix(PARQUET_SUFFIX) + DONE_SUFFIX)


def partition(folder: str | Path, label: str) -> Path:
    """Hive-style partition folder of one language under ``dataset/`` or ``removed/``."""
    if not is_safe_label(label):  # labels become folder names: refuse anything else
        raise ValueError(f"unsafe language label {label!r}")
    return as_path(folder) / f"lang_script={label}"


@dataclass
class UnitResult:
    """What a unit's done record holds: its input, documents written, record counts, errors, time, and the
    annotate chain's per-stage counters (:class:`longtail.stages.base.Chain`)."""

    unit: str
    documents: int
    records: dict
    errors: list
    seconds: float
    skipped: bool = False
    stages: dict = field(default_factory=dict)

    def as_row(self) -> dict:
        return {
            "unit": self.unit,
            "documents": self.documents,
            "records": json.dumps(self.records, sort_keys=True),
            "errors": json.dumps(self.errors),
            "seconds": self.seconds,
            "skipped": self.skipped,
            "stages": json.dumps(self.stages),  # in chain order
        }


def load_done(done_path: Path) -> UnitResult:
    done = json.loads(as_path(done_path).read_text())
    return UnitResult(done["unit"], done["documents"], done["records"], done["errors"], done["seconds"], skipped=True, stages=done.get("stages", {}))


def write_done(done_path: Path, result: UnitResult) -> None:
    """Write a unit's done record (temp + rename: a done record is whole or absent)."""
    done_path = as_path(done_path)
    record = {"unit": result.unit, "documents": result.documents, "records": result.records, "errors": result.errors, "seconds": result.seconds}
    if result.stages:
        record["stages"] = result.stages
    if is_url(done_path):  # one small PUT: an object store shows it whole or not at all
        done_path.write_text(json.dumps(record, ensure_ascii=False))
        return
    tmp_done = done_path.with_name(f".{done_path.name}.tmp")
    tmp_done.write_text(json.dumps(record, ensure_ascii=False))
    os.replace(tmp_done, done_path)


class RunFolder:
    """Paths of one run's output folder (``RunFolder(manifest.output)``); nothing is created until written."""

    def __init__(self, output: str | Path):
        self.root = as_path(output)  # a UPath when the output is a URL (s3://...)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.root)!r})"

    # --- folders ---------------------------------------------------------------------------------------------
    annotated = property(lambda self: self.root / ANNOTATED)
    bootstrap = property(lambda self: self.root / BOOTSTRAP)
    kenlm = property(lambda self: self.root / KENLM)
    rescored = property(lambda self: self.root / RESCORED)
    dataset = property(lambda self: self.root / DATASET)
    removed = property(lambda self: self.root / REMOVED)
    stats = property(lambda self: self.root / STATS)
    logs = property(lambda self: self.root / LOGS)
    run_log = property(lambda self: self.root / LOGS / RUN_LOG)
    kenlm_index = property(lambda self: self.kenlm / KENLM_INDEX)
    classifier = property(lambda self: self.root / CLASSIFIER)
    rescored_quality = property(lambda self: self.root / RESCORED_QUALITY)
    classifier_card = property(lambda self: self.classifier / CLASSIFIER_CARD)
    rescored_fingerprint = property(lambda self: self.rescored / RESCORED_FINGERPRINT)
    rescored_complete = property(lambda self: self.rescored / RESCORED_COMPLETE)

    def staging(self) -> RunFolder:
        """Where finalize writes ``dataset/``, ``removed/`` and ``stats/`` before :data:`PUBLISHED` swaps them in."""
        return RunFolder(self.root / STAGING)

    def stats_file(self, name: str) -> Path:
        return self.stats / name

    # --- annotate units --------------------------------------------------------------------------------------
    def unit_files(self, unit: str) -> tuple[Path, Path]:
        """(annotations, done record) of an input file."""
        base = unit_name(unit)
        return self.annotated / (base + PARQUET_SUFFIX), self.annotated / (base + DONE_SUFFIX)

    def is_annotated(self, unit: str) -> bool:
        parquet_path, done_path = self.unit_files(unit)
        return done_path.is_file() and parquet_path.is_file()

    def done_records(self) -> list[Path]:
        return sorted(self.annotated.glob("*" + DONE_SUFFIX))

    def annotated_files_with_documents(self, units: list[str]) -> list[str]:
        """The annotated files of ``units`` that hold at least one document (finalize's and bootstrap's inputs)."""
        files = []
        for unit in units:
            parquet_path, done_path = self.unit_files(unit)
            if json.loads(done_path.read_text())["documents"] > 0:
                files.append(str(parquet_path))
        return files

    def annotated_files(self) -> list[Path]:
        """A finished run's annotated Parquet files (for tools that work from the annotations after the run)."""
        files = sorted(self.annotated.glob("*" + PARQUET_SUFFIX))
        if not files:
            raise FileNotFoundError(f"no annotations under {self.annotated}; run `longtail run` first")
        return files

    # --- the re-scored perplexity overlay --------------------------------------------------------------------
    def rescored_file(self, annotated: str | Path) -> Path:
        """The re-scored perplexity of an annotated file (same name, row-aligned)."""
        return self.rescored / as_path(annotated).name

    def rescored_is_current(self) -> bool:
        """Whether ``bootstrap/perplexity`` holds finished scores of the current bootstrapped models (what tools
        that read annotations after a run, e.g. ``calibrate``, may use)."""
        if not (self.kenlm_index.is_file() and self.rescored_complete.is_file()):
            return False
        return json.loads(self.kenlm_index.read_text()).get("fingerprint") == self.rescored_complete.read_text()

    def rescored_quality_is_current(self) -> bool:
        """Whether ``bootstrap/quality`` holds finished scores of the current bootstrapped classifier."""
        complete = self.rescored_quality / RESCORED_COMPLETE
        if not (self.classifier_card.is_file() and complete.is_file()):
            return False
        return json.loads(self.classifier_card.read_text()).get("fingerprint") == complete.read_text()

    def read_annotations(self, columns: list[str]) -> dict[str, list[dict]]:
        """Annotated rows (selected columns only) grouped by ``lang_script``; undetermined languages are left out.
        ``perplexity`` comes from the overlay when it is current."""
        files = self.annotated_files()
        rescored_ok = "perplexity" in columns and self.rescored_is_current()
        quality_ok = "quality_score" in columns and self.rescored_quality_is_current()
        tables = []
        for path in files:
            present = set(read_schema(path).names)
            if "lang_script" in present:
                table = read_table(path, columns=[c for c in columns if c in present])
                if rescored_ok:  # the run bootstrapped KenLM: its scores replace the annotate pass's
                    scores = read_table(self.rescored_file(path), columns=["perplexity"]).column("perplexity")
                    if len(scores) != table.num_rows:
                        raise ValueError(f"{RESCORED}/{path.name} does not match {path.name}; re-run `longtail select` to re-score")
                    table = set_column(table, "perplexity", scores)
                if quality_ok:  # the run bootstrapped its classifier: its scores replace the annotate pass's
                    scores = read_table(self.rescored_quality / path.name, columns=["quality_score"]).column("quality_score")
                    if len(scores) != table.num_rows:
                        raise ValueError(f"{RESCORED_QUALITY}/{path.name} does not match {path.name}; re-run `longtail select` to re-score")
                    table = set_column(table, "quality_score", scores)
                tables.append(table)
        by_language: dict[str, list[dict]] = defaultdict(list)
        for row in pa.concat_tables(tables, promote_options="default").to_pylist() if tables else []:
            if row.get("lang") not in NON_LANGUAGE and row.get("lang_script") and is_safe_label(row["lang_script"]):
                by_language[row["lang_script"]].append(row)
        return dict(sorted(by_language.items()))

    # --- outputs ---------------------------------------------------------------------------------------------
    def kept_files(self) -> list[Path]:
        """Every kept-document shard, ``dataset/lang_script=*/part-*.parquet``."""
        return sorted(self.dataset.glob("lang_script=*/part-*.parquet"))

    def kept_files_of(self, label: str) -> list[Path]:
        return sorted(partition(self.dataset, label).glob("part-*.parquet"))


def label_of_partition(part: Path) -> str:
    """The language of a shard under ``dataset/`` or ``removed/`` (its folder is ``lang_script=<label>``)."""
    return as_path(part).parent.name.split("=", 1)[1]


def read_language(files: list[str], label: str, perplexity_files: dict[str, str] | None = None, quality_files: dict[str, str] | None = None) -> pa.Table:
    """One language's annotated rows, sorted by id; with ``perplexity_files`` (annotated file -> its re-scored
    file, from the run's bootstrap phase), ``perplexity`` and ``kenlm_source`` come from the overlay."""
    return read_languages(files, [label], perplexity_files, quality_files)[label]


def read_languages(files: list[str], labels: list[str], perplexity_files: dict[str, str] | None = None, quality_files: dict[str, str] | None = None) -> dict[str, pa.Table]:
    """:func:`read_language` for several languages, each file (and its overlays) read once for all of them."""
    def rows_of(path: str) -> pa.Table:
        return read_table(path, filters=[("lang_script", "in", list(labels))])

    tables = []
    for f in files:
        table = rows_of(f)
        if perplexity_files and table.num_rows:
            rescored = rows_of(perplexity_files[f])
            if rescored.num_rows != table.num_rows:
                raise ValueError(f"{perplexity_files[f]} does not match {f} ({rescored.num_rows} vs {table.num_rows} rows of {', '.join(labels)}); delete it to re-score")
            table = set_column(table, "perplexity", rescored.column("perplexity"))
            table = set_column(table, "kenlm_source", rescored.column("kenlm_source"))
        if quality_files and table.num_rows:  # the bootstrapped classifier's score (bootstrap/quality/)
            rescored = rows_of(quality_files[f])
            if rescored.num_rows != table.num_rows:
                raise ValueError(f"{quality_files[f]} does not match {f} ({rescored.num_rows} vs {table.num_rows} rows of {', '.join(labels)}); delete it to re-score")
            table = set_column(table, "quality_score", rescored.column("quality_score"))
        tables.append(table)
    tables = [t for t in tables if t.num_rows]
    found = {}
    table = pa.concat_tables(tables, promote_options="default") if tables else None
    for label in labels:
        rows = table.filter(pc.equal(table.column("lang_script"), label)) if table is not None else None
        if rows is None or not rows.num_rows:
            raise ValueError(f"no annotated rows for {label}")
        found[label] = rows.sort_by([("id", "ascending")])
    return found

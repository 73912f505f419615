"""The annotate pass: read -> URL rules -> extract -> identify -> personal data -> signals -> perplexity -> classifier -> MinHash.

Its unit of work is one input file. Each unit's annotations are written atomically (temporary file, then
rename) next to a completion record; a rerun skips units whose completion record exists, so a crash costs
only the units in flight and the output is the same as an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import traceback
from pathlib import Path, PurePosixPath

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from longtail.fileio import is_url, scratch_dir, upload
from longtail.stages.base import Chain
from longtail.stages.extract import ExtractStage
from longtail.stages.identify import IdentifyStage
from longtail.stages.dedup.minhash import MinHashStage
from longtail.stages.quality import ClassifierStage, PerplexityStage, SignalsStage
from longtail.stages.safety import PiiStage, UrlStage
from longtail.stages.read import DOCUMENT_SCHEMA, ReadReport, read_unit

from longtail.pipeline.manifest import Manifest
from longtail.pipeline.runfolder import RunFolder, UnitResult, load_done, write_done

ROW_GROUP_ROWS = 10_000
# A language with fewer rows than this in a unit shares row groups with its neighbours in label order. A row group
# costs ~2 ms to write (60 columns), and a crawl file holds a hundred small languages: one group each was 4% of the
# annotate pass on real pages. Small languages are read in batches anyway (bootstrap, finalize groups).
POOLED_LANGUAGE_ROWS = 1_000
# Annotations a unit sorts in memory before it spills them to disk (LanguageSortedWriter). The sort copies what it
# holds, and the allocator keeps what it freed: on a 99,279-record file (338 MB of annotations) the writer alone rose
# the process's peak by 0.93 GB with 256 MB, 0.63 with 128, 0.42 with 64 and 0.35 with 32 (bench/writer_memory.py),
# and an annotate worker peaked at 2.17 GB with 256 MB, over the 2 GB a worker is meant to stay under
# (docs/performance.md). Spilling costs ~1 CPU s per 33,000 records, under 0.5% of their annotate pass
MEMORY_BUDGET = 64 << 20
# errors.jsonl kinds of whole input files (record-level kinds are reasons.py's RECORD_SKIPS)
INPUT_FAILED = "input_failed"  # an unexpected error while annotating the file; with its traceback
INPUT_REFUSED = "input_refused"  # unreadable or not an input format (checked before the run); with --skip-bad-inputs


def build_stages(manifest: Manifest) -> Chain:
    """The annotate chain of a manifest; its column contracts are checked here, before any input is read."""
    stages = [UrlStage(manifest.url_filter)] if manifest.url_filter.enabled else []
    stages += [
        ExtractStage(manifest.extract.max_html_chars, manifest.extract.timeout_seconds or None, manifest.extract.engine),
        IdentifyStage(manifest.identify.backend, manifest.identify.model_path, manifest.identify.macro_policy, manifest.identify.trusted_labels),
    ]
    if manifest.pii.enabled:  # before every score and signature: they see the text as it will be published
        stages.append(PiiStage(manifest.pii))
    stages.append(SignalsStage())
    if manifest.quality.kenlm_models:
        stages.append(PerplexityStage(manifest.quality.kenlm_models))
    if manifest.quality.classifier_model:
        stages.append(ClassifierStage(manifest.quality.classifier_model))
    stages.append(MinHashStage(manifest.dedup))
    if manifest.extract.target_prefilter and manifest.languages:
        from longtail.stages.prefilter import TargetedChain

        stages = [TargetedChain(stages, manifest.languages, manifest.identify.macro_policy)]
    return Chain(stages, DOCUMENT_SCHEMA.names)


class LanguageSortedWriter:
    """Writes a unit's annotations sorted by ``lang_script``: one run of row groups per language of at least
    :data:`POOLED_LANGUAGE_ROWS` rows; smaller languages share row groups of about that many rows, in label order.

    Selection and the KenLM bootstrap read one language from every annotated file; with language-pure row
    groups the Parquet reader skips the others by their min/max statistics, so a per-language task reads that
    language's rows instead of the whole crawl's. Batches are kept in memory up to ``memory_budget`` bytes and
    sorted once at the end. A unit larger than that is spilled each time the budget is reached, as one sorted
    file with row groups per language, and the final file takes each language's row groups from every spill file
    in turn. Memory stays bounded whatever the input file's size or its number of languages, and the rows, their
    order and the row groups are those of the in-memory path.
    """

    def __init__(self, path: Path, memory_budget: int = MEMORY_BUDGET):
        self.path = path
        self.spill = path.with_name(path.name + ".spill")
        self.memory_budget = memory_budget
        self.schema: pa.Schema | None = None
        self.pending: list[pa.Table] = []
        self.pending_bytes = 0
        # spill files in the order written, each with its row groups per label. One file is open at a time: a writer
        # per language, open for the whole unit, kept buffers that grow with the number of languages (0.47 against
        # 0.42 GB of peak on the 338 MB file of MEMORY_BUDGET's comment, 134 languages)
        self.spills: list[tuple[Path, dict[str | None, list[int]]]] = []

    def write(self, table: pa.Table) -> None:
        if self.schema is None:
            self.schema = table.schema
        self.pending.append(table.cast(self.schema))
        self.pending_bytes += table.nbytes
        if self.pending_bytes > self.memory_budget:
            self._spill_pending()

    def _sorted_pending(self) -> pa.Table:
        table = pa.concat_tables(self.pending)
        self.pending, self.pending_bytes = [], 0
        if "lang_script" not in table.column_names:
            return table
        return table.take(pc.sort_indices(table, sort_keys=[("lang_script", "ascending", "at_end")]))

    def _runs(self, table: pa.Table):
        """(label, slice) for each run of one ``lang_script`` in a sorted table."""
        if "lang_script" not in table.column_names:
            yield None, table
            return
        labels = table.column("lang_script").to_pylist()
        start = 0
        for end in range(1, len(labels) + 1):
            if end == len(labels) or labels[end] != labels[start]:
                yield labels[start], table.slice(start, end - start)
                start = end

    def _spill_pending(self) -> None:
        self.spill.mkdir(parents=True, exist_ok=True)
        path = self.spill / f"{len(self.spills)}.parquet"
        groups: dict[str | None, list[int]] = {}  # label -> its row groups in this spill file
        written = 0
        with pq.ParquetWriter(path, self.schema) as writer:
            for label, part in self._runs(self._sorted_pending()):
                writer.write_table(part, row_group_size=ROW_GROUP_ROWS)
                count = -(-part.num_rows // ROW_GROUP_ROWS)
                groups[label] = list(range(written, written + count))
                written += count
        if pq.ParquetFile(path).metadata.num_row_groups != written:  # other counts would mix languages
            raise RuntimeError(f"spill file {path} has other row groups than the {written} written")
        self.spills.append((path, groups))

    def close(self) -> None:
        """Write the final file (an empty one with an ``id`` column when there were no documents)."""
        try:
            if self.schema is None:
                pq.write_table(pa.table({"id": pa.array([], pa.string())}), self.path)
                return
            if not self.spills:  # the usual case: the unit fitted in memory
                with pq.ParquetWriter(self.path, self.schema, compression="zstd") as out:
                    groups = _RowGroups(out)
                    for _, part in self._runs(self._sorted_pending()):
                        groups.add(part)
                    groups.flush()
                return
            if self.pending:
                self._spill_pending()
            spills = [(pq.ParquetFile(path), groups) for path, groups in self.spills]
            labels = sorted({label for _, groups in spills for label in groups}, key=lambda lab: (lab is None, lab or ""))
            with pq.ParquetWriter(self.path, self.schema, compression="zstd") as out:
                groups = _RowGroups(out)
                for label in labels:
                    parts = [(parquet, indices[label]) for parquet, indices in spills if label in indices]
                    if sum(parquet.metadata.row_group(i).num_rows for parquet, chosen in parts for i in chosen) < POOLED_LANGUAGE_ROWS:
                        groups.add(pa.concat_tables(parquet.read_row_groups(chosen) for parquet, chosen in parts).cast(self.schema))
                        continue
                    groups.flush()
                    # row groups of ROW_GROUP_ROWS from the run's start, as the in-memory path writes them
                    buffered: list[pa.Table] = []
                    rows = 0
                    for parquet, chosen in parts:
                        for i in chosen:
                            buffered.append(parquet.read_row_group(i).cast(self.schema))
                            rows += buffered[-1].num_rows
                            if rows >= ROW_GROUP_ROWS:
                                table = pa.concat_tables(buffered)
                                full = rows - rows % ROW_GROUP_ROWS
                                out.write_table(table.slice(0, full), row_group_size=ROW_GROUP_ROWS)
                                buffered, rows = [table.slice(full)], rows - full
                    if rows:
                        out.write_table(pa.concat_tables(buffered), row_group_size=ROW_GROUP_ROWS)
                groups.flush()
        finally:
            self.discard()

    def discard(self) -> None:
        self.spills, self.pending = [], []
        shutil.rmtree(self.spill, ignore_errors=True)


class _RowGroups:
    """Row groups of one language's run, or of consecutive small languages pooled (:data:`POOLED_LANGUAGE_ROWS`)."""

    def __init__(self, out: pq.ParquetWriter):
        self.out, self.pool, self.pooled = out, [], 0

    def add(self, run: pa.Table) -> None:
        """One language's rows (all of them, in label order)."""
        if run.num_rows >= POOLED_LANGUAGE_ROWS:
            self.flush()
            self.out.write_table(run, row_group_size=ROW_GROUP_ROWS)
            return
        self.pool.append(run)
        self.pooled += run.num_rows
        if self.pooled >= POOLED_LANGUAGE_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.pool:
            self.out.write_table(pa.concat_tables(self.pool), row_group_size=ROW_GROUP_ROWS)
        self.pool, self.pooled = [], 0


def _pid_alive(pid: str) -> bool:
    """Whether a local process ``pid`` exists (a temp file of a live attempt must not be removed)."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def annotate_unit(manifest: Manifest, stages, path: str) -> UnitResult:
    """Annotate one input file; idempotent (a finished unit is not redone). ``stages``: :func:`build_stages`'s
    chain (set up); its per-stage counters for this unit go into the done record."""
    parquet_path, done_path = RunFolder(manifest.output).unit_files(path)
    if done_path.is_file() and parquet_path.is_file():
        return load_done(done_path)
    remote = is_url(parquet_path)
    # an object-store output: the file is built in this node's scratch folder and uploaded whole
    work = scratch_dir() if remote else parquet_path.parent
    work.mkdir(parents=True, exist_ok=True)
    for stale in work.glob(f".{parquet_path.name}.*.tmp*"):  # the file and its .spill folder
        pid = stale.name.removesuffix(".spill").rsplit(".", 2)[-2]
        if not _pid_alive(pid):  # left by a worker killed mid-unit
            shutil.rmtree(stale, ignore_errors=True) if stale.is_dir() else stale.unlink(missing_ok=True)
    started = time.monotonic()
    report = ReadReport()
    tmp_path = work / f".{parquet_path.name}.{os.getpid()}.tmp"
    writer = LanguageSortedWriter(tmp_path)
    documents = 0
    chain = Chain(stages, DOCUMENT_SCHEMA.names)  # this unit's counters
    try:
        for batch in read_unit(path, report, manifest.text_fields, manifest.read.batch_size, manifest.read.max_payload_bytes):
            if batch.num_rows:
                annotated = chain(batch)
                writer.write(annotated)
                documents += annotated.num_rows
        writer.close()
        upload(tmp_path, parquet_path) if remote else os.replace(tmp_path, parquet_path)
    finally:
        writer.discard()
        if tmp_path.exists():
            tmp_path.unlink()
    result = UnitResult(path, documents, dict(report.records), report.errors, round(time.monotonic() - started, 3), stages=chain.stats())
    write_done(done_path, result)
    return result


def annotate_unit_row(manifest: Manifest, stages, path: str) -> dict:
    """:func:`annotate_unit` as a result row, never raising: an unexpected error in one input file becomes a row
    with ``failure`` set and one ``input_failed`` error holding its traceback, so the other files go on. The
    failed unit gets no done record, so a rerun retries it (and only it)."""
    started = time.monotonic()
    try:
        return dict(annotate_unit(manifest, stages, path).as_row(), failure="")
    except Exception as exc:  # noqa: BLE001 - recorded with its traceback; the run reports it and exits non-zero
        return failed_row(path, INPUT_FAILED, repr(exc)[:500], traceback.format_exc()[-20000:], time.monotonic() - started)


def failed_row(path: str, reason: str, detail: str, trace: str | None = None, seconds: float = 0.0) -> dict:
    """The result row of an input that produced no annotations (failed or refused): no records, one error."""
    error = {"file": PurePosixPath(path).name, "input": path, "offset": None, "reason": reason, "detail": detail}
    if trace:
        error["traceback"] = trace
    return {"unit": path, "documents": 0, "records": "{}", "errors": json.dumps([error]), "seconds": round(seconds, 3),
            "skipped": False, "stages": "{}", "failure": detail}

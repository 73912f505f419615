"""A whole job: the annotate pass on Ray (resumable per input file), then selection/dedup/write per language."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

from tqdm import tqdm

from longtail import __version__
from longtail.fileio import is_url, remove_tree

from longtail.stages.read import input_problem

from longtail.pipeline import ray_backend
from longtail.pipeline.annotate import INPUT_FAILED, INPUT_REFUSED, failed_row
from longtail.pipeline.bootstrap import run_bootstrap, run_classifier_bootstrap
from longtail.pipeline.finalize import finalize_groups, finalize_languages, language_sizes, publish
from longtail.pipeline.finalize_sharded import shard_rows
from longtail.pipeline.manifest import Manifest
from longtail.pipeline.provenance import code_version, model_fingerprints, safety_rules
from longtail.pipeline.runfolder import ERRORS_JSONL, RUN_JSON, STAGES_JSON, RunFolder, load_done
from longtail.pipeline.runlog import RUNLOG, PassClock, attach_run_log, save_run_log
from longtail.pipeline.stats import merge_record_counts, summary_table, write_stage_stats, write_stats

log = logging.getLogger("longtail")


class BadInputs(ValueError):
    """Inputs that cannot be read, found before anything ran; the message lists every one and why."""

    def __init__(self, problems: dict[str, str], total: int):
        self.problems = problems
        lines = "\n".join(f"  {path}: {why}" for path, why in problems.items())
        super().__init__(f"{len(problems)} of {total} inputs cannot be read; nothing was run (pass --skip-bad-inputs to run without them):\n{lines}")


class InputsFailed(RuntimeError):
    """The run finished without some input files: an unexpected error in each (tracebacks in stats/errors.jsonl)."""

    def __init__(self, failed: dict[str, str], output: str):
        self.failed = failed
        lines = "\n".join(f"  {path}: {why}" for path, why in failed.items())
        super().__init__(f"{len(failed)} input files failed; the other files were annotated and the outputs written without them "
                         f"(tracebacks in {output}/stats/errors.jsonl). Run the same command again to retry only these:\n{lines}")


def screen_inputs(manifest: Manifest, units: list[str], skip_bad_inputs: bool = False) -> tuple[list[str], dict[str, str]]:
    """(readable inputs, {refused input: why}), from each file's name and first bytes, before Ray starts; without
    ``skip_bad_inputs`` any bad input raises :class:`BadInputs` naming all of them."""
    with ThreadPoolExecutor(max_workers=16) as pool:  # remote inputs: one small read each, in parallel
        problems = dict(zip(units, pool.map(lambda unit: input_problem(unit, manifest.text_fields), units)))
    problems = {unit: why for unit, why in problems.items() if why}
    if problems and not skip_bad_inputs:
        raise BadInputs(problems, len(units))
    return [unit for unit in units if unit not in problems], problems


def largest_first(units: list[str]) -> list[str]:
    """Local input files from the largest down, then remote ones in their order (their sizes would cost a request
    each). The actor pool hands each idle worker the next file, so a large file started last keeps one worker busy
    while the others idle: on the scaling bench, four 16 MB files came after twelve crawl test files of 0.5-800 KB
    (input order), and the pass ended with one worker idle for 2 s while the other finished the last big file."""
    local = sorted((unit for unit in units if not is_url(unit)), key=lambda unit: -os.path.getsize(unit) if os.path.isfile(unit) else 0)
    return local + [unit for unit in units if is_url(unit)]


def annotate(manifest: Manifest, units: list[str], workers: int, progress: bool = True) -> list[dict]:
    """Annotate every unit not finished yet; return all units' result rows."""
    rows, todo = [], []
    folder = RunFolder(manifest.output)
    for unit in units:
        if folder.is_annotated(unit):
            rows.append(load_done(folder.unit_files(unit)[1]).as_row())
        else:
            todo.append(unit)
    if rows:
        log.info("resuming: %d of %d input files already annotated", len(rows), len(units))
    if todo:
        started, documents, finished = time.monotonic(), 0, 0
        with tqdm(total=len(todo), desc="annotate", unit="file", disable=not progress) as bar:
            for row in ray_backend.annotate_units(manifest, largest_first(todo), workers):
                rows.append(row)
                documents += row["documents"]
                finished += 1  # not bar.n: a disabled bar (--quiet) counts nothing
                bar.update(1)
                if row.get("failure"):
                    logging.getLogger(RUNLOG).error("input failed %s: %s", row["unit"], row["failure"])
                    continue
                logging.getLogger(RUNLOG).info("annotated %s: %d documents in %.1fs; %d/%d files, %.1f docs/s", row["unit"], row["documents"], row["seconds"], finished, len(todo), documents / max(time.monotonic() - started, 1e-6))
                bar.set_postfix(docs=documents, docs_per_s=f"{documents / max(time.monotonic() - started, 1e-6):.1f}")
    return rows


def finalize(manifest: Manifest, units: list[str], unit_rows: list[dict], progress: bool = True, inputs_info: dict | None = None,
             clock: PassClock | None = None) -> list[dict]:
    """Bootstrap the models that are on, then select, dedup and write every language (small languages share a Ray
    task), then publish stats. ``inputs_info``: what run.json says of inputs left out (refused, failed); ``clock``
    times the passes."""
    clock = clock or PassClock()
    folder = RunFolder(manifest.output)
    staging = folder.staging()
    remove_tree(staging.root)  # leftovers of a finalize that crashed must not be published
    files = folder.annotated_files_with_documents(units)
    sizes = language_sizes(files) if files else {}
    labels = sorted(sizes)
    bootstrap, classifier = run_bootstraps(manifest, files, labels, progress, clock)
    languages, finalize_stages = [], {}
    with clock.timed("select+dedup+write"), tqdm(total=len(labels), desc="select+dedup+write", unit="lang", disable=not progress) as bar:
        # a language finalized in shards (more rows than shard_rows) never shares a task
        groups = finalize_groups(sizes, min(manifest.write.small_language_rows, shard_rows(manifest)), manifest.write.finalize_memory_mb, manifest.ray.workers)
        for results in ray_backend.run_tasks(finalize_languages, [(manifest, group, files, str(staging.root), bootstrap, classifier) for group in groups]):
            for result in results:
                languages.append(result.stats)
                finalize_stages[result.stats["lang_script"]] = result.stages
                if result.memory:  # bigger than write.finalize_memory_mb (in batches) or write.finalize_shard_rows (in shards)
                    way = "shards" if "shards" in result.memory else "batches"
                    logging.getLogger(RUNLOG).info("finalize %s in %s: %s", result.stats["lang_script"], way, result.memory)
            bar.update(len(results))
    with clock.timed("stats+publish"):
        languages.sort(key=lambda stats: stats["lang_script"])  # in label order, however the tasks finished
        # by input file, however the files finished and whichever a resumed run read from their done records first:
        # errors.jsonl and the stage sums of a resumed run, or of `longtail select`, are those of the uninterrupted run
        unit_rows = sorted(unit_rows, key=lambda row: row["unit"])
        records = merge_record_counts(unit_rows)
        errors = [e for row in unit_rows for e in (json.loads(row["errors"]) if isinstance(row["errors"], str) else row["errors"])]
        run_info = {
            "longtail_version": __version__,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "manifest": manifest.to_dict(),
            "inputs": units,
            "code_version": code_version(),
            # sha256 of LID, KenLM and classifier files as used, the bootstrapped ones included
            "models": model_fingerprints(manifest.to_dict(), bootstrap.kenlm_dir if bootstrap else None,
                                         str(folder.classifier) if classifier is not None and classifier.trained else None),
            "safety": safety_rules(manifest),  # URL lists (version, sha256) and personal-data rules applied
            **(inputs_info or {}),
        }
        write_stats(staging.stats, languages, records, errors, run_info)
        write_stage_stats(staging.stats_file(STAGES_JSON), unit_rows, finalize_stages)
        publish(folder)
    return languages


def run_bootstraps(manifest: Manifest, files: list[str], labels: list[str], progress: bool = True, clock: PassClock | None = None,
                   at_once: bool | None = None):
    """(KenLM outcome, classifier outcome), each None when its bootstrap is off. The two read only the annotations and
    write apart, so with more than one CPU they run at once (``at_once``; None: when the Ray cluster has 2+ CPUs).
    One after the other, each ends with cores idle while its slowest task runs, and a cluster with more CPUs than
    a bootstrap has tasks idles most of them: the classifier's chain (example tasks, then a few long fold models,
    then re-scores) took ~20 s on the scaling bench however many cores. At once, the other's tasks use those
    cores. On 2 CPUs the two overlap only at the KenLM tasks' end (Ray keeps giving a CPU to the driver while it
    has KenLM tasks queued), and the scaling bench's bootstraps took as long either way, within this machine's
    noise (docs/performance.md). On one CPU nothing can overlap, and the passes stay apart in the run log."""
    clock = clock or PassClock()
    kenlm_on = manifest.quality.kenlm_bootstrap is not None
    classifier_on = bool(files) and manifest.quality.classifier_bootstrap is not None
    if at_once is None:
        at_once = ray_backend.ray_is_running() and ray_backend.cluster_cpus() > 1
    at_once = at_once and kenlm_on and classifier_on  # one bootstrap alone: nothing to overlap
    if not at_once:
        with clock.timed("bootstrap kenlm", on=kenlm_on):
            bootstrap = run_bootstrap(manifest, files, labels, progress)  # None unless stages.quality.kenlm_bootstrap
        with clock.timed("bootstrap classifier", on=classifier_on):
            classifier = run_classifier_bootstrap(manifest, files, progress) if files else None  # None unless stages.quality.classifier_bootstrap
        return bootstrap, classifier
    with clock.timed("bootstrap kenlm + classifier (at once)"):
        # the classifier starts first: its chain (examples, then fold models, then re-scores) is the longer one
        classifier_result = in_background(run_classifier_bootstrap, manifest, files, progress)
        try:
            bootstrap = run_bootstrap(manifest, files, labels, progress)
        except Exception:
            # the run fails with the KenLM error, but not while the classifier still writes into the run folder (a
            # caller that goes on, e.g. a scheduler's worker, may start the next run there); Ctrl-C does not wait
            with contextlib.suppress(Exception):
                classifier_result()
            raise
        return bootstrap, classifier_result()


def in_background(function: Callable, *args) -> Callable[[], object]:
    """Start ``function(*args)`` in a daemon thread; returns a call that waits for its result (raising its error).
    A daemon thread: Ctrl-C in the main thread ends the run without waiting for it (its outputs are written
    atomically and resumed by the next run)."""
    outcome: dict = {}

    def target():
        try:
            outcome["result"] = function(*args)
        except BaseException as exc:  # handed to the waiting thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=f"longtail-{getattr(function, '__name__', 'background')}", daemon=True)
    thread.start()

    def result():
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome["result"]
    return result


def run(manifest: Manifest, address: str | None = None, workers: int | None = None, progress: bool = True, skip_bad_inputs: bool = False) -> dict:
    """Run the job; returns ``{"languages": [...], "records": {...}, "refused_inputs": {...}}``.

    Unreadable inputs raise :class:`BadInputs` before Ray starts (with ``skip_bad_inputs`` they are left out and
    listed in stats). An input file that fails while annotated is recorded with its traceback in
    ``stats/errors.jsonl``, the others finish and are written, then :class:`InputsFailed` names the failed ones;
    a rerun annotates only them (finished files have done records)."""
    units, refused = screen_inputs(manifest, manifest.input_files(), skip_bad_inputs)
    runlog = attach_run_log(manifest.output)
    runlog.info("run %s: %d input files -> %s (address %s)", manifest.name, len(units), manifest.output, address or manifest.ray.address or "local")
    for unit, why in refused.items():
        runlog.warning("input refused (--skip-bad-inputs): %s: %s", unit, why)
    clock = PassClock()
    try:
        with clock.timed("ray start"):
            ray_backend.connect(address if address is not None else manifest.ray.address)
        workers = workers or manifest.ray.workers
        with clock.timed("annotate"):
            unit_rows = annotate(manifest, units, workers, progress)
        failed = {row["unit"]: row["failure"] for row in unit_rows if row.get("failure")}
        inputs_info = {"refused_inputs": refused, "failed_inputs": failed}
        left_out = [failed_row(unit, INPUT_REFUSED, why) for unit, why in refused.items()]
        languages = finalize(manifest, [u for u in units if u not in failed], unit_rows + left_out, progress, inputs_info, clock)
        records = merge_record_counts(unit_rows)
        runlog.info("finished\n%s", summary_table(languages, records))
        runlog.info(clock.summary())
        if failed:
            runlog.error("%d input files failed: %s", len(failed), ", ".join(failed))
    finally:
        save_run_log(manifest.output)  # an object-store output: the log kept on this machine is uploaded
    if progress:
        print(summary_table(languages, records))
        print(clock.summary())
        print(f"output: {manifest.output}/dataset  (removed: {manifest.output}/removed, stats: {manifest.output}/stats)")
    if failed:
        raise InputsFailed(failed, manifest.output)
    return {"languages": languages, "records": records, "refused_inputs": refused}


def inputs_left_out(folder: RunFolder, annotated: set[str]) -> tuple[dict, list[dict]]:
    """(``refused_inputs`` and ``failed_inputs`` as the published stats/run.json lists them; a result row per such input
    with its entries of stats/errors.jsonl): the inputs of the last run that have no annotations, so that `longtail
    select`, which reads only annotations, still reports them. An input among the ``annotated`` ones is not left out."""
    run_json = folder.stats_file(RUN_JSON)
    info = json.loads(run_json.read_text()) if run_json.is_file() else {}
    left_out = {key: {unit: why for unit, why in (info.get(key) or {}).items() if unit not in annotated} for key in ("refused_inputs", "failed_inputs")}
    units = sorted(set(left_out["refused_inputs"]) | set(left_out["failed_inputs"]))
    if not units:
        return left_out, []
    errors_file = folder.stats_file(ERRORS_JSONL)
    errors = [json.loads(line) for line in errors_file.read_text().splitlines() if line.strip()] if errors_file.is_file() else []
    rows = []
    for unit in units:
        reason, detail = (INPUT_REFUSED, left_out["refused_inputs"][unit]) if unit in left_out["refused_inputs"] else (INPUT_FAILED, left_out["failed_inputs"][unit])
        row = failed_row(unit, reason, detail)
        own = [error for error in errors if error.get("input") == unit]
        rows.append(dict(row, errors=json.dumps(own)) if own else row)  # the stored entries keep their traceback
    return left_out, rows


def reselect(manifest: Manifest, address: str | None = None, progress: bool = True) -> dict:
    """Re-run selection/dedup/write from the stored annotations only: the inputs are not opened. The inputs that the
    last run refused or failed on stay listed in stats/run.json and stats/errors.jsonl."""
    folder = RunFolder(manifest.output)
    done_files = folder.done_records()
    if not done_files:
        raise FileNotFoundError(f"no annotations under {folder.annotated}; run `longtail run` first")
    unit_rows = [load_done(done).as_row() for done in done_files]
    units = [row["unit"] for row in unit_rows]
    inputs_info, left_out = inputs_left_out(folder, set(units))
    runlog = attach_run_log(manifest.output)
    runlog.info("select %s: re-selecting %d annotated files", manifest.name, len(units))
    clock = PassClock()
    try:
        with clock.timed("ray start"):
            ray_backend.connect(address if address is not None else manifest.ray.address)
        languages = finalize(manifest, units, unit_rows + left_out, progress, inputs_info, clock=clock)
        runlog.info(clock.summary())
    finally:
        save_run_log(manifest.output)
    records = merge_record_counts(unit_rows)
    if progress:
        print(summary_table(languages, records))
        print(clock.summary())
    return {"languages": languages, "records": records}

#!/usr/bin/env python
"""Speed on REAL pages: the whole `longtail run`, the datatrove reference pipeline and the floor, one core each.

    .venv/bin/python bench/bench_real_speed.py                       # default subset (~3,000 pages, 200+ languages)
    .venv/bin/python bench/bench_real_speed.py --per-language 4      # quicker
    .venv/bin/python bench/bench_real_speed.py --only annotate,floor # a subset of the measurements
    .venv/bin/python bench/bench_real_speed.py --profile             # cProfile of the annotate pass on the subset
    .venv/bin/python bench/bench_real_speed.py --scaling             # also the whole run with 1 and 2 workers (both cores)
    .venv/bin/python bench/bench_real_speed.py --input 'heldout/*.warc.gz'  # the same measurements on your own crawl files

Input: the development bench of docs/bench.md (``bench/data``, built locally, never committed): every real HTML
page of ``real_pages.warc.gz`` (kind ``page``), up to ``--per-language`` of its wrapped real text documents per
``lang_script`` (kind ``text``; chosen by a hash of the id, so the subset is deterministic), and the real crawl
files ``bench/data/crawls/*/*.warc.gz``. The held-out sets of docs/bench.md are not used. The subset is written
once as ``--units`` WARC.gz files under ``--work``.

``--input`` replaces that subset by WARC files of your own (paths or globs; ``.warc.gz``, or ``.warc`` which is
gzipped once into ``--work``), e.g. held-out crawls that are not in this repository: the same measurements and
ratios on them, without the development bench. A file datatrove's reader cannot read to its end, or one that
``longtail run`` refuses before it starts (stages/read.py::input_problem), is left out of both sides, and named; so
are inputs that are not WARC files (ARC, WET, JSONL: the comparison is of HTML pages).

Measurements, each in a child process pinned to one core (``os.sched_setaffinity``; processes it starts
inherit the affinity), two at a time side by side on cores 0 and 1:

  run        the whole ``longtail run`` (pipeline.run.run) with manifests/sample.yaml as shipped (KenLM and
             classifier bootstrap on), inputs = the subset, on a local Ray started with num_cpus=1 and 1
             annotate worker. Ray's processes (gcs, raylet, workers) are children of the pinned process, so the
             whole run shares one core. Wall and CPU time per pass: annotate, bootstrap (KenLM + re-score),
             classifier bootstrap, finalize (select + dedup + write + stats); the bootstraps' CPU also as the
             sum of their Ray tasks' (the rest is the driver's). With 2 CPUs (run2) the two bootstraps run at
             once (pipeline/run.py::run_bootstraps): one pass, with each one's tasks' CPU. CPU time is summed
             over the process tree from /proc (see TreeMeter: the live processes' own and reaped children's
             time, polled every 0.2 s), since Ray's workers are not reaped by the measuring process. Peak RSS
             per Ray worker from VmHWM.
  datatrove  WarcReader -> Trafilatura(favour_precision) -> lid.176 (the model longtail ships, wrapped as a
             datatrove filter, as datatrove's LanguageFilter does with its own download) ->
             GopherRepetitionFilter -> GopherQualityFilter(min_stop_words=None) -> MinhashDedupSignature
             (per-document work, pass-through) -> ParquetWriter; built by bench/bench_annotate.py.
  annotate   longtail's annotate pass alone, in-process (annotate_unit over the units; no Ray), as one worker
  floor      fastwarc read + gzip + charset decoding + trafilatura, nothing else
  run2       (--scaling) the whole run with 2 workers on a 2-CPU local Ray, not pinned; run1 the same with 1
             worker, not pinned either (its lmplz threads and Ray's own processes use the other core: ~1.06
             cores on average); run1core the same as run1 pinned to one core: one core against two

CPU time is what to compare on a shared machine: a pinned process may get a fraction of its core.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench" / "data"
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_annotate  # noqa: E402  (Clock, run_floor, the datatrove pipeline)

TICKS = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------------------
# The subset of real pages

def write_subset(folder: Path, per_language: int, units: int) -> list[Path]:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    spec = {"per_language": per_language, "units": units, "source_bytes": (BENCH / "real_pages.warc.gz").stat().st_size, "v": 2}
    marker = folder / "subset.json"
    if marker.is_file() and json.loads(marker.read_text())["spec"] == spec:
        return sorted(folder.glob("*.warc.gz"))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    truth = {}
    with open(BENCH / "real_pages.truth.jsonl", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            truth[row["url"]] = row
    by_label: dict[str, list[str]] = {}
    for url, row in truth.items():
        if row["kind"] == "text":
            by_label.setdefault(row["lang_script"], []).append(url)
    chosen = {url for url, row in truth.items() if row["kind"] == "page"}
    for label, urls in by_label.items():
        chosen.update(sorted(urls, key=lambda u: hashlib.sha1(truth[u]["id"].encode()).hexdigest())[:per_language])
    handles = [open(folder / f"real-{unit:02d}.warc.gz", "wb") for unit in range(units)]
    writers = [WARCWriter(h, gzip=True) for h in handles]
    written, labels = 0, set()
    with open(BENCH / "real_pages.warc.gz", "rb") as stream:
        for record in ArchiveIterator(stream):
            url = record.rec_headers.get_header("WARC-Target-URI")
            if record.rec_type != "response" or url not in chosen:
                continue
            body = record.content_stream().read()
            writer = writers[written % units]
            new = writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=record.http_headers,
                                            warc_headers_dict={"WARC-Date": record.rec_headers.get_header("WARC-Date")})
            writer.write_record(new)
            written += 1
            labels.add(truth[url]["lang_script"])
    for h in handles:
        h.close()
    crawl_files, unreadable = [], []
    for path in sorted(BENCH.glob("crawls/*/*.warc.gz")):  # real crawl files as they are (their own units)
        if readable_by_warcio(path):
            shutil.copyfile(path, folder / f"crawl-{path.parent.name}-{path.name}")
            crawl_files.append(path)
        else:
            unreadable.append(str(path.relative_to(BENCH)))
    info = {"spec": spec, "records": written, "pages": len([u for u in chosen if truth[u]["kind"] == "page"]),
            "labels": len(labels - {None}), "crawl_files": [str(p.relative_to(BENCH)) for p in crawl_files],
            "left_out_unreadable_by_datatrove": unreadable}
    marker.write_text(json.dumps(info, indent=2))
    return sorted(folder.glob("*.warc.gz"))


def stage_inputs(folder: Path, patterns: list[str]) -> list[Path]:
    """``--input``: the given WARC files in ``folder`` under names every measurement reads (``NNN-<name>.warc.gz``;
    datatrove's reader takes a folder and a glob). ``.warc.gz`` files are linked, ``.warc`` files gzipped once."""
    import glob
    import gzip

    paths = []
    for pattern in patterns:
        matched = sorted(glob.glob(os.path.expanduser(pattern))) or ([pattern] if Path(pattern).is_file() else [])
        if not matched:
            raise SystemExit(f"--input {pattern}: no such file")
        paths += [Path(m).resolve() for m in matched]
    paths = list(dict.fromkeys(paths))
    # the comparison is of pages (HTML responses): other inputs longtail reads (WET, ARC, JSONL, Parquet) are left out, named
    not_warc = {str(p): "not a WARC file (.warc.gz or .warc): the comparison is of HTML pages, which datatrove's reference "
                        "reads from WARC response records" for p in paths if not p.name.endswith((".warc.gz", ".warc"))}
    paths = [p for p in paths if str(p) not in not_warc]
    if not paths:
        raise SystemExit(f"--input takes WARC files (.warc.gz or .warc): {', '.join(list(not_warc)[:5])}")
    spec = {"inputs": [[str(p), p.stat().st_size, p.stat().st_mtime_ns] for p in paths], "not_warc": sorted(not_warc), "v": 2}
    marker = folder / "subset.json"
    if marker.is_file() and json.loads(marker.read_text())["spec"] == spec:
        return sorted(folder.glob("*.warc.gz"))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    from longtail.stages.read import input_problem

    staged, unreadable, left_out = [], [], dict(not_warc)
    for number, path in enumerate(paths):
        target = folder / f"{number:03d}-{path.name.removesuffix('.gz').removesuffix('.warc')}.warc.gz"
        if path.name.endswith(".gz"):
            target.symlink_to(path)
        else:
            with open(path, "rb") as source, gzip.open(target, "wb", compresslevel=6) as sink:
                shutil.copyfileobj(source, sink)
        # both sides must read the same input: a file either reader would stop at is left out of both
        problem = input_problem(str(target))
        if problem is None and readable_by_warcio(target):
            staged.append(str(path))
            continue
        target.unlink()
        if problem is None:
            unreadable.append(str(path))
        else:
            left_out[str(path)] = f"longtail refuses it before a run starts: {problem}"
    if not staged:
        raise SystemExit(f"--input: none of the {len(paths)} files can be read by both longtail and datatrove's reader (warcio)")
    info = {"spec": spec, "inputs": staged, "left_out_unreadable_by_datatrove": unreadable, "left_out": left_out}
    marker.write_text(json.dumps(info, indent=2))
    return sorted(folder.glob("*.warc.gz"))


def readable_by_warcio(path: Path) -> bool:
    """datatrove's WarcReader (warcio on the decompressed stream) stops the whole pipeline on a record whose
    Content-Length is wrong (two pywb test files); such files are left out so both sides read the same input."""
    import gzip

    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    try:
        # warcio writes a warning per record whose Content-Length looks off, and reads on: not our message to print
        with gzip.open(path, "rb") as stream, contextlib.redirect_stderr(io.StringIO()):
            for _ in ArchiveIterator(stream):
                pass
    except (ArchiveLoadFailed, OSError, EOFError):
        return False
    return True


def count_records(files: list[Path]) -> int:
    from longtail.stages.read import ReadReport, read_warc

    return sum(batch.num_rows for path in files for batch in read_warc(str(path), ReadReport()))


# ---------------------------------------------------------------------------------------------------------
# CPU time and memory of a process tree, from /proc

class TreeMeter:
    """Polls /proc for this process and its descendants: CPU seconds and peak RSS (VmHWM) per process.

    CPU: every process's own time (utime + stime, the last value seen, so exited processes keep their share);
    for a Ray worker also the time of the children it reaped (cutime + cstime), and a worker's child counts only
    while it lives (then its time is in the worker's). A short-lived process (lmplz runs ~0.05 s, far under the
    poll interval) is counted that way; counting only the processes seen (before 2026-12-04) missed most of the
    KenLM bootstrap's lmplz time. Ray's raylet does not add its workers to its own cutime (they are not counted
    twice either way). The same deltas, per poll, are attributed to the Ray task each process works for (its own
    or its parent worker's ``ray::<task>`` title), so passes that overlap can still be told apart (a worker that
    switches task between two polls gives that interval to the new task).

    The meter runs in the measured process (a thread of the driver), so its own polling (~1-2% of a core: it reads
    /proc for every process on the machine five times a second) would count as the run's: its thread CPU is
    measured and left out of ``total()`` and of the driver's share (``other``)."""

    def __init__(self, interval: float = 0.2):
        self.root = os.getpid()
        self.values: dict[tuple[int, int], float] = {}  # process -> the CPU it contributes (see above)
        self.owner: dict[tuple[int, int], str] = {}  # process -> the task its CPU goes to
        self.transient: set[tuple[int, int]] = set()  # children of a worker: counted while alive only
        self.commands: dict[tuple[int, int], str] = {}  # process -> its last non-empty command line
        self.by_task: dict[str, float] = {}
        self.own_cpu = 0.0  # the meter's polling (time.thread_time of every poll, whichever thread ran it)
        self.peak: dict[tuple[int, int], tuple[str, int]] = {}
        self.lock = threading.Lock()
        self.polling = threading.Lock()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, args=(interval,), daemon=True)
        self.thread.start()

    @staticmethod
    def _stat(pid: int):
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read().decode(errors="replace")
        name = data[data.index("(") + 1:data.rindex(")")]
        fields = data[data.rindex(")") + 2:].split()
        own, reaped = (int(fields[11]) + int(fields[12])) / TICKS, (int(fields[13]) + int(fields[14])) / TICKS
        return int(fields[1]), name, (own, reaped), int(fields[19])  # ppid, comm, (utime+stime, cutime+cstime), start

    @staticmethod
    def task_of(command: str) -> str | None:
        """``ray::bootstrap_languages_task()`` -> ``bootstrap_languages_task``; None for other processes."""
        if not command.startswith("ray::"):
            return None
        return command[5:].split("(")[0].split()[0] if command[5:].strip() else None

    def poll(self) -> None:
        with self.polling:  # one poll at a time: the marks of bootstraps that run at once come from two threads
            started = time.thread_time()
            try:
                self._poll()
            finally:
                with self.lock:
                    spent = time.thread_time() - started
                    self.own_cpu += spent
                    self.by_task["other"] = self.by_task.get("other", 0.0) - spent

    def _poll(self) -> None:
        stats = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stats[int(entry)] = self._stat(int(entry))
                except (OSError, ValueError, IndexError):
                    pass
        children: dict[int, list[int]] = {}
        for pid, (ppid, *_rest) in stats.items():
            children.setdefault(ppid, []).append(pid)
        values, owner, transient = {}, {}, set()
        todo = [(self.root, "other", False)]
        while todo:
            pid, inherited, under_worker = todo.pop()
            if pid not in stats:
                continue
            _, name, (own, reaped), start = stats[pid]
            key = (pid, start)
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as handle:
                    cmd = handle.read().replace(b"\0", b" ").decode(errors="replace")[:80]
                with open(f"/proc/{pid}/status") as handle:
                    hwm = next((int(line.split()[1]) for line in handle if line.startswith("VmHWM:")), 0)
            except OSError:
                cmd, hwm = "", 0
            # an exiting or zombie process has no command line: a Ray worker that had reaped lmplz or fastText
            # children must keep counting them (read as the driver's, its last value dropped their time)
            cmd = cmd or self.commands.get(key, "")
            self.commands[key] = cmd
            worker = cmd.startswith("ray::") or "default_worker.py" in cmd
            task = self.task_of(cmd) or inherited
            values[key], owner[key] = own + (reaped if worker or under_worker else 0.0), task
            if under_worker:
                transient.add(key)
            todo.extend((child, task, worker) for child in children.get(pid, []))
            with self.lock:
                if hwm > self.peak.get(key, ("", 0))[1]:
                    self.peak[key] = (cmd or name, hwm)
        with self.lock:
            for key in set(self.values) - set(values):  # exited: a worker's child is now in its parent's time
                if key in self.transient:
                    self.by_task[self.owner[key]] = self.by_task.get(self.owner[key], 0.0) - self.values.pop(key)
                    self.transient.discard(key)
            for key, value in values.items():
                self.by_task[owner[key]] = self.by_task.get(owner[key], 0.0) + value - self.values.get(key, 0.0)
            self.values.update(values)
            self.owner.update(owner)
            self.transient |= transient

    def _loop(self, interval: float) -> None:
        while not self._stop.wait(interval):
            self.poll()

    def total(self) -> float:
        self.poll()
        with self.lock:
            return sum(self.values.values()) - self.own_cpu

    def tasks(self) -> dict[str, float]:
        """CPU seconds so far per Ray task name (``other``: the driver, Ray's own processes, idle workers)."""
        self.poll()
        with self.lock:
            return dict(self.by_task)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join()

    def peaks_mb(self) -> dict:
        with self.lock:
            items = list(self.peak.values())
        workers = [(kb, cmd) for cmd, kb in items if cmd.startswith("ray::") or "default_worker.py" in cmd]
        by_task: dict[str, int] = {}  # a worker's peak goes to the task it ran when the peak was seen
        for kb, cmd in workers:
            task = self.task_of(cmd) or "other"
            by_task[task] = max(by_task.get(task, 0), round(kb / 1024))
        return {"peak_rss_worker_mb": round(max(workers, default=(0, ""))[0] / 1024), "peak_rss_any_mb": round(max((kb for _, kb in items), default=0) / 1024),
                "peak_rss_by_task_mb": dict(sorted(by_task.items(), key=lambda item: -item[1]))}


# ---------------------------------------------------------------------------------------------------------
# Measurements (each in a child process)

def sample_manifest(files: list[Path], output: Path, workers: int):
    from longtail.pipeline.manifest import load_manifest

    manifest = load_manifest(REPO / "manifests" / "sample.yaml")
    return replace(manifest, inputs=[str(p) for p in files], output=str(output), ray=replace(manifest.ray, workers=workers))


ANNOTATE_TASKS = ("AnnotateUnitsActor", "AnnotateUnitsActor.__init__", "AnnotateUnitsActor.ready", "AnnotateUnitsActor.annotate")  # ray_backend
KENLM_TASKS = ("bootstrap_languages_task", "rescore_file")  # pipeline/bootstrap.py
CLASSIFIER_TASKS = ("train_classifier_task", "classifier_examples_task", "train_fold_model", "rescore_quality_files")


def run_whole(files: list[Path], work: Path, workers: int) -> dict:
    """The whole `longtail run`, timed per pass (wall and process-tree CPU)."""
    from longtail.pipeline import ray_backend
    from longtail.pipeline import run as run_module

    shutil.rmtree(work / "out", ignore_errors=True)
    manifest = sample_manifest(files, work / "out", workers)
    meter = TreeMeter()
    marks: list[tuple[str, float, float, dict]] = []

    def mark(name: str) -> None:
        marks.append((name, time.perf_counter(), meter.total(), meter.tasks()))

    def timed(name: str, function):
        def wrapper(*args, **kwargs):
            mark(f"start {name}")
            try:
                return function(*args, **kwargs)
            finally:
                mark(f"end {name}")
        return wrapper

    run_module.annotate = timed("annotate", run_module.annotate)
    run_module.run_bootstrap = timed("bootstrap", run_module.run_bootstrap)
    run_module.run_classifier_bootstrap = timed("classifier", run_module.run_classifier_bootstrap)
    run_module.publish = timed("publish", run_module.publish)
    mark("start")
    ray_backend.connect(None, num_cpus=workers)  # run() then finds Ray initialised
    mark("ray started")
    run_module.run(manifest, workers=workers, progress=False)
    mark("end")
    peaks = meter.peaks_mb()
    import ray

    ray.shutdown()
    meter.stop()
    at = {name: (wall, cpu, tasks) for name, wall, cpu, tasks in marks}

    def span(a: str, b: str) -> dict:
        return {"seconds": at[b][0] - at[a][0], "cpu_seconds": at[b][1] - at[a][1]}

    def task_cpu(a: str, b: str, names: tuple[str, ...]) -> dict:
        """CPU of these Ray tasks between two marks (no wall time of their own)."""
        return {"seconds": None, "cpu_seconds": sum(at[b][2].get(n, 0.0) - at[a][2].get(n, 0.0) for n in names)}

    passes = {
        "ray start": span("start", "ray started"),
        "annotate": span("start annotate", "end annotate"),
        "  its actors": task_cpu("start annotate", "end annotate", ANNOTATE_TASKS),
    }
    if at["start classifier"][0] < at["end bootstrap"][0]:  # run at once (2+ CPUs: pipeline/run.py::run_bootstraps)
        first, last = min(("start bootstrap", "start classifier"), key=lambda m: at[m][0]), max(("end bootstrap", "end classifier"), key=lambda m: at[m][0])
        passes |= {
            "bootstraps at once": span(first, last),
            "  KenLM tasks": task_cpu(first, last, KENLM_TASKS),
            "  classifier tasks": task_cpu(first, last, CLASSIFIER_TASKS),
            "finalize": span(last, "end publish"),
        }
    else:
        passes |= {
            "bootstrap kenlm": span("start bootstrap", "end bootstrap"),
            "  its tasks": task_cpu("start bootstrap", "end bootstrap", KENLM_TASKS),
            "bootstrap classifier": span("start classifier", "end classifier"),
            "  its tasks ": task_cpu("start classifier", "end classifier", CLASSIFIER_TASKS),
            "finalize": span("end classifier", "end publish"),
        }
    total = span("start", "end")
    languages = json.loads((work / "out" / "stats" / "languages.json").read_text()) if (work / "out" / "stats" / "languages.json").is_file() else None
    kenlm_index = work / "out" / "bootstrap" / "kenlm" / "index.json"
    statuses = {}
    if kenlm_index.is_file():
        for info in json.loads(kenlm_index.read_text())["languages"].values():
            statuses[info["status"]] = statuses.get(info["status"], 0) + 1
    # every task name's CPU per pass, for a closer look in results.json (``other``: driver, Ray's own processes)
    by_task = {name: {task: round(at[f"end {name}"][2].get(task, 0.0) - at[f"start {name}"][2].get(task, 0.0), 2)
                      for task in at[f"end {name}"][2]} for name in ("annotate", "bootstrap", "classifier")}
    return {"seconds": total["seconds"], "cpu_seconds": total["cpu_seconds"], "passes": passes, **peaks,
            "by_task": by_task, "meter_cpu_seconds": round(meter.own_cpu, 2),
            "languages": len(languages) if isinstance(languages, list) else (len(languages.get("languages", [])) if isinstance(languages, dict) else None),
            "kenlm_status": statuses}


def annotate_setup(files: list[Path], out: Path, timeout_seconds: float | None = None):
    """A fresh output folder, the sample job's manifest over ``files`` and its annotate stages, set up.
    ``timeout_seconds``: the extraction time limit instead of the manifest's (0: none)."""
    from longtail.pipeline.annotate import build_stages

    shutil.rmtree(out, ignore_errors=True)
    manifest = sample_manifest(files, out, 1)
    if timeout_seconds is not None:
        manifest = replace(manifest, extract=replace(manifest.extract, timeout_seconds=timeout_seconds))
    stages = build_stages(manifest)
    for stage in stages:
        stage.setup()
    return manifest, stages


def run_annotate(files: list[Path], work: Path) -> dict:
    from longtail.pipeline.annotate import annotate_unit

    manifest, stages = annotate_setup(files, work / "out")
    clock = bench_annotate.Clock()
    documents = sum(annotate_unit(manifest, stages, str(path)).documents for path in files)
    wall, cpu = clock.stop()
    return {"seconds": wall, "cpu_seconds": cpu, "documents": documents}


def run_datatrove(files: list[Path], work: Path) -> dict:
    """bench_annotate's datatrove pipeline with lid.176 (fastText backend) as the LID step."""
    from longtail.pipeline.manifest import IdentifySettings

    original = bench_annotate.bench_manifest

    def manifest_with_lid176(models, output, *args, **kwargs):
        manifest = original(models, output, *args, **kwargs)
        return replace(manifest, identify=replace(manifest.identify if hasattr(manifest, "identify") else IdentifySettings(), backend="fasttext"))

    bench_annotate.bench_manifest = manifest_with_lid176
    for name in ("datatrove-out", "datatrove-sigs"):
        shutil.rmtree(work / name, ignore_errors=True)
    wall, cpu = bench_annotate.run_datatrove(files, work, work / "no-models")[0]
    return {"seconds": wall, "cpu_seconds": cpu}


def run_floor(files: list[Path]) -> dict:
    (wall, cpu), documents = bench_annotate.run_floor(files, "trafilatura")
    return {"seconds": wall, "cpu_seconds": cpu, "documents": documents}


def child(args) -> None:
    if args.core is not None:
        os.sched_setaffinity(0, {args.core})
    files = sorted(Path(args.crawl).glob("*.warc.gz"))
    work = Path(args.work)
    name = args.child
    if name == "run":
        result = run_whole(files, work, 1)
    elif name in ("run1", "run2", "run1core"):
        result = run_whole(files, work, 2 if name == "run2" else 1)
    elif name == "annotate":
        result = run_annotate(files, work)
    elif name == "datatrove":
        result = run_datatrove(files, work)
    elif name == "floor":
        result = run_floor(files)
    else:
        raise SystemExit(f"unknown measurement {name}")
    own = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    result.setdefault("peak_rss_mb", round(own / 1024))
    print(json.dumps({"name": name, **result}))


def spawn(name: str, crawl: Path, work: Path, core: int | None) -> subprocess.Popen:
    work = work / name
    work.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, __file__, "--child", name, "--crawl", str(crawl), "--work", str(work)]
    if core is not None:
        command += ["--core", str(core)]
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", PYTHONWARNINGS="ignore")
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def collect(process: subprocess.Popen, pages: int) -> dict:
    r = bench_annotate.child_result(process)
    print(f"  {r['name']:<10} {r['seconds']:>8.1f} s wall {r['cpu_seconds']:>8.1f} s CPU   {pages / r['seconds']:>7.2f} docs/s  "
          f"{pages / r['cpu_seconds']:>7.2f} docs/CPU-s  peak RSS {r.get('peak_rss_worker_mb') or r['peak_rss_mb']} MB", flush=True)
    for step, figures in r.get("passes", {}).items():
        wall = f"{figures['seconds']:>8.1f} s wall" if figures["seconds"] is not None else f"{'':>8}   (in the span above)"
        print(f"      {step:<22} {wall} {figures['cpu_seconds']:>8.1f} s CPU  "
              f"({100 * figures['cpu_seconds'] / r['cpu_seconds']:.0f}% of the run's CPU)", flush=True)
    if "kenlm_status" in r:
        print(f"      languages {r.get('languages')}, KenLM bootstrap: {r['kenlm_status']}; peak RSS per Ray worker "
              f"{r.get('peak_rss_worker_mb')} MB, any process {r.get('peak_rss_any_mb')} MB", flush=True)
        if r.get("peak_rss_by_task_mb"):
            print("      peak RSS per Ray worker, by the task it ran at its peak: "
                  + ", ".join(f"{task} {mb} MB" for task, mb in r["peak_rss_by_task_mb"].items()), flush=True)
    return r


def side_by_side(names: list[str], crawl: Path, work: Path, pages: int) -> list[dict]:
    processes = [spawn(name, crawl, work, core % os.cpu_count()) for core, name in enumerate(names)]
    return [collect(p, pages) for p in processes]


def profile(crawl: Path, work: Path, top: int) -> None:
    import cProfile
    import pstats

    files = sorted(crawl.glob("*.warc.gz"))
    from longtail.pipeline.annotate import annotate_unit

    # no extraction time limit: under cProfile its watchdog thread left the annotate pass stuck at the extract stage's
    # end (reproduced twice; without cProfile, or without the limit, the pass ends); pages are not timed out here
    manifest, stages = annotate_setup(files, work / "profile", timeout_seconds=0)
    profiler = cProfile.Profile()
    started = time.process_time()
    profiler.enable()
    documents = sum(annotate_unit(manifest, stages, str(path)).documents for path in files)
    profiler.disable()
    print(f"profile: {documents} documents, {time.process_time() - started:.1f} CPU-s (with cProfile)")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(r"(stages/\w+\.py.*__call__|annotate\.py.*annotate_unit|read\.py.*read_warc)")
    stats.sort_stats("tottime").print_stats(top)


def _cpu_ratio(a: str, b: str):
    return lambda results: results[a]["cpu_seconds"] / results[b]["cpu_seconds"] if a in results and b in results else None


def _wall_ratio(a: str, b: str):
    return lambda results: results[a]["seconds"] / results[b]["seconds"] if a in results and b in results else None


def _pass_share(results: dict, step: str, base: str = "run"):
    if base not in results or step not in results[base]["passes"]:
        return None  # e.g. the bootstraps ran at once (a run on 2+ CPUs): no KenLM pass of its own
    return results[base]["passes"][step]["cpu_seconds"] / results[base]["cpu_seconds"]


def start_up_cpu(run: dict) -> float | None:
    """CPU a run spends before its first document: starting Ray and the annotate actors' set-up (model loading).
    datatrove's figure leaves its model loading out (bench_annotate.run_datatrove), so the ratio without this is the
    like-for-like one on a small input, where start-up is most of the run; on a large crawl it is a few seconds."""
    if "by_task" not in run:
        return None
    return run["passes"]["ray start"]["cpu_seconds"] + run["by_task"]["annotate"].get("AnnotateUnitsActor.__init__", 0.0)


def _without_start_up(results: dict) -> float | None:
    if "datatrove" not in results or "run" not in results or start_up_cpu(results["run"]) is None:
        return None
    return results["datatrove"]["cpu_seconds"] / (results["run"]["cpu_seconds"] - start_up_cpu(results["run"]))


# Each ratio is taken within one round (the two sides ran at the same time, on the same machine's speed).
RATIOS = {
    "datatrove / whole run (CPU)": _cpu_ratio("datatrove", "run"),
    "datatrove / run less start-up": _without_start_up,
    "annotate / floor (CPU)": _cpu_ratio("annotate", "floor"),
    "KenLM bootstrap / run (CPU)": lambda results: _pass_share(results, "bootstrap kenlm"),
    "run's annotate pass / floor": lambda results: (results["run"]["passes"]["annotate"]["cpu_seconds"] / results["floor"]["cpu_seconds"]
                                                    if "run" in results and "floor" in results else None),
    "2 workers / 1 worker (wall)": _wall_ratio("run1", "run2"),
    "2 cores / 1 core (wall)": _wall_ratio("run1core", "run2"),
    "annotate CPU, 2 workers / 1": lambda results: (results["run2"]["passes"]["annotate"]["cpu_seconds"] / results["run1"]["passes"]["annotate"]["cpu_seconds"]
                                                    if "run1" in results and "run2" in results else None),
    "KenLM bootstrap / run1core": lambda results: _pass_share(results, "bootstrap kenlm", "run1core"),
}
RATIO_NOTES = {
    "datatrove / whole run (CPU)": "(speed of the run vs datatrove; target >= 2)",
    "datatrove / run less start-up": "(Ray start and the actors' model loading left out, as datatrove's model loading is)",
    "annotate / floor (CPU)": "(target <= 1.5)",
    "KenLM bootstrap / run (CPU)": "(target <= 0.10)",
    "run's annotate pass / floor": "(with Ray: actor start, model loading)",
    "2 workers / 1 worker (wall)": "(target >= 1.8; run1 not pinned)",
    "2 cores / 1 core (wall)": "(run1core: 1 worker pinned to one core)",
    "annotate CPU, 2 workers / 1": "(the same work: over ~1.05 the two workers slowed each other, under ~0.95 the one worker was slowed)",
    "KenLM bootstrap / run1core": "(CPU share on the scaling input, one core; target <= 0.10)",
}


def describe_ratio(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f} - {max(values):.2f}; " + ", ".join(f"{v:.2f}" for v in values) + ")"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", nargs="+", metavar="WARC", help="your own WARC files or globs (.warc.gz, .warc) instead of the "
                        "development bench's subset, e.g. held-out crawls; --per-language and --units are then unused")
    parser.add_argument("--per-language", type=int, default=9, help="wrapped real text documents per lang_script (default 9)")
    parser.add_argument("--units", type=int, default=4, help="WARC.gz files the subset is written as (default 4)")
    parser.add_argument("--work", default="/tmp/longtail-bench-real", help="scratch folder (the subset is cached here)")
    parser.add_argument("--only", default="", help="comma-separated: run, datatrove, annotate, floor; main = run,datatrove; pass = annotate,floor")
    parser.add_argument("--keep", action="store_true", help="keep the other measurements of the last results.json (ratios against them)")
    parser.add_argument("--scaling", action="store_true", help="also the whole run with 1 and 2 workers on both cores, and with 1 worker pinned to one core")
    parser.add_argument("--repeat", type=int, default=1, help="rounds of the measurements (default 1); the ratios are taken within each round, whose "
                        "runs ran side by side, and printed as median and range: this machine's speed moves 5-10%% between runs")
    parser.add_argument("--profile", action="store_true", help="cProfile of the annotate pass instead")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--crawl", help=argparse.SUPPRESS)
    parser.add_argument("--core", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return 0
    work = Path(args.work)
    if args.input:
        crawl = work / "input"
        files = stage_inputs(crawl, args.input)
        info = json.loads((crawl / "subset.json").read_text())
        pages = count_records(files)
        print(f"your input: {pages} records read from {len(files)} files, {sum(p.stat().st_size for p in files) / 1e6:.1f} MB ({crawl})")
        for path in info["left_out_unreadable_by_datatrove"]:
            print(f"  left out (datatrove's reader cannot read it to its end): {path}")
        for path, problem in info["left_out"].items():
            print(f"  left out ({problem}): {path}")
    else:
        if not (BENCH / "real_pages.warc.gz").is_file():
            raise SystemExit("bench/data/real_pages.warc.gz is missing: build the bench first (docs/bench.md), or give --input")
        crawl = work / f"subset-{args.per_language}"
        files = write_subset(crawl, args.per_language, args.units)
        info = json.loads((crawl / "subset.json").read_text())
        pages = count_records(files)
        print(f"real pages: {pages} records read ({info['pages']} HTML pages, {info['records'] - info['pages']} wrapped texts of "
              f"{info['labels']} labels, {len(info['crawl_files'])} crawl files), "
              f"{sum(p.stat().st_size for p in files) / 1e6:.1f} MB in {len(files)} files ({crawl})")
    if args.profile:
        profile(crawl, work, args.top)
        return 0
    only = set(filter(None, args.only.split(","))) or {"main", "pass"}
    only |= {"run", "datatrove"} if "main" in only else set()
    only |= {"annotate", "floor"} if "pass" in only else set()
    chosen = [name for name in ("run", "datatrove", "annotate", "floor") if name in only]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start (shared: compare CPU time)")
    started = time.perf_counter()
    results = json.loads((work / "results.json").read_text()) if args.keep and (work / "results.json").is_file() else {}
    for summary in ("rounds", "ratios"):  # of the last invocation: this one's are computed anew
        results.pop(summary, None)
    rounds = []
    for round_number in range(args.repeat):
        if args.repeat > 1:
            print(f"round {round_number + 1} of {args.repeat}:")
        results = dict(results)
        for pair in (chosen[i:i + 2] for i in range(0, len(chosen), 2)):
            print(f"{' and '.join(pair)}, side by side on cores 0 and 1:" if len(pair) == 2 else f"{pair[0]}, on core 0:")
            for r in side_by_side(pair, crawl, work, pages):
                results[r["name"]] = r
        if args.scaling:
            print("whole run, 1 then 2 workers on a 2-CPU local Ray (not pinned), then 1 worker pinned to one core:")
            for name in ("run1", "run2", "run1core"):
                results[name] = collect(spawn(name, crawl, work, 0 if name == "run1core" else None), pages)
        rounds.append(results)
    figures = {name: [ratio for ratio in map(compute, rounds) if ratio is not None] for name, compute in RATIOS.items()}
    print("ratios (time / time)" + (f", median of {len(rounds)} rounds (lowest - highest):" if len(rounds) > 1 else ":"))
    for name, values in figures.items():
        if values:
            print(f"  {name:<30} {describe_ratio(values)}   {RATIO_NOTES[name]}")
    if len(rounds) > 1:
        results["rounds"] = [dict(round_results) for round_results in rounds]  # copies: the last round is `results`
        results["ratios"] = {name: values for name, values in figures.items() if values}
    (work / "results.json").write_text(json.dumps(results, indent=2))
    print(f"total {time.perf_counter() - started:.0f} s; results in {work / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

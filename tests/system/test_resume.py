"""Kill/resume on a real local Ray: a worker killed mid-unit, and the driver killed mid-run.

Either way the final dataset must hold exactly the documents (ids, texts, drop reasons, partitions) of an
uninterrupted run over the same records (the session's ``reference_run``): none lost, none duplicated. The sample crawl is split into six
smaller WARC files (whole gzip members copied as they are) so that there are units to resume.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from longtail.pipeline.run import run
from longtail.tests.support import run_documents, split_job_manifest, split_warcs, write_job_file

UNITS = 6
BATCH = 2  # small read batches: a unit writes several batches, so "mid-unit" lasts long enough to hit


@pytest.fixture(scope="module")
def split_inputs(repo, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("split-crawl")
    split_warcs(sorted((repo / "data" / "sample" / "crawl").glob("*.warc.gz")), folder, UNITS)
    return folder


def job_manifest(repo, models: Path, inputs: Path, output: Path):
    return split_job_manifest(repo, models, inputs, output, BATCH)


@pytest.fixture
def uninterrupted(reference_run):
    """The uninterrupted result: the session's ``reference_run``, the same job over the same records (the crawl
    as two files instead of six, default read batches); split or not, its documents and record counts are the
    same (checked when this fixture replaced a third run of the job on the six files)."""
    output = reference_run.output
    rows = run_documents(output)
    assert len({r[2] for r in rows}) == len(rows) > 40  # the reference itself has no duplicate ids
    return rows, json.loads((output / "stats" / "records.json").read_text())


def test_split_keeps_every_record(repo, split_inputs):
    from fastwarc.warc import ArchiveIterator

    def ids(paths):
        found = []
        for path in paths:
            with open(path, "rb") as stream:
                found += [r.record_id for r in ArchiveIterator(stream, parse_http=False)]
        return found

    original = ids(sorted((repo / "data" / "sample" / "crawl").glob("*.warc.gz")))
    parts = sorted(split_inputs.glob("*.warc.gz"))
    assert len(parts) == UNITS and all(ids([p]) for p in parts)
    assert ids(parts) == original


def _watch_and_kill(annotated: Path, killed: list, stop: threading.Event) -> None:
    """SIGKILL the first worker seen writing a unit: annotate_unit's temp file is ``.<unit>.parquet.<pid>.tmp``."""
    while not stop.is_set():
        for tmp in annotated.glob(".*.parquet.*.tmp") if annotated.is_dir() else []:
            pid = int(tmp.name.rsplit(".", 2)[-2])
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            killed.append((pid, tmp.name))
            return
        time.sleep(0.005)


def test_worker_killed_mid_unit_is_retried(repo, ray_local, trained_models, split_inputs, uninterrupted, tmp_path):
    output = tmp_path / "out"
    manifest = job_manifest(repo, trained_models, split_inputs, output)
    killed, stop = [], threading.Event()
    watcher = threading.Thread(target=_watch_and_kill, args=(output / "annotated", killed, stop), daemon=True)
    watcher.start()
    try:
        run(manifest, progress=False)  # the killed actor restarts and its unit is retried within the run
    finally:
        stop.set()
        watcher.join()
    assert killed, "no worker was caught mid-unit"
    assert len(list((output / "annotated").glob("*.done.json"))) == UNITS
    expected_rows, expected_records = uninterrupted
    assert run_documents(output) == expected_rows
    assert json.loads((output / "stats" / "records.json").read_text()) == expected_records
    # a rerun after the interrupted run changes nothing
    run(manifest, progress=False)
    assert run_documents(output) == expected_rows


def _session_pids(session: int) -> list[int]:
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session:  # fields after "pid (comm)": state ppid pgrp session ...
            pids.append(int(stat.parent.name))
    return pids


def test_driver_killed_mid_run_then_rerun(repo, ray_local, trained_models, split_inputs, uninterrupted, tmp_path):
    output = tmp_path / "out"
    manifest = job_manifest(repo, trained_models, split_inputs, output)
    manifest_file = write_job_file(repo, manifest, tmp_path / "job.yaml")  # the same job, as a file
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0")
    env.pop("RAY_ADDRESS", None)
    driver = subprocess.Popen([sys.executable, "-m", "longtail.pipeline.cli.main", "run", str(manifest_file), "--quiet"],
                              env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    annotated = output / "annotated"
    deadline = time.monotonic() + 300
    try:
        while not (annotated.is_dir() and any(annotated.glob("*.done.json"))):
            assert driver.poll() is None, f"driver ended before the first unit finished: {driver.stderr.read().decode()[-2000:]}"
            assert time.monotonic() < deadline, "no unit finished within 300 s"
            time.sleep(0.01)
        driver.send_signal(signal.SIGKILL)  # the driver dies mid-run
        driver.wait()
    finally:
        # The machine is gone: its Ray processes (started by the driver, same session) go too.
        for _ in range(50):
            pids = [p for p in _session_pids(driver.pid) if p != os.getpid()]
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        driver.stderr.close()
    finished = {p.name: p.read_bytes() for p in annotated.glob("*.done.json")}
    assert 1 <= len(finished) < UNITS, f"{len(finished)} units finished before the kill: nothing to resume"
    assert not (output / "dataset").exists()

    run(manifest, progress=False)  # the rerun (on the test's Ray) resumes
    assert len(list(annotated.glob("*.done.json"))) == UNITS
    assert {name: (annotated / name).read_bytes() for name in finished} == finished  # done units were skipped
    expected_rows, expected_records = uninterrupted
    assert run_documents(output) == expected_rows
    assert json.loads((output / "stats" / "records.json").read_text()) == expected_records

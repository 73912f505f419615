"""Multi-node Ray on one machine (issue 16): a job spans two nodes, one node is killed mid-annotate, and the run
completes with the output of a run without the kill.

The cluster is ``ray.cluster_utils.Cluster``: a head and a worker node (one CPU each, one raylet each) sharing one
GCS, as two machines would. Its processes are started by this test process, so they have its environment and
their workers import the same longtail. The driver is `longtail run --address` in its own process, as on a
cluster (this process may hold the session's local Ray). Which node a unit runs on: annotate's temp file is named
with the worker's pid, and a Ray worker is a child of its node's raylet.

The run without the kill is the session's ``reference_run`` (the same job over the same records as two files;
tests/system/test_resume.py checks that splitting the crawl changes no document).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from longtail.tests.support import reference_sample_manifest, run_documents, split_job_manifest, split_warcs, write_job_file

LONGTAIL = [sys.executable, "-m", "longtail.pipeline.cli.main"]
UNITS = 4
BATCH = 2  # small read batches: a unit takes several batches, so "mid-unit" lasts long enough to hit
HANG = 300  # seconds: a run still going after this is hung (a lost actor nobody restarts), not slow


def _children(parent: int) -> list[int]:
    """Pids whose parent is ``parent`` (a raylet's workers)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                pids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return pids


def _open_inputs(pids: list[int], inputs: Path) -> dict[int, set[str]]:
    """Per pid of ``pids`` holding any open, the names of the input files under ``inputs`` it holds open: a unit
    is read as a stream while it is annotated, so an open input is a unit in flight on that process."""
    names = {}
    for pid in pids:
        try:
            links = [os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()]
        except OSError:  # the process ended
            continue
        if opened := {Path(link).name for link in links if link.startswith(str(inputs) + os.sep)}:
            names[pid] = opened
    return names


def _raylet_pid(node) -> int:
    from ray._private import ray_constants

    return node.all_processes[ray_constants.PROCESS_TYPE_RAYLET][0].process.pid


@pytest.fixture
def two_nodes(monkeypatch):
    """A head and a worker node of one CPU each; always shut down, also when the test fails."""
    from ray._common.utils import get_ray_address_file
    from ray.cluster_utils import Cluster

    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    # Cluster points /tmp/ray/ray_current_cluster at itself and deletes it at shutdown; another Ray on this
    # machine (`ray start` by someone else) gets its file back afterwards.
    address_file = Path(get_ray_address_file(None))
    previous = address_file.read_text() if address_file.is_file() else None
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        worker = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        yield cluster, worker
    finally:
        cluster.shutdown()
        if previous is not None:
            address_file.write_text(previous)


def run_killing_worker_node(cluster, worker, manifest_file: Path, inputs: Path, output: Path, log: Path) -> dict:
    """Run the job on ``cluster`` in a driver process; lose ``worker`` as soon as it is mid-unit: SIGKILL to every
    process of that node at once (its workers, then the raylet and the rest through ``remove_node``), as when a
    machine goes away. Returns the units seen in flight per node, the unit in flight on the lost node (and whether
    its done record existed at the kill), the driver's exit code.

    The head node's worker is paused (SIGSTOP) in its first unit until the worker node has a unit in flight: under
    load the worker node's actor was ready only after the head node had annotated every unit (CI, 2026-12-03), and
    a node with no unit has nothing to lose. The pause changes only who annotates what, not the output."""
    raylets = {"head": _raylet_pid(cluster.head_node), "worker": _raylet_pid(worker)}
    seen: dict[str, set[str]] = {"head": set(), "worker": set()}
    killed = None
    paused: list[int] = []
    pause_started = False
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    with open(log, "wb") as out:
        driver = subprocess.Popen(LONGTAIL + ["run", str(manifest_file), "--address", cluster.address, "--workers", "2", "--quiet"],
                                  env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + HANG
    try:
        while driver.poll() is None:
            if time.monotonic() > deadline:
                actors = [(a.get("ActorClassName"), a.get("State")) for a in cluster.global_state.actor_table(None).values()]
                pytest.fail(f"run hung for {HANG} s ({killed}); actors {actors}: {log.read_text()[-3000:]}")
            pids = {node: _children(raylet) for node, raylet in raylets.items() if not (node == "worker" and killed)}
            by_pid = {node: _open_inputs(node_pids, inputs) for node, node_pids in pids.items()}
            in_flight = {node: set().union(*opened.values()) for node, opened in by_pid.items()}
            for node, names in in_flight.items():
                seen[node] |= names
            if killed is None and not pause_started and in_flight["head"] and not in_flight["worker"]:
                # the pids seen with an input open in this scan: a unit opens its input twice (a sniff of the
                # first bytes, then the stream), so a second look could fall between the two and pause no one
                pause_started, paused = True, list(by_pid["head"])
                _signal_all(paused, signal.SIGSTOP)
            if killed is None and paused and time.monotonic() > deadline - HANG / 2:
                _signal_all(paused, signal.SIGCONT)  # the worker node never took a unit: let the run end, the test fails
                paused = []
            if killed is None and in_flight["worker"]:
                _signal_all(pids["worker"], signal.SIGKILL)
                cluster.remove_node(worker, allow_graceful=False)
                unit = sorted(in_flight["worker"])[0]
                killed = {"unit": unit, "done_at_kill": _done(output, inputs, unit)}
                _signal_all(paused, signal.SIGCONT)
            time.sleep(0.01)
    finally:
        _signal_all(paused, signal.SIGCONT)
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    return {"seen": seen, "killed": killed, "returncode": driver.returncode}


def _signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def _done(output: Path, inputs: Path, name: str) -> bool:
    """Whether the unit of input file ``name`` has its done record."""
    from longtail.pipeline.runfolder import RunFolder

    return RunFolder(output).unit_files(str(inputs / name))[1].is_file()


def check_identical(output: Path, reference: Path) -> None:
    """Documents (ids, texts, drop reasons, partitions; dataset/ and removed/), stats/languages.json and record
    counts equal the uninterrupted run's: none lost, none doubled."""
    expected = run_documents(reference)
    assert len({r[2] for r in expected}) == len(expected) > 40
    assert run_documents(output) == expected
    for name in ("languages.json", "records.json"):
        assert json.loads((output / "stats" / name).read_text()) == json.loads((reference / "stats" / name).read_text()), name


def test_worker_node_lost_mid_annotate(repo, trained_models, reference_run, two_nodes, tmp_path):
    """The crawl as four files on two nodes; the worker node dies in the middle of its unit, which is redone on
    the head node, and the run's output is the uninterrupted run's."""
    cluster, worker = two_nodes
    inputs, output, log = tmp_path / "crawl", tmp_path / "out", tmp_path / "driver.log"
    split_warcs(sorted((repo / "data" / "sample" / "crawl").glob("*.warc.gz")), inputs, UNITS)
    manifest_file = write_job_file(repo, split_job_manifest(repo, trained_models, inputs, output, BATCH), tmp_path / "job.yaml")
    outcome = run_killing_worker_node(cluster, worker, manifest_file, inputs, output, log)
    killed, seen = outcome["killed"], outcome["seen"]
    assert killed, f"the worker node was never caught mid-unit: units per node {seen}"
    assert not killed["done_at_kill"], f"the unit on the lost node had finished already: {outcome}"
    assert outcome["returncode"] == 0, log.read_text()[-3000:]
    assert killed["unit"] in seen["head"], f"the lost unit was not redone on the head node: {outcome}"
    assert len(list((output / "annotated").glob("*.done.json"))) == UNITS
    assert "annotate worker lost" in (output / "logs" / "run.log").read_text()
    check_identical(output, reference_run.output)


# steps that read per-row states earlier steps left in the object store, some of them on the node that is lost
LATE_SHARD_STEPS = ("ray::_shard_outliers", "ray::_shard_write")


def test_worker_node_lost_mid_finalize_in_shards(repo, trained_models, reference_run, reference_run_copy, two_nodes, tmp_path):
    """`longtail select` of the reference run's annotations with every language of three or more documents in shards
    of two (stages.write.finalize_shard_rows), on two nodes; the worker node dies while it runs a shard's step.
    Ray runs the lost step again on the head node (and the steps whose per-row states were lost with the node,
    when they are needed), and the output is the uninterrupted run's."""
    import yaml

    cluster, worker = two_nodes
    output, log = reference_run_copy.output, tmp_path / "driver.log"
    job = write_job_file(repo, reference_sample_manifest(repo, trained_models, output), tmp_path / "job.yaml")
    raw = yaml.safe_load(job.read_text())
    raw["stages"].setdefault("write", {})["finalize_shard_rows"] = 2
    job.write_text(yaml.safe_dump(raw))
    raylet = _raylet_pid(worker)
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    killed = None
    with open(log, "wb") as out:
        driver = subprocess.Popen(LONGTAIL + ["select", str(job), "--address", cluster.address, "--quiet"], env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + HANG
    try:
        while driver.poll() is None:
            if time.monotonic() > deadline:
                pytest.fail(f"select hung for {HANG} s ({killed}): {log.read_text()[-3000:]}")
            if killed is None:
                pids = _children(raylet)
                steps = [title for title in (_title(pid) for pid in pids) if title.startswith(LATE_SHARD_STEPS)]
                if steps:  # a late shard step in flight on the worker node: lose the node, as a machine going away
                    _signal_all(pids, signal.SIGKILL)
                    cluster.remove_node(worker, allow_graceful=False)
                    killed = steps
            time.sleep(0.01)
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
    assert killed, f"no shard step ran on the worker node: {log.read_text()[-3000:]}"
    print(f"lost with the worker node: {killed}")
    assert driver.returncode == 0, log.read_text()[-3000:]
    assert "in shards" in (output / "logs" / "run.log").read_text()
    check_identical(output, reference_run.output)


def _title(pid: int) -> str:
    """A process's title: Ray names a worker after the task it runs (``ray::<function>``)."""
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
    except OSError:
        return ""

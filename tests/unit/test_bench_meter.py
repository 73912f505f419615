"""The speed bench's CPU meter (bench/bench_real_speed.py::TreeMeter): the figures of docs/performance.md rest on it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from longtail.tests.support import load_script

BURN_SECONDS = 1.0
# a stand-in for a Ray worker: titled as Ray titles one, it runs a child that burns CPU and reaps it (as a KenLM task
# reaps lmplz, a classifier task its fastText training process), then exits
WORKER = f"""
import subprocess
subprocess.run([{sys.executable!r}, "-c", "import time\\nt = time.process_time()\\nwhile time.process_time() - t < {BURN_SECONDS}: pass"])
"""


def _state(pid: int) -> str:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2]


def test_a_worker_that_exits_keeps_the_time_of_the_children_it_reaped(repo):
    meter = load_script(repo, "bench_real_speed", folder="bench").TreeMeter()
    try:
        start = meter.total()
        worker = subprocess.Popen(["ray::fake_task", "-c", WORKER], executable=sys.executable)
        deadline = time.monotonic() + 60
        while _state(worker.pid) != "Z":  # exited, not yet reaped: no command line, as a worker that Ray stops
            assert time.monotonic() < deadline, "the stand-in worker did not finish"
            time.sleep(0.05)
        counted = meter.total() - start
        tasks = meter.tasks()
        worker.wait()
    finally:
        meter.stop()
    # before the fix the zombie was read as the driver's process, without its reaped children: ~0.04 s
    assert counted >= 0.9 * BURN_SECONDS
    assert tasks.get("fake_task", 0.0) >= 0.9 * BURN_SECONDS
    assert tasks.get("other", 0.0) > -0.1

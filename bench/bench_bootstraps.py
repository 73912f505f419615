"""The two bootstraps (KenLM and classifier) on a finished run's annotations, one after the other and at once,
alternated, on a local Ray of N CPUs: wall seconds per round, and the Gantt chart of the last round's tasks.

    .venv/bin/python bench/bench_bootstraps.py RUN_OUT [--cpus 2] [--rounds 3] [--work /tmp/longtail-bootstraps]

RUN_OUT: a run's output folder with ``annotated/`` (e.g. ``bench/data/scaling/run1core/out`` after
``bench/bench_real_speed.py --scaling``). Each round copies the annotations into a fresh folder and times
``pipeline.run.run_bootstraps`` with manifests/sample.yaml's bootstrap settings, ``at_once`` False then True (the
order alternates between rounds: this machine's speed drifts). Every round starts its own Ray, so that worker
processes started by one round do not serve the next. ``--chart`` prints each task's start and end (seconds
from the first task) for the last round of each mode, from ``ray.timeline``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def one_round(run_out: Path, work: Path, cpus: int, at_once: bool, chart: bool) -> dict:
    """In this process (the parent starts one per round): the bootstraps once; returns wall seconds (and the chart)."""
    from dataclasses import replace

    from longtail.pipeline import ray_backend
    from longtail.pipeline.bootstrap import language_sizes
    from longtail.pipeline.manifest import load_manifest
    from longtail.pipeline.run import run_bootstraps

    output = work / ("at-once" if at_once else "one-after-the-other")
    shutil.rmtree(output, ignore_errors=True)
    shutil.copytree(run_out / "annotated", output / "annotated")
    manifest = load_manifest(REPO / "manifests" / "sample.yaml")
    manifest = replace(manifest, output=str(output), ray=replace(manifest.ray, workers=cpus))
    ray = ray_backend.connect(None, num_cpus=cpus)
    files = sorted(str(p) for p in (output / "annotated").glob("*.parquet"))
    started = time.monotonic()
    run_bootstraps(manifest, files, sorted(language_sizes(files)), progress=False, at_once=at_once)
    result = {"seconds": time.monotonic() - started}
    if chart:
        events = [e for e in ray.timeline() if e.get("ph") == "X" and e["name"].startswith("longtail.") and e["dur"] > 2e5]
        first = min((e["ts"] for e in events), default=0)
        workers = sorted({e["tid"] for e in events})
        result["chart"] = [(workers.index(e["tid"]), (e["ts"] - first) / 1e6, (e["ts"] + e["dur"] - first) / 1e6, e["name"].rsplit(".", 1)[-1])
                           for e in sorted(events, key=lambda e: e["ts"])]
    ray.shutdown()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_out", type=Path, help="a run's output folder with annotated/")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each runs both modes (default 3)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "longtail-bootstraps")
    parser.add_argument("--chart", action="store_true", help="print the tasks of each mode's last round")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child is not None:
        result = one_round(args.run_out, args.work, args.cpus, args.child == "at-once", args.chart)
        print(json.dumps(result))
        return 0
    if not (args.run_out / "annotated").is_dir():
        raise SystemExit(f"{args.run_out / 'annotated'} is missing: give a finished run's output folder")
    seconds: dict[str, list[float]] = {"one-after-the-other": [], "at-once": []}
    charts = {}
    for number in range(args.rounds):
        order = list(seconds) if number % 2 == 0 else list(reversed(seconds))
        for mode in order:
            command = [sys.executable, __file__, str(args.run_out), "--cpus", str(args.cpus), "--work", str(args.work), "--child", mode]
            done = subprocess.run(command + (["--chart"] if args.chart else []), capture_output=True, text=True)
            if done.returncode != 0:
                raise SystemExit(f"round {number + 1} ({mode}) failed:\n{done.stderr[-2000:]}")
            result = json.loads(done.stdout.strip().splitlines()[-1])
            seconds[mode].append(result["seconds"])
            charts[mode] = result.get("chart")
            print(f"round {number + 1}: {mode:<20} {result['seconds']:6.1f} s wall", flush=True)
    for mode, values in seconds.items():
        print(f"{mode:<20} median {statistics.median(values):6.1f} s ({', '.join(f'{v:.1f}' for v in values)})")
    if args.chart:
        for mode, chart in charts.items():
            print(f"tasks of the last round, {mode} (worker, start - end s, task):")
            for worker, start, end, name in chart or []:
                print(f"  w{worker} {start:6.1f} - {end:6.1f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

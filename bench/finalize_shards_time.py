"""Wall time and memory of one language's finalize, whole task (batched) against shards, on a run's annotations.

    .venv/bin/python bench/finalize_shards_time.py --output <run output folder> --label swa_Latn --shard-rows 40000 1000000000

A --shard-rows of more than the language's rows keeps it in one task (batched when it exceeds the memory
budget). Used on the slow test's annotations (tests/integration/test_finalize_bounded.py, ~311,000 rows of a
generated language; pytest leaves its output folder under its basetemp, e.g. /tmp/pytest-of-<user>/). Starts a
local Ray of --cpus CPUs; the staging output goes to <output>/.bench-shards and is removed.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

from longtail.fileio import remove_tree
from longtail.pipeline import ray_backend
from longtail.pipeline.finalize import finalize_language
from longtail.pipeline.manifest import QualitySettings, load_manifest
from longtail.pipeline.runfolder import RunFolder

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", required=True, help="a run's output folder (its annotated/ is read)")
    parser.add_argument("--label", required=True, help="the language to finalize, e.g. swa_Latn")
    parser.add_argument("--shard-rows", type=int, nargs="+", required=True, help="stages.write.finalize_shard_rows values to time")
    parser.add_argument("--memory-mb", type=int, default=1024, help="stages.write.finalize_memory_mb (default 1024, as the slow test)")
    parser.add_argument("--cpus", type=int, default=2)
    args = parser.parse_args()
    ray_backend.connect(None, num_cpus=args.cpus)
    manifest = replace(load_manifest(REPO / "manifests" / "sample.yaml"), inputs=[], output=args.output, quality=QualitySettings())
    files = [str(p) for p in RunFolder(args.output).annotated_files()]
    for shard_rows in args.shard_rows:
        settings = replace(manifest, write=replace(manifest.write, finalize_memory_mb=args.memory_mb, finalize_shard_rows=shard_rows))
        staging = f"{args.output}/.bench-shards"
        started = time.perf_counter()
        result = finalize_language(settings, args.label, files, staging)
        seconds = time.perf_counter() - started
        remove_tree(staging)
        print(json.dumps({"shard_rows": shard_rows, "seconds": round(seconds, 1), "documents": result.stats["documents"], "memory": result.memory}))


if __name__ == "__main__":
    main()

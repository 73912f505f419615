"""Finalize in shards against the whole-language path on a real run's annotations: the same rows, reasons and stats?

    .venv/bin/python bench/shards_equal_real.py --run bench/data/quality/run_954e5e7 --shard-rows 60

The tests compare the two paths on a generated language; this compares them on the development bench's real pages
(real templated domains, real near duplicates, bootstrapped models). The run folder is copied twice under --work;
each copy is re-selected (`longtail select`: annotations only) with the manifest, once as shipped and once with
`stages.write.finalize_shard_rows` = --shard-rows, so every language of more rows is finalized in shards. Prints
the languages in shards and every difference in dataset/, removed/ and stats/languages.json; exit 1 if any.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds

from longtail.pipeline.manifest import load_manifest
from longtail.pipeline.run import reselect

REPO = Path(__file__).resolve().parent.parent


def _rows(folder: Path) -> pa.Table:
    table = ds.dataset(folder, format="parquet", partitioning="hive").to_table()
    return table.sort_by([(name, "ascending") for name in ("lang_script", "id") if name in table.column_names])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="a finished run's output folder (annotated/, bootstrap/)")
    parser.add_argument("--manifest", default=str(REPO / "manifests" / "bench_quality.yaml"), help="the manifest the run used")
    parser.add_argument("--shard-rows", type=int, default=60, help="finalize_shard_rows for the sharded copy (default 60)")
    parser.add_argument("--work", default=str(REPO / "bench" / "data" / "shards_equal"), help="where the two copies go (replaced)")
    args = parser.parse_args()
    work = Path(args.work)
    shutil.rmtree(work, ignore_errors=True)
    manifest = load_manifest(args.manifest)
    outputs = {}
    for name, shard_rows in (("whole", 0), ("shards", args.shard_rows)):
        folder = work / name
        shutil.copytree(args.run, folder, ignore=shutil.ignore_patterns("dataset", "removed", "stats", ".staging"))
        write = manifest.write if not shard_rows else replace(manifest.write, finalize_shard_rows=shard_rows)
        reselect(replace(manifest, output=str(folder), write=write), progress=False)
        outputs[name] = folder
    whole, shards = outputs["whole"], outputs["shards"]
    log = (shards / "logs" / "run.log").read_text(encoding="utf-8")
    sharded = sorted({line.split("finalize ", 1)[1].split(" in shards")[0] for line in log.splitlines() if " in shards: " in line})
    differences = []
    for part in ("dataset", "removed"):
        a, b = _rows(whole / part), _rows(shards / part)
        if a.num_rows != b.num_rows:
            differences.append(f"{part}: {a.num_rows} rows whole, {b.num_rows} in shards")
            continue
        for column in a.column_names:
            if column not in b.column_names or not a.column(column).equals(b.column(column)):
                differences.append(f"{part}: column {column} differs")
    stats = [json.loads((folder / "stats" / "languages.json").read_text(encoding="utf-8")) for folder in (whole, shards)]
    by_label = [{s["lang_script"]: s for s in found} for found in stats]
    for label in sorted(set(by_label[0]) | set(by_label[1])):
        if by_label[0].get(label) != by_label[1].get(label):
            differences.append(f"languages.json: {label} differs")
    kept = _rows(whole / "dataset").num_rows
    print(json.dumps({"run": args.run, "shard_rows": args.shard_rows, "languages_in_shards": sharded, "kept": kept,
                      "removed": _rows(whole / "removed").num_rows, "differences": differences}, indent=1))
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())

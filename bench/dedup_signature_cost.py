"""Cost of the dedup signatures in the annotate pass, on real pages: char shingles (issue 14) vs word shingles.

    .venv/bin/python bench/dedup_signature_cost.py --records 3000

Takes the first ``--records`` response records of ``bench/data/real_pages.warc.gz`` (real pages and real
documents wrapped in HTML, built by bench/build_real_bench.py; never committed), runs the sample manifest's
annotate pass (``annotate_unit``: extract, LID, signals, quality, MinHash, Parquet) over them once with the
word-shingle parameters of before issue 14 and once with today's defaults, alternating ``--repeat`` times, pinned
to one core. Prints per document: the whole annotate pass and the ``minhash`` stage (the chain's own timers),
median over the repeats.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))
WARC = REPO / "bench" / "data" / "real_pages.warc.gz"


def slice_warc(records: int, out: Path) -> Path:
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    path = out / "slice.warc.gz"
    written = 0
    with open(WARC, "rb") as source, open(path, "wb") as handle:
        writer = WARCWriter(handle, gzip=True)
        for record in ArchiveIterator(source):
            if record.rec_type != "response":
                continue
            writer.write_record(record)
            written += 1
            if written >= records:
                break
    return path


def texts_of(output: Path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    files = sorted((output / "annotated").glob("*.parquet"))
    return pa.concat_tables([pq.read_table(f, columns=["text", "script"]) for f in files])


def time_signatures(table, params, repeat: int) -> float:
    """Median seconds of MinHashStage over ``table`` (text, script), ``repeat`` times."""
    import time

    from longtail.stages.dedup.minhash import MinHashStage

    stage = MinHashStage(params)
    stage.setup()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        stage(table)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(manifest, path: Path, output: Path) -> tuple[float, float, int]:
    from longtail.pipeline.annotate import annotate_unit, build_stages

    shutil.rmtree(output, ignore_errors=True)
    manifest = replace(manifest, output=str(output))
    stages = build_stages(manifest)
    for stage in stages:
        stage.setup()
    result = annotate_unit(manifest, stages, str(path))
    total = sum(s["seconds"] for s in result.stages.values())
    return total, result.stages["minhash"]["seconds"], result.documents


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--core", type=int, default=0)
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})
    from longtail.pipeline.manifest import load_manifest
    from longtail.stages.dedup.evaluate import shingle_description
    from longtail.stages.dedup.minhash import MinHashParams

    manifest = load_manifest(REPO / "manifests" / "sample.yaml")
    before, now = MinHashParams(shingle="word", bands=16, rows=8, threshold=0.7), MinHashParams()
    variants = {f"before: {shingle_description(before)}": before, f"now: {shingle_description(now)}": now}
    work = Path(tempfile.mkdtemp(prefix="dedup-cost-"))
    try:
        path = slice_warc(args.records, work)
        times = {name: [] for name in variants}
        for _ in range(args.repeat):
            for name, params in variants.items():
                times[name].append(run(replace(manifest, dedup=params), path, work / "out"))
        docs = times[next(iter(times))][0][2]
        table = texts_of(work / "out")
        alone = {name: [] for name in variants}
        for _ in range(3):  # the MinHash stage alone on the same extracted texts, alternating
            for name, params in variants.items():
                alone[name].append(time_signatures(table, params, 1))
        chars = sum(len(t or "") for t in table.column("text").to_pylist())
        print(f"{args.records} WARC records -> {docs} documents annotated ({chars / max(1, table.num_rows):,.0f} characters of text on average), one core")
        print(f"{'signatures':<58} {'annotate ms/doc':>15} {'minhash ms/doc':>15} {'minhash alone ms/doc':>21}")
        for name, rows in times.items():
            total = statistics.median(r[0] for r in rows) / docs * 1000
            minhash = statistics.median(r[1] for r in rows) / docs * 1000
            print(f"{name:<58} {total:>15.2f} {minhash:>15.2f} {statistics.median(alone[name]) / table.num_rows * 1000:>21.2f}")
        print(f"(annotate and minhash: median of {args.repeat} annotate passes, the chain's own stage timers; alone: median of 3)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

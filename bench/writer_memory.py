"""Memory of the annotate pass's language-sorted writer (pipeline/annotate.py::LanguageSortedWriter) for several
in-memory budgets, on a run's annotated file: what a worker holds beyond its models while it writes one unit.

    .venv/bin/python bench/writer_memory.py ANNOTATED.parquet [--budgets 256,128,64,32] [--core 0]

ANNOTATED.parquet: an annotated file of a finished run, the larger the better (e.g. the one
``bench/bench_real_speed.py --input bench/data/real_pages.warc.gz --only annotate --work W`` writes under
``W/annotate/out/annotated/``; three copies of that WARC.gz concatenated give 99,279 records). Its rows, sorted by
language there, are first put back in a crawl-like mixed order (by ``text_hash``) into a scratch file. Then, for
each budget, a fresh child process pinned to one core feeds them to the writer in 1,000-row batches, as the
annotate pass does, and prints the rise of its peak RSS over the process's RSS before the writer started, the
peak of Arrow's memory pool, and the writer's CPU time. The written files must hold the same table for every
budget (the script says so, and exits 1 if not).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _status_mb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field):
                return int(line.split()[1]) >> 10
    return 0


def child(mixed: str, budget_mb: int, out: str, core: int) -> None:
    os.sched_setaffinity(0, {core})
    import pyarrow as pa
    import pyarrow.parquet as pq

    from longtail.pipeline.annotate import LanguageSortedWriter

    before = _status_mb("VmRSS")
    started = time.process_time()
    writer = LanguageSortedWriter(Path(out), memory_budget=budget_mb << 20)
    for batch in pq.ParquetFile(mixed).iter_batches(batch_size=1000):
        writer.write(pa.Table.from_batches([batch]))
    writer.close()
    print(json.dumps({"budget_mb": budget_mb, "rss_rise_mb": _status_mb("VmHWM") - before,
                      "arrow_pool_peak_mb": pa.default_memory_pool().max_memory() >> 20,
                      "cpu_s": round(time.process_time() - started, 2)}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("annotated", nargs="?", help="an annotated Parquet file of a finished run")
    parser.add_argument("--budgets", default="256,128,64,32", help="in-memory budgets to compare, in MB")
    parser.add_argument("--core", type=int, default=0, help="the core the measuring process is pinned to")
    parser.add_argument("--child", nargs=3, metavar=("MIXED", "BUDGET_MB", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child[0], int(args.child[1]), args.child[2], args.core)
        return 0
    if not args.annotated:
        parser.error("give an annotated Parquet file")

    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory(prefix="writer-memory-") as scratch:
        table = pq.read_table(args.annotated)
        key = "text_hash" if "text_hash" in table.column_names else "id"
        mixed = str(Path(scratch) / "mixed.parquet")
        pq.write_table(table.take(pc.sort_indices(table, sort_keys=[(key, "ascending")])), mixed, row_group_size=1000)
        print(f"{table.num_rows} rows, {table.nbytes >> 20} MB of annotations in memory ({args.annotated})", flush=True)
        del table
        first = None
        same = True
        for budget in (int(b) for b in args.budgets.split(",")):
            out = str(Path(scratch) / f"unit-{budget}.parquet")
            proc = subprocess.run([sys.executable, __file__, "--core", str(args.core), "--child", mixed, str(budget), out],
                                  capture_output=True, text=True)
            if proc.returncode:
                print(proc.stderr[-2000:], file=sys.stderr)
                return proc.returncode
            figures = json.loads(proc.stdout.strip().splitlines()[-1])
            written = pq.read_table(out)
            if first is None:
                first = written
            elif not written.equals(first):
                same = False
            print(f"  budget {budget:>4} MB: peak RSS +{figures['rss_rise_mb']} MB, Arrow pool peak {figures['arrow_pool_peak_mb']} MB, "
                  f"writer CPU {figures['cpu_s']} s")
        print("written tables: " + ("the same for every budget" if same else "DIFFERENT between budgets"))
        return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())

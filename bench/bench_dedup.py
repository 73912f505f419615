"""Benchmark: MinHash + distributed LSH dedup of a generated one-language corpus on a local Ray.

    .venv/bin/python bench/bench_dedup.py --docs 1000000 --cpus 2                  # texts, real MinHash
    .venv/bin/python bench/bench_dedup.py --synthetic --docs 1000000 3000000 10000000   # scale: signatures only

The corpus is synthetic but shaped like web text of a small language: pseudo-words built from CV syllables
with a Zipf frequency law, sentences of 6-22 words, document lengths log-normal (median ~300 words, clipped to
30-5,000). A share of documents are planted copies of an earlier original: exact copies (other case and
punctuation) and near copies (1 % of words replaced and one sentence dropped). Each document is a pure function
of its number, so generation runs inside the signing tasks and texts never cross the object store.

Phases: ``sign`` (generate + script-aware shingles + MinHash, what the annotate pass does) and ``dedup``
(:func:`longtail.stages.dedup.distributed.cluster_parts`). Prints documents/s per phase, the peak RSS of every Ray
worker process (sampled), cluster statistics and how many planted copies were found.

``--synthetic`` skips the texts: each document gets a generated MinHash signature (uniform random values for an
original; an exact copy repeats its source's signature and text hash; a near copy repeats it with 0-20 % of its
values redrawn, estimated Jaccard >= ~0.8). Signing 10^7 texts takes hours of CPU on 2 cores, the dedup graph
only sees signatures, so this measures the dedup steps at 10^6-10^7 documents. Random originals never collide
in an LSH band, unlike real pages with shared boilerplate: candidate pairs come from the planted copies only.

Per dedup task the benchmark's engine records CPU time and the peak private memory (``RssAnon``, sampled every
10 ms inside the worker; Ray's shared-memory object store pages are counted apart as ``RssShmem``, they are
the store's, not the worker's), so memory per task can be compared with the partition budget
(:func:`longtail.stages.dedup.distributed.partition_count`). Several ``--docs`` values run one after the other
and end with a growth table.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import tempfile
import threading
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SYLLABLES = [c + v for c in "bdfghjklmnprstvwyz" for v in "aeiou"] + list("aeiou")
VOCABULARY = 40_000
EXACT_SHARE, NEAR_SHARE = 0.08, 0.12


def _vocabulary() -> tuple[list[str], np.ndarray]:
    rng = np.random.Generator(np.random.PCG64(12345))
    words, seen = [], set()
    while len(words) < VOCABULARY:
        word = "".join(SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), int(rng.integers(1, 5))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    weights = 1.0 / np.arange(1, VOCABULARY + 1) ** 1.05
    return words, np.cumsum(weights) / weights.sum()


def _kind(doc: int) -> tuple[str, int]:
    """('original'|'exact'|'near', source original) for a document number; a pure function of ``doc``."""
    rng = np.random.Generator(np.random.PCG64([doc, 1]))
    draw = rng.random()
    if doc < 10 or draw >= EXACT_SHARE + NEAR_SHARE:
        return "original", doc
    source = int(rng.integers(0, doc))
    while _kind(source)[0] != "original":
        source = int(rng.integers(0, source)) if source else 0
    return ("exact" if draw < EXACT_SHARE else "near"), source


def _original_text(doc: int, words: list[str], cumulative: np.ndarray) -> list[list[str]]:
    rng = np.random.Generator(np.random.PCG64([doc, 2]))
    length = int(min(5000, max(30, rng.lognormal(math.log(300), 0.8))))
    picks = np.searchsorted(cumulative, rng.random(length))
    sentences, start = [], 0
    while start < length:
        end = min(length, start + int(rng.integers(6, 23)))
        sentences.append([words[i] for i in picks[start:end]])
        start = end
    return sentences


def document(doc: int, words: list[str], cumulative: np.ndarray) -> tuple[str, str, int]:
    kind, source = _kind(doc)
    sentences = _original_text(source, words, cumulative)
    if kind == "near":
        rng = np.random.Generator(np.random.PCG64([doc, 3]))
        if len(sentences) >= 15:  # dropping one of fewer sentences would no longer be a near copy
            del sentences[int(rng.integers(0, len(sentences)))]
        flat = [(s, w) for s in range(len(sentences)) for w in range(len(sentences[s]))]
        for k in rng.choice(len(flat), max(1, len(flat) // 100), replace=False):
            s, w = flat[k]
            sentences[s][w] = words[int(rng.integers(0, VOCABULARY))]
    text = " ".join(" ".join(s).capitalize() + "." for s in sentences)
    if kind == "exact":
        text = text.upper().replace(".", " !")
    return text, kind, source


def sign_chunk(start: int, stop: int):
    """Generate documents [start, stop) and return their annotate-pass columns (no text), each one's planted
    source and the task's peak RSS."""
    from longtail.stages.dedup.distributed import ROW_KEY
    from longtail.stages.dedup.minhash import MinHashStage

    words, cumulative = _vocabulary()
    rows = [document(i, words, cumulative) for i in range(start, stop)]
    table = pa.table(
        {
            "id": [f"d{i:08d}" for i in range(start, stop)],
            "text": [r[0] for r in rows],
            "script": ["Latn"] * len(rows),
            "lang_script": ["swa_Latn"] * len(rows),
            "n_chars": [len(r[0]) for r in rows],
            "crawl_date": ["2026-10-01"] * len(rows),
            "url": [f"https://sw.bench.test/{i}" for i in range(start, stop)],
            ROW_KEY: np.arange(start, stop, dtype=np.int64),
        }
    )
    stage = MinHashStage()
    stage.setup()
    sources = np.array([r[2] for r in rows], dtype=np.int64)
    return stage(table).drop_columns(["text", "script"]), sources, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _unit(values: np.ndarray) -> np.ndarray:
    """uint64 hashes -> floats in [0, 1)."""
    return (values >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def synthetic_chunk(start: int, stop: int, num_perm: int = 128):
    """Documents [start, stop) as the annotate pass would leave them, with generated signatures (no text); a
    pure function of the document numbers, like :func:`document`. Returns the part, the planted sources and the
    task's peak RSS."""
    from longtail.stages.dedup.distributed import ROW_KEY
    from longtail.stages.dedup.minhash import mix64

    doc = np.arange(start, stop, dtype=np.uint64)
    draw = _unit(mix64(doc * np.uint64(4)))
    kind = np.where((doc < 10) | (draw >= EXACT_SHARE + NEAR_SHARE), 0, np.where(draw < EXACT_SHARE, 1, 2))
    source = doc.copy()
    todo = kind != 0
    source[todo] = (_unit(mix64(doc[todo] * np.uint64(4) + np.uint64(1))) * doc[todo]).astype(np.uint64)
    while True:  # a copy's source is an original: walk down until one is (the kind of a number is fixed)
        src_draw = _unit(mix64(source * np.uint64(4)))
        bad = todo & (source >= 10) & (src_draw < EXACT_SHARE + NEAR_SHARE)
        if not bad.any():
            break
        source[bad] = (_unit(mix64(source[bad] * np.uint64(4) + np.uint64(2))) * source[bad]).astype(np.uint64)
    perm = np.arange(num_perm, dtype=np.uint64)
    with np.errstate(over="ignore"):
        cells = source[:, None] * np.uint64(num_perm) + perm[None, :]
        signatures = (mix64(cells ^ np.uint64(0x5BD1E995)) >> np.uint64(32)).astype(np.uint32)
        near = np.flatnonzero(kind == 2)
        own = doc[near, None] * np.uint64(num_perm) + perm[None, :]
        rate = _unit(mix64(doc[near] * np.uint64(4) + np.uint64(3))) * 0.2  # 0-20 % of the values redrawn
        redraw = _unit(mix64(own ^ np.uint64(0x9E3779B97F4A7C15))) < rate[:, None]
        fresh = (mix64(own ^ np.uint64(0xC2B2AE3D27D4EB4F)) >> np.uint64(32)).astype(np.uint32)
        signatures[near] = np.where(redraw, fresh, signatures[near])
        text_hash = mix64(np.where(kind == 1, source, doc) ^ np.uint64(0x165667B19E3779F9))
        n_chars = 150 + (mix64(source ^ np.uint64(0x27D4EB2F165667C5)) % np.uint64(20_000)).astype(np.int64)
    n = stop - start
    table = pa.table(
        {
            "id": [f"d{i:08d}" for i in range(start, stop)],
            "lang_script": pa.array(["swa_Latn"] * n, pa.string()),
            "text_hash": pa.array(text_hash, pa.uint64()),
            "minhash": pa.FixedSizeListArray.from_arrays(pa.array(signatures.reshape(-1), pa.uint32()), num_perm),
            "n_chars": pa.array(n_chars, pa.int64()),
            "crawl_date": pa.array(["2026-10-01"] * n, pa.string()),
            "url": [f"https://sw.bench.test/{i}" for i in range(start, stop)],
            ROW_KEY: np.arange(start, stop, dtype=np.int64),
        }
    )
    return table, source.astype(np.int64), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _status(pid: int | str = "self") -> dict[str, int]:
    """Memory fields of /proc/<pid>/status in bytes (VmRSS, VmHWM, RssAnon, RssFile, RssShmem)."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                out[key] = int(value.split()[0]) * 1024
    return out


def measured(function, log_path: str):
    """``function`` wrapped to append one JSON line per call to ``log_path``: task name, CPU seconds of the
    worker process during the call, wall seconds, private memory (RssAnon) at the start and its peak (sampled
    every 10 ms), peak RSS with shared pages (VmHWM, reset before the call) and the worker's pid."""

    def run(*args):
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")  # resets VmHWM (peak RSS) to the current RSS
        except OSError:
            pass
        start_status = _status()
        peak = {"anon": start_status["RssAnon"], "shmem": start_status["RssShmem"]}
        stop = threading.Event()

        def sample():
            while not stop.wait(0.01):
                status = _status()
                peak["anon"] = max(peak["anon"], status["RssAnon"])
                peak["shmem"] = max(peak["shmem"], status["RssShmem"])

        sampler = threading.Thread(target=sample, daemon=True)
        usage, wall = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        sampler.start()
        try:
            return function(*args)
        finally:
            stop.set()
            sampler.join()
            end, status = resource.getrusage(resource.RUSAGE_SELF), _status()
            record = {
                "task": function.__name__.strip("_").removesuffix("_task"),
                "cpu_s": end.ru_utime + end.ru_stime - usage.ru_utime - usage.ru_stime,
                "wall_s": time.monotonic() - wall,
                "anon_start": start_status["RssAnon"],
                "anon_peak": max(peak["anon"], status["RssAnon"]),
                "shmem_peak": max(peak["shmem"], status["RssShmem"]),
                "hwm": status["VmHWM"],
                "pid": os.getpid(),
            }
            with open(log_path, "a") as f:
                f.write(json.dumps(record) + "\n")

    run.__name__ = run.__qualname__ = function.__name__
    return run


def measured_engine(log_path: str):
    """A ``RayEngine`` whose tasks are :func:`measured`."""
    from longtail.pipeline.ray_backend import RayEngine

    class MeasuredEngine(RayEngine):
        def __init__(self):
            super().__init__()
            self._wrapped = {}

        def task(self, function, num_returns: int = 1):
            if function not in self._wrapped:
                self._wrapped[function] = measured(function, log_path)
            return super().task(self._wrapped[function], num_returns)

    return MeasuredEngine()


class WorkerMemory:
    """Samples this run's Ray worker processes (``ray::`` descendants of the driver); keeps each one's peak RSS
    and peak private memory (RssAnon)."""

    def __init__(self, interval: float = 0.5):
        self.interval, self.peaks, self.anon, self._stop = interval, {}, {}, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        while not self._stop.is_set():
            for proc in psutil.Process(os.getpid()).children(recursive=True):
                try:
                    if " ".join(proc.cmdline()).startswith("ray::"):
                        status = _status(proc.pid)
                        self.peaks[proc.pid] = max(self.peaks.get(proc.pid, 0), status["VmRSS"])
                        self.anon[proc.pid] = max(self.anon.get(proc.pid, 0), status["RssAnon"])
                except (psutil.Error, OSError, KeyError):
                    continue
            self._stop.wait(self.interval)

    def clear(self):
        self.peaks.clear()
        self.anon.clear()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


MIB = 1024 * 1024


def run_size(docs: int, args, params) -> dict:
    """Sign (or generate) ``docs`` documents and deduplicate them; prints the figures and returns them."""
    import ray

    from longtail.stages.dedup.distributed import ROW_KEY, cluster_parts, partition_count

    partitions = args.partitions or partition_count(docs, params, args.partition_memory_mb)
    mode = "synthetic signatures" if args.synthetic else "texts + MinHash"
    print(f"\nbench_dedup: {docs:,} documents ({mode}), chunks of {args.chunk:,}, {partitions} partitions "
          f"(budget {args.partition_memory_mb:,} MiB per partition task), {args.cpus} CPUs; "
          f"num_perm={params.num_perm} bands={params.bands}x{params.rows} threshold={params.threshold}", flush=True)
    if args.synthetic:
        sign = ray.remote(num_cpus=1, num_returns=3)(synthetic_chunk)
        submit = lambda s: sign.remote(s, min(docs, s + args.chunk), params.num_perm)  # noqa: E731
    else:
        sign = ray.remote(num_cpus=1, num_returns=3)(sign_chunk)
        submit = lambda s: sign.remote(s, min(docs, s + args.chunk))  # noqa: E731
    log_path = tempfile.mktemp(prefix="bench_dedup_tasks_", suffix=".jsonl")
    driver_cpu = lambda: sum(resource.getrusage(resource.RUSAGE_SELF)[:2])  # noqa: E731
    with WorkerMemory() as memory:
        started = time.monotonic()
        outputs = [submit(s) for s in range(0, docs, args.chunk)]
        parts = [o[0] for o in outputs]
        sign_rss = max(ray.get([o[2] for o in outputs]))
        sources = np.concatenate(ray.get([o[1] for o in outputs]))
        ray.wait(parts, num_returns=len(parts))
        signed, cpu0 = time.monotonic(), driver_cpu()
        sign_peaks = dict(memory.peaks)
        memory.clear()
        del outputs
        holder = [parts]
        del parts  # cluster_parts holds the only list of the parts: the object store frees each once it is read
        result = cluster_parts(holder.pop(), params, partitions=partitions, engine=measured_engine(log_path))
        done, driver_s = time.monotonic(), driver_cpu() - cpu0
        peaks, anon = dict(memory.peaks), dict(memory.anon)
    with open(log_path) as f:
        tasks = [json.loads(line) for line in f]
    os.unlink(log_path)
    sign_s, dedup_s = signed - started, done - signed
    task_cpu = sum(t["cpu_s"] for t in tasks)
    what = "generate signatures" if args.synthetic else "generate + shingle + MinHash"
    print(f"sign   {sign_s:8.1f} s  {docs / sign_s:10,.0f} docs/s  ({what})")
    print(f"dedup  {dedup_s:8.1f} s  {docs / dedup_s:10,.0f} docs/s  wall; CPU {task_cpu:,.1f} s in {len(tasks)} tasks "
          f"+ {driver_s:,.1f} s driver (banding, buckets, pairs, components, keep rule)")
    print(f"peak RSS per worker, sign phase:  max {max(sign_peaks.values(), default=sign_rss) / MIB:,.0f} MiB over {len(sign_peaks)} workers "
          f"(task-reported max {sign_rss / MIB:,.0f} MiB)")
    print(f"peak per worker, dedup phase (sampled every 0.5 s): RSS max {max(peaks.values(), default=0) / MIB:,.0f} MiB, "
          f"private (RssAnon) max {max(anon.values(), default=0) / MIB:,.0f} MiB over {len(anon)} workers: "
          + ", ".join(f"{v / MIB:,.0f}" for v in sorted(anon.values(), reverse=True)[:8]))
    by_task: dict[str, list[dict]] = {}
    for t in tasks:
        by_task.setdefault(t["task"], []).append(t)
    print("per task kind: count, CPU s (sum), peak private MiB (max over tasks; the worker's start level included), "
          "growth in the task (max), peak shared MiB (max)")
    for name, group in by_task.items():
        print(f"  {name:13s} {len(group):5d} {sum(t['cpu_s'] for t in group):9.1f} {max(t['anon_peak'] for t in group) / MIB:9,.0f} "
              f"{max(t['anon_peak'] - t['anon_start'] for t in group) / MIB:9,.0f} {max(t['shmem_peak'] for t in group) / MIB:9,.0f}")

    values, counts = np.unique(result.column("dup_cluster_size").to_numpy(), return_counts=True)
    sizes = dict(zip(values.tolist(), counts.tolist()))
    reasons = {r["values"]: r["counts"] for r in pc.value_counts(result.column("dedup_reason").drop_null()).to_pylist()}
    removed = sum(reasons.values())
    clusters = sum(count // size for size, count in sizes.items() if size > 1)
    print(f"clusters: {result.num_rows:,} documents, {clusters:,} duplicate clusters, largest {max(sizes)}, "
          f"{removed:,} removed ({removed / result.num_rows:.1%}): " + ", ".join(f"{k} {v:,}" for k, v in sorted(reasons.items())))
    print("cluster sizes: " + ", ".join(f"{size}: {count // size:,}" for size, count in sorted(sizes.items())[:8]))
    # result rows sorted by row key = document number; a planted copy is found when it shares its source's cluster
    cluster = result.sort_by(ROW_KEY).column("dup_cluster_id").combine_chunks()
    copies = np.flatnonzero(sources != np.arange(docs))
    found = int(pc.sum(pc.equal(cluster.take(pa.array(copies)), cluster.take(pa.array(sources[copies])))).as_py() or 0)
    print(f"planted copies found: {found:,} of {len(copies):,} ({found / max(1, len(copies)):.2%})")
    try:
        from ray._private.internal_api import memory_summary

        store = [line.strip() for line in memory_summary(address=ray.get_runtime_context().gcs_address, stats_only=True).splitlines() if "Spilled" in line or "Plasma memory" in line]
    except Exception as exc:  # an internal API: the figures above do not depend on it
        store = [f"(object store summary unavailable: {exc})"]
    print("object store: " + "; ".join(store), flush=True)
    worst = {name: max(t["anon_peak"] for t in group) for name, group in by_task.items()}
    return {"docs": docs, "partitions": partitions, "sign_s": sign_s, "dedup_s": dedup_s, "cpu_s": task_cpu + driver_s,
            "worker_peak": max(anon.values(), default=0), "task_peak": max(worst.values()), "worst_task": max(worst, key=worst.get),
            "rss_peak": max(peaks.values(), default=0), "found": found / max(1, len(copies)),
            "shared_peak": max(t["shmem_peak"] for t in tasks)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, nargs="+", default=[1_000_000], help="documents to generate (default 1,000,000); several: one run each")
    parser.add_argument("--chunk", type=int, default=None, help="documents per signing task / input part (default 20,000; synthetic 50,000)")
    parser.add_argument("--partitions", type=int, default=None, help="hash partitions (default: from the data size, distributed.partition_count)")
    parser.add_argument("--partition-memory-mb", type=int, default=None, help="memory budget per partition task (default: the manifest default)")
    parser.add_argument("--synthetic", action="store_true", help="generated signatures instead of texts (for 10^6-10^7 documents)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray")
    parser.add_argument("--object-store-gb", type=float, default=None, help="Ray object store size (default: Ray's)")
    for name in ("num_perm", "bands", "rows", "threshold"):
        parser.add_argument("--" + name.replace("_", "-"), type=float if name == "threshold" else int, default=None,
                            help=f"MinHashParams.{name} (default: the manifest default)")
    args = parser.parse_args()
    args.chunk = args.chunk or (50_000 if args.synthetic else 20_000)

    import ray

    from longtail.stages.dedup.distributed import DEFAULT_PARTITION_MEMORY_MB
    from longtail.stages.dedup.minhash import MinHashParams

    args.partition_memory_mb = args.partition_memory_mb or DEFAULT_PARTITION_MEMORY_MB
    store = int(args.object_store_gb * 2**30) if args.object_store_gb else None
    ray.init(address="local", num_cpus=args.cpus, include_dashboard=False, logging_level="WARNING", object_store_memory=store)
    params = MinHashParams(**{k: getattr(args, k) for k in ("num_perm", "bands", "rows", "threshold") if getattr(args, k) is not None})
    runs = []
    for docs in args.docs:
        runs.append(run_size(docs, args, params))
    ray.shutdown()
    if len(runs) > 1:
        print("\ngrowth (dedup phase; private memory = RssAnon, the object store's shared pages excluded)")
        print("| documents | partitions | wall s | CPU s | CPU s / 10^6 docs | peak private MiB, any worker | worst task kind "
              "| object store pages mapped by a worker, MiB | planted found |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
        for r in runs:
            print(f"| {r['docs']:,} | {r['partitions']} | {r['dedup_s']:,.0f} | {r['cpu_s']:,.0f} | {r['cpu_s'] / r['docs'] * 1e6:,.0f} | "
                  f"{r['worker_peak'] / MIB:,.0f} | {r['worst_task']} ({r['task_peak'] / MIB:,.0f}) | {r['shared_peak'] / MIB:,.0f} | {r['found']:.2%} |")


if __name__ == "__main__":
    main()

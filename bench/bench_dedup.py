"""Benchmark: MinHash + distributed LSH dedup of a generated one-language corpus on a local Ray.

    .venv/bin/python bench/bench_dedup.py --docs 1000000 --cpus 2

The corpus is synthetic but shaped like web text of a small language: pseudo-words built from CV syllables
with a Zipf frequency law, sentences of 6-22 words, document lengths log-normal (median ~300 words, clipped to
30-5,000). A share of documents are planted copies of an earlier original: exact copies (other case and
punctuation) and near copies (1 % of words replaced and one sentence dropped). Each document is a pure function
of its number, so generation runs inside the signing tasks and texts never cross the object store.

Phases: ``sign`` (generate + script-aware shingles + MinHash, what the annotate pass does) and ``dedup``
(:func:`longtail.stages.dedup.distributed.cluster_parts`). Prints documents/s per phase, the peak RSS of every Ray
worker process (sampled), cluster statistics and how many planted copies were found.
"""

from __future__ import annotations

import argparse
import math
import os
import threading
import time
from collections import Counter

import numpy as np
import pyarrow as pa

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
    """Generate documents [start, stop) and return their annotate-pass columns (no text) and peak RSS."""
    import resource

    from longtail.stages.dedup.minhash import MinHashStage

    words, cumulative = _vocabulary()
    rows = [document(i, words, cumulative) for i in range(start, stop)]
    table = pa.table(
        {
            "id": [f"d{i:07d}" for i in range(start, stop)],
            "text": [r[0] for r in rows],
            "script": ["Latn"] * len(rows),
            "lang_script": ["swa_Latn"] * len(rows),
            "n_chars": [len(r[0]) for r in rows],
            "crawl_date": ["2026-10-01"] * len(rows),
            "url": [f"https://sw.bench.test/{i}" for i in range(start, stop)],
            "planted_source": [f"d{r[2]:07d}" for r in rows],
        }
    )
    stage = MinHashStage()
    stage.setup()
    return stage(table).drop_columns(["text", "script"]), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class WorkerMemory:
    """Samples the RSS of this run's Ray worker processes (``ray::`` descendants of the driver); keeps each one's peak."""

    def __init__(self, interval: float = 0.5):
        self.interval, self.peaks, self._stop = interval, {}, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        import psutil

        while not self._stop.is_set():
            for proc in psutil.Process(os.getpid()).children(recursive=True):
                try:
                    if " ".join(proc.cmdline()).startswith("ray::"):
                        self.peaks[proc.pid] = max(self.peaks.get(proc.pid, 0), proc.memory_info().rss)
                except psutil.Error:
                    continue
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1_000_000, help="documents to generate (default 1,000,000)")
    parser.add_argument("--chunk", type=int, default=20_000, help="documents per signing task / input part")
    parser.add_argument("--partitions", type=int, default=None, help="hash partitions (default: one per 100k documents)")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs of the local Ray")
    args = parser.parse_args()

    import ray

    from longtail.pipeline.ray_backend import RayEngine
    from longtail.stages.dedup.distributed import MAX_PARTITIONS, ROWS_PER_PARTITION, cluster_parts
    from longtail.stages.dedup.minhash import MinHashParams

    ray.init(address="local", num_cpus=args.cpus, include_dashboard=False, logging_level="WARNING")
    params = MinHashParams()
    partitions = args.partitions or max(1, min(MAX_PARTITIONS, -(-args.docs // ROWS_PER_PARTITION)))
    print(f"bench_dedup: {args.docs:,} documents, chunks of {args.chunk:,}, {partitions} partitions, {args.cpus} CPUs; "
          f"num_perm={params.num_perm} bands={params.bands}x{params.rows} threshold={params.threshold}")
    sign = ray.remote(num_cpus=1, num_returns=2)(sign_chunk)
    with WorkerMemory() as memory:
        started = time.monotonic()
        outputs = [sign.remote(s, min(args.docs, s + args.chunk)) for s in range(0, args.docs, args.chunk)]
        parts = [o[0] for o in outputs]
        sign_rss = max(ray.get([o[1] for o in outputs]))
        ray.wait(parts, num_returns=len(parts))
        signed = time.monotonic()
        sign_peaks = dict(memory.peaks)
        memory.peaks.clear()
        result = cluster_parts(parts, params, partitions=partitions, engine=RayEngine())
        done = time.monotonic()
    sign_s, dedup_s = signed - started, done - signed
    print(f"sign   {sign_s:8.1f} s  {args.docs / sign_s:10,.0f} docs/s  (generate + shingle + MinHash)")
    print(f"dedup  {dedup_s:8.1f} s  {args.docs / dedup_s:10,.0f} docs/s  (banding, buckets, pairs, components, keep rule)")
    print(f"total  {sign_s + dedup_s:8.1f} s  {args.docs / (sign_s + dedup_s):10,.0f} docs/s")
    mib = 1024 * 1024
    print(f"peak RSS per worker, sign phase:  max {max(sign_peaks.values(), default=sign_rss) / mib:,.0f} MiB over {len(sign_peaks)} workers "
          f"(task-reported max {sign_rss / mib:,.0f} MiB)")
    print(f"peak RSS per worker, dedup phase: max {max(memory.peaks.values(), default=0) / mib:,.0f} MiB over {len(memory.peaks)} workers: "
          + ", ".join(f"{v / mib:,.0f}" for v in sorted(memory.peaks.values(), reverse=True)[:8]))

    sizes = Counter(result.column("dup_cluster_size").to_pylist())
    removed = sum(1 for r in result.column("dedup_reason").to_pylist() if r)
    clusters = sum(count // size for size, count in sizes.items() if size > 1)
    reasons = Counter(r for r in result.column("dedup_reason").to_pylist() if r)
    print(f"clusters: {result.num_rows:,} documents, {clusters:,} duplicate clusters, largest {max(sizes)}, "
          f"{removed:,} removed ({removed / result.num_rows:.1%}): " + ", ".join(f"{k} {v:,}" for k, v in sorted(reasons.items())))
    print("cluster sizes: " + ", ".join(f"{size}: {count // size:,}" for size, count in sorted(sizes.items())[:8]))
    planted = pa.concat_tables(ray.get(parts)).select(["id", "planted_source"]).sort_by("id")
    cluster_of = dict(zip(result.column("id").to_pylist(), result.column("dup_cluster_id").to_pylist()))
    copies = [(i, s) for i, s in zip(planted.column("id").to_pylist(), planted.column("planted_source").to_pylist()) if i != s]
    found = sum(cluster_of[i] == cluster_of[s] for i, s in copies)
    print(f"planted copies found: {found:,} of {len(copies):,} ({found / max(1, len(copies)):.2%})")
    ray.shutdown()


if __name__ == "__main__":
    main()

#!/usr/bin/env python
"""Benchmark: longtail's annotate pass vs an equivalent datatrove pipeline vs the floor, one pinned core each.

    .venv/bin/python bench/bench_annotate.py                 # N = 10,000 pages (a few minutes)
    .venv/bin/python bench/bench_annotate.py --pages 2000    # quicker
    .venv/bin/python bench/bench_annotate.py --profile       # cProfile of longtail's annotate pass, top entries

Pages are generated from the composed texts in fixtures/corpus/*.yaml (paragraphs of articles and reference
sentences recombined, wrapped in navigation, sidebars, scripts, styles and footers), written as WARC.gz files
of one gzip member per record. Every measurement runs in a child process of this one, pinned to one core with
``os.sched_setaffinity``; pairs of measurements run side by side on cores 0 and 1. Each prints docs/s (input
pages per second of wall time, model loading excluded) and its peak RSS.

  longtail            annotate_unit() with the sample manifest's stages (extract, LID, signals, KenLM,
                      classifier, MinHash, Parquet) -- what one Ray worker runs
  longtail-resiliparse  the same with stages.extract.engine = resiliparse
  datatrove           WarcReader -> Trafilatura -> LID (the same model, wrapped as a datatrove filter) ->
                      GopherRepetition -> GopherQuality -> MinhashDedupSignature -> ParquetWriter
  floor               fastwarc read + decompress + charset decoding + trafilatura (floor-resiliparse: + resiliparse)
  ray x1 / ray x2     the annotate pass on a local Ray with 1 and 2 actors (not pinned; both cores)
  targeted            a crawl where the target languages are rare, with and without the targeted fast path
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
UNITS = 8  # the crawl is written as this many WARC files (Ray needs several units to spread)


# ---------------------------------------------------------------------------------------------------------
# Page generator

def load_corpus() -> dict[str, dict]:
    import yaml

    corpus = {}
    for path in sorted((REPO / "fixtures" / "corpus").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        paragraphs = [p for article in data["articles"] for p in article["paragraphs"]]
        titles = [article["title"] for article in data["articles"]]
        corpus[data["lang_script"]] = {"paragraphs": paragraphs, "titles": titles, "sentences": data["reference"],
                                       "nav": data["nav"], "footer": data["footer"], "site": data["site"]}
    return corpus


STYLE = "<style>body{font-family:sans-serif;margin:0}nav a{padding:4px}.sidebar{float:right;width:30%}</style>"
SCRIPT = "<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}gtag('js',new Date());</script>"


def make_page(rng: random.Random, lang: dict, index: int) -> str:
    """One news-site page: boilerplate around 4-9 paragraphs recombined from the language's texts."""
    paragraphs = []
    for _ in range(rng.randint(4, 9)):
        if rng.random() < 0.4:
            paragraphs.append(rng.choice(lang["paragraphs"]))
        else:
            paragraphs.append(" ".join(rng.sample(lang["sentences"], k=min(len(lang["sentences"]), rng.randint(2, 5)))))
    title = f"{rng.choice(lang['titles'])} ({index})"
    nav = "".join(f'<li><a href="/{i}">{word}</a></li>' for i, word in enumerate(lang["nav"]))
    related = "".join(f'<li><a href="/a/{rng.randrange(10**6)}">{rng.choice(lang["titles"])}</a></li>' for _ in range(5))
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title}</title>{STYLE}{SCRIPT}</head><body>'
        f'<header><div class="logo">{lang["site"]}</div><nav><ul>{nav}</ul></nav></header>'
        f'<div class="cookie">{lang["nav"][0]} · OK</div>'
        f'<main><article><h1>{title}</h1><div class="byline">2026-11-{1 + index % 28:02d}</div>{body}</article>'
        f'<aside class="sidebar"><h3>{lang["nav"][1]}</h3><ul>{related}</ul></aside></main>'
        f'<footer><ul>{nav}</ul><p>{lang["footer"]}</p></footer>{SCRIPT}</body></html>'
    )


def write_crawl(folder: Path, pages: int, seed: int, weights: dict[str, float] | None = None) -> list[Path]:
    """``pages`` HTML responses over ``UNITS`` WARC.gz files; ``weights`` picks the languages (default uniform)."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    marker = folder / "crawl.json"
    spec = {"pages": pages, "seed": seed, "weights": weights}
    if marker.is_file() and json.loads(marker.read_text()) == spec:
        return sorted(folder.glob("*.warc.gz"))
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.warc.gz"):
        old.unlink()
    corpus = load_corpus()
    labels = sorted(corpus)
    probabilities = [(weights or {}).get(label, 0.0 if weights else 1.0) for label in labels]
    rng = random.Random(seed)
    paths = [folder / f"bench-{unit:02d}.warc.gz" for unit in range(UNITS)]
    handles = [open(path, "wb") for path in paths]
    writers = [WARCWriter(handle, gzip=True) for handle in handles]
    for index in range(pages):
        label = rng.choices(labels, probabilities)[0]
        html = make_page(rng, corpus[label], index).encode("utf-8")
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        url = f"https://{corpus[label]['site']}/news/{index}"
        record = writers[index % UNITS].create_warc_record(url, "response", payload=io.BytesIO(html), http_headers=headers,
                                                            warc_headers_dict={"WARC-Date": "2026-11-01T00:00:00Z"})
        writers[index % UNITS].write_record(record)
    for handle in handles:
        handle.close()
    marker.write_text(json.dumps(spec))
    return paths


# ---------------------------------------------------------------------------------------------------------
# Measurements (each runs in a child process)

def bench_manifest(models: Path, output: Path, engine: str = "trafilatura", languages: list[str] | None = None, prefilter: bool = False):
    from longtail.pipeline.manifest import ExtractSettings, QualitySettings, load_manifest

    manifest = load_manifest(REPO / "manifests" / "sample.yaml")
    manifest = replace(manifest, output=str(output), quality=QualitySettings(str(models / "kenlm"), str(models / "quality" / "classifier.bin")),
                       extract=replace(ExtractSettings(), engine=engine, target_prefilter=prefilter), languages=languages)
    return manifest


def run_longtail(files: list[Path], work: Path, models: Path, engine: str = "trafilatura", languages=None, prefilter=False) -> tuple[float, int]:
    from longtail.pipeline.annotate import annotate_unit, build_stages

    manifest = bench_manifest(models, work / "out", engine, languages, prefilter)
    stages = build_stages(manifest)
    for stage in stages:
        stage.setup()
    clock = Clock()
    documents = sum(annotate_unit(manifest, stages, str(path)).documents for path in files)
    return clock.stop(), documents


def run_datatrove(files: list[Path], work: Path, models: Path) -> tuple[float, int]:
    from datatrove.data import Document
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter
    from datatrove.pipeline.filters.base_filter import BaseFilter
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers import ParquetWriter

    from longtail.langid.ensemble import make_identifier

    manifest = bench_manifest(models, work / "unused")

    class SameModelLanguageFilter(BaseFilter):
        """datatrove's LanguageFilter downloads its models; this wraps longtail's (local) LID model instead."""

        name = "language id (longtail's model)"

        def __init__(self):
            super().__init__()
            self.identifier = make_identifier(manifest.identify.backend, manifest.identify.model_path, manifest.identify.macro_policy)
            self.identifier.setup()

        def filter(self, doc: Document) -> bool:
            (result,) = self.identifier.identify([doc.text])
            doc.metadata["language"] = result.label
            doc.metadata["language_score"] = result.score
            return result.lang not in ("und", "zxx")

    class MinhashSignaturePassThrough(MinhashDedupSignature):
        """MinhashDedupSignature's per-document work (shingles + signature) without ending the pipeline, so
        the documents go on to the Parquet writer as in longtail (which stores the signature with each row)."""

        def run(self, data, rank: int = 0, world_size: int = 1):
            for doc in data:
                doc.metadata["minhash"] = [int(h) for bucket in self.get_signature(self.get_shingles(doc.text)) for h in bucket]
                yield doc

    steps = [
        WarcReader(str(files[0].parent), glob_pattern="*.warc.gz"),
        Trafilatura(favour_precision=True, timeout=30),
        SameModelLanguageFilter(),
        GopherRepetitionFilter(),
        # English stop words would drop every non-English page; the other Gopher rules stay on.
        GopherQualityFilter(min_stop_words=None),
        MinhashSignaturePassThrough(str(work / "datatrove-sigs"), config=MinhashConfig()),
        ParquetWriter(str(work / "datatrove-out")),
    ]
    clock = Clock()
    data = None
    for step in steps:  # datatrove steps are generators chained in one process, as LocalPipelineExecutor does
        data = step(data, rank=0, world_size=1)
    for _ in data:
        pass
    return clock.stop(), -1


def run_floor(files: list[Path], engine: str) -> tuple[float, int]:
    from longtail.stages.extract import decode_html, extract_main_text
    from longtail.stages.read import ReadReport, read_warc

    extract_main_text("<html><body><p>warm up</p></body></html>", engine)
    clock = Clock()
    documents = 0
    for path in files:
        for batch in read_warc(str(path), ReadReport()):
            for html, content_type in zip(batch.column("html").to_pylist(), batch.column("content_type").to_pylist()):
                if engine != "none":
                    text, _ = decode_html(html, content_type)
                    extract_main_text(text, engine)
                documents += 1
    return clock.stop(), documents


def run_ray(files: list[Path], work: Path, models: Path, workers: int) -> tuple[float, int]:
    from longtail.pipeline import ray_backend

    manifest = bench_manifest(models, work / "out")
    ray_backend.connect(None, num_cpus=2)
    clock = Clock()
    finished = [(time.perf_counter(), row["documents"]) for row in ray_backend.annotate_units(manifest, [str(p) for p in files], workers)]
    wall, _ = clock.stop()
    # Steady state: after each actor has finished its first unit (actor start and model loading excluded).
    (start, _), later = finished[workers - 1], finished[workers:]
    steady = sum(docs for _, docs in later) / (finished[-1][0] - start) if later else float("nan")
    return (wall, float("nan")), {"documents": sum(docs for _, docs in finished), "steady_docs_per_s": steady}


def cpu_seconds() -> float:
    """CPU time of this process and its reaped children (datatrove extracts in a child process)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Clock:
    """Wall and CPU seconds since creation (started after model loading)."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), cpu_seconds()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, cpu_seconds() - self.cpu


def child(args) -> None:
    if args.core is not None:
        os.sched_setaffinity(0, {args.core})
    files = sorted(Path(args.crawl).glob("*.warc.gz"))
    work, models = Path(args.work), Path(args.models)
    name = args.child
    if name == "longtail":
        seconds, docs = run_longtail(files, work, models)
    elif name == "longtail-resiliparse":
        seconds, docs = run_longtail(files, work, models, engine="resiliparse")
    elif name == "datatrove":
        seconds, docs = run_datatrove(files, work, models)
    elif name.startswith("floor"):
        seconds, docs = run_floor(files, {"floor": "trafilatura", "floor-resiliparse": "resiliparse", "floor-read": "none"}[name])
    elif name.startswith("ray"):
        seconds, docs = run_ray(files, work, models, int(name[-1]))
    elif name.startswith("targeted"):
        targets = args.targets.split(",")
        seconds, docs = run_longtail(files, work, models, languages=targets, prefilter=name == "targeted-fast")
    else:
        raise SystemExit(f"unknown measurement {name}")
    peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    wall, cpu = seconds
    extra = docs if isinstance(docs, dict) else {"documents": docs}
    print(json.dumps({"name": name, "seconds": wall, "cpu_seconds": cpu, **extra, "peak_rss_mb": round(peak_kb / 1024)}))


def spawn(name: str, crawl: Path, work: Path, models: Path, core: int | None, targets: str = "") -> subprocess.Popen:
    work = work / name
    work.mkdir(parents=True, exist_ok=True)
    for stale in list(work.rglob("*")):
        if stale.is_file():
            stale.unlink()
    command = [sys.executable, __file__, "--child", name, "--crawl", str(crawl), "--work", str(work), "--models", str(models), "--targets", targets]
    if core is not None:
        command += ["--core", str(core)]
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", PYTHONWARNINGS="ignore")
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def child_result(process: subprocess.Popen) -> dict:
    """The last JSON line a measuring child process printed; exits with its stderr if it failed."""
    out, err = process.communicate()
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if process.returncode or not lines:
        raise SystemExit(f"measurement failed ({process.returncode}):\n{err[-4000:]}")
    return json.loads(lines[-1])


def collect(process: subprocess.Popen, pages: int) -> dict:
    result = child_result(process)
    result["docs_per_s"] = pages / result["seconds"]
    result["docs_per_cpu_s"] = pages / max(result["cpu_seconds"], 1e-9) if result["cpu_seconds"] == result["cpu_seconds"] else float("nan")
    if "steady_docs_per_s" in result:  # Ray: workers are other processes; no CPU time or RSS of theirs here
        print(f"  {result['name']:<22} {result['docs_per_s']:>8.1f} docs/s wall incl. actor start  "
              f"{result['steady_docs_per_s']:>8.1f} docs/s steady  {result['seconds']:>7.1f} s", flush=True)
        return result
    print(f"  {result['name']:<22} {result['docs_per_s']:>8.1f} docs/s wall  {result['docs_per_cpu_s']:>8.1f} docs/CPU-s  "
          f"{result['seconds']:>7.1f} s  peak RSS {result['peak_rss_mb']:>5} MB", flush=True)
    return result


def side_by_side(names: list[str], crawl: Path, work: Path, models: Path, pages: int, targets: str = "") -> list[dict]:
    processes = [spawn(name, crawl, work, models, core % os.cpu_count(), targets) for core, name in enumerate(names)]
    return [collect(p, pages) for p in processes]


def ensure_models(models: Path) -> None:
    from longtail.pipeline.models import train_default_classifier, train_kenlm_folder

    train_kenlm_folder(REPO / "data" / "reference", models / "kenlm", log=lambda *_: None)
    train_default_classifier(REPO / "data" / "quality" / "train.jsonl", models / "quality" / "classifier.bin", log=lambda *_: None)


def profile(crawl: Path, work: Path, models: Path, top: int = 25) -> None:
    import cProfile
    import pstats

    import shutil

    shutil.rmtree(work / "profile", ignore_errors=True)  # finished units would be skipped (resume)
    profiler = cProfile.Profile()
    profiler.enable()
    (seconds, _), docs = run_longtail(sorted(crawl.glob("*.warc.gz")), work / "profile", models)
    profiler.disable()
    print(f"profile: {docs} documents in {seconds:.1f} s")
    stats = pstats.Stats(profiler)
    print("per stage (cumulative):")
    stats.sort_stats("cumulative").print_stats(r"(stages/\w+\.py.*__call__|annotate\.py.*annotate_unit|read\.py.*read_warc)")
    print(f"top {top} functions by own time:")
    stats.sort_stats("tottime").print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=10_000, help="pages in the generated crawl (default 10,000)")
    parser.add_argument("--ray-pages", type=int, default=2_000, help="pages for the Ray 1-vs-2-workers measurement (default 2,000)")
    parser.add_argument("--ray-repeat", type=int, default=3, help="alternations of the 1- and 2-actor Ray runs (default 3)")
    parser.add_argument("--targeted-pages", type=int, default=3_000, help="pages of the rare-target crawl (default 3,000)")
    parser.add_argument("--targets", default="yor_Latn,que_Latn", help="target languages of the targeted measurement")
    parser.add_argument("--work", default="/tmp/longtail-bench", help="scratch folder (crawls and models are cached here)")
    parser.add_argument("--only", default="", help="comma-separated subset: main,floor,resiliparse,ray,targeted")
    parser.add_argument("--profile", action="store_true", help="profile longtail's annotate pass instead of benchmarking")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--crawl", help=argparse.SUPPRESS)
    parser.add_argument("--models", help=argparse.SUPPRESS)
    parser.add_argument("--core", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return 0

    work = Path(args.work)
    models = work / "models"
    started = time.perf_counter()
    ensure_models(models)
    crawl = work / f"crawl-{args.pages}"
    write_crawl(crawl, args.pages, seed=7)
    print(f"crawl: {args.pages} pages, {sum(p.stat().st_size for p in crawl.glob('*.warc.gz')) / 1e6:.1f} MB in {UNITS} WARC.gz files ({crawl})")
    if args.profile:
        profile(crawl, work, models)
        return 0
    only = set(filter(None, args.only.split(","))) or {"main", "floor", "resiliparse", "ray", "targeted"}
    results = {}
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start (other jobs may share the cores)")
    if "main" in only:
        print("longtail vs datatrove, side by side on cores 0 and 1:")
        for r in side_by_side(["longtail", "datatrove"], crawl, work, models, args.pages):
            results[r["name"]] = r
    if "floor" in only:
        print("floor, side by side:")
        for r in side_by_side(["floor", "floor-resiliparse"], crawl, work, models, args.pages):
            results[r["name"]] = r
    if "resiliparse" in only:
        print("longtail with stages.extract.engine = resiliparse:")
        for r in side_by_side(["longtail-resiliparse", "floor-read"], crawl, work, models, args.pages):
            results[r["name"]] = r
    if "ray" in only:
        ray_crawl = work / f"crawl-{args.ray_pages}"
        write_crawl(ray_crawl, args.ray_pages, seed=11)
        print(f"local Ray, {args.ray_pages} pages, 1 and 2 annotate actors (both cores), alternated {args.ray_repeat}x, best kept:")
        for _ in range(args.ray_repeat):  # other jobs on a shared machine come and go: alternate, keep the best
            for name in ("ray1", "ray2"):
                result = collect(spawn(name, ray_crawl, work, models, None), args.ray_pages)
                if name not in results or result["steady_docs_per_s"] > results[name]["steady_docs_per_s"]:
                    results[name] = result
    if "targeted" in only:
        targets = args.targets.split(",")
        weights = {label: (0.13 if label in targets else 1.0) for label in load_corpus()}  # ~1% each
        rare = work / f"crawl-rare-{args.targeted_pages}"
        write_crawl(rare, args.targeted_pages, seed=13, weights=weights)
        share = sum(weights[t] for t in targets) / sum(weights.values())
        print(f"targeted run (keep {','.join(targets)}: ~{100 * share:.1f}% of {args.targeted_pages} pages), side by side:")
        for r in side_by_side(["targeted-full", "targeted-fast"], rare, work, models, args.targeted_pages, args.targets):
            results[r["name"]] = r

    def ratio(a, b):
        if a not in results or b not in results:
            return "n/a"
        return f"{results[a]['docs_per_s'] / results[b]['docs_per_s']:.2f} wall, {results[a]['docs_per_cpu_s'] / results[b]['docs_per_cpu_s']:.2f} CPU"

    print("ratios:")
    print(f"  longtail / datatrove             {ratio('longtail', 'datatrove')}   (target >= 2)")
    print(f"  floor / longtail (cost vs floor) {ratio('floor', 'longtail')}   (target <= 3)")
    print(f"  longtail-resiliparse / longtail  {ratio('longtail-resiliparse', 'longtail')}")
    print(f"  longtail-resiliparse / datatrove {ratio('longtail-resiliparse', 'datatrove')}")
    print(f"  floor-resiliparse / longtail-resiliparse {ratio('floor-resiliparse', 'longtail-resiliparse')}")
    if "ray1" in results and "ray2" in results:
        print(f"  ray x2 / ray x1                  {results['ray2']['docs_per_s'] / results['ray1']['docs_per_s']:.2f} wall incl. actor start, "
              f"{results['ray2']['steady_docs_per_s'] / results['ray1']['steady_docs_per_s']:.2f} steady   (target >= 1.7)")
    print(f"  targeted fast path speed-up      {ratio('targeted-fast', 'targeted-full')}")
    (work / "results.json").write_text(json.dumps(results, indent=2))
    print(f"total {time.perf_counter() - started:.0f} s; results in {work / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

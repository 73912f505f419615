"""Incremental dedup through the real pipeline: crawl 1 is run and indexed, crawl 2 runs against that index."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from longtail.pipeline.cli.main import main as cli_main
from longtail.pipeline.manifest import QualitySettings, load_manifest
from longtail.pipeline.run import run

REPO = Path(__file__).resolve().parents[2]


def _rows(folder: Path) -> list[dict]:
    tables = [pq.read_table(p) for p in sorted(folder.glob("lang_script=*/part-*.parquet"))]
    return pa.concat_tables(tables, promote_options="default").to_pylist() if tables else []


def test_second_crawl_removes_exactly_the_cross_crawl_duplicates(ray_local, make_warc, article_html, tmp_path):
    corpus = yaml.safe_load((REPO / "fixtures" / "corpus" / "swa_Latn.yaml").read_text(encoding="utf-8"))
    articles = [a["paragraphs"] for a in corpus["articles"]]
    reference = corpus["reference"]
    new_page = [" ".join(reference[i : i + 5]) for i in range(0, 20, 5)]
    other_page = [" ".join(reference[i : i + 5]) for i in range(20, 40, 5)]
    edited = list(articles[0])
    edited[1] = edited[1].replace(" ", " leo ", 1)  # one word added: a near duplicate

    def page(paragraphs, title="Habari"):
        return article_html(paragraphs, title=title).encode()

    crawl1 = make_warc([(f"https://sw.test/a{k}", page(articles[k])) for k in range(3)], name="crawl1.warc.gz")
    crawl2 = make_warc(
        [
            ("https://sw.test/b0", page(edited)),  # near duplicate of a0
            ("https://sw.test/print/b1", page(articles[1], title="Chapisha")),  # same text as a1
            ("http://www.sw.test/a2", page(other_page)),  # a2's URL re-crawled with other text
            ("https://sw.test/b3", page(new_page)),  # new
            ("https://sw.test/b3-copy", page(new_page)),  # a copy within crawl 2
        ],
        name="crawl2.warc.gz",
    )
    base = load_manifest(REPO / "manifests" / "sample.yaml")
    thresholds = replace(base.thresholds, max_perplexity=None, min_quality_score=None)
    index = tmp_path / "index"

    def job(crawl, name, previous_index=None):
        return replace(base, name=name, inputs=[str(crawl)], output=str(tmp_path / name), quality=QualitySettings(None, None),
                       thresholds=thresholds, dedup=replace(base.dedup, previous_index=previous_index))

    first = job(crawl1, "first")
    run(first, workers=1, progress=False)
    kept1 = {r["url"]: r["id"] for r in _rows(tmp_path / "first" / "dataset")}
    assert set(kept1) == {f"https://sw.test/a{k}" for k in range(3)}

    manifest_path = tmp_path / "first.yaml"
    manifest_path.write_text(yaml.safe_dump({"name": "first", "inputs": [str(crawl1)], "output": str(tmp_path / "first")}))
    assert cli_main(["dedup-index", "build", str(manifest_path), "--index", str(index), "--release", "r1"]) == 0

    run(job(crawl2, "second", str(index)), workers=1, progress=False)
    kept2 = {r["url"] for r in _rows(tmp_path / "second" / "dataset")}
    removed = {r["url"]: r for r in _rows(tmp_path / "second" / "removed")}
    previous = {url: r["duplicate_of"] for url, r in removed.items() if r["drop_reason"] == "dedup:previous_release"}
    assert previous == {
        "https://sw.test/b0": kept1["https://sw.test/a0"],
        "https://sw.test/print/b1": kept1["https://sw.test/a1"],
        "http://www.sw.test/a2": kept1["https://sw.test/a2"],
    }
    assert kept2 == {"https://sw.test/b3"} and removed["https://sw.test/b3-copy"]["drop_reason"] == "dedup:exact"
    assert set(removed) == {"https://sw.test/b0", "https://sw.test/print/b1", "http://www.sw.test/a2", "https://sw.test/b3-copy"}

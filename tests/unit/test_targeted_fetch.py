"""Targeted fetch: a Common Crawl-style index of the sample crawl (built by scripts/make_cc_index.py), DuckDB
selection, byte-range reads through fsspec -> exactly the documents a full scan selects for those languages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from longtail.pipeline.cli.main import main as cli_main
from longtail.pipeline.tools.targeted import IndexRecord, fetch_record, language_codes, select_records
from longtail.stages.read import ReadReport, read_unit

TARGETS = ["yor_Latn", "uig_Arab", "que_Latn", "lao_Laoo"]


@pytest.fixture(scope="module")
def crawl(repo) -> list[Path]:
    return sorted((repo / "data" / "sample" / "crawl").glob("*.warc.gz"))


@pytest.fixture(scope="module")
def ground_truth(repo) -> dict[str, str | None]:
    rows = [json.loads(line) for line in (repo / "data" / "sample" / "ground_truth.jsonl").read_text().splitlines() if line.strip()]
    return {row["url"]: row["lang_script"] for row in rows}


@pytest.fixture(scope="module")
def cc_index(repo, crawl, tmp_path_factory) -> Path:
    output = tmp_path_factory.mktemp("cc-index") / "crawl=CC-SAMPLE" / "part-00000.parquet"
    result = subprocess.run([sys.executable, str(repo / "scripts" / "make_cc_index.py"), *map(str, crawl),
                             "--ground-truth", str(repo / "data" / "sample" / "ground_truth.jsonl"), "--output", str(output)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return output


def documents(path: Path) -> list[dict]:
    report = ReadReport()
    rows = [row for batch in read_unit(str(path), report) for row in batch.to_pylist()]
    return rows


def test_index_offsets_point_at_the_records(cc_index, crawl, ground_truth):
    import duckdb

    rows = duckdb.sql(f"SELECT warc_filename, warc_record_offset, warc_record_length, url FROM '{cc_index}'").fetchall()
    assert len(rows) == len(ground_truth)  # one row per response record of the sample crawl
    by_name = {p.name: p for p in crawl}
    for name, offset, length, url in rows[:20]:
        import gzip

        with open(by_name[name], "rb") as handle:
            handle.seek(offset)
            record = gzip.decompress(handle.read(length))
        assert record.startswith(b"WARC/1.") and f"WARC-Target-URI: {url}".encode() in record


def test_targeted_fetch_returns_exactly_what_a_full_scan_selects(cc_index, crawl, ground_truth, tmp_path, capsys):
    # Full scan: every document of every WARC, kept when its language is a target.
    full = [doc for warc in crawl for doc in documents(warc)]
    expected = {doc["id"]: doc for doc in full if ground_truth.get(doc["url"]) in TARGETS}
    assert len(expected) >= 12 and {ground_truth[d["url"]] for d in expected.values()} == set(TARGETS)

    output = tmp_path / "selected.warc.gz"
    assert cli_main(["targeted-fetch", "--index", str(cc_index.parent / "*.parquet"), "--languages", ",".join(TARGETS),
                     "--warc-prefix", str(crawl[0].parent) + "/", "--output", str(output), "--quiet"]) == 0
    got = {doc["id"]: doc for doc in documents(output)}
    assert set(got) == set(expected)
    for doc_id, doc in got.items():
        for field in ("url", "warc_record_id", "crawl_date", "content_type", "html"):
            assert doc[field] == expected[doc_id][field], (doc["url"], field)

    # Only the selected records' bytes were read, and the sidecar maps each back to its original place.
    total = sum(p.stat().st_size for p in crawl)
    assert output.stat().st_size < total / 3
    origin = {row["offset"]: row for row in map(json.loads, Path(str(output) + ".index.jsonl").read_text().splitlines())}
    for doc in got.values():
        source = origin[doc["warc_offset"]]
        assert (source["warc_filename"], source["warc_record_offset"]) == (expected[doc["id"]]["source_file"], expected[doc["id"]]["warc_offset"])


def test_selection_rules(cc_index):
    import duckdb

    selected = select_records(str(cc_index), ["que_Latn"])
    assert selected and all(r.content_languages.split(",")[0] == "que" for r in selected)
    excluded = duckdb.sql(f"SELECT count(*) FROM '{cc_index}' WHERE content_languages = 'que' AND NOT (fetch_status = 200)").fetchall()[0][0]
    assert len(selected) == duckdb.sql(f"SELECT count(*) FROM '{cc_index}' WHERE content_languages = 'que'").fetchall()[0][0] - excluded
    assert select_records(str(cc_index), ["que_Latn"], limit=2) == selected[:2]
    assert select_records(str(cc_index), ["zul_Latn"]) == []
    assert "swh" in language_codes(["swa_Latn"]) and "swa" in language_codes(["swh"]) and language_codes(["yo"]) == ["yor"]


def test_a_stale_index_entry_is_reported_not_silently_fetched(cc_index, crawl):
    record = select_records(str(cc_index), ["yor_Latn"])[0]
    shifted = IndexRecord(record.url, record.warc_filename, record.warc_record_offset + 7, record.warc_record_length, record.content_languages)
    with pytest.raises(ValueError, match="gzip member"):
        fetch_record(shifted, str(crawl[0].parent) + "/")
    assert fetch_record(record, "file://" + str(crawl[0].parent) + "/")[:2] == b"\x1f\x8b"  # fsspec URL prefixes work too



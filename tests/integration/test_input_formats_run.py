"""The whole job (the session's Ray) over every input format of scripts/make_format_inputs.py, with the bad inputs
skipped and one input file that fails while read: the other files finish and are written, the failure is in
stats/errors.jsonl with its traceback, the run raises naming the failed file, and a rerun retries only it."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import replace

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from longtail.pipeline.manifest import QualitySettings, load_manifest
from longtail.pipeline.run import InputsFailed, reselect, run
from longtail.pipeline.runfolder import RunFolder
from longtail.tests.support import load_script


def _documents(output) -> list[dict]:
    rows = []
    for folder in ("dataset", "removed"):
        for part in sorted((output / folder).glob("lang_script=*/part-*.parquet")):
            rows += [dict(r, folder=folder) for r in pq.read_table(part, columns=["url", "source_file", "drop_reason"]).to_pylist()]
    return rows


@pytest.fixture(scope="module")
def formats_run(repo, ray_local, tmp_path_factory):
    generator = load_script(repo, "make_format_inputs")
    inputs = tmp_path_factory.mktemp("format-inputs")
    expected = generator.build_format_suite(inputs)
    output = tmp_path_factory.mktemp("format-out")
    names = sorted(expected["files"]) + sorted(expected["refused"]) + expected["fails"]
    manifest = replace(
        load_manifest(repo / "manifests" / "sample.yaml"),
        inputs=[str(inputs / name) for name in names],
        output=str(output),
        quality=QualitySettings(),  # no KenLM or classifier: what is tested here is reading and isolation
    )
    with pytest.raises(InputsFailed) as failed:
        run(manifest, progress=False, skip_bad_inputs=True)
    first = {
        "failed": failed.value,
        "rows": _documents(output),
        "errors": [json.loads(line) for line in (output / "stats" / "errors.jsonl").read_text().splitlines() if line.strip()],
        "run_info": json.loads((output / "stats" / "run.json").read_text()),
        "records": json.loads((output / "stats" / "records.json").read_text()),
    }
    # `longtail select` on a copy of this run: the failed and the refused inputs have no annotations to read
    reselected = tmp_path_factory.mktemp("format-out-reselected")
    shutil.copytree(output, reselected, dirs_exist_ok=True)
    reselect(replace(manifest, output=str(reselected)), progress=False)
    first["reselected_errors"] = [json.loads(line) for line in (reselected / "stats" / "errors.jsonl").read_text().splitlines() if line.strip()]
    first["reselected_info"] = json.loads((reselected / "stats" / "run.json").read_text())
    folder = RunFolder(output)
    done_before = {name: folder.unit_files(str(inputs / name))[1].stat().st_mtime_ns for name in expected["files"]}
    # the damaged file is replaced by a good copy (a re-download); the rerun must annotate only it
    fixed_rows = [{"id": f"fixed-{n}", "text": " ".join(generator.ENGLISH[n][1]), "url": f"https://fixed.example.test/{n}"} for n in range(3)]
    pq.write_table(pa.Table.from_pylist(fixed_rows), inputs / expected["fails"][0])
    second = run(manifest, progress=False, skip_bad_inputs=True)
    done_after = {name: folder.unit_files(str(inputs / name))[1].stat().st_mtime_ns for name in expected["files"]}
    return {
        "expected": expected,
        "inputs": inputs,
        "output": output,
        "first": first,
        "second": second,
        "done_before": done_before,
        "done_after": done_after,
        "fixed_urls": [r["url"] for r in fixed_rows],
        "rerun_rows": _documents(output),
        "rerun_info": json.loads((output / "stats" / "run.json").read_text()),
    }


def test_every_format_yields_its_pages_once(formats_run):
    expected, rows = formats_run["expected"], formats_run["first"]["rows"]
    by_url = Counter(r["url"] for r in rows)
    for name, spec in expected["files"].items():
        for url in spec["documents"]:
            if url is None:  # ClueWeb09's URL of raw EUC-JP bytes, percent-encoded
                assert sum(n for u, n in by_url.items() if u.startswith(spec["raw_url_prefix"])) == 1
            else:
                assert by_url[url] == 1, f"{name}: {url} came out {by_url[url]} times"
    assert all(r["drop_reason"] for r in rows if r["folder"] == "removed")
    assert not [r for r in rows if r["drop_reason"] in ("extract:error", "extract:timeout")]
    kept_sources = {r["source_file"] for r in rows if r["folder"] == "dataset"}
    assert {"cc.warc.wet.gz", "00.warc.gz", "ia_v1.arc.gz"} <= kept_sources  # WET, ClueWeb09 and ARC pages reach the dataset


def test_the_failed_file_is_recorded_with_its_traceback(formats_run):
    first, inputs = formats_run["first"], formats_run["inputs"]
    failed_path = str(inputs / "corrupt_page.parquet")
    assert list(first["failed"].failed) == [failed_path]
    assert failed_path in str(first["failed"]) and "retry only these" in str(first["failed"])
    [error] = [e for e in first["errors"] if e["reason"] == "input_failed"]
    assert error["input"] == failed_path and "Traceback" in error["traceback"] and "thrift" in error["traceback"]
    assert first["run_info"]["failed_inputs"] == {failed_path: error["detail"]}
    assert failed_path not in first["run_info"]["inputs"]


def test_reselecting_keeps_the_failed_and_refused_inputs_in_the_stats(formats_run):
    """`longtail select` reads only annotations; the inputs the run failed on or refused have none, and stay listed
    (from the last run's stats), the failed one with its traceback."""
    first = formats_run["first"]
    assert first["reselected_errors"] == first["errors"]
    assert first["reselected_info"]["failed_inputs"] == first["run_info"]["failed_inputs"] != {}
    assert first["reselected_info"]["refused_inputs"] == first["run_info"]["refused_inputs"] != {}


def test_skipped_bad_inputs_are_in_the_stats(formats_run):
    expected, first, inputs = formats_run["expected"], formats_run["first"], formats_run["inputs"]
    refused = first["run_info"]["refused_inputs"]
    assert set(refused) == {str(inputs / name) for name in expected["refused"]}
    for name, word in expected["refused"].items():
        assert word.lower() in refused[str(inputs / name)].lower()
    assert {e["file"] for e in first["errors"] if e["reason"] == "input_refused"} == set(expected["refused"])
    assert first["records"].get("text_record", 0) >= 9  # WET records + JSONL + Parquet rows


def test_a_rerun_retries_only_the_failed_file(formats_run):
    assert formats_run["done_after"] == formats_run["done_before"]  # finished files were not annotated again
    assert formats_run["rerun_info"]["failed_inputs"] == {}
    by_url = Counter(r["url"] for r in formats_run["rerun_rows"])
    assert all(by_url[url] == 1 for url in formats_run["fixed_urls"])
    assert len(formats_run["rerun_rows"]) == len(formats_run["first"]["rows"]) + 3

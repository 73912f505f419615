"""The whole job (real local Ray) over the hostile-input suite of scripts/make_hostile_inputs.py.

The run must complete; every bad record must be counted under its reason in stats/records.json and listed
with its file, offset and reason in stats/errors.jsonl; every good record must come out as exactly one
document, in dataset/ or in removed/ with a drop reason. The files that are no archive at all (0 bytes, plain
text) are refused before the run; with ``--skip-bad-inputs`` (``skip_bad_inputs=True``) they are listed in
stats/run.json and stats/errors.jsonl (``input_refused``) instead of being read.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import replace

import pyarrow.parquet as pq
import pytest

from longtail.pipeline.manifest import QualitySettings, load_manifest
from longtail.pipeline.run import reselect, run
from longtail.tests.support import load_script

READ_REASONS = ("malformed", "non_html", "too_large", "non_200")
REFUSED = {"empty.warc.gz", "not_warc_text.warc.gz", "not_warc_plain.warc"}  # no archive at all: refused before the run


@pytest.fixture(scope="module")
def hostile_run(repo, ray_local, trained_models, tmp_path_factory):
    generator = load_script(repo, "make_hostile_inputs")
    inputs = tmp_path_factory.mktemp("hostile-inputs")
    expected = generator.build_hostile_suite(inputs)
    output = tmp_path_factory.mktemp("hostile-out")
    manifest = replace(
        load_manifest(repo / "manifests" / "sample.yaml"),
        inputs=[str(inputs / name) for name in sorted(expected["files"])],
        output=str(output),
        quality=QualitySettings(str(trained_models / "kenlm"), str(trained_models / "quality" / "classifier.bin")),
    )
    result = run(manifest, progress=False, skip_bad_inputs=True)
    rows = []
    for folder in ("dataset", "removed"):
        for part in sorted((output / folder).glob("lang_script=*/part-*.parquet")):
            rows += [dict(r, folder=folder) for r in pq.read_table(part, columns=["url", "source_file", "drop_reason"]).to_pylist()]
    errors = [json.loads(line) for line in (output / "stats" / "errors.jsonl").read_text().splitlines() if line.strip()]
    records = json.loads((output / "stats" / "records.json").read_text())
    refused = {name: spec for name, spec in expected["files"].items() if name in REFUSED}
    files = {name: spec for name, spec in expected["files"].items() if name not in REFUSED}
    run_info = json.loads((output / "stats" / "run.json").read_text())
    return files, dict(result, refused=refused, run_info=run_info, manifest=manifest, output=output), rows, errors, records


def test_files_that_are_no_archive_are_refused_and_listed(hostile_run):
    _, result, _, errors, _ = hostile_run
    refused = {name.rsplit("/", 1)[-1] for name in result["run_info"]["refused_inputs"]}
    assert refused == REFUSED
    assert {e["file"] for e in errors if e["reason"] == "input_refused"} == REFUSED
    assert result["run_info"]["failed_inputs"] == {}
    assert "empty_gzip.warc.gz" not in refused  # a valid empty gzip is an empty archive: read, nothing to report


def test_a_run_resumed_after_a_crash_lists_the_errors_as_the_uninterrupted_run_does(hostile_run, tmp_path):
    """errors.jsonl is ordered by input file, not by the order the files finished: a resumed run reads its finished
    files' done records first and annotates the lost one last, and must still write the same file."""
    _, result, _, errors, _ = hostile_run
    with_errors = sorted({e["file"] for e in errors if e["reason"] in READ_REASONS})
    assert len(with_errors) >= 2  # else any order is the same
    copy = tmp_path / "out"
    shutil.copytree(result["output"], copy)
    # the crash: the first input with errors lost its annotation; the rerun reads the others first and annotates it last
    (done,) = (copy / "annotated").glob(f"{with_errors[0]}-*.done.json")
    done.unlink()
    run(replace(result["manifest"], output=str(copy)), progress=False, skip_bad_inputs=True)
    assert (copy / "stats" / "errors.jsonl").read_text() == (result["output"] / "stats" / "errors.jsonl").read_text()


def test_reselecting_keeps_the_refused_inputs_in_the_stats(hostile_run, tmp_path):
    """`longtail select` reads only annotations, and refused inputs have none: it takes them from the last run's
    stats, so that run.json and errors.jsonl still say which inputs were left out and why."""
    _, result, _, _, _ = hostile_run
    copy = tmp_path / "out"
    shutil.copytree(result["output"], copy)
    reselect(replace(result["manifest"], output=str(copy)), progress=False)
    assert (copy / "stats" / "errors.jsonl").read_text() == (result["output"] / "stats" / "errors.jsonl").read_text()
    run_info = json.loads((copy / "stats" / "run.json").read_text())
    assert run_info["refused_inputs"] == result["run_info"]["refused_inputs"] and len(run_info["refused_inputs"]) == len(REFUSED)
    assert run_info["failed_inputs"] == {}


def test_every_bad_record_is_listed_with_file_offset_reason(hostile_run):
    files, _, _, errors, _ = hostile_run
    read_errors = [e for e in errors if e["reason"] in READ_REASONS]
    missing = []
    for name, spec in files.items():
        for bad in spec["bad_records"]:
            reasons = bad.get("acceptable_reasons", [bad["reason"]])
            if not any(e["file"] == name and e["offset"] == bad["offset"] and e["reason"] in reasons for e in read_errors):
                missing.append((name, bad["offset"], reasons))
    assert not missing, f"not in errors.jsonl: {missing}"
    assert len(read_errors) == sum(len(spec["bad_records"]) for spec in files.values()), read_errors


def test_bad_records_counted_by_reason(hostile_run):
    files, _, _, errors, records = hostile_run
    listed = Counter(e["reason"] for e in errors if e["reason"] in READ_REASONS)
    assert {r: records.get(r, 0) for r in READ_REASONS if records.get(r) or listed[r]} == {r: n for r, n in listed.items()}
    expected_total = sum(sum(spec["bad_counts"].values()) for spec in files.values())
    assert sum(records.get(r, 0) for r in READ_REASONS) == expected_total
    for reason in ("malformed", "too_large", "non_html"):
        assert records.get(reason, 0) > 0, reason  # each kind of damage in the suite is seen at run level


def test_good_records_become_exactly_one_document(hostile_run):
    files, _, rows, _, _ = hostile_run
    by_url = Counter(r["url"] for r in rows)
    for name, spec in files.items():
        for url in spec["good_urls"] + [d["url"] for d in spec["documents"]]:
            assert by_url[url] == 1, f"{name}: {url} came out {by_url[url]} times"
    assert all(r["drop_reason"] for r in rows if r["folder"] == "removed")
    bad_urls = {bad["url"] for spec in files.values() for bad in spec["bad_records"] if bad["url"]}
    assert not bad_urls & set(by_url)


def test_some_good_records_are_kept(hostile_run):
    _, result, rows, _, _ = hostile_run
    assert sum(s["documents"] for s in result["languages"]) == sum(1 for r in rows if r["folder"] == "dataset") > 0

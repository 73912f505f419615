"""Object storage as the run folder (issue 16), against a local S3-compatible server (moto, started here): the
writes that must stay atomic, the run folder's paths and done records, publishing without rename."""

from __future__ import annotations

import json
from dataclasses import replace

import pyarrow as pa
import pytest

from longtail.fileio import atomic_path, atomic_write_text, local_copy, read_table, remove_tree, write_parquet
from longtail.pipeline.finalize import publish
from longtail.pipeline.runfolder import RunFolder, UnitResult, load_done, write_done
from longtail.tests.support import S3_BUCKET, s3_objects, s3_server



@pytest.fixture(scope="module")
def s3():
    yield from s3_server()


@pytest.fixture
def root(s3, request):
    """A fresh prefix per test."""
    url = f"s3://{S3_BUCKET}/runs/{request.node.name}"
    remove_tree(url)
    return url


def test_a_failed_writer_leaves_no_object_and_a_finished_one_a_whole_object(root):
    target = f"{root}/stats/languages.json"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text('{"half": ')
        raise RuntimeError("writer died mid-file")
    assert s3_objects(root) == {}
    atomic_write_text(target, '{"whole": true}')
    assert s3_objects(root) == {"stats/languages.json": b'{"whole": true}'}  # no temporary object beside it


def test_parquet_round_trip_and_local_copy(root):
    table = pa.table({"id": ["a", "b", "c"], "lang_script": ["yor_Latn", "swa_Latn", "yor_Latn"]})
    write_parquet(table, f"{root}/annotated/u.parquet")
    assert read_table(f"{root}/annotated/u.parquet", filters=[("lang_script", "=", "yor_Latn")]).column("id").to_pylist() == ["a", "c"]
    copy = local_copy(f"{root}/annotated/u.parquet")
    assert not copy.startswith("s3:") and read_table(copy).equals(table)
    assert local_copy(f"{root}/annotated/u.parquet") == copy  # cached: downloaded once


def test_run_folder_paths_and_done_records_on_s3(root):
    folder = RunFolder(root)
    parquet, done = folder.unit_files("s3://crawl/CC-MAIN-1.warc.gz")
    assert str(parquet).startswith(f"{root}/annotated/CC-MAIN-1.warc.gz-") and str(done).endswith(".done.json")
    result = UnitResult("s3://crawl/CC-MAIN-1.warc.gz", 3, {"response": 3}, [], 1.5, stages={"read": {"in": 3}})
    write_done(done, result)
    assert not folder.is_annotated("s3://crawl/CC-MAIN-1.warc.gz")  # a done record without its annotations is not done
    write_parquet(pa.table({"id": ["a"]}), parquet)
    assert folder.is_annotated("s3://crawl/CC-MAIN-1.warc.gz")
    assert load_done(done).documents == 3 and load_done(done).stages == {"read": {"in": 3}}
    assert [str(p) for p in folder.done_records()] == [str(done)]
    assert json.loads(s3_objects(root)[f"annotated/{done.name}"])["records"] == {"response": 3}


def test_publish_replaces_the_folders_and_leaves_no_staging(root):
    folder = RunFolder(root)
    atomic_write_text(f"{root}/dataset/lang_script=old_Latn/part-00000.parquet", "old")
    atomic_write_text(f"{root}/stats/run.json", "old")
    atomic_write_text(f"{root}/annotated/keep.done.json", "{}")
    staging = folder.staging()
    atomic_write_text(f"{staging.root}/dataset/lang_script=yor_Latn/part-00000.parquet", "new")
    for name in ("languages.json", "run.json", "stages.json"):
        atomic_write_text(f"{staging.root}/stats/{name}", name)
    publish(folder)
    assert s3_objects(root) == {
        "annotated/keep.done.json": b"{}",  # not a published folder: untouched
        "dataset/lang_script=yor_Latn/part-00000.parquet": b"new",  # old_Latn is gone with the old dataset/
        "stats/languages.json": b"languages.json", "stats/run.json": b"run.json", "stats/stages.json": b"stages.json",
    }


def test_a_dedup_index_on_s3_gives_the_verdicts_of_the_same_index_on_disk(s3, sample_run, tmp_path):
    """``stages.dedup.previous_index: s3://...``: the index's manifest and one language's files are read from S3
    (nothing else is downloaded) and the verdicts equal those against the local copy."""
    import fsspec

    from longtail.pipeline.runfolder import RunFolder, read_language
    from longtail.stages.dedup.distributed import INPUT_COLUMNS, cluster_language
    from longtail.stages.dedup.index import build_from_files

    run = RunFolder(sample_run.output)
    params = sample_run.manifest.dedup
    build_from_files(run.kept_files(), run.annotated_files(), tmp_path / "index", params, "r1")
    fsspec.filesystem("s3").put(str(tmp_path / "index"), f"{S3_BUCKET}/indexes/sample", recursive=True)
    table = read_language([str(p) for p in run.annotated_files()], "yor_Latn").select(list(INPUT_COLUMNS))
    local = cluster_language(table, replace(params, previous_index=str(tmp_path / "index")), "yor_Latn")
    remote = cluster_language(table, replace(params, previous_index=f"s3://{S3_BUCKET}/indexes/sample"), "yor_Latn")
    assert remote.equals(local)
    assert "dedup:previous_release" in [v for column in local.columns for v in column.to_pylist()]  # the kept pages are indexed

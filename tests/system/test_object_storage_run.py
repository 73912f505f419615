"""`longtail run` with ``output: s3://...`` against a local S3-compatible server (moto, started by this module), in
its own process with its own local Ray, as a user with S3 credentials in the environment would run it. The run
must write the same dataset/, removed/ and stats/ as the same job with a local output (issue 16)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from longtail.tests.support import S3_BUCKET, SMALL_BOOTSTRAP_MINIMUMS, s3_objects, s3_server

LONGTAIL = [sys.executable, "-m", "longtail.pipeline.cli.main"]


@pytest.fixture(scope="module")
def s3():
    yield from s3_server()


def write_job(repo, trained_models, folder, output: str, bootstrap: bool = True) -> str:
    """manifests/sample.yaml with the given output, absolute inputs and the session's classifier; ``bootstrap``:
    both bootstraps on with minimums low enough that the sample crawl trains a KenLM model per language and the
    run's classifier (as tests/integration/test_classifier_bootstrap_run.py), else both off."""
    data = yaml.safe_load((repo / "manifests" / "sample.yaml").read_text())
    data["inputs"] = [str(repo / "data" / "sample" / "crawl" / "*.warc.gz")]
    data["output"] = output
    quality = data["stages"]["quality"]
    quality.update(kenlm_models=None, classifier_model=str(trained_models / "quality" / "classifier.bin"))
    if bootstrap:
        quality["kenlm_bootstrap"].update(SMALL_BOOTSTRAP_MINIMUMS)
        quality["classifier_bootstrap"].update(min_positive_documents=10, min_positive_characters=5000, epochs=5)
    else:
        quality.update(kenlm_bootstrap=None, classifier_bootstrap=None)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "job.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    return str(folder / "job.yaml")


def longtail(*args, env: dict, cwd) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"} | env | {"RAY_USAGE_STATS_ENABLED": "0"}
    return subprocess.run(LONGTAIL + list(args), env=full, capture_output=True, text=True, timeout=600, cwd=cwd)


def local_files(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def without_seconds(value):
    if isinstance(value, dict):
        return {k: without_seconds(v) for k, v in value.items() if k != "seconds"}
    return value


def test_a_small_job_runs_and_reselects_on_s3(s3, tmp_path, make_warc, article_html, trained_models):
    """The fast path through every write, with the input and the given models on S3 too: annotate, finalize,
    publish, logs; then `longtail select` with a stricter threshold re-publishes from the annotations on S3 (the
    input is gone by then)."""
    from longtail.filters.classifier import QualityClassifier
    from longtail.filters.kenlm_model import KenLMScorer, sha256_file

    paragraphs = [
        "Mvua za masika zimeanza mapema mwaka huu katika vijiji vingi vya mkoa wetu, na wakulima wamefurahi sana.",
        "Wakulima wengi wameanza kupanda mahindi na maharagwe, wakitumaini kupata mavuno mazuri baada ya miezi mitatu.",
        "Afisa kilimo wa wilaya aliwashauri kutumia mbegu bora na kupanda kwa mistari ili kurahisisha palizi na uvunaji.",
    ]
    warc = make_warc([("https://sw.test/a", article_html(paragraphs).encode())], name="tiny.warc.gz")
    s3fs = fsspec.filesystem("s3")
    s3fs.put_file(str(warc), f"{S3_BUCKET}/crawl/tiny.warc.gz")  # the input is on S3 too
    s3fs.put(str(trained_models), f"{S3_BUCKET}/models", recursive=True)  # and the KenLM models and the classifier
    models = f"s3://{S3_BUCKET}/models"
    url = f"s3://{S3_BUCKET}/runs/tiny"
    job = tmp_path / "job.yaml"
    job.write_text(f"name: tiny\ninputs: ['s3://{S3_BUCKET}/crawl/*.warc.gz']\noutput: {url}\nray: {{workers: 1}}\n"
                   f"stages: {{quality: {{kenlm_models: {models}/kenlm, classifier_model: {models}/quality/classifier.bin}}}}\n"
                   "selection: {defaults: {min_words: 10}}\n")
    proc = longtail("run", str(job), "--quiet", env=s3, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    objects = s3_objects(url)
    assert [k for k in objects if k.startswith("dataset/")] == ["dataset/lang_script=swa_Latn/part-00000.parquet"]
    assert json.loads(objects["stats/languages.json"])[0]["documents"] == 1
    done = [k for k in objects if k.endswith(".done.json")]
    assert len(done) == 1
    assert json.loads(objects[done[0]])["unit"] == f"s3://{S3_BUCKET}/crawl/tiny.warc.gz" and json.loads(objects[done[0]])["documents"] == 1
    # the models on S3 scored the page exactly as the same files do locally, and run.json names them by URL
    row = pq.read_table(io.BytesIO(objects[done[0].replace(".done.json", ".parquet")])).to_pylist()[0]
    assert row["lang_script"] == "swa_Latn"
    assert row["perplexity"] == pytest.approx(KenLMScorer(str(trained_models / "kenlm")).perplexity(row["text"], "swa_Latn"), rel=1e-6)
    assert row["quality_score"] == pytest.approx(QualityClassifier(str(trained_models / "quality" / "classifier.bin")).score(row["text"], "swa_Latn"), rel=1e-6)
    used = {m["path"]: m["sha256"] for m in json.loads(objects["stats/run.json"])["models"] if m["role"] in ("kenlm", "classifier")}
    assert used[f"{models}/quality/classifier.bin"] == sha256_file(trained_models / "quality" / "classifier.bin")
    assert used[f"{models}/kenlm/swa_Latn.binary"] == sha256_file(trained_models / "kenlm" / "swa_Latn.binary")

    s3fs.rm_file(f"{S3_BUCKET}/crawl/tiny.warc.gz")  # select reads the annotations only
    job.write_text(job.read_text().replace("min_words: 10", "min_words: 1000"))
    proc = longtail("select", str(job), "--quiet", env=s3, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    objects = s3_objects(url)
    assert not [k for k in objects if k.startswith("dataset/")]  # the old shard is gone with the old dataset/
    assert [k for k in objects if k.startswith("removed/")] == ["removed/lang_script=swa_Latn/part-00000.parquet"]
    assert json.loads(objects["stats/languages.json"])[0]["dropped"] == {"quality:too_short": 1}
    assert b"re-selecting 1 annotated files" in objects["logs/run.log"]


@pytest.mark.slow
def test_sample_run_on_s3_writes_what_a_local_run_writes(s3, repo, trained_models, ray_local, tmp_path):
    from longtail.pipeline.manifest import load_manifest
    from longtail.pipeline.run import run

    url = f"s3://{S3_BUCKET}/runs/sample"
    proc = longtail("run", write_job(repo, trained_models, tmp_path / "s3job", url), "--quiet", env=s3, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    remote = s3_objects(url)

    local_out = tmp_path / "local"
    run(load_manifest(write_job(repo, trained_models, tmp_path / "localjob", str(local_out))), progress=False)
    local = local_files(local_out)

    published = lambda files: {k: v for k, v in files.items() if k.split("/")[0] in ("dataset", "removed")}  # noqa: E731
    # both bootstraps trained on S3 (lmplz and fastText in a local scratch folder, then uploaded)
    assert json.loads(remote["bootstrap/classifier/card.json"])["status"] == "trained"
    index = json.loads(remote["bootstrap/kenlm/index.json"])
    assert [label for label, info in index["languages"].items() if info["status"] == "bootstrapped"]
    assert {k for k in remote if k.startswith("bootstrap/")} == {k for k in local if k.startswith("bootstrap/")}
    assert published(remote) and published(remote) == published(local)  # the same shards, byte for byte
    for name in ("languages.json", "languages.csv", "records.json", "errors.jsonl", "lid_contamination.json"):
        assert remote[f"stats/{name}"] == local[f"stats/{name}"], name
    assert without_seconds(json.loads(remote["stats/stages.json"])) == without_seconds(json.loads(local["stats/stages.json"]))
    remote_run, local_run = json.loads(remote["stats/run.json"]), json.loads(local["stats/run.json"])
    assert remote_run["manifest"].pop("output") == url
    local_run["manifest"].pop("output")
    remote_run["manifest"].pop("source"), local_run["manifest"].pop("source")  # the two job files
    assert remote_run["manifest"] == local_run["manifest"]
    strip = lambda models: [{k: v for k, v in m.items() if k != "path"} for m in models]  # noqa: E731
    assert strip(remote_run["models"]) == strip(local_run["models"]) and any(m["role"] == "kenlm-bootstrap" for m in remote_run["models"])
    assert [m["path"] for m in remote_run["models"] if m["role"] == "classifier-bootstrap"] == [f"{url}/bootstrap/classifier/fold{i}.bin" for i in range(2)]

    # annotations: one Parquet file and one done record per input; nothing temporary, no staging left behind
    annotated = sorted(k for k in remote if k.startswith("annotated/"))
    assert len(annotated) == 4 and sorted(k for k in local if k.startswith("annotated/")) == annotated
    assert not [k for k in remote if ".staging" in k or k.endswith(".tmp") or "/." in k]
    assert b"finished" in remote["logs/run.log"]

    # a second run resumes from the done records on S3 and publishes the same files again
    started = time.monotonic()
    proc = longtail("run", str(tmp_path / "s3job" / "job.yaml"), "--quiet", env=s3, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    again = s3_objects(url)
    assert published(again) == published(remote)
    assert {k: again[k] for k in annotated} == {k: remote[k] for k in annotated}  # not annotated again
    assert b"resuming: 2 of 2 input files already annotated" in again["logs/run.log"], time.monotonic() - started


def test_a_url_without_an_fsspec_filesystem_is_refused_before_ray_starts(s3, repo, trained_models, tmp_path):
    job = write_job(repo, trained_models, tmp_path, f"s3://{S3_BUCKET}/runs/refused")
    data = yaml.safe_load(open(job))
    data["stages"]["dedup"]["previous_index"] = "nosuch://bucket/indexes/sw"
    (tmp_path / "job.yaml").write_text(yaml.safe_dump(data))
    proc = longtail("run", job, "--quiet", env=s3, cwd=tmp_path)
    assert proc.returncode == 2
    assert "stages.dedup.previous_index: nosuch://bucket/indexes/sw: no fsspec filesystem for nosuch://" in proc.stderr
    assert "ray" not in proc.stderr.lower()  # refused by the manifest check, not by a Ray actor
    assert s3_objects(f"s3://{S3_BUCKET}/runs/refused") == {}  # not even a run log


def test_a_language_finalized_in_shards_on_s3_publishes_what_one_task_does(s3, tmp_path, make_warc, article_html, trained_models):
    """``stages.write.finalize_shard_rows`` splits a language by id into shards whose rows are written to the
    staging folder on S3 and read back by each shard's tasks: the published rows and statistics are those of the
    same annotations finalized in one task, each shard writes its own part files, and nothing of the split is left."""
    sentences = [
        "Mvua za masika zimeanza mapema mwaka huu katika vijiji vingi vya mkoa wetu, na wakulima wamefurahi sana.",
        "Wakulima wengi wameanza kupanda mahindi na maharagwe, wakitumaini kupata mavuno mazuri baada ya miezi mitatu.",
        "Afisa kilimo wa wilaya aliwashauri kutumia mbegu bora na kupanda kwa mistari ili kurahisisha palizi na uvunaji.",
        "Soko la kijiji lilijaa watu siku ya Jumamosi, wakinunua mboga, samaki wabichi na vitambaa vya rangi nyingi.",
        "Walimu wa shule ya msingi walikutana na wazazi kujadili mpango mpya wa kusoma vitabu kila jioni nyumbani.",
        "Barabara mpya inayounganisha kijiji na mji mkuu wa wilaya itakamilika kabla ya mwisho wa mwaka ujao.",
    ]
    pages = [(f"https://sw{i % 3}.test/habari/{i}", article_html([sentences[i], sentences[(i + 1) % 6], sentences[(i + 3) % 6]]).encode()) for i in range(6)]
    pages.append(("https://sw0.test/habari/nakala", article_html([sentences[0], sentences[1], sentences[3]]).encode()))  # a copy of page 0
    warc = make_warc(pages, name="shards.warc.gz")
    url = f"s3://{S3_BUCKET}/runs/shards"
    job = {"name": "shards", "inputs": [str(warc)], "output": url, "ray": {"workers": 1},
           "stages": {"quality": {"kenlm_models": str(trained_models / "kenlm"), "classifier_model": str(trained_models / "quality" / "classifier.bin")}},
           "selection": {"defaults": {"min_words": 10}}}
    path = tmp_path / "job.yaml"
    path.write_text(yaml.safe_dump(job))
    proc = longtail("run", str(path), "--quiet", env=s3, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]

    def published(objects):
        tables = {}
        for folder in ("dataset", "removed"):
            parts = [pq.read_table(io.BytesIO(objects[k])) for k in sorted(objects) if k.startswith(f"{folder}/lang_script=swa_Latn/")]
            tables[folder] = pa.concat_tables(parts).sort_by("id").to_pylist() if parts else []
        return tables, json.loads(objects["stats/languages.json"]), without_seconds(json.loads(objects["stats/stages.json"]))

    one_task = published(s3_objects(url))
    assert one_task[0]["dataset"] and one_task[0]["removed"]  # kept pages, and the copy dropped by dedup
    job["stages"]["write"] = {"finalize_shard_rows": 2}
    path.write_text(yaml.safe_dump(job))
    proc = longtail("select", str(path), "--quiet", env=s3, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    objects = s3_objects(url)
    assert published(objects) == one_task
    shards = {k.split("/")[-1].split("-")[1] for k in objects if k.startswith(("dataset/", "removed/"))}
    assert len(shards) >= 3 and all(s.startswith("s") for s in shards)  # part-s<shard>-<n>.parquet, from several shards
    assert not [k for k in objects if ".staging" in k or "_shards" in k]
    assert b"finalize swa_Latn in shards" in objects["logs/run.log"]

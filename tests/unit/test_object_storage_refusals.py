"""What object storage does not support yet is refused before anything runs: by the manifest check (before Ray
starts) and by the commands that read a finished run folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from longtail.pipeline.manifest import ManifestError, parse_manifest


def manifest(output: str, **stages):
    return parse_manifest({"name": "job", "inputs": ["crawl/*.warc.gz"], "output": output, "stages": stages}, "/tmp")


def test_an_s3_output_passes_with_both_bootstraps():
    assert manifest("s3://bucket/runs/x", quality={"kenlm_bootstrap": True, "classifier_bootstrap": True}).output == "s3://bucket/runs/x"
    assert manifest("out").output == "/tmp/out"  # local paths as before


@pytest.mark.parametrize("stage,field", [("quality", "kenlm_models"), ("quality", "classifier_model"), ("identify", "model_path"), ("dedup", "previous_index")])
def test_models_and_indexes_may_be_urls_of_a_known_protocol(stage, field):
    assert manifest("out", **{stage: {field: "s3://bucket/m"}}).output == "/tmp/out"
    with pytest.raises(ManifestError, match=rf"^stages\.{stage}\.{field}: nosuch://bucket/m: no fsspec filesystem for nosuch://"):
        manifest("out", **{stage: {field: "nosuch://bucket/m"}})


def test_an_output_protocol_fsspec_does_not_know_is_refused():
    with pytest.raises(ManifestError, match=r"^output: nosuch://bucket/x: no fsspec filesystem for nosuch://"):
        manifest("nosuch://bucket/x")


@pytest.mark.parametrize("argv", [["calibrate", "s3://bucket/run"], ["audit-sample", "s3://bucket/run"], ["export", "s3://bucket/run", "--to", "rel"],
                                  ["export", "run", "--to", "s3://bucket/rel"], ["report", "s3://bucket/run"], ["verify", "s3://bucket/rel"]])
def test_tools_refuse_a_run_folder_on_object_storage_with_a_clear_message(argv, capsys):
    from longtail.pipeline.cli.main import main

    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"longtail {argv[0]}: s3://bucket/" in err and "only `longtail run` and `longtail select` support so far" in err


def test_run_output_override_keeps_a_url_and_is_checked(tmp_path):
    from argparse import Namespace

    from longtail.pipeline.cli.main import _manifest

    job = tmp_path / "job.yaml"
    job.write_text("name: job\ninputs: ['crawl/*.warc.gz']\noutput: out\n")
    assert _manifest(Namespace(manifest=str(job), output="s3://bucket/runs/x")).output == "s3://bucket/runs/x"
    assert _manifest(Namespace(manifest=str(job), output="other")).output == str((Path.cwd() / "other").resolve())
    with pytest.raises(ManifestError, match=r"^output: nosuch://b/x: no fsspec filesystem"):
        _manifest(Namespace(manifest=str(job), output="nosuch://b/x"))

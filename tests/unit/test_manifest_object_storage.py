"""What an object-storage output does not support yet is refused by the manifest check, before Ray starts."""

from __future__ import annotations

import pytest

from longtail.pipeline.manifest import ManifestError, parse_manifest


def manifest(output: str, **stages):
    return parse_manifest({"name": "job", "inputs": ["crawl/*.warc.gz"], "output": output, "stages": stages}, "/tmp")


def test_an_s3_output_passes_with_both_bootstraps():
    assert manifest("s3://bucket/runs/x", quality={"kenlm_bootstrap": True, "classifier_bootstrap": True}).output == "s3://bucket/runs/x"
    assert manifest("out").output == "/tmp/out"  # local paths as before


@pytest.mark.parametrize("stage,field", [("quality", "kenlm_models"), ("quality", "classifier_model"), ("identify", "model_path"), ("dedup", "previous_index")])
def test_models_and_indexes_on_object_storage_are_refused(stage, field):
    with pytest.raises(ManifestError, match=rf"^stages\.{stage}\.{field}: s3://bucket/m: models and dedup indexes on object storage are not supported yet"):
        manifest("out", **{stage: {field: "s3://bucket/m"}})


def test_an_output_protocol_fsspec_does_not_know_is_refused():
    with pytest.raises(ManifestError, match=r"^output: nosuch://bucket/x: no fsspec filesystem for nosuch://"):
        manifest("nosuch://bucket/x")

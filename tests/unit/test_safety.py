"""Safety: values that become paths cannot leave the output folder, and the annotate pass opens no network
connection when every input is local."""

from __future__ import annotations


import pytest

from longtail.langid.labels import is_safe_label
from longtail.pipeline.finalize import finalize_language
from longtail.pipeline.manifest import ManifestError, parse_manifest
from longtail.pipeline.runfolder import RunFolder, unit_name

HOSTILE_NAMES = ["../../etc/passwd", "..", "/abs/path", "yor_Latn/../../x", "yor_Latn\x00", "a\\..\\b", "~root", "$HOME"]


@pytest.mark.parametrize("label", HOSTILE_NAMES + ["YOR_latn", "yor_Latn ", "yor-Latn"])
def test_unsafe_language_labels_are_refused(label, tmp_path):
    assert not is_safe_label(label)
    with pytest.raises(ManifestError):
        parse_manifest({"name": "t", "inputs": ["x.warc"], "output": "out", "selection": {"keep_languages": [label]}})
    with pytest.raises(ManifestError):
        parse_manifest({"name": "t", "inputs": ["x.warc"], "output": "out", "selection": {"languages": {label: {"min_words": 3}}}})
    with pytest.raises(ValueError, match="unsafe language label"):
        finalize_language(parse_manifest({"name": "t", "inputs": ["x.warc"], "output": str(tmp_path)}), label, [], str(tmp_path / "staging"))
    assert not any(tmp_path.rglob("*"))  # nothing was written anywhere


@pytest.mark.parametrize("name", HOSTILE_NAMES + ["a b", "name;rm"])
def test_unsafe_manifest_names_are_refused(name):
    with pytest.raises(ManifestError, match="^name:"):
        parse_manifest({"name": name, "inputs": ["x.warc"], "output": "out"})


@pytest.mark.parametrize("path", ["../../../../tmp/evil.warc.gz", "s3://bucket/../../x/..%2f..%2f.warc.gz", "/data/" + "ü" * 300 + ".warc",
                                  "https://host/a/b/../../../etc/passwd?x=/../..", "dir/.."])
def test_unit_output_paths_stay_in_the_annotated_folder(path, tmp_path):
    name = unit_name(path)
    assert "/" not in name and "\\" not in name and name not in (".", "..") and len(name) < 100
    output = tmp_path / "out"
    for target in RunFolder(output).unit_files(path):
        assert target.resolve().parent == (output / "annotated").resolve()


def test_distinct_units_never_share_an_output(tmp_path):
    paths = ["a/x.warc.gz", "b/x.warc.gz", "a/x_warc.gz", "a/x.warc.gz?v=2"]
    assert len({unit_name(p) for p in paths}) == len(paths)



"""The command line as a user meets it: help texts and clear manifest errors (--address on a real Ray cluster:
tests/system/test_cluster_address.py)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from longtail.pipeline.cli.main import main

LONGTAIL = [sys.executable, "-m", "longtail.pipeline.cli.main"]


def test_help_explains_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for word in ("run", "select", "demo", "train-kenlm", "train-classifier", "annotate", "--address"):
        assert word in out


def test_run_help_mentions_address_and_manifest(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert "manifest" in out and "--address" in out and "--workers" in out


def test_bad_manifest_names_the_field(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: job\ninputs: [x.warc.gz]\noutput: out\nstages:\n  identify:\n    backend: nonsense\n")
    assert main(["run", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "stages.identify.backend" in err and "nonsense" in err


def test_missing_manifest_is_a_clear_error(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.yaml")]) == 2
    assert "not found" in capsys.readouterr().err


def test_cli_lists_the_release_commands():
    result = subprocess.run([sys.executable, "-m", "longtail.pipeline.cli.main", "--help"], capture_output=True, text=True, timeout=120)
    for command in ("export", "verify", "report"):
        assert re.search(rf"^\s+{command}\s", result.stdout, re.M), result.stdout

"""The command line as a user meets it: help texts, clear manifest errors, and --address on a real Ray cluster."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise TimeoutError(f"Ray head did not listen on {port}")


def test_same_job_runs_on_an_existing_cluster_with_address(tmp_path, make_warc, article_html, repo):
    """Start a separate Ray head (as on a cluster) and run the job against it with --address."""
    paragraphs = [
        "Mvua za masika zimeanza mapema mwaka huu katika vijiji vingi vya mkoa wetu, na wakulima wamefurahi sana.",
        "Wakulima wengi wameanza kupanda mahindi na maharagwe, wakitumaini kupata mavuno mazuri baada ya miezi mitatu.",
        "Afisa kilimo wa wilaya aliwashauri kutumia mbegu bora na kupanda kwa mistari ili kurahisisha palizi na uvunaji.",
    ]
    make_warc([("https://sw.test/a", article_html(paragraphs).encode())], name="tiny.warc.gz")
    manifest = tmp_path / "job.yaml"
    manifest.write_text("name: tiny\ninputs: ['*.warc.gz']\noutput: out\nstages: {quality: {kenlm_models: null, classifier_model: null}}\n"
                        "selection: {defaults: {min_words: 10}}\n")
    ray_bin = str(Path(sys.executable).parent / "ray")
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
    # `ray start --block` in its own process group: stopping it stops only this cluster (`ray stop` would
    # stop every Ray on the machine).
    head = subprocess.Popen([ray_bin, "start", "--head", "--block", f"--port={port}", "--num-cpus=1",
                             "--include-dashboard=false"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        _wait_for_port(port, timeout=120)
        proc = subprocess.run(LONGTAIL + ["run", str(manifest), "--address", f"127.0.0.1:{port}", "--workers", "1"],
                              env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-2000:]
        stats = json.loads((tmp_path / "out" / "stats" / "languages.json").read_text())
        assert [(s["lang_script"], s["documents"]) for s in stats] == [("swa_Latn", 1)]
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)

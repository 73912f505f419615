"""`longtail run --address`: the same job, in its own process, on an existing Ray cluster it did not start.

The cluster is the test session's Ray (``ray_address``, tests/conftest.py): joining it takes a second, where a
fresh `ray start --head` took 15-20 s before it accepted a driver on this machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

LONGTAIL = [sys.executable, "-m", "longtail.pipeline.cli.main"]


def test_same_job_runs_on_an_existing_cluster_with_address(tmp_path, make_warc, article_html, ray_address):
    """Run the job in a separate process against the session's Ray with --address (as against a cluster's head)."""
    paragraphs = [
        "Mvua za masika zimeanza mapema mwaka huu katika vijiji vingi vya mkoa wetu, na wakulima wamefurahi sana.",
        "Wakulima wengi wameanza kupanda mahindi na maharagwe, wakitumaini kupata mavuno mazuri baada ya miezi mitatu.",
        "Afisa kilimo wa wilaya aliwashauri kutumia mbegu bora na kupanda kwa mistari ili kurahisisha palizi na uvunaji.",
    ]
    make_warc([("https://sw.test/a", article_html(paragraphs).encode())], name="tiny.warc.gz")
    manifest = tmp_path / "job.yaml"
    manifest.write_text("name: tiny\ninputs: ['*.warc.gz']\noutput: out\nstages: {quality: {kenlm_models: null, classifier_model: null}}\n"
                        "selection: {defaults: {min_words: 10}}\n")
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    proc = subprocess.run(LONGTAIL + ["run", str(manifest), "--address", ray_address, "--workers", "1"],
                          env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    stats = json.loads((tmp_path / "out" / "stats" / "languages.json").read_text())
    assert [(s["lang_script"], s["documents"]) for s in stats] == [("swa_Latn", 1)]

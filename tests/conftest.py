"""Shared fixtures: a real local Ray, real KenLM/fastText models trained from the shipped data, the sample run
(once per session), small WARCs.

Layers (docs/design.md, "Tests"): ``tests/unit`` (no Ray, no external processes), ``tests/integration`` (the
session's local Ray and the shared runs below), ``tests/system`` (Airflow, Chromium, kill/resume, a second Ray).
"""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from longtail.tests.support import Run, copy_run, reference_sample_manifest, shipped_sample_manifest, small_bootstrap_manifest, tree_state

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def ray_local():
    """A real local Ray for the whole session (2 CPUs, as on CI)."""
    from longtail.pipeline import ray_backend

    ray = ray_backend.connect(None, num_cpus=2)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def ray_address(ray_local) -> str:
    """The session Ray's address, for a subprocess (`longtail run --address`, Airflow's run task) that joins it
    instead of starting a Ray of its own."""
    return ray_local.get_runtime_context().gcs_address


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory) -> Path:
    """KenLM models (real lmplz) and the quality classifier (real fastText), trained from data/ once."""
    from longtail.pipeline.models import train_default_classifier, train_kenlm_folder

    models = tmp_path_factory.mktemp("models")
    train_kenlm_folder(REPO / "data" / "reference", models / "kenlm", log=lambda *_: None)
    train_default_classifier(REPO / "data" / "quality" / "train.jsonl", models / "quality" / "classifier.bin", log=lambda *_: None)
    return models


# --- the shared runs: each runs once per session; tests read them, or change a copy ----------------------------


@pytest.fixture(scope="session")
def _sample_run_once(ray_local, trained_models, tmp_path_factory) -> Run:
    from longtail.pipeline.run import run

    output = tmp_path_factory.mktemp("sample-run") / "out"
    manifest = shipped_sample_manifest(REPO, trained_models, output)
    assert manifest.quality.kenlm_bootstrap is not None and manifest.quality.kenlm_models is None
    return Run(manifest, output, run(manifest, progress=False))


@pytest.fixture(scope="session")
def _small_bootstrap_run_once(ray_local, trained_models, tmp_path_factory) -> Run:
    from longtail.pipeline.run import run

    output = tmp_path_factory.mktemp("small-bootstrap-run") / "out"
    manifest = small_bootstrap_manifest(REPO, trained_models, output)
    assert manifest.quality.kenlm_bootstrap.min_training_lines == 8 and manifest.quality.kenlm_models is None
    return Run(manifest, output, run(manifest, progress=False))


@pytest.fixture(scope="session")
def _reference_run_once(ray_local, trained_models, tmp_path_factory) -> Run:
    from longtail.pipeline.run import run

    output = tmp_path_factory.mktemp("reference-run") / "out"
    manifest = reference_sample_manifest(REPO, trained_models, output)
    return Run(manifest, output, run(manifest, progress=False))


def _read_only(run: Run):
    before = tree_state(run.output)
    yield run
    assert tree_state(run.output) == before, f"a test wrote into the shared run {run.output}: use the *_copy fixture"


@pytest.fixture
def sample_run(_sample_run_once):
    """manifests/sample.yaml as shipped (KenLM bootstrap on, as `make demo`: no sample language has enough text for
    a model, so none gets a perplexity filter), run once per session on the session's Ray; the classifier is the
    session's. Read only: the test fails if it writes into it."""
    yield from _read_only(_sample_run_once)


@pytest.fixture
def sample_run_copy(_sample_run_once, tmp_path) -> Run:
    """A private copy of ``sample_run`` (its manifest writes into the copy): for reruns, threshold changes, resume."""
    return copy_run(_sample_run_once, tmp_path / "sample-run")


@pytest.fixture
def small_bootstrap_run(_small_bootstrap_run_once):
    """The shipped sample manifest with the KenLM bootstrap minimums lowered (``SMALL_BOOTSTRAP_MINIMUMS`` in
    tests/support.py), so that every sample language is bootstrapped from the crawl: for tests of the bootstrap's
    mechanics (models, cards, stats, resume, retraining). Run once per session; read only."""
    yield from _read_only(_small_bootstrap_run_once)


@pytest.fixture
def small_bootstrap_run_copy(_small_bootstrap_run_once, tmp_path) -> Run:
    """A private copy of ``small_bootstrap_run``."""
    return copy_run(_small_bootstrap_run_once, tmp_path / "small-bootstrap-run")


@pytest.fixture
def reference_run(_reference_run_once):
    """manifests/sample.yaml with KenLM models trained on data/reference/ (no bootstrap): the run that
    data/sample/ground_truth.jsonl and expected_counts.json describe page by page. Read only."""
    yield from _read_only(_reference_run_once)


@pytest.fixture
def reference_run_copy(_reference_run_once, tmp_path) -> Run:
    """A private copy of ``reference_run``."""
    return copy_run(_reference_run_once, tmp_path / "reference-run")


@pytest.fixture(scope="session")
def release(_reference_run_once, tmp_path_factory) -> Path:
    """``reference_run`` exported as a release (small shards, so languages with several documents get several)."""
    from longtail.pipeline.cli.main import main as cli_main

    target = tmp_path_factory.mktemp("release") / "sample-release"
    assert cli_main(["export", str(_reference_run_once.output), "--to", str(target), "--shard-bytes", "4K", "--quiet"]) == 0
    return target


# --- time and outcomes per layer, printed after the run (`make test` shows the three layers' cost) ---------------

LAYERS = ("unit", "integration", "system")
_layer_stats: dict[str, dict] = {}


def _layer(nodeid: str) -> str:
    parts = nodeid.split("/")
    return parts[1] if len(parts) > 2 and parts[0] == "tests" and parts[1] in LAYERS else "other"


def pytest_runtest_logreport(report):
    stats = _layer_stats.setdefault(_layer(report.nodeid), {"seconds": 0.0, "passed": 0, "failed": 0, "skipped": 0, "errors": 0})
    stats["seconds"] += report.duration  # setup + call + teardown; a session fixture counts where it is first set up
    if report.when == "call" or (report.when == "setup" and not report.passed):
        key = "skipped" if report.skipped else "errors" if report.when == "setup" and report.failed else report.outcome
        stats[key] += 1
    elif report.when == "teardown" and report.failed:
        stats["errors"] += 1


def pytest_terminal_summary(terminalreporter):
    if not _layer_stats:
        return
    terminalreporter.section("time per layer (tests/unit, tests/integration, tests/system)")
    terminalreporter.write_line(f"{'layer':<12} {'passed':>6} {'failed':>6} {'errors':>6} {'skipped':>7} {'seconds':>8}")
    for name in [*LAYERS, "other"]:
        if name in _layer_stats:
            s = _layer_stats[name]
            terminalreporter.write_line(f"{name:<12} {s['passed']:>6} {s['failed']:>6} {s['errors']:>6} {s['skipped']:>7} {s['seconds']:>8.1f}")


# --- small inputs -----------------------------------------------------------------------------------------------


def _http_response(body: bytes, status: str = "200 OK", content_type: str = "text/html; charset=utf-8") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("latin-1") + body


@pytest.fixture
def make_warc(tmp_path):
    """Build a small WARC.gz: ``make_warc([(url, html_bytes, status, content_type), ...])``."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    def build(pages, name="test.warc.gz"):
        path = tmp_path / name
        with open(path, "wb") as handle:
            writer = WARCWriter(handle, gzip=True)
            for index, page in enumerate(pages):
                url, body = page[0], page[1]
                status = page[2] if len(page) > 2 else "200 OK"
                content_type = page[3] if len(page) > 3 else "text/html; charset=utf-8"
                headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
                record = writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), http_headers=headers,
                    warc_headers_dict={"WARC-Date": f"2026-10-01T00:00:{index:02d}Z"},
                )
                writer.write_record(record)
        return path

    return build


@pytest.fixture
def article_html():
    def html(paragraphs: list[str], title: str = "Title", charset_meta: str | None = "utf-8") -> str:
        meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        return (
            f"<html><head>{meta}<title>{title}</title></head><body>"
            "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
            f"<article><h1>{title}</h1>{body}</article>"
            "<footer>Copyright 2026 Example</footer></body></html>"
        )

    return html


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def copy_tree(tmp_path):
    def copy(src: Path, name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(src, dest)
        return dest

    return copy

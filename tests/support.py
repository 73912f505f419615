"""Helpers shared by test files (imported as ``longtail.tests.support``: the repository root is the ``longtail``
package in the editable install, and test files are not a package under ``--import-mode=importlib``)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import pyarrow as pa
import pyarrow.parquet as pq


class Run(NamedTuple):
    """A finished run: the manifest it ran with, its output folder and what ``run()`` returned."""

    manifest: object
    output: Path
    result: dict


def read_partitioned(folder: Path) -> pa.Table | None:
    """Every ``lang_script=*/part-*.parquet`` under ``folder`` with a ``partition`` column (None if there is none)."""
    tables = []
    for part in sorted(folder.glob("lang_script=*/part-*.parquet")):
        table = pq.read_table(part)
        tables.append(table.append_column("partition", pa.array([part.parent.name.split("=", 1)[1]] * table.num_rows)))
    return pa.concat_tables(tables, promote_options="default") if tables else None


def shipped_sample_manifest(repo: Path, trained_models: Path, output: Path):
    """manifests/sample.yaml as shipped (KenLM bootstrap on with its shipped minimums, which no sample language
    reaches; no given KenLM models); only the output and the classifier (trained by the test session instead of
    `make demo`) differ."""
    from longtail.pipeline.manifest import load_manifest

    manifest = load_manifest(repo / "manifests" / "sample.yaml")
    quality = replace(manifest.quality, classifier_model=str(trained_models / "quality" / "classifier.bin"))
    return replace(manifest, output=str(output), quality=quality)


# The KenLM bootstrap minimums before issue 12 (8 distinct lines, 1,500 characters), set explicitly for tests of the
# bootstrap's mechanics: with them every sample language (3-5 pages) is bootstrapped from the crawl; with the shipped
# 40 lines / 20,000 characters none is (too_little_text, no perplexity filter).
SMALL_BOOTSTRAP_MINIMUMS = {"min_training_lines": 8, "min_training_characters": 1500}


def small_bootstrap_manifest(repo: Path, trained_models: Path, output: Path):
    """``shipped_sample_manifest`` with the KenLM bootstrap minimums lowered to ``SMALL_BOOTSTRAP_MINIMUMS`` (every
    other setting as shipped): the sample crawl's languages get models bootstrapped from its own documents."""
    manifest = shipped_sample_manifest(repo, trained_models, output)
    settings = replace(manifest.quality.kenlm_bootstrap, **SMALL_BOOTSTRAP_MINIMUMS)
    return replace(manifest, quality=replace(manifest.quality, kenlm_bootstrap=settings))


def reference_sample_manifest(repo: Path, trained_models: Path, output: Path):
    """manifests/sample.yaml with the KenLM models trained on data/reference/ (no bootstrap) and the classifier."""
    from longtail.pipeline.manifest import QualitySettings, load_manifest

    manifest = load_manifest(repo / "manifests" / "sample.yaml")
    quality = QualitySettings(str(trained_models / "kenlm"), str(trained_models / "quality" / "classifier.bin"))
    # The ground truth was written for the shipped classifier as a hard filter at 0.3: say so explicitly, as a
    # user who trusts a given classifier must (issue 12: a given classifier is otherwise annotation-only).
    thresholds = manifest.thresholds.updated({"min_quality_score": 0.3})
    explicit = tuple(sorted({*manifest.explicit_defaults, "min_quality_score"}))
    return replace(manifest, output=str(output), quality=quality, thresholds=thresholds, explicit_defaults=explicit)


def without_seconds(value):
    """``value`` (stats JSON) without its "seconds" entries at any depth: what two runs of the same data share."""
    if isinstance(value, dict):
        return {k: without_seconds(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [without_seconds(v) for v in value]
    return value


def passes_timed(log: str) -> dict[str, float]:
    """The run log's last ``time per pass`` line (pipeline/runlog.py::PassClock) as {pass: seconds}."""
    line = re.findall(r"time per pass \(wall\): (.*); [\d.]+ s in all", log)[-1]
    parts = [re.fullmatch(r"(.+) ([\d.]+) s \(\d+%\)", part) for part in line.split(", ")]
    return {part.group(1): float(part.group(2)) for part in parts if part}


def tree_state(folder: Path) -> dict[str, tuple[int, int]]:
    """Relative path -> (size, mtime) of every file under ``folder``: to check that nobody wrote into it."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_run(run: Run, dest: Path) -> Run:
    """A private copy of a finished run (``shutil.copytree``) whose manifest writes into the copy."""
    import shutil

    shutil.copytree(run.output, dest, symlinks=True)
    return Run(replace(run.manifest, output=str(dest)), dest, run.result)


def report_overview(page: str) -> str:
    """The overview section of a run report (pipeline/release/report.py)."""
    start = page.index('<section id="overview">')
    return page[start : page.index("</section>", start)]


def report_fact(page: str, key: str) -> str:
    """The value of the overview's ``data-key`` row ``key``."""
    import re

    match = re.search(rf'<tr data-key="{key}"><th>[^<]*</th><td>([^<]*)</td></tr>', report_overview(page))
    assert match, f"overview has no {key} row"
    return match.group(1)


def load_script(repo: Path, name: str, folder: str = "scripts"):
    """A script of ``scripts/`` or ``bench/`` (not a package) as a module: ``load_script(repo, "make_format_inputs")``."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, repo / folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the sample crawl split into several input files (kill/resume and node-loss tests) ---------------------------


def split_warcs(sources: list[Path], dest: Path, parts: int) -> list[Path]:
    """Copy the records (gzip members) of ``sources`` into ``parts`` WARC.gz files of consecutive records."""
    from fastwarc.warc import ArchiveIterator

    members = []
    for source in sources:
        data = source.read_bytes()
        with open(source, "rb") as stream:
            offsets = [record.stream_pos for record in ArchiveIterator(stream, parse_http=False)]
        members += [data[start:end] for start, end in zip(offsets, offsets[1:] + [len(data)])]
    dest.mkdir(parents=True, exist_ok=True)
    size = -(-len(members) // parts)
    paths = []
    for index in range(parts):
        path = dest / f"part-{index:02d}.warc.gz"
        path.write_bytes(b"".join(members[index * size : (index + 1) * size]))
        paths.append(path)
    return paths


def run_documents(output: Path) -> list[tuple]:
    """Every document of a finished run as (partition, folder, id, text, drop_reason), sorted."""
    rows = []
    for folder in ("dataset", "removed"):
        for part in sorted((output / folder).glob("lang_script=*/part-*.parquet")):
            table = pq.read_table(part, columns=["id", "text", "drop_reason"])
            label = part.parent.name.split("=", 1)[1]
            rows += [(label, folder, r["id"], r["text"], r["drop_reason"]) for r in table.to_pylist()]
    return sorted(rows)


def split_job_manifest(repo: Path, models: Path, inputs: Path, output: Path, batch_size: int):
    """The reference run's job (same models, same explicit classifier threshold) over a split crawl in ``inputs``,
    read in batches of ``batch_size`` (small: a unit writes several batches, so "mid-unit" lasts long enough to hit)."""
    from longtail.pipeline.manifest import ReadSettings

    manifest = reference_sample_manifest(repo, models, output)
    return replace(manifest, inputs=[str(inputs / "*.warc.gz")], read=ReadSettings(batch_size=batch_size))


def write_job_file(repo: Path, manifest, path: Path) -> Path:
    """``split_job_manifest``'s job as a YAML file, for a driver in its own process (`longtail run job.yaml`)."""
    import yaml

    raw = yaml.safe_load((repo / "manifests" / "sample.yaml").read_text())
    raw.update(inputs=manifest.inputs, output=manifest.output, read={"batch_size": manifest.read.batch_size})
    raw["stages"]["quality"] = {"kenlm_models": manifest.quality.kenlm_models, "classifier_model": manifest.quality.classifier_model}
    raw["selection"].setdefault("defaults", {})["min_quality_score"] = manifest.thresholds.min_quality_score
    path.write_text(yaml.safe_dump(raw))
    return path


S3_BUCKET = "longtail-test"


def s3_server():
    """A local S3-compatible server (moto in server mode, on 127.0.0.1) with the bucket :data:`S3_BUCKET`; yields the
    environment a client needs (endpoint, dummy credentials), which is also set in this process for the fixture's
    lifetime, as a user's shell would. A generator: use it as a fixture's body (``yield from s3_server()``)."""
    import os

    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    from s3fs import S3FileSystem

    S3FileSystem.clear_instance_cache()  # fsspec caches filesystems, with the endpoint of an earlier server
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ENDPOINT_URL": f"http://{host}:{port}", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1"}
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        boto3.client("s3").create_bucket(Bucket=S3_BUCKET)
        yield env
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()
        S3FileSystem.clear_instance_cache()


def s3_objects(prefix: str) -> dict[str, bytes]:
    """Relative key -> content of every object under ``s3://<prefix>`` (a fresh fsspec instance each call)."""
    import fsspec

    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    root = prefix.removeprefix("s3://").rstrip("/")
    return {key[len(root) + 1:]: fs.cat_file(key) for key in sorted(fs.find(root))}

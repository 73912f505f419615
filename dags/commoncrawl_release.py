"""Airflow 3 DAG: turn one Common Crawl snapshot into a verified longtail release.

    plan     list the snapshot's WARC paths, write <work>/<snapshot>/job.yaml from a template manifest
    run      `longtail run job.yaml --address <cluster>` (resumable: finished WARC files are skipped)
    export   `longtail export run --to release` (skipped when the release verifies and came from the same run configuration)
    verify   `longtail verify release`
    report   `longtail report release`
    publish  `longtail publish release <output_url>/<snapshot>/release` when output_url is remote (s3://...)

Idempotent per snapshot: every path is derived from the snapshot id, the run resumes, and an existing release
that verifies and was made from the same inputs is kept. The tasks only call the longtail CLI of the
pipeline's own venv (LONGTAIL_BIN, default <repo>/.venv/bin/longtail) through subprocess, so Airflow runs in
its own venv and shares no packages with the pipeline.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from airflow.sdk import Param, dag, task

REPO_ROOT = Path(__file__).resolve().parent.parent
CC_PATHS_URL = "https://data.commoncrawl.org/crawl-data/{snapshot_id}/warc.paths.gz"
CC_DATA_PREFIX = "https://data.commoncrawl.org/"


def longtail_bin() -> str:
    return os.environ.get("LONGTAIL_BIN") or str(REPO_ROOT / ".venv" / "bin" / "longtail")


def is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file://")


def snapshot_dirs(output_url: str, work_dir: str, snapshot_id: str) -> dict[str, Path]:
    """Folders of one snapshot: under ``output_url`` when it is a local path / file:// URL (a filesystem the
    Ray cluster shares), else under ``work_dir``, from where the verified release is published."""
    base = output_url if is_local(output_url) else work_dir
    if not is_local(base) or not base:
        raise ValueError("output_url is remote: set work_dir to a local folder the Ray cluster shares")
    root = Path(base.removeprefix("file://")) / snapshot_id
    return {"root": root, "job": root / "job.yaml", "run": root / "run", "release": root / "release"}


def read_paths_listing(url: str) -> list[str]:
    """Lines of a (possibly gzipped) WARC path listing at a local path, file:// or http(s):// URL."""
    import gzip
    import urllib.request

    if url.startswith(("http://", "https://")):
        with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - the URL is a DAG param
            data = response.read()
    else:
        data = Path(url.removeprefix("file://")).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return [line.strip() for line in data.decode("utf-8").splitlines() if line.strip()]


def call_longtail(*args: str) -> str:
    import subprocess

    command = [longtail_bin(), *args]
    print("running:", " ".join(command))
    result = subprocess.run(command, capture_output=True, text=True)
    print(result.stdout[-20000:])
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr[-5000:]}")
    return result.stdout


@dag(
    dag_id="longtail_commoncrawl_release",
    schedule=None,  # triggered per snapshot (or by a sensor on the Common Crawl announcements)
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["longtail", "commoncrawl"],
    params={
        "snapshot_id": Param("CC-MAIN-2026-44", type="string", pattern=r"^[A-Za-z0-9._-]+$", description="Common Crawl snapshot id"),
        "languages": Param([], type="array", description="lang_script labels to keep (e.g. [yor_Latn, uig_Arab]); empty = all"),
        "cluster_address": Param("local", type="string", description="Ray address: 'auto' or 'ray://head:10001' for a cluster, 'local' = start a private local Ray"),
        "output_url": Param("/data/longtail", type="string", description="root for <snapshot>/release: a shared folder, file:// or an fsspec URL (s3://...)"),
        "work_dir": Param("/data/longtail-work", type="string", description="shared folder for job.yaml, run and release when output_url is remote"),
        "manifest_template": Param(str(REPO_ROOT / "manifests" / "sample.yaml"), type="string", description="run manifest whose stages/selection are used"),
        "warc_paths_url": Param(CC_PATHS_URL, type="string", description="WARC path listing; {snapshot_id} is filled in"),
        "warc_prefix": Param(CC_DATA_PREFIX, type="string", description="prefix turning listed paths into URLs ('' if they are complete)"),
        "max_warcs": Param(0, type="integer", minimum=0, description="use only the first N WARC files (0 = all)"),
        "previous_index": Param("", type="string", description="dedup index of previous releases (stages.dedup.previous_index); empty = none"),
        "shard_bytes": Param("256M", type="string", description="target shard size of the release"),
    },
)
def longtail_commoncrawl_release():
    @task
    def plan(params=None) -> dict:
        """List the WARC paths and write the snapshot's job manifest (same file for the same params)."""
        import yaml

        snapshot = params["snapshot_id"]
        dirs = snapshot_dirs(params["output_url"], params["work_dir"], snapshot)
        listing = read_paths_listing(params["warc_paths_url"].format(snapshot_id=snapshot))
        if params["max_warcs"]:
            listing = listing[: params["max_warcs"]]
        if not listing:
            raise ValueError(f"no WARC paths for {snapshot}")
        template_path = Path(params["manifest_template"])
        job = yaml.safe_load(template_path.read_text(encoding="utf-8"))
        # Relative paths in the template (models, thresholds files) stay relative to the template's folder.
        job = _absolute_paths(job, template_path.parent.resolve())
        job["name"] = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in snapshot)
        job["inputs"] = [params["warc_prefix"] + path for path in listing]
        job["output"] = str(dirs["run"])
        selection = job.setdefault("selection", {})
        selection["keep_languages"] = list(params["languages"]) or "all"
        if params["previous_index"]:
            job.setdefault("stages", {}).setdefault("dedup", {})["previous_index"] = params["previous_index"]
        dirs["root"].mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(job, sort_keys=False, allow_unicode=True)
        tmp = dirs["job"].with_name(".job.yaml.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, dirs["job"])
        print(f"plan: {len(listing)} WARC files -> {dirs['job']}")
        return {"job": str(dirs["job"]), "run": str(dirs["run"]), "release": str(dirs["release"]), "inputs": job["inputs"]}

    @task
    def run_job(planned: dict, params=None) -> str:
        args = ["run", planned["job"], "--quiet"]
        if params["cluster_address"]:
            args += ["--address", params["cluster_address"]]
        call_longtail(*args)
        return planned["run"]

    @task
    def export(planned: dict, run_dir: str, params=None) -> str:
        import json

        release = Path(planned["release"])
        manifest = release / "manifest.json"
        if manifest.is_file():
            previous = json.loads(manifest.read_text()).get("run", {})
            current = json.loads((Path(run_dir) / "stats" / "run.json").read_text())
            same_run = all(previous.get(key) == current.get(key) for key in ("manifest", "inputs"))
            if same_run and _verifies(str(release)):
                print(f"export: {release} already verifies for this run configuration and inputs; kept")
                return str(release)
        call_longtail("export", run_dir, "--to", str(release), "--shard-bytes", params["shard_bytes"], "--force", "--quiet")
        return str(release)

    @task
    def verify(release: str) -> str:
        call_longtail("verify", release)
        return release

    @task
    def report(release: str) -> str:
        call_longtail("report", release)
        return str(Path(release) / "report.html")

    @task
    def publish(release: str, params=None) -> str:
        """Remote output_url only: upload the verified release (manifest.json last) and check every sha256 there."""
        url = params["output_url"]
        if is_local(url):
            print(f"publish: release is already in place at {release}")
            return release
        target = f"{url.rstrip('/')}/{params['snapshot_id']}/release"
        call_longtail("publish", release, target)
        return target

    planned = plan()
    run_dir = run_job(planned)
    release = export(planned, run_dir)
    verified = verify(release)
    report(verified) >> publish(verified)


def _verifies(release: str) -> bool:
    try:
        call_longtail("verify", release)
        return True
    except RuntimeError as exc:
        print(f"existing release does not verify, re-exporting: {exc}")
        return False


def _absolute_paths(job: dict, base: Path) -> dict:
    """Make the template's model paths absolute (the job manifest lives in another folder)."""
    quality = (job.get("stages") or {}).get("quality") or {}
    for key in ("kenlm_models", "classifier_model"):
        value = quality.get(key)
        if value and "://" not in value and not os.path.isabs(value):
            quality[key] = str((base / value).resolve())
    selection = job.get("selection") or {}
    if selection.get("thresholds_file") and not os.path.isabs(selection["thresholds_file"]):
        selection["thresholds_file"] = str((base / selection["thresholds_file"]).resolve())
    identify = (job.get("stages") or {}).get("identify") or {}
    if identify.get("model_path") and not os.path.isabs(identify["model_path"]):
        identify["model_path"] = str((base / identify["model_path"]).resolve())
    return job


longtail_commoncrawl_release()

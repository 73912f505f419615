"""Release export, verify and report on a real sample run (real Ray, KenLM, fastText, heliport): the session's
``reference_run`` (the report in Chromium: tests/system/test_report_chromium.py)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from longtail.langid.labels import to_bcp47
from longtail.pipeline.cli.main import main as cli_main
from longtail.pipeline.release.export import RELEASE_SCHEMA, export_release, verify_release
from longtail.pipeline.provenance import sha256_file
from longtail.tests.support import passes_timed

@pytest.fixture
def sample_run(reference_run) -> Path:
    """The session's sample run with the reference KenLM models (tests/conftest.py), read only; ``release`` is
    its export (session-scoped, tests/conftest.py)."""
    return reference_run.output


def kept_rows(run_dir: Path) -> dict[str, dict]:
    rows = {}
    for part in (run_dir / "dataset").glob("lang_script=*/part-*.parquet"):
        for row in pq.read_table(part).to_pylist():
            rows[row["id"]] = {**row, "partition": part.parent.name.split("=", 1)[1]}
    return rows


def test_run_writes_log_and_provenance(sample_run, trained_models):
    log = (sample_run / "logs" / "run.log").read_text()
    assert "run sample: 2 input files" in log
    assert len(re.findall(r"annotated \S+: \d+ documents", log)) == 2
    assert "finished" in log and "documents kept" in log
    # where the time went: the passes that ran, no bootstrap (this run is given its KenLM models and classifier)
    passes = passes_timed(log)
    assert list(passes) == ["ray start", "annotate", "select+dedup+write", "stats+publish"], passes
    assert passes["annotate"] > 0  # two files of pages on a real Ray take seconds
    run_info = json.loads((sample_run / "stats" / "run.json").read_text())
    assert run_info["code_version"].startswith("0.1.0")
    roles = {m["role"] for m in run_info["models"]}
    assert roles == {"lid", "kenlm", "classifier"}
    classifier = next(m for m in run_info["models"] if m["role"] == "classifier")
    assert classifier["sha256"] == sha256_file(trained_models / "quality" / "classifier.bin")


def test_release_has_every_kept_document_once_in_the_documented_schema(sample_run, release):
    kept = kept_rows(sample_run)
    manifest = json.loads((release / "manifest.json").read_text())
    shards = [f for f in manifest["files"] if f["path"].startswith("data/")]
    seen = {}
    for entry in shards:
        table = pq.read_table(release / entry["path"])
        assert table.schema.equals(RELEASE_SCHEMA, check_metadata=False), entry["path"]
        assert table.num_rows == entry["rows"] and (release / entry["path"]).stat().st_size == entry["bytes"]
        assert table.column("id").to_pylist() == sorted(table.column("id").to_pylist())
        for row in table.to_pylist():
            assert row["id"] not in seen
            seen[row["id"]] = row
            assert Path(entry["path"]).parent.name == row["lang_script"] == entry["lang_script"]
    assert set(seen) == set(kept)
    for doc_id, row in seen.items():
        source = kept[doc_id]
        assert row["text"] == source["text"] and row["url"] == source["url"]
        assert row["warc_filename"] == source["source_file"] and row["warc_record_offset"] == source["warc_offset"]
        assert row["dup_cluster_size"] == (source["dup_cluster_size"] or 1)
    assert max(r["dup_cluster_size"] for r in seen.values()) >= 2  # the sample crawl has duplicate clusters
    per_language = {}
    for entry in shards:
        per_language.setdefault(entry["lang_script"], []).append(entry)
    assert any(len(v) > 1 for v in per_language.values()), "4K target should split languages into several shards"
    for entry in shards:  # a shard goes over the target only when it holds a single document
        texts = pq.read_table(release / entry["path"], columns=["text"]).column("text").to_pylist()
        assert len(texts) == 1 or sum(len(t.encode()) for t in texts) <= 4096, entry["path"]
    for entries in per_language.values():
        names = sorted(Path(e["path"]).name for e in entries)
        assert names == [f"train-{i:05d}-of-{len(names):05d}.parquet" for i in range(len(names))]


def test_manifest_records_configuration_code_and_models(sample_run, release, trained_models):
    manifest = json.loads((release / "manifest.json").read_text())
    run_info = json.loads((sample_run / "stats" / "run.json").read_text())
    assert manifest["run"]["manifest"] == run_info["manifest"]
    assert manifest["code_version"] == run_info["code_version"]
    kenlm = {m["lang_script"]: m for m in manifest["models"] if m["role"] == "kenlm"}
    assert kenlm["yor_Latn"]["sha256"] == sha256_file(trained_models / "kenlm" / "yor_Latn.binary")
    lid = [m for m in manifest["models"] if m["role"] == "lid"]
    assert lid and all(m["backend"] == run_info["manifest"]["identify"]["backend"] for m in lid)
    assert all(sha256_file(m["path"]) == m["sha256"] for m in lid if m["bytes"] < 50_000_000)
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p.relative_to(release).as_posix() for p in release.rglob("*") if p.is_file() and p.name != "manifest.json"}
    assert listed == on_disk
    for entry in manifest["files"]:
        assert sha256_file(release / entry["path"]) == entry["sha256"]


def test_dataset_card_header_and_table(sample_run, release):
    card = (release / "README.md").read_text()
    assert card.startswith("---\n")
    header = yaml.safe_load(card.split("---\n")[1])
    languages = json.loads((sample_run / "stats" / "languages.json").read_text())
    kept_labels = sorted(s["lang_script"] for s in languages if s["documents"])
    assert header["language"] == sorted({to_bcp47(label) for label in kept_labels})
    assert "yo-Latn" in header["language"] and "ug-Arab" in header["language"]
    configs = {c["config_name"]: c for c in header["configs"]}
    assert set(configs) == set(kept_labels) | {"all"}
    for label in kept_labels:
        pattern = configs[label]["data_files"][0]["path"]
        assert configs[label]["data_files"][0]["split"] == "train"
        assert sorted(release.glob(pattern)) == sorted((release / "data" / label).glob("*.parquet"))
    que = next(s for s in languages if s["lang_script"] == "que_Latn")
    share = 100 * que["dropped"]["dedup:exact"] / que["annotated"]
    row = next(line for line in card.splitlines() if line.startswith("| que_Latn |"))
    assert f"dedup:exact {share:.1f}%" in row and f"| {que['documents']} | {que['words']} |" in row
    assert "not audited" in row


def test_verify_passes_then_fails_on_a_modified_shard(release, tmp_path, capsys):
    assert verify_release(release) == []
    assert cli_main(["verify", str(release)]) == 0
    copy = tmp_path / "tampered"
    shutil.copytree(release, copy)
    shard = sorted((copy / "data" / "yor_Latn").glob("*.parquet"))[0]
    data = bytearray(shard.read_bytes())
    data[len(data) // 2] ^= 0xFF
    shard.write_bytes(bytes(data))
    capsys.readouterr()
    assert cli_main(["verify", str(copy)]) == 1
    err = capsys.readouterr().err
    assert "FAILED" in err and shard.relative_to(copy).as_posix() in err and "sha256" in err
    # an extra, unlisted shard is reported too
    shutil.copy(sorted((copy / "data" / "amh_Ethi").glob("*.parquet"))[0], copy / "data" / "amh_Ethi" / "extra.parquet")
    assert any("data/amh_Ethi/extra.parquet: not listed" in p for p in verify_release(copy))


def test_export_refuses_to_overwrite_without_force(sample_run, release, tmp_path):
    from longtail.pipeline.release.export import ReleaseError

    with pytest.raises(ReleaseError, match="exists"):
        export_release(sample_run, release, progress=False)
    target = tmp_path / "again"
    export_release(sample_run, target, shard_bytes=1 << 30, progress=False)
    first = json.loads((target / "manifest.json").read_text())
    assert all(f["path"].endswith("-00000-of-00001.parquet") for f in first["files"] if f["path"].startswith("data/"))
    export_release(sample_run, target, shard_bytes=1 << 30, force=True, progress=False)
    assert verify_release(target) == []
    assert not list(tmp_path.glob(".again*")), "no temporary folders left behind"


def test_release_loads_unchanged_in_datasets_duckdb_and_polars(release):
    import datasets
    import duckdb
    import polars as pl

    manifest = json.loads((release / "manifest.json").read_text())
    expected_ids = sorted(r for f in manifest["files"] if f["path"].startswith("data/") for r in pq.read_table(release / f["path"]).column("id").to_pylist())
    names = [f.name for f in RELEASE_SCHEMA]

    ds = datasets.load_dataset("parquet", data_files=str(release / "data" / "*" / "*.parquet"), split="train", cache_dir=str(release.parent / "hf-cache"))
    assert ds.column_names == names and sorted(ds["id"]) == expected_ids
    yor = datasets.load_dataset("parquet", data_files=str(release / "data" / "yor_Latn" / "*.parquet"), split="train", cache_dir=str(release.parent / "hf-cache"))
    assert set(yor["lang_script"]) == {"yor_Latn"} and len(yor) == next(lang["documents"] for lang in manifest["languages"] if lang["lang_script"] == "yor_Latn")
    # the dataset card's configs, as the Hub would use them: load the folder by config name
    by_config = datasets.load_dataset(str(release), "uig_Arab", split="train", cache_dir=str(release.parent / "hf-cache"))
    assert set(by_config["lang_script"]) == {"uig_Arab"} and len(by_config) == next(lang["documents"] for lang in manifest["languages"] if lang["lang_script"] == "uig_Arab")
    assert sorted(datasets.load_dataset(str(release), "all", split="train", cache_dir=str(release.parent / "hf-cache"))["id"]) == expected_ids

    con = duckdb.connect()
    relation = con.sql(f"SELECT * FROM read_parquet('{release}/data/*/*.parquet')")
    assert relation.columns == names
    assert sorted(r[0] for r in con.sql(f"SELECT id FROM read_parquet('{release}/data/*/*.parquet')").fetchall()) == expected_ids
    per_lang = dict(con.sql(f"SELECT lang_script, count(*) FROM read_parquet('{release}/data/*/*.parquet') GROUP BY 1").fetchall())
    assert per_lang == {lang["lang_script"]: lang["documents"] for lang in manifest["languages"]}

    frame = pl.read_parquet(str(release / "data" / "*" / "*.parquet"))
    assert frame.columns == names and sorted(frame["id"].to_list()) == expected_ids
    assert frame.schema["dup_cluster_size"] == pl.Int32 and frame["dup_cluster_size"].min() >= 1


def test_publish_copies_a_verified_release_and_refuses_a_modified_one(release, tmp_path):
    import fsspec

    from longtail.pipeline.release.export import ReleaseError, publish_release

    url = f"memory://longtail-test-{tmp_path.name}/sample"
    count = publish_release(release, url)
    manifest = json.loads((release / "manifest.json").read_text())
    assert count == len(manifest["files"]) + 1
    fs, root = fsspec.core.url_to_fs(url)
    for entry in manifest["files"]:
        assert fs.cat_file(f"{root}/{entry['path']}") == (release / entry["path"]).read_bytes()
    copy = tmp_path / "tampered"
    shutil.copytree(release, copy)
    (copy / "README.md").write_text("changed")
    with pytest.raises(ReleaseError, match="does not verify"):
        publish_release(copy, url + "-2")


def test_audited_contamination_reaches_the_card_and_manifest(sample_run, tmp_path):
    # the JSON `longtail audit-report --json` writes
    audit = tmp_path / "audit.json"
    audit.write_text(json.dumps({"yor_Latn": {"sampled": 4, "judged": 4, "wrong_language": 1, "wrong_language_rate": 0.25,
                                              "not_language_rate": 0.0, "wrong_language_ci95": [0.05, 0.7]}}))
    target = tmp_path / "audited"
    assert cli_main(["export", str(sample_run), "--to", str(target), "--audit", str(audit), "--quiet"]) == 0
    card = (target / "README.md").read_text()
    assert next(line for line in card.splitlines() if line.startswith("| yor_Latn |")).endswith("| 25.0% |")
    assert next(line for line in card.splitlines() if line.startswith("| uig_Arab |")).endswith("| not audited |")
    manifest = json.loads((target / "manifest.json").read_text())
    rates = {lang["lang_script"]: lang["estimated_contamination"] for lang in manifest["languages"]}
    assert rates["yor_Latn"] == 0.25 and rates["uig_Arab"] is None
    assert json.loads((target / "stats" / "contamination.json").read_text()) == json.loads(audit.read_text())
    assert verify_release(target) == []

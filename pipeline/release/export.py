"""Dataset releases: a finished run folder -> a self-describing, checksummed release folder.

Layout of a release (documented in docs/release.md)::

    README.md                        Hugging Face dataset card (YAML header: languages, one config per language)
    manifest.json                    every file with sha256, rows, bytes; run configuration, code version, models
    data/<lang_script>/train-00000-of-00002.parquet   kept documents, RELEASE_SCHEMA, rows sorted by id
    stats/languages.json, records.json, run.json, lid_contamination.json   the run's statistics, copied unchanged

The folder is built next to the target and renamed into place, so a reader never sees half a release.
Shard folders are plain ``data/<lang_script>/`` rather than Hive ``lang_script=<label>/``: readers that
auto-detect Hive partitions (DuckDB, Polars, ``datasets``) would otherwise add a second ``lang_script`` column.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from longtail.fileio import atomic_write_text
from longtail.langid.labels import is_safe_label, to_bcp47

from longtail.pipeline.provenance import code_version, model_fingerprints, sha256_file
from longtail.pipeline.runfolder import CONTAMINATION_JSON, LANGUAGES_CSV, LANGUAGES_JSON, LID_CONTAMINATION_JSON, RECORDS_JSON, RUN_JSON, RunFolder

log = logging.getLogger("longtail.export")

RELEASE_FORMAT = "longtail-release/1"
DEFAULT_SHARD_BYTES = 256 * 1024 * 1024
STATS_FILES = (LANGUAGES_JSON, LANGUAGES_CSV, RECORDS_JSON, RUN_JSON, LID_CONTAMINATION_JSON, CONTAMINATION_JSON)  # copied from the run's stats/

# The stable public schema: column order, names and types only ever grow by appending.
RELEASE_SCHEMA = pa.schema(
    [
        pa.field("id", pa.string(), nullable=False, metadata={"doc": "stable document id (hash of WARC record id / URL)"}),
        pa.field("text", pa.string(), nullable=False, metadata={"doc": "extracted main text, UTF-8, NFC as extracted"}),
        pa.field("url", pa.string(), metadata={"doc": "target URI of the WARC record"}),
        pa.field("crawl_date", pa.string(), metadata={"doc": "WARC-Date, ISO 8601 UTC"}),
        pa.field("lang_script", pa.string(), nullable=False, metadata={"doc": "ISO 639-3 + ISO 15924, e.g. yor_Latn"}),
        pa.field("warc_filename", pa.string(), metadata={"doc": "WARC file (path or URL) the record was read from"}),
        pa.field("warc_record_id", pa.string(), metadata={"doc": "WARC-Record-ID without urn:uuid: and brackets"}),
        pa.field("warc_record_offset", pa.int64(), metadata={"doc": "byte offset of the record in warc_filename"}),
        pa.field("lang_score", pa.float64(), metadata={"doc": "language-ID confidence of lang_script, 0..1"}),
        pa.field("perplexity", pa.float64(), metadata={"doc": "KenLM perplexity under the language's model (null: no model)"}),
        pa.field("quality_score", pa.float64(), metadata={"doc": "quality classifier P(good), 0..1 (null: no classifier)"}),
        pa.field("n_words", pa.int64(), metadata={"doc": "script-aware word count"}),
        pa.field("dup_cluster_size", pa.int32(), nullable=False, metadata={"doc": "copies of this text in the crawl incl. itself (1 = unique)"}),
    ]
)
# Release column -> run ``dataset/`` column, where the names differ.
_SOURCE_COLUMN = {"warc_filename": "source_file", "warc_record_offset": "warc_offset"}


class ReleaseError(RuntimeError):
    """A release cannot be written or does not verify; the message says which file and why."""


def _read_json(path: Path, default=None):
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else default


def origin_map(run_info: dict) -> dict[tuple[str, int], tuple[str, int]]:
    """(file name, offset) in a WARC written by ``longtail targeted-fetch`` -> (original WARC file, offset), from
    the ``<warc>.index.jsonl`` sidecars of the run's inputs, so a release points at the Common Crawl record."""
    mapping = {}
    for unit in run_info.get("inputs") or []:
        sidecar = Path(unit.removeprefix("file://") + ".index.jsonl")
        if ("://" in unit and not unit.startswith("file://")) or not sidecar.is_file():
            continue
        name = Path(unit).name
        for line in sidecar.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                mapping[(name, row["offset"])] = (row["warc_filename"], row["warc_record_offset"])
    return mapping


def to_release_table(table: pa.Table, origins: dict[tuple[str, int], tuple[str, int]] | None = None) -> pa.Table:
    """Map a run's ``dataset/`` rows onto RELEASE_SCHEMA (missing optional columns become nulls)."""
    if origins and {"source_file", "warc_offset"} <= set(table.column_names):
        places = [origins.get((f, o), (f, o)) for f, o in zip(table.column("source_file").to_pylist(), table.column("warc_offset").to_pylist())]
        table = table.set_column(table.column_names.index("source_file"), "source_file", pa.array([p[0] for p in places], pa.string()))
        table = table.set_column(table.column_names.index("warc_offset"), "warc_offset", pa.array([p[1] for p in places], pa.int64()))
    columns = []
    for field in RELEASE_SCHEMA:
        source = _SOURCE_COLUMN.get(field.name, field.name)
        if source in table.column_names:
            column = table.column(source).cast(field.type)
        else:
            column = pa.nulls(table.num_rows, field.type)
        if field.name == "dup_cluster_size":  # null in the run = no duplicates found
            column = pc.fill_null(column, pa.scalar(1, pa.int32()))
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=RELEASE_SCHEMA)


def read_run_language(run_dir: Path, label: str) -> pa.Table:
    parts = RunFolder(run_dir).kept_files_of(label)
    tables = [pq.read_table(p) for p in parts]
    table = pa.concat_tables(tables, promote_options="default") if tables else pa.table({"id": pa.array([], pa.string())})
    if "lang_script" not in table.column_names:  # Hive partition value lives in the folder name
        table = table.append_column("lang_script", pa.array([label] * table.num_rows, pa.string()))
    return table.sort_by([("id", "ascending")])


def shard_ranges(table: pa.Table, shard_bytes: int) -> list[tuple[int, int]]:
    """Split rows (in order) into runs of about ``shard_bytes`` of uncompressed data each (at least one row)."""
    if table.num_rows == 0:
        return []
    per_row = (table.nbytes / table.num_rows) if table.num_rows else 0
    text_bytes = pc.binary_length(pc.cast(pc.fill_null(table.column("text"), ""), pa.binary())).to_pylist()
    fixed = max(per_row - sum(text_bytes) / table.num_rows, 0)  # the non-text columns, on average
    ranges, start, budget = [], 0, 0.0
    for index, size in enumerate(text_bytes):
        row = size + fixed
        if index > start and budget + row > shard_bytes:
            ranges.append((start, index))
            start, budget = index, 0.0
        budget += row
    ranges.append((start, table.num_rows))
    return ranges


def write_language(table: pa.Table, folder: Path, shard_bytes: int, compression: str = "zstd") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    ranges = shard_ranges(table, shard_bytes)
    paths = []
    for index, (start, end) in enumerate(ranges):
        path = folder / f"train-{index:05d}-of-{len(ranges):05d}.parquet"
        tmp = path.with_name(f".{path.name}.tmp")
        pq.write_table(table.slice(start, end - start), tmp, compression=compression, row_group_size=10_000)
        os.replace(tmp, path)
        paths.append(path)
    return paths


def _removed_shares(stats: dict) -> dict[str, float]:
    annotated = stats.get("annotated") or 0
    return {reason: round(count / annotated, 4) for reason, count in sorted((stats.get("dropped") or {}).items())} if annotated else {}


def audited_contamination(path: Path) -> dict[str, float]:
    """Estimated wrong-language rate per audited language: the JSON of ``longtail audit-report --json``
    (``{label: {"wrong_language_rate": rate, ...}}``) or ``{label: rate}``; {} when there is no audit."""
    raw = _read_json(path, {}) or {}
    if isinstance(raw, list):
        raw = {row.get("lang_script"): row for row in raw if isinstance(row, dict)}
    rates = {}
    for label, value in raw.items():
        if isinstance(value, dict):
            value = next((value[k] for k in ("wrong_language_rate", "estimated_rate", "rate") if k in value), None)
        if isinstance(value, (int, float)):
            rates[label] = float(value)
    return rates


def safety_summary(run_info: dict, languages: list[dict]) -> dict:
    """Which URL lists and personal-data rules the run applied (``run_info["safety"]``, recorded at run time) with
    their counts over every language of the run: pages dropped per ``url:`` reason, personal data per kind in the
    released documents."""
    rules = run_info.get("safety") or {}
    url_drops: Counter = Counter()
    pii_kept: Counter = Counter()
    for stats in languages:
        url_drops.update({r: n for r, n in (stats.get("dropped") or {}).items() if r.startswith("url:")})
        pii_kept.update((stats.get("pii") or {}).get("kept") or {})
    return {
        "url_filter": {**(rules.get("url_filter") or {"recorded": False}), "dropped": dict(sorted(url_drops.items()))},
        "pii": {**(rules.get("pii") or {"recorded": False}), "found_in_released_documents": dict(sorted(pii_kept.items()))},
    }


def _safety_lines(summary: dict) -> list[str]:
    urls, pii = summary["url_filter"], summary["pii"]
    lines = ["## What was removed or masked", ""]
    if urls.get("enabled"):
        lines.append("URL rules (the page is dropped; allow lists override block lists):")
        lines.append("")
        for item in urls.get("lists", []):
            version = f" {item['version']}" if item.get("version") else ""
            lines.append(f"- {item['name']}{version} (`{item['file']}`, sha256 `{item['sha256'][:16]}...`)")
        dropped = urls.get("dropped") or {}
        lines += ["", "Pages dropped: " + (", ".join(f"`{r}` {n}" for r, n in dropped.items()) or "none") + ".", ""]
    else:
        lines += ["URL rules: " + ("not applied." if urls.get("enabled") is False else "not recorded for this run."), ""]
    if pii.get("enabled"):
        verb = "replaced by placeholders" if pii.get("mode") == "replace" else "counted, NOT replaced (stages.pii.mode: annotate)"
        lines.append(f"Personal data {verb}, before scoring and dedup:")
        lines.append("")
        for rule in pii.get("rules", []):
            lines.append(f"- {rule['kind']}: {rule['method']} -> `{rule['placeholder']}`")
        found = pii.get("found_in_released_documents") or {}
        lines += ["", "In the released documents: " + ", ".join(f"{k} {found.get(k, 0)}" for k in ("email", "ip", "phone", "documents")) + "."]
        lines += ["Rule-based masking misses some personal data (names, street addresses are not masked) and masks some numbers that are not; "
                  "see the false-positive rate in longtail's docs/release.md.", ""]
    else:
        lines += ["Personal data: " + ("not masked." if pii.get("enabled") is False else "not recorded for this run."), ""]
    return lines


def dataset_card(name: str, languages: list[dict], contamination: dict[str, float], run_info: dict, code: str, safety: dict | None = None) -> str:
    """Hugging Face dataset card: YAML header (languages, configs) + a per-language table. ``safety``:
    :func:`safety_summary` over all the run's languages (default: over ``languages``)."""
    codes = sorted({to_bcp47(s["lang_script"]) for s in languages})
    total_docs = sum(s["release_rows"] for s in languages)
    size = next(c for limit, c in ((1e3, "n<1K"), (1e4, "1K<n<10K"), (1e5, "10K<n<100K"), (1e6, "100K<n<1M"), (1e7, "1M<n<10M"), (float("inf"), "n>10M")) if total_docs < limit)
    header = ["---", f"pretty_name: longtail {name}", "language:"] + [f"- {c}" for c in codes]
    header += ["multilinguality: multilingual", "task_categories:", "- text-generation", "size_categories:", f"- {size}", "configs:"]
    header += ["- config_name: all", "  data_files:", "  - split: train", "    path: data/*/*.parquet"]
    for stats in languages:
        header += [f"- config_name: {stats['lang_script']}", "  data_files:", "  - split: train", f"    path: data/{stats['lang_script']}/*.parquet"]
    header.append("---")
    manifest = run_info.get("manifest") or {}
    lines = [
        f"# longtail {name}",
        "",
        "Clean, deduplicated, per-language web text produced by [longtail](https://example.invalid/longtail) "
        f"(code version `{code}`). One config per `lang_script` (ISO 639-3 + ISO 15924); `all` loads every language.",
        "",
        "```python",
        "from datasets import load_dataset",
        f"ds = load_dataset(\"parquet\", data_files=\"data/{languages[0]['lang_script'] if languages else 'yor_Latn'}/*.parquet\", split=\"train\")",
        "```",
        "",
        "## Languages",
        "",
        "Removed shares are of the documents the language had after language identification; `not audited` means no "
        "human audit of wrong-language contamination was run for that language.",
        "",
        "| lang_script | BCP-47 | documents | words | removed (all reasons) | removed per reason | est. contamination |",
        "| --- | --- | ---: | ---: | ---: | --- | ---: |",
    ]
    for stats in languages:
        shares = _removed_shares(stats)
        per_reason = ", ".join(f"{r} {100 * v:.1f}%" for r, v in sorted(shares.items(), key=lambda kv: -kv[1])) or "-"
        label = stats["lang_script"]
        rate = f"{100 * contamination[label]:.1f}%" if label in contamination else "not audited"
        lines.append(f"| {label} | {to_bcp47(label)} | {stats['release_rows']} | {stats.get('words', 0)} | "
                     f"{100 * sum(shares.values()):.1f}% | {per_reason} | {rate} |")
    lines += [""] + _safety_lines(safety or safety_summary(run_info, languages))
    lines += [
        "## Fields",
        "",
        "| column | type | meaning |",
        "| --- | --- | --- |",
    ] + [f"| `{f.name}` | {f.type} | {f.metadata[b'doc'].decode()} |" for f in RELEASE_SCHEMA] + [
        "",
        "## Provenance",
        "",
        "`manifest.json` lists every file with its sha256, row count and size, the run's exact configuration, the code "
        "version and the sha256 of every model used (language ID, KenLM, quality classifier). Check a download with "
        "`longtail verify <folder>`.",
        "",
        f"Inputs: {len(run_info.get('inputs') or [])} file(s). Language ID backend: "
        f"`{(manifest.get('identify') or {}).get('backend', 'unknown')}`.",
        "",
    ]
    return "\n".join(header) + "\n" + "\n".join(lines)


def _file_entry(release: Path, path: Path, **extra) -> dict:
    return {"path": path.relative_to(release).as_posix(), "sha256": sha256_file(path), "bytes": path.stat().st_size, **extra}


def export_release(run_dir: str | Path, release_dir: str | Path, shard_bytes: int = DEFAULT_SHARD_BYTES, force: bool = False, progress: bool = True,
                   audit: str | Path | None = None) -> dict:
    """Write the release of a finished run; returns its manifest. Refuses to overwrite unless ``force``.
    ``audit``: wrong-language audit results (``longtail audit-report --json``); default ``stats/contamination.json``."""
    from tqdm import tqdm

    run_dir, release_dir = Path(run_dir).resolve(), Path(release_dir).resolve()
    run = RunFolder(run_dir)
    languages_stats = _read_json(run.stats_file(LANGUAGES_JSON))
    run_info = _read_json(run.stats_file(RUN_JSON))
    if languages_stats is None or run_info is None or not run.dataset.is_dir():
        raise ReleaseError(f"{run_dir} is not a finished run (needs dataset/ and stats/languages.json, stats/run.json)")
    if shard_bytes <= 0:
        raise ReleaseError("--shard-bytes must be positive")
    if release_dir.exists() and not force:
        raise ReleaseError(f"{release_dir} exists; pass --force to replace it")

    staging = release_dir.with_name(f".{release_dir.name}.{os.getpid()}.partial")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "data").mkdir(parents=True)
    try:
        files, released = [], []
        origins = origin_map(run_info)
        labels = [s for s in sorted(languages_stats, key=lambda s: s["lang_script"]) if s.get("documents")]
        for stats in tqdm(labels, desc="export", unit="lang", disable=not progress):
            label = stats["lang_script"]
            if not is_safe_label(label):
                raise ReleaseError(f"unsafe language label {label!r} in stats/languages.json")
            table = to_release_table(read_run_language(run_dir, label), origins)
            if table.num_rows != stats["documents"]:
                raise ReleaseError(f"{label}: dataset/ has {table.num_rows} rows but stats say {stats['documents']}")
            for path in write_language(table, staging / "data" / label, shard_bytes):
                files.append(_file_entry(staging, path, rows=pq.ParquetFile(path).metadata.num_rows, lang_script=label))
            released.append({**stats, "release_rows": table.num_rows})

        (staging / "stats").mkdir()
        audit_path = Path(audit) if audit else run.stats_file(CONTAMINATION_JSON)
        if audit and not audit_path.is_file():
            raise ReleaseError(f"audit results not found: {audit_path}")
        for name in STATS_FILES:
            source = audit_path if name == CONTAMINATION_JSON else run.stats_file(name)
            if source.is_file():
                shutil.copy2(source, staging / "stats" / name)
                files.append(_file_entry(staging, staging / "stats" / name))

        code = code_version()
        name = (run_info.get("manifest") or {}).get("name", run_dir.name)
        contamination = audited_contamination(audit_path)
        safety = safety_summary(run_info, languages_stats)
        atomic_write_text(staging / "README.md", dataset_card(name, released, contamination, run_info, run_info.get("code_version") or code, safety))
        files.append(_file_entry(staging, staging / "README.md"))

        models = run_info.get("models")
        if models is None:  # runs recorded before run.json carried model hashes: hash what the manifest points at now
            models = [{**m, "hashed_at": "export"} for m in model_fingerprints(run_info.get("manifest") or {})]
        manifest = {
            "format": RELEASE_FORMAT,
            "name": name,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "code_version": run_info.get("code_version") or code,
            "export_code_version": code,
            "shard_bytes": shard_bytes,
            "schema": [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in RELEASE_SCHEMA],
            "languages": [
                {"lang_script": s["lang_script"], "bcp47": to_bcp47(s["lang_script"]), "documents": s["release_rows"], "words": s.get("words", 0),
                 "removed_share": _removed_shares(s), "estimated_contamination": contamination.get(s["lang_script"])}
                for s in released
            ],
            "safety": safety,
            "run": {k: v for k, v in run_info.items() if k != "models"},
            "models": models,
            "files": files,
        }
        atomic_write_text(staging / "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False, default=str))

        if release_dir.exists():  # --force: swap, then delete the old release
            old = release_dir.with_name(f".{release_dir.name}.{os.getpid()}.old")
            release_dir.rename(old)
            staging.rename(release_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            release_dir.parent.mkdir(parents=True, exist_ok=True)
            staging.rename(release_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    log.debug("export: %d files, %d languages -> %s", len(files), len(released), release_dir)
    return manifest


def verify_release(release_dir: str | Path) -> list[str]:
    """Recheck every file of a release against its manifest; returns the problems (empty = verified)."""
    release_dir = Path(release_dir)
    manifest = _read_json(release_dir / "manifest.json")
    if manifest is None:
        return [f"{release_dir / 'manifest.json'}: missing"]
    problems, listed = [], set()
    for entry in manifest.get("files", []):
        rel = entry["path"]
        listed.add(rel)
        path = release_dir / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
            continue
        if path.stat().st_size != entry["bytes"]:
            problems.append(f"{rel}: size {path.stat().st_size} bytes, manifest says {entry['bytes']}")
        digest = sha256_file(path)
        if digest != entry["sha256"]:
            problems.append(f"{rel}: sha256 {digest} does not match the manifest's {entry['sha256']} (file modified or corrupt)")
            continue
        if "rows" in entry:
            rows = pq.ParquetFile(path).metadata.num_rows
            if rows != entry["rows"]:
                problems.append(f"{rel}: {rows} rows, manifest says {entry['rows']}")
    for path in sorted((release_dir / "data").rglob("*.parquet")) if (release_dir / "data").is_dir() else []:
        rel = path.relative_to(release_dir).as_posix()
        if rel not in listed:
            problems.append(f"{rel}: not listed in manifest.json (unexpected shard)")
    return problems


def publish_release(release_dir: str | Path, url: str) -> int:
    """Copy a verified release to an fsspec URL (``s3://bucket/releases/x``) and check every file's sha256 there.

    ``manifest.json`` is uploaded last, so a reader who finds it also finds every file it lists."""
    import hashlib

    import fsspec

    release_dir = Path(release_dir)
    problems = verify_release(release_dir)
    if problems:
        raise ReleaseError(f"{release_dir} does not verify; not publishing: {problems[0]}")
    manifest = _read_json(release_dir / "manifest.json")
    fs, root = fsspec.core.url_to_fs(url)
    entries = manifest["files"] + [{"path": "manifest.json", "sha256": sha256_file(release_dir / "manifest.json")}]
    for entry in entries:
        target = f"{root.rstrip('/')}/{entry['path']}"
        fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        fs.put_file(str(release_dir / entry["path"]), target)
        digest = hashlib.sha256()
        with fs.open(target, "rb") as handle:
            while block := handle.read(1 << 20):
                digest.update(block)
        if digest.hexdigest() != entry["sha256"]:
            raise ReleaseError(f"{url}/{entry['path']}: sha256 after upload differs from the release's")
    return len(entries)

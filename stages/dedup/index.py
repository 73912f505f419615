"""A persisted, versioned index of released documents' MinHash signatures, for incremental dedup.

Layout (plain Parquet, readable by any tool)::

    INDEX/index.json                                         format version, signature params, releases
    INDEX/release=<name>/lang_script=<label>/part-00000.parquet
        id, lang_script, bands (list<uint64>), text_hash, url, minhash, n_chars, crawl_date, release

A release's kept documents are indexed once (``longtail dedup-index build``); the next run with
``stages.dedup.previous_index`` reads only the index rows of each language it deduplicates, with their stored
band hashes and signatures (nothing is recomputed from text). Indexes can be merged and pruned by release.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from longtail.fileio import as_path
from longtail.langid.labels import is_safe_label
from longtail.stages.dedup.minhash import MinHashParams, band_hashes, signature_matrix

INDEX_FORMAT, INDEX_VERSION = "longtail-dedup-index", 1
MANIFEST_NAME = "index.json"
# Params that change signatures or band hashes: an index is only usable with the same values.
SIGNATURE_PARAMS = ("num_perm", "bands", "rows", "shingle", "char_ngram", "char_ngram_han", "ngram", "char_ngram_factor", "seed")


def _params_dict(params: MinHashParams) -> dict:
    values = asdict(params)
    return {k: values[k] for k in SIGNATURE_PARAMS}


def read_manifest(index_dir: str | Path) -> dict:
    path = as_path(index_dir) / MANIFEST_NAME  # an index used by a run may be on object storage (read only)
    if not path.is_file():
        raise FileNotFoundError(f"not a dedup index (no {MANIFEST_NAME}): {index_dir}")
    manifest = json.loads(path.read_text())
    if manifest.get("format") != INDEX_FORMAT or manifest.get("version") != INDEX_VERSION:
        raise ValueError(f"{path}: unsupported index format {manifest.get('format')!r} version {manifest.get('version')!r}")
    return manifest


def _write_manifest(index_dir: Path, manifest: dict) -> None:
    tmp = index_dir / (MANIFEST_NAME + ".tmp")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    tmp.rename(index_dir / MANIFEST_NAME)


def check_params(manifest: dict, params: MinHashParams, where: str) -> None:
    wanted = _params_dict(params)
    if manifest["params"] != wanted:
        diff = {k: (manifest["params"].get(k), v) for k, v in wanted.items() if manifest["params"].get(k) != v}
        raise ValueError(f"{where}: index built with other MinHash params (index, run): {diff}")


def index_rows(table: pa.Table, params: MinHashParams, release: str) -> pa.Table:
    """Index rows for annotated documents (needs id, lang_script, text_hash, url, minhash, n_chars, crawl_date)."""
    bands = band_hashes(signature_matrix(table), table.column("lang_script").to_pylist(), params)
    return pa.table(
        {
            "id": table.column("id"),
            "lang_script": table.column("lang_script"),
            "bands": pa.FixedSizeListArray.from_arrays(pa.array(bands.reshape(-1), pa.uint64()), params.bands),
            "text_hash": table.column("text_hash").cast(pa.uint64()),
            "url": table.column("url"),
            "minhash": table.column("minhash"),
            "n_chars": table.column("n_chars").cast(pa.int64()),
            "crawl_date": table.column("crawl_date").cast(pa.string()),
            "release": pa.array([release] * table.num_rows, pa.string()),
        }
    )


def add_release(index_dir: str | Path, table: pa.Table, params: MinHashParams, release: str, source: str = "") -> dict:
    """Append ``table`` (annotated rows of the released documents) to the index as release ``release``."""
    if not release or not release.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise ValueError(f"release name must use letters, digits, '-', '_' and '.' only, got {release!r}")
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    if (index_dir / MANIFEST_NAME).is_file():
        manifest = read_manifest(index_dir)
        check_params(manifest, params, str(index_dir))
    else:
        manifest = {"format": INDEX_FORMAT, "version": INDEX_VERSION, "params": _params_dict(params), "releases": []}
    if any(r["name"] == release for r in manifest["releases"]):
        raise ValueError(f"{index_dir}: release {release!r} is already indexed")
    rows = index_rows(table, params, release)
    languages = {}
    staging = index_dir / f".release={release}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    for label in sorted(set(rows.column("lang_script").to_pylist())):
        if not is_safe_label(label):
            raise ValueError(f"unsafe language label {label!r}")
        part = rows.filter(pc.equal(rows.column("lang_script"), label)).sort_by([("id", "ascending")])
        folder = staging / f"lang_script={label}"
        folder.mkdir(parents=True)
        pq.write_table(part, folder / "part-00000.parquet", compression="zstd")
        languages[label] = part.num_rows
    staging.mkdir(parents=True, exist_ok=True)
    staging.rename(index_dir / f"release={release}")
    entry = {"name": release, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "documents": rows.num_rows, "languages": languages, "source": source}
    manifest["releases"].append(entry)
    _write_manifest(index_dir, manifest)
    return entry


def build_from_files(kept_files: list, annotated_files: list, index_dir: str | Path, params: MinHashParams, release: str, source: str = "") -> dict:
    """Index the documents in ``kept_files`` (Parquet with an ``id`` column), taking their signatures from
    ``annotated_files`` (annotate-pass Parquet). Which files a run has is the run folder's business
    (``longtail dedup-index build``, pipeline/cli/dedup.py)."""
    if not kept_files:
        raise FileNotFoundError(f"no kept documents in {source or 'the given files'}")
    kept = pa.concat_tables([pq.read_table(f, columns=["id"]) for f in kept_files]).column("id").combine_chunks()
    columns = ["id", "lang_script", "text_hash", "url", "minhash", "n_chars", "crawl_date"]
    tables = []
    for path in annotated_files:
        table = pq.read_table(path, columns=columns)
        tables.append(table.filter(pc.is_in(table.column("id"), value_set=kept)))
    table = pa.concat_tables(tables, promote_options="default") if tables else None
    if table is None or table.num_rows != len(kept):
        found = 0 if table is None else table.num_rows
        raise ValueError(f"{source}: found signatures for {found} of {len(kept)} kept documents in the annotations")
    return add_release(index_dir, table, params, release, source=source)


def language_files(index_dir: str | Path, label: str, params: MinHashParams) -> list[str]:
    """The index's Parquet files holding ``label``, oldest release first."""
    manifest = read_manifest(index_dir)
    check_params(manifest, params, str(index_dir))
    files = []
    for entry in manifest["releases"]:
        folder = as_path(index_dir) / f"release={entry['name']}" / f"lang_script={label}"
        files.extend(str(p) for p in sorted(folder.glob("*.parquet")))
    return files


def merge(output_dir: str | Path, inputs: list[str | Path]) -> dict:
    """A new index holding every release of ``inputs`` (same params, distinct release names)."""
    output_dir = Path(output_dir)
    if (output_dir / MANIFEST_NAME).exists():
        raise ValueError(f"{output_dir} already holds an index")
    manifests = [read_manifest(i) for i in inputs]
    if any(m["params"] != manifests[0]["params"] for m in manifests):
        raise ValueError("indexes built with different MinHash params cannot be merged")
    names = [r["name"] for m in manifests for r in m["releases"]]
    if len(names) != len(set(names)):
        raise ValueError(f"release names collide: {sorted(n for n in set(names) if names.count(n) > 1)}")
    output_dir.mkdir(parents=True, exist_ok=True)
    releases = []
    for source, manifest in zip(inputs, manifests):
        for entry in manifest["releases"]:
            shutil.copytree(Path(source) / f"release={entry['name']}", output_dir / f"release={entry['name']}")
            releases.append(entry)
    merged = {"format": INDEX_FORMAT, "version": INDEX_VERSION, "params": manifests[0]["params"], "releases": releases}
    _write_manifest(output_dir, merged)
    return merged


def prune(index_dir: str | Path, keep_last: int | None = None, drop: list[str] | None = None) -> list[str]:
    """Remove releases: all but the newest ``keep_last``, and/or the ones named in ``drop``; returns the removed."""
    index_dir = Path(index_dir)
    manifest = read_manifest(index_dir)
    names = [r["name"] for r in manifest["releases"]]
    unknown = sorted(set(drop or []) - set(names))
    if unknown:
        raise ValueError(f"{index_dir}: no release named {unknown[0]!r} (releases: {', '.join(names)})")
    removed = set(drop or [])
    if keep_last is not None:
        removed.update(names[: max(0, len(names) - keep_last)])
    manifest["releases"] = [r for r in manifest["releases"] if r["name"] not in removed]
    _write_manifest(index_dir, manifest)  # the manifest first: a crash leaves only unreferenced folders
    for name in sorted(removed):
        shutil.rmtree(index_dir / f"release={name}", ignore_errors=True)
    return [n for n in names if n in removed]


def info(index_dir: str | Path) -> str:
    manifest = read_manifest(index_dir)
    params = ", ".join(f"{k}={v}" for k, v in manifest["params"].items())
    lines = [f"{index_dir}: {INDEX_FORMAT} v{manifest['version']} ({params})"]
    totals: dict[str, int] = {}
    for entry in manifest["releases"]:
        langs = ", ".join(f"{k} {v}" for k, v in sorted(entry["languages"].items()))
        lines.append(f"  release {entry['name']}: {entry['documents']} documents, created {entry['created']} ({langs})")
        for k, v in entry["languages"].items():
            totals[k] = totals.get(k, 0) + v
    lines.append(f"  total: {sum(totals.values())} documents in {len(totals)} languages, {len(manifest['releases'])} releases")
    return "\n".join(lines)


def total_documents(index_dir: str | Path) -> int:
    return int(np.sum([r["documents"] for r in read_manifest(index_dir)["releases"]]))

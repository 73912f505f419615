"""Targeted fetch for small languages: read only the WARC records a Common Crawl columnar index points at.

A small language is a few thousand pages spread over tens of thousands of 1 GB WARC files; reading them all
to find those pages costs ~99.9 % wasted transfer. Common Crawl's columnar URL index (Parquet) records, per
capture, the languages CLD2 saw (``content_languages``, ISO 639-3, comma-separated, main language first) and
where the record is (``warc_filename``, ``warc_record_offset``, ``warc_record_length``). We select candidates
with DuckDB and fetch each record with one ranged read through fsspec. Every record is a complete gzip member,
so the fetched bytes are concatenated unchanged into a small WARC that ``longtail run`` reads like any other.

The index is only a candidate filter (CLD2 is weak on many small languages, so any listed language counts,
not just the first); longtail's own language ID still decides what a document is.
"""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("longtail.targeted")

HTML_MIMES = ("text/html", "application/xhtml+xml")
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class IndexRecord:
    url: str
    warc_filename: str
    warc_record_offset: int
    warc_record_length: int
    content_languages: str | None


def language_codes(targets: list[str]) -> list[str]:
    """``yor_Latn`` / ``yor`` / ``yo`` -> ISO 639-3 codes as Common Crawl writes them, including the individual
    languages of a macrolanguage (``swa`` also matches ``swh``), since CLD2 reports either."""
    from longtail.langid.labels import INDIVIDUAL_TO_MACRO, iso639_3

    codes: set[str] = set()
    for target in targets:
        code = iso639_3(target.split("_", 1)[0]) or target.split("_", 1)[0]
        codes.add(code)
        codes.update(individual for individual, macro in INDIVIDUAL_TO_MACRO.items() if macro == code)
        if code in INDIVIDUAL_TO_MACRO:
            codes.add(INDIVIDUAL_TO_MACRO[code])
    return sorted(codes)


def select_records(index: str | list[str], targets: list[str], primary_only: bool = False, limit: int | None = None) -> list[IndexRecord]:
    """Candidate records for ``targets`` from Parquet index files (paths, globs or URLs DuckDB can read):
    HTTP 200, HTML by detected (else declared) MIME type, a target language among ``content_languages``."""
    import duckdb

    files = [index] if isinstance(index, str) else list(index)
    codes = language_codes(targets)
    languages = "string_split(content_languages, ',')"
    language_test = f"{languages}[1] IN (SELECT unnest($codes))" if primary_only else f"list_has_any({languages}, $codes)"
    query = f"""
        SELECT url, warc_filename, warc_record_offset, warc_record_length, content_languages
        FROM read_parquet($files, union_by_name = true)
        WHERE fetch_status = 200
          AND coalesce(content_mime_detected, content_mime_type) IN {HTML_MIMES}
          AND content_languages IS NOT NULL
          AND {language_test}
        ORDER BY warc_filename, warc_record_offset
        {f'LIMIT {int(limit)}' if limit else ''}
    """
    with duckdb.connect() as con:
        rows = con.execute(query, {"files": files, "codes": codes}).fetchall()
    return [IndexRecord(*row) for row in rows]


def fetch_record(record: IndexRecord, warc_prefix: str) -> bytes:
    """The record's bytes by one ranged read (``fs.cat_file(path, start, end)``)."""
    import fsspec

    fs, path = fsspec.core.url_to_fs(warc_prefix + record.warc_filename)
    start = record.warc_record_offset
    data = fs.cat_file(path, start=start, end=start + record.warc_record_length)
    if len(data) != record.warc_record_length or not data.startswith(GZIP_MAGIC):
        raise ValueError(f"{record.warc_filename}@{start}: expected a {record.warc_record_length}-byte gzip member, got {len(data)} bytes "
                         f"starting {data[:4]!r} (stale index or wrong --warc-prefix?)")
    return data


def fetch_to_warc(records: list[IndexRecord], warc_prefix: str, output: str | Path, threads: int = 8, progress: bool = True) -> dict:
    """Fetch ``records`` (in order) into one WARC.gz at ``output`` (written atomically) plus ``<output>.index.jsonl``
    mapping each record's offset in the new file back to its original WARC file and offset."""
    from tqdm import tqdm

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    mapping, position, fetched_bytes = [], 0, 0
    try:
        with open(tmp, "wb") as sink, ThreadPoolExecutor(max_workers=max(1, threads)) as pool, \
                tqdm(total=len(records), desc="fetch", unit="rec", disable=not progress) as bar:
            # map() keeps the index order, so the output is the same for the same selection
            for record, data in zip(records, pool.map(lambda r: fetch_record(r, warc_prefix), records)):
                sink.write(data)
                mapping.append({"offset": position, "url": record.url, "warc_filename": record.warc_filename,
                                "warc_record_offset": record.warc_record_offset, "warc_record_length": record.warc_record_length})
                position += len(data)
                fetched_bytes += len(data)
                bar.update(1)
        os.replace(tmp, output)
    finally:
        if tmp.exists():
            tmp.unlink()
    sidecar = output.with_name(output.name + ".index.jsonl")
    sidecar_tmp = sidecar.with_name(f".{sidecar.name}.tmp")
    sidecar_tmp.write_text("".join(json.dumps(m) + "\n" for m in mapping), encoding="utf-8")
    os.replace(sidecar_tmp, sidecar)
    log.debug("targeted: %d records, %d bytes -> %s", len(records), fetched_bytes, output)
    return {"records": len(records), "bytes": fetched_bytes, "output": str(output), "index": str(sidecar)}

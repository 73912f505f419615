"""Atomic file writes, and the few file operations that must also work when a run folder is an fsspec URL.

Local paths: write to a temporary file in the target's folder, then ``os.replace`` it into place. A crash (or an
exception while writing) leaves the previous file untouched and never a half-written one that a later run would
load. The temporary name starts with a dot and ends in ``.tmp``, so globs such as ``*.binary`` or ``*.png`` do not
pick it up.

URLs (``s3://bucket/runs/x``, any fsspec protocol but ``file://``): object stores have no rename, but an object
becomes visible only when its upload completes. So a writer writes a local temporary file and uploads it with one
``put``; nobody ever sees half an object. Paths under a URL are ``upath.UPath`` objects (pathlib's interface over
fsspec), so code that joins, globs and reads small files works on both; Parquet goes through
:func:`read_table` / :func:`write_parquet`, which hand pyarrow the fsspec filesystem.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

SCRATCH_ENV = "LONGTAIL_SCRATCH"  # local folder for temporary files and cached copies of remote files


def is_url(path) -> bool:
    """Whether ``path`` names an object-store (or other fsspec) location rather than a local file."""
    text = str(path)
    return "://" in text and not text.startswith("file://")


def as_path(path) -> Path:
    """``Path`` for a local path (unchanged behaviour), ``UPath`` for a URL."""
    if is_url(path):
        from upath import UPath

        return path if isinstance(path, UPath) else UPath(str(path))
    return Path(path)


def url_fs(path):
    """(fsspec filesystem, path within it) of a URL."""
    import fsspec

    return fsspec.core.url_to_fs(str(path))


def scratch_dir() -> Path:
    """This node's local scratch folder (``$LONGTAIL_SCRATCH``, default ``<tmp>/longtail-scratch``)."""
    folder = Path(os.environ.get(SCRATCH_ENV) or Path(tempfile.gettempdir()) / "longtail-scratch")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def atomic_path(path) -> Iterator[Path]:
    """Yield a temporary local path; on success it replaces ``path`` (local: rename; URL: one upload), on error
    it is removed.

    For writers that take a file name (fastText ``save_model``, matplotlib ``savefig``: give it ``format=``,
    the temporary name's suffix is ``.tmp``).
    """
    if is_url(path):
        with tempfile.TemporaryDirectory(dir=scratch_dir()) as folder:
            tmp = Path(folder) / f".{as_path(path).name}.{os.getpid()}.tmp"
            yield tmp
            upload(tmp, path)
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def upload(local: str | Path, url) -> None:
    """Copy a finished local file to ``url`` in one put (the object appears whole or not at all)."""
    fs, target = url_fs(url)
    fs.put_file(str(local), target)


def remove_tree(path) -> None:
    """``rm -rf``: a missing folder is fine."""
    if is_url(path):
        fs, target = url_fs(path)
        if fs.exists(target):
            fs.rm(target, recursive=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


def replace_tree(source, target, last: tuple[str, ...] = ()) -> None:
    """Put the folder ``source`` in place of ``target`` on an object store (which has no rename): delete
    ``target``, copy every object of ``source`` (server side; files named in ``last`` at the end, so their
    presence says the copy finished), delete ``source``."""
    fs, src = url_fs(source)
    _, dst = url_fs(target)
    if fs.exists(dst):
        fs.rm(dst, recursive=True)
    files = sorted(fs.find(src), key=lambda f: (f.rsplit("/", 1)[-1] in last, f))
    for file in files:
        fs.copy(file, dst + file[len(src):])
    if files:
        fs.rm(src, recursive=True)


def _filesystem(path) -> tuple[str, object]:
    if is_url(path):
        fs, inner = url_fs(path)
        return inner, fs
    return str(path), None


def read_table(path, **kwargs):
    """``pq.read_table`` of a local path or URL."""
    import pyarrow.parquet as pq

    source, fs = _filesystem(path)
    return pq.read_table(source, filesystem=fs, **kwargs)


def iter_batches(path, columns=None, batch_size: int = 65_536, equal: tuple[str, object] | None = None):
    """Record batches of at most ``batch_size`` rows of a local or remote Parquet file (``columns`` only): a
    reader that holds one batch, not the file. ``equal=(column, value)`` skips the row groups whose statistics
    rule the value out (the caller still filters the rows)."""
    import pyarrow.parquet as pq

    source, fs = _filesystem(path)
    with pq.ParquetFile(source, filesystem=fs) as parquet:
        groups = list(range(parquet.num_row_groups))
        if equal is not None:
            index = parquet.schema_arrow.get_field_index(equal[0])
            groups = [g for g in groups if index < 0 or _may_hold(parquet.metadata.row_group(g).column(index).statistics, equal[1])]
        if groups:
            yield from parquet.iter_batches(batch_size=batch_size, columns=columns, row_groups=groups)


def take_rows(path, column: str, row_numbers: list[int]) -> list:
    """``column``'s values at ``row_numbers`` (sorted, of the whole file) of a local or remote Parquet file, reading
    only the row groups that hold them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    source, fs = _filesystem(path)
    values = []
    with pq.ParquetFile(source, filesystem=fs) as parquet:
        start, wanted = 0, iter(row_numbers)
        number = next(wanted, None)
        for group in range(parquet.num_row_groups):
            end = start + parquet.metadata.row_group(group).num_rows
            inside = []
            while number is not None and number < end:
                inside.append(number - start)
                number = next(wanted, None)
            if inside:
                table = parquet.read_row_group(group, columns=[column])
                values += table.column(column).take(pa.array(inside, pa.int64())).to_pylist()
            start = end
    if number is not None:
        raise IndexError(f"{path}: row {number} is past the file's {start} rows")
    return values


def _may_hold(statistics, value) -> bool:
    if statistics is None or not statistics.has_min_max:
        return True
    return statistics.min <= value <= statistics.max


def read_schema(path):
    import pyarrow.parquet as pq

    source, fs = _filesystem(path)
    return pq.read_schema(source, filesystem=fs)


def write_parquet(table, path, **kwargs) -> None:
    """``pq.write_table``; a URL gets a local file first and one upload."""
    import pyarrow.parquet as pq

    if not is_url(path):
        pq.write_table(table, path, **kwargs)
        return
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, **kwargs)


def local_copy(path) -> str:
    """A local file with the content of ``path`` (itself when local): tools such as KenLM and fastText open
    files by name. Remote files are cached in the scratch folder by URL and ETag/size, so a worker downloads a
    model once."""
    if not is_url(path):
        return str(path)
    fs, inner = url_fs(path)
    info = fs.info(inner)
    key = hashlib.sha256(f"{path}|{info.get('ETag') or info.get('etag')}|{info.get('size')}".encode()).hexdigest()[:20]
    cached = scratch_dir() / "cache" / f"{key}-{as_path(path).name}"
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        fs.get_file(inner, str(partial))
        os.replace(partial, cached)
    return str(cached)


def upload_tree(local: str | Path, url, last_suffix: str = ".json") -> None:
    """Upload every file under the local folder ``local`` to the folder ``url`` (files ending in ``last_suffix``,
    the model cards, after the files they describe; those at the top, a bootstrapped language's card that marks it
    finished, after those in sub-folders, such as its fold models' cards)."""
    local = Path(local)
    for file in sorted((p for p in local.rglob("*") if p.is_file()), key=lambda p: (p.name.endswith(last_suffix), p.parent == local, str(p))):
        upload(file, f"{str(url).rstrip('/')}/{file.relative_to(local).as_posix()}")


def local_tree(path) -> str:
    """A local folder with the content of the folder ``path`` (itself when local), cached in the scratch folder by
    URL and the objects' ETags and sizes: KenLM and fastText load models by file name."""
    if not is_url(path):
        return str(path)
    fs, inner = url_fs(path)
    listing = sorted((name, info.get("ETag") or info.get("etag"), info.get("size")) for name, info in fs.find(inner, detail=True).items())
    key = hashlib.sha256(repr((str(path), listing)).encode()).hexdigest()[:20]
    cached = scratch_dir() / "cache" / f"{key}-{as_path(path).name}"
    if not cached.is_dir():
        partial = cached.with_name(f".{cached.name}.{os.getpid()}.tmp")
        shutil.rmtree(partial, ignore_errors=True)
        for name, _, _ in listing:
            target = partial / name[len(inner.rstrip("/")) + 1:]
            target.parent.mkdir(parents=True, exist_ok=True)
            fs.get_file(name, str(target))
        partial.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(partial, cached)
        except OSError:  # another process on this node finished the same copy first
            shutil.rmtree(partial, ignore_errors=True)
    return str(cached)


def parquet_rows(path) -> int:
    """Row count of a Parquet file, local or URL, from its footer."""
    import pyarrow.parquet as pq

    source, fs = _filesystem(path)
    return pq.read_metadata(source, filesystem=fs).num_rows


# --- partitioned files: a shuffle's exchange through the run folder --------------------------------------------
# A task that sends rows to many receivers writes one Arrow IPC file whose i-th record batch is receiver i's
# rows, not one file per receiver: on an object store the number of objects stays at the number of senders,
# and a receiver reads the footer (24 bytes a batch) and its batch with two range reads. (Parquet would put
# every row group's column statistics in the footer, and a receiver of thousands would read megabytes of it.)
_IPC_OPTIONS = {"compression": "zstd"}
_READ_CHUNK_ROWS = 16_384  # a receiver's batch comes back in chunks of this many rows (32-bit offsets again)
_WIDE = {"string": "large_string", "binary": "large_binary"}  # 64-bit offsets: one batch may hold over 2 GB of text


def _wide(schema):
    """``schema`` with top-level string/binary columns as their large types: a receiver's rows are one batch, and a
    32-bit offset column cannot hold more than 2 GB. The file's schema metadata keeps the original types."""
    import pyarrow as pa

    fields = [field.with_type(getattr(pa, _WIDE[str(field.type)])()) if str(field.type) in _WIDE else field for field in schema]
    return pa.schema(fields, metadata={b"longtail.schema": schema.serialize().to_pybytes()})


def write_partitioned(path, parts, schema) -> None:
    """Write ``parts`` (tables in receiver order; None or empty for a receiver that gets nothing) as one batch
    each, atomically (a local temporary file, renamed or uploaded)."""
    import pyarrow as pa

    wide = _wide(schema)
    with atomic_path(path) as tmp:
        with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, wide, options=pa.ipc.IpcWriteOptions(**_IPC_OPTIONS)) as writer:
            for part in parts:
                table = wide.empty_table() if part is None else part.select(schema.names).cast(schema).cast(wide)
                writer.write_batch(pa.record_batch([column.combine_chunks() for column in table.columns], schema=wide))


def _original(wide):
    import pyarrow as pa

    return pa.ipc.read_schema(pa.py_buffer(wide.metadata[b"longtail.schema"]))


@contextmanager
def _ipc_reader(path):
    import pyarrow as pa

    if is_url(path):
        fs, inner = url_fs(path)
        with fs.open(inner, "rb") as handle:
            yield pa.ipc.open_file(pa.PythonFile(handle, mode="r"))
    else:
        with pa.OSFile(str(path)) as handle:  # not memory-mapped: a receiver's memory is what it reads
            yield pa.ipc.open_file(handle)


def read_partition(path, index: int):
    """Receiver ``index``'s rows of a file written by :func:`write_partitioned`, as a table of the schema it was
    written with (in chunks of at most ``_READ_CHUNK_ROWS`` rows)."""
    import pyarrow as pa

    with _ipc_reader(path) as reader:
        schema = _original(reader.schema)
        batch = reader.get_batch(index)
    chunks = [pa.Table.from_batches([batch.slice(start, _READ_CHUNK_ROWS)]).cast(schema) for start in range(0, batch.num_rows, _READ_CHUNK_ROWS)]
    return pa.concat_tables(chunks) if chunks else schema.empty_table()


def partitioned_schema(path):
    """The schema a file was written with by :func:`write_partitioned`."""
    with _ipc_reader(path) as reader:
        return _original(reader.schema)

"""Distributed MinHash LSH deduplication as a task graph: banding -> buckets -> candidate pairs -> components.

The graph is engine-agnostic: it is described with an engine's ``task``/``put``/``get`` (:class:`TaskEngine`).
:class:`LocalEngine` runs it serially in this process; ``longtail.pipeline.ray_backend.RayEngine`` runs every
task as a Ray task (this module never imports Ray). Every step is a set of independent tasks over hash
partitions; no task sees all documents of a language:

1. ``keys``     one task per input part: band hashes (or the stored ones of an index), the exact-text key and
                the URL key -> bucket rows partitioned by key; the documents' signatures and keep-rule fields
                partitioned by hash(id).
2. ``buckets``  one task per key partition: rows grouped by (kind, key). Exact-text and URL groups give
                *links* (no confirmation needed); LSH bands give *candidate pairs* by the bucket anchor rule
                :func:`longtail.stages.dedup.keep.bucket_pairs`, as the in-process
                :func:`longtail.stages.dedup.cluster.cluster_duplicates` does, so both give identical clusters.
3. ``sig_a``    one task per id partition: candidate pairs deduplicated, first signature attached.
4. ``confirm``  one task per id partition: second signature attached, pairs with estimated Jaccard below the
                threshold dropped; the partition's edges are union-found into a forest (node -> root).
5. ``merge``    a tree of union-find merges (fan-in ``MERGE_FAN_IN``) over the forests; with an exchange
                folder, large-star / small-star steps instead (one task per id partition a step).
6. ``members``  one task per id partition: roots joined with the keep-rule fields, repartitioned by root.
7. ``keepers``  one task per root partition: the keep rule (:func:`longtail.stages.dedup.keep.keep_key`)
                picks each cluster's document.

Connected components: union-find per edge partition, then a merge tree over the much smaller forests. Only
documents with at least one duplicate reach step 5, and a forest has fewer edges than nodes, so the last merge
holds each *duplicated* document id once (~100 bytes each). For the corpus sizes of low-resource languages
(well under 10^8 documents) that is cheaper than O(log n) shuffle steps. A language finalized in shards gives
``cluster_parts`` an exchange folder: its steps then pass partitioned tables as files (one per task and step, not
P engine objects), and the forests are joined by large-star / small-star steps (``_star_components``), where a
task holds 1/P of the duplicate edges; the roots are the same. Roots are the smallest node id of a component and
every task sorts its output, so reruns (and retried tasks) give byte-identical results, and a task an engine
re-executes after a worker died returns the same output.

Documents of a previous release's index (:mod:`longtail.stages.dedup.index`) flow through the same steps
with their stored band hashes and signatures (nothing is recomputed); they win every cluster they are in, are
never output themselves, and new documents clustered with them get ``dedup:previous_release``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from longtail.fileio import parquet_rows, read_partition, read_table, write_partitioned
from longtail.stages.dedup.cluster import cluster_duplicates
from longtail.stages.dedup.index import language_files
from longtail.stages.dedup.keep import UnionFind, bucket_pairs, duplicate_reason, keep_key, url_key
from longtail.stages.dedup.minhash import MinHashParams, band_hashes, mix64, signature_matrix

KIND_EXACT, KIND_URL, KIND_BAND = 0, 1, 2
MERGE_FAN_IN = 4
INDEXED_PREFIX = "\x01"  # node names of indexed documents: never equal to a new document's id
# Memory of a worker running one hash-partitioned task (``stages.dedup.partition_memory_mb`` in the manifest): the
# number of partitions P follows from it, the documents and their signature size (:func:`partition_count`).
DEFAULT_PARTITION_MEMORY_MB = 1024
# A Ray worker's private memory before the task (interpreter, Ray, pyarrow, what earlier tasks left): ~300 MiB.
WORKER_BASELINE_MB = 320
# What one document of a partition adds to its heaviest task: a bucket row per band plus the exact-text and URL
# rows (the buckets step sorts them), the signature (sig_a / confirm) and the keep-rule fields. bench/bench_dedup.py
# --synthetic measured ~72 bytes per bucket row and ~800 bytes per document in the signature steps at 10^6 and
# 3 x 10^6 documents (docs/dedup.md, "Scale"); these constants are ~1.4x that.
BUCKET_ROW_BYTES = 100
DOCUMENT_BYTES = 300
# Columns a part must have; index parts add ``bands`` and ``release``.
INPUT_COLUMNS = ("id", "lang_script", "text_hash", "minhash", "n_chars", "crawl_date", "url")
# Unique per row of a language table: user ids may repeat, so documents are nodes and results map back by this.
ROW_KEY = "_dedup_row"

RESULT_SCHEMA = pa.schema(
    [("id", pa.string()), ("lang_script", pa.string()), ("dup_cluster_id", pa.string()), ("dup_cluster_size", pa.int32()),
     ("duplicate_of", pa.string()), ("dedup_reason", pa.string()), (ROW_KEY, pa.int64())]
)
_BUCKET_SCHEMA = pa.schema([("kind", pa.int8()), ("key", pa.uint64()), ("node", pa.string())])
_EDGE_SCHEMA = pa.schema([("a", pa.string()), ("b", pa.string()), ("link", pa.bool_())])
_FOREST_SCHEMA = pa.schema([("node", pa.string()), ("root", pa.string())])


def _partition_of(values: Iterable[str], partitions: int) -> np.ndarray:
    return np.fromiter((xxhash.xxh64_intdigest(v) % partitions for v in values), dtype=np.int64)


def _split(table: pa.Table, part_ids: np.ndarray, partitions: int) -> list[pa.Table]:
    if partitions == 1:
        return [table]
    order = np.argsort(part_ids, kind="stable")
    bounds = np.searchsorted(part_ids[order], np.arange(partitions + 1))
    return [table.take(pa.array(order[bounds[p] : bounds[p + 1]])) for p in range(partitions)]


def _split_by_row_key(split_at: list[int], table: pa.Table):
    """Results by range of row keys (``cluster_parts(split_at=...)``): a tuple of len(split_at) + 1 tables."""
    ranges = len(split_at) + 1
    parts = _split(table, np.searchsorted(np.asarray(split_at, np.int64), table.column(ROW_KEY).to_numpy(), side="right"), ranges)
    return tuple(parts) if ranges > 1 else parts[0]


def with_row_key(table: pa.Table) -> pa.Table:
    """``table`` with :data:`ROW_KEY` = row position, unless it already has one."""
    if ROW_KEY in table.column_names:
        return table
    return table.append_column(ROW_KEY, pa.array(np.arange(table.num_rows, dtype=np.int64)))


def _load_part(part, lang_script: str | None) -> pa.Table:
    if isinstance(part, str):  # a Parquet file of a dedup index
        filters = [("lang_script", "=", lang_script)] if lang_script else None
        return read_table(part, filters=filters)  # local or a URL (an index on object storage)
    return part


def _keys_task(part, lang_script, params: MinHashParams, partitions: int):
    """Step 1: bucket rows by key partition, then document info by id partition (2 x partitions tables)."""
    table = _load_part(part, lang_script)
    indexed = "release" in table.column_names
    ids = table.column("id").to_pylist()
    row_keys = table.column(ROW_KEY).to_pylist() if ROW_KEY in table.column_names else [None] * table.num_rows
    if indexed:
        nodes = [INDEXED_PREFIX + i for i in ids]
    elif ROW_KEY in table.column_names:
        nodes = [f"{k:012d}" for k in row_keys]  # zero-padded: node order is row order, as in the reference
    else:  # parts built by the caller without row keys: their ids must be unique
        nodes = ids
    langs = table.column("lang_script").to_pylist()
    signatures = signature_matrix(table)
    if indexed and "bands" in table.column_names:
        bands = np.asarray(table.column("bands").combine_chunks().flatten().to_numpy(zero_copy_only=False), dtype=np.uint64).reshape(table.num_rows, -1)
    else:
        bands = band_hashes(signatures, langs, params)
    n = table.num_rows
    lang_salts = np.array([xxhash.xxh64_intdigest(label or "") for label in langs], dtype=np.uint64)
    with np.errstate(over="ignore"):
        exact_keys = mix64(np.asarray(table.column("text_hash").to_numpy(zero_copy_only=False), dtype=np.uint64) ^ lang_salts)
    kinds = [np.full(n * params.bands, KIND_BAND, np.int8), np.full(n, KIND_EXACT, np.int8)]
    keys = [bands.reshape(-1), exact_keys]
    key_nodes = [np.repeat(np.asarray(nodes, dtype=object), params.bands), np.asarray(nodes, dtype=object)]
    # with url_dedup off a shared URL neither links documents nor names the reason (dedup:url)
    urls = [url_key(u) for u in table.column("url").to_pylist()] if params.url_dedup else [None] * n
    if params.url_dedup:
        with_url = [i for i, u in enumerate(urls) if u]
        kinds.append(np.full(len(with_url), KIND_URL, np.int8))
        keys.append(np.array([xxhash.xxh64_intdigest(f"{langs[i]}\0{urls[i]}") for i in with_url], dtype=np.uint64))
        key_nodes.append(np.asarray([nodes[i] for i in with_url], dtype=object))
    key_array = np.concatenate(keys)
    buckets = pa.table({"kind": np.concatenate(kinds), "key": key_array, "node": pa.array(np.concatenate(key_nodes), pa.string())}, schema=_BUCKET_SCHEMA)
    bucket_parts = _split(buckets, (key_array % np.uint64(partitions)).astype(np.int64), partitions)

    info = pa.table(
        {
            "node": pa.array(nodes, pa.string()),
            "id": pa.array(ids, pa.string()),
            "lang_script": pa.array(langs, pa.string()),
            "indexed": pa.array([indexed] * n, pa.bool_()),
            "text_hash": table.column("text_hash").cast(pa.uint64()),
            "minhash": pa.FixedSizeListArray.from_arrays(pa.array(signatures.reshape(-1), pa.uint32()), params.num_perm),
            "n_chars": pc.fill_null(table.column("n_chars").cast(pa.int64()), 0),
            "crawl_date": pc.fill_null(table.column("crawl_date").cast(pa.string()), ""),
            "url": pc.fill_null(table.column("url").cast(pa.string()), ""),
            "url_key": pa.array(urls, pa.string()),
            ROW_KEY: pa.array(row_keys, pa.int64()),
        }
    )
    return tuple(bucket_parts) + tuple(_split(info, _partition_of(nodes, partitions), partitions))


def _buckets_task(partitions: int, *bucket_tables: pa.Table):
    """Step 2: links and candidate pairs, by id partition of their first node."""
    table = pa.concat_tables(bucket_tables).sort_by([("kind", "ascending"), ("key", "ascending"), ("node", "ascending")])
    kinds = table.column("kind").to_numpy()
    keys = table.column("key").to_numpy()
    n = table.num_rows
    edges: set[tuple[str, str, bool]] = set()
    if n:
        starts = np.flatnonzero(np.concatenate([[True], (kinds[1:] != kinds[:-1]) | (keys[1:] != keys[:-1])]))
        ends = np.append(starts[1:], n)
        shared = ends - starts > 1
        starts, ends = starts[shared], ends[shared]
        # only rows of groups with 2+ members become Python strings (most bucket rows are alone in their bucket)
        rows = np.repeat(starts - np.cumsum(ends - starts) + (ends - starts), ends - starts) + np.arange(int((ends - starts).sum()))
        nodes = table.column("node").take(pa.array(rows, pa.int64())).to_pylist()
        offset = 0
        for start, end in zip(starts.tolist(), ends.tolist()):
            members, offset = nodes[offset : offset + end - start], offset + end - start
            if kinds[start] != KIND_BAND:
                edges.update((members[0], b, True) for b in members[1:])
                continue
            edges.update((a, b, False) for a, b in bucket_pairs(members))
    ordered = sorted(edges)
    table = pa.table({"a": [e[0] for e in ordered], "b": [e[1] for e in ordered], "link": [e[2] for e in ordered]}, schema=_EDGE_SCHEMA)
    return tuple(_split(table, _partition_of(table.column("a").to_pylist(), partitions), partitions)) if partitions > 1 else table


def _lookup_signatures(info: pa.Table, wanted: pa.Array) -> np.ndarray:
    positions = pc.index_in(wanted, value_set=info.column("node"))
    if positions.null_count:
        raise ValueError("dedup: an edge names a document missing from its partition")
    return signature_matrix(info.take(positions))


def _sig_a_task(partitions: int, num_edge_tables: int, *tables: pa.Table):
    """Step 3: unique candidate pairs with the first signature, by id partition of the second node; links."""
    edges = pa.concat_tables(tables[:num_edge_tables]).group_by(["a", "b"]).aggregate([("link", "max")]).rename_columns(["a", "b", "link"])
    info = pa.concat_tables(tables[num_edge_tables:])
    links = edges.filter(edges.column("link")).select(["a", "b"])
    candidates = edges.filter(pc.invert(edges.column("link"))).select(["a", "b"]).sort_by([("a", "ascending"), ("b", "ascending")])
    width = info.schema.field("minhash").type.list_size
    sig_a = _lookup_signatures(info, candidates.column("a").combine_chunks()) if candidates.num_rows else np.zeros((0, width), np.uint32)
    candidates = candidates.append_column("sig_a", pa.FixedSizeListArray.from_arrays(pa.array(sig_a.reshape(-1), pa.uint32()), sig_a.shape[1]))
    parts = _split(candidates, _partition_of(candidates.column("b").to_pylist(), partitions), partitions)
    return tuple(parts) + (links,)


def _forest(a: pa.Array, b: pa.Array) -> pa.Table:
    """Union-find over the edges ``a[i] - b[i]`` (string arrays); returns every node with the smallest node of
    its component, sorted by node."""
    names = pc.unique(pa.chunked_array([a, b], pa.string()).combine_chunks()) if len(a) else pa.array([], pa.string())
    names = names.take(pc.sort_indices(names))
    uf = UnionFind(len(names))  # integers ranked as the names sort: the root is the smallest node name
    for i, j in zip(pc.index_in(a, value_set=names).to_numpy().tolist(), pc.index_in(b, value_set=names).to_numpy().tolist()):
        uf.union(i, j)
    roots = np.fromiter((uf.find(i) for i in range(len(names))), dtype=np.int64, count=len(names))
    return pa.table({"node": names, "root": names.take(pa.array(roots))}, schema=_FOREST_SCHEMA)


def _confirm_task(threshold: float, num_candidate_tables: int, *tables: pa.Table) -> pa.Table:
    """Step 4: keep candidates whose estimated Jaccard reaches the threshold; union-find the partition's edges."""
    candidates = pa.concat_tables(tables[:num_candidate_tables])
    links, info = tables[num_candidate_tables], pa.concat_tables(tables[num_candidate_tables + 1 :])
    a, b = [links.column("a")], [links.column("b")]
    if candidates.num_rows:
        sig_a = signature_matrix(candidates.rename_columns(["a", "b", "minhash"]))
        sig_b = _lookup_signatures(info, candidates.column("b").combine_chunks())
        similar = pa.array(np.mean(sig_a == sig_b, axis=1) >= threshold)
        a.append(candidates.column("a").filter(similar))
        b.append(candidates.column("b").filter(similar))
    return _forest(pa.chunked_array([c for col in a for c in col.chunks], pa.string()).combine_chunks(),
                   pa.chunked_array([c for col in b for c in col.chunks], pa.string()).combine_chunks())


def _merge_task(*forests: pa.Table) -> pa.Table:
    table = pa.concat_tables(forests)
    return _forest(table.column("node").combine_chunks(), table.column("root").combine_chunks())


def _split_forest_task(partitions: int, forest: pa.Table):
    return tuple(_split(forest, _partition_of(forest.column("node").to_pylist(), partitions), partitions)) if partitions > 1 else forest


# --- connected components by alternating large-star and small-star (Kiveris et al., "Connected Components in
# MapReduce and Beyond", SoCC 2014): with an exchange folder the partitions' forests are joined in P tasks per
# round instead of one merge that holds every clustered document. Each round keeps the components and ends, in
# O(log n) rounds, with every component a star around its smallest node: the merge's root.
_DIRECTED_SCHEMA = pa.schema([("u", pa.string()), ("v", pa.string())])
MAX_STAR_ROUNDS = 200


def _chunks(values) -> list:
    return list(values.chunks) if isinstance(values, pa.ChunkedArray) else [values]


def _directed(a, b, partitions: int):
    """Undirected edges ``a[i] - b[i]`` (self-loops dropped) as directed edges both ways, without repeats, sorted,
    by partition of ``u``."""
    both = pa.table({"u": pa.chunked_array([*_chunks(a), *_chunks(b)], pa.string()), "v": pa.chunked_array([*_chunks(b), *_chunks(a)], pa.string())})
    both = both.filter(pc.not_equal(both.column("u"), both.column("v")))
    both = both.group_by(["u", "v"]).aggregate([]).sort_by([("u", "ascending"), ("v", "ascending")]).select(["u", "v"]).cast(_DIRECTED_SCHEMA)
    return tuple(_split(both, _partition_of(both.column("u").to_pylist(), partitions), partitions))


def _star_start_task(partitions: int, forest: pa.Table):
    """A partition's forest (node, root) as edges."""
    parts = _directed(forest.column("node"), forest.column("root"), partitions)
    return parts if partitions > 1 else parts[0]


def _star_task(large: bool, partitions: int, *edge_tables: pa.Table):
    """One large-star (``large``) or small-star step over the directed edges of this partition's nodes ``u``:
    with m(u) the smallest of u and its neighbours, large-star links every larger neighbour to m(u); small-star
    links u and every smaller neighbour to m(u). Also returns (edges, checksum) of this partition's share of the
    edges it was given (senders may repeat an edge): the steps stop when they no longer change the edges."""
    edges = pa.concat_tables([_DIRECTED_SCHEMA.empty_table(), *edge_tables]).group_by(["u", "v"]).aggregate([]).select(["u", "v"])
    digests = np.fromiter((xxhash.xxh64_intdigest(f"{u}\0{v}") for u, v in zip(edges.column("u").to_pylist(), edges.column("v").to_pylist())), np.uint64, edges.num_rows)
    signature = (edges.num_rows, int(digests.sum(dtype=np.uint64)))
    mins = edges.group_by("u").aggregate([("v", "min")])
    mins = mins.append_column("m", pc.if_else(pc.less(mins.column("v_min"), mins.column("u")), mins.column("v_min"), mins.column("u"))).select(["u", "m"])
    joined = edges.join(mins, "u")
    if large:
        chosen = joined.filter(pc.greater(joined.column("v"), joined.column("u")))
        return (*_directed(chosen.column("v"), chosen.column("m"), partitions), signature)
    chosen = joined.filter(pc.less(joined.column("v"), joined.column("u")))
    return (*_directed(pa.chunked_array([*_chunks(chosen.column("v")), *_chunks(mins.column("u"))], pa.string()),
                       pa.chunked_array([*_chunks(chosen.column("m")), *_chunks(mins.column("m"))], pa.string()), partitions), signature)


def _star_forest_task(*edge_tables: pa.Table) -> pa.Table:
    """The stars' edges of this partition's nodes as its part of the forest: every node with its root, by node."""
    edges = pa.concat_tables([_DIRECTED_SCHEMA.empty_table(), *edge_tables])
    mins = edges.group_by("u").aggregate([("v", "min")])
    roots = pc.if_else(pc.less(mins.column("v_min"), mins.column("u")), mins.column("v_min"), mins.column("u"))
    return pa.table({"node": mins.column("u"), "root": roots}, schema=_FOREST_SCHEMA).sort_by([("node", "ascending")])


def _star_components(send, engine, forests: list, partitions: int) -> list:
    """The forests of the partitions joined into one, returned split by node partition (as the merge tree's forest
    after ``_split_forest_task``), by steps of P tasks that each hold 1/P of the edges."""
    P = partitions
    edges = [send(_star_start_task, (P,), 0, P, forest)[0][0] for forest in forests]
    signatures, large = [], True
    for _ in range(2 * MAX_STAR_ROUNDS):
        stepped = [send(_star_task, (P,), 1, large, P, *[out[p] for out in edges]) for p in range(P)]
        edges = [runs[0] for runs, _ in stepped]
        signatures.append(tuple(np.sum(np.array(engine.get([extra[0] for _, extra in stepped]), dtype=np.uint64), axis=0, dtype=np.uint64).tolist()))
        # the edges given to the last three steps alike: a large-star and a small-star changed nothing, all stars
        if len(signatures) >= 3 and signatures[-3] == signatures[-2] == signatures[-1]:
            return [send(_star_forest_task, (), 1, *[out[p] for out in edges])[1][0] for p in range(P)]
        large = not large
    raise RuntimeError(f"dedup: connected components did not converge in {MAX_STAR_ROUNDS} rounds")


def _members_task(partitions: int, forest: pa.Table, *info_tables: pa.Table):
    """Step 6: clustered documents with their keep-rule fields by root partition; singleton results."""
    info = pa.concat_tables(info_tables).drop_columns(["minhash"])
    position = pc.index_in(info.column("node"), value_set=forest.column("node"))
    clustered = pc.is_valid(position)
    members = info.filter(clustered)
    members = members.append_column("root", forest.column("root").take(position.filter(clustered)))
    singles = info.filter(pc.and_(pc.invert(clustered), pc.invert(info.column("indexed"))))
    single_ids = singles.column("id")
    result = pa.table(
        [single_ids, singles.column("lang_script"), single_ids, pa.array([1] * singles.num_rows, pa.int32()),
         pa.nulls(singles.num_rows, pa.string()), pa.nulls(singles.num_rows, pa.string()), singles.column(ROW_KEY)],
        schema=RESULT_SCHEMA,
    )
    parts = _split(members, _partition_of(members.column("root").to_pylist(), partitions), partitions)
    return tuple(parts) + (result,)


def _keepers_task(*member_tables: pa.Table) -> pa.Table:
    """Step 7: the keep rule per cluster (:func:`~longtail.stages.dedup.keep.keep_key`; equal keys go to the
    smallest node, i.e. the first row)."""
    members = pa.concat_tables(member_tables).sort_by([("root", "ascending"), ("node", "ascending")])
    rows = members.to_pylist()
    out = {name: [] for name in RESULT_SCHEMA.names}
    start = 0
    while start < len(rows):
        end = start
        while end < len(rows) and rows[end]["root"] == rows[start]["root"]:
            end += 1
        cluster = rows[start:end]
        keeper = min(cluster, key=lambda r: (*keep_key(r["n_chars"], r["crawl_date"], r["url"], r["id"], r["indexed"]), r["node"]))
        for row in cluster:
            if row["indexed"]:
                continue
            is_keeper = row is keeper
            reason = None if is_keeper else duplicate_reason(row["text_hash"], row["url_key"], keeper["text_hash"], keeper["url_key"], keeper["indexed"])
            out["id"].append(row["id"])
            out["lang_script"].append(row["lang_script"])
            out["dup_cluster_id"].append(keeper["id"])
            out["dup_cluster_size"].append(end - start)
            out["duplicate_of"].append(None if is_keeper else keeper["id"])
            out["dedup_reason"].append(reason)
            out[ROW_KEY].append(row[ROW_KEY])
        start = end
    return pa.table(out, schema=RESULT_SCHEMA)


@dataclass(frozen=True)
class _Batch:
    """One receiver's table in a partitioned file of the exchange folder (``cluster_parts(exchange=...)``)."""
    path: str
    index: int


@dataclass(frozen=True)
class _Item:
    """What a receiver is given in the driver: the batch, and the sender's token to wait for."""
    token: object
    batch: _Batch


def _exchanged(function, targets: list[str], sizes: list[int], waits: int, *args):
    """Task: ``function`` on ``args[waits:]`` (a :class:`_Batch` read from its file; ``args[:waits]`` are the
    senders' tokens, there so the engine runs this after them). Its first ``sum(sizes)`` outputs are written as
    partitioned files, ``sizes[k]`` batches to ``targets[k]``; returns a token, then the other outputs."""
    out = function(*[read_partition(a.path, a.index) if isinstance(a, _Batch) else a for a in args[waits:]])
    out = out if isinstance(out, tuple) else (out,)
    start = 0
    for target, size in zip(targets, sizes):
        tables = out[start : start + size]
        write_partitioned(target, tables, pa.unify_schemas([t.schema for t in tables], promote_options="default"))
        start += size
    return (True, *out[start:]) if start < len(out) else True


class _Exchange:
    """How :func:`cluster_parts`' steps pass partitioned tables to the next step: as engine objects (P per sender,
    P x P a step, all owned by the caller), or, with a ``folder``, as one partitioned file per sender that each
    receiver reads its batch of (P files a step; the engine then holds only tokens and the unpartitioned outputs)."""

    def __init__(self, engine, folder: str | None):
        self.engine, self.folder, self.senders = engine, folder, 0

    def send(self, function, sizes: tuple[int, ...], extra: int, *args) -> tuple[list[list], list]:
        """Run ``function(*args)`` as a task whose outputs are ``len(sizes)`` runs of ``sizes[k]`` tables, one per
        receiver, then ``extra`` more; returns per run the receivers' items, and the handles of the others."""
        total = sum(sizes)
        if self.folder is None:
            out = self.engine.task(function, num_returns=total + extra)(*args)
            out = list(out) if total + extra > 1 else [out]
            runs, start = [], 0
            for size in sizes:
                runs.append(out[start : start + size])
                start += size
            return runs, out[start:]
        self.senders += 1
        targets = [f"{str(self.folder).rstrip('/')}/{self.senders:07d}-{k}.arrow" for k in range(len(sizes))]
        tokens, plain = {}, []
        for arg in args:
            if isinstance(arg, _Item):
                tokens.setdefault(id(arg.token), arg.token)
                arg = arg.batch
            plain.append(arg)
        out = self.engine.task(_exchanged, num_returns=1 + extra)(function, targets, list(sizes), len(tokens), *tokens.values(), *plain)
        out = list(out) if extra else [out]
        return [[_Item(out[0], _Batch(target, i)) for i in range(size)] for target, size in zip(targets, sizes)], out[1:]


class TaskEngine(Protocol):
    """What the task graph needs from an execution engine.

    ``task(function, num_returns)`` returns a submitter: calling it with the task's arguments (values or handles
    of earlier outputs) starts ``function`` and returns one handle, or a list of ``num_returns`` handles when
    ``num_returns > 1`` (the function then returns a tuple of that length). ``put(value)`` makes a handle of a
    value; ``get(handles)`` waits for a list of handles and returns their values.

    Every function given to ``task`` is pure (its output depends on its arguments only), so an engine may
    re-execute a task whose worker died and get the same output. ``longtail.pipeline.ray_backend.RayEngine``
    runs tasks as Ray tasks with retries; :class:`LocalEngine` calls them in order in this process.
    """

    def task(self, function: Callable, num_returns: int = 1) -> Callable[..., Any]: ...

    def put(self, value: Any) -> Any: ...

    def get(self, handles: list) -> list: ...


class LocalEngine:
    """:class:`TaskEngine` that runs each task at once in this process; handles are the values themselves.

    Runs the same task graph as a distributed engine (same partitions, same outputs), without parallelism.
    """

    def task(self, function: Callable, num_returns: int = 1) -> Callable[..., Any]:
        def submit(*args):
            result = function(*args)
            return list(result) if num_returns > 1 else result

        return submit

    def put(self, value: Any) -> Any:
        return value

    def get(self, handles: list) -> list:
        return list(handles)


def partition_bytes_per_document(params: MinHashParams) -> int:
    """Peak memory one document costs the heaviest task of its hash partition (see :func:`partition_count`)."""
    return BUCKET_ROW_BYTES * (params.bands + 2) + 4 * params.num_perm + DOCUMENT_BYTES


def partition_count(rows: int, params: MinHashParams = MinHashParams(), memory_mb: int | None = None) -> int:
    """Hash partitions P for ``rows`` documents: the fewest whose tasks stay within ``memory_mb`` per worker.

    Every per-partition task (buckets, sig_a, confirm, members, keepers) holds about 1/P of the documents'
    bucket rows, signatures or keep-rule fields, so P = ceil(rows x :func:`partition_bytes_per_document` /
    (budget - :data:`WORKER_BASELINE_MB`)): it grows with the documents, the bands and the signature length, and
    has no cap. The clusters do not depend on P (any P gives the same result); P only bounds memory per task.
    Not bounded by P: a ``keys`` task holds one input part (the caller's chunk size), the last merge holds every
    document that has a duplicate once (~90 bytes each), and the object store holds every partition's share.

    Parameters
    ----------
    rows : int
        Documents of the language, indexed documents of earlier releases included.
    params : MinHashParams
        ``bands`` (a bucket row each) and ``num_perm`` (4 bytes per signature value).
    memory_mb : int, optional
        Budget per worker in MiB; default :data:`DEFAULT_PARTITION_MEMORY_MB`. Must exceed
        :data:`WORKER_BASELINE_MB`.

    Returns
    -------
    int
        At least 1.
    """
    budget = (memory_mb or DEFAULT_PARTITION_MEMORY_MB) - WORKER_BASELINE_MB
    if budget <= 0:
        raise ValueError(f"dedup: partition memory must exceed a worker's baseline of {WORKER_BASELINE_MB} MiB")
    return max(1, -(-max(0, rows) * partition_bytes_per_document(params) // (budget * 2**20)))


def part_rows_within(params: MinHashParams = MinHashParams(), memory_mb: int | None = None) -> int:
    """The most documents an input part may hold for its ``keys`` task (about a partition task's bytes a document)
    to stay within ``memory_mb`` (default :data:`DEFAULT_PARTITION_MEMORY_MB`)."""
    budget = (memory_mb or DEFAULT_PARTITION_MEMORY_MB) - WORKER_BASELINE_MB
    return max(1, budget * 2**20 // partition_bytes_per_document(params))


def _part_rows(part) -> int:
    if isinstance(part, pa.Table):
        return part.num_rows
    if isinstance(part, str):  # a dedup index file: one language's rows of one release
        return parquet_rows(part)
    return 0  # an engine's handle: the caller knows its size (give ``partitions``)


def cluster_parts(
    parts: list,
    params: MinHashParams = MinHashParams(),
    partitions: int | None = None,
    lang_script: str | None = None,
    engine: TaskEngine | None = None,
    partition_memory_mb: int | None = None,
    split_at: list[int] | None = None,
    exchange: str | None = None,
) -> pa.Table | list[list]:
    """Cluster the documents of ``parts`` with the task graph on ``engine``.

    Parameters
    ----------
    parts : list
        Input parts: tables (or the engine's handles of tables) with :data:`INPUT_COLUMNS` and :data:`ROW_KEY`
        unique across all parts (or unique ids instead), and/or Parquet paths of a dedup index's files.
    params : MinHashParams
        Banding, confirmation threshold, ``url_dedup``.
    partitions : int, optional
        Hash partitions P of every step. Default: :func:`partition_count` of the rows of the parts given as
        tables or index files (handles are not counted: give ``partitions`` with them) and ``partition_memory_mb``.
    lang_script : str, optional
        Restricts index Parquet parts to this language.
    engine : TaskEngine, optional
        Where tasks run; default :class:`LocalEngine` (serially, in this process).
    partition_memory_mb : int, optional
        Memory budget per partition task for the default P; default :data:`DEFAULT_PARTITION_MEMORY_MB`.
    split_at : list of int, optional
        Row keys where ranges of rows begin (ascending; the first range begins at 0): the results are left on the
        engine, split by range, for the tasks of each range to read (a language finalized in shards), instead of
        gathered here.
    exchange : str, optional
        A folder (local, shared or an fsspec URL every task can reach) for the steps' partitioned tables: one file
        per task and step instead of P engine objects, for a P too large for the engine to hold P x P objects.
        The caller removes it once the results are read.

    Returns
    -------
    pyarrow.Table
        :data:`RESULT_SCHEMA` rows for every non-indexed document, sorted by id and row key; the same clusters,
        keepers and reasons as :func:`longtail.stages.dedup.cluster.cluster_duplicates`. With ``split_at``: per
        range, a list of the engine's handles of tables of those rows (in no particular order).

    Notes
    -----
    About 7P + (number of parts) tasks plus a merge tree of P / ``MERGE_FAN_IN`` levels. Each task holds one
    partition's share: an input part, or 1/P of the bucket rows, candidate pairs or documents; the last merge
    holds each document that has a duplicate once.
    """
    engine = engine or LocalEngine()
    if not parts:
        return RESULT_SCHEMA.empty_table() if split_at is None else [[] for _ in range(len(split_at) + 1)]
    if partitions is None:
        partitions = partition_count(sum(_part_rows(p) for p in parts), params, partition_memory_mb)
    P = partitions

    exchange_ = _Exchange(engine, exchange)
    send = exchange_.send

    def run(function, num_returns, *args):
        out = engine.task(function, num_returns=num_returns)(*args)
        return out if num_returns > 1 else [out]

    # Handles are dropped as soon as their consumers are submitted: an engine that counts references (Ray) frees
    # each step's outputs once its tasks have read them, so the object store does not hold every step at once.
    key_outputs = [send(_keys_task, (P, P), 0, part, lang_script, params, P)[0] for part in parts]
    del parts  # the caller's list may still hold the input parts (cluster_table does not)
    buckets_by_p = [[runs[0][p] for runs in key_outputs] for p in range(P)]
    info_by_p = [[runs[1][p] for runs in key_outputs] for p in range(P)]
    del key_outputs

    edge_outputs = [send(_buckets_task, (P,), 0, P, *buckets_by_p[p])[0][0] for p in range(P)]
    del buckets_by_p
    sig_outputs = [send(_sig_a_task, (P,), 1, P, len(edge_outputs), *[out[p] for out in edge_outputs], *info_by_p[p]) for p in range(P)]
    del edge_outputs
    forests = [send(_confirm_task, (), 1, params.threshold, P, *[runs[0][p] for runs, _ in sig_outputs], sig_outputs[p][1][0], *info_by_p[p])[1][0]
               for p in range(P)]
    del sig_outputs
    if exchange is None:
        while len(forests) > 1:
            forests = [run(_merge_task, 1, *forests[i : i + MERGE_FAN_IN])[0] for i in range(0, len(forests), MERGE_FAN_IN)]
        forest_parts = send(_split_forest_task, (P,), 0, P, forests[0])[0][0]
    else:  # no task holds every clustered document
        forest_parts = _star_components(send, engine, forests, P)
    del forests

    member_outputs = [send(_members_task, (P,), 1, P, forest_parts[p], *info_by_p[p]) for p in range(P)]
    del forest_parts, info_by_p
    results = [send(_keepers_task, (), 1, *[runs[0][r] for runs, _ in member_outputs])[1][0] for r in range(P)]
    results += [extra[0] for _, extra in member_outputs]
    del member_outputs
    if split_at is not None:
        ranges = len(split_at) + 1
        splits = [run(_split_by_row_key, ranges, list(split_at), result) for result in results]
        return [[out[r] for out in splits] for r in range(ranges)]
    table = pa.concat_tables(engine.get(results))
    return table.sort_by([("id", "ascending"), (ROW_KEY, "ascending")])


def cluster_table(
    table: pa.Table,
    params: MinHashParams = MinHashParams(),
    index_files: list[str] | None = None,
    lang_script: str | None = None,
    chunk_rows: int = 50_000,
    partitions: int | None = None,
    engine: TaskEngine | None = None,
    partition_memory_mb: int | None = None,
    exchange: str | None = None,
) -> pa.Table:
    """Split one table into parts of ``chunk_rows`` (plus a previous release's index files) and cluster them.

    Parameters
    ----------
    table : pyarrow.Table
        Documents with :data:`INPUT_COLUMNS` (more columns are dropped before the parts are made).
    params, lang_script, partitions, engine, partition_memory_mb, exchange
        As for :func:`cluster_parts` (``partitions`` defaults from ``table``'s rows and the index files').
    index_files : list of str, optional
        Parquet files of a dedup index (:func:`longtail.stages.dedup.index.language_files`).
    chunk_rows : int, default 50,000
        Rows per input part (one ``keys`` task each).

    Returns
    -------
    pyarrow.Table
        As :func:`cluster_parts`; rows carry :data:`ROW_KEY`: the table's own, or its row positions.
    """
    engine = engine or LocalEngine()
    table = with_row_key(table).select([*INPUT_COLUMNS, ROW_KEY])
    index_files = list(index_files or [])
    if partitions is None:
        partitions = partition_count(table.num_rows + sum(_part_rows(f) for f in index_files), params, partition_memory_mb)
    # the list of parts is only cluster_parts': it drops it once the keys tasks are submitted
    return cluster_parts([engine.put(table.slice(start, chunk_rows)) for start in range(0, table.num_rows, chunk_rows)] + index_files,
                         params, partitions, lang_script, engine, exchange=exchange)


IN_PROCESS_MAX_ROWS = 10_000  # up to this many documents a language is clustered in one process (~0.3 s)


def cluster_language(
    table: pa.Table, params: MinHashParams, label: str, engine: TaskEngine | None = None, partition_memory_mb: int | None = None
) -> pa.Table:
    """Dedup one language's selected documents, against ``params.previous_index`` if set.

    Parameters
    ----------
    table : pyarrow.Table
        The language's documents (:data:`INPUT_COLUMNS`, optionally :data:`ROW_KEY`).
    params : MinHashParams
        Dedup parameters, including ``previous_index``.
    label : str
        The language (``lang_script``), to read the index's files of.
    engine : TaskEngine, optional
        Run the task graph on this engine (the pipeline passes ``ray_backend.dedup_engine()``). Without one,
        the in-process :func:`~longtail.stages.dedup.cluster.cluster_duplicates`, or the task graph on a
        :class:`LocalEngine` when an index is given (only the task graph reads indexes).
    partition_memory_mb : int, optional
        Memory budget per partition task of the task graph (:func:`partition_count`; manifest
        ``stages.dedup.partition_memory_mb``).

    Returns
    -------
    pyarrow.Table
        One row per input row with :data:`ROW_KEY` (the table's, or its row positions): map verdicts back by
        it, ids may repeat.
    """
    table = with_row_key(table)
    index_files = language_files(params.previous_index, label, params) if params.previous_index else []
    # a small language in process: the task graph's half-dozen tasks cost more than its whole dedup (issue 15:
    # 178 languages of a 2,838-page crawl took 114 s), and the clusters are the same (the graph's reference)
    if (engine is None or table.num_rows <= IN_PROCESS_MAX_ROWS) and not index_files:
        return cluster_duplicates(table, params).append_column(ROW_KEY, table.column(ROW_KEY))  # rows in table order
    return cluster_table(table, params, index_files=index_files, lang_script=label, engine=engine, partition_memory_mb=partition_memory_mb)

"""Exact, URL and MinHash near-duplicate clustering of one language, in process: the reference the distributed
path (:mod:`longtail.stages.dedup.distributed`) must equal, and what ``eval-dedup`` measures.

The keep rule, reasons, bucket anchor rule and URL identity are those of :mod:`longtail.stages.dedup.keep`
(documented in docs/dedup.md).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyarrow as pa

from longtail.stages.dedup.keep import UnionFind, bucket_pairs, duplicate_reason, keep_key, url_key
from longtail.stages.dedup.minhash import MinHashParams, signature_matrix

OUTPUT_SCHEMA = pa.schema(
    [("id", pa.string()), ("dup_cluster_id", pa.string()), ("dup_cluster_size", pa.int32()),
     ("duplicate_of", pa.string()), ("dedup_reason", pa.string())]
)


def cluster_duplicates(table: pa.Table, params: MinHashParams = MinHashParams()) -> pa.Table:
    """Cluster one language's documents and pick each cluster's keeper.

    Parameters
    ----------
    table : pyarrow.Table
        One language's documents with ``id, text_hash, minhash, n_chars, crawl_date, url``.
    params : MinHashParams
        ``bands``, ``rows``, ``threshold`` and ``url_dedup``.

    Returns
    -------
    pyarrow.Table
        :data:`OUTPUT_SCHEMA`, one row per input row in input order: ``dup_cluster_id`` = the kept document's
        id, ``dup_cluster_size``, and for removed members ``duplicate_of`` and ``dedup_reason``.

    Notes
    -----
    Documents are linked by equal ``text_hash``, equal :func:`~longtail.stages.dedup.keep.url_key` (with
    ``url_dedup``), and LSH candidate pairs (:func:`~longtail.stages.dedup.keep.bucket_pairs` within a band's
    bucket) whose estimated Jaccard reaches ``threshold``; clusters are the connected components. Time
    O(n * bands + pairs * num_perm), memory O(n * num_perm) for the signatures; for one language of up to some
    10^5 documents. Larger inputs go through the distributed path.
    """
    n = table.num_rows
    if n == 0:
        return OUTPUT_SCHEMA.empty_table()
    ids = table.column("id").to_pylist()
    hashes = table.column("text_hash").to_pylist()
    signatures = signature_matrix(table)
    urls = [u or "" for u in table.column("url").to_pylist()]
    # with url_dedup off a shared URL neither links documents nor names the reason
    page_keys = [url_key(u) for u in urls] if params.url_dedup else [None] * n
    uf = UnionFind(n)

    for keys in (hashes, page_keys):
        first: dict = {}
        for i, key in enumerate(keys):
            if key is None:
                continue
            if key in first:
                uf.union(first[key], i)
            else:
                first[key] = i

    for band in range(params.bands):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        block = signatures[:, band * params.rows : (band + 1) * params.rows]
        for i in range(n):
            buckets[block[i].tobytes()].append(i)
        for members in buckets.values():
            for a, b in bucket_pairs(members):
                # a pair already in one component needs no confirmation: it cannot change the components
                if uf.find(a) != uf.find(b) and float(np.mean(signatures[a] == signatures[b])) >= params.threshold:
                    uf.union(a, b)

    clusters: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        clusters[uf.find(i)].append(i)

    n_chars = table.column("n_chars").to_pylist()
    dates = table.column("crawl_date").to_pylist()
    cluster_id, size, duplicate_of, reason = [None] * n, [1] * n, [None] * n, [None] * n
    for members in clusters.values():
        # members are in row order and min() is stable: equal keys go to the first row
        keeper = min(members, key=lambda i: keep_key(n_chars[i], dates[i], urls[i], ids[i]))
        for i in members:
            cluster_id[i] = ids[keeper]
            size[i] = len(members)
            if i != keeper:
                duplicate_of[i] = ids[keeper]
                reason[i] = duplicate_reason(hashes[i], page_keys[i], hashes[keeper], page_keys[keeper])
    return pa.table([ids, cluster_id, size, duplicate_of, reason], schema=OUTPUT_SCHEMA)

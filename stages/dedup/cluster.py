"""Exact and MinHash near-duplicate clustering within one language.

Keep rule (documented in docs/design.md): in each cluster keep the document with the longest text; ties go
to the earliest crawl date (documents without one after all dated ones), then the smallest URL, then the
smallest id, then the first row. Every other member is removed with
``duplicate_of`` = the kept document's id, as ``dedup:exact`` when its normalised text is identical to the
kept one, ``dedup:url`` when it is the same URL (``url_key``) re-crawled, and ``dedup:near`` otherwise.
"""

from __future__ import annotations

from collections import defaultdict
from urllib.parse import urlsplit

import numpy as np
import pyarrow as pa

from longtail.stages.dedup.minhash import MinHashParams

# Buckets larger than this are checked against their first members only (keeps the work linear).
MAX_PAIRWISE_BUCKET = 64
REASON_EXACT, REASON_URL, REASON_NEAR = "dedup:exact", "dedup:url", "dedup:near"
REASON_PREVIOUS = "dedup:previous_release"  # duplicate of a document published in an earlier release


def url_key(url: str | None) -> str | None:
    """The URL as a page identity: scheme, ``www.``, default port and fragment ignored; host lower-cased."""
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError:
        return url.strip()
    if host.startswith("www."):
        host = host[4:]
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    return f"{netloc}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")


class UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def _similar(signatures: np.ndarray, a: int, b: int, threshold: float) -> bool:
    return float(np.mean(signatures[a] == signatures[b])) >= threshold


def cluster_duplicates(table: pa.Table, params: MinHashParams = MinHashParams()) -> pa.Table:
    """Return ``id, dup_cluster_id, dup_cluster_size, duplicate_of, dedup_reason`` for every row."""
    n = table.num_rows
    out_schema = pa.schema(
        [("id", pa.string()), ("dup_cluster_id", pa.string()), ("dup_cluster_size", pa.int32()),
         ("duplicate_of", pa.string()), ("dedup_reason", pa.string())]
    )
    if n == 0:
        return out_schema.empty_table()
    ids = table.column("id").to_pylist()
    hashes = table.column("text_hash").to_pylist()
    signatures = np.asarray(table.column("minhash").combine_chunks().flatten().to_numpy(zero_copy_only=False)).reshape(n, -1)
    uf = UnionFind(n)

    by_hash: dict[int, int] = {}
    for i, h in enumerate(hashes):
        if h in by_hash:
            uf.union(by_hash[h], i)
        else:
            by_hash[h] = i

    if params.url_dedup:
        by_url: dict[str, int] = {}
        for i, key in enumerate(url_key(u) for u in table.column("url").to_pylist()):
            if key is not None:
                if key in by_url:
                    uf.union(by_url[key], i)
                else:
                    by_url[key] = i

    for band in range(params.bands):
        buckets: dict[bytes, list[int]] = defaultdict(list)
        block = signatures[:, band * params.rows : (band + 1) * params.rows]
        for i in range(n):
            buckets[block[i].tobytes()].append(i)
        for members in buckets.values():
            if len(members) < 2:
                continue
            anchors = members if len(members) <= MAX_PAIRWISE_BUCKET else members[:2]
            for pos, a in enumerate(anchors):
                for b in members[pos + 1 :]:
                    if uf.find(a) != uf.find(b) and _similar(signatures, a, b, params.threshold):
                        uf.union(a, b)

    clusters: dict[int, list[int]] = defaultdict(list)
    for i in range(n):
        clusters[uf.find(i)].append(i)

    n_chars = table.column("n_chars").to_pylist()
    dates = [d or "" for d in table.column("crawl_date").to_pylist()]
    urls = [u or "" for u in table.column("url").to_pylist()]
    cluster_id, size, duplicate_of, reason = [None] * n, [1] * n, [None] * n, [None] * n
    for members in clusters.values():
        # undated documents sort after dated ones; remaining ties go to the first row (members are in row order)
        keeper = min(members, key=lambda i: (-(n_chars[i] or 0), not dates[i], dates[i], not urls[i], urls[i], ids[i]))
        for i in members:
            cluster_id[i] = ids[keeper]
            size[i] = len(members)
            if i != keeper:
                duplicate_of[i] = ids[keeper]
                if hashes[i] == hashes[keeper]:
                    reason[i] = REASON_EXACT
                elif params.url_dedup and url_key(urls[i]) is not None and url_key(urls[i]) == url_key(urls[keeper]):
                    reason[i] = REASON_URL
                else:
                    reason[i] = REASON_NEAR
    return pa.table([ids, cluster_id, size, duplicate_of, reason], schema=out_schema)

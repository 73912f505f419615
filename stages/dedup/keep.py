"""The rules both dedup paths share: page identity by URL, union-find, which pairs of an LSH bucket are compared,
which member of a cluster is kept, and why the others are removed.

:func:`longtail.stages.dedup.cluster.cluster_duplicates` (in process) and
:mod:`longtail.stages.dedup.distributed` (a task graph) both call these functions, so they give identical
clusters, keepers and reasons.
"""

from __future__ import annotations

from typing import Iterator, Sequence, TypeVar
from urllib.parse import urlsplit

from longtail.reasons import DEDUP_EXACT, DEDUP_NEAR, DEDUP_PREVIOUS_RELEASE, DEDUP_URL

# Buckets larger than this are checked against their first two members only (keeps the work linear).
MAX_PAIRWISE_BUCKET = 64

T = TypeVar("T")


def url_key(url: str | None) -> str | None:
    """The URL as a page identity.

    Parameters
    ----------
    url : str or None
        A URL as crawled.

    Returns
    -------
    str or None
        ``host[:port]/path[?query]`` with the scheme, a leading ``www.``, a default port (80, 443) and the
        fragment dropped and the host lower-cased; ``None`` for a missing or empty URL. A URL that
        :func:`urllib.parse.urlsplit` rejects is returned stripped, as it is.

    Examples
    --------
    >>> url_key("http://www.Example.org:443/a#top") == url_key("https://example.org/a")
    True
    """
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
    """Disjoint sets over the integers ``0 .. n-1`` whose root is always the smallest member.

    Parameters
    ----------
    n : int
        Number of elements.

    Notes
    -----
    Path halving in :meth:`find`; :meth:`union` links the larger root under the smaller one, so a component's
    root is its smallest element (which makes results independent of the order of unions). Without union by
    rank the worst case of one operation is O(log n) amortised; memory is one list of ``n`` ints.
    """

    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        """The root (smallest element) of ``i``'s set."""
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        """Merge the sets of ``a`` and ``b``."""
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def bucket_pairs(members: Sequence[T]) -> Iterator[tuple[T, T]]:
    """The candidate pairs of one LSH bucket (the bucket anchor rule).

    Parameters
    ----------
    members : sequence
        The bucket's documents in row order (the in-process path) or node order (the distributed path, whose
        node names sort as the rows do).

    Yields
    ------
    tuple
        ``(a, b)`` with ``a`` before ``b`` in ``members``: every pair when the bucket has at most
        :data:`MAX_PAIRWISE_BUCKET` members, otherwise the first two members against every later one.

    Notes
    -----
    O(k^2) pairs for a bucket of k <= 64 members, O(k) above: a boilerplate-heavy bucket of 10^5 near-identical
    pages costs 2 x 10^5 comparisons, not 5 x 10^9. Members that LSH puts in one bucket but that the anchors do
    not confirm can still join through another band.
    """
    anchors = members if len(members) <= MAX_PAIRWISE_BUCKET else members[:2]
    for pos, a in enumerate(anchors):
        for b in members[pos + 1 :]:
            yield a, b


def keep_key(n_chars: int | None, crawl_date: str | None, url: str | None, doc_id: str, indexed: bool = False) -> tuple:
    """Sort key of the keep rule: the cluster member with the smallest key is kept.

    Parameters
    ----------
    n_chars : int or None
        Length of the text (None counts as 0).
    crawl_date : str or None
        ISO date of the crawl; None or "" (undated) sorts after every date.
    url : str or None
        The crawled URL; None or "" sorts after every URL.
    doc_id : str
        The document id.
    indexed : bool, default False
        The document is in the index of a previous release (already published): it wins over new documents.

    Returns
    -------
    tuple
        ``(not indexed, -n_chars, undated, crawl_date, no url, url, doc_id)``: indexed first, then the longest
        text, the earliest crawl date, the smallest URL, the smallest id. Equal keys (ids may repeat) go to the
        first row: take ``min`` over members in row order, which is stable.
    """
    return (not indexed, -(n_chars or 0), not crawl_date, crawl_date or "", not url, url or "", doc_id)


def duplicate_reason(text_hash: int, url: str | None, keeper_text_hash: int, keeper_url: str | None, keeper_indexed: bool = False) -> str:
    """Why a cluster member other than the keeper is removed.

    Parameters
    ----------
    text_hash, keeper_text_hash : int
        Hashes of the normalised texts of the member and of the kept document.
    url, keeper_url : str or None
        Their :func:`url_key`, or None for both when URL dedup is off.
    keeper_indexed : bool, default False
        The kept document belongs to a previous release's index.

    Returns
    -------
    str
        ``dedup:previous_release`` when the keeper is indexed, else ``dedup:exact`` for the same normalised
        text, ``dedup:url`` for the same page identity, ``dedup:near`` otherwise (constants of
        :mod:`longtail.reasons`). Reasons are relative to the keeper, not to the pair that linked the member
        into the cluster.
    """
    if keeper_indexed:
        return DEDUP_PREVIOUS_RELEASE
    if text_hash == keeper_text_hash:
        return DEDUP_EXACT
    if url is not None and url == keeper_url:
        return DEDUP_URL
    return DEDUP_NEAR

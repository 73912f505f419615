"""Scripture-like and templated text: verse numbering, repeated formulae, pages built from one template.

Such text is fluent and in-language, so perplexity and the heuristics keep it; in a small language it can
still be most of the crawl (Bible translations, liturgy, generated listings), which skews a corpus. We flag
it (``templated_score`` in [0, 1]) and let selection cap its share instead of dropping it outright.

Three parts, the score is their maximum:
  verse_share     share of lines carrying chapter:verse numbering (``3:16``, ``(12:4)``)
  formula_share   share of lines opening with the document's most common opening (after numbering)
  domain_share    share of a page's characters in lines that recur, digits masked, on >= 3 other distinct
                  pages of the same domain (one template filled in many times)
"""

from __future__ import annotations

import hashlib
from collections import Counter
from urllib.parse import urlsplit

import numpy as np
import regex
import xxhash

from longtail.filters.words import first_words, is_unspaced

_VERSE = regex.compile(r"(?:^|[\s(\[])\p{Nd}{1,3}\s?[:：]\s?\p{Nd}{1,3}(?=[\s).\]]|$)")
_LEADING_NUMBER = regex.compile(r"^[\s(\[]*[\p{Nd}]+(?:[:.：][\p{Nd}]+)*[).\]]?\s*")
_DIGITS = regex.compile(r"\p{Nd}+")
MIN_LINES = 4
MIN_DOMAIN_PAGES = 3


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def verse_share(text: str) -> float:
    return _verse_share(_lines(text))


def _verse_share(lines: list[str]) -> float:
    if len(lines) < MIN_LINES:
        return 0.0
    # the colon test first: most lines have none, and the pattern needs one (a third of the regex's cost)
    return sum(1 for line in lines if (":" in line or "：" in line) and _VERSE.search(line)) / len(lines)


def formula_share(text: str, script: str) -> float:
    return _formula_share(_lines(text), script)


def _formula_share(lines: list[str], script: str) -> float:
    if len(lines) < MIN_LINES:
        return 0.0
    width = 8 if is_unspaced(script) else 3  # grapheme clusters vs words
    openings = [tuple(first_words(_LEADING_NUMBER.sub("", line), script, width)) for line in lines]
    openings = [o for o in openings if len(o) == width]
    if not openings:
        return 0.0
    _, count = Counter(openings).most_common(1)[0]
    return count / len(lines) if count > 1 else 0.0


def hostname(url: str | None) -> str:
    try:
        return (urlsplit(url).hostname or "") if url else ""
    except ValueError:  # a malformed URL (e.g. "http://[foo") is a page without a domain, not a crash
        return ""


def _domain_lines(texts: list[str], urls: list[str | None]) -> list[tuple[str, int, list[int], list[int]]]:
    """Per page: (domain, page key, its digit-masked lines' keys, their lengths). Keys are 64-bit hashes (a line's
    of its domain and masked text, a page's the first 8 bytes of its text's SHA-1), so that a language's pages can
    be counted in shards (pipeline/finalize_sharded.py); a collision, at about 2^-64 a pair, is not guarded."""
    pages = []
    for text, url in zip(texts, urls):
        domain = hostname(url)
        page = int.from_bytes(hashlib.sha1((text or "").encode()).digest()[:8], "little")
        # masked at once: the same lines as masking each stripped line, as digits are neither spaces nor line breaks
        lines = _lines(_DIGITS.sub("0", text)) if text else []
        pages.append((domain, page, [xxhash.xxh64_intdigest(f"{domain}\0{line}") for line in lines], [len(line) for line in lines]))
    return pages


def _pairs(pages) -> np.ndarray:
    pairs = {(line, page) for domain, page, lines, _ in pages if domain for line in lines}
    return np.array(sorted(pairs), dtype=np.uint64).reshape(-1, 2)


def domain_line_pages(texts: list[str], urls: list[str | None]) -> np.ndarray:
    """The distinct (line key, page key) pairs of the pages that have a domain, as a uint64 array of shape (n, 2)."""
    return _pairs(_domain_lines(texts, urls))


def shared_lines(pairs: np.ndarray) -> np.ndarray:
    """Sorted line keys of ``pairs`` (:func:`domain_line_pages`, of any pages, repeats allowed) found on a page and
    on at least MIN_DOMAIN_PAGES other distinct pages of its domain."""
    if not len(pairs):
        return np.zeros(0, np.uint64)
    lines, counts = np.unique(np.unique(np.asarray(pairs, dtype=np.uint64), axis=0)[:, 0], return_counts=True)
    return lines[counts > MIN_DOMAIN_PAGES]


def domain_shares(texts: list[str], urls: list[str | None], shared: np.ndarray | set | None = None) -> list[float]:
    """Per page: share of its characters in digit-masked lines found on >= MIN_DOMAIN_PAGES other distinct pages of
    its domain. ``shared``: those lines' keys (:func:`shared_lines`, or a set of them) when the domain's pages are
    not all given here (a language finalized in shards); default: counted from these pages."""
    pages = _domain_lines(texts, urls)
    if shared is None:
        shared = shared_lines(_pairs(pages))
    if not isinstance(shared, set):
        shared = set(shared.tolist())
    shares = []
    for domain, _, lines, lengths in pages:
        total = sum(lengths)
        if not domain or not total:
            shares.append(0.0)
            continue
        shares.append(sum(length for line, length in zip(lines, lengths) if line in shared) / total)
    return shares


def templated_scores(texts: list[str], urls: list[str | None], scripts: list[str], shared: np.ndarray | set | None = None) -> list[float]:
    """``shared``: as :func:`domain_shares`."""
    domain = domain_shares(texts, urls, shared)
    scores = []
    for text, script, dom in zip(texts, scripts, domain):
        lines = _lines(text)
        scores.append(round(max(_verse_share(lines), _formula_share(lines, script or "Zyyy"), dom), 4))
    return scores

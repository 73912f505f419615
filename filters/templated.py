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
from collections import Counter, defaultdict
from urllib.parse import urlsplit

import regex

from longtail.filters.words import is_unspaced, words

_VERSE = regex.compile(r"(?:^|[\s(\[])\p{Nd}{1,3}\s?[:：]\s?\p{Nd}{1,3}(?=[\s).\]]|$)")
_LEADING_NUMBER = regex.compile(r"^[\s(\[]*[\p{Nd}]+(?:[:.：][\p{Nd}]+)*[).\]]?\s*")
_DIGITS = regex.compile(r"\p{Nd}+")
MIN_LINES = 4
MIN_DOMAIN_PAGES = 3


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def verse_share(text: str) -> float:
    lines = _lines(text)
    if len(lines) < MIN_LINES:
        return 0.0
    return sum(1 for line in lines if _VERSE.search(line)) / len(lines)


def formula_share(text: str, script: str) -> float:
    lines = _lines(text)
    if len(lines) < MIN_LINES:
        return 0.0
    width = 8 if is_unspaced(script) else 3  # grapheme clusters vs words
    openings = [tuple(words(_LEADING_NUMBER.sub("", line), script)[:width]) for line in lines]
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


def domain_shares(texts: list[str], urls: list[str | None]) -> list[float]:
    """Per page: share of its characters in digit-masked lines found on >= MIN_DOMAIN_PAGES other distinct pages of its domain."""
    pages_by_line: dict[tuple[str, str], set[str]] = defaultdict(set)
    page_keys, masked = [], []
    for text, url in zip(texts, urls):
        domain = hostname(url)
        key = hashlib.sha1((text or "").encode()).hexdigest()
        lines = [_DIGITS.sub("0", line) for line in _lines(text)]
        page_keys.append((domain, key))
        masked.append(lines)
        for line in set(lines):
            pages_by_line[(domain, line)].add(key)
    shares = []
    for (domain, key), lines in zip(page_keys, masked):
        total = sum(len(line) for line in lines)
        if not domain or not total:
            shares.append(0.0)
            continue
        shared = sum(len(line) for line in lines if len(pages_by_line[(domain, line)] - {key}) >= MIN_DOMAIN_PAGES)
        shares.append(shared / total)
    return shares


def templated_scores(texts: list[str], urls: list[str | None], scripts: list[str]) -> list[float]:
    domain = domain_shares(texts, urls)
    return [
        round(max(verse_share(text or ""), formula_share(text or "", script or "Zyyy"), dom), 4)
        for text, script, dom in zip(texts, scripts, domain)
    ]

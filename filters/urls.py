"""URL rules: the UT1 adult blocklist and banned-word lists shipped inside datatrove, plus a run's own block and
allow lists (domains, URL patterns). Pure logic: a URL in, a drop reason (or ``None``) out.

The built-in rules are datatrove's :class:`~datatrove.pipeline.filters.url_filter.URLFilter` (its ``filter``
method, its lists: ``assets/url_filterblacklistsv0_3_0.tar.gz``, ``banned_words.txt``, ``banned_subwords.txt``,
``soft_banned_words.txt``); nothing is downloaded. Two changes, both about running it on every annotate actor:

* the UT1 ``domains`` list (4.56 million names) is held as a sorted array of 64-bit hashes (36 MB, built once per
  machine into a cache folder keyed by the archive's sha256, then memory-mapped), not a Python set of strings
  (~600 MB per actor);
* the public-suffix split uses tldextract's bundled snapshot (``suffix_list_urls=()``), never the network.

Order of the rules: an allow list match keeps the page whatever else matches (``allow_domains`` covers the
domain and its subdomains; ``allow_patterns`` are regular expressions searched in the URL); then the run's
block lists, then UT1, then the word rules. Reasons (``reasons.py``): ``url:blocklist`` (a listed domain,
subdomain or URL), ``url:banned_word`` (a banned word, or ``soft_word_threshold`` soft-banned words, among the
URL's words), ``url:banned_subword`` (a banned sub-word anywhere in the letters of the URL).
"""

from __future__ import annotations

import hashlib
import os
import re
import tarfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xxhash

from longtail.fileio import atomic_path
from longtail.reasons import URL_BANNED_SUBWORD, URL_BANNED_WORD, URL_BLOCKLIST

UT1_ARCHIVE = "url_filterblacklistsv0_3_0.tar.gz"
WORD_LISTS = ("banned_words.txt", "banned_subwords.txt", "soft_banned_words.txt")
# datatrove's URLFilter verdicts -> our reasons
_DATATROVE_REASONS = {
    "domain": URL_BLOCKLIST,
    "subdomain": URL_BLOCKLIST,
    "url": URL_BLOCKLIST,
    "hard_blacklisted": URL_BANNED_WORD,
    "soft_blacklisted": URL_BANNED_WORD,
    "blacklisted_subword": URL_BANNED_SUBWORD,
}


@dataclass(frozen=True)
class UrlFilterSettings:
    """``stages.url_filter`` of a manifest. List files: one entry a line, ``#`` starts a comment."""

    enabled: bool = True
    ut1: bool = True  # the UT1 adult domains and URLs shipped in datatrove
    banned_words: bool = True  # datatrove's banned words, soft-banned words (2 or more) and banned sub-words
    soft_word_threshold: int = 2
    block_domains: str | None = None  # file: domains whose pages (and their subdomains') are dropped
    block_patterns: str | None = None  # file: regular expressions; a URL any of them matches is dropped
    allow_domains: str | None = None  # file: domains (and subdomains) always kept, whatever the block lists say
    allow_patterns: str | None = None  # file: regular expressions; a URL any of them matches is always kept


def datatrove_assets() -> Path:
    from datatrove.utils._import_utils import ASSETS_PATH

    return Path(ASSETS_PATH)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_list(path: str | Path) -> list[str]:
    """Entries of a list file: stripped lines, blank lines and ``#`` comments left out."""
    entries = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip() if not line.lstrip().startswith("#") else ""
        if line:
            entries.append(line)
    return entries


def _domain_hash(domain: str) -> int:
    return xxhash.xxh64_intdigest(domain.strip().lower().rstrip("."))


class HashedSet:
    """Membership in a sorted ``uint64`` array of xxh64 hashes (a false match needs a 64-bit collision)."""

    def __init__(self, hashes: np.ndarray):
        self.hashes = hashes

    def __len__(self) -> int:
        return len(self.hashes)

    def __contains__(self, item) -> bool:
        if not item:
            return False
        key = np.uint64(_domain_hash(item))
        index = int(np.searchsorted(self.hashes, key))
        return index < len(self.hashes) and self.hashes[index] == key

    def union(self, extra) -> "HashedSet":  # URLFilter.download_data's get_list unions its extra lists
        if not extra:
            return self
        more = np.fromiter((_domain_hash(d) for d in extra), dtype=np.uint64)
        return HashedSet(np.unique(np.concatenate([self.hashes, more])))


def cache_dir() -> Path:
    return Path(os.environ.get("LONGTAIL_CACHE") or Path.home() / ".cache" / "longtail") / "url_lists"


def ut1_lists(archive: Path | None = None) -> tuple[HashedSet, set[str], str]:
    """``(domains, urls, archive sha256)`` of the UT1 archive; the domain hashes are built once and cached."""
    archive = archive or datatrove_assets() / UT1_ARCHIVE
    sha = sha256_file(archive)
    folder = cache_dir()
    domains_file, urls_file = folder / f"ut1-{sha[:16]}-domains.npy", folder / f"ut1-{sha[:16]}-urls.txt"
    if not (domains_file.is_file() and urls_file.is_file()):
        folder.mkdir(parents=True, exist_ok=True)
        with tarfile.open(archive, "r:gz") as tar:
            names = tar.extractfile("domains").read().decode("utf-8", "replace").splitlines()
            urls = tar.extractfile("urls").read().decode("utf-8", "replace")
        hashes = np.unique(np.fromiter((_domain_hash(d) for d in names if d and not d.startswith("#")), dtype=np.uint64, count=-1))
        with atomic_path(domains_file) as tmp:
            with open(tmp, "wb") as handle:
                np.save(handle, hashes)
        with atomic_path(urls_file) as tmp:
            tmp.write_text(urls, encoding="utf-8")
    domains = HashedSet(np.load(domains_file, mmap_mode="r"))
    urls = {line.strip() for line in urls_file.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")}
    return domains, urls, sha


def _offline_tldextract():
    from tldextract import TLDExtract

    return TLDExtract(suffix_list_urls=(), cache_dir=None)


def _url_filter_class():
    from datatrove.pipeline.filters.url_filter import URLFilter, get_list

    class CompactURLFilter(URLFilter):
        """datatrove's URLFilter with the UT1 domains as a :class:`HashedSet` and an offline suffix list."""

        def __init__(self, use_ut1: bool, use_words: bool, soft_word_threshold: int):
            super().__init__(soft_word_threshold=soft_word_threshold, use_integrated_lists=False)
            self.tldextractor = _offline_tldextract()
            self.use_ut1, self.use_words = use_ut1, use_words
            self.ut1_sha256 = None

        def download_data(self):  # nothing is downloaded: the lists come from datatrove's package and our cache
            if self._downloaded:
                return
            if self.use_ut1:
                self.block_listed_domains, self.block_listed_url, self.ut1_sha256 = ut1_lists()
            assets = str(datatrove_assets())
            if self.use_words:
                self.banned_words = get_list(assets, "banned_words.txt", self.banned_words)
                self.banned_subwords = get_list(assets, "banned_subwords.txt", self.banned_subwords)
                self.soft_banned_words = get_list(assets, "soft_banned_words.txt", self.soft_banned_words)
                for word in self.banned_subwords:
                    self.banned_subwords_automaton.add_word(word, len(self.banned_subwords_automaton))
            if self.banned_subwords:
                self.banned_subwords_automaton.make_automaton()
            self._downloaded = True

    return CompactURLFilter


def _domain_suffixes(host: str):
    """``a.b.example.com`` -> ``a.b.example.com``, ``b.example.com``, ``example.com``, ``com``."""
    parts = host.split(".")
    for start in range(len(parts)):
        yield ".".join(parts[start:])


_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//(?:[^@/?#]*@)?(?P<host>[^:/?#]+)", re.IGNORECASE)


def url_host(url: str) -> str:
    match = _HOST.match(url.strip())
    return match.group("host").lower().rstrip(".") if match else ""


class UrlRules:
    """``verdict(url)``: the drop reason of a URL, or ``None`` to keep it. ``setup()`` loads the lists."""

    def __init__(self, settings: UrlFilterSettings):
        self.settings = settings
        self._filter = None
        self._allow_domains: set[str] = set()
        self._block_domains: set[str] = set()
        self._allow_patterns: re.Pattern | None = None
        self._block_patterns: re.Pattern | None = None

    @staticmethod
    def _patterns(path: str | None) -> re.Pattern | None:
        entries = read_list(path) if path else []
        return re.compile("|".join(f"(?:{p})" for p in entries)) if entries else None

    def setup(self) -> None:
        if self._filter is not None:
            return
        s = self.settings
        self._allow_domains = {d.lower().strip(".") for d in read_list(s.allow_domains)} if s.allow_domains else set()
        self._block_domains = {d.lower().strip(".") for d in read_list(s.block_domains)} if s.block_domains else set()
        self._allow_patterns, self._block_patterns = self._patterns(s.allow_patterns), self._patterns(s.block_patterns)
        # datatrove reads tldextract's registered_domain, deprecated in tldextract 5 (same value as its new name)
        warnings.filterwarnings("ignore", message="The 'registered_domain' property is deprecated", category=DeprecationWarning)
        self._filter = _url_filter_class()(s.ut1, s.banned_words, s.soft_word_threshold)
        self._filter.download_data()

    def verdict(self, url: str | None) -> str | None:
        if not url:
            return None
        self.setup()
        host = url_host(url)
        if any(d in self._allow_domains for d in _domain_suffixes(host)) or (self._allow_patterns and self._allow_patterns.search(url)):
            return None
        if any(d in self._block_domains for d in _domain_suffixes(host)) or (self._block_patterns and self._block_patterns.search(url)):
            return URL_BLOCKLIST
        from datatrove.data import Document

        result = self._filter.filter(Document(text="", id="", metadata={"url": url}))
        return None if result is True else _DATATROVE_REASONS.get(result[1], URL_BLOCKLIST)


def describe_url_rules(settings: UrlFilterSettings) -> dict:
    """What the release states about the URL rules: which lists, their versions and sha256."""
    if not settings.enabled:
        return {"enabled": False}
    import datatrove

    assets = datatrove_assets()
    info: dict = {"enabled": True, "datatrove_version": getattr(datatrove, "__version__", None), "lists": []}
    if settings.ut1:
        info["lists"].append({"name": "UT1 adult (datatrove)", "file": UT1_ARCHIVE, "version": "v0_3_0", "sha256": sha256_file(assets / UT1_ARCHIVE)})
    if settings.banned_words:
        for name in WORD_LISTS:
            info["lists"].append({"name": f"datatrove {name}", "file": name, "sha256": sha256_file(assets / name)})
        info["soft_word_threshold"] = settings.soft_word_threshold
    for key in ("block_domains", "block_patterns", "allow_domains", "allow_patterns"):
        path = getattr(settings, key)
        if path:
            info["lists"].append({"name": key, "file": os.path.basename(path), "entries": len(read_list(path)), "sha256": sha256_file(Path(path))})
    info["allow_overrides_block"] = True
    return info

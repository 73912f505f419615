"""MinHash signatures and exact-text hashes, computed once in the annotate pass.

Shingles (``shingle="char"``, the default since issue 14) are character n-grams of the normalised text, taken
within each line: ``char_ngram`` (9) code points, with single spaces between words where the script writes
spaces and spaces removed where it does not (Thai, Lao, Khmer, Burmese); ``char_ngram_han`` (4) code points
for Chinese and Japanese, where one character is a morpheme or a syllable (:data:`HAN_SCRIPTS`). A word edit
then breaks ~9 of a line's shingles instead of every 5-word window it is in, and lines shuffled or reordered
keep all their shingles. Text is normalised first:
NFKC, case where the script has case, digits, punctuation, and diacritics where they are cosmetic (a Yorùbá
page copied without its tone marks is still the same page). Shingles are hashed in numpy (a polynomial hash
of the code points, splitmix64, 32 bits) and the permutations are datasketch's (``MinHash`` with an identity
``hashfunc``), so an annotate pass costs about the same per character as the word shingles did per word.

``shingle="word"`` is the previous scheme (word 5-grams over the whole text, 10-grapheme n-grams where the
script writes no spaces, SHA-1 via datasketch's default hash), kept for comparison and for indexes built
with it.
"""

from __future__ import annotations

from dataclasses import dataclass


import numpy as np
import pyarrow as pa
import xxhash

from longtail.filters.words import fold_cosmetic_marks, is_unspaced, lm_tokens, normalise_characters

from longtail.stages.base import set_column



SHINGLES = ("char", "word")
# Scripts where a character is a morpheme or a syllable: char shingles of ``char_ngram_han`` code points.
HAN_SCRIPTS = frozenset({"Hani", "Hans", "Hant", "Jpan", "Hira", "Kana"})
_POLY = np.uint64(0x100000001B3)
_MAX_SHINGLES_PER_UPDATE = 16_384  # bounds the (shingles x num_perm) matrix of one datasketch update


@dataclass(frozen=True)
class MinHashParams:
    """Dedup parameters (``stages.dedup`` in the manifest; table in docs/dedup.md).

    Two documents of shingle Jaccard similarity s share at least one of ``bands`` bands of ``rows`` values with
    probability 1 - (1 - s^rows)^bands (:attr:`lsh_threshold` is its 50 % point); a candidate pair is a
    duplicate when the fraction of equal signature values (the Jaccard estimate, standard error
    sqrt(s(1-s)/num_perm)) reaches ``threshold``. ``num_perm``, ``bands``, ``rows``, ``ngram``,
    ``char_ngram_factor`` and ``seed`` fix signatures and band hashes: a dedup index is only usable with the
    same values.
    """

    num_perm: int = 128
    bands: int = 32
    rows: int = 4
    # "char": code-point n-grams within lines (issue 14); "word": word n-grams over the whole text (before).
    shingle: str = "char"
    char_ngram: int = 9  # code points (spaces included where the script writes them, removed where it does not)
    char_ngram_han: int = 4  # code points in Chinese and Japanese (HAN_SCRIPTS): a character is a morpheme/syllable
    ngram: int = 5  # shingle="word": words; unspaced scripts use ``ngram * char_ngram_factor`` grapheme clusters
    char_ngram_factor: int = 2
    seed: int = 1
    # Candidate pairs from LSH are confirmed when their estimated Jaccard similarity reaches this.
    threshold: float = 0.6
    # Pages with the same URL (scheme, "www.", fragment and default port ignored) are one page re-crawled.
    url_dedup: bool = True
    # Dedup index of previous releases (``longtail dedup-index build``): new pages duplicating them are removed.
    previous_index: str | None = None

    def __post_init__(self):
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows ({self.bands}x{self.rows}) exceeds num_perm ({self.num_perm})")
        if self.shingle not in SHINGLES:
            raise ValueError(f"shingle must be one of {SHINGLES}, got {self.shingle!r}")
        if min(self.char_ngram, self.char_ngram_han, self.ngram) < 1:
            raise ValueError("n-gram sizes must be at least 1")

    @property
    def lsh_threshold(self) -> float:
        """Similarity at which a pair has a 50% chance of sharing a band: (1/b)^(1/r)."""
        return (1 / self.bands) ** (1 / self.rows)


def normalised_with_lines(text: str, script: str) -> str:
    """The text as both dedup keys see it, line breaks kept: cosmetic marks folded, then
    :func:`~longtail.filters.words.normalise_characters`. Its lines are :func:`shingle_lines`; its words joined by
    single spaces are what :func:`exact_hash` hashes (computed once for both in :class:`MinHashStage`)."""
    return normalise_characters(fold_cosmetic_marks(text, script).replace("\r", "\n"), script)


def shingle_lines(text: str, script: str, normalised: str | None = None) -> list[str]:
    """The normalised lines char shingles are taken from (empty lines dropped).

    :func:`~longtail.filters.words.normalise` per line (NFKC, case folding where the script has case, digits
    to 0, punctuation and symbols to spaces, spaces collapsed) after cosmetic marks are folded; spaces removed
    where the script writes none. Equal for pages that differ in whitespace, case, punctuation or line breaks
    inside the same lines. ``normalised``: :func:`normalised_with_lines` of the text, when the caller has it.
    """
    joiner = "" if is_unspaced(script) else " "
    normalised = normalised_with_lines(text, script) if normalised is None else normalised
    return [line for line in (joiner.join(raw.split()) for raw in normalised.split("\n")) if line]


def char_shingle_hashes(text: str, script: str, params: MinHashParams) -> np.ndarray:
    """The distinct 32-bit hashes of a text's char shingles (``shingle="char"``).

    Parameters
    ----------
    text, script
        The document and its ISO 15924 script.
    params : MinHashParams
        ``char_ngram`` / ``char_ngram_han``.

    Returns
    -------
    numpy.ndarray
        Sorted unique uint32: every window of n code points inside a line of :func:`shingle_lines` (a line
        shorter than n is one shingle); empty for a text without letters or digits. A polynomial hash of the
        code points (mod 2^64) finished by splitmix64; O(len(text)) numpy work.
    """
    return np.unique(_shingle_hashes(shingle_lines(text, script), script, params))


def _shingle_hashes(lines: list[str], script: str, params: MinHashParams) -> np.ndarray:
    """:func:`char_shingle_hashes` of the shingle lines, repeats included (a signature's minimum needs no
    distinct set, and the sort that makes one costs as much as the permutations)."""
    if not lines:
        return np.zeros(0, np.uint32)
    n = params.char_ngram_han if script in HAN_SCRIPTS else params.char_ngram
    # one code-point array with a separator (0, never a code point of normalised text) between lines
    points = np.frombuffer("\0".join(lines).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    hashes = []
    if len(points) >= n:
        count = len(points) - n + 1
        h = np.zeros(count, np.uint64)
        crosses = np.zeros(count, bool)
        with np.errstate(over="ignore"):
            for k in range(n):
                window = points[k : k + count]
                h = h * _POLY + window + np.uint64(1)
                crosses |= window == 0
        hashes.append(h[~crosses])
    short = [line for line in lines if len(line) < n]
    if short:
        hashes.append(np.array([xxhash.xxh64_intdigest(line) for line in short], dtype=np.uint64))
    return (mix64(np.concatenate(hashes)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def shingles(text: str, script: str, params: MinHashParams) -> set:
    """The shingle set MinHash estimates Jaccard similarity over: the char shingles' hashes (ints,
    :func:`char_shingle_hashes`) or, with ``shingle="word"``, the word shingles (bytes) below.

    Parameters
    ----------
    text : str
        The document text.
    script : str
        Its ISO 15924 script (``Latn``, ``Khmr`` ...): decides case folding, cosmetic marks and word vs
        grapheme tokens.
    params : MinHashParams
        ``ngram`` and ``char_ngram_factor``.

    Returns
    -------
    set of bytes
        UTF-8 n-grams of normalised tokens (``ngram`` words, or ``ngram * char_ngram_factor`` grapheme clusters
        for unspaced scripts); the whole text as one shingle when it is shorter than n tokens; empty for a text
        without tokens. O(len(text)).
    """
    if params.shingle == "char":
        return set(char_shingle_hashes(text, script, params).tolist())
    tokens = lm_tokens(fold_cosmetic_marks(text, script), script, "word")
    n = params.ngram * (params.char_ngram_factor if is_unspaced(script) else 1)
    if not tokens:
        return set()
    if len(tokens) < n:
        return {" ".join(tokens).encode()}
    return {" ".join(tokens[i : i + n]).encode() for i in range(len(tokens) - n + 1)}


def exact_hash(text: str, script: str, normalised: str | None = None) -> int:
    """64-bit hash of the normalised text (xxh64): its :func:`normalised_with_lines` words joined by single spaces
    (``normalised``, when the caller has it), i.e. :func:`~longtail.filters.words.normalise` of the folded text.

    Equal for pages that differ only in case, digits, punctuation, whitespace or cosmetic diacritics of
    ``script``; the exact-duplicate key of both dedup paths.
    """
    normalised = normalised_with_lines(text, script) if normalised is None else normalised
    return xxhash.xxh64_intdigest(" ".join(normalised.split()))


_FNV_OFFSET, _FNV_PRIME = 0xCBF29CE484222325, np.uint64(0x100000001B3)


def mix64(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser of uint64 values (a copy): spreads weak low bits over the whole word."""
    h = np.array(h, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h ^= h >> np.uint64(30)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(27)
        h *= np.uint64(0x94D049BB133111EB)
        h ^= h >> np.uint64(31)
    return h


def signature_matrix(table: pa.Table, column: str = "minhash") -> np.ndarray:
    """The signatures of ``table`` as one array.

    Parameters
    ----------
    table : pyarrow.Table
        Rows with a fixed-size list ``column`` of uint32 (as :class:`MinHashStage` writes).
    column : str, default "minhash"
        The signature column.

    Returns
    -------
    numpy.ndarray
        ``(num_rows, num_perm)`` uint32, row i = row i's signature; ``(0, num_perm)`` for an empty table.
        One copy of the column's values at most (none when it is one chunk without nulls).
    """
    values_column = table.column(column).combine_chunks()
    values = np.asarray(values_column.flatten().to_numpy(zero_copy_only=False), dtype=np.uint32)
    if table.num_rows == 0:
        return values.reshape(0, getattr(values_column.type, "list_size", 0))
    return values.reshape(table.num_rows, -1)


def band_hashes(signatures: np.ndarray, lang_scripts: list[str], params: MinHashParams) -> np.ndarray:
    """One 64-bit hash per LSH band of each signature.

    Parameters
    ----------
    signatures : numpy.ndarray
        ``(n, num_perm)`` uint32 MinHash signatures (:func:`signature_matrix`).
    lang_scripts : list of str
        Each row's language label: band hashes are salted with it, so documents of different languages never
        share a bucket.
    params : MinHashParams
        ``bands`` and ``rows``: band b covers signature values ``[b * rows, (b + 1) * rows)``.

    Returns
    -------
    numpy.ndarray
        ``(n, bands)`` uint64. Two documents share band b's hash exactly when their band-b values are equal
        (up to 64-bit collisions), which is the LSH candidate condition.

    Notes
    -----
    FNV-1a over the band's 32-bit values, seeded with the language salt and the band number, then splitmix64.
    The function is frozen: dedup indexes store its output, so changing it invalidates every index.
    Vectorised over rows: O(n * bands * rows) numpy operations on uint64.
    """
    n = signatures.shape[0]
    salts = np.array([xxhash.xxh64_intdigest(label or "") for label in lang_scripts], dtype=np.uint64)
    out = np.empty((n, params.bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for band in range(params.bands):
            h = salts ^ np.uint64(_FNV_OFFSET + band)
            for row in range(params.rows):
                h = (h ^ signatures[:, band * params.rows + row].astype(np.uint64)) * _FNV_PRIME
            out[:, band] = mix64(h)
    return out


SCHEME = "affine32"  # datasketch's permutation scheme: fmix32 of the hash, then a * h + b in uint32 (wrapping)


def permuted_minimum(hashes: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The MinHash signature of 32-bit shingle hashes under datasketch's ``affine32`` permutations ``(a, b)``:
    what ``MinHash(scheme="affine32", hashfunc=identity).update_batch(hashes)`` gives (tested equal). datasketch
    passes every value through a Python call and allocates per broadcast; a page has thousands of char
    shingles, so this computes the same in place, in numpy (6x faster on the real-page bench)."""
    signature = np.full(len(a), np.iinfo(np.uint32).max, dtype=np.uint32)  # datasketch's empty value
    with np.errstate(over="ignore"):
        for start in range(0, len(hashes), _MAX_SHINGLES_PER_UPDATE):
            h = hashes[start : start + _MAX_SHINGLES_PER_UPDATE].astype(np.uint32)
            h = h ^ (h >> np.uint32(16))  # MurmurHash3's fmix32, datasketch's pre-mix
            h *= np.uint32(0x85EBCA6B)
            h ^= h >> np.uint32(13)
            h *= np.uint32(0xC2B2AE35)
            h ^= h >> np.uint32(16)
            permuted = a.reshape(-1, 1) * h  # num_perm x shingles
            permuted += b.reshape(-1, 1)
            np.minimum(signature, permuted.min(axis=1), out=signature)
    return signature


def _identity(value):
    return value


class MinHashStage:
    name = "minhash"
    reads = ("text", "script")
    adds = ("minhash", "text_hash")

    def __init__(self, params: MinHashParams = MinHashParams()):
        self.params = params
        self._template = None

    def setup(self) -> None:
        if self._template is None:
            from datasketch import MinHash

            # Permutations are generated once per worker from the fixed seed (no global RNG touched). Char
            # shingles arrive hashed (numpy), so datasketch only applies its permutations to them.
            # The scheme is named: datasketch 2.0 changed its default, and a dedup index only matches signatures
            # of the same scheme.
            hashfunc = _identity if self.params.shingle == "char" else None
            self._template = MinHash(num_perm=self.params.num_perm, seed=self.params.seed, hashfunc=hashfunc, scheme=SCHEME)

    def signature(self, text: str, script: str, normalised: str | None = None) -> np.ndarray:
        """The text's signature; ``normalised``: its :func:`normalised_with_lines`, when the caller has it."""
        self.setup()
        if self.params.shingle == "char":
            lines = shingle_lines(text, script, normalised)
            return permuted_minimum(_shingle_hashes(lines, script, self.params), *self._template.permutations)
        minhash = self._template.copy()
        minhash.clear()
        grams = shingles(text, script, self.params)
        if grams:
            minhash.update_batch(list(grams))
        return minhash.hashvalues.astype(np.uint32)

    def __call__(self, batch: pa.Table) -> pa.Table:
        signatures, hashes = [], []
        for text, script in zip(batch.column("text").to_pylist(), batch.column("script").to_pylist()):
            text, script = text or "", script or "Zyyy"
            if self.params.shingle == "char":  # one normalisation for both keys
                normalised = normalised_with_lines(text, script)
                signatures.append(self.signature(text, script, normalised))
                hashes.append(exact_hash(text, script, normalised))
            else:
                signatures.append(self.signature(text, script))
                hashes.append(exact_hash(text, script))
        flat = pa.array(np.concatenate(signatures) if signatures else np.array([], dtype=np.uint32), pa.uint32())
        batch = set_column(batch, "minhash", pa.FixedSizeListArray.from_arrays(flat, self.params.num_perm))
        return set_column(batch, "text_hash", hashes, pa.uint64())

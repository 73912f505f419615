"""MinHash signatures and exact-text hashes, computed once in the annotate pass.

Shingles are script-aware: word n-grams where the script writes spaces; grapheme-cluster n-grams where it
does not (splitting Thai or Khmer on spaces would give a handful of phrase-long "words" and no signal).
Text is normalised first: NFKC, case where the script has case, digits, punctuation, and diacritics where
they are cosmetic (a Yorùbá page copied without its tone marks is still the same page).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import xxhash

from longtail.filters.words import fold_cosmetic_marks, is_unspaced, lm_tokens, normalise

from longtail.stages.base import set_column


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
    bands: int = 16
    rows: int = 8
    ngram: int = 5  # words; unspaced scripts use ``ngram * char_ngram_factor`` grapheme clusters
    char_ngram_factor: int = 2
    seed: int = 1
    # Candidate pairs from LSH are confirmed when their estimated Jaccard similarity reaches this.
    threshold: float = 0.7
    # Pages with the same URL (scheme, "www.", fragment and default port ignored) are one page re-crawled.
    url_dedup: bool = True
    # Dedup index of previous releases (``longtail dedup-index build``): new pages duplicating them are removed.
    previous_index: str | None = None

    def __post_init__(self):
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands x rows ({self.bands}x{self.rows}) exceeds num_perm ({self.num_perm})")

    @property
    def lsh_threshold(self) -> float:
        """Similarity at which a pair has a 50% chance of sharing a band: (1/b)^(1/r)."""
        return (1 / self.bands) ** (1 / self.rows)


def shingles(text: str, script: str, params: MinHashParams) -> set[bytes]:
    """The shingle set MinHash estimates Jaccard similarity over.

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
    tokens = lm_tokens(fold_cosmetic_marks(text, script), script, "word")
    n = params.ngram * (params.char_ngram_factor if is_unspaced(script) else 1)
    if not tokens:
        return set()
    if len(tokens) < n:
        return {" ".join(tokens).encode()}
    return {" ".join(tokens[i : i + n]).encode() for i in range(len(tokens) - n + 1)}


def exact_hash(text: str, script: str) -> int:
    """64-bit hash of the normalised text (xxh64).

    Equal for pages that differ only in case, digits, punctuation, whitespace or cosmetic diacritics of
    ``script``; the exact-duplicate key of both dedup paths.
    """
    return xxhash.xxh64_intdigest(normalise(fold_cosmetic_marks(text, script), script))


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

            # Permutations are generated once per worker from the fixed seed (no global RNG touched).
            self._template = MinHash(num_perm=self.params.num_perm, seed=self.params.seed)

    def signature(self, text: str, script: str) -> np.ndarray:
        self.setup()
        grams = shingles(text, script, self.params)
        minhash = self._template.copy()
        minhash.clear()
        if grams:
            minhash.update_batch(list(grams))
        return minhash.hashvalues.astype(np.uint32)

    def __call__(self, batch: pa.Table) -> pa.Table:
        texts = batch.column("text").to_pylist()
        scripts = batch.column("script").to_pylist()
        signatures = [self.signature(t or "", s or "Zyyy") for t, s in zip(texts, scripts)]
        flat = pa.array(np.concatenate(signatures) if signatures else np.array([], dtype=np.uint32), pa.uint32())
        batch = set_column(batch, "minhash", pa.FixedSizeListArray.from_arrays(flat, self.params.num_perm))
        hashes = [exact_hash(t or "", s or "Zyyy") for t, s in zip(texts, scripts)]
        return set_column(batch, "text_hash", hashes, pa.uint64())

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
    tokens = lm_tokens(fold_cosmetic_marks(text, script), script, "word")
    n = params.ngram * (params.char_ngram_factor if is_unspaced(script) else 1)
    if not tokens:
        return set()
    if len(tokens) < n:
        return {" ".join(tokens).encode()}
    return {" ".join(tokens[i : i + n]).encode() for i in range(len(tokens) - n + 1)}


def exact_hash(text: str, script: str) -> int:
    """64-bit hash of the normalised text: equal for pages that differ only in case, digits, punctuation or
    cosmetic diacritics."""
    return xxhash.xxh64_intdigest(normalise(fold_cosmetic_marks(text, script), script))


class MinHashStage:
    name = "minhash"

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

"""Perplexity buckets: head / middle / tail of each language's own perplexity distribution (CCNet-style).

Cut-offs are percentiles of the language's documents in the run (not fixed numbers), so a language whose
model is trained on little text still gets a head of its most typical prose. Computed at selection time from
the stored ``perplexity`` column: changing the percentiles needs no re-annotation.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

BUCKETS = ("head", "middle", "tail")


def percentile(values, q: float) -> float:
    """The ``q`` percentile (0..100) of non-empty ``values`` by linear interpolation between the two nearest
    ranks (numpy's default method). The one percentile definition in longtail: bucket cut-offs, KenLM card
    percentiles, calibration quantiles, statistics."""
    return sorted_percentile(sorted(values), q)


def sorted_percentile(ordered, q: float) -> float:
    """:func:`percentile` of values already in ascending order (a list or a numpy array: the same arithmetic)."""
    position = q / 100 * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (position - low))


def perplexity_values(perplexities) -> np.ndarray:
    """Float64 array of a perplexity column or list, NaN where missing (numpy, not a Python float per row:
    finalize holds a language's perplexities whole)."""
    if isinstance(perplexities, (pa.Array, pa.ChunkedArray)):
        return np.asarray(pc.fill_null(pc.cast(perplexities, pa.float64()), math.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
    return np.array([math.nan if p is None else p for p in perplexities], dtype=np.float64)


def bucket_cutoffs(perplexities, percentiles: tuple[float, float]) -> tuple[float, float] | None:
    """The (head, middle) cut-offs: the two ``percentiles`` of the language's perplexities (None when it has none)."""
    values = perplexity_values(perplexities)
    ordered = np.sort(values[~np.isnan(values)])
    if not len(ordered):
        return None
    low, high = percentiles
    return sorted_percentile(ordered, low), sorted_percentile(ordered, high)


BUCKET_NAMES = np.array([*BUCKETS, None], dtype=object)  # by code; -1 (no perplexity or no cut-offs) is None


def bucket_codes(perplexities, cutoffs: tuple[float, float] | None) -> np.ndarray:
    """Each row's bucket as an index into :data:`BUCKET_NAMES` (int8): head at or below the first cut-off, middle at
    or below the second, tail above; -1 without a perplexity or cut-offs."""
    values = perplexity_values(perplexities)
    codes = np.full(len(values), -1, dtype=np.int8)
    if cutoffs is not None:
        known = ~np.isnan(values)
        codes[known] = np.where(values[known] <= cutoffs[0], 0, np.where(values[known] <= cutoffs[1], 1, 2))
    return codes


def bucket_of(perplexity: float | None, cutoffs: tuple[float, float] | None) -> str | None:
    """One perplexity's bucket (:func:`bucket_codes`)."""
    return BUCKET_NAMES[bucket_codes([perplexity], cutoffs)[0]]


def check_percentiles(value) -> tuple[float, float]:
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
        raise ValueError(f"must be two percentiles like [30, 60], got {value!r}")
    low, high = float(value[0]), float(value[1])
    if not 0 < low < high < 100:
        raise ValueError(f"needs 0 < low < high < 100, got {value!r}")
    return low, high


def check_buckets(value) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value or any(v not in BUCKETS for v in value):
        raise ValueError(f"must be a non-empty list of {', '.join(BUCKETS)}, got {value!r}")
    return tuple(b for b in BUCKETS if b in value)

"""Perplexity buckets: head / middle / tail of each language's own perplexity distribution (CCNet-style).

Cut-offs are percentiles of the language's documents in the run (not fixed numbers), so a language whose
model is trained on little text still gets a head of its most typical prose. Computed at selection time from
the stored ``perplexity`` column: changing the percentiles needs no re-annotation.
"""

from __future__ import annotations

import math

BUCKETS = ("head", "middle", "tail")


def percentile(values: list[float], q: float) -> float:
    """The ``q`` percentile (0..100) of non-empty ``values`` by linear interpolation between the two nearest
    ranks (numpy's default method). The one percentile definition in longtail: bucket cut-offs, KenLM card
    percentiles, calibration quantiles, statistics."""
    ordered = sorted(values)
    position = q / 100 * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def bucket_cutoffs(perplexities: list[float | None], percentiles: tuple[float, float]) -> tuple[float, float] | None:
    values = sorted(v for v in perplexities if v is not None and not math.isnan(v))
    if not values:
        return None
    low, high = percentiles
    return percentile(values, low), percentile(values, high)


def bucket_of(perplexity: float | None, cutoffs: tuple[float, float] | None) -> str | None:
    if perplexity is None or cutoffs is None or math.isnan(perplexity):
        return None
    if perplexity <= cutoffs[0]:
        return "head"
    return "middle" if perplexity <= cutoffs[1] else "tail"


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

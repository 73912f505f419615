"""Corpus-level verification of one language's split (finalize): pages that do not look like the split's core.

Document LID judges each page alone; a language no model knows comes out as its known neighbour, page after
page, and every page looks fine in isolation. Seen together they do not: a Bhojpuri page in the Hindi split
uses other words and other letter sequences than the Hindi pages the models were sure of. This stage builds a
character n-gram profile (3- and 4-grams, lower-cased) of the split's **confident core** (the still-kept pages with
the highest LID scores, at least ``min_core`` of them), scores every still-kept page by cosine similarity to
that profile (a core page is scored against the profile without itself), and drops pages far below the core's
own similarities as ``lid:outlier``: similarity < median - ``max_deviations`` x MAD of the core's similarities.
The label the page would have had is its partition (``removed/lang_script=<label>/``), and the stage adds the
similarity as ``lid_outlier_score``. The share of still-kept pages it drops is the split's estimated
contamination (``lid_contamination`` in stats/languages.json). A split with fewer than ``min_core`` confident
pages is not judged (no reference to judge against): its estimate is null.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longtail.reasons import LID_OUTLIER
from longtail.stages.base import DROP_REASON, set_column

MIN_CORE = 20
CORE_SHARE = 0.5
MAX_DEVIATIONS = 3.5
ORDERS = (3, 4)
MAX_CHARS = 5000  # characters of a page that enter its profile


def ngram_profile(text: str, max_chars: int = MAX_CHARS) -> dict[str, float]:
    """Unit-length vector of the text's character 3- and 4-grams (lower-cased, whitespace folded)."""
    text = " " + " ".join(text[:max_chars].lower().split()) + " "
    counts: Counter = Counter()
    for n in ORDERS:
        counts.update(text[i : i + n] for i in range(len(text) - n + 1))
    norm = math.sqrt(sum(v * v for v in counts.values())) or 1.0
    return {k: v / norm for k, v in counts.items()}


def _cosine(doc: dict[str, float], centroid: dict[str, float], centroid_norm: float) -> float:
    if not centroid_norm:
        return 0.0
    return sum(v * centroid.get(k, 0.0) for k, v in doc.items()) / centroid_norm


def _median(values) -> float:
    values = np.sort(np.asarray(values, dtype=np.float64))
    mid = len(values) // 2
    return float(values[mid]) if len(values) % 2 else (float(values[mid - 1]) + float(values[mid])) / 2


def similarity(profile: dict[str, float], centroid: Counter, in_core: bool, centroid_norm: float | None = None) -> float:
    """Cosine similarity of one page's profile to the core centroid; a core page is compared without itself."""
    reference = centroid
    if in_core:
        reference = centroid.copy()
        reference.subtract(profile)
        centroid_norm = None
    norm = math.sqrt(sum(v * v for v in reference.values())) if centroid_norm is None else centroid_norm
    return _cosine(profile, reference, norm)


def outlier_scores(texts: list[str], core: list[int]) -> list[float]:
    """Cosine similarity of every text to the centroid of the core texts (core texts: leave-one-out)."""
    profiles = [ngram_profile(t) for t in texts]
    centroid: Counter = Counter()
    for i in core:
        centroid.update(profiles[i])
    core_set = set(core)
    norm = math.sqrt(sum(v * v for v in centroid.values()))
    return [similarity(profile, centroid, i in core_set, norm) for i, profile in enumerate(profiles)]


class LidOutlierStage:
    """Drops still-kept pages unlike the split's confident core as ``lid:outlier``; adds ``lid_outlier_score``."""

    name = "lid_outlier"
    reads = ("text", "lang_score", DROP_REASON)
    adds = ("lid_outlier_score", DROP_REASON)

    def __init__(self, min_core: int = MIN_CORE, core_share: float = CORE_SHARE, max_deviations: float = MAX_DEVIATIONS):
        self.min_core = min_core
        self.core_share = core_share
        self.max_deviations = max_deviations
        self.info: dict = {}

    def setup(self) -> None:
        pass

    def core(self, live, lang_scores) -> np.ndarray | None:
        """The confident core of the ``live`` rows (ascending row numbers; highest ``lang_scores`` first, ties in row
        order), or None when too few are live. ``lang_scores``: every row's LID score (a missing one counts as 0).
        numpy arrays, not a Python object per row: finalize judges languages of millions of pages."""
        if len(live) < self.min_core:
            return None
        live = np.asarray(live, dtype=np.int64)
        scores = np.nan_to_num(np.asarray(lang_scores, dtype=np.float64)[live], nan=0.0)
        return live[np.argsort(-scores, kind="stable")[: max(self.min_core, int(len(live) * self.core_share))]]

    def judge(self, live, core_rows, live_scores) -> tuple[float, np.ndarray]:
        """(floor, rows of ``live`` below it) from the similarities of the live rows (``live_scores``, in ``live``
        order; ``live`` ascending); sets :attr:`info`. Shared with finalize's partitioned path, which computes the
        similarities chunk by chunk."""
        live, live_scores = np.asarray(live, dtype=np.int64), np.asarray(live_scores, dtype=np.float64)
        core_values = live_scores[np.searchsorted(live, np.asarray(core_rows, dtype=np.int64))]
        median = _median(core_values)
        mad = _median(np.abs(core_values - median)) or 1e-6
        floor = median - self.max_deviations * 1.4826 * mad
        outliers = live[live_scores < floor]
        self.info = {"judged": True, "live": len(live), "core": len(core_rows), "floor": round(floor, 4), "core_median": round(median, 4),
                     "outliers": len(outliers), "contamination": round(len(outliers) / len(live), 4)}
        return floor, outliers

    def not_judged(self, live: list[int]) -> None:
        self.info = {"judged": False, "live": len(live), "outliers": 0, "contamination": None}

    def __call__(self, batch: pa.Table) -> pa.Table:
        reasons = batch.column(DROP_REASON).to_pylist()
        live = [i for i, r in enumerate(reasons) if r is None]
        scores: list[float | None] = [None] * batch.num_rows
        core_rows = self.core(live, pc.fill_null(batch.column("lang_score"), 0.0).to_numpy())
        if core_rows is None:
            self.not_judged(live)
            return set_column(batch, "lid_outlier_score", scores, pa.float32())
        texts = batch.column("text").to_pylist()
        position = {row: n for n, row in enumerate(live)}
        live_scores = outlier_scores([texts[i] or "" for i in live], [position[i] for i in core_rows])
        _, outliers = self.judge(live, core_rows, live_scores)
        for row, value in zip(live, live_scores):
            scores[row] = value
        for row in outliers:
            reasons[row] = LID_OUTLIER
        batch = set_column(batch, "lid_outlier_score", scores, pa.float32())
        return set_column(batch, DROP_REASON, reasons, pa.string())

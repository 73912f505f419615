"""Corpus-level verification of one language's split (finalize): pages that do not look like the split's core.

Document LID judges each page alone; a language no model knows comes out as its known neighbour, page after
page, and every page looks fine in isolation. Seen together they do not: a Bhojpuri page in the Hindi split
uses other function words than the Hindi pages the models were sure of. This stage takes the split's **confident
core** (the still-kept pages with the highest LID scores, at least ``min_core`` of them) and its **common words**:
words (lower-cased; letters for scripts without spaces) found in at least ``COMMON_SHARE`` of the core's pages
(at most ``MAX_REFERENCE_PAGES`` of them, evenly spread over the core; copies counted once). A page's score is the
share of its words that are common words (a core page's own words do not count towards that). Pages far below the
core's own scores are dropped as ``lid:outlier``: score < median - ``max_deviations`` x the core's scaled MAD (at
least ``MIN_SPREAD``). The label the page would have had is its partition (``removed/lang_script=<label>/``), and
the stage adds the score as ``lid_outlier_score``. The share of still-kept pages it drops is the split's estimated
contamination (``lid_contamination`` in stats/languages.json). A split with fewer than ``min_core`` confident pages,
or whose core has fewer than ``min_core`` distinct pages, is not judged (no reference to judge against): its
estimate is null.

Why common words and not a character n-gram profile (the stage until 2026-12-04): function words are shared by
every genre of a language and differ between close relatives, while letter sequences of relatives overlap and
those of one language's genres (Bible, news, treebank sentences) spread widely. On real text of bench/data
(`bench/lid_outlier_relatives.py`: 13 language/relative pairs, 7% of the relative in the split) the n-gram check
caught 26 of 146 relative pages with 23 false drops of 2,103, common words 58 with 22.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from longtail.filters.words import words
from longtail.reasons import LID_OUTLIER
from longtail.stages.base import DROP_REASON, set_column

MIN_CORE = 20
CORE_SHARE = 0.5
MAX_DEVIATIONS = 3.5
COMMON_SHARE = 0.1  # a common word is in at least this share of the reference pages
MAX_REFERENCE_PAGES = 1000  # core pages whose words define the common words (bounds a large language's vocabulary)
MAX_CHARS = 5000  # characters of a page that are scored
# The core's scaled MAD counts as at least this (a share of words): when every core page scores alike (a split
# of a small vocabulary, or of templated pages) a MAD of 0 would drop every page below the median. Real splits
# of bench/data spread 0.022-0.12 (bench/lid_outlier_relatives.py), so this changes none of them.
MIN_SPREAD = 0.02


def page_words(text: str, script: str | None) -> list[str]:
    """The words a page is scored on: lower-cased, from its first ``MAX_CHARS`` characters."""
    return [w.lower() for w in words(text[:MAX_CHARS], script or "Zyyy")]


def _median(values) -> float:
    return sorted_median(np.sort(np.asarray(values, dtype=np.float64)))


def sorted_median(ordered) -> float:
    """The median of values in ascending order (anything with ``len`` and indexing by rank): the middle one, or
    the mean of the middle two."""
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (float(ordered[mid - 1]) + float(ordered[mid])) / 2


def reference_rows(core_rows) -> np.ndarray:
    """The core rows whose words define the common words: all of them up to MAX_REFERENCE_PAGES, else every
    k-th in row order (the same rows whichever way the split is read)."""
    rows = np.sort(np.asarray(core_rows, dtype=np.int64))
    return rows[:: reference_step(len(rows))] if len(rows) else rows


def reference_step(core: int) -> int:
    """Every how many core rows (in row order, from the first) one is a reference page."""
    return max(1, -(-core // MAX_REFERENCE_PAGES))


class CommonWords:
    """Document frequencies of the reference pages' words, and the common-word share of a page.

    A reference page counts once per distinct vocabulary (its set of words): copies of one page in several formats
    or crawls, which a split holds before dedup, would otherwise make that page's every word "common" and every
    other page an outlier. A page whose vocabulary was counted does not vouch for itself (nor does its copy)."""

    def __init__(self, script: str | None, share: float = COMMON_SHARE):
        self.script, self.share = script, share
        self.frequency: Counter = Counter()
        self.seen: set[frozenset] = set()
        self._common: set[str] | None = None

    @property
    def pages(self) -> int:
        """Distinct reference pages counted."""
        return len(self.seen)

    def add(self, text: str) -> None:
        vocabulary = frozenset(page_words(text, self.script))
        if vocabulary and vocabulary not in self.seen:
            self.seen.add(vocabulary)
            self.frequency.update(vocabulary)
            self._common = None

    def score(self, text: str) -> float:
        """Share of the page's words that are common words."""
        tokens = page_words(text, self.script)
        if not tokens:
            return 0.0
        own = frozenset(tokens)
        if own in self.seen:
            need = self.share * (self.pages - 1)
            return sum(1 for w in tokens if self.frequency[w] - (w in own) >= need) / len(tokens)
        if self._common is None:
            need = self.share * self.pages
            self._common = {w for w, n in self.frequency.items() if n >= need}
        return sum(1 for w in tokens if w in self._common) / len(tokens)


def common_words(texts, script: str | None, share: float = COMMON_SHARE) -> CommonWords:
    """:class:`CommonWords` of the reference pages' ``texts``."""
    common = CommonWords(script, share)
    for text in texts:
        common.add(text or "")
    return common


class LidOutlierStage:
    """Drops still-kept pages unlike the split's confident core as ``lid:outlier``; adds ``lid_outlier_score``
    (the page's common-word share)."""

    name = "lid_outlier"
    reads = ("text", "lang_score", DROP_REASON)
    adds = ("lid_outlier_score", DROP_REASON)

    def __init__(self, min_core: int = MIN_CORE, core_share: float = CORE_SHARE, max_deviations: float = MAX_DEVIATIONS, script: str | None = None,
                 common_share: float = COMMON_SHARE):
        self.script = script  # the split's script: how its text divides into words
        self.common_share = common_share
        self.min_core = min_core
        self.core_share = core_share
        self.max_deviations = max_deviations
        self.info: dict = {}

    @classmethod
    def for_split(cls, label: str, **options) -> LidOutlierStage:
        """The stage for the split of ``label`` (``lang_Script``): its script says how the text divides into words."""
        return cls(script=label.partition("_")[2] or None, **options)

    def setup(self) -> None:
        pass

    def common_words(self, reference_texts) -> CommonWords | None:
        """The common words of the core's :func:`reference_rows` texts, or None when they hold fewer than
        ``min_core`` distinct pages (a core of a few pages in many copies: nothing to judge against)."""
        common = common_words(reference_texts, self.script, self.common_share)
        return common if common.pages >= self.min_core else None

    def core(self, live, lang_scores) -> np.ndarray | None:
        """The confident core of the ``live`` rows (ascending row numbers; highest ``lang_scores`` first, ties in row
        order), or None when too few are live. ``lang_scores``: every row's LID score (a missing one counts as 0).
        numpy arrays, not a Python object per row: finalize judges languages of millions of pages."""
        if len(live) < self.min_core:
            return None
        live = np.asarray(live, dtype=np.int64)
        scores = np.nan_to_num(np.asarray(lang_scores, dtype=np.float64)[live], nan=0.0)
        return live[np.argsort(-scores, kind="stable")[: self.core_size(len(live))]]

    def core_size(self, live: int) -> int:
        """Pages in the confident core of a split of ``live`` live pages (at least ``min_core`` of them)."""
        return max(self.min_core, int(live * self.core_share))

    def judge(self, live, core_rows, live_scores) -> tuple[float, np.ndarray]:
        """(floor, rows of ``live`` below it) from the similarities of the live rows (``live_scores``, in ``live``
        order; ``live`` ascending); sets :attr:`info`. Shared with finalize's partitioned path, which computes the
        similarities chunk by chunk."""
        live, live_scores = np.asarray(live, dtype=np.int64), np.asarray(live_scores, dtype=np.float64)
        core_values = live_scores[np.searchsorted(live, np.asarray(core_rows, dtype=np.int64))]
        median = _median(core_values)
        floor = self.floor(median, _median(np.abs(core_values - median)))
        outliers = live[live_scores < floor]
        self.judged(len(live), len(core_rows), floor, median, len(outliers))
        return floor, outliers

    def floor(self, median: float, absolute_deviation: float) -> float:
        """The score below which a page is an outlier, from the core's median and median absolute deviation."""
        return median - self.max_deviations * max(1.4826 * absolute_deviation, MIN_SPREAD)

    def judged(self, live: int, core: int, floor: float, median: float, outliers: int) -> None:
        """Sets :attr:`info` for a judged split (also from finalize's shards, which judge it piecewise)."""
        self.info = {"judged": True, "live": live, "core": core, "floor": round(floor, 4), "core_median": round(median, 4),
                     "outliers": outliers, "contamination": round(outliers / live, 4)}

    def not_judged(self, live) -> None:
        """Sets :attr:`info` for a split too small to judge; ``live``: its live rows (or their number)."""
        self.info = {"judged": False, "live": live if isinstance(live, int) else len(live), "outliers": 0, "contamination": None}

    def __call__(self, batch: pa.Table) -> pa.Table:
        reasons = batch.column(DROP_REASON).to_pylist()
        live = [i for i, r in enumerate(reasons) if r is None]
        scores: list[float | None] = [None] * batch.num_rows
        core_rows = self.core(live, pc.fill_null(batch.column("lang_score"), 0.0).to_numpy())
        if core_rows is None:
            self.not_judged(live)
            return set_column(batch, "lid_outlier_score", scores, pa.float32())
        texts = batch.column("text").to_pylist()
        common = self.common_words(texts[i] for i in reference_rows(core_rows).tolist())
        if common is None:
            self.not_judged(live)
            return set_column(batch, "lid_outlier_score", scores, pa.float32())
        live_scores = [common.score(texts[i] or "") for i in live]
        _, outliers = self.judge(live, core_rows, live_scores)
        for row, value in zip(live, live_scores):
            scores[row] = value
        for row in outliers:
            reasons[row] = LID_OUTLIER
        batch = set_column(batch, "lid_outlier_score", scores, pa.float32())
        return set_column(batch, DROP_REASON, reasons, pa.string())

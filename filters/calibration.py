"""Per-language thresholds for the heuristic signals, derived from the run's own reference-like documents.

Method (also in docs/quality.md):
1. Reference-like documents of a language: strict LID (``lang_score >= strict_lid``, lowered to the language's
   median LID score when that is lower, never below 0.5: LID scores differ by language), KenLM perplexity no
   higher than the ``reference_percentile`` of the language model's held-out reference sentences (the model
   card), and, when a classifier score exists, ``quality_score >= min_quality_score``. Without a model
   card, the language's own documents at or below its median perplexity stand in.
2. For each signal, the per-signal keep share is ``keep ** (1 / number of signals)`` so that, for independent
   signals, about ``keep`` of the reference-like documents pass all of them; the threshold is that quantile
   of the signal among reference-like documents (upper quantile for ``max_*`` rules, lower for ``min_*``).
3. Reference-like sets still contain some junk (fluent repeated listings have low perplexity), so the
   quantile is clipped to Tukey's fence (Q3 + 1.5 IQR, or Q1 - 1.5 IQR) of the same documents, and then
   loosened by ``slack`` and kept inside fixed bounds so that a handful of documents cannot give a
   threshold no ordinary page can meet.
4. Languages with fewer than ``min_documents`` reference-like documents get no thresholds (the defaults
   apply) and are listed as skipped.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from longtail.filters.perplexity_buckets import percentile

# signal column -> (threshold field, kind, bound): bound is the loosest threshold calibration may return
# for max rules' lower end / min rules' upper end (never stricter than this).
CALIBRATED_SIGNALS = {
    "letter_ratio": ("min_letter_ratio", "min", 0.9),
    "dup_line_frac": ("max_dup_line_frac", "max", 0.1),
    "top_2gram_frac": ("max_top_2gram_frac", "max", 0.1),
    "dup_5gram_frac": ("max_dup_5gram_frac", "max", 0.1),
}


@dataclass(frozen=True)
class CalibrationSettings:
    keep: float = 0.95  # share of reference-like documents all calibrated thresholds should keep
    strict_lid: float = 0.8
    reference_percentile: int = 90  # of the held-out reference sentences' perplexity (card percentiles: 10, 25, 50, 75, 90, 95, 99)
    min_quality_score: float = 0.5
    min_documents: int = 8
    slack: float = 0.02

    def as_dict(self) -> dict:
        return asdict(self)


def strict_lid_threshold(scores: list[float], strict: float, floor: float = 0.5) -> float:
    """``strict``, lowered to the language's median LID score when that is lower (never below ``floor``).

    LID scores are not calibrated across languages: heliport gives clean Russian prose ~0.75 and clean Amharic
    ~0.95, so one absolute number would call a whole language unreliable.
    """
    scores = [s for s in scores if s is not None]
    return max(floor, min(strict, percentile(scores, 50))) if scores else strict


def reference_like(rows: list[dict], card: dict | None, settings: CalibrationSettings) -> list[dict]:
    strict_lid = strict_lid_threshold([r.get("lang_score") for r in rows], settings.strict_lid)
    ceiling = None
    if card:
        ceiling = card.get("heldout_perplexity", {}).get(f"p{settings.reference_percentile}")
    if ceiling is None:
        perplexities = [r["perplexity"] for r in rows if r.get("perplexity") is not None]
        ceiling = percentile(perplexities, 50) if perplexities else None
    chosen = []
    for row in rows:
        if (row.get("lang_score") or 0.0) < strict_lid:
            continue
        if ceiling is not None and (row.get("perplexity") is None or row["perplexity"] > ceiling):
            continue
        if row.get("quality_score") is not None and row["quality_score"] < settings.min_quality_score:
            continue
        chosen.append(row)
    return chosen


def signal_threshold(values: list[float], kind: str, bound: float, per_signal_keep: float, slack: float) -> float:
    q1, q3 = percentile(values, 25), percentile(values, 75)
    fence = 1.5 * (q3 - q1)
    if kind == "max":
        value = min(percentile(values, 100 * per_signal_keep), q3 + fence) + slack
        return round(min(1.0, max(value, bound)), 4)
    value = max(percentile(values, 100 * (1 - per_signal_keep)), q1 - fence) - slack
    return round(max(0.0, min(value, bound)), 4)


def calibrate_language(rows: list[dict], card: dict | None, settings: CalibrationSettings) -> dict:
    """``{"thresholds": {...} | None, "reference_like": n, "documents": n, "kept_reference_like": share, ...}``."""
    reference = reference_like(rows, card, settings)
    result = {"documents": len(rows), "reference_like": len(reference), "thresholds": None}
    if len(reference) < settings.min_documents:
        result["skipped"] = f"only {len(reference)} reference-like documents (need {settings.min_documents})"
        return result
    per_signal_keep = settings.keep ** (1 / len(CALIBRATED_SIGNALS))
    thresholds = {}
    for signal, (field, kind, bound) in CALIBRATED_SIGNALS.items():
        values = [r[signal] for r in reference if r.get(signal) is not None]
        thresholds[field] = signal_threshold(values, kind, bound, per_signal_keep, settings.slack)
    result["thresholds"] = thresholds
    result["kept_reference_like"] = round(sum(passes(r, thresholds) for r in reference) / len(reference), 4)
    result["kept_all"] = round(sum(passes(r, thresholds) for r in rows) / len(rows), 4) if rows else 0.0
    return result


def passes(row: dict, thresholds: dict) -> bool:
    for signal, (field, kind, _) in CALIBRATED_SIGNALS.items():
        value, limit = row.get(signal), thresholds.get(field)
        if value is None or limit is None:
            continue
        if (kind == "max" and value > limit) or (kind == "min" and value < limit):
            return False
    return True

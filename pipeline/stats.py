"""Per-language statistics (JSON + CSV), record counts, the errors file, and the end-of-run summary table."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

from longtail.langid.blind_spots import describe, load_blind_spots
from longtail.pipeline.runfolder import ERRORS_JSONL, LANGUAGES_CSV, LANGUAGES_JSON, LID_CONTAMINATION_JSON, RECORDS_JSON, RUN_JSON
from longtail.stages.base import sum_counters
from longtail.stages.lid_outlier import MIN_CORE
from longtail.reasons import DOCUMENT_REASONS, LID_OUTLIER, RECORD_RESPONSE, RECORD_SKIPS, RECORD_TEXT

# every kind of record the reader counts: the ones that became documents, then the skipped ones (longtail/reasons.py)
RECORD_KINDS = (RECORD_RESPONSE, RECORD_TEXT) + RECORD_SKIPS


def merge_record_counts(unit_rows: list[dict]) -> dict:
    total: Counter = Counter()
    for row in unit_rows:
        total.update(json.loads(row["records"]) if isinstance(row["records"], str) else row["records"])
    return dict(sorted(total.items()))


def judged_pages(stats: dict) -> int:
    """Pages the ``lid:outlier`` stage looked at in one split (the still-kept pages before dedup). From the stage's
    own count (``lid_outlier.live``); runs written before it was recorded: kept + ``lid:outlier`` + dedup drops,
    which is the same number because dedup is the only stage after it."""
    info = stats.get("lid_outlier") or {}
    if info.get("live") is not None:
        return int(info["live"])
    dropped = stats.get("dropped") or {}
    return int(stats.get("documents", 0)) + int(dropped.get(LID_OUTLIER, 0)) + sum(int(n) for r, n in dropped.items() if r.startswith("dedup:"))


def lid_contamination_summary(languages: list[dict]) -> dict:
    """The whole run's estimated wrong-language contamination (``stats/lid_contamination.json``): pages dropped as
    ``lid:outlier`` / pages judged, over the splits the stage judged (at least ``MIN_CORE`` still-kept pages).
    A lower bound: the common-word check misses relatives that share the language's function words (docs/lid.md)."""
    judged = [s for s in languages if s.get("lid_contamination") is not None]
    not_judged = [s for s in languages if s.get("lid_contamination") is None]
    pages = sum(judged_pages(s) for s in judged)
    outliers = sum(int((s.get("dropped") or {}).get(LID_OUTLIER, 0)) for s in judged)
    # what the check cannot find: languages no model knows, measured to land in these kept splits (langid/blind_spots.py)
    blind_spots = {s["lang_script"]: describe(s["lid_blind_spots"]) for s in languages if s.get("documents") and s.get("lid_blind_spots")}
    return {
        "method": LID_OUTLIER,
        "lower_bound": True,
        "contamination": round(outliers / pages, 4) if pages else None,
        "outliers": outliers,
        "pages_judged": pages,
        "splits_judged": len(judged),
        "splits_not_judged": len(not_judged),
        "pages_not_judged": sum(judged_pages(s) for s in not_judged),
        "min_pages": MIN_CORE,
        "note": f"share of the judged splits' pages dropped as {LID_OUTLIER}; splits under {MIN_CORE} pages are not judged; "
                "a lower bound: the common-word check misses relatives that share the language's function words",
        "blind_spots": dict(sorted(blind_spots.items())),
    }


def write_stats(folder: Path, languages: list[dict], records: dict, errors: list[dict], run_info: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    languages = sorted(languages, key=lambda s: (-s["documents"], s["lang_script"]))
    blind_spots = load_blind_spots((run_info.get("manifest") or {}).get("identify"))
    languages = [dict(s, lid_blind_spots=blind_spots[s["lang_script"]]) if s["lang_script"] in blind_spots else s for s in languages]
    (folder / LANGUAGES_JSON).write_text(json.dumps(languages, indent=2, ensure_ascii=False))
    (folder / LID_CONTAMINATION_JSON).write_text(json.dumps(lid_contamination_summary(languages), indent=2))
    (folder / RECORDS_JSON).write_text(json.dumps(records, indent=2))
    (folder / RUN_JSON).write_text(json.dumps(run_info, indent=2, ensure_ascii=False, default=str))
    with (folder / ERRORS_JSONL).open("w", encoding="utf-8") as handle:
        for error in errors:
            handle.write(json.dumps(error, ensure_ascii=False) + "\n")
    reasons = sorted({r for s in languages for r in s["dropped"]} | set(DOCUMENT_REASONS))
    columns = ["lang_script", "documents", "words", "characters", "bytes", "annotated", "duplicate_rate", "mean_lang_score", "mixed_language_share", "perplexity_p50"]
    with (folder / LANGUAGES_CSV).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        pii = ["pii_email", "pii_ip", "pii_phone"]  # personal data found in the kept documents (replaced unless stages.pii.mode: annotate)
        judged_by = ["kenlm_source", "classifier_rule", "min_quality_score"]  # which models and thresholds judged the language
        writer.writerow(columns + ["kept_head", "kept_middle", "kept_tail", "templated_share"] + judged_by + pii + [f"dropped:{r}" for r in reasons])
        for s in languages:
            base = [s.get(c) for c in columns[:-1]] + [s.get("perplexity", {}).get("p50")]
            kept_buckets = s.get("perplexity_buckets", {}).get("kept", {})
            classifier = s.get("classifier") or {}
            extra = [kept_buckets.get(b, 0) for b in ("head", "middle", "tail")] + [s.get("templated", {}).get("kept_share", 0.0), s.get("kenlm", {}).get("source"),
                                                                                      classifier.get("rule"), classifier.get("min_quality_score")]
            found = (s.get("pii") or {}).get("kept") or {}
            writer.writerow(base + extra + [found.get(k.removeprefix("pii_"), 0) for k in pii] + [s["dropped"].get(r, 0) for r in reasons])


def write_stage_stats(path, unit_rows: list[dict], finalize_stages: dict[str, dict]) -> None:
    """``stats/stages.json``: per-stage counters (documents in, out, dropped per reason, seconds) of the annotate
    chain summed over input files (from their done records), and of the finalize chain summed over languages
    and per language."""
    annotate_stages = [json.loads(row["stages"]) if isinstance(row.get("stages"), str) else (row.get("stages") or {}) for row in unit_rows]
    document = {
        "annotate": sum_counters(annotate_stages),
        "finalize": sum_counters(finalize_stages[label] for label in sorted(finalize_stages)),
        "finalize_by_language": dict(sorted(finalize_stages.items())),
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False))


def summary_table(languages: list[dict], records: dict) -> str:
    rows = sorted(languages, key=lambda s: (-s["documents"], s["lang_script"]))
    header = f"{'lang_script':<12} {'kept':>6} {'words':>9} {'dropped':>8} {'dup%':>6}  top drop reasons"
    lines = [header, "-" * len(header)]
    for s in rows:
        dropped = sum(s["dropped"].values())
        top = ", ".join(f"{r} {n}" for r, n in Counter(s["dropped"]).most_common(2))
        lines.append(f"{s['lang_script']:<12} {s['documents']:>6} {s['words']:>9} {dropped:>8} {100 * s['duplicate_rate']:>5.1f}%  {top}")
    kept = sum(s["documents"] for s in rows)
    lines.append("-" * len(header))
    lines.append(f"{len([s for s in rows if s['documents']])} languages, {kept} documents kept")
    skipped = {k: v for k, v in records.items() if k not in ("response", "text_record")}
    if skipped:
        lines.append("records not turned into documents: " + ", ".join(f"{k} {v}" for k, v in skipped.items()))
    return "\n".join(lines)

#!/usr/bin/env python
"""Distributions of the heuristic signals on the issue-12 bench, and what candidate rules would do, without a re-run.

Reads a bench run's final rows (dataset/ and removed/, which carry every annotation column, the resolved
``max_perplexity`` and the drop reason) and bench/data/quality/truth.jsonl (joined by URL). The signals are
recomputed from the stored ``text`` with the function the annotate pass uses (``filters/signals.py::text_signals``),
so signals added after the run are measured too.

Prints
  1. per signal, quantiles (p5/p25/p50/p75/p95) for good pages (those the bench judges: not dropped by LID,
     extraction or dedup) and for each junk kind, per script group;
  2. per candidate rule set, good kept per script and junk dropped per kind (and kind x group for the misses).

A rule set replaces the repetition rule (and adds the mojibake rule); everything before it (extraction, LID,
too_short, symbols) keeps the run's verdict, everything after it (perplexity, classifier) is re-applied from the
stored columns. Not simulated: the KenLM bootstrap trains on heuristic-passing documents, so a changed rule changes
its training text a little, and dedup keeps one of a cluster, which may change when another member is dropped.

Usage: .venv/bin/python bench/analyse_signals.py [--run bench/data/quality/run] [--truth bench/data/quality/truth.jsonl]
                                                 [--quantiles] [--rules] [--ftfy]
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from longtail.filters.quality import MojibakeFilter, RepetitionFilter, Thresholds
from longtail.filters.signals import text_signals

HERE = Path(__file__).resolve().parent
JUNK_KINDS = ("word_salad", "keyword_stuffing", "boilerplate_only", "repeated_sentences", "mojibake",
              "scrambled_letters", "price_spam", "templated")
SIGNALS = ("dup_line_frac", "top_2gram_frac", "dup_5gram_frac", "compress_ratio", "mojibake_frac")
LATER = ("quality:repetition", "quality:mojibake", "quality:perplexity", "quality:perplexity_bucket", "quality:classifier")
COLUMNS = ["url", "lang_script", "script", "drop_reason", "text", "quality_score", "perplexity", "max_perplexity",
           "perplexity_bucket"]


def load(run: Path, truth_path: Path, with_ftfy: bool) -> list[dict]:
    truth = {}
    for line in truth_path.open(encoding="utf-8"):
        t = json.loads(line)
        truth[t["url"]] = t
    rows = []
    for part in ("dataset", "removed"):
        for f in sorted((run / part).glob("lang_script=*/*.parquet")):
            t = pq.read_table(f)
            for r in t.select([c for c in COLUMNS if c in t.schema.names]).to_pylist():
                if r["url"] not in truth:
                    continue
                tr = truth[r["url"]]
                r["kind"], r["group"], r["true_script"] = tr["kind"], tr["group"], tr["script"]
                r.update(text_signals(r["text"] or "", r.get("script") or "Zyyy").as_dict())
                if with_ftfy:
                    import ftfy.badness
                    r["ftfy_badness"] = ftfy.badness.badness(r["text"] or "") / max(1, len(r["text"] or ""))
                rows.append(r)
    return rows


def judged_good(r: dict) -> bool:
    reason = r["drop_reason"] or ""
    return r["kind"] == "good" and not reason.startswith(("lid:", "extract:", "dedup:"))


def q(values: list[float], p: float) -> float:
    v = sorted(values)
    return v[min(len(v) - 1, int(p * len(v)))] if v else float("nan")


def quantiles(rows: list[dict], signals) -> None:
    for sig in signals:
        print(f"\n== {sig}: p5 p25 p50 p75 p95 (n) per script group; good = judged good pages, junk = all of a kind")
        groups = sorted({r["group"] for r in rows})
        for kind in ("good",) + JUNK_KINDS:
            line = []
            for g in groups:
                vals = [r[sig] for r in rows if r["group"] == g and r["kind"] == kind and (kind != "good" or judged_good(r))]
                if vals:
                    line.append(f"{g}:{q(vals, .05):.2f}/{q(vals, .25):.2f}/{q(vals, .5):.2f}/{q(vals, .75):.2f}/{q(vals, .95):.2f}({len(vals)})")
            print(f"  {kind:18s} " + "  ".join(line))


# ------------------------------------------------------------------------------------------------ rule sets
def old_repetition(r, t: Thresholds) -> bool:
    return r["dup_line_frac"] > 0.3 or r["top_2gram_frac"] > 0.2 or r["dup_5gram_frac"] > 0.15


def rule_set(name: str):
    """(repetition predicate, mojibake predicate) of a named candidate; True = drop."""
    def candidate(max_dup5=0.15, max_lines=2, dup5_compress=None, hard_dup5=0.5, max_compress=0.17):
        def rep(r, t):
            c = r["compress_ratio"]
            if r["dup_line_frac"] > 0.3 or r["top_2gram_frac"] > 0.2:
                return True
            gate = (max_lines is not None and r["n_lines"] <= max_lines) or (dup5_compress is not None and c < dup5_compress)
            if r["dup_5gram_frac"] > max_dup5 and (gate or r["dup_5gram_frac"] > hard_dup5):
                return True
            return max_compress is not None and c < max_compress
        return rep

    def moj(limit):
        return lambda r, t: limit is not None and r["mojibake_frac"] > limit

    sets = {
        "baseline (dup5 > 0.15 for every text)": (old_repetition, moj(None)),
        "baseline + mojibake > 0.05": (old_repetition, moj(0.05)),
        "dup5 > 0.15 needs compress < 0.30 (or dup5 > 0.5); compress < 0.17": (candidate(max_lines=None, dup5_compress=0.30), moj(0.05)),
        "dup5 > 0.15 needs <= 1 line (or dup5 > 0.5); compress < 0.17": (candidate(max_lines=1), moj(0.05)),
        "dup5 > 0.15 needs <= 3 lines (or dup5 > 0.5); compress < 0.17": (candidate(max_lines=3), moj(0.05)),
        "dup5 > 0.15 needs <= 2 lines (or dup5 > 0.6); compress < 0.17": (candidate(hard_dup5=0.6), moj(0.05)),
        "dup5 > 0.15 needs <= 2 lines (or dup5 > 0.5); compress < 0.16": (candidate(max_compress=0.16), moj(0.05)),
        "dup5 > 0.15 needs <= 2 lines (or dup5 > 0.5); compress < 0.19": (candidate(max_compress=0.19), moj(0.05)),
        "dup5 > 0.15 needs <= 2 lines (or dup5 > 0.5); compress < 0.20": (candidate(max_compress=0.20), moj(0.05)),
        "mojibake > 0.02 (with the shipped repetition rule)": (shipped_repetition, moj(0.02)),
        "shipped: filters/quality.py RepetitionFilter + MojibakeFilter, Thresholds() defaults": (shipped_repetition, shipped_mojibake),
    }
    return sets[name] if name else sets


def shipped_repetition(r, t: Thresholds) -> bool:
    return RepetitionFilter()(r, t) is not True


def shipped_mojibake(r, t: Thresholds) -> bool:
    return MojibakeFilter()(r, t) is not True


def simulate(rows, rep, moj, t: Thresholds):
    out = []
    for r in rows:
        reason = r["drop_reason"]
        if reason is None or reason in LATER:
            if moj(r, t):
                reason = "quality:mojibake"
            elif rep(r, t):
                reason = "quality:repetition"
            elif r.get("max_perplexity") is not None and r.get("perplexity") is not None and r["perplexity"] > r["max_perplexity"]:
                reason = "quality:perplexity"
            elif r.get("perplexity_bucket") is not None and r["perplexity_bucket"] not in t.keep_perplexity_buckets:
                reason = "quality:perplexity_bucket"
            elif t.min_quality_score is not None and r.get("quality_score") is not None and r["quality_score"] < t.min_quality_score:
                reason = "quality:classifier"
            else:
                reason = None
        out.append(reason)
    return out


def score(rows, reasons, detail: bool) -> str:
    good_n, good_k = Counter(), Counter()
    good_drop = Counter()
    junk_n, junk_d = Counter(), Counter()
    kg_n, kg_d = Counter(), Counter()
    for r, reason in zip(rows, reasons):
        if judged_good(r):
            good_n[r["true_script"]] += 1
            good_k[r["true_script"]] += reason is None
            if reason in ("quality:repetition", "quality:mojibake"):
                good_drop[reason] += 1
        elif r["kind"] in JUNK_KINDS:
            junk_n[r["kind"]] += 1
            junk_d[r["kind"]] += reason is not None
            kg_n[(r["kind"], r["group"])] += 1
            kg_d[(r["kind"], r["group"])] += reason is not None
    lines = [f"  good kept {sum(good_k.values())}/{sum(good_n.values())} = {100 * sum(good_k.values()) / sum(good_n.values()):.1f}%"
             f"  (good dropped by repetition {good_drop['quality:repetition']}, mojibake {good_drop['quality:mojibake']})"
             f"   junk dropped {sum(junk_d.values())}/{sum(junk_n.values())} = {100 * sum(junk_d.values()) / sum(junk_n.values()):.1f}%"]
    lines.append("  junk: " + "  ".join(f"{k} {100 * junk_d[k] / junk_n[k]:.1f}%" for k in JUNK_KINDS if junk_n[k]))
    if detail:
        lines.append("  good per script: " + "  ".join(f"{s} {good_k[s]}/{good_n[s]}" for s in sorted(good_n, key=lambda s: -good_n[s])))
        for kind in ("keyword_stuffing", "repeated_sentences", "mojibake", "templated"):
            lines.append(f"  {kind} per group: " + "  ".join(
                f"{g} {kg_d[(k, g)]}/{kg_n[(k, g)]}" for (k, g) in sorted(kg_n) if k == kind))
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--run", default=str(HERE / "data" / "quality" / "run"))
    ap.add_argument("--truth", default=str(HERE / "data" / "quality" / "truth.jsonl"))
    ap.add_argument("--quantiles", action="store_true")
    ap.add_argument("--rules", action="store_true")
    ap.add_argument("--ftfy", action="store_true", help="also measure ftfy.badness.badness per character (needs ftfy)")
    ap.add_argument("--detail", action="store_true", help="per-script and per-group figures for each rule set")
    args = ap.parse_args(argv)
    if not (args.quantiles or args.rules):
        args.quantiles = args.rules = True
    rows = load(Path(args.run), Path(args.truth), args.ftfy)
    print(f"{len(rows)} rows joined with the truth")
    if args.quantiles:
        quantiles(rows, SIGNALS + (("ftfy_badness",) if args.ftfy else ()))
    if args.rules:
        t = Thresholds()
        for name, (rep, moj) in rule_set("").items():
            print(f"\n-- {name}")
            print(score(rows, simulate(rows, rep, moj, t), args.detail))
    return 0


if __name__ == "__main__":
    sys.exit(main())

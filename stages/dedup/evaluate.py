"""Precision / recall of near-duplicate detection on labelled document pairs (``longtail eval-dedup``).

A pair is *predicted* duplicate when both documents end in the same cluster (what the pipeline removes, so
transitive merges count), with documents clustered per ``lang_script`` as the pipeline does.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from longtail.stages.dedup.cluster import cluster_duplicates
from longtail.stages.dedup.minhash import MinHashParams, MinHashStage

SWEEP_THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _script_of(doc: dict) -> str:
    if doc.get("lang_script"):
        return doc["lang_script"].split("_", 1)[1]
    if doc.get("script"):
        return doc["script"]
    from longtail.langid.scripts import script_profile

    return script_profile(doc["text"]).script


def signed_table(docs: list[dict], params: MinHashParams) -> pa.Table:
    scripts = [_script_of(d) for d in docs]
    table = pa.table(
        {
            "id": [str(d["id"]) for d in docs],
            "text": [d["text"] for d in docs],
            "script": scripts,
            "lang_script": [d.get("lang_script") or f"und_{s}" for d, s in zip(docs, scripts)],
            "n_chars": [len(d["text"]) for d in docs],
            "crawl_date": [d.get("crawl_date") for d in docs],
            "url": [d.get("url") for d in docs],
        },
        schema=pa.schema([("id", pa.string()), ("text", pa.string()), ("script", pa.string()), ("lang_script", pa.string()),
                          ("n_chars", pa.int64()), ("crawl_date", pa.string()), ("url", pa.string())]),
    )
    stage = MinHashStage(params)
    stage.setup()
    return stage(table).sort_by([("id", "ascending")])


def clusters(table: pa.Table, params: MinHashParams) -> dict[str, str]:
    """id -> dup_cluster_id, clustering each lang_script separately."""
    out: dict[str, str] = {}
    labels = table.column("lang_script").to_pylist()
    for label in sorted(set(labels)):
        part = table.filter(pc.equal(table.column("lang_script"), label))
        for row in cluster_duplicates(part, params).select(["id", "dup_cluster_id"]).to_pylist():
            out[row["id"]] = row["dup_cluster_id"]
    return out


def _scores(tp: int, fp: int, fn: int) -> dict:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4), "tp": tp, "fp": fp, "fn": fn}


def score_pairs(pairs: list[dict], cluster_of: dict[str, str], script_of: dict[str, str]) -> dict:
    """Scores overall and per script, the predicted-duplicate rate per pair category, and per kind of copy
    (category of a ``duplicate`` pair) its recall overall and per script."""
    counts = defaultdict(lambda: [0, 0, 0])  # tp, fp, fn
    categories = defaultdict(lambda: [0, 0])  # predicted duplicate, pairs
    kinds = defaultdict(lambda: defaultdict(lambda: [0, 0]))  # kind -> script or "all" -> found, pairs
    for pair in pairs:
        a, b = str(pair["id_a"]), str(pair["id_b"])
        if a not in cluster_of or b not in cluster_of:
            raise ValueError(f"pair ({a}, {b}) names a document missing from --docs")
        predicted = cluster_of[a] == cluster_of[b]
        actual = pair["label"] == "duplicate"
        if pair["label"] not in ("duplicate", "not_duplicate"):
            raise ValueError(f"pair ({a}, {b}): label must be duplicate or not_duplicate, got {pair['label']!r}")
        for key in ("all", script_of[a]):
            counts[key][0] += predicted and actual
            counts[key][1] += predicted and not actual
            counts[key][2] += actual and not predicted
        category = categories[(pair.get("category") or pair["label"], pair["label"])]
        category[0] += predicted
        category[1] += 1
        if actual:
            for key in ("all", script_of[a]):
                kinds[pair.get("category") or "duplicate"][key][0] += predicted
                kinds[pair.get("category") or "duplicate"][key][1] += 1
    per_kind = {
        kind: {key: {"recall": round(found / n, 4), "found": found, "pairs": n} for key, (found, n) in sorted(by.items(), key=lambda kv: (kv[0] != "all", kv[0]))}
        for kind, by in sorted(kinds.items())
    }
    return {
        "overall": _scores(*counts.pop("all")),
        "per_script": {script: _scores(*c) for script, c in sorted(counts.items())},
        "categories": {f"{cat} ({label})": {"predicted_duplicate": p, "pairs": n} for (cat, label), (p, n) in sorted(categories.items())},
        "per_kind": per_kind,
    }


def shingle_description(params: MinHashParams) -> str:
    if params.shingle == "char":
        return f"char {params.char_ngram}-grams in lines ({params.char_ngram_han} in Chinese/Japanese)"
    return f"word {params.ngram}-grams ({params.ngram * params.char_ngram_factor} graphemes without spaces)"


def evaluate(docs: list[dict], pairs: list[dict], params: MinHashParams, sweep: bool = False) -> dict:
    table = signed_table(docs, params)
    script_of = dict(zip(table.column("id").to_pylist(), table.column("script").to_pylist()))
    cluster_of = clusters(table, params)
    report = {"params": {"num_perm": params.num_perm, "bands": params.bands, "rows": params.rows, "shingle": shingle_description(params),
                         "threshold": params.threshold, "lsh_50pct_similarity": round(params.lsh_threshold, 3)},
              "documents": len(docs), "pairs": len(pairs), **score_pairs(pairs, cluster_of, script_of), "clusters": cluster_of}
    if sweep:
        report["sweep"] = {t: score_pairs(pairs, clusters(table, replace(params, threshold=t)), script_of)["overall"] for t in SWEEP_THRESHOLDS}
    return report


def format_report(report: dict) -> str:
    p = report["params"]
    lines = [
        f"eval-dedup: {report['documents']} documents, {report['pairs']} labelled pairs; num_perm={p['num_perm']} "
        f"bands={p['bands']} rows={p['rows']} shingles: {p['shingle']}; threshold={p['threshold']} (LSH 50% point {p['lsh_50pct_similarity']})",
        "",
        f"{'script':<8} {'precision':>9} {'recall':>7} {'F1':>6} {'TP':>5} {'FP':>4} {'FN':>4}",
    ]
    for name, s in [*report["per_script"].items(), ("all", report["overall"])]:
        lines.append(f"{name:<8} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f} {s['tp']:>5} {s['fp']:>4} {s['fn']:>4}")
    lines += ["", f"{'category (label)':<34} {'predicted duplicate':>20}"]
    for name, c in report["categories"].items():
        lines.append(f"{name:<34} {c['predicted_duplicate']:>11} / {c['pairs']:<6}")
    if report.get("per_kind"):
        scripts = sorted({key for by in report["per_kind"].values() for key in by if key != "all"})
        lines += ["", "recall per kind of copy (found / pairs), overall and per script:",
                  f"{'kind':<14} {'all':>13} " + " ".join(f"{s:>9}" for s in scripts)]
        for kind, by in report["per_kind"].items():
            cells = " ".join(f"{by[s]['found']:>4}/{by[s]['pairs']:<4}" if s in by else f"{'':>9}" for s in scripts)
            lines.append(f"{kind:<14} {by['all']['recall']:>5.3f} {by['all']['found']:>3}/{by['all']['pairs']:<3} {cells}")
    if "sweep" in report:
        lines += ["", "threshold sweep (LSH bands fixed; below the LSH 50% point recall is limited by banding):",
                  f"{'threshold':>9} {'precision':>9} {'recall':>7} {'F1':>6}"]
        for t, s in report["sweep"].items():
            lines.append(f"{t:>9.2f} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['f1']:>6.3f}")
    return "\n".join(lines)

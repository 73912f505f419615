"""Wrong-language contamination audit: a stratified sample of each output language for people to judge, and
the estimate of the wrong-language rate from their verdicts.

Strata are (perplexity bucket, domain) within a language: wrong-language pages cluster on a few domains
and in the perplexity tail, so a simple random sample of a small language would mostly miss them. Each
sampled document carries the weight ``stratum size / documents sampled from it``; the estimate is the
weighted share of ``wrong_language`` verdicts among judged documents (``unsure`` ones are left out), with a
Wilson 95 % interval on the unweighted count as a rough error bar.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import random
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow.parquet as pq

from longtail.pipeline.runfolder import RunFolder, label_of_partition

VERDICTS = ("ok", "wrong_language", "not_language", "unsure")
SAMPLE_COLUMNS = ["id", "url", "text", "lang_script", "lang_score", "perplexity", "perplexity_bucket"]


def _domain(url: str | None) -> str:
    return (urlsplit(url).hostname or "-") if url else "-"


def read_kept(output: str | Path, languages: list[str] | None = None) -> dict[str, list[dict]]:
    by_language: dict[str, list[dict]] = defaultdict(list)
    folder = RunFolder(output)
    for part in folder.kept_files():
        label = label_of_partition(part)
        if languages and label not in languages:
            continue
        names = set(pq.read_schema(part).names)
        for row in pq.read_table(part, columns=[c for c in SAMPLE_COLUMNS if c in names]).to_pylist():
            row["lang_script"] = label
            by_language[label].append(row)
    if not by_language:
        raise FileNotFoundError(f"no kept documents under {folder.dataset}")
    return dict(sorted(by_language.items()))


def stratified_sample(rows: list[dict], size: int, seed: int) -> list[dict]:
    """Up to ``size`` documents: every stratum gets one before any gets a second (round robin, largest first)."""
    strata: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r["id"]):
        strata[(row.get("perplexity_bucket") or "none", _domain(row.get("url")))].append(row)
    rng = random.Random(seed)
    order = sorted(strata, key=lambda k: (-len(strata[k]), k))
    for key in order:
        rng.shuffle(strata[key])
    picked: dict[tuple[str, str], list[dict]] = defaultdict(list)
    depth, total = 0, 0
    while total < min(size, len(rows)):
        for key in order:
            if depth < len(strata[key]) and total < size:
                picked[key].append(strata[key][depth])
                total += 1
        depth += 1
    sample = []
    for key, chosen in picked.items():
        weight = len(strata[key]) / len(chosen)
        for row in chosen:
            sample.append({**row, "stratum": f"{key[0]}|{key[1]}", "domain": key[1], "stratum_size": len(strata[key]), "weight": round(weight, 6)})
    return sorted(sample, key=lambda r: (r["stratum"], r["id"]))


def write_audit_sample(output: str | Path, folder: str | Path, per_language: int, seed: int, languages: list[str] | None = None, max_chars: int = 1500) -> tuple[Path, Path, dict]:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    counts, items = {}, []
    for label, rows in read_kept(output, languages).items():
        seed_for = int(hashlib.sha1(f"{seed}:{label}".encode()).hexdigest()[:8], 16)
        sample = stratified_sample(rows, per_language, seed_for)
        counts[label] = {"documents": len(rows), "sampled": len(sample), "strata": len({s["stratum"] for s in sample})}
        for row in sample:
            text = row.get("text") or ""
            items.append({
                "id": row["id"], "lang_script": label, "url": row.get("url"), "domain": row["domain"], "stratum": row["stratum"],
                "stratum_size": row["stratum_size"], "weight": row["weight"], "lang_score": row.get("lang_score"),
                "perplexity": row.get("perplexity"), "text": text[:max_chars], "truncated": len(text) > max_chars, "verdict": None,
            })
    jsonl = folder / "audit_sample.jsonl"
    with open(jsonl, "w", encoding="utf-8") as handle:
        for item in items:
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    page = folder / "audit.html"
    page.write_text(audit_html(items), encoding="utf-8")
    return jsonl, page, counts


def audit_html(items: list[dict]) -> str:
    """A self-contained page: one card per document with verdict buttons and a button that saves verdicts.jsonl."""
    cards = []
    for item in items:
        buttons = " ".join(
            f'<label><input type="radio" name="{html.escape(item["id"])}" value="{v}"> {v.replace("_", " ")}</label>' for v in VERDICTS
        )
        cards.append(
            f'<section><h3>{html.escape(item["lang_script"])} · {html.escape(item["stratum"])} · <code>{html.escape(item["id"])}</code></h3>'
            f'<p class="meta">{html.escape(item.get("url") or "")} · LID {item.get("lang_score") or 0:.2f}</p>'
            f'<div class="text" dir="auto">{html.escape(item["text"])}{" …" if item["truncated"] else ""}</div><p>{buttons}</p></section>'
        )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>longtail wrong-language audit</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:auto}} section{{border-bottom:1px solid #ccc;padding:.5em 0}}
.text{{white-space:pre-wrap;background:#f6f6f6;padding:.5em}} .meta{{color:#666;font-size:.9em}}</style></head>
<body><h1>Wrong-language audit ({len(items)} documents)</h1>
<p>For each document: <b>ok</b> = in the language it is labelled with; <b>wrong language</b> = mostly another language;
<b>not language</b> = no natural language (code, lists, noise); <b>unsure</b>. Then save and pass the file to
<code>longtail audit-report</code>.</p>
<button onclick="save()">save verdicts.jsonl</button>
{''.join(cards)}
<script>
function save() {{
  const lines = [];
  document.querySelectorAll('input[type=radio]:checked').forEach(i => lines.push(JSON.stringify({{id: i.name, verdict: i.value}})));
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([lines.join('\\n') + '\\n'], {{type: 'application/jsonl'}}));
  a.download = 'verdicts.jsonl'; a.click();
}}
</script></body></html>
"""


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def audit_report(sample_path: str | Path, verdicts_path: str | Path) -> dict[str, dict]:
    sample = {json.loads(line)["id"]: json.loads(line) for line in Path(sample_path).read_text(encoding="utf-8").splitlines() if line.strip()}
    verdicts = {}
    for number, line in enumerate(Path(verdicts_path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("verdict") not in VERDICTS:
            raise ValueError(f"{verdicts_path}:{number}: verdict must be one of {', '.join(VERDICTS)}, got {row.get('verdict')!r}")
        if row.get("id") not in sample:
            raise ValueError(f"{verdicts_path}:{number}: id {row.get('id')!r} is not in the audit sample")
        verdicts[row["id"]] = row["verdict"]
    report: dict[str, dict] = {}
    for label in sorted({s["lang_script"] for s in sample.values()}):
        items = [s for s in sample.values() if s["lang_script"] == label]
        judged = [s for s in items if verdicts.get(s["id"]) in ("ok", "wrong_language", "not_language")]
        wrong = [s for s in judged if verdicts[s["id"]] == "wrong_language"]
        not_language = [s for s in judged if verdicts[s["id"]] == "not_language"]
        weight = sum(s["weight"] for s in judged)
        low, high = wilson_interval(len(wrong), len(judged))
        report[label] = {
            "sampled": len(items),
            "judged": len(judged),
            "unsure_or_missing": len(items) - len(judged),
            "wrong_language": len(wrong),
            "not_language": len(not_language),
            "wrong_language_rate": round(sum(s["weight"] for s in wrong) / weight, 4) if weight else None,
            "not_language_rate": round(sum(s["weight"] for s in not_language) / weight, 4) if weight else None,
            "wrong_language_ci95": [round(low, 4), round(high, 4)],
        }
    return report

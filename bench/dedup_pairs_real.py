"""Near-duplicate pairs made from REAL documents of the development bench, and dedup's figures on them.

The same kinds of copies as the composed set (``longtail.stages.dedup.copies``: exact, boilerplate lines
added or changed, whitespace/case, paragraphs shuffled, truncated to ~70 %, 5 % and 10 % of the words
substituted/inserted/deleted) are made from ``bench/data/text/<label>.jsonl`` (real text, built by
``bench/build_real_bench.py``; never committed), with hard negatives: two different documents of the
language, and two different documents inside one heavy site template.

    .venv/bin/python bench/dedup_pairs_real.py                # build bench/data/dedup_pairs/, run eval-dedup
    .venv/bin/python bench/dedup_pairs_real.py --explore      # exact shingle Jaccard / containment per kind
    .venv/bin/python bench/dedup_pairs_real.py --candidates   # LSH candidates unrelated documents make

Output goes to ``bench/data/dedup_pairs/{docs,pairs}.jsonl`` (gitignored with the rest of bench/data); the
evaluation is ``longtail.stages.dedup.evaluate`` at the default parameters (or ``--threshold`` etc.).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))

from longtail.stages.dedup import copies as cp  # noqa: E402

TEXT = REPO / "bench" / "data" / "text"
OUT = REPO / "bench" / "data" / "dedup_pairs"
# 20 labels in 14 scripts, 3 without spaces (Thai, Chinese, Japanese).
LABELS = (
    "eng_Latn",
    "fra_Latn",
    "swh_Latn",
    "yor_Latn",
    "vie_Latn",
    "rus_Cyrl",
    "ukr_Cyrl",
    "arb_Arab",
    "pes_Arab",
    "hin_Deva",
    "ell_Grek",
    "heb_Hebr",
    "kat_Geor",
    "amh_Ethi",
    "hye_Armn",
    "tam_Taml",
    "kor_Hang",
    "tha_Thai",
    "cmn_Hani",
    "jpn_Jpan",
)
MIN_CHARS = 250


def read(label: str) -> list[dict]:
    path = TEXT / f"{label}.jsonl"
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]


def build(labels=LABELS, per_label: int = 12, seed: str = "real-dedup-pairs") -> tuple[list[dict], list[dict]]:
    docs, pairs = [], []

    def add(doc_id, label, text):
        docs.append({"id": doc_id, "lang_script": label, "text": text})
        return doc_id

    def pair(a, b, label, kind, lang):
        pairs.append({"id_a": a, "id_b": b, "label": label, "category": kind, "lang_script": lang})

    for label in labels:
        rows = [r for r in read(label) if len(r["text"]) >= MIN_CHARS]
        if len(rows) < 4:
            print(f"skip {label}: {len(rows)} documents of {MIN_CHARS}+ characters", file=sys.stderr)
            continue
        script = label.split("_")[1]
        rng = random.Random(f"{seed}:{label}")
        rng.shuffle(rows)
        n = min(per_label, len(rows) // 3)
        bases, others = rows[:n], rows[n : 3 * n]
        vocab = cp.vocabulary([r["text"] for r in others], script)
        base_ids = []
        for b, row in enumerate(bases):
            base, kinds = cp.copies(row["text"], script, vocab, rng)
            base_id = add(f"{label}-{b}-base", label, base)
            base_ids.append(base_id)
            for kind, (original, copy) in kinds.items():
                a = base_id if original == base else add(f"{label}-{b}-{kind}-orig", label, original)
                pair(a, add(f"{label}-{b}-{kind}", label, copy), "duplicate", kind, label)
        for i in range(len(base_ids)):
            pair(base_ids[i], base_ids[(i + 1) % len(base_ids)], "not_duplicate", "different", label)
        headlines = [cp.paragraphs(r["text"])[0][:80] for r in rows[3 * n : 3 * n + 5]] or [""]
        template = cp.site_template(vocab, headlines, script, rng)
        site = [add(f"{label}-site-{k}", label, cp.templated(r["text"], template)) for k, r in enumerate(others[:n])]
        for i in range(len(site)):
            pair(site[i], site[(i + 1) % len(site)], "not_duplicate", "same_template", label)
    return docs, pairs


def explore(docs: list[dict], pairs: list[dict]) -> None:
    """Exact Jaccard and containment of candidate shingle schemes per kind (min / 10th pct / median; max for
    negatives)."""
    from longtail.filters.words import fold_cosmetic_marks, is_unspaced, lm_tokens, normalise

    text = {d["id"]: d["text"] for d in docs}
    lang = {d["id"]: d["lang_script"] for d in docs}

    def words_lines(t, script):
        return [lm_tokens(fold_cosmetic_marks(line, script), script, "word") for line in t.split("\n")]

    def wgrams(t, script, n, by_line):
        lines = words_lines(t, script)
        if not by_line:
            lines = [[w for line in lines for w in line]]
        if is_unspaced(script):
            n = 2 * n
        out = set()
        for toks in lines:
            if len(toks) < n and toks:
                out.add(" ".join(toks))
            out.update(" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1))
        return out

    def cgrams(t, script, n, by_line, unspaced_n=None):
        lines = [normalise(fold_cosmetic_marks(line, script), script) for line in t.split("\n")]
        if not by_line:
            lines = [" ".join(lines)]
        if is_unspaced(script):
            lines = [line.replace(" ", "") for line in lines]
            n = unspaced_n or n
        out = set()
        for line in lines:
            if 0 < len(line) < n:
                out.add(line)
            out.update(line[i : i + n] for i in range(len(line) - n + 1))
        return out

    schemes = {
        "w5": lambda t, s: wgrams(t, s, 5, False),
        "w5L": lambda t, s: wgrams(t, s, 5, True),
        "w3L": lambda t, s: wgrams(t, s, 3, True),
        "c5L": lambda t, s: cgrams(t, s, 5, True, 3),
        "c7L": lambda t, s: cgrams(t, s, 7, True, 3),
        "c9L": lambda t, s: cgrams(t, s, 9, True, 4),
        "c7L4": lambda t, s: cgrams(t, s, 7, True, 4),
    }
    import numpy as np

    for name, fn in schemes.items():
        cache = {}

        def sh(i):
            if i not in cache:
                cache[i] = fn(text[i], lang[i].split("_")[1])
            return cache[i]

        by_kind = {}
        for p in pairs:
            a, b = sh(p["id_a"]), sh(p["id_b"])
            inter = len(a & b)
            j = inter / max(1, len(a | b))
            c = inter / max(1, min(len(a), len(b)))
            by_kind.setdefault(p["category"], []).append((j, c))
        print(f"\n{name}")
        for kind, v in sorted(by_kind.items()):
            js, cs = np.array([x[0] for x in v]), np.array([x[1] for x in v])
            print(
                f"  {kind:<14} J min {js.min():.2f} p10 {np.percentile(js, 10):.2f} p50 {np.median(js):.2f} max {js.max():.2f}"
                f" | C min {cs.min():.2f} p10 {np.percentile(cs, 10):.2f} p50 {np.median(cs):.2f} p99 {np.percentile(cs, 99):.2f} max {cs.max():.2f}"
            )


def candidate_rate(labels=LABELS, sample: int = 200) -> None:
    """LSH candidates that unrelated documents would make: for ``sample`` real documents per label, the exact
    shingle Jaccard J of every pair, P(candidate) = 1 - (1 - J^rows)^bands, and its mean times 10^6 (expected
    candidate pairs per document in a language of a million documents like these), now and before issue 14."""
    import numpy as np

    from longtail.stages.dedup.evaluate import shingle_description
    from longtail.stages.dedup.minhash import MinHashParams, shingles

    variants = {"now": MinHashParams(), "before": MinHashParams(shingle="word", bands=16, rows=8, threshold=0.7)}
    for name, params in variants.items():
        print(f"{name}: {shingle_description(params)}, LSH {params.bands}x{params.rows}")
    print(f"{'label':<10} " + " ".join(f"{name + ' mean J':>14} {name + ' cand/doc@1M':>17}" for name in variants))
    for label in labels:
        texts = [r["text"] for r in read(label)][:sample]
        script = label.split("_")[1]
        cells = []
        for params in variants.values():
            sets = [shingles(t, script, params) for t in texts]
            js = np.array([len(sets[i] & sets[k]) / max(1, len(sets[i] | sets[k])) for i in range(len(sets)) for k in range(i + 1, len(sets))])
            p = 1 - (1 - js**params.rows) ** params.bands
            cells.append(f"{js.mean():>14.4f} {p.mean() * 1e6:>17.1f}")
        print(f"{label:<10} " + " ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-label", type=int, default=12, help="base documents per label (default 12)")
    parser.add_argument("--explore", action="store_true", help="exact shingle Jaccard/containment per kind, no eval")
    parser.add_argument("--candidates", action="store_true", help="LSH candidates unrelated real documents make (per document, per 10^6 documents)")
    parser.add_argument("--sweep", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--threshold", type=float)
    args = parser.parse_args()
    if args.candidates:
        candidate_rate()
        return
    docs, pairs = build(per_label=args.per_label)
    OUT.mkdir(parents=True, exist_ok=True)
    for name, rows in (("docs.jsonl", docs), ("pairs.jsonl", pairs)):
        with open(OUT / name, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(docs)} documents, {len(pairs)} pairs in {len(set(d['lang_script'] for d in docs))} labels -> {OUT}", file=sys.stderr)
    if args.explore:
        explore(docs, pairs)
        return
    from dataclasses import replace

    from longtail.stages.dedup.evaluate import evaluate, format_report
    from longtail.stages.dedup.minhash import MinHashParams

    params = MinHashParams() if args.threshold is None else replace(MinHashParams(), threshold=args.threshold)
    start = time.perf_counter()
    report = evaluate(docs, pairs, params, sweep=args.sweep)
    report.pop("clusters")
    print(json.dumps(report, indent=1) if args.json else format_report(report))
    print(f"({time.perf_counter() - start:.1f} s)", file=sys.stderr)


if __name__ == "__main__":
    main()

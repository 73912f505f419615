#!/usr/bin/env python
"""Tried and not shipped (docs/lid.md, 2026-12-06): let an answer just outside its calibrated limits through when
the other ensemble member agrees and is inside its own limits and sure.

    .venv/bin/python bench/lid_agreement_margin.py --quality-run bench/data/quality/run_kana            # shipped rule
    .venv/bin/python bench/lid_agreement_margin.py --quality-run bench/data/quality/run_kana --margin 0.02 0.1 0.9
    .venv/bin/python bench/lid_agreement_margin.py --quality-run bench/data/quality/run_kana --no-limit

Scores (development data, docs/bench.md) the LID mixture (``bench/data/lid_mixture.jsonl``; a simpler scoring than
``longtail eval-lid``: gold folded by the macro policy, an unsupported language right only as ``und``) and the quality
bench's good pages re-identified from the run's annotated text (``bench/data/quality/truth.jsonl``).
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
from pathlib import Path

import pyarrow.parquet as pq

import longtail.langid.ensemble as ensemble
from longtail.langid.labels import NON_LANGUAGE, canonical_language

BENCH = Path(__file__).resolve().parent / "data"


def identifier(margin: tuple[float, float, float] | None, no_limit: bool) -> ensemble.DocumentIdentifier:
    """The default ensemble, with its members' calibrated answers combined as shipped, or with the rescue."""
    identifier = ensemble.DocumentIdentifier(backend="ensemble")
    identifier.setup()
    if margin is None and not no_limit:
        return identifier
    floor_share, fit_excess, sure = margin or (0.0, 0.0, 0.0)

    def near(key: str, answer) -> bool:
        if no_limit:
            return True
        limits = identifier.calibration.limits_for(key, answer.label) or {}
        ceiling = limits.get("fit_ceiling")
        return answer.score >= limits.get("score_floor", 0.0) * (1 - floor_share) and (answer.fit is None or ceiling is None or answer.fit <= ceiling + fit_excess)

    def identify(texts):
        raw = identifier.identify_members(texts)
        keys = [identifier.calibration_key(m) for m in identifier.members]
        calibrated = [[identifier._calibrated(key, r) for r in results] for key, results in zip(keys, raw)]
        out = []
        for n in range(len(texts)):
            answers = [calibrated[0][n], calibrated[1][n]]
            for this, other in ((0, 1), (1, 0)):
                mine, theirs = raw[this][n], answers[other]
                if (answers[this].lang in NON_LANGUAGE and mine.lang not in NON_LANGUAGE and theirs.lang not in NON_LANGUAGE
                        and ensemble.related(mine.lang, theirs.lang) is not None and (no_limit or theirs.score >= sure) and near(keys[this], mine)):
                    answers[this] = mine
            out.append(identifier._check_script(identifier._combine(*answers)))
        return out

    identifier.identify = identify
    return identifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quality-run", required=True, help="a bench/bench_quality.py run folder (its annotated/ text)")
    parser.add_argument("--margin", nargs=3, type=float, metavar=("FLOOR_SHARE", "FIT_EXCESS", "OTHER_SURE"), help="rescue within these margins")
    parser.add_argument("--no-limit", action="store_true", help="rescue every agreeing answer")
    args = parser.parse_args()
    lid = identifier(tuple(args.margin) if args.margin else None, args.no_limit)

    items = [json.loads(line) for line in open(BENCH / "lid_mixture.jsonl", encoding="utf-8")]
    assigned = right = 0
    for item, answer in zip(items, lid.identify([i["text"] for i in items])):
        if answer.lang in NON_LANGUAGE:
            continue
        assigned += 1
        right += item["supported_any"] and answer.lang == canonical_language(item["lang"], policy="macro") and answer.script == item["script"]
    print(f"mixture: {assigned} assigned, {right} right, precision of assigned {right / assigned:.4f}")

    truth = {json.loads(line)["url"]: json.loads(line) for line in open(BENCH / "quality" / "truth.jsonl", encoding="utf-8")}
    rows = []
    for path in sorted(glob.glob(f"{args.quality_run}/annotated/*.parquet")):
        for row in pq.read_table(path, columns=["url", "text"]).to_pylist():
            page = truth.get(row["url"])
            if page and page["kind"] == "good" and page.get("lang_script") and row["text"]:
                rows.append((page, row["text"]))
    counts = collections.Counter()
    for (page, _), answer in zip(rows, lid.identify([text for _, text in rows])):
        genre = "real pages" if page["genre"] == "page" else "wrapped text"
        counts[genre, "und" if answer.lang in NON_LANGUAGE else "right" if f"{answer.lang}_{answer.script}" == page["lang_script"] else "wrong"] += 1
    for genre in ("real pages", "wrapped text"):
        print(f"{genre}: " + ", ".join(f"{k} {counts[genre, k]}" for k in ("right", "und", "wrong")))


if __name__ == "__main__":
    main()

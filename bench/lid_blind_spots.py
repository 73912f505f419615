"""Build langid/blind_spots.json: which languages no backend knows the default ensemble files under which label.

Scores the LID mixture (bench/lid_mixture.py, development data) with the default ensemble and lists, per assigned
label, the unknown languages (no backend can emit them) with at least 2 items filed under it (langid/blind_spots.py).
The table describes measured errors for the report; no LID decision reads it.

    .venv/bin/python bench/lid_blind_spots.py        # -> langid/blind_spots.json, ~5 s
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path


def main(argv=None) -> int:
    import pycountry

    from longtail.langid.blind_spots import DEFAULT_FILE, blind_spot_table, describe
    from longtail.langid.ensemble import make_identifier
    from longtail.langid.evaluate import evaluate, load_gold

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixture", default="bench/data/lid_mixture.jsonl")
    parser.add_argument("--output", default=str(DEFAULT_FILE))
    args = parser.parse_args(argv)

    rows = [json.loads(line) for line in open(args.mixture, encoding="utf-8") if line.strip()]
    items = load_gold(args.mixture)
    identifier = make_identifier("ensemble")
    report = evaluate(items, identifier, "macro")
    by_id = {p["id"]: p for p in report["predictions"]}
    unknown = {by_id[r["id"]]["gold"] for r in rows if not r["supported_any"]}
    names = {lang.alpha_3: re.sub(r"\s*\(.*?\)", "", lang.name).strip() for lang in pycountry.languages}
    predictions = [by_id[item.id] for item in items]
    table = blind_spot_table([p["gold"] for p in predictions], [p["predicted"] for p in predictions], unknown, names,
                             f"{Path(args.mixture).name}: {len(items)} items, {len(unknown)} languages no backend knows, default ensemble")
    Path(args.output).write_text(json.dumps(table, indent=1, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    for label, entries in table["labels"].items():
        print(f"{label}: {describe(entries)}")
    print(f"wrote {args.output}: {len(table['labels'])} labels")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

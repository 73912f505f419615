"""Build the open-set calibration table (langid/calibration.json) from the KNOWN languages of the dev mixture.

Runs heliport and lid.176 (no calibration, no ensemble) over the items of ``bench/data/lid_mixture.jsonl``
whose language at least one backend can emit, keeps each backend's RIGHT answers and learns, per label, the
score floor and fit ceiling (langid/calibration.py). Items in languages neither backend knows are never read.

    .venv/bin/python bench/lid_calibrate.py                              # all known items -> langid/calibration.json
    .venv/bin/python bench/lid_calibrate.py --docs even --output out/lid/calibration_even.json   # half check
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def doc_half(item_id: str) -> str:
    doc = item_id.rsplit("-", 1)[0]
    return "even" if int(hashlib.sha1(doc.encode()).hexdigest()[:8], 16) % 2 == 0 else "odd"


def main(argv=None) -> int:
    from longtail.langid.calibration import DEFAULT_FILE, DEFAULT_QUANTILE, MIN_EXAMPLES, Calibration
    from longtail.langid.ensemble import make_identifier
    from longtail.langid.evaluate import load_gold

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", default=str(ROOT / "data" / "lid_mixture.jsonl"))
    parser.add_argument("--output", default=str(DEFAULT_FILE))
    parser.add_argument("--quantile", type=float, default=DEFAULT_QUANTILE)
    parser.add_argument("--min-examples", type=int, default=MIN_EXAMPLES)
    parser.add_argument("--backends", default="heliport,fasttext", help="members to calibrate (comma-separated)")
    parser.add_argument("--docs", choices=("all", "even", "odd"), default="all", help="calibrate on one half of the documents")
    args = parser.parse_args(argv)

    rows = {json.loads(line)["id"]: json.loads(line) for line in open(args.input, encoding="utf-8") if line.strip()}
    items = [i for i in load_gold(args.input) if rows[i.id]["supported_any"] and (args.docs == "all" or doc_half(i.id) == args.docs)]
    examples = []
    for backend in args.backends.split(","):
        identifier = make_identifier(backend, open_set=False)
        results = []
        for start in range(0, len(items), 256):
            results += identifier.identify_members([i.text for i in items[start : start + 256]])[0]
        right = 0
        for item, result in zip(items, results):
            if result.label == item.label("macro"):
                examples.append((backend, result.label, result.score, result.fit))
                right += 1
        print(f"{backend}: {right} right answers of {len(items)} known-language items")
    calibration = Calibration.build(examples, args.quantile, args.min_examples, source=Path(args.input).name, docs=args.docs, items=len(items))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    calibration.save(args.output)
    print(f"wrote {args.output}: " + ", ".join(f"{b} {len(t) - 1} labels" for b, t in calibration.limits.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

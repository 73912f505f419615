"""Build the open-set calibration table (langid/calibration.json) from the KNOWN languages of the real bench.

Runs heliport and lid.176 (no calibration, no ensemble) over items in languages at least one backend can emit,
keeps each backend's RIGHT answers and learns, per label, the score floor and fit ceiling
(langid/calibration.py). Items in languages neither backend knows are never read.

Where the items come from (``--source``):

* ``text`` (default): documents of ``bench/data/text/`` that are NOT in the dev mixture (``--per-label-docs``
  per known label, cut into sentence / short paragraph / paragraph as ``bench/lid_mixture.py`` does), so the
  whole mixture stays unseen by the table;
* ``mixture``: the known-language items of ``bench/data/lid_mixture.jsonl`` themselves (``--docs even|odd``
  for the half check in docs/lid.md).

    .venv/bin/python bench/lid_calibrate.py                              # -> langid/calibration.json
    .venv/bin/python bench/lid_calibrate.py --source mixture --docs even --output out/lid/calibration_even.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))


def doc_half(item_id: str) -> str:
    doc = item_id.rsplit("-", 1)[0]
    return "even" if int(hashlib.sha1(doc.encode()).hexdigest()[:8], 16) % 2 == 0 else "odd"


def outside_items(mixture_rows: dict, text: Path, per_label_docs: int) -> list:
    """Items cut from bench documents of the mixture's known labels that the mixture does not use."""
    from lid_mixture import items_for

    from longtail.langid.evaluate import GoldItem

    used = {item_id.rsplit("-", 1)[0] for item_id in mixture_rows}
    known = sorted({f"{r['lang']}_{r['script']}" for r in mixture_rows.values() if r["supported_any"]})
    items = []
    for label in known:
        path = text / f"{label}.jsonl"
        if not path.is_file():
            continue
        docs = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
        for row in items_for(label, [d for d in docs if d["id"] not in used], per_label_docs):
            items.append(GoldItem(row["id"], row["text"], row["lang"], row["script"], row["length"]))
    return items


def main(argv=None) -> int:
    from longtail.langid.calibration import DEFAULT_FILE, DEFAULT_QUANTILE, MIN_EXAMPLES, Calibration
    from longtail.langid.ensemble import covers, make_identifier, related
    from longtail.langid.evaluate import load_gold

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", default=str(ROOT / "data" / "lid_mixture.jsonl"))
    parser.add_argument("--output", default=str(DEFAULT_FILE))
    parser.add_argument("--quantile", type=float, default=DEFAULT_QUANTILE)
    parser.add_argument("--min-examples", type=int, default=MIN_EXAMPLES)
    parser.add_argument("--backends", default="heliport,fasttext", help="members to calibrate (comma-separated)")
    parser.add_argument("--source", choices=("text", "mixture"), default="text",
                        help="text: bench documents outside the mixture (default); mixture: the mixture's own items")
    parser.add_argument("--text", default=str(ROOT / "data" / "text"), help="bench text folder (--source text)")
    parser.add_argument("--per-label-docs", type=int, default=12, help="documents per known label (--source text)")
    parser.add_argument("--docs", choices=("all", "even", "odd"), default="all", help="--source mixture: one half of its documents")
    args = parser.parse_args(argv)

    rows = {json.loads(line)["id"]: json.loads(line) for line in open(args.input, encoding="utf-8") if line.strip()}
    if args.source == "mixture":
        items = [i for i in load_gold(args.input) if rows[i.id]["supported_any"] and (args.docs == "all" or doc_half(i.id) == args.docs)]
    else:
        items = outside_items(rows, Path(args.text), args.per_label_docs)
    examples = []
    attempts: dict[str, dict[str, list[int]]] = {}  # backend -> label -> [tried, named]
    for backend in args.backends.split(","):
        identifier = make_identifier(backend, open_set=False)
        results = []
        for start in range(0, len(items), 256):
            results += identifier.identify_members([i.text for i in items[start : start + 256]])[0]
        right = 0
        supported = identifier.supported_languages()
        tried: dict[str, list[int]] = {}
        for item, result in zip(items, results):
            gold = item.label("macro")
            if result.label == gold:
                examples.append((backend, result.label, result.score, result.fit))
                right += 1
            lang, script = gold.split("_", 1)
            if covers(supported, lang):  # a language the backend lists: did it name it (or its macro/member)?
                counts = tried.setdefault(gold, [0, 0])
                counts[0] += 1
                counts[1] += int(result.script == script and related(result.lang, lang) is not None)
        attempts[backend] = tried
        print(f"{backend}: {right} right answers of {len(items)} known-language items")
    source = (f"{Path(args.text).name}/ minus {Path(args.input).name}, {args.per_label_docs} documents per label"
              if args.source == "text" else Path(args.input).name)
    calibration = Calibration.build(examples, args.quantile, args.min_examples, source=source,
                                    docs=args.docs if args.source == "mixture" else "outside the mixture", items=len(items))
    calibration.unrecognised = {backend: Calibration.missed_labels(by_label, args.min_examples) for backend, by_label in attempts.items()}
    for backend, labels in calibration.unrecognised.items():
        print(f"{backend} does not recognise: {', '.join(labels) or 'none'}")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    calibration.save(args.output)
    print(f"wrote {args.output}: " + ", ".join(f"{b} {len(t) - 1} labels" for b, t in calibration.limits.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

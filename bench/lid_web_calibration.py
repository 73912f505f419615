"""Does calibrating the open set on web pages too give back the real pages it refuses? (docs/lid.md, issue 13)

Limits learned on Bible and treebank text alone refuse real news pages, whose names and navigation fit heliport's
models less well; the tighter ceiling for labels with historical relatives (bench/lid_name_relatives.py) reached
the mixture's targets but refused a third of the real English pages. Here the table is built from the same text
items (``bench/lid_calibrate.py``'s), alone and with the extracted text of the ``calibrate`` half of the bench's
real HTML pages (``bench/data/pages``, the half chosen by a hash of the page id; ``--web-caps``: all of them or
at most N per label), and each table is scored with the fit ceilings of labels with historical relatives at
median + f x the pooled excess (``--factors``; ``none`` = not tightened; not below 95% of the label's own web
pages where it has at least 12 of them, unless ``--no-keep-for-own-pages``) on

* the LID mixture (precision of assigned labels, macro-F1 over supported labels);
* the OTHER half of the real pages (right / und / wrong, whole extracted pages as a run identifies them);
* the wrapped corpus text of a quality bench run (``--quality-run``; right / und / wrong).

    .venv/bin/python bench/lid_web_calibration.py --quality-run bench/data/quality/run_web4 --factors none,0.75,0.6,0.5

Development data (docs/bench.md); the extracted pages are cached in bench/data/pages/extracted.jsonl.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))


def tightened(table, relatives: dict, factor: float | None, page_fits: dict):
    """A copy of the table, with the fit ceilings of labels with historical relatives tightened to ``factor``
    (not below 95% of the label's own web pages where it has at least 12)."""
    from longtail.langid.calibration import Calibration

    table = Calibration(copy.deepcopy(table.limits), copy.deepcopy(table.settings), table.unrecognised)
    if factor is not None:
        table.tighten_fit_ceilings(relatives, factor, page_fits=page_fits)
    return table


def answers(identifier, texts_and_gold: list[tuple[str, str]]) -> Counter:
    from longtail.langid.labels import NON_LANGUAGE

    counts: Counter = Counter()
    for start in range(0, len(texts_and_gold), 128):
        batch = texts_and_gold[start : start + 128]
        for (_, gold), result in zip(batch, identifier.identify([t for t, _ in batch])):
            verdict = "right" if result.label == gold else "und" if result.lang in NON_LANGUAGE else "wrong"
            counts[verdict] += 1
            if verdict != "right":
                counts[verdict, gold] += 1
    return counts


def main(argv=None) -> int:
    from lid_calibrate import answer_examples, extracted_pages, outside_items, page_half, web_items
    from lid_name_relatives import good_pages, name_relatives

    from longtail.langid.calibration import DEFAULT_QUANTILE, MIN_EXAMPLES, POOL_PER_LABEL, Calibration
    from longtail.langid.ensemble import make_identifier
    from longtail.langid.evaluate import GoldItem, evaluate, load_gold

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixture", default=str(ROOT / "data" / "lid_mixture.jsonl"))
    parser.add_argument("--pages", default=str(ROOT / "data" / "pages"))
    parser.add_argument("--quality-run", help="a bench_quality.py output folder: score its wrapped corpus text")
    parser.add_argument("--truth", default=str(ROOT / "data" / "quality" / "truth.jsonl"))
    parser.add_argument("--factors", default="none,0.75,0.5", help="fit-ceiling factors for labels with historical relatives (none = shipped rule)")
    parser.add_argument("--web-caps", default="all", help="comma-separated: web pages per label to calibrate on (all = every page of the half)")
    parser.add_argument("--pool-per-label", type=int, default=POOL_PER_LABEL, help="items a label gives to the pooled tails (0: all)")
    parser.add_argument("--all-relatives", action="store_true", help="every name relative, not only historical stages")
    parser.add_argument("--no-keep-for-own-pages", dest="keep_for_own_pages", action="store_false",
                        help="tighten without regard to the label's own web pages")
    args = parser.parse_args(argv)

    rows = {json.loads(line)["id"]: json.loads(line) for line in open(args.mixture, encoding="utf-8") if line.strip()}
    text_items = outside_items(rows, ROOT / "data" / "text", 12)
    pages = extracted_pages(Path(args.pages))
    scored_pages = [(p["text"], GoldItem(p["id"], p["text"], *p["lang_script"].split("_", 1)).label("macro")) for p in pages if page_half(p["id"]) == "score"]
    wrapped = [(text, gold) for text, gold, kind in good_pages(Path(args.quality_run), Path(args.truth)) if kind == "wrapped"] if args.quality_run else []
    variants = [("text", [])]
    for cap in args.web_caps.split(","):
        calibrate = web_items(Path(args.pages), None if cap == "all" else int(cap))
        print(f"web{cap}: " + ", ".join(f"{k} {v}" for k, v in Counter(i.label("macro") for i in calibrate).most_common()))
        variants.append((f"web{cap}", calibrate))
    print(f"{len(text_items)} text items; {len(scored_pages)} real pages to score")

    text_examples, attempts = answer_examples(text_items, ["heliport", "fasttext"])
    tables, page_fits = {}, {}
    for name, pages in variants:
        page_examples = answer_examples(pages, ["heliport", "fasttext"])[0] if pages else []
        table = Calibration.build(text_examples + page_examples, DEFAULT_QUANTILE, MIN_EXAMPLES, pool_per_label=args.pool_per_label or None)
        table.unrecognised = {b: Calibration.missed_labels(by_label, MIN_EXAMPLES) for b, by_label in attempts.items()}
        tables[name] = table
        page_fits[name] = {}
        for backend, label, _, fit in page_examples:
            if fit is not None and args.keep_for_own_pages:
                page_fits[name].setdefault(backend, {}).setdefault(label, []).append(fit)
        print(f"{name}: unrecognised {table.unrecognised}; eng heliport {table.limits['heliport'].get('eng_Latn')}; "
              f"pooled {table.settings['pooled']}")

    mixture = load_gold(args.mixture)
    identifier = make_identifier("ensemble")
    identifier.setup()
    relatives = name_relatives(set(identifier.supported_languages()), not args.all_relatives)
    print("table     f      mixture precision  macro-F1 sup.  assigned | real pages right/und/wrong | wrapped right/und/wrong")
    for name, table in tables.items():
        for factor in args.factors.split(","):
            identifier.calibration = tightened(table, relatives, None if factor == "none" else float(factor), page_fits[name])
            report = evaluate(mixture, identifier, "macro")
            real = answers(identifier, scored_pages)
            corpus = answers(identifier, wrapped) if wrapped else Counter()
            print(f"{name:<9} {factor:<6} {report['assigned_precision']:>17.5f} {report['macro_supported']['f1']:>14.4f} {report['assigned']:>9} | "
                  f"{real['right']:>5} / {real['und']:>4} / {real['wrong']:>3} | {corpus['right']:>5} / {corpus['und']:>4} / {corpus['wrong']:>3}")
            print("          real pages refused: " + ", ".join(f"{k[1]} {v}" for k, v in sorted(real.items(), key=lambda kv: -kv[1]) if isinstance(k, tuple) and k[0] == "und"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

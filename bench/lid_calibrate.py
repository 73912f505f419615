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

With ``--source text``, the real HTML pages of ``bench/data/pages`` are added too (all, or ``--web-per-label`` per label,
whole extracted pages as a run identifies them; ``--web-per-label 0`` leaves them out): Bible and treebank text
fits heliport's models better than news pages with names and navigation do, so limits learned on text alone
refuse real pages. Each label gives at most ``POOL_PER_LABEL`` items to the pooled tails
(langid/calibration.py). Only the pages whose id hashes to the ``calibrate`` half are used; the other half stays unseen
for ``bench/lid_web_calibration.py``. Then the fit ceilings of languages with a historical relative that no
backend knows (ISO 639-3 names, ``bench/lid_name_relatives.py``) are tightened to ``--historical-factor``
(Calibration.tighten_fit_ceilings).

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


HISTORICAL_FACTOR = 0.6  # chosen on the mixture and the pages (docs/lid.md, "Web pages in the calibration")


def page_half(page_id: str) -> str:
    return "calibrate" if int(hashlib.sha1(page_id.encode()).hexdigest()[:8], 16) % 2 == 0 else "score"


def extracted_pages(pages_dir: Path) -> list[dict]:
    """Real HTML pages with gold text and a known language, their main text extracted as the pipeline does
    (cached in ``pages_dir/extracted.jsonl``). The label is the one the quality bench scores against
    (``make_quality_bench.page_label``)."""
    import build_real_bench as B
    from make_quality_bench import page_label

    from longtail.stages.extract import decode_html, extract_main_text

    cache = pages_dir / "extracted.jsonl"
    if cache.is_file():
        return [json.loads(line) for line in cache.open(encoding="utf-8")]
    rows = []
    for line in (pages_dir / "pages.jsonl").open(encoding="utf-8"):
        page = json.loads(line)
        raw = (pages_dir / "html" / f"{page['id']}.html").read_bytes()
        label, _ = page_label(page, B.decode_html(raw)[0])  # as make_quality_bench labels it
        if not label or page["gold_text"] == "":  # no language given, or a page without an article
            continue
        content_type = f"text/html; charset={page['charset']}" if page.get("charset") else None
        text = extract_main_text(decode_html(raw, content_type)[0]) or ""
        if text.strip():
            rows.append({"id": page["id"], "lang_script": label, "text": text})
    with cache.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
    return rows


def web_items(pages_dir: Path, per_label: int | None = None) -> list:
    """Up to ``per_label`` extracted real pages per label from the calibrate half (chosen by a hash of the id)."""
    from longtail.langid.evaluate import GoldItem

    items, taken = [], {}
    pages = [p for p in extracted_pages(pages_dir) if page_half(p["id"]) == "calibrate"]
    for page in sorted(pages, key=lambda p: hashlib.sha1(p["id"].encode()).hexdigest()):
        item = GoldItem(page["id"], page["text"], *page["lang_script"].split("_", 1))
        taken[item.label("macro")] = taken.get(item.label("macro"), 0) + 1
        if per_label is None or taken[item.label("macro")] <= per_label:
            items.append(item)
    return items


def answer_examples(items: list, backends: list[str], identifiers: dict | None = None) -> tuple[list, dict]:
    """Each backend's RIGHT answers on ``items`` as ``(backend, label, score, fit)`` (no calibration, no ensemble),
    and per backend and gold label it lists, ``[items tried, items named]`` (for the ``unrecognised`` lists).
    ``identifiers``: backend -> an uncalibrated identifier already loaded (else one is made)."""
    from longtail.langid.ensemble import covers, make_identifier, related

    examples = []
    attempts: dict[str, dict[str, list[int]]] = {}  # backend -> label -> [tried, named]
    for backend in backends:
        identifier = (identifiers or {}).get(backend) or make_identifier(backend, open_set=False)
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
    return examples, attempts


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
    parser.add_argument("--source", choices=("text", "mixture"), default="text",
                        help="text: bench documents outside the mixture (default); mixture: the mixture's own items")
    parser.add_argument("--text", default=str(ROOT / "data" / "text"), help="bench text folder (--source text)")
    parser.add_argument("--per-label-docs", type=int, default=12, help="documents per known label (--source text)")
    parser.add_argument("--pages", default=str(ROOT / "data" / "pages"), help="real HTML pages (--source text)")
    parser.add_argument("--web-per-label", type=int, help="real pages per label (--source text; default: every page of the half; 0: none)")
    parser.add_argument("--historical-factor", type=float, default=HISTORICAL_FACTOR,
                        help="fit ceiling of languages with an unknown historical relative: median + this x the pooled excess (1: as the others)")
    parser.add_argument("--docs", choices=("all", "even", "odd"), default="all", help="--source mixture: one half of its documents")
    args = parser.parse_args(argv)

    rows = {json.loads(line)["id"]: json.loads(line) for line in open(args.input, encoding="utf-8") if line.strip()}
    pages = []
    if args.source == "mixture":
        items = [i for i in load_gold(args.input) if rows[i.id]["supported_any"] and (args.docs == "all" or doc_half(i.id) == args.docs)]
    else:
        items = outside_items(rows, Path(args.text), args.per_label_docs)
        pages = web_items(Path(args.pages), args.web_per_label) if args.web_per_label != 0 else []
        print(f"{len(items)} text items, {len(pages)} real pages")
    backends = args.backends.split(",")
    identifiers = {backend: make_identifier(backend, open_set=False) for backend in backends}  # loaded once, used thrice
    examples, attempts = answer_examples(items, backends, identifiers)
    page_fits: dict[str, dict[str, list[float]]] = {}
    if pages:
        page_examples, page_attempts = answer_examples(pages, backends, identifiers)
        examples += page_examples
        for backend, by_label in page_attempts.items():
            for label, (tried, named) in by_label.items():
                counts = attempts.setdefault(backend, {}).setdefault(label, [0, 0])
                counts[0] += tried
                counts[1] += named
        for backend, label, _, fit in page_examples:
            if fit is not None:
                page_fits.setdefault(backend, {}).setdefault(label, []).append(fit)
        items = items + pages
    source = (f"{Path(args.text).name}/ minus {Path(args.input).name}, {args.per_label_docs} documents per label"
              f" + {Path(args.pages).name}/, calibrate half, {args.web_per_label or 'all'} pages per label"
              if args.source == "text" else Path(args.input).name)
    calibration = Calibration.build(examples, args.quantile, args.min_examples, source=source,
                                    docs=args.docs if args.source == "mixture" else "outside the mixture", items=len(items))
    calibration.unrecognised = {backend: Calibration.missed_labels(by_label, args.min_examples) for backend, by_label in attempts.items()}
    if args.historical_factor != 1.0:
        from lid_name_relatives import name_relatives

        supported = set().union(*(identifier.supported_languages() for identifier in identifiers.values()))
        relatives = name_relatives(supported, historical_only=True)
        calibration.tighten_fit_ceilings(relatives, args.historical_factor, why="a historical relative no backend knows (ISO 639-3 names)",
                                         page_fits=page_fits)
        print(f"fit ceilings x {args.historical_factor} for {len(relatives)} languages with historical relatives")
    for backend, labels in calibration.unrecognised.items():
        print(f"{backend} does not recognise: {', '.join(labels) or 'none'}")
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    calibration.save(args.output)
    print(f"wrote {args.output}: " + ", ".join(f"{b} {len(t) - 1} labels" for b, t in calibration.limits.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

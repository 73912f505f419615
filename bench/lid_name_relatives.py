"""An open-set rule (docs/lid.md, issue 13): demand more evidence for labels with unsupported relatives.

Rejected in this form (limits learned on text alone: it refused a third of the real English pages); shipped on
2026-12-06 for historical relatives at f = 0.6 once the table also learns from web pages (bench/lid_calibrate.py,
which imports :func:`name_relatives` from here; bench/lid_web_calibration.py measures it).

Relatives come from ISO 639-3 reference names in pycountry (a dependency already): an unsupported language whose
name ends with a supported language's name ("Western Armenian", "Classical Armenian" -> Armenian; "Literary
Chinese" -> Chinese; "Ottoman Turkish" -> Turkish; "Middle French" -> French). ``--historical`` keeps only
relatives of type H (historical) in ISO 639-3. For those labels, heliport's and lid.176's fit ceilings are lowered
from the label's median + the pooled 95% excess to the median + ``f`` times it, for several ``f``; the ensemble is
scored on the LID mixture (bench/lid_mixture.py) each time:

    .venv/bin/python bench/lid_name_relatives.py               # every name relative
    .venv/bin/python bench/lid_name_relatives.py --historical  # historical stages only
    .venv/bin/python bench/lid_name_relatives.py --historical --quality-run bench/data/quality/run_954e5e7

``--quality-run``: also re-identify the good pages of a quality bench run (its annotated texts, truth from
bench/data/quality/truth.jsonl) with each table, and count right / und / wrong labels for the real HTML pages
(genre ``page``) and for the pages wrapped around corpus text: what a tighter ceiling costs on web pages.

Development data; the mixture must be built first (docs/lid.md, "The mixture").
"""

from __future__ import annotations

import argparse
import copy
import re
from collections import Counter, defaultdict
from pathlib import Path


def name_relatives(supported: set[str], historical_only: bool) -> dict[str, list[str]]:
    """Supported ISO 639-3 code -> unsupported codes whose reference name ends with its name (dates dropped)."""
    import pycountry

    names = {lang.alpha_3: re.sub(r"\s*\(.*?\)", "", lang.name).strip() for lang in pycountry.languages}
    kinds = {lang.alpha_3: getattr(lang, "type", None) for lang in pycountry.languages}
    relatives: dict[str, list[str]] = defaultdict(list)
    for code in sorted(supported & set(names)):
        for other, name in names.items():
            if other != code and other not in supported and name.endswith(" " + names[code]) and (not historical_only or kinds[other] == "H"):
                relatives[code].append(other)
    return dict(relatives)


def good_pages(run: Path, truth_path: Path) -> list[tuple[str, str, str]]:
    """(text, gold lang_script, html|wrapped) of the good pages with a known language in a run's annotations."""
    import json

    import pyarrow.parquet as pq

    truth = {row["url"]: row for row in map(json.loads, truth_path.open(encoding="utf-8"))}
    pages = []
    for path in sorted((run / "annotated").glob("*.parquet")):
        for row in pq.read_table(path, columns=["url", "text"]).to_pylist():
            gold = truth.get(row["url"])
            if gold and gold["kind"] == "good" and gold.get("lang_script") and row["text"]:
                pages.append((row["text"], gold["lang_script"], "html" if gold.get("genre") == "page" else "wrapped"))
    return pages


def page_answers(identifier, pages: list[tuple[str, str, str]]) -> Counter:
    from longtail.langid.labels import NON_LANGUAGE

    counts: Counter = Counter()
    for start in range(0, len(pages), 128):
        batch = pages[start : start + 128]
        for (_, gold, kind), result in zip(batch, identifier.identify([text for text, _, _ in batch])):
            verdict = "right" if result.label == gold else "und" if result.lang in NON_LANGUAGE else "wrong"
            counts[kind, verdict] += 1
    return counts


def main(argv=None) -> int:
    from longtail.langid.calibration import Calibration
    from longtail.langid.ensemble import make_identifier
    from longtail.langid.evaluate import evaluate, load_gold

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixture", default="bench/data/lid_mixture.jsonl")
    parser.add_argument("--historical", action="store_true", help="only relatives of ISO 639-3 type H")
    parser.add_argument("--quality-run", help="a bench_quality.py output folder: also score its good pages")
    parser.add_argument("--truth", default="bench/data/quality/truth.jsonl")
    parser.add_argument("--calibration", help="table to start from (default: the shipped one, already tightened; "
                                              "bench/lid_calibrate.py --historical-factor 1 --output F builds one that is not)")
    args = parser.parse_args(argv)
    pages = good_pages(Path(args.quality_run), Path(args.truth)) if args.quality_run else []

    items = load_gold(args.mixture)
    identifier = make_identifier("ensemble", calibration=args.calibration)
    identifier.setup()
    if identifier.calibration.settings.get("tightened"):
        print(f"note: the table is already tightened ({identifier.calibration.settings['tightened']['factor']}); the factors below apply on top")
    relatives = name_relatives(set(identifier.supported_languages()), args.historical)
    print(f"{len(relatives)} labels with unsupported name relatives: {', '.join(sorted(relatives))}")
    shipped = identifier.calibration
    print("f      precision of assigned  macro-F1 supported  assigned")
    for factor in (None, 0.75, 0.5, 0.25, 0.0):
        table = Calibration(copy.deepcopy(shipped.limits), shipped.settings, shipped.unrecognised)
        for backend, limits in table.limits.items():
            excess = (shipped.settings.get("pooled", {}).get(backend) or {}).get("fit_excess")
            for label, entry in limits.items():
                if factor is not None and excess is not None and label.split("_")[0] in relatives and entry.get("fit_ceiling") is not None:
                    entry["fit_ceiling"] = entry["fit_ceiling"] - excess + factor * excess
        identifier.calibration = table
        report = evaluate(items, identifier, "macro")
        print(f"{'shipped' if factor is None else factor:<6} {report['assigned_precision']:>22.4f} {report['macro_supported']['f1']:>19.4f} {report['assigned']:>9}")
        if pages:
            counts = page_answers(identifier, pages)
            print("       good pages: " + ", ".join(f"{kind} {counts[kind, 'right']} right / {counts[kind, 'und']} und / {counts[kind, 'wrong']} wrong"
                                               for kind in ("html", "wrapped")))
    identifier.calibration = shipped
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

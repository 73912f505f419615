"""A tried and rejected open-set rule (docs/lid.md, issue 13): stricter limits for labels never calibrated.

A label without an entry of its own in langid/calibration.json (fewer than 4 right answers in the calibration data)
is judged by the backend's pooled limits ``*``: the 5% quantile of every right answer's score and the 95% quantile
of every fit, i.e. as leniently as the most lenient labels. The alternative measured here judges it like the typical
label: the ``--quantile`` (0.5 = median) of the calibrated labels' median scores times the pooled ratio, and of their
median fits plus the pooled excess. Scored on the LID mixture and on the half check (table learned on the even
half of the mixture's known-language documents, scored on the odd half plus the unknown languages), where thin
calibration leaves many labels without an entry, as held-out data in other languages would:

    .venv/bin/python bench/lid_calibrate.py --source mixture --docs even --output out/lid/calibration_even.json
    .venv/bin/python bench/lid_uncalibrated_prior.py

Development data; the mixture must be built first (docs/lid.md, "The mixture").
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def typical_label_limits(calibration, quantile: float) -> None:
    """Replace each backend's pooled ``*`` limits by those of the ``quantile`` calibrated label (in place)."""
    for backend, table in calibration.limits.items():
        pooled = calibration.settings["pooled"][backend]
        medians = sorted(entry["score_floor"] / pooled["score_ratio"] for label, entry in table.items() if label != "*")
        star = dict(table["*"], score_floor=round(medians[int(quantile * (len(medians) - 1))] * pooled["score_ratio"], 4))
        if pooled.get("fit_excess") is not None:
            fits = sorted(e["fit_ceiling"] - pooled["fit_excess"] for label, e in table.items() if label != "*" and "fit_ceiling" in e)
            star["fit_ceiling"] = round(fits[int((1 - quantile) * (len(fits) - 1))] + pooled["fit_excess"], 4)
        table["*"] = star


def main(argv=None) -> int:
    from lid_calibrate import doc_half

    from longtail.langid.ensemble import make_identifier
    from longtail.langid.evaluate import evaluate, load_gold

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mixture", default="bench/data/lid_mixture.jsonl")
    parser.add_argument("--even-table", default="out/lid/calibration_even.json", help="table from the even half (lid_calibrate.py --docs even)")
    parser.add_argument("--quantile", type=float, default=0.5)
    args = parser.parse_args(argv)

    rows = {json.loads(line)["id"]: json.loads(line) for line in open(args.mixture, encoding="utf-8") if line.strip()}
    every = load_gold(args.mixture)
    half = [i for i in every if not rows[i.id]["supported_any"] or doc_half(i.id) == "odd"]
    runs = [("mixture", "shipped table", None, every), ("half check", "shipped table", None, half)]
    if Path(args.even_table).is_file():
        runs.append(("half check", "even-half table", args.even_table, half))
    print("items        table            uncalibrated labels   assigned  precision  macro-F1 supported  macro-F1 all")
    for name, table_name, table, items in runs:
        for prior in ("pooled", "typical"):
            identifier = make_identifier("ensemble", calibration=table)
            identifier.setup()
            if prior == "typical":
                typical_label_limits(identifier.calibration, args.quantile)
            report = evaluate(items, identifier, "macro")
            print(f"{name:<12} {table_name:<16} {prior:<21} {report['assigned']:>8} {report['assigned_precision']:>10.4f}"
                  f" {report['macro_supported']['f1']:>19.4f} {report['macro']['f1']:>13.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python
"""Does the split-level LID check (stages/lid_outlier.py) find a close relative's pages inside a language's split?

    .venv/bin/python bench/lid_outlier_relatives.py [--share 0.07] [--max-deviations 3.5]

For each pair (language, an unsupported relative that LID files under it) of ``bench/data/text`` (docs/bench.md;
development data, real text), a split is made of the language's documents and about ``--share`` as many of the
relative's, every document scored by the default ensemble (its ``lang_score`` picks the confident core, as in
finalize). Two page scores are compared, each judged by the stage's own rule (below the core's median minus
``--max-deviations`` scaled MADs is an outlier; core pages leave themselves out):

  ngram   the stage's score until 2026-12-04: cosine similarity of the page's character 3-/4-gram profile to
          the core's centroid
  common  the stage's score now: the share of the page's words that are common words of the core, words found
          in at least ``--common-share`` (the stage's COMMON_SHARE, 0.1) of the core's pages. Function words are shared by every genre of a language and
          differ between close relatives (Dutch "het niet" / Afrikaans "nie"), where letter n-grams barely do.
  either  an outlier by either score

Printed per pair: relative pages caught, language pages wrongly dropped. An experiment for issue 13; nothing here
changes the pipeline.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
TEXT = REPO / "bench" / "data" / "text"

# (language of the split, relative filed under it): pairs the LID measurements of docs/lid.md name
PAIRS = [
    ("hye_Armn", "hyw_Armn"), ("hye_Armn", "xcl_Armn"), ("tur_Latn", "ota_Latn"), ("fra_Latn", "frm_Latn"),
    ("zul_Latn", "xho_Latn"), ("hin_Deva", "bho_Deva"), ("hin_Deva", "mag_Deva"), ("fin_Latn", "krl_Latn"),
    ("nld_Latn", "afr_Latn"), ("spa_Latn", "lij_Latn"), ("ukr_Cyrl", "rus_Cyrl"), ("cmn_Hani", "lzh_Hani"),
    ("cmn_Hani", "yue_Hani"),
]


def read(label: str) -> list[str]:
    path = TEXT / f"{label}.jsonl"
    return [json.loads(line)["text"] for line in path.open(encoding="utf-8")] if path.is_file() else []


def ngram_scores(texts: list[str], core: list[int]) -> list[float]:
    """The stage's score until 2026-12-04: cosine similarity of a text's character 3-/4-gram profile (lower-cased,
    first 5,000 characters) to the core's centroid, a core text against the centroid without itself."""
    def profile(text: str) -> dict[str, float]:
        text = " " + " ".join(text[:5000].lower().split()) + " "
        counts = Counter(text[i:i + n] for n in (3, 4) for i in range(len(text) - n + 1))
        norm = math.sqrt(sum(v * v for v in counts.values())) or 1.0
        return {k: v / norm for k, v in counts.items()}

    profiles = [profile(t) for t in texts]
    centroid: Counter = Counter()
    for i in core:
        centroid.update(profiles[i])
    core_set, scores = set(core), []
    for i, p in enumerate(profiles):
        reference = centroid
        if i in core_set:
            reference = centroid.copy()
            reference.subtract(p)
        norm = math.sqrt(sum(v * v for v in reference.values()))
        scores.append(sum(v * reference.get(k, 0.0) for k, v in p.items()) / norm if norm else 0.0)
    return scores


def judged(scores: list[float], core: list[int], max_deviations: float, min_spread: float = 0.0) -> np.ndarray:
    """Rows below the stage's floor (median - k x scaled MAD of the core's scores, at least ``min_spread``)."""
    values = np.asarray(scores)
    core_values = values[core]
    median = float(np.median(core_values))
    spread = max(1.4826 * float(np.median(np.abs(core_values - median))), min_spread)
    return np.flatnonzero(values < median - max_deviations * spread)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--share", type=float, default=0.07, help="relative pages per language page (default 0.07)")
    parser.add_argument("--max-deviations", type=float, default=3.5)
    parser.add_argument("--common-share", type=float, default=None, help="a common word is in this share of the core's pages (default: the stage's)")
    parser.add_argument("--max-language-pages", type=int, default=186)
    args = parser.parse_args(argv)
    if not TEXT.is_dir():
        raise SystemExit("bench/data/text is missing: build the bench first (docs/bench.md)")
    from longtail.langid.ensemble import make_identifier
    from longtail.stages import lid_outlier
    from longtail.stages.lid_outlier import MIN_CORE, LidOutlierStage, reference_rows

    identifier = make_identifier("ensemble")
    identifier.setup()
    print(f"{'split <- relative':<24} {'pages':>6} {'rel.':>5}   {'ngram caught / false':>20}   {'common caught / false':>21}   {'either':>14}")
    totals = Counter()
    for language, relative in PAIRS:
        own, other = read(language)[: args.max_language_pages], read(relative)
        if len(own) < 2 * MIN_CORE or not other:
            print(f"{language} <- {relative}: not enough text in the bench ({len(own)} / {len(other)})")
            continue
        other = other[: max(1, round(args.share * len(own)))]
        texts = own + other
        scores = [r.score for r in identifier.identify(texts)]
        stage = LidOutlierStage.for_split(language, **({"common_share": args.common_share} if args.common_share is not None else {}))
        core = [int(i) for i in stage.core(np.arange(len(texts)), scores)]
        words = stage.common_words(texts[i] for i in reference_rows(core).tolist())
        if words is None:
            print(f"{language} <- {relative}: fewer than {stage.min_core} distinct core pages, not judged")
            continue
        is_relative = np.zeros(len(texts), bool)
        is_relative[len(own):] = True
        row = [f"{language} <- {relative}", f"{len(own):>6}", f"{len(other):>5}"]
        ngram, common = ngram_scores(texts, core), [words.score(t) for t in texts]
        common_out = judged(common, core, args.max_deviations, lid_outlier.MIN_SPREAD)  # the stage's rule
        either = np.union1d(judged(ngram, core, args.max_deviations), common_out)
        for name, out in (("ngram", judged(ngram, core, args.max_deviations)), ("common", common_out), ("either", either)):
            caught, false = int(is_relative[out].sum()), int((~is_relative[out]).sum())
            totals[f"{name} caught"] += caught
            totals[f"{name} false"] += false
            row.append(f"{caught:>12} / {false:<6}")
        totals["relative"] += len(other)
        totals["language"] += len(own)
        print("   ".join(row), flush=True)
    print(f"all: {totals['relative']} relative pages, {totals['language']} language pages; "
          f"ngram caught {totals['ngram caught']}, false drops {totals['ngram false']}; "
          f"common caught {totals['common caught']}, false drops {totals['common false']}; "
          f"either caught {totals['either caught']}, false drops {totals['either false']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

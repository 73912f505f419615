#!/usr/bin/env python
"""Cost of the URL rules and the personal-data rules in the annotate pass, on real pages.

    .venv/bin/python bench/url_pii_cost.py                # first 600 pages of bench/data/real_pages.warc.gz
    .venv/bin/python bench/url_pii_cost.py --pages 2000 --rounds 3

Builds the annotate chain of a default manifest (pipeline/annotate.py::build_stages: extract with trafilatura,
the LID ensemble, signals, MinHash; no KenLM or classifier, so the base is the cheapest chain and the relative
cost an upper bound) twice: with ``stages.url_filter`` and ``stages.pii`` on (the default) and off. Both are set up
first (lists and models loaded, not timed); then the same batches go through each chain in alternating rounds,
timing process CPU seconds (the machine is shared: CPU time, not wall time). Prints CPU ms per document for each
and the difference, and the two new stages' own seconds from the chain's counters.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from longtail.pipeline.annotate import build_stages
from longtail.pipeline.manifest import parse_manifest
from longtail.stages.base import Chain
from longtail.stages.read import DOCUMENT_SCHEMA, ReadReport, read_unit

REPO = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warc", default=str(REPO / "bench" / "data" / "real_pages.warc.gz"))
    parser.add_argument("--pages", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)

    batches, pages = [], 0
    for batch in read_unit(args.warc, ReadReport(), batch_size=100):
        batch = batch.slice(0, min(batch.num_rows, args.pages - pages))
        batches.append(batch)
        pages += batch.num_rows
        if pages >= args.pages:
            break
    base = {"name": "cost", "inputs": [args.warc], "output": "/tmp/longtail-url-pii-cost"}
    configs = {
        "without": parse_manifest({**base, "stages": {"url_filter": {"enabled": False}, "pii": {"enabled": False}}}),
        "with": parse_manifest(base),
    }
    chains = {}
    for name, manifest in configs.items():
        chain = build_stages(manifest)
        chain.setup()
        chain(batches[0].slice(0, 5))  # warm-up: lazy imports, first-call costs
        chains[name] = chain
    cpu = {name: 0.0 for name in configs}
    stage_seconds = {}
    for _ in range(args.rounds):
        for name in configs:
            chain = Chain(list(chains[name]), DOCUMENT_SCHEMA.names)  # fresh counters
            started = time.process_time()
            for batch in batches:
                chain(batch)
            cpu[name] += time.process_time() - started
            if name == "with":
                for stage, counters in chain.stats().items():
                    stage_seconds[stage] = stage_seconds.get(stage, 0.0) + counters["seconds"]
    per_doc = {name: 1000 * seconds / (pages * args.rounds) for name, seconds in cpu.items()}
    print(f"{pages} real pages x {args.rounds} rounds (alternating), process CPU time")
    for name in configs:
        print(f"  {name:>7} URL + PII rules: {per_doc[name]:.2f} ms/doc")
    print(f"  difference: {per_doc['with'] - per_doc['without']:+.2f} ms/doc ({100 * (per_doc['with'] / per_doc['without'] - 1):+.1f}%)")
    total = sum(stage_seconds.values())
    for stage in ("url_filter", "pii"):
        share = stage_seconds.get(stage, 0.0)
        print(f"  stage {stage}: {1000 * share / (pages * args.rounds):.3f} ms/doc (wall), {100 * share / total:.2f}% of the chain's stage time")
    return 0


if __name__ == "__main__":
    sys.exit(main())

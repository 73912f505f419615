#!/usr/bin/env python
"""False positives of the personal-data rules (filters/pii.py) on the real text of the development bench.

    .venv/bin/python bench/pii_false_positives.py                    # run the rules, write a sample to read
    .venv/bin/python bench/pii_false_positives.py --labels FILE      # + the share a reader marked "not personal data"

Runs the rules (as ``stages.pii`` does: e-mails, then public IPs, then phone numbers, with each document's
``lang_script``) over every document of ``bench/data/text/*.jsonl`` (real documents, gitignored; docs/bench.md),
counts the matches per kind, and draws a seeded random sample of ``--sample`` matches (default 200) with 60
characters of context each side into ``--out`` (default ``bench/data/pii_sample.jsonl``, gitignored: it quotes
real pages). A reader labels each sampled match in a JSON file ``{"<index>": "pii" | "not"}`` (``not``: the
replaced string is not an e-mail address, IP address or phone number of anyone: a date, an ID, a price...);
with ``--labels`` the script prints the false-positive share overall and per kind. The labels used for
docs/release.md are ``bench/pii_fp_labels.json`` (indexes only, no text).
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import sys
import time
from pathlib import Path

from longtail.filters.pii import PiiRules, PiiSettings

REPO = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text", default=str(REPO / "bench" / "data" / "text"), help="folder of <lang_script>.jsonl files")
    parser.add_argument("--sample", type=int, default=200)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--out", default=str(REPO / "bench" / "data" / "pii_sample.jsonl"))
    parser.add_argument("--labels", default=None, help='JSON {"<index>": "pii" | "not"} of the sample')
    args = parser.parse_args(argv)

    rules = PiiRules(PiiSettings())
    found, documents, with_pii, chars = [], 0, 0, 0
    started = time.process_time()
    for path in sorted(Path(args.text).glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            doc = json.loads(line)
            text = doc.get("text") or ""
            documents += 1
            chars += len(text)
            matches = rules.matches(text, doc.get("lang_script"), doc.get("url"))
            with_pii += bool(matches)
            for kind, start, end in matches:
                found.append(
                    {
                        "id": doc.get("id"),
                        "lang_script": doc.get("lang_script"),
                        "kind": kind,
                        "match": text[start:end],
                        "context": text[max(0, start - 60) : start] + "[[" + text[start:end] + "]]" + text[end : end + 60],
                    }
                )
    seconds = time.process_time() - started
    kinds = collections.Counter(f["kind"] for f in found)
    print(f"{documents} documents, {chars / 1e6:.1f} M characters, {seconds:.1f} s CPU ({1000 * seconds / max(documents, 1):.2f} ms/doc)")
    print(f"matches: {len(found)} in {with_pii} documents; per kind: {dict(sorted(kinds.items()))}")
    sample = random.Random(args.seed).sample(found, min(args.sample, len(found)))
    with open(args.out, "w", encoding="utf-8") as handle:
        for index, item in enumerate(sample):
            handle.write(json.dumps({"index": index, **item}, ensure_ascii=False) + "\n")
    print(f"sample of {len(sample)} written to {args.out}")
    if args.labels:
        labels = json.loads(Path(args.labels).read_text())
        per_kind = collections.defaultdict(lambda: [0, 0])
        for index, item in enumerate(sample):
            label = labels.get(str(index))
            if label is None:
                continue
            per_kind[item["kind"]][0] += label == "not"
            per_kind[item["kind"]][1] += 1
        wrong, checked = sum(v[0] for v in per_kind.values()), sum(v[1] for v in per_kind.values())
        print(f"not personal data: {wrong} of {checked} checked ({100 * wrong / max(checked, 1):.1f}%)")
        for kind, (w, c) in sorted(per_kind.items()):
            print(f"  {kind}: {w} of {c}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

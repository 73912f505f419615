"""A generated language of many short documents, as JSONL inputs: the test input of finalize's bounded memory
(docs/cluster.md, "Languages bigger than a worker").

Documents are 6-10 lines of random words of data/reference/swa_Latn.txt, spread over many small domains, with what selection and dedup act on: exact and near duplicates, shared URLs, short pages, and a few
domains of templated pages (one boilerplate filled in many times). Deterministic for a given seed.

    python scripts/make_synthetic_language.py OUTPUT_DIR --documents 300000 --files 30
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent.parent / "data" / "reference" / "swa_Latn.txt"
# the boilerplate of the templated domains' pages; a page fills in its number and one line of the language
TEMPLATE = ("Karibu kwenye tovuti yetu ya habari za kila siku.", "Toleo namba {n} la leo.",
            "Haki zote zimehifadhiwa na wamiliki wa tovuti hii.", "Wasiliana nasi kwa maswali na maoni yako.")


def documents(count: int, seed: int = 0):
    """``count`` dicts with ``id``, ``url`` and ``text``."""
    rng = random.Random(seed)
    lines = [line.strip() for line in REFERENCE.read_text(encoding="utf-8").splitlines() if line.strip()]
    vocabulary = sorted({word for line in lines for word in line.rstrip(".").split()})
    made: list[str] = []
    for n in range(count):
        domain = f"site{rng.randrange(max(1, count // 3))}.example.test"
        roll = rng.random()
        if roll < 0.03 and made:  # an exact copy of an earlier page elsewhere
            text = made[rng.randrange(len(made))]
        elif roll < 0.06 and made:  # a near copy: one line changed
            parts = made[rng.randrange(len(made))].split("\n")
            parts[rng.randrange(len(parts))] = rng.choice(lines)
            text = "\n".join(parts)
        elif roll < 0.08:  # too short to keep
            text = rng.choice(lines)
        elif roll < 0.11:  # one template of a few domains, filled in with a number and a line
            domain = f"template{rng.randrange(5)}.example.test"
            text = "\n".join([TEMPLATE[0], TEMPLATE[1].format(n=n), rng.choice(lines), *TEMPLATE[2:]] * 3)
        else:  # lines of random words of the language: pages share words, rarely 9-character shingles
            # (pages that share whole sentences would make most pairs LSH candidates: a dedup stress test instead)
            text = "\n".join(" ".join(rng.choice(vocabulary) for _ in range(rng.randint(8, 14))).capitalize() + "." for _ in range(rng.randint(6, 10)))
        made.append(text)
        url = f"https://{domain}/page/{n}" if rng.random() > 0.01 or n == 0 else f"https://{domain}/page/{n - 1}"  # 1%: a URL seen before
        yield {"id": f"doc-{n:08d}", "url": url, "text": text}


def write_language(folder: Path, count: int, files: int = 1, seed: int = 0) -> list[Path]:
    """Write ``count`` documents as ``files`` JSONL files under ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"synthetic-{i:04d}.jsonl" for i in range(files)]
    handles = [path.open("w", encoding="utf-8") for path in paths]
    try:
        for n, doc in enumerate(documents(count, seed)):
            handles[n * files // count].write(json.dumps(doc, ensure_ascii=False) + "\n")
    finally:
        for handle in handles:
            handle.close()
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--documents", type=int, default=300_000)
    parser.add_argument("--files", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    paths = write_language(args.output, args.documents, args.files, args.seed)
    print(f"{args.documents} documents in {len(paths)} files under {args.output}")


if __name__ == "__main__":
    main()

"""Would a cheaper trafilatura setting buy the speed issue 15 asks for? CPU time and agreement with the gold text
of the bench's real HTML pages for the extraction settings of longtail, of datatrove's reference and trafilatura's
``fast`` mode (no fallback extractors).

    .venv/bin/python bench/extract_modes.py [--pages bench/data/pages]

Input: the development bench's real pages (docs/bench.md; ``pages.jsonl`` + ``html/<id>.html``), decoded as the
extract stage does. Agreement: bag-of-words precision, recall and F1 of the extracted text against the page's gold
text (pages whose gold is non-empty), averaged over pages. One process, one pass per setting.
"""

from __future__ import annotations

import argparse
import collections
import json
import re
import time
from pathlib import Path

from longtail.stages.extract import decode_html, extract_main_text

SETTINGS = {
    "longtail": dict(include_comments=False, include_tables=True, deduplicate=False, with_metadata=False),  # stages/extract.py
    "longtail, fast": dict(include_comments=False, include_tables=True, deduplicate=False, with_metadata=False, fast=True),
    "datatrove reference": dict(include_comments=False, favor_precision=True, deduplicate=True),  # its Trafilatura()
}
WORD = re.compile(r"\w+")


def bag_f1(extracted: str | None, gold: str) -> tuple[float, float, float]:
    found, wanted = collections.Counter(WORD.findall((extracted or "").lower())), collections.Counter(WORD.findall(gold.lower()))
    overlap = sum((found & wanted).values())
    if not overlap:
        return 0.0, 0.0, 0.0
    precision, recall = overlap / sum(found.values()), overlap / sum(wanted.values())
    return precision, recall, 2 * precision * recall / (precision + recall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", default="bench/data/pages", help="folder with pages.jsonl and html/ (bench/build_real_bench.py)")
    args = parser.parse_args()
    import trafilatura

    folder = Path(args.pages)
    pages = [json.loads(line) for line in (folder / "pages.jsonl").open(encoding="utf-8")]
    htmls = [decode_html((folder / "html" / f"{page['id']}.html").read_bytes())[0] for page in pages]
    print(f"{len(pages)} real pages, {sum(1 for p in pages if p.get('gold_text'))} with gold text")
    print(f"{'setting':22} {'CPU s':>7} {'P':>6} {'R':>6} {'F1':>6} {'empty':>6}")
    runs = {name: (lambda html, settings=settings: trafilatura.extract(html, **settings)) for name, settings in SETTINGS.items()}
    runs["resiliparse (engine)"] = lambda html: extract_main_text(html, "resiliparse")  # stages.extract.engine: resiliparse
    for name, extract in runs.items():
        started = time.process_time()
        texts = [extract(html) for html in htmls]
        seconds = time.process_time() - started
        scores = [bag_f1(text, page["gold_text"]) for text, page in zip(texts, pages) if page.get("gold_text")]
        mean = [sum(s[i] for s in scores) / len(scores) for i in range(3)]
        print(f"{name:22} {seconds:7.1f} {mean[0]:6.3f} {mean[1]:6.3f} {mean[2]:6.3f} {sum(1 for t in texts if not t):6d}")


if __name__ == "__main__":
    main()

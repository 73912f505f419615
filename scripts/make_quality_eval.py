#!/usr/bin/env python
"""Build the quality evaluation corpus data/quality_eval/<lang_script>.jsonl from fixtures/corpus/*.yaml.

Clean items are the fixtures' article paragraphs (runs of 2 consecutive paragraphs, and whole articles);
articles are never used to train KenLM (data/reference) or the classifier (data/quality/train.jsonl).
Junk items are generated from the same language's article vocabulary with generators and a seed that
differ from scripts/make_sample_crawl.py's training junk:

  boilerplate   category lists with counts, pagination, date stamps, repeated footer lines
  spam          keyword stuffing with prices, phone numbers and link text
  repetition    one template sentence repeated with counters (machine-generated listings)
  garbled       letters shuffled inside words, and text sampled letter by letter from the language's own
                character frequencies (obfuscated / generated noise)
  mojibake      UTF-8 decoded as cp1252 (a classic broken-encoding page)
  wrong_lang    another language's article under this language's label (same script where one exists)

and, labelled ``templated`` (neither clean nor junk; used by the scripture/template signal):

  scripture     verse-numbered lines that all open with the same formula

Rows: {"id", "lang_script", "label": "clean"|"junk"|"templated", "kind", "url", "text"}.
Fixed seed: two runs give byte-identical files.
Usage: .venv/bin/python scripts/make_quality_eval.py [--fixtures DIR] [--out DIR]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
EVAL_SEED = 40_417  # distinct from the crawl's and the classifier training set's seeds

# Wrong-language donor per language: a language a crawler really confuses it with (same script where the
# fixtures have one), so the wrong-language test is not just "another alphabet".
WRONG_LANGUAGE_DONOR = {
    "eng_Latn": "yor_Latn", "yor_Latn": "swa_Latn", "swa_Latn": "que_Latn", "que_Latn": "eng_Latn",
    "rus_Cyrl": "mkd_Cyrl", "mkd_Cyrl": "rus_Cyrl", "kir_Cyrl": "rus_Cyrl",
    "hin_Deva": "nep_Deva", "nep_Deva": "hin_Deva",
    "ara_Arab": "uig_Arab", "uig_Arab": "ara_Arab",
    "amh_Ethi": "eng_Latn", "lao_Laoo": "khm_Khmr", "khm_Khmr": "lao_Laoo", "kat_Geor": "rus_Cyrl",
}
SPAM_DOMAINS = ("best-deals-{n}.example", "cheap-{n}-online.example", "win-now-{n}.example")
_EDGE_PUNCT = ".,;:!?()«»\"'“”„‘’—–-।॥።፣፤។៕؟،"


def clean(text: str) -> str:
    return " ".join(str(text).split())


def load_fixtures(fixture_dir: Path) -> dict[str, dict]:
    fixtures = {}
    for path in sorted(fixture_dir.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        fixtures[data["lang_script"]] = data
    return fixtures


def article_words(fixture: dict) -> list[str]:
    words = []
    for article in fixture["articles"]:
        for paragraph in article["paragraphs"]:
            words += [w.strip(_EDGE_PUNCT) for w in clean(paragraph).split()]
    return [w for w in words if w]


def sentences_of(fixture: dict) -> list[str]:
    out = []
    for article in fixture["articles"]:
        for paragraph in article["paragraphs"]:
            out += [s.strip() for s in re.split(r"(?<=[.!?।።។؟])\s+", clean(paragraph)) if len(s.strip()) > 10]
    return out


def clean_items(fixture: dict) -> list[tuple[str, str]]:
    items = []
    for article in fixture["articles"]:
        paragraphs = [clean(p) for p in article["paragraphs"]]
        items.append(("article", clean(article["title"]) + "\n" + "\n".join(paragraphs)))
        for start in range(len(paragraphs) - 1):
            items.append(("paragraphs", "\n".join(paragraphs[start:start + 2])))
    return items


def boilerplate(fixture: dict, rng: random.Random) -> str:
    nav = [clean(n) for n in fixture["nav"]]
    lines = [f"{item} ({rng.randint(3, 480)})" for item in rng.sample(nav, len(nav))]
    lines += [" ".join(str(i) for i in range(1, rng.randint(6, 11))) + " … »"]
    for _ in range(rng.randint(4, 8)):
        lines.append(f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2026 {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d} — {rng.choice(nav)}")
    lines += [clean(fixture["footer"])] * rng.randint(2, 3)
    return "\n".join(lines)


def spam(fixture: dict, words: list[str], rng: random.Random, n: int) -> str:
    keywords = rng.sample(sorted(set(words)), min(8, len(set(words))))
    domain = rng.choice(SPAM_DOMAINS).format(n=n)
    lines = []
    for _ in range(rng.randint(12, 20)):
        stuffed = " ".join(rng.choice(keywords) for _ in range(rng.randint(4, 7)))
        lines.append(f"{stuffed} -{rng.choice([30, 50, 70, 90])}% {rng.randint(99, 999)} ☎ +{rng.randint(100, 999)} {rng.randint(1000000, 9999999)} www.{domain}")
    return "\n".join(lines)


def repetition(fixture: dict, sentences: list[str], rng: random.Random) -> str:
    template = rng.choice(sentences)
    nav = [clean(n) for n in fixture["nav"]]
    return "\n".join(f"{i}. {rng.choice(nav)}: {template}" for i in range(1, rng.randint(15, 25)))


def shuffled_letters(sentences: list[str], rng: random.Random) -> str:
    def shuffle_word(word: str) -> str:
        letters = list(word)
        rng.shuffle(letters)
        return "".join(letters)

    picked = rng.sample(sentences, min(len(sentences), rng.randint(5, 8)))
    return " ".join(" ".join(shuffle_word(w) for w in s.split()) for s in picked)


def letter_noise(sentences: list[str], rng: random.Random) -> str:
    """Characters drawn independently from the language's own character frequencies: right alphabet, no language."""
    pool = [ch for s in sentences for ch in s]
    return "".join(rng.choice(pool) for _ in range(rng.randint(500, 900)))


def mojibake(sentences: list[str], rng: random.Random) -> str:
    text = " ".join(rng.sample(sentences, min(len(sentences), 5)))
    return text.encode("utf-8").decode("cp1252", errors="replace")


def scripture(fixture: dict, sentences: list[str], rng: random.Random) -> str:
    formula = " ".join(rng.choice(sentences).split()[:3])
    chapter = rng.randint(1, 40)
    picked = rng.sample(sentences, min(len(sentences), 12))
    return "\n".join(f"{chapter}:{verse} {formula} {s}" for verse, s in enumerate(picked, 1))


def items_for(label: str, fixtures: dict[str, dict], rng: random.Random) -> list[dict]:
    fixture = fixtures[label]
    site = fixture["site"]
    words, sentences = article_words(fixture), sentences_of(fixture)
    rows: list[tuple[str, str, str, str]] = [("clean", kind, f"https://{site}/a/{i}", text) for i, (kind, text) in enumerate(clean_items(fixture))]
    for i in range(3):
        rows.append(("junk", "boilerplate", f"https://{site}/category/{i}", boilerplate(fixture, rng)))
        domain = SPAM_DOMAINS[i].format(n=rng.randint(1, 99))
        rows.append(("junk", "spam", f"https://{domain}/{label}/{i}", spam(fixture, words, rng, i)))
        rows.append(("junk", "repetition", f"https://listings.example/{label}/{i}", repetition(fixture, sentences, rng)))
    for i in range(2):
        rows.append(("junk", "garbled", f"https://mirror-{i}.example/{label}/shuffled", shuffled_letters(sentences, rng)))
        rows.append(("junk", "garbled", f"https://mirror-{i}.example/{label}/noise", letter_noise(sentences, rng)))
    rows.append(("junk", "mojibake", f"https://old-cms.example/{label}", mojibake(sentences, rng)))
    donor = fixtures.get(WRONG_LANGUAGE_DONOR.get(label, ""))
    if donor:
        for i, (_, text) in enumerate(clean_items(donor)[:3]):
            rows.append(("junk", "wrong_lang", f"https://{site}/translated/{i}", text))
    for i in range(3):
        rows.append(("templated", "scripture", f"https://scripture-{label.lower()}.example/{i}", scripture(fixture, sentences, rng)))
    out = []
    for quality, kind, url, text in rows:
        digest = hashlib.sha1(f"{label}\n{url}\n{text}".encode()).hexdigest()[:16]
        out.append({"id": f"{label}-{digest}", "lang_script": label, "label": quality, "kind": kind, "url": url, "text": text})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=REPO / "fixtures" / "corpus")
    parser.add_argument("--out", type=Path, default=REPO / "data" / "quality_eval")
    args = parser.parse_args()
    fixtures = load_fixtures(args.fixtures)
    if not fixtures:
        sys.exit(f"no fixtures in {args.fixtures}")
    rng = random.Random(EVAL_SEED)
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for label in sorted(fixtures):
        rows = items_for(label, fixtures, rng)
        with open(args.out / f"{label}.jsonl", "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        total += len(rows)
    print(f"{total} items for {len(fixtures)} languages -> {args.out}")


if __name__ == "__main__":
    main()

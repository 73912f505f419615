"""Compose the labelled near-duplicate pair set in data/dedup_eval/ from our own fixture texts.

Base documents per language (fixtures/corpus/<lang_script>.yaml, texts we wrote): the 3 articles, plus 4
documents made of 15 consecutive reference sentences each; 15 languages in 8 scripts, two of them written
without spaces (Lao, Khmer). Every base document gets one copy of each kind the web makes
(``longtail.stages.dedup.copies``, the same code that makes the real-text development pairs of
bench/dedup_pairs_real.py), paired with its base and labelled:

duplicate (the same document to a reader; what dedup must remove)
  exact            identical text
  boilerplate      site lines (menu, date, share, footer) added above and below; in half of the pairs the
                   base carries one site's lines and the copy another's (lines changed)
  reformatted      whitespace, line breaks and the case of some letters changed
  shuffled         paragraphs in another order
  truncated_70     the first ~70 % of the text, cut at a word, with an ellipsis
  edit_5           5 % of the words substituted, inserted or deleted (words of the language's other texts; in
                   Lao and Khmer a "word" is a 4-grapheme span)
  edit_10          10 % of the words substituted, inserted or deleted
not_duplicate
  different        two different base documents of the same language
  same_template    two different base documents inside one heavy site template (the site's menu, a
                   breadcrumb, share line, five related headlines, a newsletter line and the footer)
  translation      two independent translations of one text in the same language (fixtures/dedup/
                   translations.yaml: English and Russian, 3 texts each, written for this repository)

The set before issue 14 also labelled "the first half of the page" not_duplicate. With truncated_70 a copy,
that label cannot hold: the half page is ~70 % of the 70 % copy (shingle Jaccard ~0.7), so clusters (connected
components) merge it with the page. It is no longer composed.

Run: .venv/bin/python scripts/make_dedup_pairs.py  (deterministic; writes docs.jsonl and pairs.jsonl)
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from itertools import combinations
from pathlib import Path

import regex
import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO.parent))

from longtail.stages.dedup import copies as cp  # noqa: E402

FIXTURES = REPO / "fixtures" / "corpus"
TRANSLATIONS = REPO / "fixtures" / "dedup" / "translations.yaml"
OUTPUT = REPO / "data" / "dedup_eval"
REFERENCE_DOC_SENTENCES = 15
REFERENCE_DOCS = 4
DUPLICATE_KINDS = cp.DUPLICATE_KINDS
_SENTENCE_END = regex.compile(r"(?<=[.!?।።။។៕。！？؟])\s+")


def sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(paragraph.strip()) if s]


def base_documents(corpus: dict) -> list[dict]:
    docs = [{"title": a["title"], "paragraphs": list(a["paragraphs"])} for a in corpus["articles"]]
    reference = corpus["reference"]
    for k in range(REFERENCE_DOCS):
        chunk = reference[k * REFERENCE_DOC_SENTENCES : (k + 1) * REFERENCE_DOC_SENTENCES]
        if len(chunk) < REFERENCE_DOC_SENTENCES:
            break
        docs.append({"title": chunk[0], "paragraphs": [" ".join(chunk[i : i + 5]) for i in range(1, len(chunk), 5)]})
    return docs


def render(doc: dict) -> str:
    return "\n".join([doc["title"], *doc["paragraphs"]])


def shingle_jaccard(a: str, b: str, script: str) -> float:
    from longtail.stages.dedup.minhash import MinHashParams, shingles

    sa, sb = shingles(a, script, MinHashParams()), shingles(b, script, MinHashParams())
    return round(len(sa & sb) / max(1, len(sa | sb)), 3)


def build(fixtures: Path = FIXTURES, translations: Path = TRANSLATIONS) -> tuple[list[dict], list[dict]]:
    docs, pairs = [], []
    texts: dict[str, str] = {}

    def add(doc_id: str, label: str, text: str) -> str:
        docs.append({"id": doc_id, "lang_script": label, "text": text})
        texts[doc_id] = text
        return doc_id

    def pair(a: str, b: str, label: str, category: str, lang: str) -> None:
        script = lang.split("_")[1]
        pairs.append({"id_a": a, "id_b": b, "label": label, "category": category, "lang_script": lang,
                      "jaccard": shingle_jaccard(texts[a], texts[b], script)})

    for path in sorted(fixtures.glob("*.yaml")):
        corpus = yaml.safe_load(path.read_text(encoding="utf-8"))
        label = corpus["lang_script"]
        script = label.split("_")[1]
        rng = random.Random(f"dedup-pairs:{label}")  # our own generator per language: reproducible, no global seed
        bases = base_documents(corpus)
        # substitutions and insertions come from the language's reference sentences not used as base documents
        vocab = cp.vocabulary(corpus["reference"][REFERENCE_DOCS * REFERENCE_DOC_SENTENCES :] + corpus["reference"], script)
        base_ids = []
        for b, doc in enumerate(bases):
            base, kinds = cp.copies(render(doc), script, vocab, rng)
            base_id = add(f"{label}-{b}-base", label, base)
            base_ids.append(base_id)
            for kind, (original, copy) in kinds.items():
                a = base_id if original == base else add(f"{label}-{b}-{kind}-original", label, original)
                pair(a, add(f"{label}-{b}-{kind}", label, copy), "duplicate", kind, label)
        template = cp.site_template(vocab, [d["title"] for d in bases], script, rng)
        template["above"].insert(0, " | ".join(corpus["nav"]))
        template["below"].append(corpus["footer"])
        site_ids = [add(f"{label}-{b}-site", label, cp.templated(render(doc), template)) for b, doc in enumerate(bases)]
        for (a, b), (sa, sb) in zip(combinations(base_ids, 2), combinations(site_ids, 2)):
            pair(a, b, "not_duplicate", "different", label)
            pair(sa, sb, "not_duplicate", "same_template", label)
    for label, texts_ in yaml.safe_load(translations.read_text(encoding="utf-8")).items():
        for k, item in enumerate(texts_):
            a = add(f"{label}-translation-{k}-a", label, item["a"])
            b = add(f"{label}-translation-{k}-b", label, item["b"])
            pair(a, b, "not_duplicate", "translation", label)
    return docs, pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", default=str(OUTPUT), help="folder for docs.jsonl and pairs.jsonl")
    args = parser.parse_args()
    docs, pairs = build()
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in (("docs.jsonl", docs), ("pairs.jsonl", pairs)):
        with open(out / name, "w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    dup = sum(p["label"] == "duplicate" for p in pairs)
    print(f"wrote {len(docs)} documents, {len(pairs)} pairs ({dup} duplicate, {len(pairs) - dup} not_duplicate) to {out}")


if __name__ == "__main__":
    main()

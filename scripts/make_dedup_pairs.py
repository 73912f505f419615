"""Compose the labelled near-duplicate pair set in data/dedup_eval/ from our own fixture texts.

Base documents per language (fixtures/corpus/<lang_script>.yaml, texts we wrote): the 3 articles, plus 4
documents made of 15 consecutive reference sentences each. Every base document gets variants; each variant is
paired with its base and labelled:

duplicate (the same document to a reader; what dedup must remove)
  exact            identical text
  reformatted      other whitespace, case, punctuation and digits (identical after normalisation)
  light_edit       two words replaced (a short grapheme span where the script writes no spaces)
  sentence_edit    one sentence removed and one word replaced (like the sample crawl's near duplicates)
  boilerplate      menu line before and footer line after the text (the site's nav and footer)
  truncated_90     the last sentence(s) cut, about 85-90 % of the text kept (at least one sentence cut)
  shuffled         paragraphs in another order
not_duplicate
  truncated_half   the first half only: the page is *contained* in the other, but half of it is missing.
                   MinHash estimates Jaccard similarity (~0.5 here), so this is by design not a near duplicate;
                   containment would need a different measure.
  different        two different base documents of the same language
  different_boiler two different base documents that both carry the site's nav and footer (shared boilerplate)

Run: .venv/bin/python scripts/make_dedup_pairs.py  (deterministic; writes docs.jsonl and pairs.jsonl)
"""

from __future__ import annotations

import argparse
import json
import random
from itertools import combinations
from pathlib import Path

import regex
import yaml

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures" / "corpus"
OUTPUT = REPO / "data" / "dedup_eval"
REFERENCE_DOC_SENTENCES = 15
REFERENCE_DOCS = 4
DUPLICATE_KINDS = ("exact", "reformatted", "light_edit", "sentence_edit", "boilerplate", "truncated_90", "shuffled")
_SENTENCE_END = regex.compile(r"(?<=[.!?।።။។៕。！？؟])\s+")
_GRAPHEME = regex.compile(r"\X")
UNSPACED = {"Laoo", "Khmr", "Thai", "Mymr", "Hani", "Jpan"}


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


def replace_word(text: str, script: str, rng: random.Random) -> str:
    """Replace one word (or a 3-grapheme span in unspaced scripts) with another piece of the same text."""
    if script in UNSPACED:
        graphemes = _GRAPHEME.findall(text)
        letters = [i for i in range(len(graphemes) - 3) if all(g[0].isalpha() for g in graphemes[i : i + 3])]
        start, source = rng.choice(letters), rng.choice(letters)
        graphemes[start : start + 3] = graphemes[source : source + 3][::-1]
        return "".join(graphemes)
    words = text.split(" ")
    candidates = [i for i, w in enumerate(words) if len(w) > 3 and "\n" not in w]
    position = rng.choice(candidates)
    replacement = rng.choice([w for w in words if w != words[position] and "\n" not in w and len(w) > 3])
    words[position] = replacement
    return " ".join(words)


def reformat(text: str, rng: random.Random) -> str:
    out = text.replace("\n", "\n\n").replace(" ", "  ", 3)
    out = "".join(ch.upper() if ch.isalpha() and rng.random() < 0.1 else ch for ch in out)
    return out.replace(".", "!", 2) + " ..."


def variants(doc: dict, corpus: dict, script: str, rng: random.Random) -> dict[str, str]:
    text = render(doc)
    out = {"exact": text, "reformatted": reformat(text, rng)}
    out["light_edit"] = replace_word(replace_word(text, script, rng), script, rng)
    paragraphs = list(doc["paragraphs"])
    longest = max(range(len(paragraphs)), key=lambda i: len(sentences(paragraphs[i])))
    parts = sentences(paragraphs[longest])
    if len(parts) > 1:
        del parts[rng.randrange(len(parts))]
        paragraphs[longest] = " ".join(parts)
    out["sentence_edit"] = replace_word(render({"title": doc["title"], "paragraphs": paragraphs}), script, rng)
    out["boilerplate"] = " | ".join(corpus["nav"]) + "\n" + text + "\n" + corpus["footer"]
    all_sentences = [s for p in doc["paragraphs"] for s in sentences(p)]
    total = len(text)
    keep = list(all_sentences[:-1])  # at least the last sentence goes
    while keep and len(doc["title"]) + sum(len(s) + 1 for s in keep[:-1]) >= 0.85 * total:
        keep.pop()
    out["truncated_90"] = doc["title"] + "\n" + " ".join(keep)
    order = list(range(len(doc["paragraphs"])))
    while order == sorted(order):
        rng.shuffle(order)
    out["shuffled"] = "\n".join([doc["title"], *(doc["paragraphs"][i] for i in order)])
    half, size = [], 0
    for s in all_sentences:
        if size + len(s) > 0.5 * total:
            break
        half.append(s)
        size += len(s) + 1
    out["truncated_half"] = doc["title"] + "\n" + " ".join(half)
    return out


def shingle_jaccard(a: str, b: str, script: str) -> float:
    from longtail.stages.dedup.minhash import MinHashParams, shingles

    sa, sb = shingles(a, script, MinHashParams()), shingles(b, script, MinHashParams())
    return round(len(sa & sb) / max(1, len(sa | sb)), 3)


def build(fixtures: Path = FIXTURES) -> tuple[list[dict], list[dict]]:
    docs, pairs = [], []
    for path in sorted(fixtures.glob("*.yaml")):
        corpus = yaml.safe_load(path.read_text(encoding="utf-8"))
        label = corpus["lang_script"]
        script = label.split("_")[1]
        rng = random.Random(f"dedup-pairs:{label}")  # our own generator per language: reproducible, no global seed
        bases = base_documents(corpus)
        base_ids, boiler_ids = [], []
        for b, doc in enumerate(bases):
            base_id = f"{label}-{b}-base"
            docs.append({"id": base_id, "lang_script": label, "text": render(doc)})
            base_ids.append(base_id)
            for kind, text in variants(doc, corpus, script, rng).items():
                variant_id = f"{label}-{b}-{kind}"
                docs.append({"id": variant_id, "lang_script": label, "text": text})
                label_ = "duplicate" if kind in DUPLICATE_KINDS else "not_duplicate"
                pairs.append({"id_a": base_id, "id_b": variant_id, "label": label_, "category": kind, "lang_script": label,
                              "jaccard": shingle_jaccard(render(doc), text, script)})
                if kind == "boilerplate":
                    boiler_ids.append(variant_id)
        texts = {d["id"]: d["text"] for d in docs}
        for (a, b), (ba, bb) in zip(combinations(base_ids, 2), combinations(boiler_ids, 2)):
            pairs.append({"id_a": a, "id_b": b, "label": "not_duplicate", "category": "different", "lang_script": label,
                          "jaccard": shingle_jaccard(texts[a], texts[b], script)})
            pairs.append({"id_a": ba, "id_b": bb, "label": "not_duplicate", "category": "different_boiler", "lang_script": label,
                          "jaccard": shingle_jaccard(texts[ba], texts[bb], script)})
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

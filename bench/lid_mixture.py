"""Open-set LID development mixture from the real-data bench (issue 13).

Reads ``bench/data/text/<label>.jsonl`` (real documents, individual ISO 639-3 + script, see docs/bench.md) and
writes a ``longtail eval-lid`` input: per language a few documents, and from each document a sentence, a short
paragraph and a longer paragraph (cut at sentence boundaries where the script has them). Every row records
whether heliport and lid.176 can emit the language (after the macro policy), so the figures can be split into
supported / unsupported. Selection is deterministic (a hash of the document id), no randomness.

    .venv/bin/python bench/lid_mixture.py                        # -> bench/data/lid_mixture.jsonl
    .venv/bin/longtail eval-lid --input bench/data/lid_mixture.jsonl --summary-only --output out/lid/mixture_eval.json

The mixture is development data (real text): thresholds may be tuned on it, so figures on it are not held-out.
``--split known|unknown|all`` and ``--half even|odd`` give the calibration/check halves used in docs/lid.md.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TEXT = ROOT / "data" / "text"
OUT = ROOT / "data" / "lid_mixture.jsonl"

_SENTENCE_END = re.compile(r"(?<=[.!?।॥።።。！？؟\u06d4])\s+")
LENGTHS = {"sentence": (20, 160), "short": (160, 400), "paragraph": (400, 900)}


def _h(text: str) -> int:
    return int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:12], 16)


def sentences(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        line = " ".join(line.split())
        if not line:
            continue
        parts = [p for p in _SENTENCE_END.split(line) if p.strip()]
        # scripts without sentence punctuation or spaces (Thai, Chinese): cut long lines into ~80-char pieces
        for part in parts:
            while len(part) > 220:
                cut = part.rfind(" ", 60, 160)
                cut = cut if cut > 0 else 120
                out.append(part[:cut].strip())
                part = part[cut:].strip()
            if part:
                out.append(part)
    return out


def cut(sents: list[str], start: int, low: int, high: int) -> str | None:
    """Consecutive sentences from ``start`` until at least ``low`` characters (at most ``high``)."""
    pieces, size = [], 0
    for s in sents[start:]:
        if size and size + len(s) > high:
            break
        pieces.append(s)
        size += len(s) + 1
        if size >= low:
            return " ".join(pieces)[:high]
    return " ".join(pieces)[:high] if size >= low else None


def items_for(label: str, docs: list[dict], per_language_docs: int) -> list[dict]:
    docs = sorted(docs, key=lambda d: _h(d["id"]))
    rows, used = [], 0
    for doc in docs:
        if used >= per_language_docs:
            break
        sents = sentences(doc["text"])
        if not sents:
            continue
        made = 0
        for n, (length, (low, high)) in enumerate(LENGTHS.items()):
            start = (_h(doc["id"] + length) % max(1, len(sents)))
            text = cut(sents, start, low, high) or cut(sents, 0, low, high)
            if length == "sentence" and text is None:
                text = sents[start][:high] if len(sents[start]) >= 10 else None
            if not text:
                continue
            lang, script = label.split("_")
            rows.append({"id": f"{doc['id']}-{length}", "text": text, "lang": lang, "script": script, "length": length,
                         "source": doc.get("source"), "genre": doc.get("genre")})
            made += 1
        used += made > 0
    return rows


def support_tables(policy: str = "macro") -> tuple[frozenset[str], frozenset[str]]:
    from longtail.langid.backends import FastTextLid, HeliportLid

    return HeliportLid(policy).supported_languages(), FastTextLid(None, policy).supported_languages()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--text", default=str(TEXT))
    parser.add_argument("--output", default=str(OUT))
    parser.add_argument("--docs", type=int, default=4, help="documents per language (3 items each)")
    parser.add_argument("--split", choices=("all", "known", "unknown"), default="all",
                        help="known = languages at least one backend can emit, unknown = neither")
    parser.add_argument("--half", choices=("all", "even", "odd"), default="all", help="languages by a hash of their label")
    args = parser.parse_args(argv)

    from longtail.langid.ensemble import covers
    from longtail.langid.labels import apply_macro_policy, canonical_language

    heliport, fasttext = support_tables()
    rows, languages = [], {}
    for path in sorted(Path(args.text).glob("*.jsonl")):
        label = path.stem
        docs = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
        lang = apply_macro_policy(canonical_language(label, "individual"), "macro")  # ISO 639-3 (als = Tosk)
        known = {"heliport": covers(heliport, lang), "fasttext": covers(fasttext, lang)}
        group = "known" if any(known.values()) else "unknown"
        if args.split != "all" and group != args.split:
            continue
        if args.half != "all" and (_h(label) % 2 == 0) != (args.half == "even"):
            continue
        made = items_for(label, docs, args.docs)
        for row in made:
            row.update(supported_heliport=known["heliport"], supported_fasttext=known["fasttext"], supported_any=group == "known")
        rows += made
        if made:
            languages[label] = {"items": len(made), **known}
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    unknown = [label for label, v in languages.items() if not (v["heliport"] or v["fasttext"])]
    both = [label for label, v in languages.items() if v["heliport"] and v["fasttext"]]
    summary = {"items": len(rows), "languages": len(languages), "unsupported_by_both": len(unknown),
               "unsupported_share": round(len(unknown) / max(1, len(languages)), 3), "supported_by_both": len(both),
               "heliport_only": sum(v["heliport"] and not v["fasttext"] for v in languages.values()),
               "fasttext_only": sum(v["fasttext"] and not v["heliport"] for v in languages.values()),
               "scripts": sorted({label.split("_")[1] for label in languages}), "unsupported_labels": unknown, "per_language": languages}
    out.with_suffix(".summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False))
    print(json.dumps({k: v for k, v in summary.items() if k not in ("per_language",)}, ensure_ascii=False))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

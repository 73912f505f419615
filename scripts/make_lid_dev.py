#!/usr/bin/env python
"""Build the labelled language-identification dev set from fixtures/lid_dev/*.yaml.

Input (see data/lid_dev/README.md):
  fixtures/lid_dev/<lang>_<Script>.yaml   one variety per file: lang, script, name, notes, sentences
  fixtures/lid_dev/mixed.yaml             items: [{text, lang, script, note}], each labelled on its own

Output:
  data/lid_dev/dev.jsonl   one JSON object per line:
      {"id", "text", "lang", "script", "length", "source_file"}   (+ "note" for mixed.yaml items)

Order is deterministic: variety files sorted by name, then mixed.yaml; items keep their file order.
Ids are "<lang>_<Script>-<n>", numbered from 1 per lang_Script across the whole set, so an item of
mixed.yaml continues the numbering of its variety.

"length" is "short", "medium" or "long", estimated from a word count that is comparable across
writing systems (see word_units); an item may override it with {text: ..., length: ...}.

Only pyyaml and the standard library are used.
Usage: .venv/bin/python scripts/make_lid_dev.py [--fixtures DIR] [--out FILE] [--verbose]
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
MIXED_FILE = "mixed.yaml"
MIN_SENTENCES = 12
LENGTHS = ("short", "medium", "long")
SHORT_MAX = 9.0    # word units; at most this is "short"
MEDIUM_MAX = 36.0  # word units; at most this is "medium", above it "long"

LANG_RE = re.compile(r"^[a-z]{3}$")
SCRIPT_RE = re.compile(r"^[A-Z][a-z]{3}$")

# Unicode character-name prefixes -> ISO 15924 code, for the letters we need to recognise.
_NAME_PREFIXES = [
    ("LATIN", "Latn"), ("CYRILLIC", "Cyrl"), ("GREEK", "Grek"), ("ARMENIAN", "Armn"),
    ("GEORGIAN", "Geor"), ("HEBREW", "Hebr"), ("ARABIC", "Arab"), ("ETHIOPIC", "Ethi"),
    ("DEVANAGARI", "Deva"), ("BENGALI", "Beng"), ("GURMUKHI", "Guru"), ("GUJARATI", "Gujr"),
    ("TAMIL", "Taml"), ("TELUGU", "Telu"), ("KANNADA", "Knda"), ("MALAYALAM", "Mlym"),
    ("ORIYA", "Orya"), ("SINHALA", "Sinh"), ("THAI", "Thai"), ("LAO", "Laoo"), ("KHMER", "Khmr"),
    ("MYANMAR", "Mymr"), ("TIBETAN", "Tibt"), ("HANGUL", "Hang"), ("HIRAGANA", "Hira"),
    ("KATAKANA", "Kana"), ("CJK UNIFIED IDEOGRAPH", "Hani"), ("CJK COMPATIBILITY IDEOGRAPH", "Hani"),
    ("TIFINAGH", "Tfng"), ("CANADIAN SYLLABICS", "Cans"), ("CHEROKEE", "Cher"), ("NKO", "Nkoo"),
    ("OL CHIKI", "Olck"), ("MONGOLIAN", "Mong"), ("THAANA", "Thaa"), ("SYRIAC", "Syrc"),
]
# Which letter scripts count as "the declared script" (Japanese mixes kanji and kana, etc.).
_SCRIPT_MEMBERS = {
    "Jpan": {"Hani", "Hira", "Kana"},
    "Hani": {"Hani"},
    "Hans": {"Hani"},
    "Hant": {"Hani"},
    "Hang": {"Hang", "Hani"},
    "Kore": {"Hang", "Hani"},
}
# Scripts written without spaces between words: letters (not marks) per word, roughly.
_LETTERS_PER_WORD = {"Hani": 1.5, "Hans": 1.5, "Hant": 1.5, "Jpan": 1.6,
                     "Thai": 3.0, "Laoo": 3.0, "Khmr": 3.0, "Mymr": 2.5}
# Space-delimited scripts whose space-separated units hold more than one word on average.
_TOKEN_WEIGHT = {"Hang": 1.4}
# Letters (vowel signs included) per English-sized word; syllabaries need fewer characters.
_LETTERS_PER_ENGLISH_WORD = {"default": 6.0, "Ethi": 3.0, "Cans": 3.0}


def letter_script(ch: str) -> str | None:
    """ISO 15924 code of a letter, or None for marks, digits, punctuation and modifier letters."""
    if not ch.isalpha() or unicodedata.category(ch).startswith("M"):
        return None
    name = unicodedata.name(ch, "")
    if name.startswith("MODIFIER LETTER"):
        return None
    for prefix, code in _NAME_PREFIXES:
        if name.startswith(prefix):
            return code
    return "Zyyy"


def _group(script: str, declared: str) -> str:
    return declared if script in _SCRIPT_MEMBERS.get(declared, {declared}) else script


def script_runs(text: str, declared: str) -> list[tuple[str, int]]:
    """Maximal runs of letters of one script (combining marks stay with their letter), as (script, letters)."""
    runs: list[tuple[str, int]] = []
    cur, n = None, 0
    for ch in text:
        s = letter_script(ch)
        if s is None:
            if cur is not None and unicodedata.category(ch).startswith("M"):
                continue
            if cur is not None:
                runs.append((cur, n))
            cur, n = None, 0
            continue
        s = _group(s, declared)
        if s != cur and cur is not None:
            runs.append((cur, n))
            n = 0
        cur = s
        n += 1
    if cur is not None:
        runs.append((cur, n))
    return runs


def _run_words(script: str, letters: int) -> float:
    lpw = _LETTERS_PER_WORD.get(script)
    if script in ("Hira", "Kana"):
        lpw = _LETTERS_PER_WORD["Jpan"]
    return max(1.0, letters / lpw) if lpw else 1.0


def majority_script(text: str, declared: str) -> tuple[str, float]:
    """(script holding most of the words, share of words in the declared script).

    Counting words rather than letters keeps a Hindi sentence with a few English words
    Devanagari-majority even though Devanagari vowel signs are marks, not letters."""
    weights: Counter = Counter()
    for script, letters in script_runs(text, declared):
        weights[script] += _run_words(script, letters)
    total = sum(weights.values()) or 1.0
    top = weights.most_common(1)[0][0] if weights else "Zyyy"
    return top, weights[declared] / total


_HOMOGLYPH_SCRIPTS = {"Latn", "Cyrl", "Grek"}


def mixed_script_words(text: str) -> list[str]:
    """Words mixing Latin, Cyrillic and Greek letters (homoglyph typos such as a Latin 'a' in a Cyrillic word)."""
    bad = []
    for word in re.findall(r"\w+", text):
        scripts = {s for s in map(letter_script, word) if s} & _HOMOGLYPH_SCRIPTS
        if len(scripts) > 1:
            bad.append(word)
    return bad


def word_units(text: str, script: str) -> float:
    """Approximate number of words, comparable across writing systems."""
    if script == "Tibt":
        syllables = [s for s in re.split(r"[\s\u0f0b-\u0f14]+", text) if s]
        return len(syllables) / 1.3
    if script in _LETTERS_PER_WORD:
        letters = sum(1 for ch in text if letter_script(ch) not in (None, "Latn"))
        latin_words = len(re.findall(r"[A-Za-z]+", text))
        return letters / _LETTERS_PER_WORD[script] + latin_words
    tokens = [t for t in text.split() if any(ch.isalnum() for ch in t)]
    letters = sum(1 for ch in text if letter_script(ch) or unicodedata.category(ch).startswith("M"))
    # Agglutinative and polysynthetic languages say in 30 long words what English says in 50;
    # counting letters (with vowel signs) per English-sized word keeps their paragraphs comparable.
    per_word = _LETTERS_PER_ENGLISH_WORD.get(script, _LETTERS_PER_ENGLISH_WORD["default"])
    return max(len(tokens) * _TOKEN_WEIGHT.get(script, 1.0), letters / per_word)


def length_class(text: str, script: str) -> str:
    n = word_units(text, script)
    if n <= SHORT_MAX:
        return "short"
    if n <= MEDIUM_MAX:
        return "medium"
    return "long"


class FixtureError(Exception):
    pass


def _clean(text: object, where: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise FixtureError(f"{where}: text must be a non-empty string")
    return unicodedata.normalize("NFC", text.strip())


def _item_text_and_length(raw: object, where: str) -> tuple[str, str | None]:
    if isinstance(raw, dict):
        text = _clean(raw.get("text"), where)
        length = raw.get("length")
        if length is not None and length not in LENGTHS:
            raise FixtureError(f"{where}: length must be one of {LENGTHS}")
        return text, length
    return _clean(raw, where), None


def _check_labels(lang: object, script: object, where: str) -> None:
    if not isinstance(lang, str) or not LANG_RE.match(lang):
        raise FixtureError(f"{where}: lang must be an ISO 639-3 code, got {lang!r}")
    if not isinstance(script, str) or not SCRIPT_RE.match(script):
        raise FixtureError(f"{where}: script must be an ISO 15924 code, got {script!r}")


def load_items(fixtures: Path) -> tuple[list[dict], list[str], dict[str, str]]:
    """Read every fixture file; returns (items in output order, warnings, variety names)."""
    files = sorted(p for p in fixtures.glob("*.yaml") if p.name != MIXED_FILE)
    mixed = fixtures / MIXED_FILE
    rows: list[dict] = []
    warnings: list[str] = []
    names: dict[str, str] = {}

    for path in files:
        rel = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else str(path)
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise FixtureError(f"{rel}: expected a mapping")
        lang, script = data.get("lang"), data.get("script")
        _check_labels(lang, script, rel)
        key = f"{lang}_{script}"
        if path.stem != key:
            raise FixtureError(f"{rel}: file name must be {key}.yaml")
        sentences = data.get("sentences")
        if not isinstance(sentences, list) or len(sentences) < MIN_SENTENCES:
            raise FixtureError(f"{rel}: needs at least {MIN_SENTENCES} sentences")
        names[key] = str(data.get("name", key))
        for i, raw in enumerate(sentences, 1):
            text, length = _item_text_and_length(raw, f"{rel} item {i}")
            rows.append({"text": text, "lang": lang, "script": script,
                         "length": length, "source_file": rel, "_where": f"{rel} item {i}"})

    if mixed.exists():
        rel = mixed.relative_to(REPO).as_posix() if mixed.is_relative_to(REPO) else str(mixed)
        data = yaml.safe_load(mixed.read_text(encoding="utf-8")) or {}
        items = data.get("items")
        if not isinstance(items, list) or not items:
            raise FixtureError(f"{rel}: expected a non-empty 'items' list")
        for i, raw in enumerate(items, 1):
            where = f"{rel} item {i}"
            if not isinstance(raw, dict):
                raise FixtureError(f"{where}: expected a mapping with text, lang, script, note")
            text, length = _item_text_and_length(raw, where)
            _check_labels(raw.get("lang"), raw.get("script"), where)
            row = {"text": text, "lang": raw["lang"], "script": raw["script"], "length": length,
                   "source_file": rel, "_where": where}
            row["note"] = str(raw.get("note", ""))
            rows.append(row)

    seen: dict[str, str] = {}
    for row in rows:
        where, text, script = row["_where"], row["text"], row["script"]
        if text in seen:
            raise FixtureError(f"{where}: duplicate of {seen[text]}")
        seen[text] = where
        top, share = majority_script(text, script)
        if top != script:
            raise FixtureError(f"{where}: most letters are {top}, not the declared {script}")
        odd = mixed_script_words(text)
        if odd:
            warnings.append(f"{where}: words mixing scripts: {', '.join(odd)}")
        if row["length"] is None:
            row["length"] = length_class(text, script)
    return rows, warnings, names


def assign_ids(rows: list[dict]) -> list[dict]:
    counters: Counter = Counter()
    out = []
    for row in rows:
        key = f"{row['lang']}_{row['script']}"
        counters[key] += 1
        rec = {"id": f"{key}-{counters[key]}", "text": row["text"], "lang": row["lang"],
               "script": row["script"], "length": row["length"], "source_file": row["source_file"]}
        if "note" in row:
            rec["note"] = row["note"]
        out.append(rec)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fixtures", type=Path, default=REPO / "fixtures" / "lid_dev")
    ap.add_argument("--out", type=Path, default=REPO / "data" / "lid_dev" / "dev.jsonl")
    ap.add_argument("--verbose", "-v", action="store_true", help="print one line per variety")
    args = ap.parse_args(argv)

    try:
        rows, warnings, names = load_items(args.fixtures.resolve())
    except FixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    records = assign_ids(rows)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8", newline="\n") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")

    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)

    per_variety: dict[str, Counter] = defaultdict(Counter)
    for rec in records:
        per_variety[f"{rec['lang']}_{rec['script']}"][rec["length"]] += 1
    labels = {(r["lang"], r["script"]) for r in records}
    scripts = sorted({r["script"] for r in records})
    lengths = Counter(r["length"] for r in records)
    mixed_n = sum(1 for r in records if "note" in r)
    print(f"wrote {len(records)} items to {args.out}")
    print(f"varieties: {len(names)} fixture files, {len(labels)} distinct lang_Script labels")
    print(f"scripts:   {len(scripts)} ({' '.join(scripts)})")
    print(f"items:     {len(records)} ({len(records) - mixed_n} from variety files, {mixed_n} mixed)")
    print("lengths:   " + ", ".join(f"{k} {lengths[k]}" for k in LENGTHS))
    if args.verbose:
        for key in sorted(per_variety):
            c = per_variety[key]
            print(f"  {key:<10} {names.get(key, '(mixed only)'):<40} "
                  + " ".join(f"{k[0]}={c[k]}" for k in LENGTHS))
    return 0


if __name__ == "__main__":
    sys.exit(main())

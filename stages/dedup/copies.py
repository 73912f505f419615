"""The kinds of copies the web makes of a page, for composing labelled near-duplicate pairs.

Used by ``scripts/make_dedup_pairs.py`` (our fixture texts, committed) and ``bench/dedup_pairs_real.py`` (real
documents of the development bench, never committed), so both sets hold the same kinds at the same rates:

==============  ==========================================================================================
kind            the copy
==============  ==========================================================================================
exact           the same text
boilerplate     2-4 site lines (menu, date, share, footer) added above and below; when the original already
                carries a site's lines, the copy carries another site's (lines changed)
reformatted     whitespace, line breaks and the case of some letters changed
shuffled        paragraphs in another order (a text of fewer than 3 paragraphs is first cut into paragraphs of
                1-3 whole sentences, and both sides keep that cut)
truncated_70    the first ~70 % of the text, cut at a word, with an ellipsis ("read more")
edit_5          5 % of the words substituted, inserted or deleted (a third each, words from the language)
edit_10         10 % of the words substituted, inserted or deleted
==============  ==========================================================================================

Hard negatives (``not_duplicate``) are composed by the callers: two different documents of one language, two
different articles inside one site template (:func:`templated`), and different translations of one text.

"Words" are whitespace-separated tokens where the script writes spaces; in scripts without spaces a word is a
span of grapheme clusters of the script's average word length (:data:`UNSPACED_WORD_GRAPHEMES`).
Everything takes a :class:`random.Random`: the same seed gives the same copies.
"""

from __future__ import annotations

import random

import regex

from longtail.filters.words import graphemes, is_unspaced

DUPLICATE_KINDS = ("exact", "boilerplate", "reformatted", "shuffled", "truncated_70", "edit_5", "edit_10")
EDIT_RATES = {"edit_5": 0.05, "edit_10": 0.10}
TRUNCATE_TO = 0.70
# Grapheme clusters per word where a script writes no spaces (Chinese ~1.6 characters a word, Japanese ~2,
# Thai / Lao / Khmer / Burmese ~3-4): the unit of a word edit there.
UNSPACED_WORD_GRAPHEMES = {"Hani": 2, "Hans": 2, "Hant": 2, "Jpan": 2, "Hira": 2, "Kana": 2}
DEFAULT_UNSPACED_WORD_GRAPHEMES = 4

_SENTENCE_END = regex.compile(r"(?<=[.!?।।።။។៕。！？؟])\s*")


def _word_graphemes(script: str) -> int:
    return UNSPACED_WORD_GRAPHEMES.get(script, DEFAULT_UNSPACED_WORD_GRAPHEMES)


def paragraphs(text: str) -> list[str]:
    return [p for p in (line.strip() for line in text.split("\n")) if p]


def sentences(text: str) -> list[str]:
    return [s for s in (part.strip() for part in _SENTENCE_END.split(text)) if s]


def split_words(line: str, script: str) -> list[str]:
    """A line's words (see the module docstring); joining them with :func:`join_words` gives the line back
    up to runs of spaces."""
    if is_unspaced(script):
        clusters = graphemes(line)
        size = _word_graphemes(script)
        return ["".join(clusters[i : i + size]) for i in range(0, len(clusters), size)]
    return line.split()


def join_words(words: list[str], script: str) -> str:
    return ("" if is_unspaced(script) else " ").join(words)


def vocabulary(texts: list[str], script: str, limit: int = 5000) -> list[str]:
    """Words of ``texts`` (letters only, deduplicated, first seen first) to draw substitutions from."""
    seen: dict[str, None] = {}
    for text in texts:
        for line in paragraphs(text):
            for word in split_words(line, script):
                if word and all(ch.isalpha() or ch in "\u200c\u200d" or regex.match(r"\p{M}", ch) for ch in word):
                    seen.setdefault(word, None)
                    if len(seen) >= limit:
                        return list(seen)
    return list(seen)


def edit_words(text: str, script: str, rate: float, vocab: list[str], rng: random.Random) -> str:
    """Substitute, insert or delete ``rate`` of the words (at least one edit), a third of each on average."""
    lines = [split_words(line, script) for line in text.split("\n")]
    positions = [(i, j) for i, words in enumerate(lines) for j in range(len(words))]
    if not positions:
        return text
    edits = max(1, round(rate * len(positions)))
    chosen = sorted(rng.sample(positions, min(edits, len(positions))), reverse=True)  # back to front: indices stay valid
    for i, j in chosen:
        operation = rng.choice(("substitute", "insert", "delete"))
        word = rng.choice(vocab) if vocab else lines[i][j]
        if operation == "substitute":
            lines[i][j] = word if word != lines[i][j] or len(vocab) < 2 else rng.choice(vocab)
        elif operation == "insert":
            lines[i].insert(j, word)
        else:
            del lines[i][j]
    return "\n".join(join_words(words, script) for words in lines)


def reformat(text: str, script: str, rng: random.Random) -> str:
    """Other whitespace, line breaks and letter case; the normalised text is unchanged."""
    out = []
    for line in text.split("\n"):
        line = regex.sub(r" ", lambda m: "  " if rng.random() < 0.05 else " ", line)
        line = "".join(ch.swapcase() if ch.isalpha() and rng.random() < 0.05 else ch for ch in line)
        out.append(("\t" if rng.random() < 0.3 else "") + line + (" " if rng.random() < 0.3 else ""))
    joiner = "\n\n" if rng.random() < 0.5 else "\r\n"
    return joiner.join(out)


def paragraph_text(text: str, rng: random.Random) -> str:
    """``text`` with at least 3 paragraphs: a text of fewer is cut into paragraphs of 1-3 whole sentences (when
    it has 3 sentences or more, as web pages of short paragraphs are); otherwise unchanged."""
    if len(paragraphs(text)) >= 3:
        return text
    parts = sentences(" ".join(paragraphs(text)))
    if len(parts) < 3:
        return text
    bounds = [0]
    while bounds[-1] < len(parts):
        bounds.append(min(len(parts), bounds[-1] + rng.randint(1, 3)))
    return "\n".join(" ".join(parts[a:b]) for a, b in zip(bounds, bounds[1:]))


def shuffle_paragraphs(text: str, rng: random.Random) -> str:
    parts = paragraphs(text)
    if len(parts) < 2:
        return text
    order = list(range(len(parts)))
    while order == sorted(order):
        rng.shuffle(order)
    return "\n".join(parts[i] for i in order)


def truncate(text: str, script: str, share: float, rng: random.Random) -> str:
    """The first ``share`` (+-3 %) of the characters, cut at a word boundary, with an ellipsis."""
    target = int(len(text) * (share + rng.uniform(-0.03, 0.03)))
    cut = text[:target]
    if not is_unspaced(script) and " " in cut:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip() + " …"


def site_lines(vocab: list[str], script: str, rng: random.Random) -> tuple[list[str], list[str]]:
    """One site's lines: a menu (and sometimes a date) above the text, a share line and a footer below."""
    pick = lambda k: [rng.choice(vocab) for _ in range(k)] if vocab else ["Home"] * k  # noqa: E731
    above = [" | ".join(pick(rng.randint(5, 8)))]
    if rng.random() < 0.5:
        above.append(f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.20{rng.randint(10, 26)}")
    below = [" · ".join(pick(3)), f"© 20{rng.randint(10, 26)} {join_words(pick(2), script)}. {join_words(pick(4), script)}."]
    return above, below


def with_site(text: str, site: tuple[list[str], list[str]]) -> str:
    above, below = site
    return "\n".join([*above, text, *below])


def templated(text: str, template: dict) -> str:
    """``text`` inside a site template (:func:`site_template`): what different articles of one site share."""
    return "\n".join([*template["above"], text, *template["below"]])


def site_template(vocab: list[str], headlines: list[str], script: str, rng: random.Random) -> dict:
    """A heavy site template: menu, breadcrumb, and below the article share buttons, a 'related' list of
    headlines, a newsletter / cookie notice and a footer: all shared by every article of the site."""
    pick = lambda k: [rng.choice(vocab) for _ in range(k)] if vocab else ["Home"] * k  # noqa: E731
    above = [" | ".join(pick(8)), " › ".join(pick(3))]
    below = [
        " · ".join(pick(4)),
        *headlines[:5],
        join_words(pick(12), script) + ".",
        join_words(pick(10), script) + ".",
        f"© 2025 {join_words(pick(2), script)}. {join_words(pick(6), script)}.",
    ]
    return {"above": above, "below": below}


def copies(text: str, script: str, vocab: list[str], rng: random.Random) -> tuple[str, dict[str, tuple[str, str]]]:
    """The base text (cut into paragraphs when it had fewer than 3, so shuffling means something) and, for every
    kind in :data:`DUPLICATE_KINDS`, ``(original, copy)``: the original is the base, except for boilerplate
    *changed* (half of the boilerplate pairs), where it is the base inside another site's lines."""
    base = paragraph_text(text, rng)
    out = {"exact": (base, base)}
    site = site_lines(vocab, script, rng)
    original = base if rng.random() < 0.5 else with_site(base, site_lines(vocab, script, rng))
    out["boilerplate"] = (original, with_site(base, site))
    out["reformatted"] = (base, reformat(base, script, rng))
    out["shuffled"] = (base, shuffle_paragraphs(base, rng))
    out["truncated_70"] = (base, truncate(base, script, TRUNCATE_TO, rng))
    for kind, rate in EDIT_RATES.items():
        out[kind] = (base, edit_words(base, script, rate, vocab, rng))
    return base, out

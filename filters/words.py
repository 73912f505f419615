"""Script-aware word splitting and text normalisation shared by heuristics, KenLM, the classifier and dedup.

Why our own and not datatrove's word tokenizers: those go through spaCy (the largest single cost of
datatrove's reference pipeline, ~13 ms per page) and need extra segmenter packages, or downloads, for Lao,
Khmer and Burmese. Our heuristics only need word-like units, so a Unicode-property regex serves every
script that writes spaces, and scripts that do not (Thai, Lao, Khmer, Burmese, Chinese, Japanese) are
measured in grapheme clusters with a per-script average word length for the word counts.
"""

from __future__ import annotations

import unicodedata
from itertools import islice

import regex

# Scripts written without spaces between words.
UNSPACED_SCRIPTS = frozenset({"Thai", "Laoo", "Khmr", "Mymr", "Hani", "Hans", "Hant", "Jpan", "Hira", "Kana", "Bali", "Java", "Tale", "Talu", "Lana"})
# Average grapheme clusters per word, used to turn grapheme counts into comparable word counts.
GRAPHEMES_PER_WORD = {"Hani": 1.6, "Hans": 1.6, "Hant": 1.6, "Jpan": 2.0, "Hira": 2.0, "Kana": 2.0}
DEFAULT_GRAPHEMES_PER_WORD = 3.5  # Thai, Lao, Khmer, Burmese: syllabic scripts, ~3-4 clusters per word
# Scripts with letter case: only these are case-folded (folding is meaningless elsewhere). Georgian has had
# case since Unicode 11 (Mtavruli capitals in headlines fold to Mkhedruli).
CASED_SCRIPTS = frozenset({"Latn", "Cyrl", "Grek", "Armn", "Copt", "Glag", "Adlm", "Cher", "Osge", "Dsrt", "Geor"})

# ZWNJ/ZWJ join parts of one word in Persian, Sorani and Indic scripts (می‌خواهم, ක්‍රීඩා).
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}\u200c\u200d]+(?:['’\-][\p{L}\p{M}\p{N}\u200c\u200d]+)*")
_TIBETAN_SEPARATORS = regex.compile(r"[\s\u0F0B\u0F0D-\u0F12]+")
_GRAPHEME = regex.compile(r"\X")
# Code points that can make a grapheme cluster of more than one code point: marks and other extenders, spacing
# marks, prepended letters, ZWJ, Hangul conjoining jamo (a precomposed syllable joins only a following trailing
# jamo, T), regional indicators (flag pairs), CR (of CR LF; a lone LF is a cluster of its own). Text without them
# has one cluster per code point.
CLUSTER_JOINERS = regex.compile(r"[\p{M}\p{GCB=Extend}\p{GCB=SpacingMark}\p{GCB=Prepend}\p{GCB=ZWJ}\p{GCB=L}\p{GCB=V}\p{GCB=T}\p{GCB=Regional_Indicator}\r]")
FIRST_JOINER_ABOVE_CR = "\u0300"  # combining grave: no code point between CR and it joins a cluster (tested)
_DIGITS = regex.compile(r"\p{Nd}")
_PUNCT_OR_SYMBOL = regex.compile(r"[\p{P}\p{S}]+")
_NONSPACING_MARKS = regex.compile(r"\p{Mn}+")
# normalise's digits and punctuation steps for ASCII text: each character on its own, as the spaces collapse after
_ASCII_NORMALISATION = str.maketrans({c: "0" if _DIGITS.match(c) else " " for c in map(chr, range(128)) if _DIGITS.match(c) or _PUNCT_OR_SYMBOL.match(c)})


def may_join_clusters(text: str) -> bool:
    """Whether ``text`` has a code point in ``CLUSTER_JOINERS``, i.e. may have a cluster of several code points.
    Below U+0300 only CR is one, so text under it is settled by ``isascii``/``max``, C scans a tenth of the
    property regex's cost (0.06 against 0.48 CPU s on the 128-label bench's 31,722 KenLM lines)."""
    if "\r" not in text and (text.isascii() or max(text) < FIRST_JOINER_ABOVE_CR):
        return False
    return CLUSTER_JOINERS.search(text) is not None


def graphemes(text: str) -> list[str]:
    """Extended grapheme clusters (``\\X``): a Devanagari vowel sign or a Yoruba tone mark stays on its letter.
    Without a code point that can join a cluster (most Latin, Cyrillic, Han text) the code points themselves, which
    is the same list for a fraction of the regex's cost (checked on 174,698 bench lines in ~230 languages)."""
    if may_join_clusters(text):
        return _GRAPHEME.findall(text)
    return list(text)


def is_unspaced(script: str) -> bool:
    return script in UNSPACED_SCRIPTS


def words(text: str, script: str) -> list[str]:
    """Word-like units: words where the script separates them, letter grapheme clusters where it does not."""
    if script == "Tibt":
        return [w for w in _TIBETAN_SEPARATORS.split(text) if w and any(ch.isalpha() for ch in w)]
    if is_unspaced(script):
        return list(_letter_clusters(graphemes(text)))
    return _WORD.findall(text)


def _letter_clusters(clusters):
    """The units of a script without spaces: its grapheme clusters that are letters."""
    return (g for g in clusters if g[0].isalpha())


def first_words(text: str, script: str, n: int) -> list[str]:
    """``words(text, script)[:n]``, found without splitting the rest of the text (a line's opening words)."""
    if script == "Tibt":
        return words(text, script)[:n]
    if is_unspaced(script):
        return list(islice(_letter_clusters(m.group() for m in _GRAPHEME.finditer(text)), n))
    return [m.group() for m in islice(_WORD.finditer(text), n)]


def word_count(text: str, script: str) -> int:
    """Number of words, estimated from grapheme clusters for unspaced scripts."""
    return count_of_words(words(text, script), script)


def count_of_words(units: list[str], script: str) -> int:
    """:func:`word_count` of a text whose :func:`words` are ``units``."""
    if is_unspaced(script):
        return round(len(units) / GRAPHEMES_PER_WORD.get(script, DEFAULT_GRAPHEMES_PER_WORD))
    return len(units)


def normalise(text: str, script: str) -> str:
    """NFKC, case-fold where the script has case, digits to 0, punctuation to spaces, spaces collapsed."""
    if text.isascii():  # the same steps in one table: NFKC leaves ASCII alone, casefold is lower (tested)
        text = text.translate(_ASCII_NORMALISATION)
        return " ".join((text.lower() if script in CASED_SCRIPTS else text).split())
    return " ".join(normalise_characters(text, script).split())


def normalise_characters(text: str, script: str) -> str:
    """:func:`normalise` without collapsing spaces: line breaks stay where they are. Every step maps characters
    or runs of punctuation, none of which contain a line break, so normalising a text and then each of its lines
    gives what normalising each line does."""
    text = unicodedata.normalize("NFKC", text)
    if script in CASED_SCRIPTS:
        text = text.casefold()
    text = _DIGITS.sub("0", text)
    return _PUNCT_OR_SYMBOL.sub(" ", text)


# Scripts whose combining marks are cosmetic for deciding that two pages are the same text: accents and tone
# marks in Latin, Cyrillic and Greek, harakat in Arabic, niqqud in Hebrew are often dropped by copies.
# Not Indic, Southeast Asian or Ethiopic scripts, where combining marks are the vowels themselves.
COSMETIC_MARK_SCRIPTS = frozenset({"Latn", "Cyrl", "Grek", "Arab", "Hebr"})


def fold_cosmetic_marks(text: str, script: str) -> str:
    """Remove combining marks where they are cosmetic (see ``COSMETIC_MARK_SCRIPTS``); for dedup only."""
    if script not in COSMETIC_MARK_SCRIPTS or text.isascii():  # ASCII has no marks, and NFD/NFC leave it as is
        return text
    return unicodedata.normalize("NFC", _NONSPACING_MARKS.sub("", unicodedata.normalize("NFD", text)))


LM_UNITS = ("grapheme", "word")


def lm_token_form(script: str, unit: str = "grapheme") -> tuple:
    """What :func:`lm_tokens` depends on besides the text: whether the script is case-folded and how it is split.
    Scripts of one form give the same tokens (a cache key: a bootstrap task tokenizes its wrong-language negatives
    for each of its languages, most of them cased or uncased alike)."""
    if unit == "grapheme" or is_unspaced(script):
        return (script in CASED_SCRIPTS, "grapheme")
    return (script in CASED_SCRIPTS, unit, script == "Tibt")


def lm_tokens(text: str, script: str, unit: str = "grapheme") -> list[str]:
    """Tokens for n-gram models: grapheme clusters with ``▁`` for spaces, or words.

    Grapheme units are the default: with the few thousand sentences a low-resource language has, a word
    model is dominated by out-of-vocabulary words (whose probability KenLM's discount fallback inflates),
    while a character model has no OOV and still tells garbled, scrambled or wrong-language text from prose.
    Scripts without spaces always use graphemes.
    """
    text = normalise(text, script)
    if unit == "grapheme" or is_unspaced(script):
        if not may_join_clusters(text):  # every cluster one code point: the same tokens, without a list of clusters
            return list(text.replace(" ", "▁"))
        return ["▁" if g == " " else g for g in _GRAPHEME.findall(text)]
    if unit != "word":
        raise ValueError(f"unit must be one of {LM_UNITS}, got {unit!r}")
    if script == "Tibt":
        return [w for w in _TIBETAN_SEPARATORS.split(text) if w]
    return text.split()

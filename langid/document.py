"""Document-level language from paragraph-level identification.

A page whose content is Yorùbá but whose menus, cookie notes or a quoted paragraph are English must come
out Yorùbá, with the English share recorded. We identify chunks of consecutive paragraphs (short lines
are merged because every backend is unreliable on a few words), weight each chunk by its letters, and
take the language with the largest weight.
"""

from __future__ import annotations

import regex

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Sequence

from longtail.langid.backends import LidBackend
from longtail.langid.labels import NO_LINGUISTIC_CONTENT, NON_LANGUAGE, UNDETERMINED, UNKNOWN_SCRIPT, lang_script
from longtail.langid.scripts import ScriptProfile, script_profile

# Chunks shorter than this are merged with their neighbours before identification.
MIN_CHUNK_CHARS = 120
DISAGREED = "disagreed"
# Another language counts as "present" in a document above this share of its letters.
OTHER_LANGUAGE_SHARE = 0.1


@dataclass(frozen=True)
class DocumentLanguage:
    lang: str
    script: str
    score: float  # mean score of the main language's chunks, weighted by their letters
    share: float  # share of the document's letters in the main language
    script_share: float
    mixed_script: bool
    other_langs: list[str] = field(default_factory=list)
    # How an ensemble reached ``lang`` (langid/ensemble.py): agreed | single | disagreed; "single" for one backend.
    agreement: str = "single"
    votes: tuple[str, ...] = ()  # "backend:lang" per member
    # letter-weighted mean fit of the main language's chunks (Prediction.fit; lower = better), None if unknown
    fit: float | None = None

    @property
    def assigned(self) -> str:
        """The language a corpus may use: ``und`` when the backends disagreed."""
        return UNDETERMINED if self.agreement == DISAGREED else self.lang

    @property
    def label(self) -> str:
        return lang_script(self.lang, self.script)


def split_chunks(text: str, min_chars: int = MIN_CHUNK_CHARS) -> list[str]:
    """Group consecutive non-empty lines into chunks of at least ``min_chars`` characters."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        current.append(line)
        size += len(line)
        if size >= min_chars:
            chunks.append(" ".join(current))
            current, size = [], 0
    if current:
        if chunks and size < min_chars // 2:
            chunks[-1] = chunks[-1] + " " + " ".join(current)
        else:
            chunks.append(" ".join(current))
    return chunks


_LETTER_RUNS = regex.compile(r"[\p{L}\p{M}]+")


def _letters(text: str) -> int:
    """Letters including combining marks (Indic vowel signs are marks, and ``str.isalpha`` skips them);
    counted as what a substitution of letter runs removes, which stays in C."""
    return len(text) - len(_LETTER_RUNS.sub("", text))


class ChunkedTexts:
    """A batch's chunks, their letter counts and a memo of script profiles: computed once and shared by every
    member of an ensemble, which all see the same chunks (the profile of a main language's chunks is usually
    the same text for both members)."""

    def __init__(self, texts: Sequence[str]):
        self.chunked = [split_chunks(t) for t in texts]
        self.flat = [c for chunks in self.chunked for c in chunks]
        self.letters = [_letters(c) for c in self.flat]
        self.profiles: dict[str, ScriptProfile] = {}

    def script_profile(self, text: str) -> ScriptProfile:
        profile = self.profiles.get(text)
        if profile is None:
            profile = self.profiles[text] = script_profile(text)
        return profile


def identify_documents(texts: Sequence[str], backend: LidBackend, chunks: ChunkedTexts | None = None) -> list[DocumentLanguage]:
    """Identify every document of a batch with one backend call over all their chunks. ``chunks``: the
    batch's :class:`ChunkedTexts`, when another backend has split the same texts already."""
    chunks = chunks or ChunkedTexts(texts)
    predictions = iter(backend.predict(chunks.flat)) if chunks.flat else iter(())
    letter_counts = iter(chunks.letters)
    results = []
    for document_chunks in chunks.chunked:
        weights: dict[str, float] = defaultdict(float)
        weighted_scores: dict[str, float] = defaultdict(float)
        fits: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        texts_by_lang: dict[str, list[str]] = defaultdict(list)
        for chunk in document_chunks:
            pred = next(predictions)
            letters = next(letter_counts)
            if pred.lang == NO_LINGUISTIC_CONTENT and letters:
                # zxx means "no linguistic content": text with letters that no model knows (Chakma, Tai Tham,
                # Vai, Yi ...) is a language nobody could name, i.e. und (und_Cakm), never zxx_Cakm.
                pred = replace(pred, lang=UNDETERMINED, score=0.0)
            weight = max(letters, 1)
            weights[pred.lang] += weight
            weighted_scores[pred.lang] += weight * pred.score
            if pred.fit is not None:
                fits[pred.lang][0] += weight * pred.fit
                fits[pred.lang][1] += weight
            texts_by_lang[pred.lang].append(chunk)
        results.append(_summarise(weights, weighted_scores, texts_by_lang, fits, chunks.script_profile))
    return results


def _summarise(weights, weighted_scores, texts_by_lang, fits=None, profile_of=script_profile) -> DocumentLanguage:
    total = sum(weights.values())
    if not total:  # no text at all
        return DocumentLanguage(NO_LINGUISTIC_CONTENT, UNKNOWN_SCRIPT, 1.0, 0.0, 0.0, False, [])
    main = max(weights, key=lambda lang: (weights[lang], lang not in NON_LANGUAGE))
    profile = profile_of(" ".join(texts_by_lang[main]))
    others = sorted(
        (lang for lang, w in weights.items() if lang != main and lang not in NON_LANGUAGE and w / total >= OTHER_LANGUAGE_SHARE),
        key=lambda lang: -weights[lang],
    )
    return DocumentLanguage(
        lang=main,
        script=profile.script,
        score=weighted_scores[main] / weights[main],
        share=weights[main] / total,
        script_share=profile.share,
        mixed_script=profile.mixed,
        other_langs=others,
        fit=(fits[main][0] / fits[main][1]) if fits and main in fits and fits[main][1] else None,
    )

"""Selection filters over annotations: one small class per rule, each returning ``True`` or ``(False, reason)``.

Filters read only the columns the annotate pass stored, never the raw crawl, so changing a threshold
re-runs selection in seconds. Thresholds are per language (:class:`Thresholds`), resolved from the manifest.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import Union

from longtail.langid.labels import NON_LANGUAGE
from longtail import reasons
from longtail.reasons import DOCUMENT_REASONS, QUALITY_TEMPLATED

Verdict = Union[bool, tuple[bool, str]]


@dataclass(frozen=True)
class Thresholds:
    """Per-language selection thresholds. ``None`` disables a rule.

    Defaults are script-neutral: they are shares of characters, not English word lists, and were chosen
    to be loose enough not to delete a small language's ordinary prose.
    """

    min_lang_score: float = 0.3
    min_words: int = 50
    # ... or letters_per_word x min_words letters (250 at the defaults): agglutinative languages (Malayalam, Tamil,
    # Finnish, Inuktitut) say in 35 long words what English says in 70, so a word count alone calls their
    # paragraphs too short. Tied to min_words so that raising min_words raises both. None: words only.
    letters_per_word: float | None = 5.0
    min_letter_ratio: float = 0.55
    max_dup_line_frac: float = 0.3
    max_top_2gram_frac: float = 0.2
    # Repetition that is structure vs spam (docs/quality.md, "Repetition and mojibake rules"): recurring phrases of
    # legal text, repeated headlines and lyrics choruses are allowed up to ``max_dup_5gram_frac_any``;
    # ``max_dup_5gram_frac`` applies only to a text of at most ``dup_5gram_max_lines`` lines (one block of text
    # whose 5-grams recur: the repetition is all there is). ``dup_5gram_max_lines: null`` applies it to every text.
    max_dup_5gram_frac: float = 0.15
    dup_5gram_max_lines: float | None = 2
    max_dup_5gram_frac_any: float | None = 0.5
    # zlib-compressed size / UTF-8 size below this: a few words or phrases repeated (keyword stuffing), any script.
    min_compress_ratio: float | None = 0.17
    # share of characters in UTF-8-read-as-cp1252/latin-1 sequences (double-encoded text), any script
    max_mojibake_frac: float | None = 0.05
    # repeated long words spelt with their inner letters reordered (letters scrambled inside words), spaced scripts
    max_scrambled_frac: float | None = 0.08
    # ... or distinct letter pairs inside words at least this share of those of the words reshuffled (signals.py)
    max_letter_order_ratio: float | None = 0.98
    # word order no further from the text's own shuffle than this (word salad), when the test can tell (signals.py)
    min_word_order_z: float | None = 1.5
    # ... or this share of the test's power (the z a perfect arrangement of the text would reach), if lower: a short
    # text in a script without case can show little more order than the threshold, and would have to be perfect
    min_word_order_power_share: float | None = 0.8
    # share of words in lines of 6+ words: below it the page is navigation/tags/link lists (signals.prose_frac)
    min_prose_frac: float | None = 0.2
    # "auto": ``perplexity_margin`` times the ``perplexity_basis_percentile`` of the perplexities of the
    # language's held-out documents (bootstrapped cards; else its held-out lines). A low percentile of unseen text is stable even with
    # the few hundred sentences a small language has (extreme ones are not), and it stays on the good text when a
    # bootstrapped model's training pool holds junk that passed the heuristics: on the real bench a third of the
    # Thai candidates were word salad and scrambled pages, which lifted the held-out median (46) to twice the
    # good pages' perplexity (16-23), and 2 x the median kept them all (docs/quality.md).
    max_perplexity: float | str | None = "auto"
    perplexity_basis_percentile: int = 10
    perplexity_margin: float = 2.5
    # ... and at least p25 + this x (p25 - p10) of the same held-out perplexities (None: no such floor). Good text
    # that spreads widely at the bottom (Chinese: a grapheme 5-gram model of 10^5 characters over thousands of
    # characters; p10 95, p25 187, real pages 79-441) put 2.5 x p10 below the median and dropped half of the real
    # Chinese pages; the lower quarter stays on the good text when junk is in the pool, so a narrow one (Thai,
    # English: p25 < 1.375 x p10) keeps 2.5 x p10 as before (docs/quality.md)
    perplexity_spread_factor: float | None = 3.0
    min_quality_score: float | None = 0.3  # P(good) of the quality classifier; a coarse filter unless it is trained on much data
    # Head/middle/tail cut-offs: percentiles of the language's own document perplexities (filters/perplexity_buckets.py).
    perplexity_bucket_percentiles: tuple = (30.0, 60.0)
    keep_perplexity_buckets: tuple = ("head", "middle", "tail")
    # Scripture-like/templated text (filters/templated.py): flagged at ``templated_threshold``; at most
    # ``max_templated_share`` of a language's selected documents may be flagged (None: no cap).
    templated_threshold: float = 0.5
    max_templated_share: float | None = None

    @classmethod
    def field_names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    def updated(self, overrides: dict) -> "Thresholds":
        return replace(self, **overrides)


def _number(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _heldout_percentile(card: dict | None, percentile: int) -> float | None:
    """A held-out perplexity percentile of the card: of the held-out *documents* when the card has them
    (bootstrapped models since 2026-12-05), else of the lines."""
    key = f"p{percentile}"
    documents = _number((card or {}).get("heldout_document_perplexity", {}).get(key))
    return documents if documents is not None else _number((card or {}).get("heldout_perplexity", {}).get(key))


def perplexity_basis(card: dict | None, thresholds: Thresholds) -> float | None:
    """The held-out percentile that ``max_perplexity: auto`` multiplies (None: no card or no held-out lines)."""
    return _heldout_percentile(card, thresholds.perplexity_basis_percentile)


def _spread_ceiling(card: dict | None, thresholds: Thresholds) -> float | None:
    """p25 + ``perplexity_spread_factor`` x (p25 - p10) of the held-out perplexities (None: not set or unknown)."""
    if thresholds.perplexity_spread_factor is None:
        return None
    low, quarter = _heldout_percentile(card, 10), _heldout_percentile(card, 25)
    if low is None or quarter is None:
        return None
    return quarter + thresholds.perplexity_spread_factor * (quarter - low)


LEGACY_MEDIAN_MARGIN = 2.0  # the `auto` rule for cards written before they stored low percentiles: 2 x the median


def resolve_max_perplexity(thresholds: Thresholds, card: dict | None) -> float | None:
    """Turn ``max_perplexity: auto`` into a number using the model card; ``None`` if no model exists."""
    value = thresholds.max_perplexity
    if value is None:
        return None
    if value == "auto":
        if not card:
            return None
        basis = perplexity_basis(card, thresholds)
        if basis is not None:
            return max(basis * thresholds.perplexity_margin, _spread_ceiling(card, thresholds) or 0.0)
        median = _number(card.get("heldout_perplexity", {}).get("p50"))
        return None if median is None else median * LEGACY_MEDIAN_MARGIN
    return float(value)


class Filter:
    """Base: ``reason`` is the drop reason (a constant of longtail/reasons.py); subclasses implement ``check``."""

    reason: str  # set by each subclass

    def __call__(self, doc: dict, limits: Thresholds) -> Verdict:
        return True if self.check(doc, limits) else (False, self.reason)

    def check(self, doc: dict, limits: Thresholds) -> bool:  # pragma: no cover - interface
        raise NotImplementedError


class UrlFilter(Filter):
    """The URL rules' verdict stored by the annotate pass (``url_flag``: ``url:blocklist``, ``url:banned_word``,
    ``url:banned_subword``; filters/urls.py). A missing or null flag keeps."""

    reason = reasons.URL_BLOCKLIST

    def __call__(self, doc: dict, limits: Thresholds) -> Verdict:
        flag = doc.get("url_flag")
        return (False, flag) if flag else True


class EmptyTextFilter(Filter):
    reason = reasons.EXTRACT_EMPTY

    def check(self, doc, limits):
        return bool(doc.get("text") and doc["text"].strip())


class LanguageFilter(Filter):
    reason = reasons.LID_UNDETERMINED

    def check(self, doc, limits):
        if doc.get("lang") in NON_LANGUAGE:
            return False
        return limits.min_lang_score is None or (doc.get("lang_score") or 0.0) >= limits.min_lang_score


class DisagreementFilter(Filter):
    """The LID ensemble's backends named different languages (``lid_agreement == "disagreed"``)."""

    reason = reasons.LID_DISAGREEMENT

    def check(self, doc, limits):
        return doc.get("lid_agreement") != "disagreed"


class TooShortFilter(Filter):
    reason = reasons.QUALITY_TOO_SHORT

    def check(self, doc, limits):
        if (doc.get("n_words") or 0) >= limits.min_words:
            return True
        letters = doc.get("n_letters")
        per_word = limits.letters_per_word
        return per_word is not None and letters is not None and letters >= per_word * limits.min_words


class SymbolFilter(Filter):
    reason = reasons.QUALITY_SYMBOLS

    def check(self, doc, limits):
        return (doc.get("letter_ratio") or 0.0) >= limits.min_letter_ratio


class MojibakeFilter(Filter):
    """Double-encoded text (UTF-8 bytes read as cp1252/latin-1). A missing ``mojibake_frac`` column keeps."""

    reason = reasons.QUALITY_MOJIBAKE

    def check(self, doc, limits):
        value = doc.get("mojibake_frac")
        return limits.max_mojibake_frac is None or value is None or value <= limits.max_mojibake_frac


class ScrambledFilter(Filter):
    """Letters shuffled inside words: the text's own repeated words recur spelt differently, or its words hold as many
    distinct letter pairs as when reshuffled. Missing columns keep."""

    reason = reasons.QUALITY_SCRAMBLED

    def check(self, doc, limits):
        value, ratio = doc.get("scrambled_frac"), doc.get("letter_order_ratio")
        return not (
            (limits.max_scrambled_frac is not None and value is not None and value > limits.max_scrambled_frac)
            or (limits.max_letter_order_ratio is not None and ratio is not None and ratio > limits.max_letter_order_ratio)
        )


class WordOrderFilter(Filter):
    """Word salad: the text's word order carries no more evidence than its own words shuffled. The required z is
    ``min_word_order_z``, or ``min_word_order_power_share`` x the test's power if that is lower. Keeps when the
    test had no power (``word_order_z`` None) or the column is missing (older annotations; without
    ``word_order_power`` the threshold alone applies)."""

    reason = reasons.QUALITY_WORD_ORDER

    def check(self, doc, limits):
        value = doc.get("word_order_z")
        if limits.min_word_order_z is None or value is None:
            return True
        required = limits.min_word_order_z
        power = doc.get("word_order_power")
        if limits.min_word_order_power_share is not None and power is not None:
            required = min(required, limits.min_word_order_power_share * power)
        return value >= required


class ProseFilter(Filter):
    """A page of short lines only (navigation, menus, tag clouds, footer links). Missing column keeps."""

    reason = reasons.QUALITY_NO_PROSE

    def check(self, doc, limits):
        value = doc.get("prose_frac")
        return limits.min_prose_frac is None or value is None or value >= limits.min_prose_frac


class RepetitionFilter(Filter):
    """Repeated lines, one dominant 2-gram, repeated 5-grams (see :class:`Thresholds`), or a text so compressible
    that it can only be a few words repeated. Annotations without ``n_lines``/``compress_ratio`` (older runs, or a
    caller reading fewer columns) get the old rule: ``max_dup_5gram_frac`` for every text, no compression rule."""

    reason = reasons.QUALITY_REPETITION

    def check(self, doc, limits):
        dup5 = doc["dup_5gram_frac"]
        n_lines, ratio = doc.get("n_lines"), doc.get("compress_ratio")
        one_block = limits.dup_5gram_max_lines is None or n_lines is None or n_lines <= limits.dup_5gram_max_lines
        return not (
            (limits.max_dup_line_frac is not None and doc["dup_line_frac"] > limits.max_dup_line_frac)
            or (limits.max_top_2gram_frac is not None and doc["top_2gram_frac"] > limits.max_top_2gram_frac)
            or (limits.max_dup_5gram_frac is not None and one_block and dup5 > limits.max_dup_5gram_frac)
            or (limits.max_dup_5gram_frac_any is not None and dup5 > limits.max_dup_5gram_frac_any)
            or (limits.min_compress_ratio is not None and ratio is not None and ratio < limits.min_compress_ratio)
        )


class PerplexityFilter(Filter):
    """Needs ``doc["max_perplexity"]``, resolved per language by the selector (``None`` = no model: keep)."""

    reason = reasons.QUALITY_PERPLEXITY

    def check(self, doc, limits):
        ceiling, perplexity = doc.get("max_perplexity"), doc.get("perplexity")
        return ceiling is None or perplexity is None or perplexity <= ceiling


class PerplexityBucketFilter(Filter):
    """Keeps the configured buckets; needs ``doc["perplexity_bucket"]`` (``None`` = no perplexity: keep)."""

    reason = reasons.QUALITY_PERPLEXITY_BUCKET

    def check(self, doc, limits):
        bucket = doc.get("perplexity_bucket")
        return bucket is None or bucket in limits.keep_perplexity_buckets


class ClassifierFilter(Filter):
    reason = reasons.QUALITY_CLASSIFIER

    def check(self, doc, limits):
        score = doc.get("quality_score")
        return limits.min_quality_score is None or score is None or score >= limits.min_quality_score


# Order matters: the first failing filter names the document's drop reason.
DEFAULT_FILTERS: tuple[Filter, ...] = (
    UrlFilter(),
    EmptyTextFilter(),
    DisagreementFilter(),
    LanguageFilter(),
    TooShortFilter(),
    MojibakeFilter(),
    ScrambledFilter(),
    WordOrderFilter(),
    ProseFilter(),
    SymbolFilter(),
    RepetitionFilter(),
    PerplexityFilter(),
    PerplexityBucketFilter(),
    ClassifierFilter(),
)
TEMPLATED_CAP_REASON = QUALITY_TEMPLATED  # applied per language after the filters (a share cap, not a per-document rule)
REASONS = DOCUMENT_REASONS  # every drop reason (longtail/reasons.py); each filter's reason is one of them (tests/test_filters.py)


def first_failure(doc: dict, limits: Thresholds, filters=DEFAULT_FILTERS) -> str | None:
    """The reason of the first filter that rejects ``doc``, or ``None`` if every filter keeps it."""
    for flt in filters:
        verdict = flt(doc, limits)
        if verdict is not True:
            return verdict[1]
    return None

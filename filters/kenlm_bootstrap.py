"""Bootstrapped KenLM models: for a language without a reference corpus, train on the run's own documents.

Used by ``longtail run`` (``stages.quality.kenlm_bootstrap``) and ``longtail bootstrap-kenlm``. Method
(also in docs/quality.md):

1. Candidates: the language's documents that pass strict LID (``strict_lid``, lowered to the language's
   median LID score when that is lower; see filters/calibration.py), the heuristic rules (length, letters,
   repetition), are not templated and, when the run has a quality classifier, score at least
   ``min_quality_score`` with it (also lowered to the language's median when that is lower). At most
   ``max_training_documents`` candidates are used (smallest id hashes), which bounds lmplz's time.
2. Training text is the candidates' lines (paragraphs), each distinct line once: boilerplate repeated on
   every page of a site must not dominate a small model. Lines, not documents, are the unit because a
   low-resource language may have only a handful of documents in a crawl, and an n-gram model learns
   from lines anyway.
3. A deterministic share of the lines (by hash) is held out. Negatives for measuring separation: the
   language's documents that failed those checks, documents of other languages (wrong-language text),
   and grapheme-shuffled copies of the held-out lines (garbled text in the right alphabet).
4. Iteration 0 trains on the remaining lines; when its held-out ROC-AUC (held-out lines vs negatives, by
   perplexity) is below ``retrain_below_auc``, iteration 1 scores them with that model, keeps the head
   (perplexity at or below ``head_percentile``) and retrains. The iteration with the higher held-out
   ROC-AUC is kept; ties keep iteration 0 (more data).
5. The final model is trained on the kept iteration's lines plus the held-out lines (for iteration 1, those
   in the head of the held-out lines' own perplexities); its card's held-out perplexity, which ``max_perplexity: auto`` scales, is measured by k-fold
   so that every line is scored by a model that did not see it. The card is always written; the final model's
   own binary only with ``final_model`` (for reuse in other runs: a run scores with the fold models alone).
6. The folds are folds of documents (``fold_of(id)``), and their models are kept under ``folds/``: the run
   scores each document with the model of its fold, which never saw it (cross-fitting, like the classifier).
A language below ``min_training_lines`` / ``min_training_characters`` raises :class:`NotEnoughText`; the
caller records it (the run falls back to a given model, or to no perplexity filter for that language).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import NamedTuple

from longtail.fileio import atomic_path, atomic_write_text

from longtail.filters.calibration import strict_lid_threshold
from longtail.filters.kenlm_model import KenLMScorer, card_percentiles, model_paths, train_kenlm
from longtail.filters.perplexity_buckets import percentile
from longtail.filters.quality import EmptyTextFilter, LanguageFilter, RepetitionFilter, SymbolFilter, Thresholds, TooShortFilter, first_failure
from longtail.filters.quality_eval import roc_auc
from longtail.filters.shuffle import shuffle_with
from longtail.filters.templated import templated_scores
from longtail.filters.words import graphemes, may_join_clusters, normalise

STRICT_FILTERS = (EmptyTextFilter(), LanguageFilter(), TooShortFilter(), SymbolFilter(), RepetitionFilter())
# annotation columns the candidate split reads
COLUMNS = ["id", "url", "text", "lang", "script", "lang_script", "lang_score", "n_words", "letter_ratio",
           "dup_line_frac", "top_2gram_frac", "dup_5gram_frac", "extract_error", "quality_score",
           "text_hash", "minhash", "n_chars", "crawl_date"]  # the last four: near-duplicate groups (pipeline/bootstrap.py)
LANGUAGE_CHOICES = ("missing", "all")
FOLDS = "folds"  # <models>/folds/fold<k>/<label>.binary: the cross-fitting models (see bootstrap_language)
FOLD_OVERRIDES_SUFFIX = ".fold_overrides.json"  # <models>/folds/<label>...: {id: fold} where a near-duplicate cluster moved it
# <models>/folds/<label>...: the candidates' perplexities under their fold models (id, text_hash, perplexity), which
# the run's re-scoring takes instead of scoring those documents again (pipeline/bootstrap.py::rescore_file)
DOCUMENT_PERPLEXITIES_SUFFIX = ".documents.json"  # JSON, like the overrides: filters/ writes no Arrow tables
TMP_PREFIX = ".bootstrap-tmp-"  # working folders inside the models folder; a killed task may leave one behind


class NotEnoughText(ValueError):
    """Too little candidate text in the language to train a model worth using; ``counts`` says how much."""

    def __init__(self, message: str, counts: dict | None = None):
        super().__init__(message)
        self.counts = counts or {}


@dataclass(frozen=True)
class BootstrapSettings:
    """How the run's own documents become a KenLM model.

    Parameters
    ----------
    languages : {"missing", "all"}
        ``missing``: only languages without a model in ``kenlm_models``; ``all``: every language with
        enough text (given models remain the fallback for the rest).
    strict_lid : float
        LID score a training document needs (lowered to the language's median when that is lower).
    head_percentile : float
        Iteration 1 keeps the training lines at or below this perplexity percentile.
    retrain_below_auc : float or None
        Iteration 1 is tried only when iteration 0's held-out AUC is below this (None: always).
    min_training_lines, min_training_characters : int
        Below either, the language is not bootstrapped (:class:`NotEnoughText`).
    """

    languages: str = "missing"
    strict_lid: float = 0.9
    # with a quality classifier in the run: fluent in-language spam passes LID and the heuristics, and a model
    # trained on it scores spam as typical. The selection default (0.3): a classifier trained on few examples
    # per language is a coarse filter. None ignores the classifier.
    min_quality_score: float | None = 0.3
    head_percentile: float = 70.0
    # Above this there is little left to gain: on 16,085 real bench records, of 88 languages iteration 1 won 15 whose
    # iteration 0 was >= 0.95, each by at most 0.002 (noise), and trying it cost one lmplz build and two scorings of the
    # training and negative lines per language (a seventh of the KenLM bootstrap); below it, Chinese gained 0.928 -> 0.947
    retrain_below_auc: float | None = 0.95
    heldout_share: float = 0.2
    max_other_language_negatives: int = 200
    # Below these the language gets no bootstrapped model and no perplexity filter (issue 12): a model of a few
    # pages is a letter-frequency model whose held-out median, the `auto` ceiling's basis, rests on a handful of
    # lines (zho_Hani on the bench: bimodal held-out perplexity, real Chinese text 40x over its ceiling).
    min_training_lines: int = 40
    min_training_characters: int = 20_000
    # a model that separates its held-out lines from the negatives (garbled, wrong-language, rejected text) worse
    # than this does not judge the language (status too_weak; pipeline/bootstrap.py::_status). None: no minimum
    min_heldout_auc: float | None = 0.85
    max_training_documents: int = 20_000  # ~10^5-10^6 lines: plenty for a 5-gram model, bounded lmplz time and memory
    heldout_folds: int = 4  # folds for the final model's held-out perplexity (the ``auto`` ceiling's basis)
    # The model of all the language's lines, for reuse in other runs (``kenlm_models``). A run scores every
    # document with its fold's model and takes the card's held-out perplexity from the folds, so it needs only those:
    # the final model was the largest of a language's ~6 lmplz builds, a tenth of the KenLM pass on the 128-label
    # bench (docs/performance.md). ``longtail bootstrap-kenlm``, which trains models to reuse, always builds it.
    final_model: bool = False
    order: int = 5
    unit: str = "grapheme"
    # lmplz -S ceiling, per language task: several tasks share a node, so a fixed size rather than a share of its RAM
    # (lmplz's resident memory grows with -S; it spills sorted n-grams to disk beyond it). Grapheme models get 32M
    # under it, which is also the cheapest (kenlm_model.lmplz_memory)
    memory: str = "1G"

    def __post_init__(self):
        if self.languages not in LANGUAGE_CHOICES:
            raise ValueError(f"languages must be one of {', '.join(LANGUAGE_CHOICES)}, got {self.languages!r}")
        if not 0 <= self.strict_lid <= 1:
            raise ValueError(f"strict_lid must be in 0..1, got {self.strict_lid}")
        if not 0 < self.head_percentile <= 100:
            raise ValueError(f"head_percentile must be in (0, 100], got {self.head_percentile}")
        if not 0 < self.heldout_share < 1:
            raise ValueError(f"heldout_share must be in (0, 1), got {self.heldout_share}")
        if self.retrain_below_auc is not None and not 0 <= self.retrain_below_auc <= 1:
            raise ValueError(f"retrain_below_auc must be in 0..1 or null, got {self.retrain_below_auc}")
        if self.min_heldout_auc is not None and not 0 <= self.min_heldout_auc <= 1:
            raise ValueError(f"min_heldout_auc must be in 0..1 or null, got {self.min_heldout_auc}")
        if self.heldout_folds < 2:  # a run scores every document with the model of another fold (cross-fitting)
            raise ValueError(f"heldout_folds must be at least 2, got {self.heldout_folds}")
        if self.unit not in ("grapheme", "word"):
            raise ValueError(f"unit must be grapheme or word, got {self.unit!r}")

    def as_dict(self) -> dict:
        return asdict(self)


def stable_hash(value: str) -> int:
    """Deterministic across processes and runs (unlike ``hash``): for samples and splits that must repeat."""
    return int(hashlib.sha1(value.encode("utf-8")).hexdigest()[:12], 16)


def shuffled_graphemes(text: str, rng: random.Random) -> str:
    """``text`` with each word's grapheme clusters shuffled: a Devanagari vowel sign or a Yoruba tone mark
    stays on its letter, so the result is garbled text in the right alphabet."""
    split = graphemes if may_join_clusters(text) else list  # asked once per line: most lines are one code point a cluster
    getrandbits = rng.getrandbits

    def shuffle(word: str) -> str:
        if len(word) < 2:
            return word  # nothing to shuffle, and a shuffle of one draws nothing
        clusters = split(word)
        shuffle_with(clusters, getrandbits)
        return "".join(clusters)
    return " ".join([shuffle(w) for w in text.split()])


def split_candidates(rows: list[dict], settings: BootstrapSettings, limits: Thresholds | None = None) -> tuple[list[dict], list[dict]]:
    """(candidates, rejected) for one language's annotated rows."""
    strict_lid = strict_lid_threshold([r.get("lang_score") for r in rows], settings.strict_lid)
    limits = (limits or Thresholds()).updated({"min_lang_score": strict_lid})
    # classifier scores, like LID scores, are not comparable across languages (a multilingual classifier
    # trained on few examples of a language scores its clean prose low): lowered to the language's median too
    min_quality = None
    if settings.min_quality_score is not None:
        min_quality = strict_lid_threshold([r.get("quality_score") for r in rows], settings.min_quality_score, floor=0.0)
    texts = [r.get("text") or "" for r in rows]
    templated = templated_scores(texts, [r.get("url") for r in rows], [r.get("script") or "Zyyy" for r in rows])
    candidates, rejected = [], []
    for row, score in zip(rows, templated):
        ok = not row.get("extract_error") and first_failure(row, limits, STRICT_FILTERS) is None and score < limits.templated_threshold
        if ok and min_quality is not None and row.get("quality_score") is not None:
            ok = row["quality_score"] >= min_quality
        (candidates if ok else rejected).append(row)
    return candidates, rejected


def fold_of(doc_id, folds: int) -> int:
    """The cross-fitting fold of a document (the same rule as the bootstrapped classifier's)."""
    return stable_hash(str(doc_id)) % folds


def line_owners(candidates: list[dict], max_documents: int) -> dict[str, str]:
    """Each training line -> the id of the first document (in id order) that has it (see :func:`training_lines`).

    Distinct after the model's own normalisation (case, digits, punctuation): "Posted on 12 March" and
    "Posted on 14 March" are one line to the model, and copies of it on both sides of a held-out split would
    make unseen text look more predictable than it is.
    """
    if len(candidates) > max_documents:
        candidates = sorted(candidates, key=lambda r: stable_hash(str(r["id"])))[:max_documents]
    owners, seen = {}, set()
    for row in sorted(candidates, key=lambda r: str(r["id"])):
        script = row.get("script") or "Zyyy"
        for line in (row.get("text") or "").splitlines():
            line = line.strip()
            key = normalise(line, script)
            if key and key not in seen:
                seen.add(key)
                owners[line] = str(row["id"])
    return owners


def training_lines(candidates: list[dict], max_documents: int) -> list[str]:
    """Lines of (a deterministic sample of) the candidates, in document-id order, one per normalised form."""
    return list(line_owners(candidates, max_documents))


def split_heldout(lines: list[str], share: float) -> tuple[list[str], list[str]]:
    """(train, heldout): the ``share`` of lines with the smallest hashes is held out (at least one)."""
    n_heldout = max(1, math.ceil(share * len(lines)))
    heldout = set(sorted(lines, key=stable_hash)[:n_heldout])
    return [line for line in lines if line not in heldout], [line for line in lines if line in heldout]


def _head(lines: list[str], scorer: KenLMScorer, label: str, head_percentile: float) -> tuple[list[str], float]:
    """The lines at or below the ``head_percentile`` of their own perplexities, and that cut."""
    scored = [(scorer.perplexity(line, label), line) for line in lines]
    values = sorted(p for p, _ in scored if p is not None)
    cut = percentile(values, head_percentile) if values else math.inf
    return [line for p, line in scored if p is not None and p <= cut], cut


def _separation(models_dir: Path, label: str, heldout: list[str], negatives: list[str], token_cache: dict | None = None) -> float | None:
    scorer = KenLMScorer(str(models_dir), token_cache)
    positives = [-p for p in (scorer.perplexity(t, label) for t in heldout) if p is not None]
    negative_scores = [-p for p in (scorer.perplexity(t, label) for t in negatives) if p is not None]
    return roc_auc(positives, negative_scores)


def _enough(lines: list[str], settings: BootstrapSettings) -> bool:
    return len(lines) >= settings.min_training_lines and sum(len(line) for line in lines) >= settings.min_training_characters


class TrainingSplit(NamedTuple):
    """One language's rows as the bootstrap divides them (:func:`training_split`)."""

    candidates: list[dict]
    rejected: list[dict]
    train: list[str]  # training lines
    heldout: list[str]  # held-out lines
    owners: dict[str, str]  # line -> the document it is taken from (line_owners)


def training_split(rows: list[dict], label: str, settings: BootstrapSettings = BootstrapSettings()) -> TrainingSplit:
    """One language's rows divided for training; raises :class:`NotEnoughText` when the language is too small.
    A run checks it before reading anything else, and hands it to :func:`bootstrap_language`."""
    rows = [r for r in rows if r.get("lang_script") in (None, label)]
    candidates, rejected = split_candidates(rows, settings)
    owners = line_owners(candidates, settings.max_training_documents)
    train, heldout = split_heldout(list(owners), settings.heldout_share)
    if not _enough(train, settings):
        raise NotEnoughText(
            f"{label}: {len(candidates)} documents pass strict LID and heuristics, giving {len(train)} training lines / "
            f"{sum(len(line) for line in train)} characters; need {settings.min_training_lines} lines and "
            f"{settings.min_training_characters} characters",
            {"candidates": len(candidates), "training_lines": len(train), "training_characters": sum(len(line) for line in train)})
    return TrainingSplit(candidates, rejected, train, heldout, owners)


def bootstrap_language(rows: list[dict], other_language_texts: list[str], label: str, models_dir: str | Path,
                       settings: BootstrapSettings = BootstrapSettings(), source: str | None = None, groups: dict[str, str] | None = None,
                       split: TrainingSplit | None = None, token_cache: dict | None = None) -> dict:
    """Train ``<models_dir>/<label>.binary`` (+ card) from one language's annotated rows; return the record
    stored under ``bootstrap`` in the card. Raises :class:`NotEnoughText` when the language is too small.
    ``groups``: document id -> its near-duplicate cluster's id (pipeline/bootstrap.py::near_duplicate_groups).
    ``split``: :func:`training_split` of these rows when the caller has it (a tenth of English's bootstrap).
    ``token_cache``: see kenlm_model._lm_lines; a task of several languages shares one, as their wrong-language
    negatives are mostly the same texts."""
    candidates, rejected, train, heldout, owners = split or training_split(rows, label, settings)
    rng = random.Random(label)  # per-language and local: no global seeding
    negatives = [r["text"] for r in rejected if r.get("text")]
    negatives += other_language_texts[: settings.max_other_language_negatives]
    negatives += [shuffled_graphemes(line, rng) for line in heldout]

    iterations = []
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    tokens: dict = {} if token_cache is None else token_cache  # each line is tokenized once for the ~6 times it is trained on or scored
    with tempfile.TemporaryDirectory(dir=models_dir, prefix=TMP_PREFIX) as tmp:
        def fit(name: str, lines: list[str]) -> Path:
            # an iteration's model only ranks lines (its AUC, the head cut): no held-out perplexity, one lmplz run
            folder = Path(tmp) / name
            train_kenlm(lines, label, folder, order=settings.order, unit=settings.unit, memory=settings.memory, heldout_folds=0, token_cache=tokens)
            return folder

        first = fit("iter0", train)
        iterations.append({"iteration": 0, "lines": len(train), "heldout_auc": _separation(first, label, heldout, negatives, tokens)})
        first_auc, second = iterations[0]["heldout_auc"], None
        if settings.retrain_below_auc is not None and first_auc is not None and first_auc >= settings.retrain_below_auc:
            iterations.append({"iteration": 1, "lines": None, "heldout_auc": None,
                               "skipped": f"iteration 0 separates at {first_auc:.3f} >= retrain_below_auc {settings.retrain_below_auc}"})
        else:
            scorer = KenLMScorer(str(first), tokens)
            head, cut = _head(train, scorer, label, settings.head_percentile)
            if _enough(head, settings) and len(head) < len(train):
                second = fit("iter1", head)
                iterations.append({"iteration": 1, "lines": len(head), "heldout_auc": _separation(second, label, heldout, negatives, tokens), "head_perplexity_cut": round(cut, 3)})
            else:
                iterations.append({"iteration": 1, "lines": len(head), "heldout_auc": None, "skipped": "head too small or identical to iteration 0"})
        improved = second is not None and iterations[0]["heldout_auc"] is not None and (iterations[1]["heldout_auc"] or 0) > iterations[0]["heldout_auc"]
        chosen = 1 if improved else 0
        # The held-out lines only measured the iterations; the final model learns from them too, and its card's
        # held-out perplexity comes from k folds (stable with few lines). For iteration 1 they are cut by their
        # own percentile: iteration 0 never saw them, so the training lines' cut would drop nearly all of them.
        kept_heldout = heldout if chosen == 0 else _head(heldout, scorer, label, settings.head_percentile)[0]
        final_lines = (train if chosen == 0 else head) + kept_heldout
        chosen_dir = Path(tmp) / "final"
        # Fold models by document (cross-fitting): the run scores a document of fold k with the model that never
        # saw it. Scored by the final model, a junk page that passed the heuristics and went into training looks
        # typical (Thai scrambled-letter pages on the bench: perplexity 5 against a held-out median of 22).
        # near-duplicates (an archive or print copy of a page) share a fold: a copy in the training text of the
        # model that scores the page makes it look predictable, and drags down the low held-out percentile that
        # `max_perplexity: auto` uses (the sample's Georgian p10: 2.7 against a median of 13, from one edited copy)
        groups = groups or {}
        folds = {str(r["id"]): fold_of(groups.get(str(r["id"]), str(r["id"])), settings.heldout_folds) for r in candidates}
        fold_line_scores: dict[int, dict[str, float]] = {}  # the candidates' lines scored once, for the card and by document
        train_kenlm(final_lines, label, chosen_dir, order=settings.order, unit=settings.unit, memory=settings.memory,
                    heldout_folds=settings.heldout_folds, line_folds=[folds[owners[line]] for line in final_lines],
                    fold_models_dir=chosen_dir / FOLDS, token_cache=tokens, fold_line_scores=fold_line_scores,
                    final=settings.final_model)
        # documents whose fold is their cluster's, not fold_of(id): the scorer must use the same fold
        moved = {doc_id: fold for doc_id, fold in sorted(folds.items()) if fold != fold_of(doc_id, settings.heldout_folds)}
        scored = _heldout_documents(candidates, folds, chosen_dir / FOLDS, label, tokens, fold_line_scores)
        document_perplexities = [value for _, value in scored]
        atomic_write_text(chosen_dir / FOLDS / f"{label}{FOLD_OVERRIDES_SUFFIX}", json.dumps(moved, ensure_ascii=False))
        atomic_write_text(chosen_dir / FOLDS / f"{label}{DOCUMENT_PERPLEXITIES_SUFFIX}",
                          json.dumps({"id": [str(row["id"]) for row, _ in scored], "text_hash": [row.get("text_hash") for row, _ in scored],
                                      "perplexity": document_perplexities}))
        record = {
            "source": source,
            "settings": settings.as_dict(),
            "candidates": len(candidates),
            "rejected": len(rejected),
            "training_lines": len(train),
            "heldout_lines": len(heldout),
            "final_lines": len(final_lines),
            "negatives": len(negatives),
            "iterations": iterations,
            "chosen_iteration": chosen,
            "heldout_auc": iterations[chosen]["heldout_auc"],
            # the card says whether the model may judge the language (pipeline/bootstrap.py::_status applies it)
            "judges": judges(iterations[chosen]["heldout_auc"], settings),
        }
        binary, card = model_paths(models_dir, label)
        src_binary, src_card = model_paths(chosen_dir, label)
        card_data = json.loads(src_card.read_text())
        card_data["bootstrap"] = record
        if document_perplexities:
            card_data["heldout_documents"] = len(document_perplexities)
            card_data["heldout_document_perplexity"] = card_percentiles(document_perplexities)
        for name in (f"{label}{FOLD_OVERRIDES_SUFFIX}", f"{label}{DOCUMENT_PERPLEXITIES_SUFFIX}"):
            with atomic_path(models_dir / FOLDS / name) as tmp_copy:
                shutil.copyfile(chosen_dir / FOLDS / name, tmp_copy)
        for src_fold in sorted((chosen_dir / FOLDS).glob(f"fold*/{label}.binary")):
            fold_binary, fold_card = model_paths(models_dir / FOLDS / src_fold.parent.name, label)
            with atomic_path(fold_binary) as tmp_binary:
                shutil.copyfile(src_fold, tmp_binary)
            with atomic_path(fold_card) as tmp_card:
                shutil.copyfile(src_fold.with_suffix(".json"), tmp_card)
        if src_binary.is_file():  # settings.final_model
            with atomic_path(binary) as tmp_binary:
                shutil.copyfile(src_binary, tmp_binary)
        # the card last: its presence marks a finished model (a rerun skips the language)
        atomic_write_text(card, json.dumps(card_data, indent=2, ensure_ascii=False))
    return record


def _heldout_documents(candidates: list[dict], folds: dict[str, int], fold_models: Path, label: str, tokens: dict,
                       fold_line_scores: dict[int, dict[str, float]] | None = None) -> list[tuple[dict, float]]:
    """(row, perplexity) of each candidate document, under the fold model that never saw it: what the run's
    re-scoring gives the same document (pipeline/bootstrap.py::rescore_file, which takes them from here). ``max_perplexity: auto`` rests on these rather than on
    single lines: a document averages its lines, and in scripts with thousands of characters (Han, Hangul, kana)
    lines spread so widely that 2.5 x their 10th percentile fell below half the real Korean and Chinese documents
    (docs/quality.md)."""
    scorers: dict[int, KenLMScorer] = {}
    values = []
    for row in candidates:
        k = folds[str(row["id"])]
        if not (fold_models / f"fold{k}" / f"{label}.binary").is_file():
            continue  # a fold whose complement was too small has no model (not judged in the run either)
        scorer = scorers.setdefault(k, KenLMScorer(str(fold_models / f"fold{k}"), tokens, (fold_line_scores or {}).get(k)))
        value = scorer.perplexity(row["text"], label) if row.get("text") else None
        if value is not None:
            values.append((row, value))
    return values


def judges(heldout_auc: float | None, settings: BootstrapSettings) -> bool:
    """Whether a model with this held-out separation judges its language (``min_heldout_auc``; None: always)."""
    return settings.min_heldout_auc is None or (heldout_auc is not None and heldout_auc >= settings.min_heldout_auc)


def describe(label: str, record: dict) -> str:
    aucs = ", ".join(f"iter{i['iteration']}={i['heldout_auc']:.3f}" if i["heldout_auc"] is not None else f"iter{i['iteration']}=-" for i in record["iterations"])
    return f"bootstrap {label}: {record['candidates']} documents, {record['training_lines']} lines, held-out AUC {aucs}; kept iteration {record['chosen_iteration']}"

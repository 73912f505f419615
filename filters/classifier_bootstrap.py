"""A quality classifier bootstrapped from a run's own documents (``stages.quality.classifier_bootstrap``).

Pure text logic; the run phase that reads annotations and writes the re-scored side files is
pipeline/bootstrap.py. One multilingual fastText model per run:

1. Positives: documents that pass strict LID and the heuristic rules and are not templated, the same candidate
   rule as the KenLM bootstrap (:func:`longtail.filters.kenlm_bootstrap.split_candidates`) without its
   classifier gate. At most ``max_documents_per_language`` per language (smallest id hashes), so one big
   language does not make the model about itself.
2. Negatives: junk generated from each positive (per language a ``random.Random`` seeded by ``seed`` and the
   label, no global seeding: a language's junk depends on its own positives only, so the run makes it in its
   parallel example tasks):
   ``word_salad`` (the words of each paragraph shuffled; word order is what it breaks), ``scrambled_letters``
   (inner letters of each word shuffled, grapheme clusters kept whole) and ``mojibake`` (UTF-8 read as cp1252,
   for text with enough non-ASCII letters); one kind per positive, picked by its id's hash. Plus the language's
   documents that fail the symbol or repetition rules (not ``too_short``: a short page of clean prose is not bad
   text).
   Repeated sentences are not a kind: a bag of n-grams cannot tell a repeated sentence from the sentence, and
   the repetition rules catch them.
3. Features: fastText over script-aware words (filters/words.py: grapheme clusters where a script writes no
   spaces), with character n-grams (``minn``-``maxn``) and word bigrams (``word_ngrams``).
4. Cross-fitting: every document and the junk made from it belong to fold ``stable_hash(id) % folds``; model k is
   trained on the other folds, and a document of fold k is scored by model k. So no document is scored by a
   model that saw it (or junk made from it) — a word-salad page among the positives is not called good because it
   was trained as good — and the card's held-out AUC comes from the same out-of-fold scores.
Below ``min_positive_documents`` / ``min_positive_characters`` (or without both classes) nothing is trained:
:class:`NotEnoughExamples`, and the run applies no classifier filter.
"""

from __future__ import annotations

import random
import unicodedata
from pathlib import Path
from typing import Iterator
from dataclasses import asdict, dataclass

import regex

from longtail.filters.classifier import train_in_new_process
from longtail.filters.kenlm_bootstrap import fold_of, stable_hash
from longtail.filters.shuffle import shuffle_with
from longtail.filters.words import graphemes, is_unspaced, normalise, words

JUNK_KINDS = ("word_salad", "scrambled_letters", "mojibake")
GOOD, BAD = "good", "bad"
# words that scrambling can change: shorter runs of letters have fewer than 4 grapheme clusters and stay as they are
_SCRAMBLED_WORD = regex.compile(r"[\p{L}\p{M}]{4,}")
# each byte read as cp1252 (latin-1 where cp1252 has no character), as a table for str.translate over latin-1 text
_CP1252 = {}
for _b in range(256):
    try:
        _CP1252[_b] = bytes([_b]).decode("cp1252")
    except UnicodeDecodeError:
        _CP1252[_b] = bytes([_b]).decode("latin-1")


class NotEnoughExamples(ValueError):
    """Too few positive documents in the run to train a classifier worth using; ``counts`` says how many."""

    def __init__(self, message: str, counts: dict | None = None):
        super().__init__(message)
        self.counts = counts or {}


@dataclass(frozen=True)
class ClassifierBootstrapSettings:
    """How a run's own documents become its quality classifier (see the module docstring).

    Selection applies ``selection.defaults.min_quality_score`` to this classifier's score when the manifest sets
    it; otherwise the card's calibrated threshold (``calibration_positive_share``; docs/quality.md).
    """

    strict_lid: float = 0.9
    min_positive_documents: int = 200
    min_positive_characters: int = 200_000
    max_documents_per_language: int = 2_000
    max_heuristic_negatives_per_language: int = 500
    folds: int = 2  # 2 against 4 on the issue-12 bench: the same pages kept and dropped (+-5 of 3,582), out-of-fold AUC no lower, 1/3 of the training (docs/quality.md)
    seed: int = 0
    max_tokens: int = 400  # tokens of a document a training example holds (its beginning)
    # each positive is written this often. 1: the classes' balance does not set the threshold (a quantile of the
    # positives' own scores); 2 (until 2026-12-06) made the bootstrap a quarter slower, with no better selection (docs/quality.md)
    positive_weight: int = 1
    epochs: int = 25
    dim: int = 32
    # character n-grams off by default: on the issue-12 bench they lowered the out-of-fold AUC against word salad
    # (0.57 with 2-4 grams vs 0.69 without) and scrambled letters (0.70 vs 0.74); minn/maxn turn them on
    minn: int = 0
    maxn: int = 0
    word_ngrams: int = 2
    bucket: int = 200_000
    # occurrences a word needs in a fold's training file to get a vector of its own (fastText's minCount). 2 leaves
    # out the junk's one-off words: fold models 176 -> 102 MB on 99,279 records, but on the issue-12 bench it kept
    # 1-3 fewer good pages of 2,549 on each of three seeds (docs/quality.md); for crawls whose models outgrow memory
    min_count: int = 1
    # 0.5 until 2026-12-07: its models leaned on each document's own word pairs and scored a language's common words
    # as junk, so a language of little text scored low as a whole (Spanish's positives ~0 on the scaling bench);
    # with 0.2 and half the share below, the issue-12 bench keeps more good pages and drops more junk on all three
    # seeds (docs/quality.md, "The classifier's learning rate")
    lr: float = 0.2
    # the threshold selection applies when the manifest sets no min_quality_score: the score below which this
    # share of the out-of-fold positives falls (a per-run calibration, written to the card)
    calibration_positive_share: float = 0.005

    def __post_init__(self):
        if self.folds < 2:
            raise ValueError(f"folds must be >= 2, got {self.folds}")
        if not 0 <= self.strict_lid <= 1:
            raise ValueError(f"strict_lid must be in 0..1, got {self.strict_lid}")
        if not 0 <= self.calibration_positive_share < 1:
            raise ValueError(f"calibration_positive_share must be in [0, 1), got {self.calibration_positive_share}")

    def as_dict(self) -> dict:
        return asdict(self)

    def fasttext_params(self) -> dict:
        return dict(minn=self.minn, maxn=self.maxn, dim=self.dim, epoch=self.epochs, lr=self.lr, wordNgrams=self.word_ngrams,
                    bucket=self.bucket, minCount=self.min_count, seed=self.seed, thread=1, verbose=0, loss="softmax")


def script_of(label: str | None) -> str:
    return label.split("_", 1)[1] if label and "_" in label else "Latn"


def feature_line(text: str, script: str, max_tokens: int | None = None) -> str:
    """One fastText input line: normalised, script-aware words (grapheme clusters for unspaced scripts)."""
    tokens = words(normalise(text, script), script)
    return " ".join(tokens[:max_tokens] if max_tokens else tokens)


def example_line(row: dict, max_tokens: int | None = None) -> str:
    """The feature line of an example row (its ``script``, else its label's)."""
    return feature_line(row["text"], row.get("script") or script_of(row.get("lang_script")), max_tokens)


# --- junk made from a real document -------------------------------------------------------------------------


def _pieces(line: str, shortest: int, longest: int, rng: random.Random) -> Iterator[str]:
    """``line`` cut into runs of ``shortest``..``longest`` grapheme clusters: the "words" of a script without spaces.
    A generator, so a caller that draws from ``rng`` per piece keeps one fixed order of draws."""
    gs, i = graphemes(line), 0
    while i < len(gs):
        n = rng.randint(shortest, longest)
        yield "".join(gs[i:i + n])
        i += n


def word_salad(text: str, script: str, rng: random.Random) -> str:
    """Each paragraph's words shuffled (pieces of 2-4 grapheme clusters where the script writes no spaces)."""
    out = []
    for line in text.split("\n"):
        if is_unspaced(script):
            pieces = list(_pieces(line, 2, 4, rng))
            shuffle_with(pieces, rng.getrandbits)
            out.append("".join(pieces))
        else:
            tokens = line.split()
            shuffle_with(tokens, rng.getrandbits)
            out.append(" ".join(tokens))
    return "\n".join(out)


def _scramble(word: str, rng: random.Random) -> str:
    gs = graphemes(word)
    if len(gs) < 4:
        return word
    inner = gs[1:-1]
    shuffle_with(inner, rng.getrandbits)
    return gs[0] + "".join(inner) + gs[-1]


def scrambled_letters(text: str, script: str, rng: random.Random) -> str:
    """Inner grapheme clusters of each word shuffled (pieces of 4-6 clusters where the script writes no spaces)."""
    out = []
    for line in text.split("\n"):
        if is_unspaced(script):
            out.append("".join(_scramble(piece, rng) for piece in _pieces(line, 4, 6, rng)))
        else:
            out.append(_SCRAMBLED_WORD.sub(lambda m: _scramble(m.group(0), rng), line))
    return "\n".join(out)


def mojibake(text: str, script: str, rng: random.Random) -> str | None:
    """UTF-8 bytes read back as cp1252; None when under 5% of the letters would change."""
    text = unicodedata.normalize("NFC", text)
    if len(text) - len(text.encode("ascii", "ignore")) < 0.05 * max(len(text), 1):  # characters beyond ASCII
        return None
    return text.encode("utf-8").decode("latin-1").translate(_CP1252)


MAKERS = {"word_salad": word_salad, "scrambled_letters": scrambled_letters, "mojibake": mojibake}


def language_negatives(positives: list[dict], label: str, settings: ClassifierBootstrapSettings) -> list[dict]:
    """One junk document per positive of the language ``label``, of the kind its id's hash picks (mojibake falls
    back to the next kind when the text is nearly ASCII; by the hash, not in turn, so that a language of one or two
    positives does not always get the first kinds). Each keeps its source's id (and so its fold). Deterministic:
    one ``random.Random`` seeded by ``settings.seed`` and the label, positives in id order; so a language's junk is
    the same whichever task makes it and whatever other languages the run holds."""
    rng = random.Random(f"{settings.seed}:{label}")
    out = []
    for row in sorted(positives, key=lambda r: str(r["id"])):
        script = row.get("script") or script_of(row.get("lang_script"))
        text = row["text"]
        first = stable_hash(f"{settings.seed}:{row['id']}") % len(JUNK_KINDS)
        for k in range(len(JUNK_KINDS)):
            kind = JUNK_KINDS[(first + k) % len(JUNK_KINDS)]
            junk = MAKERS[kind](text, script, rng)
            if junk and junk != text:
                out.append({"id": row["id"], "lang_script": row.get("lang_script"), "script": script, "text": junk, "kind": kind})
                break
    return out


def examples_of_language(rows: list[dict], settings: ClassifierBootstrapSettings) -> tuple[list[dict], list[dict]]:
    """(positives, heuristic negatives) of one language's annotated rows (bootstrap columns)."""
    from longtail.filters.kenlm_bootstrap import STRICT_FILTERS, BootstrapSettings, split_candidates
    from longtail.filters.quality import Thresholds, first_failure
    from longtail.reasons import EXTRACT_EMPTY, LID_UNDETERMINED, QUALITY_TOO_SHORT

    rows = [r for r in rows if r.get("text")]
    candidates, rejected = split_candidates(rows, BootstrapSettings(strict_lid=settings.strict_lid, min_quality_score=None))
    positives = sorted(candidates, key=lambda r: stable_hash(str(r["id"])))[: settings.max_documents_per_language]
    limits = Thresholds().updated({"min_lang_score": None})
    not_bad = (None, QUALITY_TOO_SHORT, LID_UNDETERMINED, EXTRACT_EMPTY)  # short clean text is not bad text
    failures = [r for r in rejected if not r.get("extract_error") and first_failure(r, limits, STRICT_FILTERS) not in not_bad]
    failures = sorted(failures, key=lambda r: stable_hash(str(r["id"])))[: settings.max_heuristic_negatives_per_language]
    return positives, failures


def _quantiles(values: list[float]) -> dict:
    from longtail.filters.perplexity_buckets import percentile

    values = sorted(values)
    return {f"p{q}": round(percentile(values, q), 4) for q in (1, 3, 5, 10, 25, 50, 75)} if values else {}


# --- examples files ---------------------------------------------------------------------------------------------
#
# The run's example tasks write their languages' examples to files in the classifier's folder, and each fold task
# reads them from there: the training task holds no example. It held every language's feature lines, and the fold
# tasks' copies of them as arguments, 1.28 GB on 99,279 records (docs/performance.md); a crawl with a hundred large
# languages gives ~4,500 examples of ~5 KB each per language.

POSITIVE, GENERATED, HEURISTIC = 0, 1, 2  # an examples file's sections, in fastText's training order
POSITIVE_KIND, HEURISTIC_KIND = "positive", "heuristic"  # the kind of a positive and of a heuristic negative; junk: its maker's
EXAMPLES_ROW_GROUP = 256  # rows a reader of an examples file decodes at a time: a fold task reads every file at once


def _examples_schema():
    import pyarrow as pa

    return pa.schema([("section", pa.int8()), ("lang_script", pa.string()), ("id", pa.string()), ("fold", pa.int32()),
                      ("kind", pa.string()), ("line", pa.string())])


def _section_key(section: int):
    """The order of a section's rows, within a file and across files (merged).

    Positives and heuristic negatives: by label (each label's rows in the order they were given). Junk: in the id
    order of its sources, languages mixed: fastText reads its training file in order, and the junk grouped by
    language (as the run's tasks make it) lowered the out-of-fold AUC against word salad from 0.83 to 0.77 on the
    quality bench (selection there kept and dropped within the seeds' noise)."""
    return (lambda row: (row["id"], row["lang_script"])) if section == GENERATED else (lambda row: row["lang_script"])


def write_examples(target, languages: list[tuple[str, list[dict], list[dict], list[dict]]], settings: ClassifierBootstrapSettings) -> dict:
    """Write each language's ``(label, positives, heuristic negatives, junk)`` (rows with ``id``, ``text`` or its
    feature ``line``, ``script``; the junk also ``kind``) as one examples file at ``target`` (a path or URL,
    atomically), rows in :func:`_section_key` order. Returns its counts (:func:`combine_counts` adds files')."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from longtail.fileio import atomic_path

    sections: dict[int, list[dict]] = {POSITIVE: [], GENERATED: [], HEURISTIC: []}
    counts = {"positive_documents": 0, "positive_characters": 0, "positive_languages": [], "heuristic_negatives": 0}
    for label, positives, failures, junk in sorted(languages, key=lambda item: item[0]):
        for section, rows, kind in ((POSITIVE, positives, POSITIVE_KIND), (GENERATED, junk, None), (HEURISTIC, failures, HEURISTIC_KIND)):
            for row in rows:
                line = row["line"] if "line" in row else example_line(row, settings.max_tokens)
                sections[section].append({"section": section, "lang_script": label, "id": str(row["id"]), "fold": fold_of(row["id"], settings.folds),
                                          "kind": kind or row["kind"], "line": line})
        counts["positive_documents"] += len(positives)
        counts["positive_characters"] += sum(row["characters"] if "characters" in row else len(row["text"]) for row in positives)
        counts["positive_languages"] += [label] if positives else []
        counts["heuristic_negatives"] += len(failures)
    rows = [row for section in (POSITIVE, GENERATED, HEURISTIC) for row in sorted(sections[section], key=_section_key(section))]
    with atomic_path(target) as tmp:
        pq.write_table(pa.Table.from_pylist(rows, schema=_examples_schema()), tmp, row_group_size=EXAMPLES_ROW_GROUP)
    return counts


def combine_counts(counts: list[dict]) -> dict:
    """The counts of several examples files (:func:`write_examples`), as the card gives them."""
    return {"positive_documents": sum(c["positive_documents"] for c in counts), "positive_characters": sum(c["positive_characters"] for c in counts),
            "positive_languages": len({label for c in counts for label in c["positive_languages"]}),
            "heuristic_negatives": sum(c["heuristic_negatives"] for c in counts)}


def example_rows(files: list[str], section: int) -> Iterator[dict]:
    """One section's rows of all ``files``, merged in :func:`_section_key` order: the same rows in the same order
    however the run's tasks split the languages among files. Holds one batch of each file."""
    import heapq

    from longtail.fileio import iter_batches

    def rows_of(path):
        for batch in iter_batches(path, batch_size=EXAMPLES_ROW_GROUP, equal=("section", section)):
            yield from (row for row in batch.to_pylist() if row["section"] == section)

    return heapq.merge(*(rows_of(path) for path in files), key=_section_key(section))


# --- training and scoring -----------------------------------------------------------------------------------


def good_probability(model, line: str) -> float:
    labels, probs = model.predict(line, k=2)
    for label, prob in zip(labels, probs):
        if label == f"__label__{GOOD}":
            return float(min(max(prob, 0.0), 1.0))
    return 0.0


NAN_RETRIES = 4  # a fold whose training diverges is retried with half the learning rate, this many times in all


def train_fold_model(fold: int, files: list[str], settings: ClassifierBootstrapSettings, target: str) -> tuple[int, str, dict[str, dict[str, list[float]]]]:
    """Fold model ``fold``: trained on the examples of every other fold in the examples ``files`` and written to
    ``target`` (a path every node reaches, or a URL; atomically). Returns ``(fold, the model file's sha256, the
    saved model's good-probability of each example of this fold, by kind and language)``. It runs in any process on any node,
    one fold per core, and the out-of-fold scores are computed where the model is. The model is written here
    rather than returned: on 99,279 records each fold model was 176 MB (its vocabulary holds every junk word), and
    the two returned to the training task took it from 0.8 to 1.9 GB."""
    import tempfile

    import fasttext

    from longtail.fileio import atomic_path
    from longtail.filters.kenlm_model import sha256_file

    parts = [(POSITIVE, GOOD)] * settings.positive_weight + [(GENERATED, BAD), (HEURISTIC, BAD)]
    params = settings.fasttext_params()
    with tempfile.TemporaryDirectory(prefix="longtail-fold-") as tmp, atomic_path(target) as model_file:
        train_file = Path(tmp) / "train.txt"
        with open(train_file, "w", encoding="utf-8") as out:
            for section, label in parts:
                out.writelines(f"__label__{label} {row['line']}\n" for row in example_rows(files, section) if row["fold"] != fold and row["line"])
        lr = params["lr"]
        for _ in range(NAN_RETRIES):
            try:
                train_in_new_process(train_file, {**params, "lr": lr}, model_file)
                break
            except RuntimeError as exc:  # fastText diverged ("Encountered NaN"): a smaller step, not a failed run
                if "NaN" not in str(exc):
                    raise
                lr /= 2
        else:
            raise RuntimeError(f"fold {fold}: fastText diverged (NaN) down to lr {lr * 2}")
        saved = fasttext.load_model(str(model_file))  # scored as the run will load it
        scores: dict[str, dict[str, list[float]]] = {}
        for section in (POSITIVE, GENERATED, HEURISTIC):
            for row in example_rows(files, section):
                if row["fold"] == fold:
                    scores.setdefault(row["kind"], {}).setdefault(row["lang_script"], []).append(good_probability(saved, row["line"]))
        return fold, sha256_file(model_file), scores


def run_here(function, argument_lists):
    """``run`` for :func:`train_fold_models` and the run's example tasks without Ray: one call after the other."""
    return (function(*args) for args in argument_lists)


def train_fold_models(files: list[str], folder, settings: ClassifierBootstrapSettings, run=None) -> tuple[list[str], list[str], dict[str, dict[str, list[float]]]]:
    """Train ``settings.folds`` models from the examples ``files`` into ``folder`` (local or a URL), model k on the
    examples of every fold but k; return their paths, their files' sha256 and the out-of-fold good-probability of
    every example by kind (``positive``, each junk kind, ``heuristic``) and language (an example of fold k is scored
    by model k).

    ``run(function, argument_lists)`` yields the results of ``function(*args)`` in any order (default: one after
    the other in this process; the run passes Ray tasks: each model trains on one thread, so that it is the same on
    every run, and the folds on different cores).
    """
    paths = [f"{str(folder).rstrip('/')}/fold{k}.bin" for k in range(settings.folds)]  # made by atomic_path
    digests, by_fold = {}, {}
    for k, digest, scores in (run or run_here)(train_fold_model, [(k, files, settings, paths[k]) for k in range(settings.folds)]):
        digests[k], by_fold[k] = digest, scores
    scores: dict[str, dict[str, list[float]]] = {}
    for k in range(settings.folds):  # in fold order, whichever finished first
        for kind, languages in by_fold[k].items():
            for label, values in languages.items():
                scores.setdefault(kind, {}).setdefault(label, []).extend(values)
    return paths, [digests[k] for k in range(settings.folds)], scores


# positives a language needs for a quantile of its own in :func:`calibrate`: under it, the quantile is about its lowest
# score, and every small language would keep every page (on the issue-12 bench: 2-5 more good pages a seed, 4-7 more junk)
MIN_LANGUAGE_POSITIVES = 100


def calibrate(positives_by_language: dict[str, list[float]], share: float) -> tuple[float | None, dict[str, float]]:
    """The threshold below which ``share`` % of the out-of-fold positives' scores fall, and the languages with
    :data:`MIN_LANGUAGE_POSITIVES` positives or more whose own positives' ``share`` % quantile is lower, with theirs
    (rounded to 4 places). The pooled threshold may take far more than the share of one language's positives, as each language
    scores on a scale of its own (on the scaling bench it took 38 of Spanish's 111; docs/quality.md); such a language
    keeps them. A threshold is only ever lowered this way: a language scored high as a whole (its junk too) keeps
    the pooled one."""
    from longtail.filters.perplexity_buckets import percentile

    pooled = sorted(value for values in positives_by_language.values() for value in values)
    if not pooled:
        return None, {}
    threshold = round(percentile(pooled, share), 4)
    own = {label: round(percentile(sorted(values), share), 4) for label, values in sorted(positives_by_language.items()) if len(values) >= MIN_LANGUAGE_POSITIVES}
    return threshold, {label: value for label, value in own.items() if value < threshold}


def bootstrap_classifier(files: list[str], counts: dict, folder, settings: ClassifierBootstrapSettings, run=None) -> dict:
    """Train the fold models from the examples ``files`` (:func:`write_examples`; ``counts`` their
    :func:`combine_counts`) into ``folder`` and return the card (not written; the caller writes it last).
    ``run``: how the fold models are trained (:func:`train_fold_models`).

    Raises :class:`NotEnoughExamples` below ``min_positive_documents`` / ``min_positive_characters``.
    """
    from longtail.filters.quality_eval import roc_auc

    positives, characters = counts["positive_documents"], counts["positive_characters"]
    if positives < settings.min_positive_documents or characters < settings.min_positive_characters:
        raise NotEnoughExamples(
            f"{positives} documents ({characters} characters) pass strict LID and the heuristics; the classifier needs "
            f"{settings.min_positive_documents} documents and {settings.min_positive_characters} characters", counts)
    paths, digests, scores = train_fold_models(files, folder, settings, run)
    positives_by_language = scores.pop(POSITIVE_KIND, {})
    positive_scores = [value for label in sorted(positives_by_language) for value in positives_by_language[label]]
    by_kind = {kind: [value for values in languages.values() for value in values] for kind, languages in sorted(scores.items())}
    share = 100 * settings.calibration_positive_share
    threshold, lowered = calibrate(positives_by_language, share)
    return {
        "kind": "fasttext-quality-classifier-bootstrap",
        "status": "trained",
        **counts,
        "generated_negatives": {k: len(v) for k, v in by_kind.items() if k != HEURISTIC_KIND},
        "settings": settings.as_dict(),
        "fasttext_params": settings.fasttext_params(),
        "folds": [{"model": Path(p).name, "sha256": digest} for p, digest in zip(paths, digests)],  # not where the run folder is
        "heldout": {
            "method": f"out-of-fold ({settings.folds} folds by id hash; junk shares its source document's fold)",
            "positive_scores": _quantiles(positive_scores),
            "auc": {kind: round(roc_auc(positive_scores, values), 4) for kind, values in by_kind.items()},
            "negative_scores_p50": {kind: _quantiles(values).get("p50") for kind, values in by_kind.items()},
        },
        "calibration": {
            "min_quality_score": threshold,
            "rule": f"the score below which {share:g}% of the out-of-fold positives fall; a language of {MIN_LANGUAGE_POSITIVES}+ positives whose own "
                    f"{share:g}% quantile is lower gets that one (per_language)",
            "per_language": lowered,
        },
    }

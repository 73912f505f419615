"""Bootstrapped models from a run's own annotations: ``longtail bootstrap-kenlm``/``bootstrap-classifier``,
and the run's bootstrap phase (``stages.quality.kenlm_bootstrap``, ``stages.quality.classifier_bootstrap``: one
fastText quality classifier per run, cross-fitted, its scores in ``bootstrap/quality/``; see
:func:`run_classifier_bootstrap` and filters/classifier_bootstrap.py).

The run phase sits between annotate and select, and never opens the crawl:
1. one Ray task per language trains ``<output>/bootstrap/kenlm/<label>.binary`` from the annotations
   (method: filters/kenlm_bootstrap.py);
2. one Ray task per annotated file re-scores its documents' perplexity with those models into
   ``<output>/bootstrap/perplexity/<file>.parquet`` (row-aligned with the annotations);
3. selection reads that perplexity instead of the annotate pass's.
Both steps are keyed by a fingerprint of the annotations and the bootstrap settings: a rerun with the same
annotations (e.g. ``longtail select`` after a threshold change) retrains nothing, and a crash resumes per
language and per file. Writes are temp+rename.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from longtail.fileio import as_path, atomic_path, is_url, iter_batches, local_tree, parquet_rows, read_schema, read_table, remove_tree, replace_tree, scratch_dir, take_rows, upload_tree
from longtail.filters.kenlm_bootstrap import COLUMNS, DOCUMENT_PERPLEXITIES_SUFFIX, FOLD_OVERRIDES_SUFFIX, FOLDS, STRICT_FILTERS, TMP_PREFIX, BootstrapSettings, NotEnoughText, bootstrap_language, describe, fold_of, judges, split_candidates, stable_hash, training_split
from longtail.filters.kenlm_model import KenLMError, KenLMScorer, load_card, model_paths
from longtail.filters.perplexity_buckets import percentile
from longtail.filters.quality import Thresholds, first_failure
from longtail.langid.labels import NON_LANGUAGE, is_safe_label

from longtail.stages.dedup.cluster import cluster_duplicates
from longtail.stages.dedup.minhash import MinHashParams

from longtail.pipeline.runfolder import RunFolder, done_record_of
from longtail.pipeline.runlog import RUNLOG


# --- from a finished run (CLI) -------------------------------------------------------------------------


def bootstrap_kenlm(output: str | Path, label: str, models_dir: str | Path, settings: BootstrapSettings = BootstrapSettings(), log=print) -> dict:
    """Train ``<models_dir>/<label>.binary`` from a run's annotations; return the bootstrap record. The model is
    for reuse, so the final model is built whatever ``settings.final_model`` says."""
    settings = replace(settings, final_model=True)
    rows, others = _language_inputs([str(p) for p in RunFolder(output).annotated_files()], label, settings)
    if not rows:
        raise ValueError(f"no annotated documents labelled {label} under {output}")
    record = bootstrap_language(rows, others, label, models_dir, settings, source=str(Path(output).resolve()), groups=near_duplicate_groups(rows))
    log(describe(label, record) + f" -> {model_paths(models_dir, label)[0]}")
    return record


def bootstrap_classifier_examples(output: str | Path, labels: list[str] | None, settings: BootstrapSettings = BootstrapSettings(), tail_percentile: float = 90.0) -> list[dict]:
    """Labelled examples from a run: good = candidates (strict LID + heuristics, not templated) in the head of their
    language's perplexity; bad = documents that fail the heuristic rules, and documents in the perplexity tail."""
    by_language = RunFolder(output).read_annotations(COLUMNS + ["perplexity"])
    examples = []
    for label in labels or list(by_language):
        rows = [r for r in by_language.get(label, []) if r.get("text")]
        if not rows:
            raise ValueError(f"no annotated documents labelled {label} under {output}")
        candidates, rejected = split_candidates(rows, settings)
        perplexities = sorted(r["perplexity"] for r in rows if r.get("perplexity") is not None)
        head_cut = percentile(perplexities, settings.head_percentile) if perplexities else None
        tail_cut = percentile(perplexities, tail_percentile) if perplexities else None
        good = [r for r in candidates if head_cut is None or (r.get("perplexity") is not None and r["perplexity"] <= head_cut)]
        limits = Thresholds().updated({"min_lang_score": None})
        heuristic_failures = [r for r in rejected if first_failure(r, limits, STRICT_FILTERS) is not None]
        tail = [r for r in rows if tail_cut is not None and r.get("perplexity") is not None and r["perplexity"] > tail_cut and r not in good]
        bad = {r["id"]: r for r in heuristic_failures + tail}
        examples += [{"label": "good", "lang_script": label, "text": r["text"]} for r in good]
        examples += [{"label": "bad", "lang_script": label, "text": r["text"]} for r in bad.values()]
    return examples


# --- inside a run -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BootstrapOutcome:
    """What selection needs: where the bootstrapped models and re-scored perplexities are, per language status."""

    kenlm_dir: str
    perplexity_files: dict[str, str]  # annotated parquet -> its re-scored perplexity parquet
    languages: dict[str, dict]  # label -> {"status": bootstrapped | too_little_text | too_weak | failed | given_model, ...}

    def card(self, label: str) -> dict | None:
        return load_card(self.kenlm_dir, label) if self.languages.get(label, {}).get("status") == "bootstrapped" else None


def _read_rows(path: str, columns: list[str], label: str, extra_filters: list | None = None) -> list[dict]:
    present = set(read_schema(path).names)
    if "lang_script" not in present:
        return []
    filters = [("lang_script", "=", label)] + (extra_filters or [])
    return read_table(path, columns=[c for c in columns if c in present], filters=filters).to_pylist()


def near_duplicate_groups(rows: list[dict]) -> dict[str, str]:
    """Document id -> the id of its near-duplicate cluster, from the run's own MinHash signatures and exact/URL
    links, clustered as dedup does (stages/dedup/cluster.py); the bootstrap puts a cluster into one fold. Rows
    without signatures are their own group."""
    signed = [r for r in rows if r.get("minhash") is not None and r.get("text_hash") is not None]
    if len(signed) < 2:
        return {}
    length = len(signed[0]["minhash"])
    signed = [r for r in signed if len(r["minhash"]) == length]
    table = pa.table({"id": pa.array([str(r["id"]) for r in signed], pa.string()),
                      "text_hash": pa.array([r["text_hash"] for r in signed], pa.uint64()),
                      "minhash": pa.array([r["minhash"] for r in signed], pa.list_(pa.uint32(), length)),
                      "n_chars": pa.array([r.get("n_chars") or 0 for r in signed], pa.int64()),
                      "crawl_date": pa.array([r.get("crawl_date") for r in signed], pa.string()),
                      "url": pa.array([r.get("url") for r in signed], pa.string())})
    rows_per_band = 4 if length % 4 == 0 else 1
    clusters = cluster_duplicates(table, MinHashParams(num_perm=length, bands=length // rows_per_band, rows=rows_per_band))
    return dict(zip(clusters.column("id").to_pylist(), clusters.column("dup_cluster_id").to_pylist()))


def bootstrap_language_task(files: list[str], label: str, kenlm_dir: str, settings: BootstrapSettings, source: str,
                            rows: list[dict] | None = None, negatives: WrongLanguageNegatives | None = None,
                            token_cache: dict | None = None) -> tuple[str, dict]:
    """Ray task: one language's model (skipped when its card exists from an interrupted attempt). ``rows``: the
    language's annotated rows when the caller has read them already (a batch of languages); ``negatives``: the
    batch's wrong-language texts (read once for all its languages), ``token_cache`` their tokens."""
    card = finished_card(kenlm_dir, label)
    if card:
        return label, _status(card["bootstrap"], settings)
    if rows is None:
        rows = _language_rows_sample(files, label, 2 * settings.max_training_documents)
    try:
        split = training_split(rows, label, settings)  # too little text: said before the other languages' texts are read
        others = (negatives or WrongLanguageNegatives(files, settings.max_other_language_negatives))(label)
        record = bootstrap_language(rows, others, label, kenlm_dir, settings, source, groups=near_duplicate_groups(rows), split=split, token_cache=token_cache)
    except NotEnoughText as exc:
        return label, {"status": "too_little_text", "reason": str(exc), **exc.counts}
    except KenLMError as exc:  # recorded per language; the run goes on without this model
        return label, {"status": "failed", "reason": str(exc)}
    return label, _status(record, settings)


def trainable_label(label: str | None) -> bool:
    """Whether a run trains models for this label: a language (not ``und``/``zxx``) with a name safe as a file name."""
    return bool(label) and is_safe_label(label) and label.split("_")[0] not in NON_LANGUAGE


def finished_card(kenlm_dir: str, label: str) -> dict | None:
    """The language's card if its bootstrap finished: bootstrap_language writes (or upload_tree uploads) it last,
    after the fold models (and the final model with ``final_model``)."""
    card = load_card(kenlm_dir, label)
    return card if card and "bootstrap" in card else None


def _status(record: dict, settings: BootstrapSettings) -> dict:
    """``bootstrapped`` (the model judges the language), or ``too_weak``: it cannot tell its own held-out lines
    from garbled and wrong-language text well enough (``min_heldout_auc``). Then the training text, however many
    characters, was not enough for this language: 20,000 characters of Chinese are ~15,000 tokens from an
    inventory of thousands, and the bench's zho_Hani model (AUC 0.77) put real Chinese pages past its ceiling."""
    auc = record.get("heldout_auc")
    if not judges(auc, settings):
        return {"status": "too_weak", "reason": f"held-out AUC {auc if auc is None else round(auc, 3)} < min_heldout_auc {settings.min_heldout_auc}: "
                                                 "the model does not judge this language", **_summary(record)}
    return {"status": "bootstrapped", **_summary(record)}


def bootstrap_languages_task(files: list[str], labels: list[str], kenlm_dir: str, settings: BootstrapSettings, source: str) -> list[tuple[str, dict]]:
    """Ray task: several languages one after the other (the same result per language as
    :func:`bootstrap_language_task`): a language with a few pages costs milliseconds, a task of its own ~1 s."""
    # a batch holds only languages that need no sample (task_batches): one read of each file for all of them, instead
    # of one per language and file (a snapshot has ~10^5 annotated files and ~10^2 small languages); likewise the
    # wrong-language negatives: one pool per task (on 16,085 bench records, 43 reads per language were 12 of the
    # pass's 91 CPU s)
    batch_rows = _batch_rows(files, labels) if len(labels) > 1 else {}
    negatives = WrongLanguageNegatives(files, settings.max_other_language_negatives)
    tokens: dict = {}
    if is_url(kenlm_dir):  # lmplz writes files: train in this node's scratch folder, upload the finished models
        with tempfile.TemporaryDirectory(dir=scratch_dir()) as work:
            # a language uploaded by an interrupted attempt (its card is uploaded after its models) is kept
            results = [bootstrap_language_task(files, label, kenlm_dir if finished_card(kenlm_dir, label) else work, settings, source, batch_rows.get(label), negatives, tokens)
                       for label in labels]
            upload_tree(work, kenlm_dir)
        return results
    return [bootstrap_language_task(files, label, kenlm_dir, settings, source, batch_rows.get(label), negatives, tokens) for label in labels]


def _batch_rows(files: list[str], labels: list[str]) -> dict[str, list[dict]]:
    """The annotated rows (bootstrap columns) of several languages, each file read once; every label gets a list."""
    by_label: dict[str, list[dict]] = {label: [] for label in labels}
    for path in files if labels else []:
        present = set(read_schema(path).names)
        if "lang_script" not in present:
            continue
        table = read_table(path, columns=[c for c in COLUMNS if c in present], filters=[("lang_script", "in", labels)])
        for row in table.to_pylist():
            by_label[row["lang_script"]].append(row)
    return by_label


# Languages with less text than this many times min_training_characters (and no need of a sample) go together into
# tasks of up to this much text: a language of a hundred pages costs ~1 s to train, and a task of its own read every
# annotated file for it
BATCH_FACTOR = 100


def language_sizes(files: list[str]) -> dict[str, tuple[int, int]]:
    """(characters of text, documents) per language label (characters from the ``n_chars`` signal; 0 for files without
    it)."""
    sizes: dict[str, tuple[int, int]] = {}
    for path in files:
        present = set(read_schema(path).names)
        if "lang_script" not in present:
            continue
        columns = ["lang_script"] + (["n_chars"] if "n_chars" in present else [])
        table = read_table(path, columns=columns)
        if "n_chars" not in present:
            table = table.append_column("n_chars", pa.array([0] * table.num_rows, pa.int64()))
        table = table.group_by("lang_script").aggregate([("n_chars", "sum"), ("n_chars", "count", pc.CountOptions(mode="all"))])
        for label, n, count in zip(*(table.column(c).to_pylist() for c in ("lang_script", "n_chars_sum", "n_chars_count"))):
            if label is not None:
                chars, documents = sizes.get(label, (0, 0))
                sizes[label] = (chars + (n or 0), documents + count)
    return sizes


def task_batches(labels: list[str], sizes: dict[str, tuple[int, int]], settings: BootstrapSettings) -> list[list[str]]:
    """Languages under BATCH_FACTOR x min_training_characters of text whose rows need no sample (at most
    2 x max_training_documents documents) go together, up to that much text a task, biggest languages first; larger
    ones get a task each. Labels without a size count as empty."""
    limit = BATCH_FACTOR * settings.min_training_characters
    size = lambda label: sizes.get(label, (0, 0))  # noqa: E731
    alone = lambda label: size(label)[0] >= limit or size(label)[1] > 2 * settings.max_training_documents  # noqa: E731
    large = [[label] for label in labels if alone(label)]
    batches: list[list[str]] = []
    totals: list[int] = []
    # first fit, biggest first: few, full batches (each reads every annotated file once)
    for label in sorted((label for label in labels if not alone(label)), key=lambda label: (-size(label)[0], label)):
        chars = size(label)[0]
        fit = next((i for i, total in enumerate(totals) if total + chars <= limit), None)
        if fit is None:
            batches.append([])
            totals.append(0)
            fit = len(batches) - 1
        batches[fit].append(label)
        totals[fit] += chars
    # longest first (Ray starts tasks in submission order; the last long task on one worker while the others idle is
    # the pass's tail), by characters; a batch, which also reads every annotated file, before a language as large
    tasks = [sorted(batch) for batch in batches] + large
    return sorted(tasks, key=lambda task: -sum(size(label)[0] for label in task))


def _language_inputs(files: list[str], label: str, settings: BootstrapSettings) -> tuple[list[dict], list[str]]:
    """The language's annotated rows (sampled when large) and wrong-language negative texts."""
    rows = _language_rows_sample(files, label, 2 * settings.max_training_documents)
    return rows, WrongLanguageNegatives(files, settings.max_other_language_negatives)(label)


def _language_rows_sample(files: list[str], label: str, limit: int) -> list[dict]:
    """The language's rows (bootstrap columns), or a deterministic sample of ``limit`` of them by id hash.

    A large language (English in a Common Crawl snapshot) has millions of documents; reading all their text
    into one task would not fit in a worker, and a grapheme 5-gram model does not need it. Ids are read first
    (small), and text only for the sampled ids.
    """
    ids = {path: [str(i) for i in _read_rows_column(path, label, "id")] for path in files}
    if sum(len(v) for v in ids.values()) <= limit:
        return [row for path in files for row in _read_rows(path, COLUMNS, label)]
    chosen = set(heapq.nsmallest(limit, (i for v in ids.values() for i in v), key=stable_hash))
    rows = []
    for path, file_ids in ids.items():
        wanted = [i for i in file_ids if i in chosen]
        if wanted:
            rows += [r for r in _read_rows(path, COLUMNS, label, [("id", "in", wanted)]) if str(r["id"]) in chosen]
    return rows


class WrongLanguageNegatives:
    """Texts of other languages as a language's wrong-language negatives: ``negatives(label)`` gives up to ``limit``,
    spread over the labels found in the first ``max_files`` annotated files (smallest id hashes per label, labels
    taken in turn), so that they are not all the alphabetically first language and a task never scans the whole
    crawl for them. One pool serves a task's languages: the files' labels are read once (at the first call: a
    task whose languages all have too little text reads nothing), and each text at most once."""

    def __init__(self, files: list[str], limit: int, max_files: int = 20):
        self.files, self.limit, self.max_files = files, limit, max_files
        self._ranked: dict[str, list[tuple[int, str, str, int]]] | None = None  # label -> (hash, id, path, row)
        self._texts: dict[tuple[str, int], str | None] = {}  # (path, row) -> text

    def _rank(self) -> dict[str, list[tuple[int, str, str, int]]]:
        per_label: dict[str, list[tuple[int, str, str, int]]] = {}
        for path in self.files[: self.max_files]:
            if "lang_script" not in read_schema(path).names:
                continue
            table = read_table(path, columns=["id", "lang", "lang_script"])
            for row_number, row in enumerate(table.to_pylist()):
                if row["lang"] in NON_LANGUAGE or not row["lang_script"]:
                    continue
                per_label.setdefault(row["lang_script"], []).append((stable_hash(str(row["id"])), str(row["id"]), path, row_number))
        return {label: heapq.nsmallest(self.limit, items) for label, items in sorted(per_label.items())}

    def __call__(self, label: str) -> list[str]:
        if self._ranked is None:
            self._ranked = self._rank()
        ranked = {lab: list(items) for lab, items in self._ranked.items() if lab != label}
        chosen: list[tuple[int, str, str, int]] = []
        while len(chosen) < self.limit and any(ranked.values()):
            for lab in list(ranked):
                if ranked[lab] and len(chosen) < self.limit:
                    chosen.append(ranked[lab].pop(0))
        missing: dict[str, list[int]] = {}
        for _, _, path, row_number in chosen:
            if (path, row_number) not in self._texts:
                missing.setdefault(path, []).append(row_number)
        for path, row_numbers in missing.items():
            row_numbers = sorted(row_numbers)
            self._texts.update(zip(((path, n) for n in row_numbers), take_rows(path, "text", row_numbers)))
        # grouped by file in the order the files were first chosen, in file order within one (the former reading order)
        texts = []
        for path in dict.fromkeys(path for _, _, path, _ in chosen):
            texts += [self._texts[(path, n)] for n in sorted(n for _, _, p, n in chosen if p == path)]
        return [text for text in texts if text]


def _read_rows_column(path: str, label: str, column: str) -> list:
    if "lang_script" not in read_schema(path).names:
        return []
    return read_table(path, columns=[column], filters=[("lang_script", "=", label)]).column(column).to_pylist()


def _summary(record: dict) -> dict:
    return {k: record[k] for k in ("candidates", "training_lines", "heldout_lines", "chosen_iteration", "heldout_auc")}


# Rows a re-score task holds at once: the whole text of a Common Crawl-sized annotated file as Python strings took a
# worker past 2 GB (2.7 GB beside the classifier's fold models on 99,279 records; docs/performance.md)
RESCORE_BATCH_ROWS = 10_000


def _file_rows(path: str, names: tuple[str, ...]):
    """An annotated file's rows in order as tuples of ``names`` (None for a column the file does not have), read
    ``RESCORE_BATCH_ROWS`` at a time."""
    present = set(read_schema(path).names)
    for batch in iter_batches(path, columns=[name for name in names if name in present], batch_size=RESCORE_BATCH_ROWS):
        table = pa.Table.from_batches([batch])
        yield from zip(*(_values(table, name) for name in names))


def _values(table: pa.Table, name: str) -> list:
    """A column of an annotated file's table as a list; Nones for a column the file does not have."""
    return table.column(name).to_pylist() if name in table.column_names else [None] * table.num_rows


def rescore_file(annotated: str, target: str, kenlm_dir: str, bootstrapped: list[str]) -> str:
    """Ray task: perplexity of every row of one annotated file (bootstrapped model where there is one, else the
    annotate pass's score from a given model), row-aligned, written temp+rename. A training candidate's perplexity
    under its fold model is the bootstrap's (``DOCUMENT_PERPLEXITIES_SUFFIX``; at most the 2 x max_training_documents
    rows a language task reads), not computed again: most documents of a small language are candidates."""
    if as_path(target).is_file():
        return target
    kenlm_dir = local_tree(kenlm_dir)  # an object-store run folder: KenLM opens model files by name
    own = set(bootstrapped)
    fold_counts: dict[str, int | None] = {}
    moved: dict[str, dict] = {}  # label -> {id: fold} of documents in a near-duplicate cluster's fold
    known: dict[str, dict] = {}  # label -> {(id, text_hash): perplexity} of its training candidates
    fold_scorers: dict[int, KenLMScorer] = {}  # fold k's models of every language are in one folder
    labels, perplexity, source = [], [], []
    for doc_id, label, text, text_hash, old in _file_rows(annotated, ("id", "lang_script", "text", "text_hash", "perplexity")):
        labels.append(label)
        if label in own:
            if label not in fold_counts:
                fold_counts[label] = ((load_card(kenlm_dir, label) or {}).get("fold_models") or {}).get("folds")
                overrides = Path(kenlm_dir) / FOLDS / f"{label}{FOLD_OVERRIDES_SUFFIX}"
                moved[label] = json.loads(overrides.read_text()) if overrides.is_file() else {}
                scored = Path(kenlm_dir) / FOLDS / f"{label}{DOCUMENT_PERPLEXITIES_SUFFIX}"
                columns = json.loads(scored.read_text()) if scored.is_file() else {"id": [], "text_hash": [], "perplexity": []}
                known[label] = dict(zip(zip(columns["id"], columns["text_hash"]), columns["perplexity"]))
            value = known[label].get((str(doc_id), text_hash)) if text_hash is not None else None
            if value is not None:
                perplexity.append(value)
                source.append("bootstrap")
                continue
            # cross-fitting: the model of the document's fold never saw it (a fold without a model: not judged);
            # the run trains no other model to score with (BootstrapSettings.final_model)
            model = None
            if fold_counts[label]:
                k = moved[label].get(str(doc_id), fold_of(doc_id, fold_counts[label]))
                model = fold_scorers.setdefault(k, KenLMScorer(str(Path(kenlm_dir) / FOLDS / f"fold{k}")))
            perplexity.append(model.perplexity(text, label) if model and text else None)
            source.append("bootstrap")
        else:
            perplexity.append(old)
            source.append("given" if old is not None else None)
    out = pa.table({"lang_script": pa.array(labels, pa.string()), "perplexity": pa.array(perplexity, pa.float32()), "kenlm_source": pa.array(source, pa.string())})
    with atomic_path(target) as tmp:
        pq.write_table(out, tmp)
    return target


def _remove_working_folders(folder: Path) -> None:
    for stale in folder.glob(f"{TMP_PREFIX}*"):
        remove_tree(stale)


def fingerprint(settings: BootstrapSettings, annotated: list[str], given_labels: list[str]) -> str:
    """Changes when the annotations, the settings or (for ``languages: missing``) the given models change."""
    digest = hashlib.sha256(json.dumps({"settings": settings.as_dict(), "given": sorted(given_labels), "method": 3}, sort_keys=True).encode())
    for path in sorted(annotated):
        done = done_record_of(path)
        digest.update(Path(path).name.encode())
        digest.update(done.read_bytes() if done.is_file() else b"-")
    return digest.hexdigest()


def _given_labels(kenlm_models: str | None) -> list[str]:
    if not kenlm_models or not as_path(kenlm_models).is_dir():
        return []
    return sorted(p.stem for p in as_path(kenlm_models).glob("*.binary"))


def run_bootstrap(manifest, files: list[str], labels: list[str], progress: bool = True) -> BootstrapOutcome | None:
    """The run's bootstrap phase (None when ``stages.quality.kenlm_bootstrap`` is off)."""
    from tqdm import tqdm

    from longtail.pipeline import ray_backend

    settings: BootstrapSettings | None = manifest.quality.kenlm_bootstrap
    folder = RunFolder(manifest.output)
    kenlm_dir, rescored_dir, root = folder.kenlm, folder.rescored, folder.bootstrap
    if settings is None:
        # derived from the annotations and re-creatable: stale models/scores must not reach `calibrate`
        # (bootstrap/classifier and bootstrap/quality belong to run_classifier_bootstrap)
        remove_tree(kenlm_dir)
        remove_tree(rescored_dir)
        return None
    given = _given_labels(manifest.quality.kenlm_models)
    key = fingerprint(settings, files, given if settings.languages == "missing" else [])
    index_path = folder.kenlm_index
    index = json.loads(index_path.read_text()) if index_path.is_file() else {}
    if index.get("fingerprint") != key:
        partial = root / f".kenlm-{key[:16]}.partial"  # same key after a crash: finished languages are kept
        for stale in root.glob(".kenlm-*.partial"):
            if stale != partial:
                remove_tree(stale)
        partial.mkdir(parents=True, exist_ok=True)
        _remove_working_folders(partial)  # left by a task that was killed mid-training
        todo = [label for label in labels if trainable_label(label)]
        languages = {label: {"status": "given_model"} for label in todo if settings.languages == "missing" and label in given}
        todo = [label for label in todo if label not in languages]
        source = manifest.output if is_url(manifest.output) else str(Path(manifest.output).resolve())
        with tqdm(total=len(todo), desc="bootstrap kenlm", unit="lang", disable=not progress) as bar:
            # a task whose worker died (out of memory, node lost) is recorded for its language, not fatal to the run
            # small languages go together into one task (bootstrap cost follows the text, not the number of languages)
            failed = lambda labels, exc: [(label, {"status": "failed", "reason": f"task failed: {type(exc).__name__}: {str(exc)[:300]}"}) for label in labels]  # noqa: E731
            died = lambda args, exc: failed(args[1], exc)  # noqa: E731
            batches = task_batches(todo, language_sizes(files), settings)
            for results in ray_backend.run_tasks(bootstrap_languages_task, [(files, batch, str(partial), settings, source) for batch in batches], on_error=died):
                for label, result in results:
                    languages[label] = result
                    bar.update(1)
                    # to the run log only: the console shows the bar, and the stats say it per language
                    logging.getLogger(RUNLOG).info("bootstrap %s: %s", label, result.get("reason") or f"{result['training_lines']} lines, held-out AUC {result['heldout_auc']}")
        _remove_working_folders(partial)
        (partial / index_path.name).write_text(json.dumps({"fingerprint": key, "settings": settings.as_dict(), "languages": dict(sorted(languages.items()))}, indent=2, ensure_ascii=False))
        remove_tree(rescored_dir)  # scores of the old models must not survive them
        if is_url(kenlm_dir):  # no rename on an object store: copied, the index last
            replace_tree(partial, kenlm_dir, last=(index_path.name,))
        else:
            old = root / ".kenlm.old"
            remove_tree(old)
            if kenlm_dir.exists():
                kenlm_dir.rename(old)
            partial.rename(kenlm_dir)
            remove_tree(old)
        index = json.loads(index_path.read_text())

    bootstrapped = sorted(label for label, info in index["languages"].items() if info["status"] == "bootstrapped")
    small = sorted(label for label, info in index["languages"].items() if info["status"] == "too_little_text")
    if small and progress:  # said once on the console; per language in stats/languages.json (kenlm.bootstrap)
        print(f"kenlm: {len(bootstrapped)} languages bootstrapped; {len(small)} with too little text "
              f"(< {settings.min_training_lines} lines or {settings.min_training_characters} characters) have no perplexity filter: {', '.join(small[:8])}{' ...' if len(small) > 8 else ''}")
    rescored_dir.mkdir(parents=True, exist_ok=True)
    marker, complete = folder.rescored_fingerprint, folder.rescored_complete
    complete.unlink(missing_ok=True)
    if not marker.is_file() or marker.read_text() != key:
        for stale in rescored_dir.glob("*.parquet"):
            stale.unlink()
        marker.write_text(key)
    targets = {path: str(folder.rescored_file(path)) for path in files}
    todo = [(path, target, str(kenlm_dir), bootstrapped) for path, target in targets.items() if not as_path(target).is_file()]
    if todo:
        with tqdm(total=len(todo), desc="rescore perplexity", unit="file", disable=not progress) as bar:
            for _ in ray_backend.run_tasks(rescore_file, todo):
                bar.update(1)
    for stale in set(rescored_dir.glob("*.parquet")) - {as_path(t) for t in targets.values()}:
        stale.unlink()  # annotated files no longer part of the run
    complete.write_text(key)
    return BootstrapOutcome(str(kenlm_dir), targets, index["languages"])



# --- the run's quality classifier (stages.quality.classifier_bootstrap) --------------------------------------


@dataclass(frozen=True)
class ClassifierOutcome:
    """The bootstrapped classifier's card (status ``trained`` or ``too_little_text``) and, when trained, the
    re-scored ``quality_score`` side files (annotated parquet -> bootstrap/quality parquet)."""

    card: dict
    quality_files: dict[str, str]

    @property
    def trained(self) -> bool:
        return self.card.get("status") == "trained"

    @property
    def threshold(self) -> float | None:
        return (self.card.get("calibration") or {}).get("min_quality_score") if self.trained else None

    @property
    def language_thresholds(self) -> dict[str, float]:
        """Languages whose own positives' calibration quantile is under the pooled threshold: theirs instead."""
        return dict((self.card.get("calibration") or {}).get("per_language") or {}) if self.trained else {}


# bumped when the same settings and annotations train a different classifier or card, so that a resumed run
# retrains it (2: the junk made per language in the example tasks, 2026-12-06; 3: per-language calibration; 4: a language's
# own quantile from 100 positives whatever the share)
CLASSIFIER_METHOD = 4


def classifier_fingerprint(settings, annotated: list[str]) -> str:
    digest = hashlib.sha256(json.dumps({"settings": settings.as_dict(), "method": CLASSIFIER_METHOD}, sort_keys=True).encode())
    for path in sorted(annotated):
        done = done_record_of(path)
        digest.update(Path(path).name.encode())
        digest.update(done.read_bytes() if done.is_file() else b"-")
    return digest.hexdigest()


# small languages' examples are made in up to EXAMPLE_TASKS tasks of at least EXAMPLE_TASK_ROWS rows (their feature
# lines on every core; a task of fewer rows costs more in reading every file and starting than it saves)
EXAMPLE_TASKS = 4
EXAMPLE_TASK_ROWS = 2_000


def classifier_examples_task(files: list[str], labels: list[str], counts: dict[str, int], settings, target: str) -> dict:
    """Ray task: each label's positives, heuristic negatives and generated junk, with their feature lines, written
    to the examples file ``target`` (:func:`~longtail.filters.classifier_bootstrap.write_examples`); returns its
    counts. Made here, in parallel tasks, rather than in the training task (on the scaling bench the junk and its
    lines were 7 of the training task's CPU s before its fold models started). Languages under the sample size are
    read together, each file once for all of them (one read per language and file was most of the classifier
    bootstrap's time on a crawl of many small languages); a bigger one is sampled by id hash."""
    from longtail.filters.classifier_bootstrap import example_line, examples_of_language, language_negatives, write_examples

    limit = 2 * settings.max_documents_per_language
    batch_rows = _batch_rows(files, [label for label in labels if counts[label] <= limit])
    languages = []
    for label in labels:
        rows = batch_rows.pop(label) if counts[label] <= limit else _language_rows_sample(files, label, limit)
        positives, failures = examples_of_language(rows, settings)
        junk = language_negatives(positives, label, settings)
        for row in positives:  # of a positive's text, its length decides whether a classifier is trained
            row["characters"] = len(row["text"])
        for row in positives + failures + junk:  # the feature line is all that is kept of the text
            row["line"] = example_line(row, settings.max_tokens)
            del row["text"]
        languages.append((label, positives, failures, junk))
    return write_examples(target, languages, settings)


def train_classifier_task(files: list[str], folder: str, settings, key: str) -> dict:
    """Ray task: the run's classifier from every language's annotations; returns the card (written last)."""
    from longtail.filters.classifier_bootstrap import NotEnoughExamples, bootstrap_classifier, combine_counts, run_here
    from longtail.pipeline import ray_backend

    # the example tasks and the fold models run as tasks of their own, on as many cores as are free (a fold model
    # on one thread: the same model on every run), on any node: the run folder is one every node reaches. They
    # pass the examples through files in it (classifier_bootstrap.write_examples): this task holds none.
    run = ray_backend.run_tasks if ray_backend.ray_is_running() else None
    limit = 2 * settings.max_documents_per_language
    counts = language_row_counts(files)
    examples_dir = f"{str(folder).rstrip('/')}/examples"
    tasks = []
    small_rows = sum(n for n in counts.values() if n <= limit)
    batch_rows = min(READ_BATCH_ROWS, max(EXAMPLE_TASK_ROWS, -(-small_rows // EXAMPLE_TASKS)))
    for batch in _read_batches(sorted(counts), counts, limit, batch_rows):  # small languages together, sampled ones alone
        small = [label for label in batch if counts[label] <= limit]
        tasks += [small] if small else []
        tasks += [[label] for label in batch if counts[label] > limit]
    example_files = [f"{examples_dir}/part-{index:05d}.parquet" for index in range(len(tasks))]
    arguments = [(files, labels, {label: counts[label] for label in labels}, settings, target) for labels, target in zip(tasks, example_files)]
    found = list((run or run_here)(classifier_examples_task, arguments))
    try:  # each fold task writes its model into the run's folder (local or an object store)
        card = bootstrap_classifier(example_files, combine_counts(found), folder, settings, run)
    except NotEnoughExamples as exc:
        card = {"kind": "fasttext-quality-classifier-bootstrap", "status": "too_little_text", "reason": str(exc), **exc.counts, "settings": settings.as_dict()}
    except Exception as exc:  # fastText diverged even at smaller steps (train_fold_model): no classifier, the run goes on
        if "NaN" not in str(exc):
            raise
        card = {"kind": "fasttext-quality-classifier-bootstrap", "status": "failed", "reason": f"fastText training diverged: {str(exc)[-300:]}",
                "settings": settings.as_dict()}
    finally:
        remove_tree(examples_dir)
    card["fingerprint"] = key
    return card


def language_row_counts(files: list[str]) -> dict[str, int]:
    """Annotated rows per language label (labels of a language only: no ``und``/``zxx``, safe names)."""
    counts: dict[str, int] = {}
    for path in files:
        if "lang_script" in read_schema(path).names:
            found = read_table(path, columns=["lang_script"]).column("lang_script").value_counts()
            for label, n in zip(found.field("values").to_pylist(), found.field("counts").to_pylist()):
                counts[label] = counts.get(label, 0) + n
    return {label: n for label, n in counts.items() if trainable_label(label)}


READ_BATCH_ROWS = 50_000  # rows of small languages read together: bounds the task's memory on a crawl of many


def _read_batches(labels: list[str], counts: dict[str, int], limit: int, batch_rows: int = READ_BATCH_ROWS) -> list[list[str]]:
    """``labels`` in order, cut into consecutive batches of at most ``batch_rows`` rows of languages under ``limit``."""
    batches, current, held = [], [], 0
    for label in labels:
        rows = counts[label] if counts[label] <= limit else 0  # a sampled language is read on its own
        if current and held + rows > batch_rows:
            batches.append(current)
            current, held = [], 0
        current.append(label)
        held += rows
    if current:
        batches.append(current)
    return batches


def rescore_quality_files(pairs: list[tuple[str, str]], folder: str, folds: int) -> list[str]:
    """Ray task: the bootstrapped classifier's score of every row of each ``(annotated, target)`` file (each row by
    the fold model that did not see it), row-aligned, each target written temp+rename; a target that exists is
    skipped (a retried or resumed task). Several files a task: the fold models load once (on the scaling bench
    they are ~90 MB each, their vocabulary holding every junk word, and loading both took 0.44 CPU s a file)."""
    import fasttext

    folder = local_tree(folder)  # an object-store run folder: fastText opens model files by name
    models = None
    for annotated, target in pairs:
        if as_path(target).is_file():
            continue
        models = models or [fasttext.load_model(str(Path(folder) / f"fold{k}.bin")) for k in range(folds)]
        _write_quality_scores(annotated, target, models)
    return [target for _, target in pairs]


def _write_quality_scores(annotated: str, target: str, models: list) -> None:
    from longtail.filters.classifier_bootstrap import feature_line, fold_of, good_probability, script_of

    labels, scores = [], []
    for doc_id, lang, label, script, text in _file_rows(annotated, ("id", "lang", "lang_script", "script", "text")):
        labels.append(label)
        if not text or not label or lang in NON_LANGUAGE:
            scores.append(None)
        else:
            scores.append(good_probability(models[fold_of(doc_id, len(models))], feature_line(text, script or script_of(label))))
    out = pa.table({"lang_script": pa.array(labels, pa.string()), "quality_score": pa.array(scores, pa.float32())})
    with atomic_path(target) as tmp:
        pq.write_table(out, tmp)


def file_groups(files: list[str], groups: int) -> list[list[str]]:
    """``files`` in at most ``groups`` lists of about equal rows (the largest first into the emptiest list), each
    in path order: tasks that share a fixed cost per task, still spread over the cluster's cores."""
    with ThreadPoolExecutor(max_workers=16) as pool:  # files on an object store: one footer read each, in parallel
        counts = list(pool.map(parquet_rows, files))
    rows = sorted(zip(counts, files), key=lambda item: (-item[0], item[1]))
    heap = [(0, index) for index in range(max(1, min(groups, len(files))))]
    lists: list[list[str]] = [[] for _ in heap]
    for n, path in rows:
        held, index = heapq.heappop(heap)
        lists[index].append(path)
        heapq.heappush(heap, (held + n, index))
    return [sorted(group) for group in lists if group]


# a calibrated threshold under this drops almost no document. On bigger crawls the pooled quantile of the positives'
# scores can fall to about 0, as each language scores on a scale of its own (0.0002 on the scaling bench at lr 0.5;
# docs/quality.md): said on the console and in the run log, so that a run does not look filtered when it is not
NEAR_ZERO_THRESHOLD = 0.01


def near_zero_threshold_warning(card: dict) -> str | None:
    """The warning for a trained classifier ``card`` whose calibrated threshold is under :data:`NEAR_ZERO_THRESHOLD`."""
    threshold = (card.get("calibration") or {}).get("min_quality_score")
    if card.get("status") != "trained" or threshold is None or threshold >= NEAR_ZERO_THRESHOLD:
        return None
    salad = (card.get("heldout") or {}).get("auc", {}).get("word_salad")
    share = (card.get("settings") or {}).get("calibration_positive_share")
    under = f"{100 * share:g}% of its {card.get('positive_documents')} positives score under it" if share is not None else f"from its {card.get('positive_documents')} positives"
    return (f"quality classifier: its calibrated threshold is {threshold} ({under}), "
            f"so it drops almost no document; out-of-fold AUC against word salad {salad}. The languages of a big crawl score on "
            f"scales of their own (docs/quality.md); selection.defaults.min_quality_score sets a threshold instead")


def run_classifier_bootstrap(manifest, files: list[str], progress: bool = True) -> ClassifierOutcome | None:
    """Train the run's quality classifier and re-score ``quality_score`` into bootstrap/quality/ (None when
    ``stages.quality.classifier_bootstrap`` is off). Keyed by a fingerprint of the annotations and the settings:
    ``longtail select`` after a threshold change retrains and re-scores nothing; a crash re-scores only the
    files without a side file."""
    from tqdm import tqdm

    from longtail.pipeline import ray_backend

    settings = manifest.quality.classifier_bootstrap
    folder = RunFolder(manifest.output)
    model_dir, scored_dir, card_path = folder.classifier, folder.rescored_quality, folder.classifier_card
    if settings is None:
        remove_tree(model_dir)
        remove_tree(scored_dir)
        return None
    key = classifier_fingerprint(settings, files)
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    if card.get("fingerprint") != key:
        remove_tree(scored_dir)  # scores of an old model must not survive it
        partial = folder.bootstrap / f".classifier-{key[:16]}.partial"
        for stale in folder.bootstrap.glob(".classifier-*.partial"):
            remove_tree(stale)
        partial.mkdir(parents=True, exist_ok=True)
        with tqdm(total=1, desc="bootstrap classifier", unit="model", disable=not progress) as bar:
            card = next(iter(ray_backend.run_tasks(train_classifier_task, [(files, str(partial), settings, key)])))
            bar.update(1)
        (partial / card_path.name).write_text(json.dumps(card, indent=2, ensure_ascii=False))  # the card last
        if is_url(model_dir):  # no rename on an object store: copied, the card last
            replace_tree(partial, model_dir, last=(card_path.name,))
        else:
            old = folder.bootstrap / ".classifier.old"
            remove_tree(old)
            if model_dir.exists():
                model_dir.rename(old)
            partial.rename(model_dir)
            remove_tree(old)
    runlog = logging.getLogger(RUNLOG)
    if card.get("status") != "trained":
        message = f"quality classifier not bootstrapped: {card.get('reason')}; no classifier filter applies"
        runlog.info(message)
        if progress:
            print(message)
        remove_tree(scored_dir)
        return ClassifierOutcome(card, {})
    runlog.info("bootstrap classifier: %d positives, held-out AUC %s, threshold %s", card["positive_documents"], card["heldout"]["auc"], card["calibration"]["min_quality_score"])
    warning = near_zero_threshold_warning(card) if "min_quality_score" not in manifest.explicit_defaults else None
    if warning:
        runlog.warning(warning)
        if progress:
            print(warning)
    scored_dir.mkdir(parents=True, exist_ok=True)
    marker, complete = scored_dir / "FINGERPRINT", scored_dir / "COMPLETE"
    complete.unlink(missing_ok=True)
    if not marker.is_file() or marker.read_text() != key:
        for stale in scored_dir.glob("*.parquet"):
            stale.unlink()
        marker.write_text(key)
    targets = {path: str(scored_dir / Path(path).name) for path in files}
    todo = [path for path, target in targets.items() if not as_path(target).is_file()]
    if todo:
        # two tasks a core: the fold models load once a task, and a big file does not leave a core idle at the end
        groups = file_groups(todo, 2 * ray_backend.cluster_cpus())
        tasks = [([(path, targets[path]) for path in group], str(model_dir), settings.folds) for group in groups]
        with tqdm(total=len(todo), desc="rescore quality", unit="file", disable=not progress) as bar:
            for done in ray_backend.run_tasks(rescore_quality_files, tasks):
                bar.update(len(done))
    for stale in set(scored_dir.glob("*.parquet")) - {as_path(t) for t in targets.values()}:
        stale.unlink()
    complete.write_text(key)
    return ClassifierOutcome(card, targets)

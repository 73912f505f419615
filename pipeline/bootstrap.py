"""Bootstrapped KenLM models: for a language without a reference corpus, train on the run's own documents.

1. Candidates: the language's annotated documents that pass strict LID (``strict_lid``, lowered to the
   language's median LID score when that is lower; see filters/calibration.py) and the heuristic
   rules (length, letters, repetition) and are not templated.
2. A deterministic fifth of the candidates (by id hash) is held out. Negatives for measuring separation:
   the language's documents that failed those checks, documents of other languages in the run (wrong-language
   text), and letter-shuffled copies of the held-out documents (garbled text in the right alphabet).
3. Iteration 0 trains on the remaining candidates; iteration 1 scores them with that model, keeps the head
   (perplexity at or below the ``head_percentile``) and retrains. The iteration whose held-out ROC-AUC (held-out
   candidates vs negatives, by perplexity) is higher is kept; ties keep iteration 0 (more data).
The model card records the candidates, both iterations' AUC and which one was kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import regex

from longtail.filters.calibration import strict_lid_threshold
from longtail.filters.kenlm_model import KenLMScorer, model_paths, train_kenlm
from longtail.filters.perplexity_buckets import percentile
from longtail.filters.quality import EmptyTextFilter, LanguageFilter, RepetitionFilter, SymbolFilter, Thresholds, TooShortFilter, first_failure
from longtail.filters.quality_eval import roc_auc
from longtail.filters.templated import templated_scores

from .calibrate import read_annotations

STRICT_FILTERS = (EmptyTextFilter(), LanguageFilter(), TooShortFilter(), SymbolFilter(), RepetitionFilter())
COLUMNS = ["id", "url", "text", "lang", "script", "lang_script", "lang_score", "n_words", "letter_ratio", "dup_line_frac", "top_2gram_frac", "dup_5gram_frac", "extract_error"]


@dataclass(frozen=True)
class BootstrapSettings:
    strict_lid: float = 0.9
    head_percentile: float = 70.0
    heldout_share: float = 0.2
    max_other_language_negatives: int = 200
    min_candidates: int = 5
    order: int = 5
    unit: str = "grapheme"
    memory: str = "10%"


def _heldout(doc_id: str, share: float) -> bool:
    return int(hashlib.sha1(doc_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF < share


def _shuffled(text: str, rng: random.Random) -> str:
    def shuffle(word: str) -> str:
        # grapheme clusters, not code points: a Devanagari vowel sign or a Yoruba tone mark stays on its letter
        letters = regex.findall(r"\X", word)
        rng.shuffle(letters)
        return "".join(letters)
    return " ".join(shuffle(w) for w in text.split())


def split_candidates(rows: list[dict], settings: BootstrapSettings, limits: Thresholds | None = None) -> tuple[list[dict], list[dict]]:
    """(candidates, rejected) for one language."""
    strict_lid = strict_lid_threshold([r.get("lang_score") for r in rows], settings.strict_lid)
    limits = (limits or Thresholds()).updated({"min_lang_score": strict_lid})
    templated = templated_scores([r["text"] for r in rows], [r.get("url") for r in rows], [r.get("script") or "Zyyy" for r in rows])
    candidates, rejected = [], []
    for row, score in zip(rows, templated):
        ok = not row.get("extract_error") and first_failure(row, limits, STRICT_FILTERS) is None and score < limits.templated_threshold
        (candidates if ok else rejected).append(row)
    return candidates, rejected


def _separation(models_dir: Path, label: str, heldout: list[str], negatives: list[str]) -> float | None:
    scorer = KenLMScorer(str(models_dir))
    positives = [-p for p in (scorer.perplexity(t, label) for t in heldout) if p is not None]
    negative_scores = [-p for p in (scorer.perplexity(t, label) for t in negatives) if p is not None]
    return roc_auc(positives, negative_scores)


def bootstrap_kenlm(output: str | Path, label: str, models_dir: str | Path, settings: BootstrapSettings = BootstrapSettings(), log=print) -> dict:
    """Train ``<models_dir>/<label>.binary`` from the run's annotations; return the bootstrap record."""
    by_language = read_annotations(output, COLUMNS)
    if label not in by_language:
        raise ValueError(f"no annotated documents labelled {label} under {output}")
    candidates, rejected = split_candidates(by_language[label], settings)
    heldout = [r for r in candidates if _heldout(r["id"], settings.heldout_share)]
    train = [r for r in candidates if not _heldout(r["id"], settings.heldout_share)]
    if len(train) < settings.min_candidates or not heldout:
        raise ValueError(f"{label}: only {len(candidates)} documents pass strict LID and heuristics ({len(train)} to train, {len(heldout)} held out); need {settings.min_candidates}+ and 1+")
    rng = random.Random(label)  # per-language, deterministic
    others = sorted((r for lab, rows in by_language.items() if lab != label for r in rows if r.get("text")), key=lambda r: r["id"])
    negatives = [r["text"] for r in rejected if r.get("text")]
    negatives += [r["text"] for r in others[: settings.max_other_language_negatives]]
    negatives += [_shuffled(r["text"], rng) for r in heldout]
    heldout_texts = [r["text"] for r in heldout]

    iterations = []
    with tempfile.TemporaryDirectory(dir=Path(models_dir).parent if Path(models_dir).parent.exists() else None) as tmp:
        def fit(name: str, docs: list[dict]) -> Path:
            folder = Path(tmp) / name
            train_kenlm([d["text"] for d in docs], label, folder, order=settings.order, unit=settings.unit, memory=settings.memory)
            return folder

        first = fit("iter0", train)
        iterations.append({"iteration": 0, "documents": len(train), "heldout_auc": _separation(first, label, heldout_texts, negatives)})
        scorer = KenLMScorer(str(first))
        scored = [(scorer.perplexity(d["text"], label), d) for d in train]
        cut = percentile(sorted(p for p, _ in scored if p is not None), settings.head_percentile)
        head = [d for p, d in scored if p is not None and p <= cut]
        second = None
        if len(head) >= settings.min_candidates and len(head) < len(train):
            second = fit("iter1", head)
            iterations.append({"iteration": 1, "documents": len(head), "heldout_auc": _separation(second, label, heldout_texts, negatives), "head_perplexity_cut": round(cut, 3)})
        else:
            iterations.append({"iteration": 1, "documents": len(head), "heldout_auc": None, "skipped": "head too small or identical to iteration 0"})
        improved = second is not None and iterations[0]["heldout_auc"] is not None and (iterations[1]["heldout_auc"] or 0) > iterations[0]["heldout_auc"]
        chosen_dir, chosen = (second, 1) if improved else (first, 0)
        binary, card = model_paths(models_dir, label)
        binary.parent.mkdir(parents=True, exist_ok=True)
        src_binary, src_card = model_paths(chosen_dir, label)
        shutil.copyfile(src_binary, binary.with_suffix(".binary.tmp"))
        os.replace(binary.with_suffix(".binary.tmp"), binary)
        record = {
            "source": str(Path(output).resolve()),
            "settings": asdict(settings),
            "candidates": len(candidates),
            "rejected": len(rejected),
            "heldout_documents": len(heldout),
            "negatives": len(negatives),
            "iterations": iterations,
            "chosen_iteration": chosen,
        }
        card_data = json.loads(src_card.read_text())
        card_data["bootstrap"] = record
        card.with_suffix(".json.tmp").write_text(json.dumps(card_data, indent=2, ensure_ascii=False))
        os.replace(card.with_suffix(".json.tmp"), card)
    log(f"bootstrap {label}: {len(candidates)} candidates, held-out AUC " + ", ".join(f"iter{i['iteration']}={i['heldout_auc']:.3f}" if i["heldout_auc"] is not None else f"iter{i['iteration']}=-" for i in iterations) + f"; kept iteration {chosen} -> {binary}")
    return record


def bootstrap_classifier_examples(output: str | Path, labels: list[str] | None, settings: BootstrapSettings = BootstrapSettings(), tail_percentile: float = 90.0) -> list[dict]:
    """Labelled examples from a run: good = candidates (strict LID + heuristics, not templated) in the head of their
    language's perplexity; bad = documents that fail the heuristic rules, and documents in the perplexity tail."""
    by_language = read_annotations(output, COLUMNS + ["perplexity"])
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

"""Per-language KenLM models: training with ``lmplz`` and perplexity scoring.

Tokens come from :func:`longtail.filters.words.lm_tokens`, so the same model works for Swahili words and
for Lao grapheme clusters. Every model has a JSON card next to it (language, order, training size,
normalisation, hashes, and the held-out perplexity percentiles that ``max_perplexity: auto`` uses).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from longtail.fileio import as_path, atomic_write_text

from longtail.filters.perplexity_buckets import percentile
from longtail.filters.words import is_unspaced, lm_token_form, lm_tokens

HELDOUT_PERCENTILES = (10, 25, 50, 75, 90, 95, 99)  # stored in the card; max_perplexity: auto reads one of them
NORMALISATION = "nfkc+casefold(cased scripts)+digits->0+punct->space"


class KenLMError(RuntimeError):
    pass


def find_tool(name: str, explicit: str | None = None) -> str:
    """Locate ``lmplz``/``build_binary``: explicit path, next to this Python (the setup puts them there), PATH."""
    candidates = [explicit] if explicit else []
    candidates += [str(Path(sys.executable).parent / name), shutil.which(name)]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise KenLMError(f"KenLM's {name} was not found (looked next to {sys.executable} and on PATH); run `make setup`")


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_paths(models_dir: str | Path, label: str) -> tuple[Path, Path]:
    base = as_path(models_dir) / label  # a bootstrapped model's card may be read from an object-store run folder
    return base.with_suffix(".binary"), base.with_suffix(".json")


def _lm_lines(texts: Iterable[str], script: str, unit: str = "grapheme", cache: dict | None = None) -> list[str]:
    """The model's lines of ``texts``: tokens joined by spaces, lines without tokens left out. ``cache``: a dict
    the caller keeps while it tokenizes the same lines again (a bootstrap trains and scores each line ~6 times)."""
    lines = []
    form = lm_token_form(script, unit)
    for text in texts:
        for line in text.splitlines():
            if cache is None:
                joined = " ".join(lm_tokens(line, script, unit))
            else:
                key = (form, line)
                joined = cache.get(key)
                if joined is None:
                    joined = cache[key] = " ".join(lm_tokens(line, script, unit))
            if joined:
                lines.append(joined)
    return lines


def token_count(line: str) -> int:
    """``len(line.split())`` of a model line (:func:`_lm_lines`), whose tokens are joined by single spaces, counted
    without a list of them (scoring counts every line it scores). A cluster that starts or ends with a space (a
    combining mark on a space) leaves a double, leading or trailing space, and is split as before."""
    if "  " in line or line[:1] == " " or line[-1:] == " ":
        return len(line.split())
    return line.count(" ") + 1 if line else 0


def card_percentiles(values: list[float]) -> dict[str, float]:
    """The ``HELDOUT_PERCENTILES`` of perplexities as a model card stores them (``{"p10": ...}``)."""
    ordered = sorted(values)
    return {f"p{q}": percentile(ordered, q) if ordered else float("nan") for q in HELDOUT_PERCENTILES}


_LMPLZ_UNITS = {"b": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
LMPLZ_MIN_MEMORY = 64 << 20  # lmplz refuses to start below its vocabulary hash estimate (24 MiB) plus sort blocks
LMPLZ_MEMORY_PER_TEXT_BYTE = 64  # sort memory that holds a 5-gram count of the text without spilling (measured up to 16 MB)
# A grapheme model's n-grams are few for its text (a small alphabet), and lmplz is cheapest with small sort blocks
# that spill to -T: 32M against the rule above cost 0.43 against 0.87 CPU s on 6.5 MB of English tokens, 7.0
# against 21.8 s on 207 MB, 11.7 against 13.0 s on 84 MB of 135 languages, never more; a word model's vocabulary
# spills far more (32M cost 10-25% more than 128M-1G on 6.5 and 41 MB of words), so words keep the rule above.
# ARPA output is byte-identical whatever -S (docs/performance.md, 2026-12-06 sixteenth session)
LMPLZ_GRAPHEME_MEMORY = 32 << 20


def lmplz_memory(memory: str, text_bytes: int, unit: str = "word") -> str:
    """lmplz's ``-S`` for ``text_bytes`` of training text in ``unit`` tokens: ``memory`` (lmplz's syntax: ``1G``,
    ``10%``, plain KiB) is the ceiling. A word model gets less for smaller text, down to ``LMPLZ_MIN_MEMORY``
    (at 1G a model of a few hundred KB of text cost ~0.15 CPU s in page faults against ~0.05 at 64M); a grapheme
    model gets ``LMPLZ_GRAPHEME_MEMORY`` whatever its size. The ARPA output is byte-identical either way."""
    memory = str(memory).strip()
    try:
        if memory.endswith("%"):
            ceiling = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * float(memory[:-1]) / 100
        elif memory[-1:] in _LMPLZ_UNITS:
            ceiling = float(memory[:-1]) * _LMPLZ_UNITS[memory[-1]]
        else:
            ceiling = float(memory) * 1024  # lmplz reads a bare number as KiB
    except (ValueError, OSError):
        return memory  # a spelling we do not parse goes to lmplz as given (it reports a bad one)
    wanted = LMPLZ_GRAPHEME_MEMORY if unit == "grapheme" else max(LMPLZ_MIN_MEMORY, LMPLZ_MEMORY_PER_TEXT_BYTE * text_bytes)
    return memory if wanted >= ceiling else f"{-(-wanted // (1 << 20))}M"


def _current_cpu() -> int | None:
    """The CPU this thread runs on (Linux: field 39 of /proc/thread-self/stat), or None."""
    try:
        stat = Path("/proc/thread-self/stat").read_text()
        return int(stat[stat.rindex(")") + 2:].split()[36])
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def children_on_this_cpu():
    """Processes started inside run on the one CPU this thread is on (where it can; elsewhere nothing changes).

    lmplz runs its pipeline stages as threads: spread over two cores they took 15-20% more CPU for the same wall
    time on a bootstrap's small models (the scaling bench's KenLM tasks: lmplz + build_binary 31.7 / 33.2 CPU s
    pinned, 38.2 / 39.6 not; docs/performance.md), and on a busy node they run on cores Ray gave to other tasks. A
    task that asked Ray for one CPU keeps its tools on one: the thread that waits for them leaves that CPU free.
    Only the calling thread's affinity changes (children inherit it), and it is restored on leaving."""
    cpu = _current_cpu()
    try:
        allowed = os.sched_getaffinity(0)
    except (AttributeError, OSError):  # no affinity API (not Linux)
        allowed = set()
    if cpu is None or cpu not in allowed or len(allowed) == 1:
        yield
        return
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


def _run_lmplz(lines: list[str], arpa: Path, order: int, memory: str, lmplz: str, unit: str) -> None:
    text = "\n".join(lines) + "\n"
    sort_memory = lmplz_memory(memory, len(text.encode("utf-8")), unit)
    cmd = [lmplz, "-o", str(order), "-S", sort_memory, "-T", str(arpa.parent), "--discount_fallback", "--arpa", str(arpa)]
    proc = subprocess.run(cmd, input=text, text=True, capture_output=True)
    if proc.returncode != 0:
        raise KenLMError(f"lmplz failed ({proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}")


def _build(lines: list[str], base: Path, order: int, memory: str, lmplz: str, build_binary: str, unit: str) -> Path:
    arpa, binary = base.with_suffix(".arpa"), base.with_suffix(".binary")
    with children_on_this_cpu():  # both tools, on the CPU of the task that waits for them
        _run_lmplz(lines, arpa, order, memory, lmplz, unit)
        proc = subprocess.run([build_binary, str(arpa), str(binary)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise KenLMError(f"build_binary failed: {proc.stderr.strip()[-300:]}")
    return binary


def train_kenlm(
    texts: Iterable[str],
    label: str,
    models_dir: str | Path,
    order: int = 5,
    unit: str = "grapheme",
    memory: str = "10%",
    heldout_share: float = 0.2,
    seed: int = 0,
    lmplz: str | None = None,
    build_binary: str | None = None,
    heldout_folds: int = 1,
    line_folds: list[int] | None = None,
    fold_models_dir: str | Path | None = None,
    token_cache: dict | None = None,
    fold_line_scores: dict | None = None,
    final: bool = True,
) -> Path | None:
    """Train ``<models_dir>/<label>.binary`` and its card; return the binary's path (None with ``final=False``:
    the card and the fold models only, for a caller that scores with the fold models alone).

    The card's held-out perplexity (what ``max_perplexity: auto`` scales) is measured on lines the measuring
    model did not see: with ``heldout_folds=1`` a ``heldout_share`` of the lines is held out once; with
    ``heldout_folds=k`` every line is scored by a model trained on the other k-1 folds, which costs k builds but
    gives a stable median when there are only a few dozen lines (bootstrapped models); with ``heldout_folds=0``
    nothing is held out (one build; the card's held-out perplexity is empty: for a model used only to rank lines).
    The final model is then trained on all lines.

    ``line_folds`` (one fold number below ``heldout_folds`` per text, e.g. the fold of the document a line came
    from) replaces the random folds; with ``fold_models_dir`` the k fold models are kept as
    ``<fold_models_dir>/fold<k>/<label>.binary`` (+ card), so that a document of fold k can be scored by a model
    that never saw it (cross-fitting, pipeline/bootstrap.py). A fold whose complement has under 5 lines gets no
    model. ``token_cache``: see :func:`_lm_lines`. ``fold_line_scores``: a dict filled with ``{k: {line: log10
    probability}}`` of the lines (tokens joined) that fold k's model scored, for a caller that scores the same
    documents with the fold models again (:class:`KenLMScorer`'s ``line_scores``).
    """
    script = label.split("_", 1)[1] if "_" in label else "Latn"
    unit = "grapheme" if is_unspaced(script) else unit
    texts = list(texts)
    if not final and fold_models_dir is None:
        raise ValueError("final=False keeps only the fold models: give fold_models_dir")
    if line_folds is not None and len(line_folds) != len(texts):
        raise ValueError(f"line_folds has {len(line_folds)} entries for {len(texts)} texts")
    lines, given_folds = [], []
    for index, text in enumerate(texts):
        for line in _lm_lines([text], script, unit, token_cache):
            lines.append(line)
            given_folds.append(line_folds[index] if line_folds is not None else None)
    if len(lines) < 5:
        raise KenLMError(f"{label}: need at least 5 lines of training text, got {len(lines)}")
    lmplz_bin = find_tool("lmplz", lmplz)
    binary_bin = find_tool("build_binary", build_binary)
    binary_path, card_path = model_paths(models_dir, label)
    binary_path.parent.mkdir(parents=True, exist_ok=True)

    by_document = line_folds is not None and len(set(given_folds)) >= 2
    with tempfile.TemporaryDirectory(dir=binary_path.parent) as tmp:
        tmp_dir = Path(tmp)
        import kenlm

        heldout_ppl, fold_models = [], []
        if line_folds is not None:
            # cross-fitting models: fold k's model is trained on the lines of every other fold
            for k in range(heldout_folds):
                rest = [line for line, fold in zip(lines, given_folds) if fold != k]
                if len(rest) < 5:
                    continue  # (nearly) all text is in this fold: nothing unseen to score its documents with
                probe_path = _build(rest, tmp_dir / f"fold{k}", order, memory, lmplz_bin, binary_bin, unit)
                if by_document:
                    probe = kenlm.Model(str(probe_path))
                    scores = {} if fold_line_scores is None else fold_line_scores.setdefault(k, {})
                    for line, fold in zip(lines, given_folds):
                        if fold == k:
                            scores[line] = log10_prob = probe.score(line, bos=True, eos=True)
                            heldout_ppl.append(_perplexity(log10_prob, line))
                if fold_models_dir is not None:
                    fold_binary, fold_card = model_paths(Path(fold_models_dir) / f"fold{k}", label)
                    fold_binary.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(probe_path, fold_binary)
                    atomic_write_text(fold_card, json.dumps({"label": label, "order": order, "unit": unit, "fold": k,
                                                             "folds": heldout_folds, "training_lines": len(rest)}, indent=2))
                    fold_models.append(k)
        if not by_document and heldout_folds > 0:
            # random folds of lines (one document holds all the text, or no documents were given)
            rng = random.Random(seed)
            shuffled = lines[:]
            rng.shuffle(shuffled)
            # folds are sets of positions, not of lines: a repeated line may sit on both sides
            positions = range(len(shuffled))
            if heldout_folds > 1:
                folds = [set(positions[i::heldout_folds]) for i in range(min(heldout_folds, len(shuffled)))]
            else:
                folds = [set(positions[: max(1, int(len(shuffled) * heldout_share))])]
            for index, fold in enumerate(folds):
                rest = [line for j, line in enumerate(shuffled) if j not in fold]
                probe = kenlm.Model(str(_build(rest, tmp_dir / f"probe{index}", order, memory, lmplz_bin, binary_bin, unit)))
                heldout_ppl += [_perplexity(probe.score(shuffled[j], bos=True, eos=True), shuffled[j]) for j in sorted(fold)]
        if final:
            os.replace(_build(lines, tmp_dir / "model", order, memory, lmplz_bin, binary_bin, unit), binary_path)

    card = {
        "label": label,
        "order": order,
        "training_lines": len(lines),
        "training_tokens": sum(map(token_count, lines)),
        "normalisation": NORMALISATION,
        "unit": unit,
        "heldout_lines": len(heldout_ppl),
        "heldout_method": ((f"{heldout_folds}-fold by document" if by_document else f"{heldout_folds}-fold")
                           if heldout_folds > 1 else f"{heldout_share:.0%} of lines") if heldout_folds > 0 else "none",
        "heldout_perplexity": card_percentiles(heldout_ppl),
        "training_text_sha256": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
        "model_sha256": sha256_file(binary_path) if final else None,
    }
    if fold_models_dir is not None:
        card["fold_models"] = {"folds": heldout_folds, "trained": fold_models}
    atomic_write_text(card_path, json.dumps(card, indent=2, ensure_ascii=False))
    return binary_path if final else None


def _perplexity(log10_prob: float, line: str) -> float:
    """A line's perplexity from its log10 probability (``model.score(line, bos=True, eos=True)``)."""
    n = token_count(line) + 1  # + </s>
    return 10 ** (-log10_prob / n)


@dataclass
class KenLMScorer:
    """Scores documents with the model of their language; languages without a model get no score."""

    models_dir: str
    token_cache: dict | None = None  # see _lm_lines: for a caller that scores the same lines with several models
    # {line (tokens joined): log10 probability} under this folder's model, already known (train_kenlm's
    # fold_line_scores): for a folder of one label's model only
    line_scores: dict | None = None

    def __post_init__(self):
        self._models: dict[str, tuple[object, str]] = {}
        self._missing: set[str] = set()

    def _model(self, label: str):
        if label in self._models or label in self._missing:
            return self._models.get(label)
        binary, _ = model_paths(self.models_dir, label)
        if not binary.is_file():
            self._missing.add(label)
            return None
        import kenlm

        unit = (load_card(self.models_dir, label) or {}).get("unit", "grapheme")
        self._models[label] = (kenlm.Model(str(binary)), unit)
        return self._models[label]

    def perplexity(self, text: str, label: str) -> float | None:
        loaded = self._model(label)
        if loaded is None:
            return None
        model, unit = loaded
        script = label.split("_", 1)[1]
        lines = _lm_lines([text], script, unit, self.token_cache)
        if not lines:
            return None
        known = self.line_scores or {}
        log10_prob = sum(known[line] if line in known else model.score(line, bos=True, eos=True) for line in lines)
        n_tokens = sum(map(token_count, lines)) + len(lines)  # + </s> per line
        return 10 ** (-log10_prob / n_tokens)


def load_card(models_dir: str | Path, label: str) -> dict | None:
    _, card = model_paths(models_dir, label)
    return json.loads(card.read_text()) if card.is_file() else None

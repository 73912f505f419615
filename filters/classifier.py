"""fastText quality classifier: trained by longtail from labelled examples, applied as a score column.

Character n-grams (2-5) make one multilingual model usable for every script, including scripts without
spaces, where word features would be whole phrases.
"""

from __future__ import annotations

import json
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from longtail.fileio import atomic_path, atomic_write_text

from longtail.filters.kenlm_model import sha256_file
from longtail.filters.words import normalise

GOOD, BAD = "good", "bad"


def classifier_line(text: str, script: str) -> str:
    return normalise(text, script)


def _script_of(label: str | None) -> str:
    return label.split("_", 1)[1] if label and "_" in label else "Latn"


# fastText 0.9.2 (fasttext-numpy2-wheel) trains the same model from the same file only in a new process: in a
# process that trained before, one thread and a fixed seed gave other models, and now and then "Encountered NaN"
# (8 trainings of one file in one process: 4 different models and a NaN; in 8 new processes, one model). Ray reuses
# its worker processes, so the run's classifier changed from run to run. A new Python for each training costs
# ~0.2 s against the fold's seconds.
_TRAIN = ("import json, sys\nimport fasttext\nargs = json.loads(sys.argv[1])\n"
          "fasttext.train_supervised(input=args['input'], **args['params']).save_model(args['output'])\n")


def train_in_new_process(train_file, params: dict, model_file) -> None:
    """``fasttext.train_supervised(input=train_file, **params)`` saved to ``model_file``, trained in a new Python
    process (see ``_TRAIN``); fastText's errors (e.g. "Encountered NaN") are raised here as RuntimeError."""
    import json
    import subprocess
    import sys

    arguments = json.dumps({"input": str(train_file), "params": params, "output": str(model_file)})
    done = subprocess.run([sys.executable, "-c", _TRAIN, arguments], capture_output=True, text=True)
    if done.returncode != 0:  # the child's last line is fastText's message, e.g. "RuntimeError: Encountered NaN."
        raise RuntimeError(f"fastText training failed: {(done.stderr.strip().splitlines() or [f'exit code {done.returncode}'])[-1]}")


def train_classifier(
    examples: Iterable[dict],
    model_path: str | Path,
    heldout_share: float = 0.2,
    seed: int = 0,
    epochs: int = 25,
    card_extra: dict | None = None,
) -> dict:
    """Train from ``{"label": "good"|"bad", "text": ..., "lang_script": ...}`` rows; return the card.

    Held-out precision/recall (for ``good``) are measured on a seeded split, then the model is retrained on
    everything and saved with the card next to it (``card_extra`` is merged into the card). Both files are
    replaced atomically.
    """
    import fasttext

    rows = [r for r in examples if r.get("label") in (GOOD, BAD) and r.get("text", "").strip()]
    if len({r["label"] for r in rows}) < 2:
        raise ValueError("the classifier needs both 'good' and 'bad' examples")
    rng = random.Random(seed)
    rng.shuffle(rows)
    n_heldout = max(2, int(len(rows) * heldout_share))
    heldout, train = rows[:n_heldout], rows[n_heldout:]
    params = dict(minn=2, maxn=5, dim=32, epoch=epochs, lr=0.5, wordNgrams=1, seed=seed, thread=1, verbose=0)

    model_path = Path(model_path)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=model_path.parent) as tmp:
        def fit(subset):
            train_file = Path(tmp) / "train.txt"
            with open(train_file, "w", encoding="utf-8") as handle:
                for row in subset:
                    handle.write(f"__label__{row['label']} {classifier_line(row['text'], _script_of(row.get('lang_script')))}\n")
            train_in_new_process(train_file, params, Path(tmp) / "model.bin")
            return fasttext.load_model(str(Path(tmp) / "model.bin"))

        probe = fit(train)
        tp = fp = fn = tn = 0
        for row in heldout:
            predicted_good = _good_probability(probe, classifier_line(row["text"], _script_of(row.get("lang_script")))) >= 0.5
            actual_good = row["label"] == GOOD
            tp += predicted_good and actual_good
            fp += predicted_good and not actual_good
            fn += (not predicted_good) and actual_good
            tn += (not predicted_good) and not actual_good
        final = fit(rows)
    with atomic_path(model_path) as tmp_model:
        final.save_model(str(tmp_model))

    card = {
        "kind": "fasttext-quality-classifier",
        "labels": [GOOD, BAD],
        "training_examples": len(rows),
        "languages": sorted({r.get("lang_script") or "unknown" for r in rows}),
        "params": params,
        "heldout": {
            "examples": len(heldout),
            "precision_good": tp / (tp + fp) if tp + fp else 0.0,
            "recall_good": tp / (tp + fn) if tp + fn else 0.0,
            "accuracy": (tp + tn) / len(heldout),
        },
        "model_sha256": sha256_file(model_path),
        **(card_extra or {}),
    }
    # Written after the model: a model without its card counts as not trained (train_default_classifier).
    atomic_write_text(model_path.with_suffix(".json"), json.dumps(card, indent=2))
    return card


def _good_probability(model, line: str) -> float:
    labels, probs = model.predict(line, k=2)
    for label, prob in zip(labels, probs):
        if label == f"__label__{GOOD}":
            return float(min(prob, 1.0))
    return 0.0


@dataclass
class QualityClassifier:
    """Loads the model in ``setup()``; returns P(good) per document."""

    model_path: str

    def __post_init__(self):
        self._model = None

    def setup(self) -> None:
        if self._model is None:
            import fasttext

            if not Path(self.model_path).is_file():
                raise FileNotFoundError(f"quality classifier not found at {self.model_path}; train it with `longtail train-classifier`")
            self._model = fasttext.load_model(self.model_path)

    def score(self, text: str, label: str) -> float:
        self.setup()
        return _good_probability(self._model, classifier_line(text, _script_of(label)))

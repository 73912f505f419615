"""The models longtail trains itself: per-language KenLM models and the quality classifier."""

from __future__ import annotations

import json
from pathlib import Path

from longtail.filters.classifier import train_classifier
from longtail.filters.kenlm_model import model_paths, train_kenlm
from longtail.langid.labels import is_safe_label


def read_texts(path: Path, text_field: str = "text") -> list[str]:
    """Plain text (one paragraph per line) or JSONL with ``text_field``."""
    if path.suffix in (".jsonl", ".json"):
        return [json.loads(line)[text_field] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def train_kenlm_folder(reference_dir: str | Path, models_dir: str | Path, order: int = 5, unit: str = "grapheme", force: bool = False, log=print) -> list[Path]:
    """Train one model per ``<lang_script>.txt`` in ``reference_dir`` (skips models that exist unless ``force``)."""
    trained = []
    for text_file in sorted(Path(reference_dir).glob("*.txt")):
        label = text_file.stem
        if not is_safe_label(label):
            log(f"skip {text_file.name}: file name is not a lang_script label")
            continue
        binary, card = model_paths(models_dir, label)
        if binary.is_file() and card.is_file() and not force:
            continue
        train_kenlm(read_texts(text_file), label, models_dir, order=order, unit=unit)
        log(f"kenlm: trained {binary}")
        trained.append(binary)
    return trained


def train_default_classifier(examples_file: str | Path, model_path: str | Path, force: bool = False, log=print) -> dict | None:
    model_path = Path(model_path)
    # The card is written last: without it the training did not finish, so train again.
    if model_path.is_file() and model_path.with_suffix(".json").is_file() and not force:
        return None
    rows = [json.loads(line) for line in Path(examples_file).read_text(encoding="utf-8").splitlines() if line.strip()]
    card = train_classifier(rows, model_path)
    held = card["heldout"]
    log(f"classifier: trained {model_path} on {card['training_examples']} examples; held-out precision {held['precision_good']:.3f}, recall {held['recall_good']:.3f}")
    return card

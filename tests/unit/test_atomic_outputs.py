"""Model and calibration outputs are replaced atomically: a failure while writing leaves the previous file
untouched and no partial file where a later run would load it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from longtail.filters.calibration import CalibrationSettings
from longtail.filters.classifier import train_classifier
from longtail.fileio import atomic_path, atomic_write_text
from longtail.pipeline.tools.calibrate import plot_language, write_thresholds_yaml
from longtail.pipeline.models import train_default_classifier

GOOD = ["Wakulima wanasubiri msimu wa mvua ili waanze kupanda mbegu.", "Watoto wanakwenda shuleni asubuhi na mapema kila siku.",
        "Bei ya mahindi sokoni imepanda wiki hii kwa sababu ya ukame.", "Hospitali ya wilaya imepokea dawa mpya kutoka serikalini."]
EXAMPLES = [{"label": "good", "lang_script": "swa_Latn", "text": GOOD[i % 4] + " " + GOOD[(i + 1) % 4]} for i in range(20)] + \
           [{"label": "bad", "lang_script": "swa_Latn", "text": " ".join(["bonasi kasino bei nafuu"] * (2 + i % 5))} for i in range(20)]


class DiskFull(OSError):
    pass


def half_then_fail(data: bytes):
    """A writer that gets half way through ``data`` and then fails, as a crash or a full disk would."""
    def write(path) -> None:
        Path(path).write_bytes(data[: len(data) // 2])
        raise DiskFull("no space left on device")
    return write


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp"))


def test_atomic_path_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "thresholds.yaml"
    target.write_text("old: 1\n")
    with pytest.raises(DiskFull):
        with atomic_path(target) as tmp:
            half_then_fail(b"new: 2\nmore: 3\n")(tmp)
    assert target.read_text() == "old: 1\n" and leftovers(tmp_path) == []
    atomic_write_text(target, "new: 2\n")
    assert target.read_text() == "new: 2\n" and leftovers(tmp_path) == []


def test_classifier_model_and_card_survive_a_failed_retraining(tmp_path, monkeypatch):
    import fasttext.FastText

    model = tmp_path / "classifier.bin"
    card = train_classifier(EXAMPLES, model, epochs=5, card_extra={"bootstrap": {"good": 20}})  # bootstrap-classifier's card, written once
    old_model, old_card = model.read_bytes(), model.with_suffix(".json").read_text()
    assert json.loads(old_card) == card and card["bootstrap"] == {"good": 20}
    files = ["classifier.bin", "classifier.json"]  # and no temp files or folders, after any failure below

    with monkeypatch.context() as patch:
        patch.setattr(fasttext.FastText._FastText, "save_model", lambda self, path: half_then_fail(old_model)(path))
        with pytest.raises(DiskFull):
            train_classifier(EXAMPLES, model, epochs=5, seed=1)
    assert model.read_bytes() == old_model and model.with_suffix(".json").read_text() == old_card
    assert sorted(p.name for p in tmp_path.iterdir()) == files

    with monkeypatch.context() as patch:
        patch.setattr(Path, "write_text", lambda self, text, *a, **k: half_then_fail(text.encode())(self))
        with pytest.raises(DiskFull):
            train_classifier(EXAMPLES, model, epochs=5, seed=1)
    assert model.with_suffix(".json").read_text() == old_card  # the model is new and complete; the card is not half-written
    assert sorted(p.name for p in tmp_path.iterdir()) == files


def test_a_classifier_without_its_card_is_trained_again(tmp_path, monkeypatch):
    import longtail.filters.classifier as classifier

    examples = tmp_path / "train.jsonl"
    examples.write_text("".join(json.dumps(e) + "\n" for e in EXAMPLES))
    model = tmp_path / "classifier.bin"

    def crash(path, text):
        raise DiskFull("killed before the card was written")

    with monkeypatch.context() as patch:
        patch.setattr(classifier, "atomic_write_text", crash)
        with pytest.raises(DiskFull):
            train_default_classifier(examples, model, log=lambda _: None)
    assert model.is_file() and not model.with_suffix(".json").exists()
    card = train_default_classifier(examples, model, log=lambda _: None)  # the card is missing: not skipped
    assert card is not None and json.loads(model.with_suffix(".json").read_text())["model_sha256"] == card["model_sha256"]
    assert train_default_classifier(examples, model, log=lambda _: None) is None  # complete now: skipped


def test_calibration_yaml_survives_a_failed_write(tmp_path, monkeypatch):
    target = tmp_path / "calibration" / "thresholds.yaml"
    results = {"yor_Latn": {"thresholds": {"min_letter_ratio": 0.7}}}
    write_thresholds_yaml(results, CalibrationSettings(), target, "run-1")
    old = target.read_text()

    monkeypatch.setattr(Path, "write_text", lambda self, text, *a, **k: half_then_fail(text.encode())(self))
    with pytest.raises(DiskFull):
        write_thresholds_yaml({"yor_Latn": {"thresholds": {"min_letter_ratio": 0.5}}}, CalibrationSettings(), target, "run-2")
    assert target.read_text() == old and leftovers(target.parent) == []
    assert yaml.safe_load(old)["languages"] == {"yor_Latn": {"min_letter_ratio": 0.7}}


def test_calibration_plot_survives_a_failed_write(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    rows = [{"letter_ratio": 0.8 + i / 100, "dup_line_frac": 0.0, "top_2gram_frac": 0.05, "dup_5gram_frac": 0.0} for i in range(10)]
    target = tmp_path / "plots" / "yor_Latn.png"
    plot_language("yor_Latn", rows, rows, {"min_letter_ratio": 0.7}, target)
    old = target.read_bytes()
    assert old[:8] == b"\x89PNG\r\n\x1a\n"

    monkeypatch.setattr(Figure, "savefig", lambda self, path, **k: half_then_fail(old)(path))
    with pytest.raises(DiskFull):
        plot_language("yor_Latn", rows, rows, {"min_letter_ratio": 0.6}, target)
    assert target.read_bytes() == old and leftovers(target.parent) == []

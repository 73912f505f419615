"""The run's bootstrapped quality classifier (``stages.quality.classifier_bootstrap``) on the sample crawl: too little
text as shipped (the card says so, no classifier filter), and trained when the minimum is lowered (card, cross-fitted
side files, reused by ``longtail select``)."""

from __future__ import annotations

import json
from dataclasses import replace

import pyarrow.parquet as pq

from longtail.filters.kenlm_model import sha256_file
from longtail.pipeline.run import reselect


def test_shipped_sample_has_too_little_text_for_a_classifier(sample_run):
    _, output, _ = sample_run
    card = json.loads((output / "bootstrap" / "classifier" / "card.json").read_text())
    assert card["status"] == "too_little_text" and card["positive_documents"] < 200
    assert not (output / "bootstrap" / "quality").exists()
    stats = json.loads((output / "stats" / "languages.json").read_text())
    assert all(s["classifier"] == {"rule": "bootstrap:too_little_text", "min_quality_score": None} for s in stats)
    assert all("quality:classifier" not in s["dropped"] for s in stats)
    models = json.loads((output / "stats" / "run.json").read_text())["models"]
    assert not [m for m in models if m["role"] == "classifier-bootstrap"]  # nothing trained, nothing scored


def test_classifier_trained_with_a_lower_minimum_is_cross_fitted_and_reused(sample_run_copy):
    manifest, output, _ = sample_run_copy
    settings = replace(manifest.quality.classifier_bootstrap, min_positive_documents=10, min_positive_characters=5000, epochs=5)
    manifest = replace(manifest, quality=replace(manifest.quality, classifier_bootstrap=settings))
    reselect(manifest, progress=False)
    card_path = output / "bootstrap" / "classifier" / "card.json"
    card = json.loads(card_path.read_text())
    assert card["status"] == "trained" and len(card["folds"]) == settings.folds
    assert set(card["heldout"]["auc"]) >= {"word_salad", "scrambled_letters"}
    threshold = card["calibration"]["min_quality_score"]
    for annotated in sorted((output / "annotated").glob("*.parquet")):
        side = pq.read_table(output / "bootstrap" / "quality" / annotated.name)
        assert side.num_rows == pq.read_metadata(annotated).num_rows
    stats = json.loads((output / "stats" / "languages.json").read_text())
    assert {s["classifier"]["rule"] for s in stats} == {"bootstrap"}
    assert all(s["classifier"]["min_quality_score"] == threshold for s in stats)
    # run.json names the fold models that scored the documents
    models = [m for m in json.loads((output / "stats" / "run.json").read_text())["models"] if m["role"] == "classifier-bootstrap"]
    assert [(m["fold"], m["sha256"]) for m in models] == [(i, fold["sha256"]) for i, fold in enumerate(card["folds"])]
    assert [m["sha256"] for m in models] == [sha256_file(output / "bootstrap" / "classifier" / fold["model"]) for fold in card["folds"]]
    before = card_path.stat().st_mtime_ns
    reselect(manifest, progress=False)  # same annotations and settings: nothing retrained
    assert card_path.stat().st_mtime_ns == before

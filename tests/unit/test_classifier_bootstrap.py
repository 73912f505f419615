"""The bootstrapped quality classifier's pure parts: junk generators, determinism, settings, the threshold rule."""

import random
from dataclasses import replace

import pytest

from longtail.filters import classifier_bootstrap as cb
from longtail.pipeline.bootstrap import ClassifierOutcome
from longtail.pipeline.finalize import classifier_rule
from longtail.pipeline.manifest import parse_manifest

TEXT = "The committee met on Monday to discuss the budget.\nMembers agreed that the school needs a new roof."


def test_word_salad_keeps_words_and_lines_changes_order():
    out = cb.word_salad(TEXT, "Latn", random.Random(1))
    assert out != TEXT
    for a, b in zip(TEXT.split("\n"), out.split("\n")):
        assert sorted(a.split()) == sorted(b.split())


def test_scrambled_letters_keeps_first_and_last_grapheme():
    out = cb.scrambled_letters("wonderful committee", "Latn", random.Random(3))
    for a, b in zip("wonderful committee".split(), out.split()):
        assert (a[0], a[-1], sorted(a)) == (b[0], b[-1], sorted(b))


def test_unspaced_scripts_get_junk_too():
    text = "我们是中国人民的朋友也是世界人民的朋友"
    assert sorted(cb.word_salad(text, "Hani", random.Random(0))) == sorted(text)
    assert cb.feature_line(text, "Hani").split() == list(text)  # grapheme clusters as words


def test_mojibake_only_for_non_ascii_text():
    assert cb.mojibake("plain ascii text", "Latn", random.Random(0)) is None
    assert cb.mojibake("été à Noël", "Latn", random.Random(0)) == "Ã©tÃ© Ã\xa0 NoÃ«l"


def test_generated_negatives_are_seeded_and_deterministic():
    positives = [{"id": f"d{i}", "lang_script": "eng_Latn", "script": "Latn", "text": TEXT} for i in range(9)]
    settings = cb.ClassifierBootstrapSettings()
    first, second = cb.generated_negatives(positives, settings), cb.generated_negatives(list(reversed(positives)), settings)
    assert first == second
    assert {n["kind"] for n in first} == {"word_salad", "scrambled_letters"}  # ASCII text: no mojibake
    assert cb.generated_negatives(positives, replace(settings, seed=1)) != first
    assert all(cb.fold_of(n["id"], 4) == cb.fold_of(n["id"], 4) for n in first)  # junk keeps its source's id (fold)


def test_too_few_positives_raise_with_counts(tmp_path):
    positives = [{"id": "a", "lang_script": "eng_Latn", "script": "Latn", "text": TEXT}]
    with pytest.raises(cb.NotEnoughExamples) as info:
        cb.bootstrap_classifier(positives, [], tmp_path, cb.ClassifierBootstrapSettings())
    assert info.value.counts["positive_documents"] == 1


def _manifest(defaults: dict, quality: dict):
    return parse_manifest({"name": "t", "inputs": ["x.warc.gz"], "output": "out", "stages": {"quality": quality}, "selection": {"defaults": defaults}})


def test_threshold_rule():
    trained = ClassifierOutcome({"status": "trained", "calibration": {"min_quality_score": 0.12}}, {})
    small = ClassifierOutcome({"status": "too_little_text"}, {})
    boot = _manifest({}, {"classifier_bootstrap": True})
    assert boot.quality.classifier_bootstrap == cb.ClassifierBootstrapSettings()
    assert classifier_rule(boot, trained) == (0.12, "bootstrap")
    assert classifier_rule(boot, small) == (None, "bootstrap:too_little_text")
    assert classifier_rule(_manifest({"min_quality_score": 0.4}, {"classifier_bootstrap": True}), trained) == (0.4, "manifest")
    # a given classifier without a calibration card is an annotation only, unless the manifest sets the threshold
    given = _manifest({}, {"classifier_model": "/nonexistent/classifier.bin"})
    assert classifier_rule(given, None) == (None, "given:annotation_only")
    assert classifier_rule(_manifest({"min_quality_score": 0.3}, {"classifier_model": "/nonexistent/classifier.bin"}), None) == (0.3, "manifest")


def test_fold_models_are_the_same_however_they_are_run(repo, tmp_path):
    """The run trains the fold models as Ray tasks, whose results arrive in any order: each model still goes to its
    own file and scores as the model a sequential run trains (one thread, fixed seed; fastText's files themselves
    are not always byte-identical between two trainings)."""
    import fasttext
    import yaml

    rng = random.Random(4)
    paragraphs = [p for path in sorted((repo / "fixtures" / "corpus").glob("*.yaml"))[:6]
                  for article in yaml.safe_load(path.read_text(encoding="utf-8"))["articles"] for p in article["paragraphs"]]
    examples = []
    for i, paragraph in enumerate(paragraphs):
        examples.append({"label": cb.GOOD, "line": cb.feature_line(paragraph, "Latn"), "fold": i % 3})
        examples.append({"label": cb.BAD, "line": cb.feature_line(cb.word_salad(paragraph, "Latn", rng), "Latn"), "fold": i % 3})
    settings = replace(cb.ClassifierBootstrapSettings(), folds=3, epochs=5, lr=0.1)  # 0.5 diverges (NaN) on so few lines
    sequential = cb.train_fold_models(examples, tmp_path / "a", settings)
    out_of_order = cb.train_fold_models(examples, tmp_path / "b", settings, run=lambda f, args: reversed([f(*a) for a in args]))
    assert [p.rsplit("/", 1)[1] for p in sequential] == ["fold0.bin", "fold1.bin", "fold2.bin"]
    probe = [ex["line"] for ex in examples[:40]]
    models = [fasttext.load_model(p) for p in sequential + out_of_order]
    vocabularies = [set(m.get_words()) for m in models]  # a fold model knows the words of the other folds only
    scores = [[cb.good_probability(m, line) for line in probe] for m in models]
    for k in range(3):
        assert vocabularies[k] == vocabularies[3 + k]  # fold k's model in fold k's file
        assert max(abs(a - b) for a, b in zip(scores[k], scores[3 + k])) < 1e-3
    assert vocabularies[0] != vocabularies[1] != vocabularies[2]
    assert not [p for p in (tmp_path / "a").iterdir() if p.name.startswith(".")]  # no temporary file left

"""The bootstrapped quality classifier's pure parts: junk generators, determinism, settings, the threshold rule."""

import hashlib
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


def test_a_languages_junk_depends_on_its_own_positives_only():
    """The run makes each language's junk in the example task that read it: the junk of all positives is each
    language's junk, labels in order, and a language's junk is the same with or without other languages."""
    settings = cb.ClassifierBootstrapSettings()
    russian = "Комитет собрался в понедельник, чтобы обсудить бюджет.\nЧлены комитета согласились, что школе нужна новая крыша."
    english = [{"id": f"e{i}", "lang_script": "eng_Latn", "script": "Latn", "text": TEXT} for i in range(6)]
    others = [{"id": f"r{i}", "lang_script": "rus_Cyrl", "script": "Cyrl", "text": russian} for i in range(7)]
    together = cb.generated_negatives(others + english, settings)
    made = cb.language_negatives(english, "eng_Latn", settings) + cb.language_negatives(others, "rus_Cyrl", settings)
    assert together == sorted(made, key=lambda n: n["id"]) and together == cb.training_order(made)  # languages mixed by id
    assert [n for n in together if n["lang_script"] == "eng_Latn"] == cb.generated_negatives(english, settings)
    assert {n["kind"] for n in together if n["lang_script"] == "rus_Cyrl"} == set(cb.JUNK_KINDS)  # non-ASCII: mojibake too
    # each language draws its own: the same texts under another label are shuffled differently
    relabelled = [{**row, "lang_script": "sco_Latn"} for row in english]
    assert [n["text"] for n in cb.generated_negatives(relabelled, settings)] != [n["text"] for n in cb.generated_negatives(english, settings)]


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
    diverged = ClassifierOutcome({"status": "failed", "reason": "fastText training diverged: ... NaN"}, {})
    assert classifier_rule(boot, diverged) == (None, "bootstrap:failed")  # no classifier filter; the run goes on
    assert classifier_rule(_manifest({"min_quality_score": 0.4}, {"classifier_bootstrap": True}), trained) == (0.4, "manifest")
    # a given classifier without a calibration card is an annotation only, unless the manifest sets the threshold
    given = _manifest({}, {"classifier_model": "/nonexistent/classifier.bin"})
    assert classifier_rule(given, None) == (None, "given:annotation_only")
    assert classifier_rule(_manifest({"min_quality_score": 0.3}, {"classifier_model": "/nonexistent/classifier.bin"}), None) == (0.3, "manifest")


def _examples(n: int, length: int, folds: int, seed: int) -> list[dict]:
    """Training examples: even ones good (windows of TEXT's words), odd ones junk (repeated rare letters)."""
    words = TEXT.split()
    rng = random.Random(seed)
    examples = []
    for i in range(n):
        good = i % 2 == 0
        line = " ".join(words[j % len(words)] for j in range(i, i + length)) if good else " ".join(rng.choice("xqzjvk") * 3 for _ in range(length))
        examples.append({"label": cb.GOOD if good else cb.BAD, "line": line, "fold": cb.fold_of(f"d{i}", folds)})
    return examples


def test_out_of_fold_scores_come_from_the_saved_fold_models(tmp_path):
    """The fold tasks score their own held-out examples; the scores are those of the model files the run loads,
    each example scored by the model of its fold, returned in the order asked."""
    import fasttext

    settings = replace(cb.ClassifierBootstrapSettings(), epochs=5)
    examples = _examples(60, 12, settings.folds, seed=7)
    assert {ex["fold"] for ex in examples} == set(range(settings.folds))
    scored = list(reversed(examples))
    paths, digests, scores = cb.train_fold_models(examples, tmp_path, settings, scored=scored)
    assert digests == [hashlib.sha256(open(path, "rb").read()).hexdigest() for path in paths]
    models = [fasttext.load_model(path) for path in paths]
    assert scores == [cb.good_probability(models[ex["fold"]], ex["line"]) for ex in scored]
    assert scores != [cb.good_probability(models[1 - ex["fold"]], ex["line"]) for ex in scored]  # the fold matters


def _fold_models(tmp_path):
    """Two small fold models (the run's layout: ``fold<k>.bin`` in one folder)."""
    settings = replace(cb.ClassifierBootstrapSettings(), epochs=5)
    folder = tmp_path / "classifier"
    cb.train_fold_models(_examples(40, 10, settings.folds, seed=3), folder, settings)
    return folder, settings.folds


def test_quality_rescore_of_several_files_scores_each_row_with_its_fold_model(tmp_path, monkeypatch):
    """One task re-scores several files with the fold models loaded once: every row as the single-file re-score
    did (the model of the row's fold; no score without text, label or language), each file row-aligned; a file
    whose target exists is left as it is (a retried or resumed task). Files are read a few rows at a time (a
    crawl file's whole text took a worker past 2 GB), and the rows stay aligned across those batches."""
    import fasttext
    import pyarrow as pa
    import pyarrow.parquet as pq

    import longtail.pipeline.bootstrap as bootstrap
    from longtail.pipeline.bootstrap import rescore_quality_files

    monkeypatch.setattr(bootstrap, "RESCORE_BATCH_ROWS", 2)  # 5 rows a file: batches of 2, 2 and 1

    folder, folds = _fold_models(tmp_path)
    models = [fasttext.load_model(str(folder / f"fold{k}.bin")) for k in range(folds)]
    texts = [TEXT, "xxx qqq zzz jjj vvv kkk", "Members agreed on Monday.", None, TEXT]
    pairs, expected = [], {}
    for n in range(3):
        ids = [f"f{n}-d{i}" for i in range(len(texts))]
        table = pa.table({"id": ids, "lang": ["eng", "eng", "eng", "eng", "zxx"], "lang_script": ["eng_Latn"] * 4 + [None],
                          "script": ["Latn"] * 5, "text": texts})
        annotated, target = tmp_path / f"a{n}.parquet", tmp_path / "scored" / f"a{n}.parquet"
        pq.write_table(table, annotated)
        pairs.append((str(annotated), str(target)))
        expected[str(target)] = [None if text is None or lang is None else cb.good_probability(models[cb.fold_of(doc_id, folds)], cb.feature_line(text, "Latn"))
                                 for doc_id, text, lang in zip(ids, texts, ["eng_Latn"] * 4 + [None])]
    assert {cb.fold_of(f"f{n}-d{i}", folds) for n in range(3) for i in range(3)} == set(range(folds))  # both models used
    (tmp_path / "scored").mkdir()
    pq.write_table(pa.table({"lang_script": ["kept"], "quality_score": pa.array([0.5], pa.float32())}), pairs[1][1])
    assert rescore_quality_files(pairs, str(folder), folds) == [target for _, target in pairs]
    for n, (_, target) in enumerate(pairs):
        got = pq.read_table(target)
        if n == 1:
            assert got.column("lang_script").to_pylist() == ["kept"]  # not written again
            continue
        assert got.column("lang_script").to_pylist() == ["eng_Latn"] * 4 + [None]
        assert got.column("quality_score").to_pylist() == pytest.approx(expected[target], abs=1e-6)
        assert got.column("quality_score").to_pylist()[3] is None and got.column("quality_score").to_pylist()[4] is None


def test_file_groups_balance_rows_and_keep_every_file_once(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from longtail.pipeline.bootstrap import file_groups

    sizes = {"a": 100, "b": 60, "c": 50, "d": 40, "e": 10}
    paths = {}
    for name, rows in sizes.items():
        paths[name] = str(tmp_path / f"{name}.parquet")
        pq.write_table(pa.table({"x": list(range(rows))}), paths[name])
    groups = file_groups(list(paths.values()), 2)
    assert sorted(p for group in groups for p in group) == sorted(paths.values())
    assert all(group == sorted(group) for group in groups)
    held = sorted(sum(sizes[name] for name in sizes if paths[name] in group) for group in groups)
    assert held == [120, 140]  # the largest first into the emptiest: a + d against b + c + e
    assert len(file_groups(list(paths.values()), 10)) == 5  # never more groups than files
    assert file_groups([paths["a"]], 4) == [[paths["a"]]]


def test_a_fold_model_is_the_same_bytes_however_often_this_process_trained_before(tmp_path):
    """fastText trained other models from the same file and seed in a process that had trained before (and now and
    then diverged), and Ray reuses its worker processes: the run's classifier changed from run to run. Trained in a
    new process each time, a fold model is a function of its lines and parameters."""
    rng = random.Random(1)
    words = ["ilé", "ọjà", "omi", "oúnjẹ", "ìwé", "ọmọ", "ẹ̀kọ́", "ayé"]
    lines = [f"__label__{'good' if i % 2 else 'bad'} " + " ".join(rng.choice(words) for _ in range(12)) for i in range(60)]
    params = dict(cb.ClassifierBootstrapSettings(epochs=5).fasttext_params(), dim=16, bucket=20000)
    heldout = [line.split(" ", 1)[1] for line in lines[:5]]
    trained = [cb.train_fold_model(0, lines, params, heldout, str(tmp_path / f"fold{i}.bin")) for i in range(6)]
    files = {(tmp_path / f"fold{i}.bin").read_bytes() for i in range(6)}
    assert len(files) == 1 and {digest for _, digest, _ in trained} == {hashlib.sha256(files.pop()).hexdigest()}
    assert all(scores == trained[0][2] for _, _, scores in trained)
    assert sorted(path.name for path in tmp_path.iterdir()) == [f"fold{i}.bin" for i in range(6)]  # no temporary file left

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


def test_a_languages_junk_is_seeded_and_deterministic():
    positives = [{"id": f"d{i}", "lang_script": "eng_Latn", "script": "Latn", "text": TEXT} for i in range(9)]
    settings = cb.ClassifierBootstrapSettings()
    first = cb.language_negatives(positives, "eng_Latn", settings)
    assert first == cb.language_negatives(list(reversed(positives)), "eng_Latn", settings)
    assert {n["kind"] for n in first} == {"word_salad", "scrambled_letters"}  # ASCII text: no mojibake
    assert cb.language_negatives(positives, "eng_Latn", replace(settings, seed=1)) != first
    assert [n["id"] for n in first] == sorted(r["id"] for r in positives)  # junk keeps its source's id (and fold)
    # each language draws its own: the same texts under another label are shuffled differently
    assert [n["text"] for n in cb.language_negatives(positives, "sco_Latn", settings)] != [n["text"] for n in first]


def _languages(settings):
    """Two languages' (label, positives, heuristic negatives, junk), as the run's example tasks make them."""
    russian = "Комитет собрался в понедельник, чтобы обсудить бюджет.\nЧлены комитета согласились, что школе нужна новая крыша."
    english = [{"id": f"e{i}", "lang_script": "eng_Latn", "script": "Latn", "text": f"{TEXT} {i}"} for i in range(6)]
    russian = [{"id": f"r{i}", "lang_script": "rus_Cyrl", "script": "Cyrl", "text": f"{russian} {i}"} for i in range(7)]
    bad = [{"id": "e-bad", "lang_script": "eng_Latn", "script": "Latn", "text": "buy buy buy buy"}]
    return [("rus_Cyrl", russian, [], cb.language_negatives(russian, "rus_Cyrl", settings)),
            ("eng_Latn", english, bad, cb.language_negatives(english, "eng_Latn", settings))]


def test_examples_read_the_same_however_the_languages_are_split_among_files(tmp_path):
    """The run's example tasks each write the languages they read (how many tasks, and which languages go
    together, depends on the crawl and the cores); the fold tasks read every file. Each section comes out in one
    order: positives and heuristic negatives by label, the junk by id with the languages mixed."""
    settings = cb.ClassifierBootstrapSettings()
    languages = _languages(settings)
    together = cb.write_examples(tmp_path / "one.parquet", languages, settings)
    apart = [cb.write_examples(tmp_path / f"part{n}.parquet", [item], settings) for n, item in enumerate(languages)]
    assert cb.combine_counts([together]) == cb.combine_counts(apart) == {
        "positive_documents": 13, "positive_characters": sum(len(r["text"]) for _, rows, _, _ in languages for r in rows),
        "positive_languages": 2, "heuristic_negatives": 1}
    for section in (cb.POSITIVE, cb.GENERATED, cb.HEURISTIC):
        one = list(cb.example_rows([str(tmp_path / "one.parquet")], section))
        assert one == list(cb.example_rows([str(tmp_path / "part0.parquet"), str(tmp_path / "part1.parquet")], section))
        assert one == list(cb.example_rows([str(tmp_path / "part1.parquet"), str(tmp_path / "part0.parquet")], section))
    positives = list(cb.example_rows([str(tmp_path / "one.parquet")], cb.POSITIVE))
    assert [r["lang_script"] for r in positives] == ["eng_Latn"] * 6 + ["rus_Cyrl"] * 7
    assert positives[0]["line"] == cb.example_line(languages[1][1][0], settings.max_tokens) and positives[0]["fold"] == cb.fold_of("e0", settings.folds)
    junk = list(cb.example_rows([str(tmp_path / "one.parquet")], cb.GENERATED))
    assert [r["id"] for r in junk] == sorted(r["id"] for r in junk) and [r["lang_script"] for r in junk] == ["eng_Latn"] * 6 + ["rus_Cyrl"] * 7
    assert {r["kind"] for r in junk if r["lang_script"] == "rus_Cyrl"} == set(cb.JUNK_KINDS)  # non-ASCII: mojibake too
    assert [r["id"] for r in cb.example_rows([str(tmp_path / "one.parquet")], cb.HEURISTIC)] == ["e-bad"]


def test_too_few_positives_raise_with_counts(tmp_path):
    settings = cb.ClassifierBootstrapSettings()
    positives = [{"id": "a", "lang_script": "eng_Latn", "script": "Latn", "text": TEXT}]
    counts = cb.write_examples(tmp_path / "examples.parquet", [("eng_Latn", positives, [], [])], settings)
    with pytest.raises(cb.NotEnoughExamples) as info:
        cb.bootstrap_classifier([str(tmp_path / "examples.parquet")], cb.combine_counts([counts]), tmp_path, settings)
    assert info.value.counts["positive_documents"] == 1 and info.value.counts["positive_characters"] == len(TEXT)
    assert not list(tmp_path.glob("fold*.bin"))


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


def test_a_language_scored_low_as_a_whole_keeps_its_positives():
    """One threshold from the pooled positives' 1% quantile can take far more of one language's positives (on the
    scaling bench 38 of Spanish's 111): such a language gets its own positives' quantile. A threshold is only ever
    lowered: a language scored high as a whole keeps the pooled one."""
    high = [0.5 + i / 200 for i in range(100)]  # 0.5 .. 0.995
    low = [i / 1000 for i in range(100)]  # 0 .. 0.099
    threshold, lowered = cb.calibrate({"deu_Latn": high, "spa_Latn": low, "eng_Latn": high}, 1)
    assert 0 < threshold < 0.5 and sum(v < threshold for v in low) > 1  # the pooled 1% takes more than 1% of Spanish
    assert list(lowered) == ["spa_Latn"] and lowered["spa_Latn"] < threshold and sum(v < lowered["spa_Latn"] for v in low) <= 1
    assert cb.calibrate({}, 1) == (None, {})
    # at the default half percent too: a language of 100 positives is not left with the pooled one
    threshold, lowered = cb.calibrate({"deu_Latn": high, "spa_Latn": low, "eng_Latn": high}, 0.5)
    assert list(lowered) == ["spa_Latn"] and sum(v < lowered["spa_Latn"] for v in low) < sum(v < threshold for v in low)
    # fewer than MIN_LANGUAGE_POSITIVES: the pooled threshold (its own quantile would be about its lowest score)
    threshold, lowered = cb.calibrate({"deu_Latn": high, "spa_Latn": low[: cb.MIN_LANGUAGE_POSITIVES - 1], "eng_Latn": high}, 0.5)
    assert lowered == {}


def test_per_language_calibration_applies_under_the_bootstraps_rule_only(tmp_path):
    """The stats say where each language's threshold came from: a language with the pooled one has the run's rule,
    a calibrated one ``bootstrap:language``, one the manifest sets ``manifest:language``."""
    from longtail.pipeline.finalize import with_classifier_thresholds

    card = {"status": "trained", "calibration": {"min_quality_score": 0.12, "per_language": {"spa_Latn": 0.001, "yor_Latn": 0.05}}}
    trained = ClassifierOutcome(card, {})
    boot = parse_manifest({"name": "t", "inputs": ["x.warc.gz"], "output": "out", "stages": {"quality": {"classifier_bootstrap": True}},
                           "selection": {"languages": {"yor_Latn": {"min_quality_score": 0.3}, "fra_Latn": {"min_words": 3}}}})
    manifest, threshold = with_classifier_thresholds(boot, trained)
    assert (threshold.default, threshold.rule, manifest.thresholds.min_quality_score) == (0.12, "bootstrap", 0.12)
    assert manifest.language_thresholds["spa_Latn"] == {"min_quality_score": 0.001}
    assert manifest.language_thresholds["yor_Latn"]["min_quality_score"] == 0.3  # the manifest's own stays
    assert boot.language_thresholds.get("spa_Latn") is None  # the given manifest is not changed
    assert threshold.stats(manifest, "spa_Latn") == {"rule": "bootstrap:language", "min_quality_score": 0.001}
    assert threshold.stats(manifest, "yor_Latn") == {"rule": "manifest:language", "min_quality_score": 0.3}
    assert threshold.stats(manifest, "fra_Latn") == {"rule": "bootstrap", "min_quality_score": 0.12}  # other settings only
    assert threshold.stats(manifest, "eng_Latn") == {"rule": "bootstrap", "min_quality_score": 0.12}
    explicit = _manifest({"min_quality_score": 0.4}, {"classifier_bootstrap": True})
    manifest, threshold = with_classifier_thresholds(explicit, trained)
    assert (threshold.default, threshold.rule) == (0.4, "manifest") and "spa_Latn" not in manifest.language_thresholds
    assert threshold.stats(manifest, "spa_Latn") == {"rule": "manifest", "min_quality_score": 0.4}


def test_a_calibrated_threshold_near_zero_is_said():
    """On bigger crawls the pooled threshold falls to about 0 (docs/quality.md): the run says that the classifier then
    drops almost nothing, rather than look filtered."""
    from longtail.pipeline.bootstrap import NEAR_ZERO_THRESHOLD, near_zero_threshold_warning

    card = {"status": "trained", "positive_documents": 7187, "calibration": {"min_quality_score": 0.0002}, "heldout": {"auc": {"word_salad": 0.7063}},
            "settings": {"calibration_positive_share": 0.005}}
    warning = near_zero_threshold_warning(card)
    assert "0.0002" in warning and "0.5% of its 7187 positives" in warning and "0.7063" in warning and "min_quality_score" in warning
    assert near_zero_threshold_warning({**card, "calibration": {"min_quality_score": NEAR_ZERO_THRESHOLD}}) is None
    assert near_zero_threshold_warning({**card, "calibration": {"min_quality_score": 0.13}}) is None
    assert near_zero_threshold_warning({"status": "too_little_text", "calibration": {"min_quality_score": 0.0}}) is None


def _examples_file(path, n: int, length: int, seed: int, settings) -> str:
    """An examples file of one language: even documents good (windows of TEXT's words), odd ones junk (repeated
    rare letters)."""
    words = TEXT.split()
    rng = random.Random(seed)
    good, junk = [], []
    for i in range(n):
        if i % 2 == 0:
            good.append({"id": f"d{i}", "line": " ".join(words[j % len(words)] for j in range(i, i + length)), "characters": 100})
        else:
            junk.append({"id": f"d{i}", "line": " ".join(rng.choice("xqzjvk") * 3 for _ in range(length)), "kind": "word_salad"})
    cb.write_examples(path, [("eng_Latn", good, [], junk)], settings)
    return str(path)


def test_out_of_fold_scores_come_from_the_saved_fold_models(tmp_path):
    """The fold tasks score their own held-out examples; the scores are those of the model files the run loads,
    each example scored by the model of its fold, and a fold model is trained on the other folds' examples only."""
    import fasttext

    settings = replace(cb.ClassifierBootstrapSettings(), epochs=5)
    files = [_examples_file(tmp_path / "examples.parquet", 60, 12, 7, settings)]
    rows = [row for section in (cb.POSITIVE, cb.GENERATED) for row in cb.example_rows(files, section)]
    assert {row["fold"] for row in rows} == set(range(settings.folds))
    paths, digests, scores = cb.train_fold_models(files, tmp_path / "classifier", settings)
    assert digests == [hashlib.sha256(open(path, "rb").read()).hexdigest() for path in paths]
    models = [fasttext.load_model(path) for path in paths]
    for kind in ("positive", "word_salad"):
        expected = [cb.good_probability(models[row["fold"]], row["line"]) for row in rows if row["kind"] == kind]
        assert list(scores[kind]) == ["eng_Latn"]  # by kind, then language
        assert sorted(scores[kind]["eng_Latn"]) == sorted(expected) and len(expected) == 30
        assert sorted(scores[kind]["eng_Latn"]) != sorted(cb.good_probability(models[1 - row["fold"]], row["line"]) for row in rows if row["kind"] == kind)
    for k, model in enumerate(models):  # the words of a document seen in training only by the other fold's model
        seen = {word for row in rows if row["fold"] != k for word in row["line"].split()}
        assert set(model.get_words()) - {"</s>"} == seen  # </s>: fastText's end of line


def test_min_count_leaves_words_seen_once_out_of_the_fold_models(tmp_path):
    """``min_count`` (fastText's ``minCount``): a word seen fewer times in a fold's training file gets no vector of
    its own, which keeps the models of a crawl with much junk small (every scrambled word is new)."""
    import collections

    import fasttext

    settings = replace(cb.ClassifierBootstrapSettings(), epochs=5, min_count=2)
    words = TEXT.split()
    good = [{"id": f"d{i}", "line": " ".join(words[i % 5: i % 5 + 8]), "characters": 100} for i in range(40)]
    junk = [{"id": f"d{i}", "line": f"xq{i} zj{i} " + " ".join(words[:3]), "kind": "scrambled_letters"} for i in range(40)]  # two words once each
    files = [str(tmp_path / "examples.parquet")]
    cb.write_examples(files[0], [("eng_Latn", good, [], junk)], settings)
    rows = [row for section in (cb.POSITIVE, cb.GENERATED) for row in cb.example_rows(files, section)]
    paths, _, _ = cb.train_fold_models(files, tmp_path / "classifier", settings)
    for k, path in enumerate(paths):
        seen = collections.Counter(word for row in rows if row["fold"] != k for word in row["line"].split())
        assert set(fasttext.load_model(path).get_words()) - {"</s>"} == {word for word, n in seen.items() if n >= 2}
        assert any(n == 1 for n in seen.values())  # there were words seen once, left out


def _fold_models(tmp_path):
    """Two small fold models (the run's layout: ``fold<k>.bin`` in one folder)."""
    settings = replace(cb.ClassifierBootstrapSettings(), epochs=5)
    folder = tmp_path / "classifier"
    cb.train_fold_models([_examples_file(tmp_path / "examples.parquet", 40, 10, 3, settings)], folder, settings)
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
    settings = cb.ClassifierBootstrapSettings(epochs=5, dim=16, bucket=20000)
    good = [{"id": f"g{i}", "line": " ".join(rng.choice(words) for _ in range(12)), "characters": 60} for i in range(30)]
    junk = [{"id": f"g{i}", "line": " ".join(rng.choice(words) for _ in range(12)), "kind": "word_salad"} for i in range(30)]
    files = [str(tmp_path / "examples" / "part.parquet")]
    cb.write_examples(files[0], [("yor_Latn", good, [], junk)], settings)
    trained = [cb.train_fold_model(0, files, settings, str(tmp_path / f"fold{i}.bin")) for i in range(6)]
    models = {(tmp_path / f"fold{i}.bin").read_bytes() for i in range(6)}
    assert len(models) == 1 and {digest for _, digest, _ in trained} == {hashlib.sha256(models.pop()).hexdigest()}
    assert all(scores == trained[0][2] for _, _, scores in trained) and set(trained[0][2]) == {"positive", "word_salad"}
    assert sorted(path.name for path in tmp_path.iterdir() if path.is_file()) == [f"fold{i}.bin" for i in range(6)]  # no temporary file left

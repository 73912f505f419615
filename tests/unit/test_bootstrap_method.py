"""The KenLM bootstrap method without Ray: training lines, held-out split, separation of garbled text (real
lmplz), sampling, the language-sorted annotation writer (on the sample run: tests/integration/test_bootstrap_run.py)."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import pyarrow.parquet as pq
import pytest

from longtail.filters.kenlm_bootstrap import BootstrapSettings, NotEnoughText, bootstrap_language, split_heldout, training_lines
from longtail.filters.kenlm_model import KenLMScorer
from longtail.pipeline.bootstrap import bootstrap_language_task

# the minimums before issue 12: the method on a few dozen reference lines (the shipped 40 lines / 20,000 characters
# refuse them, below)
SMALL = BootstrapSettings(min_training_lines=8, min_training_characters=1500)


def _rows(label: str, paragraphs: list[str], per_doc: int = 6) -> list[dict]:
    rows = []
    for i in range(0, len(paragraphs), per_doc):
        text = "\n".join(paragraphs[i:i + per_doc])
        rows.append({"id": f"{label}-{i}", "url": f"https://example.test/{i}", "text": text, "lang": label.split("_")[0], "script": label.split("_")[1],
                     "lang_script": label, "lang_score": 0.97, "n_words": len(text.split()), "letter_ratio": 0.85, "dup_line_frac": 0.0,
                     "top_2gram_frac": 0.02, "dup_5gram_frac": 0.0, "extract_error": None})
    return rows


def test_training_lines_are_distinct_and_heldout_is_deterministic():
    rows = [{"id": "b", "text": "menu\nsecond line"}, {"id": "a", "text": "menu\nfirst line\n\n"}]
    assert training_lines(rows, 10) == ["menu", "first line", "second line"]  # repeated boilerplate once
    dated = [{"id": "a", "script": "Latn", "text": "Posted on 12 March 2023.\nPOSTED ON 14 MARCH 2024"}]
    assert training_lines(dated, 10) == ["Posted on 12 March 2023."]  # one line once normalised as the model sees it
    lines = [f"line {i}" for i in range(23)]
    train, heldout = split_heldout(lines, 0.2)
    assert len(heldout) == 5 and set(train) | set(heldout) == set(lines) and not set(train) & set(heldout)
    assert split_heldout(list(reversed(lines)), 0.2)[1] == sorted(heldout, key=lines.index, reverse=True)
    assert len(split_heldout(["only"], 0.2)[1]) == 1


def test_bootstrap_separates_garbled_text_and_refuses_tiny_languages(repo, tmp_path):
    reference = [line for line in (repo / "data" / "reference" / "yor_Latn.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    unseen, rows = reference[:10], _rows("yor_Latn", reference[10:])
    others = [line for line in (repo / "data" / "reference" / "swa_Latn.txt").read_text(encoding="utf-8").splitlines() if line.strip()][:30]
    record = bootstrap_language(rows, others, "yor_Latn", tmp_path / "m", replace(SMALL, final_model=True))
    assert record["candidates"] == len(rows) and record["heldout_auc"] >= 0.9
    scorer = KenLMScorer(str(tmp_path / "m"))
    rng = random.Random(3)
    garbled = [" ".join("".join(rng.sample(w, len(w))) for w in line.split()) for line in unseen]
    clean_unseen = sum(scorer.perplexity(line, "yor_Latn") for line in unseen) / len(unseen)
    assert sum(scorer.perplexity(g, "yor_Latn") for g in garbled) / len(garbled) > 1.5 * clean_unseen
    with pytest.raises(NotEnoughText, match="need 8 lines and 1500 characters"):
        bootstrap_language(rows[:1], others, "yor_Latn", tmp_path / "tiny", SMALL)
    # the shipped minimums refuse the same language: its lines are enough for 8 lines / 1,500 characters, not for
    # 40 lines / 20,000 characters; the counts say how much there was, and no model is written
    with pytest.raises(NotEnoughText, match="need 40 lines and 20000 characters") as refused:
        bootstrap_language(rows, others, "yor_Latn", tmp_path / "shipped", BootstrapSettings())
    counts = refused.value.counts
    assert counts["candidates"] == record["candidates"] and counts["training_lines"] >= 40  # refused for its characters
    assert 1500 <= counts["training_characters"] < 20_000
    assert not list(tmp_path.glob("shipped/**/yor_Latn.*"))


def test_the_head_retrain_is_tried_only_below_retrain_below_auc(repo, tmp_path):
    """Issue 15: iteration 1 costs a build and two scorings; it is tried only where iteration 0 separates worse than
    ``retrain_below_auc``, and the record says why it was not."""

    reference = [line for line in (repo / "data" / "reference" / "yor_Latn.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = _rows("yor_Latn", reference)
    others = [line for line in (repo / "data" / "reference" / "swa_Latn.txt").read_text(encoding="utf-8").splitlines() if line.strip()][:30]
    always = bootstrap_language(rows, others, "yor_Latn", tmp_path / "always", replace(SMALL, retrain_below_auc=None))
    first, second = always["iterations"]
    assert second["lines"] < first["lines"] and second["heldout_auc"] is not None and "skipped" not in second
    auc = first["heldout_auc"]
    skipped = bootstrap_language(rows, others, "yor_Latn", tmp_path / "skipped", replace(SMALL, retrain_below_auc=auc))
    assert skipped["iterations"][0] == first and skipped["chosen_iteration"] == 0
    assert skipped["iterations"][1]["heldout_auc"] is None and f"separates at {auc:.3f} >= retrain_below_auc" in skipped["iterations"][1]["skipped"]
    tried = bootstrap_language(rows, others, "yor_Latn", tmp_path / "tried", replace(SMALL, retrain_below_auc=auc + 1e-9))
    assert tried["iterations"] == always["iterations"] and tried["chosen_iteration"] == always["chosen_iteration"]
    with pytest.raises(ValueError, match="retrain_below_auc"):
        BootstrapSettings(retrain_below_auc=2)


def test_language_task_records_too_little_text_instead_of_failing(repo, tmp_path):
    import pyarrow as pa

    path = tmp_path / "unit.parquet"
    pq.write_table(pa.Table.from_pylist(_rows("yor_Latn", ["Ọ̀rọ̀ kan ṣoṣo ni èyí."])), path)
    label, result = bootstrap_language_task([str(path)], "yor_Latn", str(tmp_path / "m"), BootstrapSettings(), "test")
    assert label == "yor_Latn" and result["status"] == "too_little_text" and "need 40 lines and 20000 characters" in result["reason"]
    assert {key: result[key] for key in ("candidates", "training_lines", "training_characters")} == {"candidates": 0, "training_lines": 0, "training_characters": 0}


def test_a_large_language_is_sampled_before_its_text_is_read(repo, tmp_path, monkeypatch):
    import pyarrow as pa

    import longtail.pipeline.bootstrap as boot

    reference = [line for line in (repo / "data" / "reference" / "swa_Latn.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = _rows("swa_Latn", reference * 3, per_doc=6)  # 32 documents
    for i, row in enumerate(rows):
        row["id"] = f"doc-{i:03d}"
    for part in (0, 1):
        pq.write_table(pa.Table.from_pylist(rows[part::2]), tmp_path / f"unit-{part}.parquet")
    files = [str(tmp_path / f"unit-{part}.parquet") for part in (0, 1)]
    read_filters = []
    real_read = boot._read_rows
    monkeypatch.setattr(boot, "_read_rows", lambda path, columns, label, extra=None: read_filters.append(extra) or real_read(path, columns, label, extra))
    sample = boot._language_rows_sample(files, "swa_Latn", 10)
    assert len(sample) == 10 and len({r["id"] for r in sample}) == 10
    assert all(extra and extra[0][:2] == ("id", "in") for extra in read_filters)  # text read only for the sample
    again = boot._language_rows_sample(list(reversed(files)), "swa_Latn", 10)
    assert sorted(r["id"] for r in again) == sorted(r["id"] for r in sample)  # deterministic, order-free
    assert len(boot._language_rows_sample(files, "swa_Latn", 100)) == len(rows)


def test_wrong_language_negatives_come_from_every_other_language(tmp_path):
    import pyarrow as pa

    import longtail.pipeline.bootstrap as boot

    rows = [{"id": f"{label}-{i}", "lang": label[:3], "lang_script": label, "text": f"{label} text {i}"}
            for label in ("amh_Ethi", "fra_Latn", "hau_Latn", "yor_Latn") for i in range(30)]
    rows.append({"id": "und-1", "lang": "und", "lang_script": "und_Latn", "text": "qxz"})
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "unit.parquet")
    negatives = boot.WrongLanguageNegatives([str(tmp_path / "unit.parquet")], 9)
    texts = negatives("yor_Latn")
    assert len(texts) == 9 and not any(t.startswith(("yor_Latn", "qxz")) for t in texts)
    assert {t.split()[0] for t in texts} == {"amh_Ethi", "fra_Latn", "hau_Latn"}  # 3 each, not 9 Amharic
    # one pool serves a task's languages: another language's negatives leave its own out and include Yoruba
    hausa = negatives("hau_Latn")
    assert len(hausa) == 9 and {t.split()[0] for t in hausa} == {"amh_Ethi", "fra_Latn", "yor_Latn"}
    assert negatives("yor_Latn") == texts and boot.WrongLanguageNegatives([str(tmp_path / "unit.parquet")], 9)("hau_Latn") == hausa


def test_language_sorted_writer_streams_batches_into_pure_row_groups(tmp_path, monkeypatch):
    import pyarrow as pa
    import pyarrow.compute as pc

    import longtail.pipeline.annotate as annotate

    monkeypatch.setattr(annotate, "ROW_GROUP_ROWS", 3)
    monkeypatch.setattr(annotate, "POOLED_LANGUAGE_ROWS", 1)  # every language large enough for row groups of its own
    labels = ["yor_Latn", "amh_Ethi", None, "yor_Latn", "lao_Laoo"]
    batches = [pa.table({"id": [f"{b}-{i}" for i in range(len(labels))], "lang_script": labels}) for b in range(4)]
    spilled, written = [], []
    for budget in (1 << 30, 1):  # all in memory; spilled after every batch
        path = tmp_path / f"unit-{budget}.parquet"
        writer = annotate.LanguageSortedWriter(path, memory_budget=budget)
        for batch in batches:
            writer.write(batch)
            spilled.append(bool(writer.spills))
        writer.close()
        assert not writer.spill.exists()
        table = pq.read_table(path)
        assert sorted(table.column("id").to_pylist()) == sorted(i for b in batches for i in b.column("id").to_pylist())
        meta = pq.ParquetFile(path).metadata
        groups = [pq.ParquetFile(path).read_row_group(i).column("lang_script").to_pylist() for i in range(meta.num_row_groups)]
        assert all(len(set(g)) == 1 and len(g) <= 3 for g in groups)
        order = [g[0] for g in groups]
        assert order == sorted(order, key=lambda lab: (lab is None, lab or "")) and order[-1] is None
        written.append((table, [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]))
    assert spilled == [False] * 4 + [True] * 4
    # the same rows in the same order (each language's in arrival order) and row groups, whether the unit spilled
    (in_memory, in_memory_groups), (spilled_table, spilled_groups) = written
    assert in_memory.equals(spilled_table) and in_memory_groups == spilled_groups == [3, 1, 3, 1, 3, 3, 2, 3, 1]
    yoruba = pc.equal(in_memory.column("lang_script"), "yor_Latn")
    assert in_memory.filter(yoruba).column("id").to_pylist() == [f"{b}-{i}" for b in range(4) for i in (0, 3)]
    empty = annotate.LanguageSortedWriter(tmp_path / "empty.parquet")
    empty.close()
    assert pq.read_table(tmp_path / "empty.parquet").column_names == ["id"]


def test_small_languages_share_row_groups_in_label_order(tmp_path, monkeypatch):
    """Languages under POOLED_LANGUAGE_ROWS rows in a unit are pooled into shared row groups (a row group per
    language cost 4% of the annotate pass on real pages); larger ones keep groups of their own. Rows, their order
    and every reader's filtered result are the same either way."""
    import pyarrow as pa

    import longtail.pipeline.annotate as annotate

    monkeypatch.setattr(annotate, "POOLED_LANGUAGE_ROWS", 5)
    labels = ["yor_Latn"] * 7 + ["amh_Ethi"] * 2 + ["lao_Laoo"] * 2 + ["fra_Latn"] * 2 + ["hau_Latn"] * 1 + [None] * 3
    batch = pa.table({"id": [f"d{i:02d}" for i in range(len(labels))], "lang_script": labels})
    for budget in (1 << 30, 1):  # in memory; spilled
        path = tmp_path / f"pooled-{budget}.parquet"
        writer = annotate.LanguageSortedWriter(path, memory_budget=budget)
        for start in range(0, batch.num_rows, 4):
            writer.write(batch.slice(start, 4))
        writer.close()
        parquet = pq.ParquetFile(path)
        groups = [parquet.read_row_group(i).column("lang_script").to_pylist() for i in range(parquet.metadata.num_row_groups)]
        # amh+fra+hau reach 5 rows; lao is flushed by the large yor, which has its group; the unlabelled rows last
        assert groups == [["amh_Ethi"] * 2 + ["fra_Latn"] * 2 + ["hau_Latn"], ["lao_Laoo"] * 2, ["yor_Latn"] * 7, [None] * 3]
        assert sorted(pq.read_table(path).column("id").to_pylist()) == batch.column("id").to_pylist()
        assert pq.read_table(path, filters=[("lang_script", "=", "fra_Latn")]).column("id").to_pylist() == ["d11", "d12"]



def test_a_small_language_is_refused_before_other_languages_are_read(repo, tmp_path, monkeypatch):
    """Issue 15: too little text is known from the language's own rows; the wrong-language negatives (a read of
    every annotated file) are read only for a language that will be trained."""
    import pyarrow as pa

    import longtail.pipeline.bootstrap as boot

    path = tmp_path / "unit.parquet"
    pq.write_table(pa.Table.from_pylist(_rows("yor_Latn", ["Ọ̀rọ̀ kan ṣoṣo ni èyí."]) + _rows("swa_Latn", ["Hii ni sentensi moja tu."])), path)
    monkeypatch.setattr(boot.WrongLanguageNegatives, "_rank", lambda *a, **k: pytest.fail("negatives read for a language too small to train"))
    results = boot.bootstrap_languages_task([str(path)], ["swa_Latn", "yor_Latn"], str(tmp_path / "m"), BootstrapSettings(), "test")
    assert [label for label, _ in results] == ["swa_Latn", "yor_Latn"]
    assert all(result["status"] == "too_little_text" for _, result in results)
    assert results[1] == boot.bootstrap_language_task([str(path)], "yor_Latn", str(tmp_path / "m"), BootstrapSettings(), "test")


def test_languages_share_tasks_up_to_a_size_large_and_sampled_ones_get_their_own(tmp_path):
    import pyarrow as pa

    from longtail.pipeline.bootstrap import BATCH_FACTOR, language_sizes, task_batches

    settings = BootstrapSettings()
    limit = BATCH_FACTOR * settings.min_training_characters
    sizes = {"eng_Latn": (2 * limit, 10), **{f"x{i:02d}_Latn": (limit // 4, 10) for i in range(10)}, "few_Latn": (10, 1)}
    sizes["many_Latn"] = (1000, 2 * settings.max_training_documents + 1)  # little text, but its rows need a sample
    labels = sorted(sizes) + ["new_Latn"]  # a label without a size counts as empty
    batches = task_batches(labels, sizes, settings)
    assert batches[0] == ["eng_Latn"] and batches[-1] == ["many_Latn"]  # by characters, a batch before a language as large
    assert sorted(label for batch in batches for label in batch) == sorted(labels)
    assert all(sum(sizes.get(label, (0, 0))[0] for label in batch) <= limit for batch in batches[1:-1])
    assert len(batches) == 2 + 3  # ten quarter-limit languages fill three tasks (4, 4, 2 + the small ones)
    assert "few_Latn" in batches[3]
    totals = [sum(sizes.get(label, (0, 0))[0] for label in batch) for batch in batches]
    assert totals == sorted(totals, reverse=True)
    bigger = {"aaa_Latn": (limit, 1), "zzz_Latn": (3 * limit, 1), "mmm_Latn": (2 * limit, 1)}
    assert task_batches(sorted(bigger), bigger, settings) == [["zzz_Latn"], ["mmm_Latn"], ["aaa_Latn"]]  # biggest first
    path = tmp_path / "unit.parquet"
    pq.write_table(pa.table({"lang_script": ["a_Latn", "b_Latn", "a_Latn", None], "n_chars": [3, 4, 5, 6]}), path)
    assert language_sizes([str(path)]) == {"a_Latn": (8, 2), "b_Latn": (4, 1)}
    pq.write_table(pa.table({"lang_script": ["a_Latn", "a_Latn"]}), path)  # no n_chars signal: documents still counted
    assert language_sizes([str(path)]) == {"a_Latn": (0, 2)}


def test_documents_are_scored_by_the_fold_model_that_never_saw_them(repo, tmp_path):
    """Cross-fitting: a junk page that passed the heuristics and went into training must not look typical. Scored by
    the final model (which learnt it) a garbled training document is as predictable as clean text; scored by its
    fold's model (pipeline/bootstrap.py::rescore_file) it is not."""
    import pyarrow as pa

    from longtail.filters.kenlm_bootstrap import FOLDS, fold_of
    from longtail.filters.kenlm_model import load_card
    from longtail.pipeline.bootstrap import rescore_file

    reference = [line for line in (repo / "data" / "reference" / "yor_Latn.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = _rows("yor_Latn", reference)
    rng = random.Random(5)
    garbled = "\n".join(" ".join("".join(rng.sample(w, len(w))) for w in line.split()) for line in reference[:6])
    rows.append({**rows[0], "id": "garbled-doc", "url": "https://example.test/garbled", "text": garbled})
    from longtail.filters.kenlm_bootstrap import split_candidates

    assert "garbled-doc" in {r["id"] for r in split_candidates(rows, SMALL)[0]}  # passed the heuristics: training text
    bootstrap_language(rows, [], "yor_Latn", tmp_path / "m", replace(SMALL, final_model=True))
    card = load_card(tmp_path / "m", "yor_Latn")
    assert card["heldout_method"] == "4-fold by document" and card["fold_models"]["folds"] == 4
    assert card["bootstrap"]["judges"] is (card["bootstrap"]["heldout_auc"] >= 0.85)  # the card says whether it judges
    assert set(card["heldout_perplexity"]) >= {"p10", "p25", "p50"}
    for k in card["fold_models"]["trained"]:
        assert (tmp_path / "m" / FOLDS / f"fold{k}" / "yor_Latn.binary").is_file()

    annotated, target = tmp_path / "unit.parquet", tmp_path / "rescored.parquet"
    pq.write_table(pa.Table.from_pylist(rows), annotated)
    rescore_file(str(annotated), str(target), str(tmp_path / "m"), ["yor_Latn"])
    scores = dict(zip([r["id"] for r in rows], pq.read_table(target).column("perplexity").to_pylist()))
    final = KenLMScorer(str(tmp_path / "m")).perplexity(garbled, "yor_Latn")
    own_fold = KenLMScorer(str(tmp_path / "m" / FOLDS / f"fold{fold_of('garbled-doc', 4)}")).perplexity(garbled, "yor_Latn")
    assert scores["garbled-doc"] == pytest.approx(own_fold, rel=1e-5) and own_fold > 2 * final
    clean = sorted(v for key, v in scores.items() if key != "garbled-doc")
    assert scores["garbled-doc"] > 1.5 * clean[len(clean) // 2]
    # the card's document percentiles are those of the candidates' scores in the run (each by its own fold's model)
    from longtail.filters.kenlm_model import card_percentiles

    candidates = {r["id"] for r in split_candidates(rows, SMALL)[0]}
    assert card["heldout_documents"] == len(candidates)
    expected = card_percentiles([v for key, v in scores.items() if key in candidates])
    assert card["heldout_document_perplexity"] == pytest.approx(expected, rel=1e-5)


def test_a_model_that_cannot_separate_does_not_judge(tmp_path):
    from longtail.pipeline.bootstrap import _status

    record = {"candidates": 30, "training_lines": 300, "heldout_lines": 60, "chosen_iteration": 0, "heldout_auc": 0.77}
    assert _status(record, BootstrapSettings())["status"] == "too_weak"
    assert "0.77 < min_heldout_auc 0.85" in _status(record, BootstrapSettings())["reason"]
    assert _status({**record, "heldout_auc": 0.9}, BootstrapSettings())["status"] == "bootstrapped"
    assert _status(record, BootstrapSettings(min_heldout_auc=None))["status"] == "bootstrapped"
    with pytest.raises(ValueError, match="min_heldout_auc"):
        BootstrapSettings(min_heldout_auc=1.5)


def test_a_batch_of_small_languages_reads_each_file_once_with_the_same_rows(repo, tmp_path, monkeypatch):
    import pyarrow as pa

    import longtail.pipeline.bootstrap as boot

    rows = []
    for label in ("swa_Latn", "yor_Latn"):
        reference = [line for line in (repo / "data" / "reference" / f"{label}.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
        rows += _rows(label, reference)
    rows.append({**rows[0], "id": "other", "lang_script": "amh_Ethi", "lang": "amh", "script": "Ethi"})
    files = []
    for part in (0, 1):
        files.append(str(tmp_path / f"unit-{part}.parquet"))
        pq.write_table(pa.Table.from_pylist(rows[part::2]), files[-1])
    reads = []
    real_read = boot.read_table
    monkeypatch.setattr(boot, "read_table", lambda path, **kw: reads.append(path) or real_read(path, **kw))
    batch = boot._batch_rows(files, ["swa_Latn", "yor_Latn"])
    assert sorted(reads) == sorted(files)  # one read per file for the whole batch
    for label in ("swa_Latn", "yor_Latn"):
        assert batch[label] == boot._language_rows_sample(files, label, 1000)  # what a task of its own would read
    assert boot._batch_rows(files, ["lao_Laoo", "yor_Latn"])["lao_Laoo"] == []
    settings = BootstrapSettings(min_training_lines=8, min_training_characters=1500)
    together = dict(boot.bootstrap_languages_task(files, ["swa_Latn", "yor_Latn"], str(tmp_path / "batch"), settings, "test"))
    alone = dict(boot.bootstrap_language_task(files, label, str(tmp_path / "alone"), settings, "test") for label in ("swa_Latn", "yor_Latn"))
    assert together == alone and together["yor_Latn"]["status"] == "bootstrapped"


def test_classifier_examples_are_the_same_from_one_task_or_several(repo, tmp_path):
    """The classifier's examples are collected by tasks of a few languages each (in parallel on Ray); a language's
    examples do not depend on which task read it, and a sampled language reads the same sample alone."""
    import pyarrow as pa

    import longtail.pipeline.bootstrap as boot
    from longtail.filters.classifier_bootstrap import (GENERATED, HEURISTIC, POSITIVE, ClassifierBootstrapSettings, combine_counts, example_rows, feature_line,
                                                       language_negatives)

    rows = []
    for label in ("swa_Latn", "yor_Latn"):
        reference = [line for line in (repo / "data" / "reference" / f"{label}.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
        rows += _rows(label, reference)
    files = []
    for part in (0, 1):
        files.append(str(tmp_path / f"unit-{part}.parquet"))
        pq.write_table(pa.Table.from_pylist(rows[part::2]), files[-1])
    counts = boot.language_row_counts(files)
    settings = ClassifierBootstrapSettings(max_documents_per_language=(max(counts.values()) - 1) // 2)
    assert any(n > 2 * settings.max_documents_per_language for n in counts.values())  # the biggest language is sampled
    one = [str(tmp_path / "together.parquet")]
    apart = [str(tmp_path / f"alone-{label}.parquet") for label in sorted(counts)]
    together = boot.classifier_examples_task(files, sorted(counts), counts, settings, one[0])
    alone = [boot.classifier_examples_task(files, [label], {label: counts[label]}, settings, path) for label, path in zip(sorted(counts), apart)]
    assert combine_counts([together]) == combine_counts(alone) and together["positive_languages"] == ["swa_Latn", "yor_Latn"]
    for section in (POSITIVE, GENERATED, HEURISTIC):
        assert list(example_rows(one, section)) == list(example_rows(apart, section))
    # the feature line is made in the task, as the training task would make it from the text; of the text only its
    # length is counted (it decides whether a classifier is trained)
    text_of = {str(row["id"]): row["text"] for row in rows}
    positives = list(example_rows(one, POSITIVE))
    assert positives and all(row["line"] == feature_line(text_of[row["id"]], "Latn") for row in positives)
    assert all(row["line"] == feature_line(text_of[row["id"]], "Latn") for row in example_rows(one, HEURISTIC))
    assert together["positive_characters"] == sum(len(text_of[row["id"]]) for row in positives)
    # and the junk, from the language's positives alone
    junk = list(example_rows(one, GENERATED))
    for label in sorted(counts):
        made = language_negatives([{"id": row["id"], "text": text_of[row["id"]], "script": "Latn"} for row in positives if row["lang_script"] == label], label, settings)
        assert 0 < len(made) <= sum(row["lang_script"] == label for row in positives)
        assert [(r["id"], r["kind"], r["line"]) for r in junk if r["lang_script"] == label] == [(r["id"], r["kind"], feature_line(r["text"], "Latn")) for r in made]


def test_classifier_examples_read_small_languages_in_batches_and_sample_big_ones():
    import longtail.pipeline.bootstrap as boot

    counts = {"aaa_Latn": 30_000, "bbb_Latn": 10, "ccc_Cyrl": 90_000, "ddd_Ethi": 25_000, "eee_Latn": 4_000}
    batches = boot._read_batches(sorted(counts), counts, limit=30_000)
    assert [label for batch in batches for label in batch] == sorted(counts)  # every label once, in order
    # aaa (30,000 rows) and bbb fill a batch; ccc is sampled (read alone, counts 0 here); ddd would pass the cap
    assert batches == [["aaa_Latn", "bbb_Latn", "ccc_Cyrl"], ["ddd_Ethi", "eee_Latn"]]
    assert all(sum(counts[label] for label in batch if counts[label] <= 30_000) <= boot.READ_BATCH_ROWS for batch in batches)


def test_language_row_counts_leave_out_labels_that_are_no_language(tmp_path):
    import pyarrow as pa

    from longtail.pipeline.bootstrap import language_row_counts

    labels = ["yor_Latn"] * 3 + ["und_Latn", "zxx_Zyyy", "amh_Ethi", None]
    files = []
    for part in (0, 1):
        files.append(str(tmp_path / f"unit-{part}.parquet"))
        pq.write_table(pa.table({"id": [f"{part}-{i}" for i in range(len(labels))], "lang_script": labels}), files[-1])
    assert language_row_counts(files) == {"yor_Latn": 6, "amh_Ethi": 2}


def test_rescoring_takes_the_candidates_perplexities_from_the_bootstrap(repo, tmp_path, monkeypatch):
    """The bootstrap keeps each candidate's perplexity under its fold model (folds/<label>.documents.json); the
    re-score takes it instead of scoring the document again: the same values as scoring, used only for the same id
    and text hash. A file read a few rows at a time gives the same row-aligned values."""
    import pyarrow as pa

    import longtail.pipeline.bootstrap as bootstrap
    from longtail.filters.kenlm_bootstrap import DOCUMENT_PERPLEXITIES_SUFFIX, FOLDS, split_candidates
    from longtail.pipeline.bootstrap import rescore_file

    reference = [line for line in (repo / "data" / "reference" / "yor_Latn.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [{**row, "text_hash": 1000 + i} for i, row in enumerate(_rows("yor_Latn", reference))]
    bootstrap_language(rows, [], "yor_Latn", tmp_path / "m", SMALL)
    kept = tmp_path / "m" / FOLDS / f"yor_Latn{DOCUMENT_PERPLEXITIES_SUFFIX}"
    stored = json.loads(kept.read_text())
    assert sorted(stored["id"]) == sorted(r["id"] for r in split_candidates(rows, SMALL)[0])
    annotated = tmp_path / "unit.parquet"
    pq.write_table(pa.Table.from_pylist(rows + [{**rows[0], "text_hash": 7, "text": reference[-1]}]), annotated)  # same id, other text

    def rescored(name: str) -> list:
        rescore_file(str(annotated), str(tmp_path / name), str(tmp_path / "m"), ["yor_Latn"])
        return pq.read_table(tmp_path / name).column("perplexity").to_pylist()

    taken = rescored("taken.parquet")
    with monkeypatch.context() as patch:
        patch.setattr(bootstrap, "RESCORE_BATCH_ROWS", 3)
        assert rescored("in-batches.parquet") == taken and len(taken) > 3
    kept.rename(kept.with_suffix(".aside"))
    computed = rescored("computed.parquet")
    assert taken == computed and computed[0] != computed[-1]
    first = stored["id"].index(rows[0]["id"])
    stored["perplexity"][first] = 12345.0  # were it not used, the re-score would not show it
    kept.write_text(json.dumps(stored))
    tampered = rescored("tampered.parquet")
    assert tampered[0] == 12345.0 and tampered[1:] == computed[1:]  # the last row (same id, other text) is scored


def test_the_run_scores_the_same_without_the_final_model(repo, tmp_path):
    """``final_model`` off (a run's default) skips only the build of the model of all lines: the fold models, the
    candidates' perplexities and the card's held-out figures, all the run uses, are the same bytes and values."""
    from longtail.filters.kenlm_bootstrap import FOLDS
    from longtail.filters.kenlm_model import load_card

    reference = [line for line in (repo / "data" / "reference" / "yor_Latn.txt").read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = _rows("yor_Latn", reference)
    without, with_final = tmp_path / "run", tmp_path / "reuse"
    bootstrap_language(rows, [], "yor_Latn", without, SMALL)
    bootstrap_language(rows, [], "yor_Latn", with_final, replace(SMALL, final_model=True))
    assert not (without / "yor_Latn.binary").exists() and (with_final / "yor_Latn.binary").is_file()
    cards = [load_card(folder, "yor_Latn") for folder in (without, with_final)]
    assert cards[0]["model_sha256"] is None and cards[1]["model_sha256"]
    assert cards[0]["bootstrap"]["settings"]["final_model"] is False
    for card in cards:
        card.pop("model_sha256")
        card["bootstrap"]["settings"].pop("final_model")
    assert cards[0] == cards[1]
    files = sorted(p.relative_to(without) for p in (without / FOLDS).rglob("*") if p.is_file())
    assert files and any(p.suffix == ".binary" for p in files)
    assert files == sorted(p.relative_to(with_final) for p in (with_final / FOLDS).rglob("*") if p.is_file())
    for name in files:
        assert (without / name).read_bytes() == (with_final / name).read_bytes(), name


def test_fewer_than_two_folds_is_refused():
    """A run scores every document with the model of another fold: one fold (or none) would leave it no model."""
    for folds in (0, 1):
        with pytest.raises(ValueError, match="heldout_folds must be at least 2"):
            BootstrapSettings(heldout_folds=folds)

"""Issue 4 without Ray: the quality evaluation corpus, ROC-AUC, perplexity buckets, the templated signal, settings,
the audit estimator (real models and the pipeline on a real local Ray: tests/integration/test_quality_run.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pyarrow as pa
import pytest
import yaml

from longtail.filters.perplexity_buckets import bucket_cutoffs, bucket_of
from longtail.filters.quality import Thresholds
from longtail.filters.quality_eval import load_eval_corpus, roc_auc
from longtail.stages.selection_columns import add_selection_columns, cap_templated
from longtail.filters.templated import templated_scores
from longtail.filters.words import is_unspaced
from longtail.pipeline.manifest import ManifestError, parse_manifest


@pytest.fixture(scope="module")
def eval_rows(repo):
    return load_eval_corpus(repo / "data" / "quality_eval")


def test_eval_corpus_is_regenerated_byte_for_byte(repo, tmp_path):
    subprocess.run([sys.executable, str(repo / "scripts" / "make_quality_eval.py"), "--out", str(tmp_path)], check=True, capture_output=True)
    shipped = sorted((repo / "data" / "quality_eval").glob("*.jsonl"))
    assert [p.name for p in shipped] == sorted(p.name for p in tmp_path.glob("*.jsonl"))
    for path in shipped:
        assert (tmp_path / path.name).read_bytes() == path.read_bytes(), path.name


def test_eval_corpus_covers_languages_scripts_and_junk_kinds(eval_rows, repo):
    languages = {r["lang_script"] for r in eval_rows}
    scripts = {label.split("_")[1] for label in languages}
    assert len(languages) >= 6 and len(scripts) >= 4 and any(is_unspaced(s) for s in scripts)
    for label in languages:
        kinds = Counter(r["kind"] for r in eval_rows if r["lang_script"] == label and r["label"] == "junk")
        assert {"boilerplate", "spam", "repetition", "garbled", "wrong_lang"} <= set(kinds), label
        assert sum(r["label"] == "clean" for r in eval_rows if r["lang_script"] == label) >= 10
    # clean items never come from the models' training text
    training = {json.loads(line)["text"] for line in (repo / "data" / "quality" / "train.jsonl").read_text().splitlines()}
    reference = set()
    for path in (repo / "data" / "reference").glob("*.txt"):
        reference.update(path.read_text().splitlines())
    for row in eval_rows:
        assert row["text"] not in training
        assert not any(line in reference for line in row["text"].splitlines())


def test_roc_auc_counts_ties_as_half():
    assert roc_auc([3, 4], [1, 2]) == 1.0
    assert roc_auc([1, 2], [3, 4]) == 0.0
    assert roc_auc([1, 1], [1, 1]) == 0.5
    assert roc_auc([2, 3], [1, 3]) == pytest.approx(0.625)
    assert roc_auc([], [1]) is None


def test_perplexity_buckets_from_percentiles():
    perplexities = [float(v) for v in range(1, 11)] + [None]
    cutoffs = bucket_cutoffs(perplexities, (30, 60))
    assert cutoffs == pytest.approx((3.7, 6.4))  # linear interpolation between ranks, as numpy.percentile
    buckets = [bucket_of(p, cutoffs) for p in perplexities]
    assert Counter(buckets) == {"head": 3, "middle": 3, "tail": 4, None: 1}
    assert bucket_cutoffs([None], (30, 60)) is None


def test_bucket_codes_of_a_column_equal_the_list_path():
    """finalize keeps a language's buckets as int8 codes of an Arrow column (float32, nulls, NaN): the same buckets
    and cut-offs as the per-value rule on the list."""
    import pyarrow as pa

    from longtail.filters.perplexity_buckets import BUCKET_NAMES, bucket_codes

    values = [12.5, None, 3.25, float("nan"), 7.0, 40.0, 3.25, 1e6, 0.5]
    column = pa.chunked_array([pa.array(values[:4], pa.float32()), pa.array(values[4:], pa.float32())])
    cutoffs = bucket_cutoffs(column, (30, 60))
    assert cutoffs == bucket_cutoffs(values, (30, 60)) and isinstance(cutoffs[0], float)
    assert list(BUCKET_NAMES[bucket_codes(column, cutoffs)]) == [bucket_of(v, cutoffs) for v in values]
    assert list(BUCKET_NAMES[bucket_codes(column, None)]) == [None] * len(values)
    assert bucket_of(float("nan"), cutoffs) is None and bucket_of(cutoffs[0], cutoffs) == "head" and bucket_of(cutoffs[1], cutoffs) == "middle"


def test_bucket_and_templated_settings_are_validated():
    base = {"name": "t", "inputs": ["x.jsonl"], "output": "out"}
    manifest = parse_manifest({**base, "selection": {"defaults": {"perplexity_bucket_percentiles": [20, 70], "keep_perplexity_buckets": ["tail", "head"]}, "languages": {"lao_Laoo": {"max_templated_share": 0.1}}}})
    assert manifest.thresholds.perplexity_bucket_percentiles == (20.0, 70.0)
    assert manifest.thresholds.keep_perplexity_buckets == ("head", "tail")
    assert manifest.language_thresholds["lao_Laoo"] == {"max_templated_share": 0.1}
    with pytest.raises(ManifestError, match=r"selection.defaults.perplexity_bucket_percentiles: needs 0 < low < high < 100"):
        parse_manifest({**base, "selection": {"defaults": {"perplexity_bucket_percentiles": [60, 30]}}})
    with pytest.raises(ManifestError, match=r"selection.languages.yor_Latn.keep_perplexity_buckets: must be a non-empty list"):
        parse_manifest({**base, "selection": {"languages": {"yor_Latn": {"keep_perplexity_buckets": ["top"]}}}})


def test_thresholds_file_is_included_and_manifest_overrides_it(tmp_path):
    (tmp_path / "cal.yaml").write_text(yaml.safe_dump({"method": {"tool": "x"}, "languages": {"yor_Latn": {"min_letter_ratio": 0.8, "max_dup_line_frac": 0.2}}}))
    data = {"name": "t", "inputs": ["x.jsonl"], "output": "out", "selection": {"thresholds_file": "cal.yaml", "languages": {"yor_Latn": {"max_dup_line_frac": 0.25}}}}
    manifest = parse_manifest(data, tmp_path)
    assert manifest.language_thresholds["yor_Latn"] == {"min_letter_ratio": 0.8, "max_dup_line_frac": 0.25}
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"languages": {"yor_Latn": {"min_letter_ration": 0.8}}}))
    with pytest.raises(ManifestError, match=r"selection.thresholds_file.yor_Latn.min_letter_ration: unknown field"):
        parse_manifest({**data, "selection": {"thresholds_file": "bad.yaml"}}, tmp_path)
    with pytest.raises(ManifestError, match=r"selection.thresholds_file: file not found"):
        parse_manifest({**data, "selection": {"thresholds_file": "missing.yaml"}}, tmp_path)


def test_templated_signal_flags_scripture_not_articles(eval_rows):
    scores = templated_scores([r["text"] for r in eval_rows], [r["url"] for r in eval_rows], [r["lang_script"].split("_")[1] for r in eval_rows])
    by_kind: dict[str, list[float]] = {}
    for row, score in zip(eval_rows, scores):
        by_kind.setdefault(row["kind"], []).append(score)
    assert min(by_kind["scripture"]) >= 0.9
    assert max(by_kind["paragraphs"] + by_kind["article"]) < 0.5
    # one template filled in on several pages of a domain, without verse numbers
    pages = [f"Weather for town {i}\nToday it is {20 + i} degrees and sunny.\nTomorrow brings {i} mm of rain.\nHave a nice day." for i in range(5)]
    domain = templated_scores(pages + ["A different story about a market.\nNothing in common here."], [f"https://w.example/{i}" for i in range(6)], ["Latn"] * 6)
    assert min(domain[:5]) >= 0.9 and domain[5] == 0.0


def test_templated_cap_keeps_the_allowed_share():
    n = 10
    table = pa.table({
        "id": [f"d{i}" for i in range(n)], "text": ["x"] * n, "script": ["Latn"] * n, "url": [None] * n,
        "perplexity": [float(i) for i in range(n)], "drop_reason": [None] * n,
    })
    table, _ = add_selection_columns(table, Thresholds())
    table = table.set_column(table.schema.get_field_index("templated"), "templated", pa.array([i < 6 for i in range(n)]))
    capped = cap_templated(table, Thresholds(max_templated_share=0.5))
    reasons = capped.column("drop_reason").to_pylist()
    assert reasons == [None] * 4 + ["quality:templated"] * 2 + [None] * 4  # 4 templated kept next to 4 others: 50 %
    assert cap_templated(table, Thresholds()).column("drop_reason").to_pylist() == [None] * n


def test_audit_estimator_weights_strata():
    from longtail.pipeline.tools.audit import stratified_sample

    rows = [{"id": f"a{i:03d}", "url": "https://big.example/x", "perplexity_bucket": "head"} for i in range(90)]
    rows += [{"id": f"b{i:03d}", "url": "https://spam.example/y", "perplexity_bucket": "tail"} for i in range(10)]
    sample = stratified_sample(rows, 10, seed=1)
    by_stratum = Counter(s["stratum"] for s in sample)
    assert by_stratum == {"head|big.example": 5, "tail|spam.example": 5}  # the small stratum is not drowned out
    assert sum(s["weight"] for s in sample) == pytest.approx(100)
    assert sample == stratified_sample(rows, 10, seed=1)



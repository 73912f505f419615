"""Stage contracts (columns read and added, checked when a chain is built) and the chain's counters, without Ray."""

from pathlib import Path

import pyarrow as pa
import pytest

from longtail.filters.quality import Thresholds
from longtail.pipeline.annotate import build_stages
from longtail.pipeline.finalize import selection_chain
from longtail.pipeline.manifest import parse_manifest
from longtail.stages.base import REMOVED_ROWS, Chain, ColumnContractError, check_columns, sum_counters
from longtail.stages.dedup.minhash import MinHashParams, MinHashStage
from longtail.stages.dedup.stage import DedupStage
from longtail.stages.quality import SignalsStage
from longtail.stages.read import DOCUMENT_SCHEMA
from longtail.stages.select import KeepLanguagesStage, SelectStage
from longtail.stages.selection_columns import SelectionColumnsStage, TemplatedCapStage


class Marks:
    """Test stage: drops the rows whose ``n`` is in ``drop`` with ``reason`` (rows already dropped stay as they are)."""

    adds = ("drop_reason",)

    def __init__(self, name, drop, reason, reads=("n",)):
        self.name, self.drop, self.reason, self.reads = name, set(drop), reason, reads

    def setup(self):
        pass

    def __call__(self, batch):
        old = batch.column("drop_reason").to_pylist() if "drop_reason" in batch.column_names else [None] * batch.num_rows
        new = [r or (self.reason if n in self.drop else None) for r, n in zip(old, batch.column("n").to_pylist())]
        if "drop_reason" in batch.column_names:
            return batch.set_column(batch.schema.get_field_index("drop_reason"), "drop_reason", pa.array(new, pa.string()))
        return batch.append_column("drop_reason", pa.array(new, pa.string()))


class Removes:
    name, reads, adds = "removes", ("n",), ()

    def setup(self):
        pass

    def __call__(self, batch):
        return batch.slice(0, batch.num_rows - 1)


def test_a_missing_column_names_the_stage_and_the_column():
    with pytest.raises(ColumnContractError, match=r"stage 'late' \(position 1\) reads m, which neither the input nor an earlier stage provides"):
        Chain([Marks("first", [], "x"), Marks("late", [], "y", reads=("n", "m"))], input_columns=["n"])
    # a column an earlier stage adds is available to the later ones
    Chain([Marks("first", [], "x"), Marks("late", [], "y", reads=("n", "drop_reason"))], input_columns=["n"])
    with pytest.raises(ColumnContractError, match="'first'"):
        Chain([Marks("first", [], "x"), Marks("late", [], "y")], input_columns=["id"])


def test_removed_columns_are_gone_for_later_stages():
    with pytest.raises(ColumnContractError, match="'identify' .* reads .*text"):
        check_columns([SignalsStage(), type("Drop", (), {"name": "drop", "reads": (), "adds": (), "removes": ("text",)})(),
                       type("Identify", (), {"name": "identify", "reads": ("text",), "adds": ()})()], ["text", "script"])


def test_stage_names_are_unique_in_a_chain():
    with pytest.raises(ValueError, match="unique"):
        Chain([Marks("a", [], "x"), Marks("a", [], "y")], ["n"])


def test_counters_in_out_and_dropped_by_reason():
    chain = Chain([Marks("first", [1, 2], "r:one"), Marks("second", [2, 3, 4], "r:two"), Removes()], ["n"])
    out = chain(pa.table({"n": [1, 2, 3, 4, 5, 6]}))
    out = chain(pa.table({"n": [3, 7]}))  # counters add up over batches
    assert out.num_rows == 1
    stats = chain.stats()
    assert list(stats) == ["first", "second", "removes"]
    assert {k: stats["first"][k] for k in ("in", "out", "dropped")} == {"in": 8, "out": 6, "dropped": {"r:one": 2}}
    # row 2 was dropped by the first stage: the second counts only the rows it dropped itself
    assert {k: stats["second"][k] for k in ("in", "out", "dropped")} == {"in": 6, "out": 3, "dropped": {"r:two": 3}}
    assert stats["removes"]["dropped"] == {REMOVED_ROWS: 2} and stats["removes"]["in"] == 3
    assert all(s["seconds"] >= 0 for s in stats.values())
    assert sum_counters([stats, stats])["second"] == {"in": 12, "out": 6, "dropped": {"r:two": 6}, "seconds": round(2 * stats["second"]["seconds"], 3)}


def test_every_stage_declares_its_columns():
    for stage in [SignalsStage(), MinHashStage(), SelectStage(Thresholds()), SelectionColumnsStage(Thresholds()), TemplatedCapStage(Thresholds()),
                  KeepLanguagesStage(["yor_Latn"]), DedupStage(MinHashParams(), "yor_Latn"), *build_stages(parse_manifest({"name": "t", "inputs": ["x.warc"], "output": "o"}))]:
        assert isinstance(stage.reads, tuple) and isinstance(stage.adds, tuple) and stage.adds, stage.name


def test_the_annotate_chain_checks_against_the_reader_schema(tmp_path):
    chain = build_stages(parse_manifest({"name": "t", "inputs": ["x.warc"], "output": str(tmp_path)}))
    assert [s.name for s in chain] == ["url_filter", "extract", "identify", "pii", "signals", "minhash"]
    assert "html" not in chain.output_columns and {"lang_script", "minhash", "n_words"} <= chain.output_columns
    with pytest.raises(ColumnContractError, match="'extract'"):
        Chain(list(chain), [c for c in DOCUMENT_SCHEMA.names if c != "content_type"])


def _annotated(texts, lang_script="yor_Latn"):
    table = pa.table({
        "id": [f"d{i}" for i in range(len(texts))],
        "url": [f"https://x.test/{i}" for i in range(len(texts))],
        "crawl_date": ["2024-01-01"] * len(texts),
        "text": texts,
        "script": [lang_script.split("_")[1]] * len(texts),
        "lang": [lang_script.split("_")[0]] * len(texts),
        "lang_script": [lang_script] * len(texts),
        "lang_score": pa.array([0.9] * len(texts), pa.float32()),
    })
    return MinHashStage()(SignalsStage()(table))


def test_the_finalize_chain_counts_each_stage_drops():
    lines = (Path(__file__).parents[2] / "data" / "reference" / "yor_Latn.txt").read_text(encoding="utf-8").splitlines()
    page = lambda start: " ".join(lines[start : start + 8])  # noqa: E731 - 8 sentences of real Yorùbá, > 50 words
    table = _annotated([page(0), page(0), "kúkúrú", page(30)])
    manifest = parse_manifest({"name": "t", "inputs": ["x.warc"], "output": "o"})
    chain = selection_chain(manifest, "yor_Latn", table.column_names)
    out = chain(table)
    stats = chain.stats()
    assert [s for s in stats] == ["selection_columns", "select", "templated_cap", "lid_outlier", "dedup"]
    assert stats["select"]["dropped"] == {"quality:too_short": 1} and stats["select"]["out"] == 3
    # 3 pages are too few for a confident core (lid_outlier.MIN_CORE): the split is passed on unjudged
    assert stats["lid_outlier"]["in"] == 3 and stats["lid_outlier"]["dropped"] == {} and stats["lid_outlier"]["out"] == 3
    assert stats["dedup"]["in"] == 3 and stats["dedup"]["dropped"] == {"dedup:exact": 1} and stats["dedup"]["out"] == 2
    assert out.column("drop_reason").to_pylist() == [None, "dedup:exact", "quality:too_short", None]
    # keep_languages marks what is still in, after the quality rules
    other = selection_chain(parse_manifest({"name": "t", "inputs": ["x.warc"], "output": "o", "selection": {"keep_languages": ["que_Latn"]}}),
                            "yor_Latn", table.column_names)
    other(table)
    assert other.stats()["keep_languages"]["dropped"] == {"lid:not_selected": 3} and other.stats()["dedup"]["in"] == 0


def test_the_finalize_chain_counts_lid_outlier_drops():
    # 21 pages of real Yorùbá and one of real English that document LID put in the same split: the split is big
    # enough for a confident core (lid_outlier.MIN_CORE), and the English page is far from it
    reference = Path(__file__).parents[2] / "data" / "reference"
    yoruba = (reference / "yor_Latn.txt").read_text(encoding="utf-8").splitlines()
    english = (reference / "eng_Latn.txt").read_text(encoding="utf-8").splitlines()
    pages = [" ".join(yoruba[start : start + 3]) for start in range(0, 63, 3)] + [" ".join(english[:3])]
    table = _annotated(pages)
    manifest = parse_manifest({"name": "t", "inputs": ["x.warc"], "output": "o", "selection": {"defaults": {"min_words": 20}}})
    chain = selection_chain(manifest, "yor_Latn", table.column_names)
    out = chain(table)
    stats = chain.stats()
    assert stats["select"]["out"] == 22
    assert stats["lid_outlier"] == {**stats["lid_outlier"], "in": 22, "out": 21, "dropped": {"lid:outlier": 1}}
    assert stats["dedup"]["in"] == 21
    assert out.column("drop_reason").to_pylist() == [None] * 21 + ["lid:outlier"]
    assert out.column("lid_outlier_score").to_pylist()[-1] < min(out.column("lid_outlier_score").to_pylist()[:-1])


def test_the_pass_clock_lists_the_passes_that_ran_with_their_share():
    """pipeline/runlog.py::PassClock: the run log's line on where a run's time went; a pass that is off is not listed,
    a pass timed twice (a resumed step) adds up, and an exception still stops the clock."""
    from longtail.pipeline.runlog import PassClock
    from longtail.tests.support import passes_timed

    clock = PassClock()
    assert clock.summary() == "time per pass (wall): nothing ran; 0.0 s in all"
    with clock.timed("annotate"):
        sum(range(10**6))
    with clock.timed("bootstrap kenlm", on=False):
        pass
    with pytest.raises(ValueError), clock.timed("select+dedup+write"):
        raise ValueError("a failed pass")
    with clock.timed("annotate"):
        pass
    passes = passes_timed(clock.summary())
    assert list(passes) == ["annotate", "select+dedup+write"] and clock.seconds["annotate"] > 0
    assert clock.summary().endswith(f"; {sum(clock.seconds.values()):.1f} s in all")

"""Per-page limits: a page whose extraction runs out of time is dropped as ``extract:timeout`` and the
worker moves on, on the main thread and inside a Ray Data actor (which runs batches on a pool thread, where
``signal.alarm`` cannot be used). Also: the manifest's extract settings are validated."""

from __future__ import annotations

import math
import time

import pyarrow as pa
import pytest

from longtail.filters.quality import Thresholds
from longtail.pipeline.manifest import ManifestError, parse_manifest
from longtail.stages.extract import ExtractStage, TimeLimit, ExtractTimeout
from longtail.stages.select import SelectStage

SENTENCE = "The market opened early on Tuesday and farmers sold tomatoes, onions and fresh maize to the town. "


def page(paragraphs: int, tag: str) -> bytes:
    body = "".join(f"<p>{tag} {i}: {SENTENCE * 3}</p>" for i in range(paragraphs))
    return f"<html><head><title>{tag}</title></head><body><article>{body}</article></body></html>".encode()


def batch(pages: dict[str, bytes]) -> pa.Table:
    return pa.table({
        "id": list(pages),
        "html": list(pages.values()),
        "text": [None] * len(pages),
        "content_type": ["text/html; charset=utf-8"] * len(pages),
    })


@pytest.fixture(scope="module")
def pages() -> dict[str, bytes]:
    # "slow" (~6.6 MB) takes trafilatura about a second on an idle core; "small" a few milliseconds.
    return {"small": page(5, "small"), "slow": page(20_000, "slow"), "small2": page(4, "after")}


def outcome(table: pa.Table) -> dict:
    return {row["id"]: (row["extract_error"], bool(row["text"])) for row in table.to_pylist()}


def test_slow_page_times_out_and_the_next_page_is_extracted(pages):
    stage = ExtractStage(max_html_chars=20_000_000, timeout_seconds=0.3)
    stage.setup()
    started = time.monotonic()
    result = outcome(stage(batch(pages)))
    assert time.monotonic() - started < 10
    assert result == {"small": (None, True), "slow": ("timeout", False), "small2": (None, True)}


def test_without_a_limit_the_slow_page_is_extracted(pages):
    stage = ExtractStage(max_html_chars=20_000_000, timeout_seconds=None)
    stage.setup()
    started = time.monotonic()
    assert outcome(stage(batch({"slow": pages["slow"]}))) == {"slow": (None, True)}
    assert time.monotonic() - started > 0.6  # the page really is well over the limit used above


def spin_until_stopped() -> None:
    while True:
        sum(range(100))


def test_a_limit_fires_only_inside_its_block():
    limit = TimeLimit(0.05)
    for _ in range(200):
        limit.run(int)
    time.sleep(0.2)  # an injected exception would surface here
    with pytest.raises(ExtractTimeout):
        limit.run(spin_until_stopped)
    time.sleep(0.2)
    assert limit.run(sum, range(1000)) == 499500  # reusable after firing
    with pytest.raises(ValueError):  # the page's own error, raised after disarming
        limit.run(int, "x")
    assert limit._deadline is None


def test_a_timeout_landing_as_the_page_finishes_leaves_the_limit_disarmed(monkeypatch):
    # The watchdog's shot for a page can be delivered after the page returned, on the way into disarming
    # (with a context manager: at the start of __exit__, which then never disarmed, and the watchdog went on
    # shooting into the next page or the caller). Fire it deterministically at exactly that point.
    limit = TimeLimit(3600)  # never fires by itself during this test
    disarm, calls = limit._disarm, []

    def disarm_after_a_late_shot():
        calls.append("disarm")
        if len(calls) == 1:
            limit._fire_if_due(math.inf)  # a real asynchronous ExtractTimeout, delivered here
        disarm()

    monkeypatch.setattr(limit, "_disarm", disarm_after_a_late_shot)
    with pytest.raises(ExtractTimeout):
        limit.run(str.upper, "page")  # a page that reached its limit is a timeout, even if it just finished
    assert calls == ["disarm", "disarm"] and limit._deadline is None
    limit._fire_if_due(math.inf)  # disarmed: no shot is sent...
    assert sum(range(10)) == 45  # ...so none lands in later code
    assert limit.run(str.upper, "next page") == "NEXT PAGE"


def test_pages_after_a_timeout_are_extracted(monkeypatch):
    from longtail.stages import extract

    def fake_extract(html: str, engine: str = "trafilatura") -> str:
        if ">slow<" in html:
            spin_until_stopped()
        if ">edge<" in html:
            stage._time_limit._fire_if_due(math.inf)  # the limit passes just as the page finishes
        return "text of " + html[:40]

    monkeypatch.setattr(extract, "extract_main_text", fake_extract)
    stage = ExtractStage(timeout_seconds=0.2)
    stage.setup()
    pages = {name: page(1, name) for name in ("slow", "after", "edge", "last")}
    assert outcome(stage(batch(pages))) == {"slow": ("timeout", False), "after": (None, True), "edge": ("timeout", False), "last": (None, True)}
    assert stage._time_limit._deadline is None


def test_timeout_is_its_own_drop_reason():
    table = pa.table({"id": ["a", "b"], "lang_script": ["und_Zyyy", "und_Zyyy"], "text": ["", ""],
                      "extract_error": ["timeout", "ValueError('x')"]})
    assert SelectStage(Thresholds())(table).column("drop_reason").to_pylist() == ["extract:timeout", "extract:error"]


@pytest.mark.parametrize("extract, message", [
    ({"engine": "lynx"}, "stages.extract.engine"),
    ({"timeout_seconds": -1}, "stages.extract"),
    ({"timeout_seconds": "soon"}, "stages.extract.timeout_seconds"),
])
def test_extract_settings_are_validated(extract, message):
    with pytest.raises(ManifestError, match=message.replace(".", r"\.")):
        parse_manifest({"name": "t", "inputs": ["x.warc.gz"], "output": "out", "stages": {"extract": extract}})


def test_resiliparse_engine_extracts_main_text(pages):
    stage = ExtractStage(engine="resiliparse")
    stage.setup()
    result = stage(batch({"small": pages["small"]})).to_pylist()[0]
    assert "farmers sold tomatoes" in result["text"] and result["extract_error"] is None

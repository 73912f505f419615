"""Hostile inputs (scripts/make_hostile_inputs.py) through read + extract, without Ray.

Per file: reading completes without an exception escaping; every good record comes out as a document with
text; each bad record is counted under its expected reason in ``ReadReport.records`` (exactly: no extra
counts) and listed in ``ReadReport.errors`` with its file and offset; bad records are not documents;
charset cases decode to the right text. Time is bounded without wall-clock asserts: the 50 MB page must be
reported ``too_large`` and the 100,000-deep page must go through extraction without raising.

Cases the current read.py / extract.py get wrong are ``xfail(strict=True)`` in ``KNOWN_FAILURES`` below, with
what fails; fixing one turns its xfail into an XPASS, i.e. a failure, so the entry must then be removed.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pytest

from longtail.stages.extract import ExtractStage, decode_html, extract_main_text
from longtail.stages.read import ReadReport, read_unit
from longtail.tests.support import load_script

REPO = Path(__file__).resolve().parents[2]
READ_REASONS = ("malformed", "non_html", "too_large", "non_200")

FILES = [
    "control.warc.gz",
    "truncated_gzip_member.warc.gz",
    "content_length_too_large.warc.gz",
    "content_length_too_small.warc.gz",
    "http_no_status_line.warc.gz",
    "http_garbage_status.warc.gz",
    "http_no_blank_line.warc.gz",
    "non_html_png.warc.gz",
    "non_html_pdf.warc.gz",
    "charset_cp1251_declared_utf8.warc.gz",
    "charset_sjis_undeclared.warc.gz",
    "invalid_utf8.warc.gz",
    "huge_page_50mb.warc.gz",
    "deep_nesting.warc.gz",
    "http_gzip_bomb.warc.gz",
    "warc_gzip_bomb.warc.gz",
    "empty.warc.gz",
    "empty_gzip.warc.gz",
    "not_warc_text.warc.gz",
    "not_warc_plain.warc",
]
CHARSET_FILES = ["charset_cp1251_declared_utf8.warc.gz", "charset_sjis_undeclared.warc.gz", "invalid_utf8.warc.gz"]
DOCUMENT_FILES = ["deep_nesting.warc.gz"]

_RESYNC = ("read_warc stops at the first iterator exception (`break`), so every record after the bad one is lost; "
           "it must resume at the next gzip member")
_WRONG_LENGTH = ("read_warc accepts the record: it reads exactly Content-Length bytes and never checks "
                 "WARC-Block-Digest, so the wrong-length block becomes a document")
_NO_SNIFF = "read_warc trusts Content-Type: text/html and does not sniff the payload"
_GZIP_CE = "read_warc ignores Content-Encoding: the gzip bytes pass as an HTML document (no too_large / non_html)"
_NO_OFFSET = "the error is reported with offset None: `offset` is only set once a record was read"

# (check, file) -> what the current code does wrong.
KNOWN_FAILURES: dict = {}  # every case of the suite passes; add an entry only with an issue note


def cases(check: str, names: list[str] = FILES) -> list:
    params = []
    for name in names:
        reason = KNOWN_FAILURES.get((check, name))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def _load_generator():
    module = load_script(REPO, "make_hostile_inputs")
    return module


@dataclass
class Run:
    report: ReadReport
    docs: list = field(default_factory=list)     # url, warc_offset, text, charset, extract_error
    read_exception: BaseException | None = None
    extract_exception: BaseException | None = None

    def outcome(self, url: str) -> str | None:
        """``kept`` / ``extract:empty`` / ``extract:error`` for a document, None if ``url`` is not one."""
        rows = [doc for doc in self.docs if doc["url"] == url]
        if not rows:
            return None
        assert len(rows) == 1, f"{url} came out {len(rows)} times"
        if rows[0]["extract_error"]:
            return "extract:error"
        return "kept" if (rows[0]["text"] or "").strip() else "extract:empty"

    def text(self, url: str) -> str:
        return next(doc["text"] or "" for doc in self.docs if doc["url"] == url)


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("hostile")
    expected = _load_generator().build_hostile_suite(out)
    return out, expected


@pytest.fixture(scope="module")
def runs(suite) -> dict[str, Run]:
    out, expected = suite
    stage = ExtractStage()
    stage.setup()
    results = {}
    for name in expected["files"]:
        run = Run(ReadReport())
        try:
            batches = list(read_unit(str(out / name), run.report))
        except Exception as exc:  # recorded, asserted on by test_reading_completes
            run.read_exception = exc
            batches = []
        for batch in batches:
            try:
                extracted = stage(batch)
            except Exception as exc:
                run.extract_exception = exc
                continue
            run.docs += extracted.select(["url", "warc_offset", "text", "charset", "extract_error"]).to_pylist()
        results[name] = run
    return results


def test_expected_json_covers_every_file(suite):
    out, expected = suite
    assert sorted(expected["files"]) == sorted(FILES)
    assert (out / "expected.json").is_file()
    for name, spec in expected["files"].items():
        assert (out / name).is_file(), name
        assert sum(spec["bad_counts"].values()) == len(spec["bad_records"]), name
    assert sorted(n for n, s in expected["files"].items() if s["must_contain"]) == sorted(CHARSET_FILES)
    assert sorted(n for n, s in expected["files"].items() if s["documents"]) == sorted(DOCUMENT_FILES)
    good = [url for spec in expected["files"].values() for url in spec["good_urls"]]
    assert len(good) == len(set(good)), "good urls must be unique"


def test_suite_is_deterministic_and_small(suite, tmp_path):
    out, _ = suite
    _load_generator().build_hostile_suite(tmp_path)
    for path in sorted(out.iterdir()):
        again = tmp_path / path.name
        assert hashlib.sha256(path.read_bytes()).digest() == hashlib.sha256(again.read_bytes()).digest(), path.name
        assert path.stat().st_size < 2_000_000, path.name
    assert (out / "empty.warc.gz").stat().st_size == 0


def test_good_pages_are_not_duplicates(suite, runs):
    """Good pages share at most one of their three news items: no exact or near duplicates among them."""
    _, expected = suite
    control = expected["files"]["control.warc.gz"]["good_urls"]
    texts = [set(runs["control.warc.gz"].text(url).split("\n")) for url in control]
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            assert len(texts[i] & texts[j]) <= 2  # at most one shared item: its heading and its paragraph


@pytest.mark.parametrize("name", cases("completes"))
def test_reading_completes(runs, name):
    assert runs[name].read_exception is None, repr(runs[name].read_exception)
    assert runs[name].extract_exception is None, repr(runs[name].extract_exception)


@pytest.mark.parametrize("name", cases("good"))
def test_good_records_come_out_as_documents(suite, runs, name):
    _, expected = suite
    outcomes = {url: runs[name].outcome(url) for url in expected["files"][name]["good_urls"]}
    assert outcomes == {url: "kept" for url in outcomes}


@pytest.mark.parametrize("name", cases("counted"))
def test_bad_records_counted_by_reason(suite, runs, name):
    """``ReadReport.records`` holds exactly the expected read-level reasons (each bad record once)."""
    _, expected = suite
    observed = Counter({reason: runs[name].report.records[reason] for reason in READ_REASONS})
    unmatched = []
    bad_records = expected["files"][name]["bad_records"]
    for bad in sorted(bad_records, key=lambda b: len(b.get("acceptable_reasons", [b["reason"]]))):
        reason = next((r for r in bad.get("acceptable_reasons", [bad["reason"]]) if observed[r] > 0), None)
        if reason is None:
            unmatched.append(bad)
        else:
            observed[reason] -= 1
    assert not unmatched, f"not counted: {unmatched}; report: {dict(runs[name].report.records)}"
    assert +observed == Counter(), f"unexpected counts {dict(+observed)}; report: {dict(runs[name].report.records)}"


@pytest.mark.parametrize("name", cases("listed"))
def test_bad_records_listed_with_file_and_offset(suite, runs, name):
    _, expected = suite
    errors = [e for e in runs[name].report.errors if e["reason"] in READ_REASONS]
    for bad in expected["files"][name]["bad_records"]:
        reasons = bad.get("acceptable_reasons", [bad["reason"]])
        match = [e for e in errors if e["file"] == name and e["reason"] in reasons and e["offset"] == bad["offset"]]
        assert match, f"no error {reasons} at offset {bad['offset']} in {errors}"
    assert len(errors) == len(expected["files"][name]["bad_records"]), errors


@pytest.mark.parametrize("name", cases("not_documents"))
def test_bad_records_are_not_documents(suite, runs, name):
    _, expected = suite
    for bad in expected["files"][name]["bad_records"]:
        if bad["url"]:
            assert runs[name].outcome(bad["url"]) is None, f"{bad['url']} ({bad['reason']}) came out as a document"


@pytest.mark.parametrize("name", cases("charset", CHARSET_FILES))
def test_charset_cases_decode_correctly(suite, runs, name):
    _, expected = suite
    for url, word in expected["files"][name]["must_contain"].items():
        assert runs[name].outcome(url) == "kept"
        assert word in runs[name].text(url), f"{word!r} not in {runs[name].text(url)[:200]!r}"


@pytest.mark.parametrize("name", cases("documents", DOCUMENT_FILES))
def test_document_level_outcomes(suite, runs, name):
    _, expected = suite
    for doc in expected["files"][name]["documents"]:
        assert runs[name].outcome(doc["url"]) in doc["allowed_outcomes"]


def test_huge_page_is_too_large(suite, runs):
    _, expected = suite
    name = "huge_page_50mb.warc.gz"
    (bad,) = expected["files"][name]["bad_records"]
    assert runs[name].report.records["too_large"] == 1
    assert [(e["reason"], e["offset"]) for e in runs[name].report.errors] == [("too_large", bad["offset"])]
    assert runs[name].outcome(bad["url"]) is None


def test_deep_nesting_extraction_returns(suite):
    """The 100,000-deep page reaches extraction, and decoding + trafilatura return without raising."""
    out, expected = suite
    name = "deep_nesting.warc.gz"
    (doc,) = expected["files"][name]["documents"]
    table = pa.concat_tables(list(read_unit(str(out / name), ReadReport())))
    (row,) = [r for r in table.to_pylist() if r["url"] == doc["url"]]
    decoded, _ = decode_html(row["html"], row["content_type"])
    assert decoded.count("<div>") == 100_000
    result = extract_main_text(decoded)  # must return (None or text), not raise
    assert result is None or isinstance(result, str)
    extracted = ExtractStage()(table)
    assert extracted.column("extract_error").to_pylist() == [None] * table.num_rows

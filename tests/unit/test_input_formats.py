"""Every input format, read from files written by scripts/make_format_inputs.py in the layouts real crawlers produce
(WARC 1.0/1.1 per record and whole-file gzip, WET, ClueWeb09's WARC/0.18, ARC v1/v2, JSONL, Parquet), the check
that refuses bad inputs before a run, and the per-file failure row of the annotate pass. No Ray."""

from __future__ import annotations

import gzip
import json

import pyarrow as pa
import pytest

from longtail.pipeline import annotate as annotate_module
from longtail.pipeline import ray_backend
from longtail.pipeline.cli.main import build_parser
from longtail.pipeline.manifest import load_manifest
from longtail.pipeline.run import BadInputs, run, screen_inputs
from longtail.stages.extract import ExtractStage
from longtail.stages.read import ReadReport, container, input_format, input_problem, read_unit
from longtail.stages.read_legacy import Inflated, iter_arc, parse_arc_header, safe_url
from longtail.tests.support import load_script


@pytest.fixture(scope="module")
def suite(repo, tmp_path_factory):
    generator = load_script(repo, "make_format_inputs")
    out = tmp_path_factory.mktemp("formats")
    return out, generator.build_format_suite(out), generator


def _read(path) -> tuple[list[dict], ReadReport]:
    report = ReadReport()
    rows = [row for batch in read_unit(str(path), report) for row in batch.to_pylist()]
    return rows, report


READABLE = [
    "cc_warc10.warc.gz",
    "warc11.warc.gz",
    "wholefile_warc10.warc.gz",
    "cc.warc.wet.gz",
    "ja0000/00.warc.gz",
    "ia_v1.arc.gz",
    "alexa_v2.arc",
    "dolma.jsonl.gz",
    "fineweb.parquet",
]


@pytest.mark.parametrize("name", READABLE)
def test_each_format_yields_its_pages_and_counts_its_records(suite, name):
    out, expected, _ = suite
    spec = expected["files"][name]
    rows, report = _read(out / name)
    assert report.errors == []
    assert dict(report.records) == spec["records"]
    urls = [row["url"] for row in rows]
    assert len(urls) == len(spec["documents"])
    for got, want in zip(urls, spec["documents"]):
        assert got == want or (want is None and got.startswith(spec["raw_url_prefix"])), (got, want)
    assert len({row["id"] for row in rows}) == len(rows)  # ids unique within the file
    assert input_problem(str(out / name)) is None


def test_wet_conversion_records_are_text_and_skip_extraction(suite):
    out, expected, _ = suite
    spec = expected["files"]["cc.warc.wet.gz"]
    rows, _ = _read(out / "cc.warc.wet.gz")
    assert all(row["html"] is None and row["content_type"] == "text/plain" for row in rows)
    extracted = ExtractStage(timeout_seconds=None)(pa.Table.from_pylist(rows))
    for url, text, charset, error in zip(*(extracted.column(c).to_pylist() for c in ("url", "text", "charset", "extract_error"))):
        assert spec["texts"][url] in text  # the record's text as written, not re-extracted (which would drop lines)
        assert charset is None and error is None
    assert all(row["crawl_date"].startswith("2024-02-21T07:00:") for row in rows)


def test_clueweb09_pages_decode_as_japanese(suite):
    """WARC/0.18 with LF lines, wrong Content-Length, whole-file gzip; EUC-JP declared in the header, only in
    <meta>, nowhere, and behind a stale Content-Encoding: gzip header."""
    out, expected, _ = suite
    rows, report = _read(out / "ja0000/00.warc.gz")
    assert report.records["response"] == 5 and not report.errors
    extracted = ExtractStage(timeout_seconds=None)(pa.Table.from_pylist(rows)).to_pylist()
    for n, snippet in expected["files"]["ja0000/00.warc.gz"]["japanese"].items():
        assert snippet in extracted[int(n)]["text"], (n, extracted[int(n)]["charset"], extracted[int(n)]["text"][:80])
    assert extracted[0]["url"] == "http://www.nihon-shinbun.test/%A5%CB%A5%E5%A1%BC%A5%B9/%C4%AB%BB%D4.html"
    assert "Tomato prices fell" in extracted[4]["text"]  # served without any Content-Type header
    assert rows[1]["warc_record_id"] and rows[1]["crawl_date"] == "2009-01-13T21:10:00-0800"


def test_arc_records_get_iso_dates_and_encoded_urls(suite):
    out, _, _ = suite
    rows, _ = _read(out / "ia_v1.arc.gz")
    assert rows[0]["crawl_date"] == "2008-03-01T12:00:01Z"
    assert rows[0]["warc_offset"] > 0 and rows[0]["warc_record_id"] == ""
    v2, _ = _read(out / "alexa_v2.arc")
    assert [r["crawl_date"] for r in v2] == ["1999-01-01T00:00:00Z", "1999-01-01T00:01:00Z"]


def test_arc_wrong_length_costs_only_its_record(suite, tmp_path):
    _, _, generator = suite
    good = generator.http_response(b"<html><body><p>fine page</p></body></html>", "text/html")
    records = [
        generator._arc_record("filedesc://x.arc 0.0.0.0 20080101000000 text/plain", b"1 0 IA\nURL IP-address Archive-date Content-type Archive-length\n")
    ]
    records.append(f"http://a.test/bad 192.0.2.1 20080101000001 text/html {len(good) - 10}\n".encode() + good + b"\n")
    records.append(generator._arc_record("http://a.test/good 192.0.2.1 20080101000002 text/html", good))
    path = tmp_path / "lengths.arc.gz"
    path.write_bytes(b"".join(generator.gz(r) for r in records))
    rows, report = _read(path)
    assert [r["url"] for r in rows] == ["http://a.test/good"]
    assert [e["reason"] for e in report.errors] == ["malformed"] and "length" in report.errors[0]["detail"]


def test_arc_damaged_gzip_member_resumes_at_the_next(suite, tmp_path):
    _, _, generator = suite
    page = generator.http_response(b"<html><body><p>page</p></body></html>", "text/html")
    members = [generator.gz(generator._arc_record(f"http://a.test/{n} 192.0.2.1 2008010100000{n} text/html", page)) for n in range(3)]
    members[1] = members[1][:25] + b"\x00" * 10 + members[1][35:]
    path = tmp_path / "damaged.arc.gz"
    path.write_bytes(b"".join(members))
    with open(path, "rb") as handle:
        source = Inflated(handle)
        urls = [r.url for r in iter_arc(source, 1 << 20) if not r.problem]
        assert "http://a.test/0" in urls and "http://a.test/2" in urls
        assert source.damage and source.damage[0][0] == len(members[0])


def test_parse_arc_header_from_the_right():
    assert parse_arc_header(b"http://x.test/a b.html 1.2.3.4 20080101000000 text/html 12\n") == ("http://x.test/a%20b.html", "20080101000000", "text/html", 12)
    v2 = b"http://x.test/ 1.2.3.4 19990101000000 text/html 200 - - 0 f.arc 99\n"
    assert parse_arc_header(v2, 2) == ("http://x.test/", "19990101000000", "text/html", 99)
    assert parse_arc_header(b"<html><body>not a header 12\n") is None
    assert safe_url(b"http://x.test/\xa5\xcb") == "http://x.test/%A5%CB"


def test_container_sniffing():
    assert container(b"WARC/1.0\r\nWARC-Type: warcinfo\r\n\r\nx\r\n\r\nWARC/1.0\r\nWARC-Type: response\r\n") == "warc"
    assert container(b"WARC/0.18\nWARC-Type: warcinfo\n") == "warc0"
    assert container(b"filedesc://x.arc 0.0.0.0 20080101000000 text/plain 10\n") == "arc"
    wat = b"WARC/1.0\r\nWARC-Type: metadata\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}\r\n\r\n"
    assert container(wat) == "wat"
    assert container(b"<html>") is None
    assert container(b"") == "warc"  # an empty gzip: an empty archive, not an error
    assert input_format("CC-MAIN-x.warc.wet.gz") == "wet" and input_format("CC-MAIN-x.warc.wat.gz") == "wat"
    assert input_format("IA-001.arc.gz") == "arc" and input_format("00.warc.gz") == "warc"


def test_bad_inputs_are_named_with_their_reason(suite):
    out, expected, _ = suite
    for name, word in expected["refused"].items():
        why = input_problem(str(out / name))
        assert why and word.lower() in why.lower(), (name, why)
    assert input_problem(str(out / "missing.warc.gz")).startswith("cannot be read")
    with pytest.raises(ValueError, match="WAT"):
        read_unit(str(out / "cc.warc.wat.gz"), ReadReport())


def test_a_warc_whose_lines_end_in_two_crs_is_refused_with_its_first_line(tmp_path):
    """A WARC passed through a text conversion (CRLF -> CR CR LF), as one of pywb's test files is: fastwarc cannot read
    its records, so the file is refused up front, and the message shows the line rather than claiming it is absent."""
    path = tmp_path / "doubled-cr.warc"
    path.write_bytes(b"WARC/1.0\r\r\nWARC-Type: response\r\r\nContent-Length: 0\r\r\n\r\r\n\r\r\n")
    why = input_problem(str(path))
    assert why.startswith("not a WARC or ARC file") and "b'WARC/1.0\\r\\r\\n'" in why, why
    path.write_bytes(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 0\r\n\r\n\r\n\r\n")
    assert input_problem(str(path)) is None


def test_a_damaged_file_passes_the_check_and_fails_when_read(suite):
    """The check reads only the start of a file; damage further in is an error of the annotate pass (isolated per file)."""
    out, _, _ = suite
    assert input_problem(str(out / "corrupt_page.parquet")) is None
    with pytest.raises(OSError):
        _read(out / "corrupt_page.parquet")


def test_screen_inputs_lists_every_bad_input(suite, repo):
    out, expected, _ = suite
    manifest = load_manifest(repo / "manifests" / "sample.yaml")
    inputs = [str(out / n) for n in READABLE] + [str(out / n) for n in expected["refused"]]
    with pytest.raises(BadInputs) as caught:
        screen_inputs(manifest, inputs)
    message = str(caught.value)
    assert f"{len(expected['refused'])} of {len(inputs)} inputs" in message and "--skip-bad-inputs" in message
    for name in expected["refused"]:
        assert str(out / name) in message
    good, refused = screen_inputs(manifest, inputs, skip_bad_inputs=True)
    assert good == [str(out / n) for n in READABLE] and set(refused) == {str(out / n) for n in expected["refused"]}


def test_run_refuses_bad_inputs_before_ray_starts(suite, repo, tmp_path, monkeypatch):
    from dataclasses import replace

    out, _, _ = suite

    def no_ray(*args, **kwargs):
        raise AssertionError("Ray was started although an input is bad")

    monkeypatch.setattr(ray_backend, "connect", no_ray)
    manifest = replace(
        load_manifest(repo / "manifests" / "sample.yaml"),
        output=str(tmp_path / "run"),
        inputs=[str(out / "cc.warc.wet.gz"), str(out / "cc.warc.wat.gz"), str(out / "empty.warc.gz")],
    )
    with pytest.raises(BadInputs, match="2 of 3 inputs") as caught:
        run(manifest, progress=False)
    assert "cc.warc.wat.gz: a WAT file" in str(caught.value) and "empty.warc.gz: empty file" in str(caught.value)
    assert not (tmp_path / "run").exists()


def test_an_error_in_one_file_becomes_its_failure_row(monkeypatch, repo):
    def explode(manifest, stages, path):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(annotate_module, "annotate_unit", explode)
    row = annotate_module.annotate_unit_row(load_manifest(repo / "manifests" / "sample.yaml"), [], "/data/x/CC-1.warc.gz")
    assert row["failure"] == "RuntimeError('disk on fire')" and row["documents"] == 0
    [error] = json.loads(row["errors"])
    assert error["reason"] == annotate_module.INPUT_FAILED and error["file"] == "CC-1.warc.gz" and error["input"] == "/data/x/CC-1.warc.gz"
    assert "Traceback" in error["traceback"] and "disk on fire" in error["traceback"]


def test_run_help_explains_skip_bad_inputs(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--skip-bad-inputs" in text and "WAT" in text and "refused_inputs" in text and "retries only those" in text


def test_jsonl_first_line_checks(tmp_path):
    path = tmp_path / "rows.jsonl.gz"
    with gzip.open(path, "wt") as handle:
        handle.write('\n{"body": "x"}\n')
    assert "no field 'text'" in input_problem(str(path))
    path.write_bytes(gzip.compress(b'{"text": "ok"}\n'))
    assert input_problem(str(path)) is None


def test_local_inputs_are_annotated_largest_first_and_remote_ones_keep_their_order(tmp_path):
    """The annotate pass hands out local files from the largest down (a large file started last leaves the other
    workers idle), without a request for the size of a remote input (none of these URLs is served)."""
    from longtail.pipeline.run import largest_first

    sizes = {"small.warc.gz": 10, "big.warc.gz": 3000, "mid.jsonl": 200, "also-small.warc.gz": 10}
    for name, size in sizes.items():
        (tmp_path / name).write_bytes(b"x" * size)
    local = {name: str(tmp_path / name) for name in sizes}
    remote = ["s3://no-such-bucket/crawl-b.warc.gz", "https://example.invalid/crawl-a.warc.gz"]
    units = [local["small.warc.gz"], remote[0], local["big.warc.gz"], local["also-small.warc.gz"], remote[1], local["mid.jsonl"]]
    # equal sizes keep their given order
    assert largest_first(units) == [local["big.warc.gz"], local["mid.jsonl"], local["small.warc.gz"], local["also-small.warc.gz"], *remote]

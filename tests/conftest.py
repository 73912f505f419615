"""Shared fixtures: a real local Ray, real KenLM/fastText models trained from the shipped data, small WARCs."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def ray_local():
    """A real local Ray for the whole session (2 CPUs, as on CI)."""
    from longtail.pipeline import ray_backend

    ray = ray_backend.connect(None, num_cpus=2)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def trained_models(tmp_path_factory) -> Path:
    """KenLM models (real lmplz) and the quality classifier (real fastText), trained from data/ once."""
    from longtail.pipeline.models import train_default_classifier, train_kenlm_folder

    models = tmp_path_factory.mktemp("models")
    train_kenlm_folder(REPO / "data" / "reference", models / "kenlm", log=lambda *_: None)
    train_default_classifier(REPO / "data" / "quality" / "train.jsonl", models / "quality" / "classifier.bin", log=lambda *_: None)
    return models


def _http_response(body: bytes, status: str = "200 OK", content_type: str = "text/html; charset=utf-8") -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode("latin-1") + body


@pytest.fixture
def make_warc(tmp_path):
    """Build a small WARC.gz: ``make_warc([(url, html_bytes, status, content_type), ...])``."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    def build(pages, name="test.warc.gz"):
        path = tmp_path / name
        with open(path, "wb") as handle:
            writer = WARCWriter(handle, gzip=True)
            for index, page in enumerate(pages):
                url, body = page[0], page[1]
                status = page[2] if len(page) > 2 else "200 OK"
                content_type = page[3] if len(page) > 3 else "text/html; charset=utf-8"
                headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
                record = writer.create_warc_record(
                    url, "response", payload=io.BytesIO(body), http_headers=headers,
                    warc_headers_dict={"WARC-Date": f"2026-10-01T00:00:{index:02d}Z"},
                )
                writer.write_record(record)
        return path

    return build


@pytest.fixture
def article_html():
    def html(paragraphs: list[str], title: str = "Title", charset_meta: str | None = "utf-8") -> str:
        meta = f'<meta charset="{charset_meta}">' if charset_meta else ""
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        return (
            f"<html><head>{meta}<title>{title}</title></head><body>"
            "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
            f"<article><h1>{title}</h1>{body}</article>"
            "<footer>Copyright 2026 Example</footer></body></html>"
        )

    return html


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture
def copy_tree(tmp_path):
    def copy(src: Path, name: str) -> Path:
        dest = tmp_path / name
        shutil.copytree(src, dest)
        return dest

    return copy

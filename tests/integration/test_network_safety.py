"""Safety: the annotate pass (every stage, with the session's trained models) opens no network connection when
every input is local (paths that cannot leave the output folder: tests/unit/test_safety.py)."""

from __future__ import annotations

import socket
from dataclasses import replace
from pathlib import Path

from longtail.pipeline.annotate import annotate_unit, build_stages
from longtail.pipeline.manifest import QualitySettings, load_manifest


def test_annotate_pass_opens_no_network_connection(repo, trained_models, tmp_path, monkeypatch):
    """Every stage (LID, KenLM, classifier, extraction) runs with outbound sockets forbidden."""
    attempts = []
    real_connect = socket.socket.connect

    def guarded_connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            attempts.append(address)
            raise OSError(f"network access attempted: {address}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: (attempts.append(address), guarded_connect(socket.socket(), address))[1])
    manifest = replace(
        load_manifest(repo / "manifests" / "sample.yaml"),
        output=str(tmp_path / "out"),
        quality=QualitySettings(str(trained_models / "kenlm"), str(trained_models / "quality" / "classifier.bin")),
    )
    stages = build_stages(manifest)
    for stage in stages:
        stage.setup()
    unit = str(sorted((repo / "data" / "sample" / "crawl").glob("*.warc.gz"))[0])
    result = annotate_unit(manifest, stages, unit)
    assert result.documents > 10
    assert attempts == []
    assert all(not Path(p).is_symlink() for p in (tmp_path / "out").rglob("*"))

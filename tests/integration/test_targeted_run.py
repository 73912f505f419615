"""Targeted fetch through the pipeline: a run on the targeted WARC keeps exactly what the full run (the session's
``reference_run``) keeps for those languages (the index and the fetch: tests/unit/test_targeted_fetch.py)."""

from __future__ import annotations

from longtail.pipeline.cli.main import main as cli_main
from longtail.tests.unit import test_targeted_fetch

TARGETS = test_targeted_fetch.TARGETS
cc_index, crawl = test_targeted_fetch.cc_index, test_targeted_fetch.crawl  # module-scoped fixtures


def test_pipeline_on_the_targeted_warc_keeps_what_the_full_run_keeps(repo, cc_index, crawl, ray_local, trained_models, reference_run, tmp_path):
    from dataclasses import replace

    import pyarrow.parquet as pq

    from longtail.pipeline.manifest import QualitySettings, load_manifest
    from longtail.pipeline.run import run

    selected = tmp_path / "selected.warc.gz"
    assert cli_main(["targeted-fetch", "--index", str(cc_index), "--languages", ",".join(TARGETS), "--warc-prefix", str(crawl[0].parent) + "/",
                     "--output", str(selected), "--quiet"]) == 0
    base = load_manifest(repo / "manifests" / "sample.yaml")
    quality = QualitySettings(str(trained_models / "kenlm"), str(trained_models / "quality" / "classifier.bin"))

    def kept_in(output):
        rows = {}
        for part in (output / "dataset").glob("lang_script=*/part-*.parquet"):
            label = part.parent.name.split("=", 1)[1]
            if label in TARGETS:
                rows.update({r["id"]: (label, r["text"], r["dup_cluster_size"]) for r in pq.read_table(part).to_pylist()})
        return rows

    def kept(inputs, name):
        manifest = replace(base, inputs=[str(i) for i in inputs], output=str(tmp_path / name), quality=quality)
        run(manifest, progress=False)
        return kept_in(tmp_path / name)

    # the full run: the session's reference_run, the same job (sample.yaml, reference KenLM models) over the whole crawl
    full_run = reference_run.output
    import glob
    from pathlib import Path

    assert sorted(Path(f).resolve() for g in reference_run.manifest.inputs for f in glob.glob(g)) == sorted(p.resolve() for p in crawl)
    assert reference_run.manifest.quality == quality
    full, targeted = kept_in(full_run), kept([selected], "targeted")
    assert full and targeted == full

    # The release of the targeted run points at the records in the original WARC files, not in the small one.
    from longtail.pipeline.release.export import export_release

    export_release(tmp_path / "targeted", tmp_path / "release", progress=False)
    originals = {}
    for part in (full_run / "dataset").glob("lang_script=*/part-*.parquet"):
        originals.update({r["id"]: (r["source_file"], r["warc_offset"]) for r in pq.read_table(part).to_pylist()})
    released = [r for path in sorted((tmp_path / "release" / "data").glob("*/*.parquet")) for r in pq.read_table(path).to_pylist()]
    assert {r["id"] for r in released} == set(targeted)
    assert all((r["warc_filename"], r["warc_record_offset"]) == originals[r["id"]] for r in released)

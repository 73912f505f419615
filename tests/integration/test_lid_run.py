"""The agreement ensemble in a whole run on the session's Ray: confident disagreements land in removed/
(the LID method itself: tests/unit/test_lid_eval.py)."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from longtail.langid.document import DISAGREED
from longtail.tests.unit import test_lid_eval

_dev_items = test_lid_eval._dev_items
ensemble = test_lid_eval.ensemble  # the module-scoped fixture


def _dev_text(item_id: str) -> str:
    return next(i["text"] for i in _dev_items() if i["id"] == item_id)


def test_disagreements_are_kept_in_removed(tmp_path, ray_local, ensemble):
    from longtail.pipeline.manifest import parse_manifest
    from longtail.pipeline.run import run

    # Nepali that lid.176 confidently calls Hindi (heliport: Nepali), and Russian both agree on.
    nepali = _dev_text("npi_Deva-6")
    assert ensemble.identify([nepali])[0].agreement == DISAGREED
    russian = "Сегодня утром в городе шёл сильный дождь, и многие люди опоздали на работу из-за пробок на дорогах."
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in (("ne", nepali), ("ru", russian))), encoding="utf-8")
    manifest = parse_manifest(
        {
            "name": "lid-ensemble",
            "inputs": [str(source)],
            "output": str(tmp_path / "out"),
            "stages": {"identify": {"backend": "ensemble"}},
            "ray": {"workers": 1},
            "selection": {"defaults": {"min_words": 3, "max_perplexity": None, "min_quality_score": None}},
        },
        tmp_path,
    )
    run(manifest, progress=False)
    removed = {}
    for part in (tmp_path / "out" / "removed").glob("lang_script=*/part-*.parquet"):
        for row in pq.read_table(part).to_pylist():
            removed[row["id"]] = (part.parent.name, row["drop_reason"], row["lid_votes"])
    assert removed["ne"] == ("lang_script=nep_Deva", "lid:disagreement", ["heliport:nep", "fasttext:hin"])
    kept = pa.concat_tables([pq.read_table(p) for p in (tmp_path / "out" / "dataset").glob("lang_script=*/part-*.parquet")])
    assert kept.column("id").to_pylist() == ["ru"] and kept.column("lid_agreement").to_pylist() == ["agreed"]
    stats = {s["lang_script"]: s for s in json.loads((tmp_path / "out" / "stats" / "languages.json").read_text())}
    assert stats["nep_Deva"]["dropped"] == {"lid:disagreement": 1}

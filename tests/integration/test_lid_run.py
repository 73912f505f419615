"""The agreement ensemble in a whole run on the session's Ray: confident disagreements land in removed/, an answer
the open-set calibration finds too unsure is no vote (the LID method itself: tests/unit/test_lid_eval.py,
tests/unit/test_open_set_lid.py)."""

from __future__ import annotations

import json

import pyarrow.parquet as pq

from longtail.langid.document import DISAGREED
from longtail.langid.ensemble import SINGLE
from longtail.tests.unit import test_lid_eval

_dev_items = test_lid_eval._dev_items
ensemble = test_lid_eval.ensemble  # the module-scoped fixture


def _dev_text(item_id: str) -> str:
    return next(i["text"] for i in _dev_items() if i["id"] == item_id)


def test_disagreements_are_kept_in_removed(tmp_path, ray_local, ensemble):
    from longtail.pipeline.manifest import parse_manifest
    from longtail.pipeline.run import run

    # Tajik that lid.176 calls Russian, each backend as sure as it is on its own language's text (the open-set
    # calibration keeps both answers), and Russian both agree on.
    tajik = _dev_text("tgk_Cyrl-2")
    assert ensemble.identify([tajik])[0].agreement == DISAGREED
    # Nepali that lid.176 calls Hindi at 0.56: above the veto score, but below lid.176's calibrated floor for Hindi,
    # so its answer is und and heliport's Nepali stands alone (tests/unit/test_open_set_lid.py).
    nepali = _dev_text("npi_Deva-6")
    assert ensemble.identify([nepali])[0].agreement == SINGLE
    russian = "Сегодня утром в городе шёл сильный дождь, и многие люди опоздали на работу из-за пробок на дорогах."
    source = tmp_path / "docs.jsonl"
    source.write_text("".join(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n" for i, t in (("tg", tajik), ("ne", nepali), ("ru", russian))), encoding="utf-8")
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
    assert removed == {"tg": ("lang_script=tgk_Cyrl", "lid:disagreement", ["heliport:tgk", "fasttext:rus"])}
    kept = {row["id"]: {**row, "partition": part.parent.name}
            for part in (tmp_path / "out" / "dataset").glob("lang_script=*/part-*.parquet") for row in pq.read_table(part).to_pylist()}
    assert sorted(kept) == ["ne", "ru"]
    assert (kept["ru"]["partition"], kept["ru"]["lid_agreement"]) == ("lang_script=rus_Cyrl", "agreed")
    assert (kept["ne"]["partition"], kept["ne"]["lid_agreement"], kept["ne"]["lid_votes"]) == ("lang_script=nep_Deva", "single", ["heliport:nep", "fasttext:und"])
    stats = {s["lang_script"]: s for s in json.loads((tmp_path / "out" / "stats" / "languages.json").read_text())}
    assert stats["tgk_Cyrl"]["dropped"] == {"lid:disagreement": 1}
    assert stats["nep_Deva"]["documents"] == 1 and not stats["nep_Deva"]["dropped"]

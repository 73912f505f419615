"""Per-page limits inside a Ray Data actor, which runs batches on a pool thread, where ``signal.alarm`` cannot
be used (on the main thread: tests/unit/test_limits.py)."""

from __future__ import annotations

import pyarrow as pa

from longtail.stages.extract import ExtractStage
from longtail.tests.unit import test_limits

batch, outcome = test_limits.batch, test_limits.outcome
pages = test_limits.pages  # the module-scoped fixture


def test_timeout_inside_a_ray_data_actor(ray_local, pages):
    from longtail.pipeline.ray_backend import map_stages

    dataset = ray_local.data.from_arrow(batch(pages))
    result = map_stages(dataset, lambda: [ExtractStage(max_html_chars=20_000_000, timeout_seconds=0.3)], workers=1)
    rows = pa.concat_tables(list(result.iter_batches(batch_format="pyarrow")))
    assert outcome(rows) == {"small": (None, True), "slow": ("timeout", False), "small2": (None, True)}

"""Language and script of every document, as canonical ``xxx_Xxxx`` labels with a score."""

from __future__ import annotations

import pyarrow as pa

from longtail.fileio import local_copy
from longtail.langid.ensemble import make_identifier

from longtail.stages.base import set_column


class IdentifyStage:
    name = "identify"
    reads = ("text",)
    adds = ("lang", "script", "lang_script", "lang_score", "lang_share", "script_share", "mixed_script", "other_langs", "lid_agreement", "lid_votes")

    def __init__(self, backend: str = "fasttext", model_path: str | None = None, macro_policy: str = "macro", trusted_labels: tuple[str, ...] = ()):
        self.backend_name = backend
        self.trusted_labels = tuple(trusted_labels)
        self.model_path = model_path
        self.macro_policy = macro_policy
        self._identifier = None

    def setup(self) -> None:
        if self._identifier is None:
            model = local_copy(self.model_path) if self.model_path else None  # s3://...: a cached local copy
            self._identifier = make_identifier(self.backend_name, model, self.macro_policy, trusted_labels=self.trusted_labels)
            self._identifier.setup()

    def __call__(self, batch: pa.Table) -> pa.Table:
        self.setup()
        results = self._identifier.identify(batch.column("text").to_pylist())
        columns = {
            "lang": ([r.lang for r in results], pa.string()),
            "script": ([r.script for r in results], pa.string()),
            "lang_script": ([r.label for r in results], pa.string()),
            "lang_score": ([r.score for r in results], pa.float32()),
            "lang_share": ([r.share for r in results], pa.float32()),
            "script_share": ([r.script_share for r in results], pa.float32()),
            "mixed_script": ([r.mixed_script for r in results], pa.bool_()),
            "other_langs": ([r.other_langs for r in results], pa.list_(pa.string())),
            # agreed | single | disagreed (an ensemble's disagreement is dropped as lid:disagreement)
            "lid_agreement": ([r.agreement for r in results], pa.string()),
            "lid_votes": ([list(r.votes) for r in results], pa.list_(pa.string())),  # "heliport:hrv", "fasttext:hrv"
        }
        for name, (values, type_) in columns.items():
            batch = set_column(batch, name, values, type_)
        return batch

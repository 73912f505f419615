"""Targeted fast path: when a job keeps only a few languages, find the candidates cheaply first.

Most pages of a crawl are in languages a low-resource job does not want. For each page this stage runs a
fast extraction (resiliparse, ~1 ms) and fastText lid.176 (~1 ms) on its text; only pages where a target
language is among the top predictions go through the full chain (trafilatura, the LID ensemble, signals,
KenLM, classifier, MinHash). The others are still documents: they are written with the cheap text and label
and ``extract_error = "not_target"``, which selection turns into the drop reason ``lid:not_selected``.

Recall comes first: any target among the top ``top_k`` labels above ``min_score`` makes a candidate, and a
target language that lid.176 cannot name switches the prefilter off (everything is a candidate).
"""

from __future__ import annotations

import logging

import pyarrow as pa
import pyarrow.compute as pc

from longtail.langid.labels import canonical_language, lang_script
from longtail.langid.scripts import script_profile

from longtail.stages.base import run_chain
from longtail.stages.extract import decode_html, extract_main_text

log = logging.getLogger(__name__)

NOT_TARGET = "not_target"  # extract_error of a page the prefilter set aside (drop reason lid:not_selected)


class TargetedChain:
    """Runs ``stages`` only on the rows whose cheap language guess may be a target language."""

    name = "targeted"
    # its own columns; __init__ adds what the wrapped stages read from the input and add
    reads = ("html", "text", "content_type")
    adds = ("text", "extract_error", "lang", "lang_script", "lang_score")
    removes = ("html",)

    def __init__(self, stages: list, targets: list[str], macro_policy: str = "macro", top_k: int = 3, min_score: float = 0.02):
        self.stages = stages
        needs, provided, adds = list(self.reads), set(), list(self.adds)
        for stage in stages:
            needs += [c for c in stage.reads if c not in provided and c not in needs]
            provided = (provided - set(getattr(stage, "removes", ()))) | set(stage.adds)
            adds += [c for c in stage.adds if c not in adds]
        self.reads, self.adds = tuple(needs), tuple(adds)
        self.target_langs = sorted({label.split("_", 1)[0] for label in targets})
        self.macro_policy = macro_policy
        self.top_k = top_k
        self.min_score = min_score
        self._model = None
        self._active = True

    def setup(self) -> None:
        import fasttext

        from longtail.langid.backends import default_fasttext_model

        for stage in self.stages:
            stage.setup()
        if self._model is None:
            self._model = fasttext.load_model(str(default_fasttext_model()))
            known = {canonical_language(label, self.macro_policy) for label in self._model.get_labels()}
            missing = [lang for lang in self.target_langs if lang not in known]
            if missing:
                log.warning("target prefilter off: lid.176 cannot identify %s", ", ".join(missing))
                self._active = False

    def _guess(self, html: bytes | None, text: str | None, content_type: str | None) -> tuple[bool, str, str, float]:
        """(candidate?, cheap text, cheap lang, its score) for one row."""
        try:
            if html is not None:
                decoded, _ = decode_html(html, content_type)
                text = extract_main_text(decoded[:2_000_000], "resiliparse") or ""
        except Exception:  # let the full chain deal with (and record) whatever this was
            return True, "", "und", 0.0
        line = " ".join((text or "").split())
        if not line:
            return True, "", "zxx", 0.0  # no cheap text: trafilatura may still find some
        labels, scores = self._model.predict(line, k=self.top_k)
        langs = [canonical_language(label, self.macro_policy) for label in labels]
        candidate = any(lang in self.target_langs and score >= self.min_score for lang, score in zip(langs, scores))
        return candidate, text, langs[0] if langs else "und", float(scores[0]) if len(scores) else 0.0

    def __call__(self, batch: pa.Table) -> pa.Table:
        if self._model is None:
            self.setup()
        if not self._active or batch.num_rows == 0:
            return run_chain(self.stages, batch)
        guesses = [self._guess(h, t, c) for h, t, c in zip(batch.column("html").to_pylist(), batch.column("text").to_pylist(),
                                                           batch.column("content_type").to_pylist())]
        keep = pa.array([g[0] for g in guesses])
        annotated = run_chain(self.stages, batch.filter(keep))
        rest = [g for g in guesses if not g[0]]
        if not rest:
            return annotated
        others = batch.filter(pc.invert(keep)).drop_columns(["html"])
        labels = [lang_script(lang, script_profile(text).script) for _, text, lang, _ in rest]
        given = {name: others.column(name) for name in others.column_names}
        given.update({
            "text": pa.array([text for _, text, _, _ in rest], pa.string()),
            "extract_error": pa.array([NOT_TARGET] * len(rest), pa.string()),
            "lang": pa.array([lang for _, _, lang, _ in rest], pa.string()),
            "lang_script": pa.array(labels, pa.string()),
            "lang_score": pa.array([score for _, _, _, score in rest], pa.float32()),
        })
        columns = [given[f.name].cast(f.type) if f.name in given else pa.nulls(len(rest), f.type) for f in annotated.schema]
        return pa.concat_tables([annotated, pa.Table.from_arrays(columns, schema=annotated.schema)])

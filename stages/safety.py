"""What a release must not contain, as annotations: the URL rules' verdict and personal data in the text.

``UrlStage`` stores ``url_flag`` (the drop reason of the URL rules, ``filters/urls.py``, or null); selection drops
on it (``filters/quality.py::UrlFilter``), so pages are annotated once and the flag is judged with the other rules.
``PiiStage`` replaces e-mail addresses, IP addresses and phone numbers in ``text`` with placeholders
(``filters/pii.py``; ``mode: annotate`` only counts them) and stores the counts; it runs after identify (phone
formats depend on the language's countries) and before signals, KenLM, the classifier and MinHash, so every score
and dedup signature sees the text as it will be published.
"""

from __future__ import annotations

import pyarrow as pa

from longtail.filters.pii import PII_KINDS, PiiRules, PiiSettings
from longtail.filters.urls import UrlFilterSettings, UrlRules

from longtail.stages.base import set_column

PII_COLUMNS = tuple(f"pii_{kind}" for kind in PII_KINDS)  # pii_email, pii_ip, pii_phone: counts per document


class UrlStage:
    name = "url_filter"
    reads = ("url",)
    adds = ("url_flag",)

    def __init__(self, settings: UrlFilterSettings):
        self.settings = settings
        self._rules = None

    def setup(self) -> None:
        if self._rules is None:
            self._rules = UrlRules(self.settings)
            self._rules.setup()

    def __call__(self, batch: pa.Table) -> pa.Table:
        self.setup()
        flags = [self._rules.verdict(url) for url in batch.column("url").to_pylist()]
        return set_column(batch, "url_flag", flags, pa.string())


class PiiStage:
    name = "pii"
    reads = ("text", "lang_script", "url")
    adds = ("text",) + PII_COLUMNS

    def __init__(self, settings: PiiSettings):
        self.settings = settings
        self._rules = None

    def setup(self) -> None:
        if self._rules is None:
            self._rules = PiiRules(self.settings)
            self._rules.setup()

    def __call__(self, batch: pa.Table) -> pa.Table:
        self.setup()
        texts, counts = [], {kind: [] for kind in PII_KINDS}
        for text, label, url in zip(batch.column("text").to_pylist(), batch.column("lang_script").to_pylist(), batch.column("url").to_pylist()):
            scrubbed, found = self._rules.scrub(text, label, url)
            texts.append(scrubbed)
            for kind in PII_KINDS:
                counts[kind].append(found[kind])
        if self.settings.mode == "replace":
            batch = set_column(batch, "text", texts, pa.string())
        for kind in PII_KINDS:
            batch = set_column(batch, f"pii_{kind}", counts[kind], pa.int32())
        return batch

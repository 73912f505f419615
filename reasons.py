"""Every drop reason and record-skip kind, as exact strings: the one list the stages, stats and docs agree on.

A leaf module (imports nothing from longtail), so filters, stages and pipeline can all use it. The strings are a
contract: they appear in ``removed/``, in ``stats/`` and in ground truth files; never change one. The order of
``DOCUMENT_REASONS`` is the order a document is judged in (first failing wins), as listed in docs/contracts.md.
"""

from __future__ import annotations

# extraction (stages/extract.py, stages/select.py)
EXTRACT_EMPTY = "extract:empty"  # no main text
EXTRACT_TIMEOUT = "extract:timeout"  # extraction ran out of time (extract_error == "timeout")
EXTRACT_ERROR = "extract:error"  # extraction raised (any other extract_error)

# URL rules (filters/urls.py: the UT1 blocklist and banned words shipped in datatrove, the manifest's block lists)
URL_BLOCKLIST = "url:blocklist"  # a blocklisted domain, subdomain or URL (UT1 adult list or the run's own lists)
URL_BANNED_WORD = "url:banned_word"  # a banned word (or 2+ soft-banned words) among the URL's words
URL_BANNED_SUBWORD = "url:banned_subword"  # a banned sub-word in the URL's letters

# language identification (filters/quality.py, stages/select.py, pipeline/finalize.py)
LID_NOT_SELECTED = "lid:not_selected"  # set aside by the prefilter, or a language outside keep_languages
LID_DISAGREEMENT = "lid:disagreement"  # the LID ensemble's backends named different languages
LID_UNDETERMINED = "lid:undetermined"  # und/zxx, or below the language's score threshold
LID_OUTLIER = "lid:outlier"  # unlike the confident core of its language's split (stages/lid_outlier.py, finalize)

# quality filters (filters/quality.py; the reason is "quality:" + the filter's name)
QUALITY_TOO_SHORT = "quality:too_short"
QUALITY_MOJIBAKE = "quality:mojibake"  # double-encoded text: UTF-8 bytes read as cp1252/latin-1
QUALITY_SCRAMBLED = "quality:scrambled"  # letters shuffled inside words: repeated words spelt differently
QUALITY_WORD_ORDER = "quality:word_order"  # word salad: word order no different from the text's own shuffle
QUALITY_NO_PROSE = "quality:no_prose"  # only short lines: navigation, menus, tags, link lists
QUALITY_SYMBOLS = "quality:symbols"
QUALITY_REPETITION = "quality:repetition"
QUALITY_PERPLEXITY = "quality:perplexity"
QUALITY_PERPLEXITY_BUCKET = "quality:perplexity_bucket"
QUALITY_CLASSIFIER = "quality:classifier"
QUALITY_TEMPLATED = "quality:templated"  # per-language templated share cap (stages/selection_columns.py)

# dedup (stages/dedup/)
DEDUP_EXACT = "dedup:exact"
DEDUP_URL = "dedup:url"
DEDUP_NEAR = "dedup:near"
DEDUP_PREVIOUS_RELEASE = "dedup:previous_release"  # duplicate of a document published in an earlier release

# Every reason a document can be dropped for, in judging order (first failing wins): the extraction outcome
# (stages/select.py: timeout, error, or set aside by the prefilter), the filters of filters/quality.py in their
# order, the templated cap, then dedup. lid:not_selected also names documents of a language outside
# keep_languages that passed the filters and the cap (pipeline/finalize.py), before dedup.
DOCUMENT_REASONS: tuple[str, ...] = (
    EXTRACT_TIMEOUT,
    EXTRACT_ERROR,
    LID_NOT_SELECTED,
    URL_BLOCKLIST,
    URL_BANNED_WORD,
    URL_BANNED_SUBWORD,
    EXTRACT_EMPTY,
    LID_DISAGREEMENT,
    LID_UNDETERMINED,
    QUALITY_TOO_SHORT,
    QUALITY_MOJIBAKE,
    QUALITY_SCRAMBLED,
    QUALITY_WORD_ORDER,
    QUALITY_NO_PROSE,
    QUALITY_SYMBOLS,
    QUALITY_REPETITION,
    QUALITY_PERPLEXITY,
    QUALITY_PERPLEXITY_BUCKET,
    QUALITY_CLASSIFIER,
    QUALITY_TEMPLATED,
    LID_OUTLIER,
    DEDUP_EXACT,
    DEDUP_URL,
    DEDUP_NEAR,
    DEDUP_PREVIOUS_RELEASE,
)

# WARC records the reader (stages/read.py) counts but does not turn into documents: the record types other than
# response, then the response records it rejects (RecordRejected kinds; malformed and too_large also go to errors).
SKIP_WARCINFO = "warcinfo"
SKIP_REQUEST = "request"
SKIP_METADATA = "metadata"
SKIP_REVISIT = "revisit"
SKIP_RESOURCE = "resource"
SKIP_CONVERSION = "conversion"
SKIP_CONTINUATION = "continuation"
SKIP_NON_200 = "non_200"  # HTTP status other than 200
SKIP_NON_HTML = "non_html"  # not an HTML page (MIME type or binary payload)
SKIP_MALFORMED = "malformed"  # unreadable record, bad header, digest mismatch, bad encoding, bad text row
SKIP_TOO_LARGE = "too_large"  # payload over max_payload_bytes

RECORD_SKIPS: tuple[str, ...] = (
    SKIP_WARCINFO,
    SKIP_REQUEST,
    SKIP_METADATA,
    SKIP_REVISIT,
    SKIP_RESOURCE,
    SKIP_CONVERSION,
    SKIP_CONTINUATION,
    SKIP_NON_200,
    SKIP_NON_HTML,
    SKIP_MALFORMED,
    SKIP_TOO_LARGE,
)

# Records the reader counts that do become documents (a WARC response, a row of a text input).
RECORD_RESPONSE = "response"
RECORD_TEXT = "text_record"

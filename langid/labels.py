"""One canonical language label layer: ISO 639-3 + ISO 15924, whatever the LID backend says.

Backends speak different dialects: lid.176 uses ISO 639-1 where one exists plus a few Wikipedia codes
(`als`, `sh`, `bh`), heliport bare ISO 639-3, GlotLID/OpenLID `xxx_Xxxx`. `canonical_language` folds all of
them into one ISO 639-3 code and applies the macrolanguage policy, so that two backends that agree on the
language also agree on the label.
"""

from __future__ import annotations

import re
from functools import lru_cache

import pycountry

UNDETERMINED = "und"
NO_LINGUISTIC_CONTENT = "zxx"
UNKNOWN_SCRIPT = "Zyyy"
NON_LANGUAGE = frozenset({UNDETERMINED, NO_LINGUISTIC_CONTENT})

MACRO_POLICIES = ("macro", "individual")

# Individual language -> macrolanguage, for the macrolanguages web LID backends actually emit.
# The ISO 639-3 macrolanguage table is not shipped by pycountry; this is the subset that matters for
# LID output (backends trained on Wikipedia mostly emit the macro code, GlotLID/heliport the individual one).
INDIVIDUAL_TO_MACRO = {
    "arb": "ara", "arz": "ara", "apc": "ara", "ary": "ara", "acm": "ara", "ajp": "ara", "aeb": "ara",
    "swh": "swa", "swc": "swa",
    "npi": "nep", "dty": "nep",
    "pes": "fas", "prs": "fas",
    "zsm": "msa", "zlm": "msa", "ind": "msa",
    "khk": "mon", "mvf": "mon",
    "uzn": "uzb", "uzs": "uzb",
    "ekk": "est", "vro": "est",
    "lvs": "lav", "ltg": "lav",
    "als": "sqi", "aln": "sqi", "aae": "sqi", "aat": "sqi",
    "nob": "nor", "nno": "nor",
    "cmn": "zho", "yue": "zho", "wuu": "zho", "hak": "zho", "nan": "zho", "gan": "zho", "hsn": "zho",
    "pbt": "pus", "pbu": "pus", "pst": "pus",
    "kmr": "kur", "ckb": "kur", "sdh": "kur",
    "azj": "aze", "azb": "aze",
    "quz": "que", "quy": "que", "qub": "que", "qug": "que", "quh": "que", "qvi": "que", "quf": "que",
    "gaz": "orm", "hae": "orm",
    "plt": "mlg", "tdx": "mlg",
    "ydd": "yid", "yih": "yid",
    "kpv": "kom", "koi": "kom",
    "mhr": "chm", "mrj": "chm",
    "pnb": "lah", "skr": "lah",
    "ayr": "aym", "ayc": "aym",
    "gug": "grn", "gui": "grn", "gun": "grn",
    "fuv": "ful", "fuc": "ful",
    "bos": "hbs", "hrv": "hbs", "srp": "hbs", "cnr": "hbs",
    "emk": "man", "mnk": "man",
    "kng": "kon", "ktu": "kon",
    "ory": "ori", "spv": "ori",
}
# Serbo-Croatian is a macrolanguage in ISO 639-3, but corpora keep bos/hrv/srp apart; merging them is
# almost never what a user wants, so the default policy leaves them as they are.
KEEP_INDIVIDUAL_EVEN_UNDER_MACRO = frozenset({"bos", "hrv", "srp", "cnr", "ind", "yue", "pnb", "skr"})

# Labels that are not ISO 639-1/639-3 codes of the language they name (lid.176 inherits Wikipedia's).
NONSTANDARD_LABELS = {
    "als": "gsw",  # Alemannic Wikipedia, not Tosk Albanian
    "sh": "hbs",
    "bh": "bho",  # the Bihari Wikipedia is written in Bhojpuri
    "eml": "egl",  # Emilian-Romagnol (retired code) -> Emilian
    "bat-smg": "sgs",
    "fiu-vro": "vro",
    "roa-rup": "rup",
    "zh-yue": "yue",
    "be-x-old": "bel",
    "nds-nl": "nds",
    "map-bms": "jav",
    "cbk-zam": "cbk",
}
# ISO 639-3 codes retired into another code (pycountry no longer lists them): the code that replaced them.
RETIRED_CODES = {"ajp": "apc"}

_LABEL_SHAPE = re.compile(r"^(?:__label__)?(?P<lang>[a-z]{2,3}(?:-[a-z-]+)?)(?:[_-](?P<script>[A-Z][a-z]{3}))?$")


@lru_cache(maxsize=4096)
def iso639_3(code: str) -> str | None:
    """Return the ISO 639-3 code for an ISO 639-1/639-2/639-3 code, or None if it is not one."""
    code = code.lower()
    if code in NON_LANGUAGE:
        return code
    found = None
    if len(code) == 2:
        found = pycountry.languages.get(alpha_2=code)
    elif len(code) == 3:
        found = pycountry.languages.get(alpha_3=code)
        if found is None:  # ISO 639-2/B codes (e.g. `fre`, `ger`) appear in some older models
            try:
                found = pycountry.languages.lookup(code)
            except LookupError:
                found = None
    return getattr(found, "alpha_3", None)


def apply_macro_policy(lang: str, policy: str = "macro") -> str:
    """Fold an individual language into its macrolanguage when the policy is ``macro``."""
    if policy not in MACRO_POLICIES:
        raise ValueError(f"macro policy must be one of {MACRO_POLICIES}, got {policy!r}")
    if policy == "macro" and lang not in KEEP_INDIVIDUAL_EVEN_UNDER_MACRO:
        return INDIVIDUAL_TO_MACRO.get(lang, lang)
    return lang


def kept_apart(lang: str, policy: str = "macro") -> bool:
    """Is ``lang`` a macrolanguage whose every member the policy keeps as itself (``hbs``: Bosnian, Croatian,
    Serbian, Montenegrin; ``lah``: Western and Saraiki Panjabi, under ``macro``)? Then an answer naming only the
    macrolanguage names none of the policy's labels."""
    members = [member for member, parent in INDIVIDUAL_TO_MACRO.items() if parent == lang]
    return policy == "macro" and bool(members) and all(member in KEEP_INDIVIDUAL_EVEN_UNDER_MACRO for member in members)


def canonical_language(label: str, policy: str = "macro") -> str:
    """Map any backend label (``__label__yo``, ``yor``, ``yor_Latn``, ``zh-yue``) to ISO 639-3.

    Labels that name no known language map to ``und``: a guess we cannot name is no guess.
    """
    match = _LABEL_SHAPE.match(label.strip())
    if not match:
        return UNDETERMINED
    code = match.group("lang").lower()
    # Wikipedia-era codes (lid.176: `als` = Alemannic, `sh`, `bh`) only in bare labels; `als_Latn` from
    # GlotLID/OpenLID is ISO 639-3 Tosk Albanian.
    if match.group("script") is None and code in NONSTANDARD_LABELS:
        return apply_macro_policy(NONSTANDARD_LABELS[code], policy)
    lang = iso639_3(RETIRED_CODES.get(code, code))
    if lang is None:
        return UNDETERMINED
    return apply_macro_policy(lang, policy)


def is_valid_script(code: str) -> bool:
    return code == UNKNOWN_SCRIPT or pycountry.scripts.get(alpha_4=code) is not None


def lang_script(lang: str, script: str) -> str:
    """``yor`` + ``Latn`` -> ``yor_Latn``; non-language labels keep their script so they stay auditable."""
    return f"{lang}_{script}"


def to_bcp47(label: str) -> str:
    """``yor_Latn`` -> ``yo-Latn``; ``uig_Arab`` -> ``ug-Arab``; ``que_Latn`` -> ``qu-Latn`` (shortest subtag)."""
    lang, _, script = label.partition("_")
    found = pycountry.languages.get(alpha_3=lang)
    short = getattr(found, "alpha_2", None) or lang
    return f"{short}-{script}" if script and script != UNKNOWN_SCRIPT else short


_SAFE_LABEL = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")


def is_safe_label(label: str) -> bool:
    """Labels become folder names: only ``xxx_Xxxx`` may be used so no value can escape the output folder."""
    return bool(_SAFE_LABEL.match(label))

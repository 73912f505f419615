"""Personal data in text: e-mail addresses, IPv4/IPv6 addresses and phone numbers, replaced by fixed placeholders
(or only counted, ``mode: annotate``). Pure text logic; :class:`~longtail.stages.pii.PiiStage` runs it in the
annotate pass, before signals, KenLM, the classifier and MinHash, so every score and signature sees the text as
it will be published.

* e-mail: datatrove's ``PIIFormatter`` pattern (ASCII local part and domain);
* IPv4: datatrove's pattern and its ``public_ip_validator`` (only global addresses: 192.168.x.x, 10.x.x.x, 127.0.0.1
  are not anyone's address), with boundaries so a version ``1.2.3.4.5`` or a longer number is not cut into one;
* IPv6: full and ``::``-compressed forms, checked by :mod:`ipaddress`, global addresses only;
* phone numbers: ``phonenumbers`` (Google's libphonenumber metadata). Candidates are runs of digits of any script
  (Python's ``\\d``: Arabic-Indic, Extended Arabic-Indic, Devanagari, Bengali, Thai, ... are mapped one to one to
  ASCII, so offsets do not move) with spaces, dashes, dots, slashes or parentheses between them. A candidate
  written internationally (``+`` or ``00``) must be a valid number of its country code; a national one must start
  with a trunk prefix ``0`` or an area code in parentheses, or be grouped by separators, and be valid in one of the
  regions of the document's language (CLDR via babel) or of the URL's country-code domain. A bare run of digits
  without ``+``, ``0`` or separators is left alone (order, account and reference numbers look the same).
  Look-alikes rejected before parsing: dates, times, ISBNs, prices (a currency sign or code next to it, decimal
  separators), coordinates (decimals, degree signs), version numbers and dotted IP-like runs.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass

EMAIL_PLACEHOLDER = "|||EMAIL_ADDRESS|||"
IP_PLACEHOLDER = "|||IP_ADDRESS|||"
PHONE_PLACEHOLDER = "|||PHONE_NUMBER|||"
PII_KINDS = ("email", "ip", "phone")
MODES = ("replace", "annotate")


@dataclass(frozen=True)
class PiiSettings:
    """``stages.pii`` of a manifest."""

    enabled: bool = True
    mode: str = "replace"  # or "annotate": count only, the text is kept as it is
    emails: bool = True
    ips: bool = True
    phones: bool = True

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")


_DIGIT_DOT_DIGIT = re.compile(r"[0-9]\.[0-9]")


def _datatrove_patterns() -> tuple[str, str]:
    from datatrove.pipeline.formatters.pii import PIIFormatter

    formatter = PIIFormatter()
    return formatter.emails_replacer.regex.pattern, formatter.ip_replacer.regex.pattern


def _public_ip(text: str) -> bool:
    """A global IPv4 address (datatrove's validator) that is not a section or version number: an address whose
    four parts are all under 32 (3.5.2.4, 2.1.3.6) is far more often a numbered paragraph than anyone's host."""
    from datatrove.pipeline.formatters.pii import public_ip_validator

    return public_ip_validator(text, public_only=True) and not all(int(part) < 32 for part in text.split("."))


def _public_ipv6(text: str) -> bool:
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return address.is_global and address.ipv4_mapped is None or (address.ipv4_mapped is not None and address.ipv4_mapped.is_global)


class _AsciiDigits(dict):
    """``str.translate`` table: every Unicode decimal digit -> its ASCII digit, anything else -> itself (one code
    point each way, so offsets are kept); filled as characters are met."""

    def __missing__(self, cp: int) -> int:
        value = unicodedata.decimal(chr(cp), None)
        self[cp] = ord("0") + value if value is not None else cp
        return self[cp]


_TO_ASCII = _AsciiDigits()

_SEP = r"[ \t\u00a0\u202f\-\u2010\u2011\u2012\u2013./]"
_PHONE = re.compile(rf"(?<![\w+@/.,:])(?P<num>(?:\+|00)?[ \t\u00a0]?(?:\(\d{{1,5}}\)|\d)(?:{_SEP}{{0,2}}(?:\(\d{{1,5}}\)|\d)){{6,20}})")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
_DATE = re.compile(r"(?:\d{4}([-./ ])\d{1,2}\1\d{1,2}|\d{1,2}([-./ ])\d{1,2}\2\d{2,4})(?:[ T]\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)?")
_DATE_RANGE = re.compile(r"(?:\d{1,2}[./]\d{1,2}[./]\d{2,4}|\d{4}[./-]\d{1,2}[./-]\d{1,2})\s*[-\u2013/]\s*\d")
_YEARS = re.compile(r"\d{4}\s*[-\u2013/]\s*\d{2,4}")
_CURRENCY_WORDS = re.compile(
    r"(?:usd|eur|gbp|inr|rs\.?|kes|ngn|egp|sar|aed|rub|руб|тг|ksh|tsh|ush|birr|cfa|fcfa|xof|jpy|cny|yuan|rmb|₹|\$|€|£)\s*$", re.IGNORECASE
)
_ISBN_CONTEXT = re.compile(r"(?:isbn|issn|doi|arxiv|pmid|isbn-1[03])[\s:\-]*$", re.IGNORECASE)
_CURRENCY_AFTER = re.compile(
    r"\s?(?:(?:usd|eur|euros?|gbp|inr|kes|ngn|egp|rub|руб|fcfa|cfa|kr|sek|nok|dkk|chf|dollars?|francs?)\b|[₹$€£¥₦₽₺৳฿])", re.IGNORECASE
)
_NUMBER_SIGN = re.compile(r"(?:\bn:o|\bno\.|\bnr\.?|№|§|\bart\.?)\s*$", re.IGNORECASE)
_DOTTED_IP = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


def _region_key(lang_script: str | None, url: str | None) -> tuple[str, str | None]:
    """(language, country-code TLD) that decide which countries' phone formats are tried."""
    tld = None
    if url:
        host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", url.lower()).split("/", 1)[0].split(":", 1)[0]
        tld = host.rsplit(".", 1)[-1] if "." in host else None
    return (lang_script.split("_", 1)[0] if lang_script else "", tld)


# languages spoken in many countries: the most populous ones first (babel's per-territory shares do not rank them)
_BIG_LANGUAGES = {
    "eng": ("US", "GB", "IN", "NG", "PH", "AU", "CA", "ZA", "KE"),
    "ara": ("EG", "SA", "DZ", "MA", "IQ", "AE", "JO", "SY"),
    "spa": ("ES", "MX", "CO", "AR", "PE", "CL", "US"),
    "fra": ("FR", "BE", "CH", "CA", "SN", "CI", "CM", "MA"),
    "por": ("BR", "PT", "AO", "MZ"),
    "rus": ("RU", "KZ", "BY", "KG", "UA"),
    "deu": ("DE", "AT", "CH"),
    "swa": ("TZ", "KE", "UG"),
    "hin": ("IN",),
    "zho": ("CN", "TW", "HK", "SG"),
    "msa": ("MY", "SG", "BN"),
    "fas": ("IR", "AF"),
    "ben": ("BD", "IN"),
    "urd": ("PK", "IN"),
    "tam": ("IN", "LK", "SG"),
    "nep": ("NP", "IN"),
}
_TLD_REGION = {"uk": "GB"}


def _regions(lang: str, tld: str | None, territories: dict[str, list[tuple[float, str]]]) -> tuple[str, ...]:
    import phonenumbers

    regions: list[str] = []
    if tld and len(tld) == 2:
        region = _TLD_REGION.get(tld, tld.upper())
        if phonenumbers.country_code_for_region(region):
            regions.append(region)
    regions += _BIG_LANGUAGES.get(lang) or _babel_regions(lang, territories)
    seen_codes, unique = set(), []
    for region in regions:  # one region per calling code: parsing under CA and US tells the same
        code = phonenumbers.country_code_for_region(region)
        if code and code not in seen_codes:
            seen_codes.add(code)
            unique.append(region)
    return tuple(unique[:6])


def _territories_by_language() -> dict[str, list[tuple[float, str]]]:
    from babel.core import get_global

    table: dict[str, list[tuple[float, str]]] = {}
    for territory, languages in get_global("territory_languages").items():
        for code, info in languages.items():
            table.setdefault(code.split("_", 1)[0], []).append((info.get("population_percent") or 0.0, territory))
    return table


def _babel_regions(lang: str, table: dict[str, list[tuple[float, str]]]) -> tuple[str, ...]:
    import pycountry

    found = pycountry.languages.get(alpha_3=lang) if len(lang) == 3 else None
    codes = [c for c in (getattr(found, "alpha_2", None), lang) if c]
    ranked = sorted((item for c in codes for item in table.get(c, [])), reverse=True)
    return tuple(territory for share, territory in ranked if share >= 10.0)[:4]


def _looks_like_other_number(text: str, start: int, end: int, candidate: str) -> bool:
    """Dates, times, ISBNs, prices, coordinates, versions, decimals: numbers that are not phone numbers."""
    before, after = text[max(0, start - 12) : start], text[end : end + 4]
    if _NUMBER_SIGN.search(before):  # "N:o 2131/93", "Nr. 12 345 678", "§ 3 12 45": a reference, not a phone
        return True
    if after[:1] in ".,:" and after[1:2].isdigit():  # a decimal or a longer dotted/comma-grouped number
        return True
    if before[-1:] in ".,:" and before[-2:-1].isdigit():
        return True
    if after.lstrip()[:1] in ("°", "′", "'", "%", "‰") or "°" in before[-3:]:
        return True
    if _ISBN_CONTEXT.search(before) or _CURRENCY_WORDS.search(before[-6:]):
        return True
    if _CURRENCY_AFTER.match(text, end) or unicodedata.category(after.lstrip()[:1] or " ") == "Sc":
        return True
    if _DATE.fullmatch(candidate) or _DATE_RANGE.match(candidate) or _YEARS.fullmatch(candidate) or _DOTTED_IP.fullmatch(candidate):
        return True
    digits = re.sub(r"\D", "", candidate)
    if len(digits) == 13 and digits[:3] in ("978", "979"):  # an ISBN-13
        return True
    if "." in candidate:
        groups = re.split(r"[.]", re.sub(r"[^\d.]", "", candidate))
        if any(len(g) < 2 for g in groups) or re.search(r"(?<![\d.])\d{1,3}\.\d{4,}", candidate):  # versions, decimal degrees
            return True
    return False


class PiiRules:
    """``scrub(text, lang_script, url) -> (text, {"email": n, "ip": n, "phone": n})``."""

    def __init__(self, settings: PiiSettings):
        self.settings = settings
        self._email = self._ipv4 = None
        self._territories: dict[str, list[tuple[float, str]]] = {}
        self._regions: dict[tuple[str, str | None], tuple[str, ...]] = {}  # per (language, TLD), this instance only

    def setup(self) -> None:
        if self._email is None:
            email, ipv4 = _datatrove_patterns()
            self._email = re.compile(email)
            self._ipv4 = re.compile(rf"(?<![\d.])(?:{ipv4})(?!\d|\.\d)")
            import phonenumbers  # noqa: F401 - loaded once per worker

            self._territories = _territories_by_language()

    def _phone_regions(self, lang_script: str | None, url: str | None) -> tuple[str, ...]:
        key = _region_key(lang_script, url)
        if key not in self._regions:
            self._regions[key] = _regions(*key, self._territories)
        return self._regions[key]

    def find_phones(self, text: str, lang_script: str | None = None, url: str | None = None) -> list[tuple[int, int]]:
        """Spans of the phone numbers in ``text``."""
        import phonenumbers

        self.setup()
        spans, regions = [], None
        for match in _PHONE.finditer(text):
            raw = match.group("num").rstrip(" \t\u00a0-./\u2010\u2011\u2012\u2013")
            start = match.start("num") + (len(raw) - len(raw.lstrip(" \t\u00a0")))
            raw = raw.strip(" \t\u00a0")
            end = start + len(raw)
            candidate = raw.translate(_TO_ASCII)
            digits = sum(ch.isdigit() for ch in candidate)
            if digits < 8 or digits > 15 or _looks_like_other_number(text, start, end, candidate):
                continue
            international = candidate.startswith(("+", "00"))
            if international:
                number = "+" + candidate[2:] if candidate.startswith("00") else candidate
                tries: tuple = (None,)
            else:
                grouped = bool(re.search(r"\d[ \t\u00a0\-\u2010\u2011\u2012\u2013./]+\d", candidate))
                if not (candidate.startswith(("0", "(")) or grouped):
                    continue  # a bare run of digits: an order or reference number as often as a phone number
                groups = re.findall(r"\d+", candidate)
                if any(len(g) == 1 for g in groups[1:]) or (
                    len(groups[0]) == 1 and not candidate.startswith("(") and not (groups[0] in ("1", "8") and (len(groups[1]) == 3 or "(" in candidate))
                ):
                    continue  # scores (6-4 3-6), verse and table references (1 29 53900): phone groups are 2+ digits
                if re.match(r"(?:19|20)\d\d\s", candidate):
                    continue  # a year, then a number ("in July 1971 1725 kr")
                if regions is None:
                    regions = self._phone_regions(lang_script, url)
                number, tries = candidate, regions
            for region in tries:
                try:
                    parsed = phonenumbers.parse(number, region)
                except phonenumbers.NumberParseException:
                    continue
                if phonenumbers.is_valid_number(parsed):
                    spans.append((start, end))
                    break
        return spans

    def matches(self, text: str, lang_script: str | None = None, url: str | None = None) -> list[tuple[str, int, int]]:
        """``(kind, start, end)`` of every piece of personal data :meth:`scrub` would replace (on the text as it is
        at each step: e-mails first, then IPs, then phone numbers, like :meth:`scrub`). For audits (bench/)."""
        self.setup()
        s, found = self.settings, []
        patterns = []
        if s.emails:
            patterns.append(("email", self._email, None))
        if s.ips:
            patterns += [("ip", self._ipv4, _public_ip), ("ip", _IPV6, _public_ipv6)]
        masked = text
        for kind, pattern, valid in patterns:
            for match in pattern.finditer(masked):
                if valid is None or valid(match.group(0)):
                    found.append((kind, match.start(), match.end()))
                    masked = masked[: match.start()] + "\x00" * (match.end() - match.start()) + masked[match.end() :]
        if s.phones:
            found += [("phone", start, end) for start, end in self.find_phones(masked, lang_script, url)]
        return sorted(found, key=lambda item: item[1])

    def scrub(self, text: str, lang_script: str | None = None, url: str | None = None) -> tuple[str, dict[str, int]]:
        """The text with personal data replaced (``mode: annotate``: unchanged) and the count of each kind."""
        self.setup()
        s, counts = self.settings, {kind: 0 for kind in PII_KINDS}
        if not text or not s.enabled:
            return text, counts
        replace = s.mode == "replace"

        def sub(pattern, placeholder, kind, valid=None):
            def one(match):
                found = match.group(0)
                if valid is not None and not valid(found):
                    return found
                counts[kind] += 1
                return placeholder if replace else found

            return pattern.sub(one, text)

        if s.emails and "@" in text:
            text = sub(self._email, EMAIL_PLACEHOLDER, "email")
        if s.ips:
            if "." in text and _DIGIT_DOT_DIGIT.search(text):  # every IPv4 address has one; the full pattern is slow
                text = sub(self._ipv4, IP_PLACEHOLDER, "ip", _public_ip)
            if "::" in text or text.count(":") >= 7:
                text = sub(_IPV6, IP_PLACEHOLDER, "ip", _public_ipv6)
        if s.phones:
            spans = self.find_phones(text, lang_script, url)
            counts["phone"] = len(spans)
            if replace and spans:
                parts, last = [], 0
                for start, end in spans:
                    parts += [text[last:start], PHONE_PLACEHOLDER]
                    last = end
                text = "".join(parts) + text[last:]
        return text, counts


def describe_pii_rules(settings: PiiSettings) -> dict:
    """What the release states about the PII rules."""
    if not settings.enabled:
        return {"enabled": False}
    import phonenumbers

    rules = []
    if settings.emails:
        rules.append({"kind": "email", "method": "datatrove PIIFormatter e-mail pattern", "placeholder": EMAIL_PLACEHOLDER})
    if settings.ips:
        rules.append(
            {"kind": "ip", "method": "IPv4 (datatrove pattern, public addresses only) and IPv6 (ipaddress, global only)", "placeholder": IP_PLACEHOLDER}
        )
    if settings.phones:
        rules.append(
            {
                "kind": "phone",
                "method": f"phonenumbers {phonenumbers.__version__}: international (+/00) and national formats in the regions of the "
                "document's language and URL country code, digits of any script",
                "placeholder": PHONE_PLACEHOLDER,
            }
        )
    return {"enabled": True, "mode": settings.mode, "rules": rules}

"""Issue 17: URL rules (UT1 blocklist, banned words, the manifest's block/allow lists) and personal-data masking,
on composed URLs and pages."""

import pyarrow as pa
import pytest

from longtail.filters.pii import EMAIL_PLACEHOLDER, IP_PLACEHOLDER, PHONE_PLACEHOLDER, PiiRules, PiiSettings
from longtail.filters.quality import Thresholds, first_failure
from longtail.filters.urls import UrlFilterSettings, UrlRules
from longtail.pipeline.manifest import ManifestError, parse_manifest
from longtail.reasons import DOCUMENT_REASONS, URL_BANNED_SUBWORD, URL_BANNED_WORD, URL_BLOCKLIST
from longtail.stages.safety import PiiStage, UrlStage


@pytest.fixture(scope="module")
def lists(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lists")
    (folder / "block_domains.txt").write_text("# our own blocklist\nblocked-site.test\n0-1sex.com\n")
    (folder / "block_patterns.txt").write_text(r"/casino/" + "\n")
    (folder / "allow_domains.txt").write_text("news.blocked-site.test\nhealth.0-1sex.com  # a subdomain of a UT1 domain\n")
    (folder / "allow_patterns.txt").write_text(r"^https://archive\.test/keep/" + "\n")
    return folder


@pytest.fixture(scope="module")
def rules(lists):
    settings = UrlFilterSettings(**{k: str(lists / f"{k}.txt") for k in ("block_domains", "block_patterns", "allow_domains", "allow_patterns")})
    url_rules = UrlRules(settings)
    url_rules.setup()
    return url_rules


def test_ut1_domain_and_its_subdomains_are_blocklisted(rules):
    assert rules.verdict("https://0-1avsex.com/page") == URL_BLOCKLIST  # in the UT1 list shipped with datatrove
    assert rules.verdict("http://www.0-1avsex.com/") == URL_BLOCKLIST
    assert rules.verdict("https://yo.sample-news.test/oja") is None


def test_banned_words_and_subwords(rules):
    assert rules.verdict("https://example.org/free-porn-videos") == URL_BANNED_WORD
    assert rules.verdict("https://example.org/2girls1cup") == URL_BANNED_SUBWORD  # "2 girls 1 cup", letters only
    assert rules.verdict("https://en.wikipedia.org/wiki/Sexual_health") is None  # "sex" alone is not banned


def test_manifest_lists_and_allow_overrides_block(rules):
    assert rules.verdict("https://blocked-site.test/a") == URL_BLOCKLIST
    assert rules.verdict("https://shop.blocked-site.test/a") == URL_BLOCKLIST  # subdomains of a blocked domain
    assert rules.verdict("https://news.blocked-site.test/a") is None  # allow-listed subdomain of a blocked domain
    assert rules.verdict("https://a.news.blocked-site.test/a") is None
    assert rules.verdict("https://health.0-1sex.com/clinic") is None  # allow beats UT1 too
    assert rules.verdict("https://0-1sex.com/") == URL_BLOCKLIST
    assert rules.verdict("https://games.test/casino/1") == URL_BLOCKLIST
    assert rules.verdict("https://archive.test/keep/casino/1") is None  # allow pattern beats block pattern
    assert rules.verdict(None) is None


def test_url_flag_is_a_selection_drop_with_its_reason(rules):
    stage = UrlStage(rules.settings)
    stage._rules = rules
    table = stage(pa.table({"url": ["https://shop.blocked-site.test/x", "https://news.blocked-site.test/x", None]}))
    flags = table.column("url_flag").to_pylist()
    assert flags == [URL_BLOCKLIST, None, None]
    good = {
        "text": "x " * 100,
        "lang": "yor",
        "lang_score": 0.9,
        "n_words": 100,
        "n_letters": 500,
        "letter_ratio": 0.9,
        "dup_line_frac": 0.0,
        "top_2gram_frac": 0.0,
        "dup_5gram_frac": 0.0,
    }
    assert first_failure({**good, "url_flag": flags[0]}, Thresholds()) == URL_BLOCKLIST
    assert first_failure({**good, "url_flag": None}, Thresholds()) is None
    assert first_failure({**good, "url_flag": None, "text": ""}, Thresholds()) == "extract:empty"
    assert first_failure({**good, "url_flag": URL_BLOCKLIST, "text": ""}, Thresholds()) == URL_BLOCKLIST  # URL rules come first
    assert DOCUMENT_REASONS.index(URL_BLOCKLIST) < DOCUMENT_REASONS.index("extract:empty")


def test_manifest_url_and_pii_settings(lists, tmp_path):
    base = {"name": "t", "inputs": ["x.warc"], "output": str(tmp_path)}
    manifest = parse_manifest({**base, "stages": {"url_filter": {"allow_domains": "allow_domains.txt"}, "pii": {"mode": "annotate"}}}, lists)
    assert manifest.url_filter.allow_domains == str(lists / "allow_domains.txt") and manifest.pii.mode == "annotate"
    assert parse_manifest(base).url_filter.enabled and parse_manifest(base).pii.mode == "replace"  # on by default
    with pytest.raises(ManifestError, match="stages.url_filter.block_domains"):
        parse_manifest({**base, "stages": {"url_filter": {"block_domains": "missing.txt"}}}, lists)
    with pytest.raises(ManifestError, match="stages.pii"):
        parse_manifest({**base, "stages": {"pii": {"mode": "hide"}}})


# --- personal data ------------------------------------------------------------------------------------------------

PII = PiiRules(PiiSettings())

# (lang_script, text with personal data, how many numbers it holds): composed, one digit system each
PHONES = [
    ("eng_Latn", "Call us on +44 20 7946 0958 or (415) 555-2671 after nine.", 2),  # ASCII
    ("ara_Arab", "اتصلوا بنا على الرقم +٢٠ ١٠٠ ١٢٣ ٤٥٦٧ أو ٠١٠٠-١٢٣-٤٥٦٧ صباحاً.", 2),  # Arabic-Indic
    ("fas_Arab", "برای رزرو با شماره ۰۲۱-۸۸۷۷۶۶۵۵ یا +۹۸ ۹۱۲ ۳۴۵ ۶۷۸۹ تماس بگیرید.", 2),  # Extended Arabic-Indic
    ("hin_Deva", "अधिक जानकारी के लिए +९१ ९८७६५ ४३२१० या ०११-२३४५६७८९ पर फ़ोन करें।", 2),  # Devanagari
    ("ben_Beng", "বিস্তারিত জানতে ফোন করুন +৮৮০ ১৭১১-১২৩৪৫৬ নম্বরে।", 1),  # Bengali
    ("tha_Thai", "สอบถามโทร ๐๒-๑๒๓-๔๕๖๗ หรือ +๖๖ ๘๑ ๒๓๔ ๕๖๗๘ ได้ทุกวัน", 2),  # Thai
    ("rus_Cyrl", "Звоните: +7 495 123-45-67 или 8 (812) 123-45-67.", 2),
]


@pytest.mark.parametrize("label,text,count", PHONES)
def test_phone_numbers_in_many_digit_systems_are_replaced(label, text, count):
    scrubbed, found = PII.scrub(text, label)
    assert found["phone"] == count, scrubbed
    assert scrubbed.count(PHONE_PLACEHOLDER) == count
    assert not any(ch.isdigit() for ch in scrubbed), scrubbed


def test_emails_and_ips_are_replaced():
    text = "Write to amina.bello@gmail.com or info@shop.example.ng; the server 81.2.69.160 and 2a00:1450:4001:82b::200e answered."
    scrubbed, found = PII.scrub(text, "eng_Latn")
    assert found == {"email": 2, "ip": 2, "phone": 0}
    assert scrubbed == (f"Write to {EMAIL_PLACEHOLDER} or {EMAIL_PLACEHOLDER}; the server {IP_PLACEHOLDER} and {IP_PLACEHOLDER} answered.")


LOOK_ALIKES = [
    "Update to version 10.0.19041.1 or 2.14.3.8 before 1.2.3.4.5 ships; see section 3.5.2.4.",
    "The festival runs 2024-01-15 to 2024-01-20; tickets from 15.01.2024, doors 01/15/2024 at 18:30:00.",
    "ISBN 978-3-16-148410-0, ISBN-10 0-306-40615-2 and 9781234567897.",
    "Price: $1,234,567.89, €2 499 000, 1 234 567 EUR, ₹ 12,50,000 and KES 150 000 000.",
    "The farm lies at 52.520008, 13.404954 (40°26′46″N 79°58′56″W), altitude 1 234 567 m.",
    "Private hosts 192.168.1.10, 10.0.0.1 and 127.0.0.1 are not anyone's address; neither is ::1.",
    "Order number 1234567890 and account 00012345 were in 2019–2020.",
    "Federer won 6-4 3-6 6-1 3-6 6-3; see N:o 2131/93 13 and John 1 29 53900; in July 1971 1725 kr; fined 119 083 411 FCFA.",
    "संवत २०८१-०१-१५ को मूल्य ₹ १२,५०० और संस्करण ३.१४.२ जारी हुआ।",
]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_are_left_alone(text):
    scrubbed, found = PII.scrub(text, "eng_Latn" if text.isascii() else "hin_Deva")
    assert scrubbed == text and found == {"email": 0, "ip": 0, "phone": 0}


def test_annotate_mode_counts_without_replacing():
    text = "Mail amina.bello@gmail.com or call +44 20 7946 0958."
    scrubbed, found = PiiRules(PiiSettings(mode="annotate")).scrub(text, "eng_Latn")
    assert scrubbed == text and found == {"email": 1, "ip": 0, "phone": 1}


def test_pii_stage_replaces_text_and_counts_per_document():
    table = pa.table({"text": ["Call +44 20 7946 0958.", "No personal data here.", None], "lang_script": ["eng_Latn"] * 3, "url": [None] * 3})
    out = PiiStage(PiiSettings())(table)
    assert out.column("text").to_pylist() == [f"Call {PHONE_PLACEHOLDER}.", "No personal data here.", None]
    assert out.column("pii_phone").to_pylist() == [1, 0, 0] and out.column("pii_email").to_pylist() == [0, 0, 0]
    kept = PiiStage(PiiSettings(mode="annotate"))(table)
    assert kept.column("text").to_pylist() == table.column("text").to_pylist() and kept.column("pii_phone").to_pylist() == [1, 0, 0]


def test_release_states_lists_and_rules_with_counts():
    from longtail.filters.pii import describe_pii_rules
    from longtail.filters.urls import describe_url_rules
    from longtail.pipeline.release.export import _safety_lines, safety_summary

    run_info = {"safety": {"url_filter": describe_url_rules(UrlFilterSettings()), "pii": describe_pii_rules(PiiSettings())}}
    languages = [
        {"lang_script": "yor_Latn", "dropped": {URL_BLOCKLIST: 3, "dedup:near": 1}, "pii": {"kept": {"email": 2, "ip": 0, "phone": 5, "documents": 4}}},
        {"lang_script": "und_Zyyy", "dropped": {URL_BANNED_WORD: 1}, "pii": {}},
    ]
    summary = safety_summary(run_info, languages)
    assert summary["url_filter"]["dropped"] == {URL_BANNED_WORD: 1, URL_BLOCKLIST: 3}
    ut1 = summary["url_filter"]["lists"][0]
    assert ut1["version"] == "v0_3_0" and len(ut1["sha256"]) == 64
    assert summary["pii"]["mode"] == "replace" and summary["pii"]["found_in_released_documents"]["phone"] == 5
    card = "\n".join(_safety_lines(summary))
    assert "UT1 adult" in card and "`url:blocklist` 3" in card and "phone 5" in card and PHONE_PLACEHOLDER in card

"""Issue 17 through a whole run on the session's Ray: composed JSONL pages on a UT1-blocklisted domain, on a domain
of the manifest's own blocklist and on its allow-listed subdomain, and pages with personal data in two digit
systems. Blocked pages land in removed/ with their reason and are counted per language; the allow-listed page and
the personal-data pages are kept with placeholders; the counts reach stats/languages.json; the release says which
lists and rules were applied."""

from __future__ import annotations

import json
from dataclasses import replace

import pyarrow.parquet as pq
import pytest

from longtail import reasons
from longtail.filters.pii import EMAIL_PLACEHOLDER, IP_PLACEHOLDER, PHONE_PLACEHOLDER
from longtail.filters.urls import UrlFilterSettings
from longtail.pipeline.manifest import QualitySettings, load_manifest
from longtail.pipeline.run import run

# Composed for this test: distinct English paragraphs (each a kept page on its own), and one Arabic one.
PARAGRAPHS = [
    "The village council met on Tuesday evening to discuss the repair of the old bridge over the river. Farmers said "
    "that the bridge is the only road to the market in the dry season, and that trucks can no longer cross it safely. "
    "The council agreed to ask the district office for help and to collect money from every household for the work.",
    "Our school library received two hundred new books this month, most of them stories for young readers and books "
    "about science. The librarian has arranged them by age so that children can find something they enjoy. Parents "
    "are welcome to visit on Saturday mornings, when the library stays open longer than on other days of the week.",
    "The football team from the northern district won the regional cup after a close final that ended two goals to "
    "one. Hundreds of supporters travelled by bus to watch the match and sang until the last whistle. The coach said "
    "the players had trained every morning for three months and deserved the victory more than anyone else.",
    "Heavy rain over the weekend flooded several streets near the central market, and traders moved their goods to "
    "higher ground. The city engineers say the drains were blocked by plastic waste and will be cleaned next week. "
    "Residents are asked not to throw rubbish into the channels, because the rainy season has only just begun.",
    "A new health centre opened in the eastern part of the town, with two doctors, four nurses and a small "
    "laboratory. Until now, mothers had to walk for more than an hour to reach the nearest clinic with their "
    "children. The centre will be open every day, and vaccinations for young children will be free of charge.",
]
CONTACT = " For questions write to amina.juma@example.org or call +254 712 345 678. The old server was 81.2.69.160."
ARABIC = (
    "افتتحت البلدية يوم الأحد مكتبة عامة جديدة في وسط المدينة، وتضم المكتبة آلاف الكتب للأطفال والكبار وقاعة "
    "للقراءة مفتوحة طوال الأسبوع. وقال مدير المكتبة إن الهدف هو تشجيع الشباب على القراءة وتوفير مكان هادئ للدراسة "
    "بعد المدرسة، وأضاف أن المكتبة ستنظم ورشات للكتابة في كل شهر. للاستفسار اتصلوا على الرقم ٠١٠١٢٣٤٥٦٧٨ "
    "أو على الرقم +٢٠ ١٠ ١٢٣٤ ٥٦٧٨ في أيام العمل من الصباح حتى المساء، وشكرت البلدية كل من ساهم في المشروع."
)


def _rows(output) -> dict[str, dict]:
    out = {}
    for folder in ("dataset", "removed"):
        for part in sorted((output / folder).glob("lang_script=*/part-*.parquet")):
            for row in pq.read_table(part).to_pylist():
                row["folder"] = folder
                out[row["url"]] = row
    return out


@pytest.fixture(scope="module")
def url_pii_run(repo, ray_local, tmp_path_factory):
    folder = tmp_path_factory.mktemp("url-pii")
    pages = [
        {"id": "ut1", "url": "https://www.0-1sex.com/story", "text": PARAGRAPHS[0]},
        {"id": "own-block", "url": "https://shop.blocked-site.test/page", "text": PARAGRAPHS[1]},
        {"id": "allowed", "url": "https://news.blocked-site.test/page", "text": PARAGRAPHS[2]},
        {"id": "contact", "url": "https://news.example.test/contact", "text": PARAGRAPHS[3] + CONTACT},
        {"id": "plain", "url": "https://news.example.test/plain", "text": PARAGRAPHS[4]},
        {"id": "arabic", "url": "https://ar.example.test/library", "text": ARABIC},
    ]
    (folder / "pages.jsonl").write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in pages), encoding="utf-8")
    (folder / "block.txt").write_text("blocked-site.test\n")
    (folder / "allow.txt").write_text("news.blocked-site.test\n")
    output = folder / "out"
    manifest = replace(
        load_manifest(repo / "manifests" / "sample.yaml"),
        inputs=[str(folder / "pages.jsonl")],
        output=str(output),
        quality=QualitySettings(),
        url_filter=UrlFilterSettings(block_domains=str(folder / "block.txt"), allow_domains=str(folder / "allow.txt")),
    )
    run(manifest, progress=False)
    return output


def test_blocked_pages_are_removed_with_their_reason_and_counted(url_pii_run):
    rows = _rows(url_pii_run)
    assert len(rows) == 6  # none lost
    assert rows["https://www.0-1sex.com/story"]["folder"] == "removed"
    assert rows["https://www.0-1sex.com/story"]["drop_reason"] == reasons.URL_BLOCKLIST
    assert rows["https://shop.blocked-site.test/page"]["drop_reason"] == reasons.URL_BLOCKLIST
    assert rows["https://news.blocked-site.test/page"]["folder"] == "dataset"  # allow-listed subdomain
    languages = {s["lang_script"]: s for s in json.loads((url_pii_run / "stats" / "languages.json").read_text())}
    assert languages["eng_Latn"]["dropped"].get(reasons.URL_BLOCKLIST) == 2


def test_personal_data_is_replaced_in_kept_text_and_counted(url_pii_run):
    rows = _rows(url_pii_run)
    contact = rows["https://news.example.test/contact"]
    assert contact["folder"] == "dataset"
    text = contact["text"]
    assert "amina.juma@example.org" not in text and EMAIL_PLACEHOLDER in text
    assert "81.2.69.160" not in text and IP_PLACEHOLDER in text
    assert "712 345 678" not in text and PHONE_PLACEHOLDER in text
    arabic = rows["https://ar.example.test/library"]
    assert arabic["folder"] == "dataset"
    assert "٠١٠١٢٣٤٥٦٧٨" not in arabic["text"] and arabic["text"].count(PHONE_PLACEHOLDER) == 2
    assert rows["https://news.example.test/plain"]["text"] == PARAGRAPHS[4]  # nothing to replace, nothing changed
    languages = {s["lang_script"]: s for s in json.loads((url_pii_run / "stats" / "languages.json").read_text())}
    assert languages["eng_Latn"]["pii"]["kept"] == {"email": 1, "ip": 1, "phone": 1, "documents": 1}
    assert languages["ara_Arab"]["pii"]["kept"]["phone"] == 2

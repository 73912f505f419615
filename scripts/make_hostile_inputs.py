#!/usr/bin/env python
"""Write a deterministic suite of hostile WARC inputs and ``expected.json`` (what the pipeline must do).

Every hostile case lives in its own file. Where the file can hold WARC records at all, the bad record sits
between good HTML records (short English or Swahili "news briefs" pages, unique per record), so a test can
check that one bad record does not cost its neighbours. Files are Common Crawl style (one gzip member per
record, a ``warcinfo`` record first) unless the case is about the container itself.

Cases (file names are the keys of ``expected.json["files"]``):
   1  truncated_gzip_member.warc.gz      a gzip member cut mid-member, followed by more good members
   2  content_length_too_large.warc.gz   WARC Content-Length larger than the block (reaches into the next record)
      content_length_too_small.warc.gz   WARC Content-Length smaller than the block (junk left before next record)
   3  http_no_status_line.warc.gz        HTTP block starting with a header line, no status line
      http_garbage_status.warc.gz        HTTP status line of binary garbage
      http_no_blank_line.warc.gz         HTTP headers never terminated by a blank line
   4  non_html_png.warc.gz               PNG bytes labelled text/html
      non_html_pdf.warc.gz               a PDF labelled text/html
   5  charset_cp1251_declared_utf8.warc.gz   windows-1251 bytes, HTTP header and <meta> say utf-8
      charset_sjis_undeclared.warc.gz        Shift_JIS bytes, no charset anywhere
   6  invalid_utf8.warc.gz               UTF-8 page with a few invalid byte sequences
   7  huge_page_50mb.warc.gz             a 50 MB HTML page (written streaming)
   8  deep_nesting.warc.gz               <div> nested 100,000 levels deep
   9  http_gzip_bomb.warc.gz             HTTP payload with Content-Encoding: gzip expanding to 1 GiB of zeros
      warc_gzip_bomb.warc.gz             a WARC gzip member expanding to 1 GiB (record over the size limit)
  10  empty.warc.gz                      0 bytes
      empty_gzip.warc.gz                 a valid gzip stream of nothing
  11  not_warc_text.warc.gz              random text named .warc.gz
      not_warc_plain.warc                plain text named .warc
   -  control.warc.gz                    good records only (baseline)

Reasons are the pipeline's vocabulary (docs/contracts.md): read level ``malformed``, ``non_html``,
``too_large``; document level ``extract:empty`` / ``extract:error``. Offsets are byte offsets of the bad
record in the file as stored (the compressed offset of its gzip member for .warc.gz), like Common Crawl's
index offsets.

Uses only the standard library; output is byte-identical across runs (fixed dates, ids, seeds, gzip mtime 0).
Usage: .venv/bin/python scripts/make_hostile_inputs.py OUT_DIR
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import io
import itertools
import json
import random
import struct
import sys
import uuid
import zlib
from pathlib import Path

MAX_PAYLOAD_BYTES = 10 << 20          # read.read_warc's default per-record limit
BOMB_BYTES = 1 << 30                  # 1 GiB of zeros behind each gzip bomb
HUGE_PAGE_BYTES = 50_000_000          # the 50 MB page
NESTING_DEPTH = 100_000
RECORD_ID_NAMESPACE = uuid.UUID("0b6c4f7e-1d2a-4e55-8f3c-2a9d6e4b7c10")
SEED = 20261101
WARC_DATE = "2026-11-01T06:00:{:02d}Z"

# --------------------------------------------------------------------------------------------------------
# Good content: short news items; each good page carries three of them (about 120 words). Triples are chosen
# so that two pages share at most one item: no page is an exact or near duplicate of another.

ENGLISH_ITEMS = [
    ("Bus timetable changes",
     "From Monday the number 14 bus will leave the central station every twelve minutes instead of every twenty. "
     "The council says the change follows a survey of riders who complained about crowded morning trips. "
     "Evening services stay the same until the end of the year."),
    ("Rain delays the harvest",
     "Three days of steady rain have kept farmers in the valley out of their wheat fields. Most growers expect "
     "to start cutting again once the soil dries, but some worry that the grain will sprout in the ear if the "
     "wet weather continues into next week."),
    ("School library reopens",
     "The primary school library reopened on Thursday after a summer of repairs to its leaking roof. Parents "
     "volunteered to paint the shelves, and a local bookshop donated two hundred new titles, many of them "
     "picture books for the youngest readers."),
    ("Football club wins the derby",
     "The town football club beat its neighbours by two goals to one on Saturday, with the winning goal coming "
     "five minutes from the end. Supporters stayed long after the whistle, singing in the rain, and the coach "
     "praised the young defenders for their calm play."),
    ("Fish prices fall at the harbour",
     "Prices at the harbour fish market fell this week as boats returned with full holds after a long calm "
     "spell. Mackerel sold for half of last month's price, while crab stayed expensive because many pots were "
     "damaged in the storm in early September."),
    ("New cycle path opens",
     "Work has finished on the cycle path that links the railway station with the hospital. The route runs "
     "beside the canal and avoids the busy ring road. Nurses who cycle to work say the journey now takes them "
     "fifteen minutes and feels much safer."),
    ("A simple autumn soup",
     "For a simple autumn soup, soften an onion in butter, add diced carrots, a potato and a handful of red "
     "lentils, then cover with stock. Simmer for half an hour, blend until smooth and finish with black pepper "
     "and a spoonful of yoghurt."),
    ("Clinic extends its opening hours",
     "The health clinic on Mill Street will stay open until eight in the evening on Tuesdays and Thursdays from "
     "next month. Staff hope the later hours will help working parents bring their children for vaccinations "
     "without taking time off work."),
    ("Choir prepares for the festival",
     "The community choir has been rehearsing twice a week for the harvest festival concert in the old church. "
     "The programme mixes traditional folk songs with two new pieces written by a music teacher from the "
     "secondary school."),
    ("Power cut in the east district",
     "Around four hundred homes in the east district lost electricity for most of Wednesday afternoon after a "
     "digger damaged an underground cable. Engineers restored power shortly before seven, and the company "
     "apologised to customers for the disruption."),
    ("Allotment waiting list grows",
     "The waiting list for allotments has grown to more than ninety names, and the council is looking at a "
     "disused playing field as a possible new site. Gardeners say demand rose sharply after food prices climbed "
     "last winter."),
    ("Winter ferry timetable",
     "The island ferry will switch to its winter timetable at the end of October, with two crossings a day "
     "instead of five. Islanders have asked the operator to keep an early morning sailing so that students can "
     "reach the college on time."),
    ("Bakery celebrates fifty years",
     "The family bakery on the corner of Station Road celebrated fifty years of business this weekend. "
     "Customers queued for free slices of apple cake, and the owner, whose grandfather opened the shop, thanked "
     "the town for its loyalty."),
    ("Advice for hot days",
     "Doctors are reminding older residents to drink water regularly and to keep curtains closed during the "
     "hottest part of the day. Neighbours are encouraged to check on people who live alone, especially those "
     "who rarely leave the house."),
    ("Market square repairs",
     "Repairs to the cobbles in the market square will begin after the Saturday market and last about three "
     "weeks. Stallholders will move for a while to the car park behind the town hall, where extra lighting has "
     "been put up for the evening traders."),
]

SWAHILI_ITEMS = [
    ("Mvua kubwa yanyesha mjini",
     "Mvua kubwa ilinyesha usiku kucha na kusababisha maji kujaa katika barabara kadhaa za mjini. Wakazi wa "
     "mtaa wa sokoni walilazimika kutembea kwa miguu kwa sababu mabasi madogo hayakuweza kupita. Mamlaka ya hali "
     "ya hewa inasema mvua itaendelea hadi mwisho wa wiki."),
    ("Bei ya mahindi yashuka",
     "Bei ya mahindi katika soko kuu imeshuka baada ya wakulima wengi kuleta mavuno yao kwa wakati mmoja. Gunia "
     "moja sasa linauzwa kwa bei ya chini kuliko mwezi uliopita. Wafanyabiashara wanasema bei itapanda tena "
     "mwezi ujao."),
    ("Shule yapata maktaba mpya",
     "Wanafunzi wa shule ya msingi ya kijiji wamefurahia kufunguliwa kwa maktaba mpya iliyojengwa kwa msaada wa "
     "wazazi. Maktaba ina vitabu vya hadithi, kamusi na vitabu vya sayansi. Mwalimu mkuu aliwashukuru wote "
     "waliochangia ujenzi huo."),
    ("Timu ya wilaya yashinda fainali",
     "Timu ya mpira wa miguu ya wilaya ilishinda mechi ya fainali kwa mabao mawili kwa moja siku ya Jumamosi. "
     "Mashabiki waliimba na kucheza barabarani hadi jioni. Kocha alisema ushindi huo ni matokeo ya mazoezi ya "
     "bidii."),
    ("Chanjo kwa watoto kliniki",
     "Kliniki ya afya ya kijiji itatoa chanjo kwa watoto wadogo kila Jumanne na Alhamisi mwezi huu. Wauguzi "
     "wanawaomba wazazi kuleta kadi za kliniki za watoto wao. Huduma hiyo inatolewa bure kwa familia zote."),
    ("Wavuvi warudi na samaki wengi",
     "Wavuvi wa pwani walirudi asubuhi na mitumbwi iliyojaa samaki baada ya bahari kutulia. Dagaa na pweza "
     "waliuzwa haraka katika soko la samaki. Baadhi ya wavuvi walisema hawajaona samaki wengi hivyo tangu mwaka "
     "jana."),
    ("Jinsi ya kupika pilau",
     "Kupika pilau, kaanga vitunguu hadi viwe vya rangi ya kahawia, kisha ongeza nyama, kitunguu saumu na "
     "viungo vya pilau. Mimina mchele na maji ya moto, funika sufuria na upike kwa moto mdogo hadi mchele uive "
     "vizuri."),
    ("Barabara mpya yafunguliwa",
     "Barabara mpya inayounganisha kijiji na hospitali ya wilaya imefunguliwa rasmi. Safari ambayo zamani "
     "ilichukua saa mbili sasa inachukua dakika arobaini tu. Madereva wa bodaboda wanasema barabara hiyo "
     "imerahisisha kazi yao."),
    ("Tamasha la taarab",
     "Tamasha la muziki wa taarab litafanyika katika ukumbi wa jamii mwishoni mwa mwezi. Vikundi kutoka miji "
     "mitatu vitashiriki, na tiketi zitauzwa kwa bei nafuu ili vijana wengi waweze kuhudhuria. Mapato "
     "yatasaidia kukarabati ukumbi."),
    ("Umeme wakatika mtaa wa mashariki",
     "Nyumba nyingi za mtaa wa mashariki zilikosa umeme kwa saa sita jana baada ya nguzo moja kuanguka kutokana "
     "na upepo mkali. Mafundi wa shirika la umeme walifanya kazi hadi usiku kurejesha huduma. Shirika liliomba "
     "radhi kwa wateja wake."),
    ("Wakulima wa kahawa waanza kuvuna",
     "Wakulima wa kahawa wa mlimani wameanza kuvuna mapema mwaka huu kwa sababu ya jua kali. Chama cha ushirika "
     "kimeahidi kununua kahawa yote kwa bei nzuri. Wakulima wanatumaini mapato yatawasaidia kulipa ada za "
     "shule."),
    ("Safari za feri zapunguzwa",
     "Feri inayovuka kwenda kisiwani itapunguza safari zake kutoka tano hadi mbili kwa siku wakati wa msimu wa "
     "upepo. Wakazi wa kisiwa wameomba safari ya asubuhi ibaki ili wanafunzi waweze kufika chuoni kwa wakati."),
    ("Mama lishe wapata mafunzo",
     "Mama lishe thelathini wa soko la mjini wamepata mafunzo ya usafi wa chakula na utunzaji wa fedha. "
     "Washiriki walisema mafunzo hayo yatawasaidia kuhudumia wateja vizuri zaidi na kuweka akiba kwa ajili ya "
     "biashara zao."),
    ("Kisima kipya cha maji safi",
     "Kisima kipya cha maji safi kimechimbwa karibu na zahanati ya kijiji. Akina mama hawatalazimika tena "
     "kutembea umbali mrefu kuchota maji mtoni. Kamati ya maji itakusanya mchango mdogo kila mwezi kwa ajili ya "
     "matengenezo."),
    ("Ukarabati wa soko la Jumamosi",
     "Ukarabati wa soko la Jumamosi utaanza wiki ijayo na kuchukua takriban mwezi mmoja. Wafanyabiashara "
     "watahamia kwa muda kwenye uwanja ulio nyuma ya ofisi ya kata, ambapo taa za ziada zimewekwa kwa ajili ya "
     "wauzaji wa jioni."),
]

TOWNS = ["Millbrook", "Eastwick", "Harlow Bay", "Kingsford", "Ashdale", "Riverton", "Northgate", "Fernhill",
         "Stonebridge", "Westmere", "Oakley", "Brackwater", "Larkfield", "Pennington", "Thornby", "Elmstead",
         "Redcliff", "Glenmoor", "Sandown", "Whitby Cross", "Hollins", "Maple Rise", "Dunmore", "Castleton",
         "Brookside", "Fairhaven", "Greyfield", "Lindow", "Moorcroft", "Wexley", "Ravensby", "Tidewell",
         "Underhill", "Valemount", "Yarrow"]
MIJI = ["Mwembeni", "Kisiwani", "Mlimani", "Pwani Mpya", "Bondeni", "Majengo", "Sokoni", "Kilimahewa",
        "Mnazi Mmoja", "Mtoni", "Kibanda", "Msasani", "Chumbageni", "Ngamiani", "Kwa Mtoro", "Mjimwema",
        "Bagamoyo Mpya", "Kitope", "Mkwajuni", "Mwanakwerekwe", "Jangwani", "Kariakoo Ndogo", "Mbuyuni",
        "Kijichi", "Tandika", "Mabatini", "Kizota", "Mzimuni", "Kiembe Samaki", "Mpendae", "Fuoni", "Mombasa Ndogo",
        "Kwahani", "Amani", "Mikocheni"]

# Pages for the charset cases, with a word that must appear in the extracted text when decoding is right.
RUSSIAN_PAGE = ("Погода на выходные", [
    "В субботу в городе ожидается солнечная погода, температура днём поднимется до восемнадцати градусов. "
    "В воскресенье с запада придёт холодный фронт, и к вечеру начнётся дождь. Синоптики советуют взять "
    "зонтик всем, кто собирается за город.",
    "Электрички в воскресенье будут ходить по обычному расписанию, но вечером поездов станет меньше из-за "
    "ремонта путей у станции Лесная. Дачникам рекомендуют укрыть грядки с поздней капустой, потому что "
    "ночью возможны заморозки.",
    "На рынке у вокзала в эти дни продают яблоки нового урожая, мёд и грибы, собранные в соседних лесах. "
    "Продавцы говорят, что брусники в этом году особенно много, а цены на картофель почти не изменились. "
    "В понедельник снова потеплеет, и новая неделя начнётся без осадков.",
], "брусники")
JAPANESE_PAGE = ("週末の天気予報", [
    "今週末は晴れの日が続く見込みです。土曜日の最高気温は二十二度で、洗濯物がよく乾くでしょう。"
    "日曜日の午後からは雲が増え、夜には所により雨が降る予報です。",
    "山沿いでは朝晩の冷え込みが強くなるため、紅葉を見に出かける方は上着を持って行ってください。"
    "駅前の商店街では秋祭りが開かれ、焼き芋や新米のおにぎりを売る店が並びます。",
    "祭りの会場までは臨時のバスが十五分おきに運行されます。図書館では子ども向けの読み聞かせ会が毎週水曜日に"
    "開かれています。参加は無料で、予約は必要ありません。来週の月曜日は祝日のため、市役所の窓口はお休みです。",
], "焼き芋")
# (text, invalid bytes inserted after it); the distinctive word is non-ASCII so mojibake is caught.
INVALID_UTF8_PAGE = ("A café by the harbour", [
    ("Visitors from São Paulo and Zürich queued outside the little café on the harbour front this weekend, "
     "where the owner, Zoë Müller, serves crème brûlée and open sandwiches every Saturday.", b"\xff"),
    ("Prices start at €4.50, and the menu is written in four languages. Regulars say the smørrebrød with "
     "pickled herring is the best on the coast, and the coffee is roasted in a shed behind the kitchen.",
     b"\xc3\x28"),
    ("The café closes for the winter at the end of November, when Müller travels to visit her family. She "
     "plans to reopen in March with a new terrace and a larger kitchen for the summer crowds.", b"\xe2\x82"),
], "Zürich")

# --------------------------------------------------------------------------------------------------------
# WARC writing (hand-made, so that lengths and digests can be wrong on purpose).


def _record_id(key: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(RECORD_ID_NAMESPACE, key)}>"


def _sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def warc_head(record_type: str, key: str, length: int, url: str | None = None, content_type: str | None = None,
              block_digest: str | None = None, payload_digest: str | None = None, second: int = 0) -> bytes:
    lines = ["WARC/1.0", f"WARC-Type: {record_type}", f"WARC-Date: {WARC_DATE.format(second % 60)}",
             f"WARC-Record-ID: {_record_id(key)}"]
    if url:
        lines.append(f"WARC-Target-URI: {url}")
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    if block_digest:
        lines.append(f"WARC-Block-Digest: {block_digest}")
    if payload_digest:
        lines.append(f"WARC-Payload-Digest: {payload_digest}")
    lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")


def http_head(content_type: str = "text/html; charset=utf-8", status: str = "200 OK", extra=(), length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", f"Content-Type: {content_type}", "Server: hostile-fixture"]
    lines += [f"{k}: {v}" for k, v in extra]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def response_record(key: str, url: str, block: bytes, payload: bytes | None = None, declared_length: int | None = None,
                    second: int = 0) -> bytes:
    """One uncompressed response record; ``declared_length`` overrides the true block length."""
    length = len(block) if declared_length is None else declared_length
    head = warc_head("response", key, length, url, "application/http; msgtype=response", _sha1(block),
                     _sha1(payload) if payload is not None else None, second)
    return head + block + b"\r\n\r\n"


def warcinfo_record(name: str) -> bytes:
    block = (f"software: longtail make_hostile_inputs.py\r\nformat: WARC File Format 1.0\r\n"
             f"isPartOf: HOSTILE-SUITE\r\nfilename: {name}\r\n").encode("utf-8")
    return warc_head("warcinfo", f"{name}/warcinfo", len(block), None, "application/warc-fields", _sha1(block)) + block + b"\r\n\r\n"


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


class RawGzipMember:
    """A gzip member assembled from independently compressed raw-deflate segments (so repeated segments can be
    written many times without compressing their input again: this is how a 1 GiB bomb is built in ~1 s)."""

    def __init__(self, handle):
        self.handle = handle
        self.crc = 0
        self.size = 0
        handle.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff")  # magic, deflate, no flags, mtime 0, OS unknown

    @staticmethod
    def segment(data: bytes, final: bool = False) -> bytes:
        comp = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
        return comp.compress(data) + comp.flush(zlib.Z_FINISH if final else zlib.Z_FULL_FLUSH)

    def write(self, data: bytes, times: int = 1, final: bool = False) -> None:
        piece = self.segment(data, final)
        for _ in range(times):
            self.handle.write(piece)
            self.crc = zlib.crc32(data, self.crc)
        self.size += len(data) * times

    def close(self) -> None:
        self.handle.write(struct.pack("<II", self.crc & 0xFFFFFFFF, self.size & 0xFFFFFFFF))


def zero_bomb(handle, prefix: bytes, suffix: bytes, zeros: int = BOMB_BYTES, chunk: int = 1 << 20) -> None:
    """Write one gzip member expanding to prefix + ``zeros`` NUL bytes + suffix."""
    member = RawGzipMember(handle)
    member.write(prefix)
    member.write(b"\0" * chunk, times=zeros // chunk)
    member.write(suffix, final=True)
    member.close()


# --------------------------------------------------------------------------------------------------------
# Good pages


def _item_triples(count: int) -> list[tuple[int, int, int]]:
    """Greedy lexicographic triples of 0..count-1 pairwise sharing at most one element (35 for count=15)."""
    chosen: list[tuple[int, int, int]] = []
    pairs: set[tuple[int, int]] = set()
    for triple in itertools.combinations(range(count), 3):
        triple_pairs = set(itertools.combinations(triple, 2))
        if not triple_pairs & pairs:
            chosen.append(triple)
            pairs |= triple_pairs
    return chosen


def article_html(title: str, paragraphs: list[str], lang: str, charset: str | None = "utf-8",
                 headings: list[str] | None = None) -> str:
    meta = f'<meta charset="{charset}">' if charset else ""
    body = []
    for index, paragraph in enumerate(paragraphs):
        if headings:
            body.append(f"<h2>{headings[index]}</h2>")
        body.append(f"<p>{paragraph}</p>")
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head>{meta}<title>{title}</title></head><body>'
            "<nav><a href='/'>Home</a> <a href='/news'>News</a> <a href='/contact'>Contact</a></nav>"
            f"<article><h1>{title}</h1>{''.join(body)}</article>"
            "<footer>Hostile input suite, not a real site.</footer></body></html>")


class GoodPages:
    """Hands out unique good pages, alternating English and Swahili."""

    def __init__(self):
        self.triples = _item_triples(15)
        self.used = {"en": 0, "sw": 0}
        self.turn = 0

    def next(self, slug: str) -> tuple[str, bytes]:
        lang = ("en", "sw")[self.turn % 2]
        self.turn += 1
        number = self.used[lang]
        self.used[lang] += 1
        items, places = (ENGLISH_ITEMS, TOWNS) if lang == "en" else (SWAHILI_ITEMS, MIJI)
        triple = self.triples[number]
        place = places[number]
        title = f"News briefs from {place}" if lang == "en" else f"Habari fupi kutoka {place}"
        html = article_html(title, [items[i][1] for i in triple], lang, headings=[items[i][0] for i in triple])
        url = f"https://{lang}.hostile-news.test/{slug}/{place.lower().replace(' ', '-')}.html"
        return url, html.encode("utf-8")


class WarcFile:
    """Accumulates members of one .warc.gz (or .warc) file and the expectations about them."""

    def __init__(self, out_dir: Path, name: str, case: str, description: str, pages: GoodPages, compress: bool = True):
        self.path = out_dir / name
        self.name = name
        self.case = case
        self.slug = name.split(".")[0].replace("_", "-")
        self.pages = pages
        self.compress = compress
        self.handle = open(self.path, "wb")
        self.second = 0
        self.spec = {"case": case, "description": description, "good_urls": [], "bad_counts": {},
                     "bad_records": [], "documents": [], "must_contain": {}}
        self.raw(warcinfo_record(name))

    @property
    def offset(self) -> int:
        return self.handle.tell()

    def raw(self, record: bytes) -> int:
        """Write one (uncompressed) record as its own member; returns its offset."""
        offset = self.offset
        self.handle.write(gz(record) if self.compress else record)
        self.second += 1
        return offset

    def good(self, count: int = 1) -> None:
        for _ in range(count):
            url, html = self.pages.next(self.slug)
            block = http_head() + html
            self.raw(response_record(url, url, block, html, second=self.second))
            self.spec["good_urls"].append(url)

    def bad(self, url: str, offset: int, reason: str, note: str, acceptable: tuple[str, ...] = ()) -> None:
        self.spec["bad_counts"][reason] = self.spec["bad_counts"].get(reason, 0) + 1
        entry = {"url": url, "offset": offset, "reason": reason, "note": note}
        if acceptable:
            entry["acceptable_reasons"] = [reason, *acceptable]
        self.spec["bad_records"].append(entry)

    def close(self) -> dict:
        self.handle.close()
        return self.spec


def bad_url(slug: str, what: str = "bad") -> str:
    return f"https://bad.hostile-news.test/{slug}/{what}.html"


# --------------------------------------------------------------------------------------------------------
# Cases


def case_truncated_member(out: Path, pages: GoodPages) -> tuple[str, dict]:
    f = WarcFile(out, "truncated_gzip_member.warc.gz", "1 truncated gzip member",
                 "The third response's gzip member is cut in the middle (headers survive, most of the payload and the "
                 "gzip trailer do not); good members follow it.", pages)
    f.good(2)
    url = bad_url(f.slug)
    html = article_html("Cut short", [ENGLISH_ITEMS[0][1], ENGLISH_ITEMS[1][1]], "en").encode()
    member = gz(response_record(url, url, http_head() + html, html, second=f.second))
    offset = f.offset
    f.handle.write(member[: len(member) // 2])
    f.second += 1
    f.bad(url, offset, "malformed", "gzip member cut mid-member; reading must resume at the next member")
    f.good(2)
    return f.name, f.close()


def case_content_length(out: Path, pages: GoodPages, too_large: bool) -> tuple[str, dict]:
    which = "too_large" if too_large else "too_small"
    f = WarcFile(out, f"content_length_{which}.warc.gz", "2 wrong WARC Content-Length",
                 ("Content-Length is 300 bytes more than the block: a reader trusting it runs into the next record."
                  if too_large else
                  "Content-Length is 300 bytes less than the block: the tail of the HTML is left where the next "
                  "record should start.") + " WARC-Block-Digest is that of the true block.", pages)
    f.good(2)
    url = bad_url(f.slug)
    html = article_html("Wrong length", [SWAHILI_ITEMS[0][1], SWAHILI_ITEMS[1][1]], "sw").encode()
    block = http_head() + html
    offset = f.raw(response_record(url, url, block, html, declared_length=len(block) + (300 if too_large else -300),
                                   second=f.second))
    f.bad(url, offset, "malformed", f"WARC Content-Length {which.replace('_', ' ')} (block digest mismatch)")
    f.good(2)
    return f.name, f.close()


def case_http(out: Path, pages: GoodPages, variant: str) -> tuple[str, dict]:
    html = article_html("Broken headers", [ENGLISH_ITEMS[2][1]], "en").encode()
    blocks = {
        "no_status_line": ("The HTTP block starts with a header line; there is no status line.",
                           b"Content-Type: text/html; charset=utf-8\r\nServer: hostile-fixture\r\n\r\n" + html),
        "garbage_status": ("The HTTP status line is binary garbage.",
                           b"\x8f\x00G\xfe\xa0 ?? \x01\x02\r\nContent-Type: text/html\r\n\r\n" + html),
        "no_blank_line": ("The HTTP headers are never ended by a blank line (the HTML follows the last header "
                          "line directly; the page has no blank line either).",
                          b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n" + html.replace(b"\n", b" ")),
    }
    description, block = blocks[variant]
    f = WarcFile(out, f"http_{variant}.warc.gz", "3 broken HTTP headers", description, pages)
    f.good(1)
    url = bad_url(f.slug)
    offset = f.raw(response_record(url, url, block, second=f.second))
    f.bad(url, offset, "malformed", f"bad HTTP header: {variant.replace('_', ' ')}")
    f.good(1)
    return f.name, f.close()


def png_bytes(width: int = 96, height: int = 96) -> bytes:
    rng = random.Random(SEED + 4)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\0" + bytes(rng.randrange(256) for _ in range(width * 3)) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def pdf_bytes() -> bytes:
    text = ("BT /F1 12 Tf 72 720 Td (Quarterly report of the harbour authority: cargo volumes rose by four "
            "percent.) Tj ET")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(text)} >>\nstream\n{text}\nendstream".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def case_non_html(out: Path, pages: GoodPages, kind: str) -> tuple[str, dict]:
    payload = png_bytes() if kind == "png" else pdf_bytes()
    f = WarcFile(out, f"non_html_{kind}.warc.gz", "4 non-HTML payload labelled text/html",
                 f"A {kind.upper()} file served with Content-Type: text/html. read.py does not sniff payloads yet.", pages)
    f.good(1)
    url = bad_url(f.slug, "download")
    offset = f.raw(response_record(url, url, http_head("text/html") + payload, payload, second=f.second))
    f.bad(url, offset, "non_html", f"{kind.upper()} magic bytes under a text/html label: sniff the payload")
    f.good(1)
    return f.name, f.close()


def case_charset(out: Path, pages: GoodPages, variant: str) -> tuple[str, dict]:
    if variant == "cp1251_declared_utf8":
        (title, paragraphs, word), lang = RUSSIAN_PAGE, "ru"
        payload = article_html(title, paragraphs, lang, charset="utf-8").encode("windows-1251")
        content_type = "text/html; charset=utf-8"
        description = "windows-1251 bytes declared as utf-8 in the HTTP header and <meta>: must be detected."
    else:
        (title, paragraphs, word), lang = JAPANESE_PAGE, "ja"
        payload = article_html(title, paragraphs, lang, charset=None).encode("shift_jis")
        content_type = "text/html"
        description = "Shift_JIS bytes with no charset in the HTTP header nor <meta>: must be detected."
    f = WarcFile(out, f"charset_{variant}.warc.gz", "5 wrong / missing charset", description, pages)
    f.good(1)
    url = f"https://{lang}.hostile-news.test/{f.slug}/weather.html"
    f.raw(response_record(url, url, http_head(content_type) + payload, payload, second=f.second))
    f.spec["good_urls"].append(url)
    f.spec["must_contain"][url] = word
    f.good(1)
    return f.name, f.close()


def case_invalid_utf8(out: Path, pages: GoodPages) -> tuple[str, dict]:
    title, parts, word = INVALID_UTF8_PAGE
    html = article_html(title, [f"{text}@@{index}@@" for index, (text, _) in enumerate(parts)], "en").encode("utf-8")
    for index, (_, junk) in enumerate(parts):
        html = html.replace(f"@@{index}@@".encode(), b" " + junk)
    f = WarcFile(out, "invalid_utf8.warc.gz", "6 invalid UTF-8 bytes",
                 "A UTF-8 page (declared utf-8) with accented words and three invalid byte sequences (\\xff, "
                 "\\xc3\\x28, a cut \\xe2\\x82): must be decoded as UTF-8 with replacement, not as a legacy charset.",
                 pages)
    f.good(1)
    url = f"https://en.hostile-news.test/{f.slug}/harbour-cafe.html"
    f.raw(response_record(url, url, http_head() + html, html, second=f.second))
    f.spec["good_urls"].append(url)
    f.spec["must_contain"][url] = word
    f.good(1)
    return f.name, f.close()


def _huge_chunks(total: int):
    """The 50 MB page as a stream of chunks: head, repeated paragraphs, tail; ``total`` bytes exactly."""
    head = b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Endless page</title></head><body><article>'
    tail = b"</article></body></html>"
    paragraphs = [f"<p>{text}</p>\n".encode() for _, text in ENGLISH_ITEMS]
    yield head
    left = total - len(head) - len(tail)
    index = 0
    while left > 0:
        piece = paragraphs[index % len(paragraphs)][:left]
        left -= len(piece)
        index += 1
        yield piece
    yield tail


def case_huge_page(out: Path, pages: GoodPages) -> tuple[str, dict]:
    f = WarcFile(out, "huge_page_50mb.warc.gz", "7 a 50 MB page",
                 f"A {HUGE_PAGE_BYTES:,} byte HTML page of repeated paragraphs (over the {MAX_PAYLOAD_BYTES:,} byte "
                 "per-record limit); written streaming.", pages)
    f.good(1)
    url = bad_url(f.slug, "endless")
    head = http_head(length=HUGE_PAGE_BYTES)
    block_hash, payload_hash = hashlib.sha1(head), hashlib.sha1()
    for piece in _huge_chunks(HUGE_PAGE_BYTES):
        block_hash.update(piece)
        payload_hash.update(piece)
    digest = lambda h: "sha1:" + base64.b32encode(h.digest()).decode("ascii")  # noqa: E731
    offset = f.offset
    with gzip.GzipFile(filename="", mode="wb", fileobj=f.handle, compresslevel=6, mtime=0) as member:
        member.write(warc_head("response", url, len(head) + HUGE_PAGE_BYTES, url, "application/http; msgtype=response",
                               digest(block_hash), digest(payload_hash), f.second))
        member.write(head)
        for piece in _huge_chunks(HUGE_PAGE_BYTES):
            member.write(piece)
        member.write(b"\r\n\r\n")
    f.second += 1
    f.bad(url, offset, "too_large", "50 MB payload over the per-record limit; skipped without reading it all into memory")
    f.good(1)
    return f.name, f.close()


def case_deep_nesting(out: Path, pages: GoodPages) -> tuple[str, dict]:
    f = WarcFile(out, "deep_nesting.warc.gz", "8 HTML nested 100,000 levels deep",
                 f"<div> nested {NESTING_DEPTH:,} levels deep around one paragraph: extraction must return (not "
                 "crash or hang); the page may be kept or dropped as extract:empty.", pages)
    f.good(1)
    url = bad_url(f.slug, "matryoshka")
    text = SWAHILI_ITEMS[14][1]
    html = ('<!DOCTYPE html>\n<html lang="sw"><head><meta charset="utf-8"><title>Ndani kabisa</title></head><body>'
            + "<div>" * NESTING_DEPTH + f"<p>{text}</p>" + "</div>" * NESTING_DEPTH + "</body></html>").encode()
    f.raw(response_record(url, url, http_head() + html, html, second=f.second))
    f.spec["documents"].append({"url": url, "allowed_outcomes": ["kept", "extract:empty"],
                                "note": "extraction must return without raising; extract:error means trafilatura raised"})
    f.good(1)
    return f.name, f.close()


def case_http_gzip_bomb(out: Path, pages: GoodPages) -> tuple[str, dict]:
    f = WarcFile(out, "http_gzip_bomb.warc.gz", "9 gzip bomb in the HTTP payload",
                 "HTTP payload with Content-Encoding: gzip (and Content-Type: text/html) expanding to 1 GiB of zeros; "
                 "the payload is about 1 MB (the file a few KB: its repeated deflate blocks compress again). A reader "
                 "that decodes Content-Encoding must stop at the size limit (too_large); one that does not must not "
                 "take the compressed bytes for HTML (non_html).", pages)
    f.good(1)
    url = bad_url(f.slug, "zeros")
    buffer = io.BytesIO()
    zero_bomb(buffer, b"", b"")
    payload = buffer.getvalue()
    block = http_head(extra=[("Content-Encoding", "gzip")], length=len(payload)) + payload
    offset = f.raw(response_record(url, url, block, payload, second=f.second))
    f.bad(url, offset, "too_large", "Content-Encoding: gzip expanding to 1 GiB", acceptable=("non_html",))
    f.good(1)
    return f.name, f.close()


def case_warc_gzip_bomb(out: Path, pages: GoodPages) -> tuple[str, dict]:
    f = WarcFile(out, "warc_gzip_bomb.warc.gz", "9 gzip bomb as a WARC member",
                 "One gzip member (about 1 MB) expanding to a response record with 1 GiB of NUL bytes labelled "
                 "text/html; over the per-record limit. No block digest (hashing 1 GiB is too slow for a fixture).",
                 pages)
    f.good(1)
    url = bad_url(f.slug, "zeros")
    head = http_head(length=BOMB_BYTES)
    prefix = warc_head("response", url, len(head) + BOMB_BYTES, url, "application/http; msgtype=response",
                       second=f.second) + head
    offset = f.offset
    zero_bomb(f.handle, prefix, b"\r\n\r\n")
    f.second += 1
    f.bad(url, offset, "too_large", "1 GiB record: skipped after the first 10 MiB, streaming")
    f.good(1)
    return f.name, f.close()


def _container_case(out: Path, name: str, case: str, description: str, data: bytes, counts: dict, note: str) -> tuple[str, dict]:
    (out / name).write_bytes(data)
    spec = {"case": case, "description": description, "good_urls": [], "bad_counts": counts, "bad_records": [],
            "documents": [], "must_contain": {}}
    for reason, count in counts.items():
        spec["bad_records"] += [{"url": None, "offset": 0, "reason": reason, "note": note}] * count
    return name, spec


def case_empty(out: Path) -> list[tuple[str, dict]]:
    return [
        _container_case(out, "empty.warc.gz", "10 empty file", "0 bytes: not even a gzip header (a failed download).",
                        b"", {"malformed": 1}, "a 0-byte .warc.gz is not a WARC file; report it rather than pass silently"),
        _container_case(out, "empty_gzip.warc.gz", "10 empty but valid gzip",
                        "A valid gzip member of zero bytes: an empty WARC, no records and nothing to report.",
                        gz(b""), {}, ""),
    ]


def case_not_warc(out: Path) -> list[tuple[str, dict]]:
    rng = random.Random(SEED + 11)
    words = [w for _, text in ENGLISH_ITEMS for w in text.lower().replace(".", "").replace(",", "").split()]
    lines = [" ".join(rng.choice(words) for _ in range(rng.randrange(6, 16))) for _ in range(400)]
    text = ("\n".join(lines) + "\n").encode()
    note = "no WARC record can be read from the file; report it once rather than yield nothing silently"
    return [
        _container_case(out, "not_warc_text.warc.gz", "11 not a WARC file",
                        "Random English words, uncompressed, under a .warc.gz name.", text, {"malformed": 1}, note),
        _container_case(out, "not_warc_plain.warc", "11 not a WARC file",
                        "Random English words under a .warc name.", text[: len(text) // 2], {"malformed": 1}, note),
    ]


def case_control(out: Path, pages: GoodPages) -> tuple[str, dict]:
    f = WarcFile(out, "control.warc.gz", "control", "Good records only: the baseline every other file is compared to.", pages)
    f.good(3)
    return f.name, f.close()


def build_hostile_suite(out_dir: Path) -> dict:
    """Write every hostile file and ``expected.json`` into ``out_dir``; return the expectations."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pages = GoodPages()
    cases = [
        case_control(out, pages),
        case_truncated_member(out, pages),
        case_content_length(out, pages, too_large=True),
        case_content_length(out, pages, too_large=False),
        *(case_http(out, pages, variant) for variant in ("no_status_line", "garbage_status", "no_blank_line")),
        case_non_html(out, pages, "png"),
        case_non_html(out, pages, "pdf"),
        case_charset(out, pages, "cp1251_declared_utf8"),
        case_charset(out, pages, "sjis_undeclared"),
        case_invalid_utf8(out, pages),
        case_huge_page(out, pages),
        case_deep_nesting(out, pages),
        case_http_gzip_bomb(out, pages),
        case_warc_gzip_bomb(out, pages),
        *case_empty(out),
        *case_not_warc(out),
    ]
    expected = {
        "about": "Hostile inputs for longtail's read + extract stages; see scripts/make_hostile_inputs.py.",
        "max_payload_bytes": MAX_PAYLOAD_BYTES,
        "read_reasons": ["malformed", "non_html", "too_large"],
        "document_reasons": ["extract:empty", "extract:error"],
        "fields": {
            "good_urls": "records that must come out of read + extract as documents with non-empty text",
            "bad_counts": "exact ReadReport.records count per read-level reason (absent reason = 0)",
            "bad_records": "each bad record: url (null if the file has none), offset of the record in the file as "
                           "stored, expected reason (acceptable_reasons if more than one is right)",
            "documents": "records that reach extraction but may be dropped there: allowed outcomes",
            "must_contain": "url -> a word the extracted text must contain (charset decoded right)",
        },
        "files": dict(cases),
    }
    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return expected


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        print(__doc__.split("Usage:")[-1].strip(), file=sys.stderr)
        return 2
    expected = build_hostile_suite(Path(argv[0]))
    for name, spec in expected["files"].items():
        size = (Path(argv[0]) / name).stat().st_size
        print(f"{name:40s} {size:>10,} bytes  good={len(spec['good_urls'])} bad={spec['bad_counts']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

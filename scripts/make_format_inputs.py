#!/usr/bin/env python
"""Write one small input file per format longtail reads (and a few it must refuse), in the layouts real crawlers
produce, plus ``expected.json``: which URLs each file must yield as documents and how its other records count.

Readable files (pages are short news briefs composed for this script, English, plus Japanese in EUC-JP):
  cc_warc10.warc.gz          WARC/1.0, one gzip member per record, warcinfo + request/response/metadata
                             triples (the Common Crawl WARC layout), one 404 and one image among the responses
  warc11.warc.gz             WARC/1.1 (microsecond WARC-Date), one gzip member per record
  wholefile_warc10.warc.gz   WARC/1.0 compressed as one gzip stream (``gzip file.warc``), not per record
  cc.warc.wet.gz             WET: warcinfo + ``conversion`` records (text already extracted, text/plain), the
                             Common Crawl WET layout (WARC-Refers-To, WARC-Identified-Content-Language, digests)
  ja0000/00.warc.gz          ClueWeb09-style WARC/0.18: LF line endings, whole-file gzip, Content-Length counted
                             with CRLFs (so it is wrong), warcinfo with a bogus date, WARC-TREC-ID, an empty
                             WARC-Identified-Payload-Type, a URL with raw EUC-JP bytes; Japanese pages in EUC-JP
                             (charset in the HTTP header / only in <meta> / nowhere), one with ``Content-Encoding:
                             gzip`` kept over an already decoded payload, one without any Content-Type
  ia_v1.arc.gz               ARC v1, one gzip member per record (Internet Archive layout): filedesc record, HTML
                             pages, a ``dns:`` record, a 404, an image, a URL with a space (Common Crawl's ARC quirk)
  alexa_v2.arc               ARC v2 (10-field headers), uncompressed
  dolma.jsonl.gz             JSON Lines (id, text, url, date, source, metadata), gzip
  fineweb.parquet            Parquet with FineWeb-like columns (text, id, dump, url, date, language, ...)

Refused before the run (``expected["refused"]``: file -> a word the reason must hold):
  cc.warc.wat.gz, wat_renamed.warc.gz (a WAT under a WARC name), empty.warc.gz, html_page.warc.gz (an HTML page
  under a WARC name), bad_gzip.warc.gz (a gzip header over garbage), notes.txt, no_text.parquet (no text column),
  not_json.jsonl

Fails while read (``expected["fails"]``): corrupt_page.parquet, a valid footer over a damaged data page.

Deterministic (fixed dates, ids, gzip mtime 0). Usage: .venv/bin/python scripts/make_format_inputs.py OUT_DIR
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import sys
import uuid
from pathlib import Path

ID_NAMESPACE = uuid.UUID("5d0b1f3e-7a21-4c4e-9b0d-3f6a2e8c1d47")

ENGLISH = [
    (
        "Morning market prices",
        [
            "Tomato prices fell again at the central market on Monday as the first lorries from the southern farms arrived before dawn.",
            "Traders said a crate now costs less than half of what it did a month ago, and several stalls had sold out of onions by nine o'clock.",
            "Shoppers who came early found the best peppers, "
            "while those who waited until noon were left with bruised fruit and long queues at the bread counter.",
        ],
    ),
    (
        "School garden wins a prize",
        [
            "Pupils at the hill school have won the regional prize for their vegetable garden, which they planted in an old car park behind the gym.",
            "The children grow beans, cabbages and herbs, and the kitchen uses them for lunches twice a week.",
            "Their teacher said the best part was watching shy pupils explain to the judges how they keep snails away without using any poison.",
        ],
    ),
    (
        "River ferry returns",
        [
            "The small ferry across the river is running again after three weeks of repairs to its engine and its wooden landing stage.",
            "Commuters cheered when the first crossing left at half past six, because the bridge detour had added forty minutes to their journey.",
            "The operator promised a timetable with an extra evening boat during the summer festival, when the town expects many visitors.",
        ],
    ),
    (
        "Football club opens its doors",
        [
            "The local football club invited families to its training ground on Saturday to watch the youth teams and try a few drills themselves.",
            "Coaches set up small goals for the youngest children, and a retired player signed shirts for more than an hour.",
            "The club hopes the open day will bring new volunteers, since it needs drivers for away matches and help in the kitchen.",
        ],
    ),
    (
        "Rain brings relief to farmers",
        [
            "Two days of steady rain have filled the reservoirs that supply the valley, ending a dry spell that worried farmers since early spring.",
            "Maize fields that had turned yellow are green again, and the cooperative expects a normal harvest if the weather holds.",
            "The water board said it would lift the ban on garden hoses next week, but asked people to keep saving water anyway.",
        ],
    ),
    (
        "Library starts evening classes",
        [
            "The town library will offer free evening classes in writing letters, using a computer and reading timetables, starting next month.",
            "Volunteers from the teachers' association will run the sessions in the reading room on Tuesdays and Thursdays.",
            "The librarian said that many older residents had asked for help with forms and that the first classes were already almost full.",
        ],
    ),
    (
        "Bakery celebrates fifty years",
        [
            "The family bakery on the corner of the square has been baking bread for fifty years, and the owners marked the day with free rolls for everyone.",
            "The founder's granddaughter now runs the ovens and still uses the sourdough starter her grandmother kept in a clay jar.",
            "Neighbours queued along the street, and a brass band played old songs while the children decorated biscuits.",
        ],
    ),
    (
        "Bus route changes in the north",
        [
            "From Monday the number twelve bus will stop at the new clinic instead of the old post office, which closed in the winter.",
            "Passengers from the northern estates welcomed the change, since many of them visit the clinic every week.",
            "The transport office said the first bus will leave ten minutes earlier so that workers can still reach the factory before their shift begins.",
        ],
    ),
    (
        "Festival of lanterns",
        [
            "Hundreds of paper lanterns lit up the harbour on Friday night for the annual festival that marks the end of the fishing season.",
            "Families wrote wishes on the lanterns before setting them on the water, and the fishermen's choir sang from the pier.",
            "Organisers collected the lanterns from the water at dawn so that none of the paper would be left to drift into the bay.",
        ],
    ),
    (
        "A recipe for lentil soup",
        [
            "Soak a cup of red lentils for an hour, then cook them slowly with a chopped onion, two carrots and a little garlic.",
            "Add a spoon of cumin and a squeeze of lemon at the end, and the soup will taste of much more than its few simple ingredients.",
            "Readers who tried the recipe last winter wrote to say that it keeps well for three days and tastes even better the next morning.",
        ],
    ),
]

JAPANESE = [
    (
        "朝市の野菜の値段",
        [
            "月曜日の朝、中央市場ではトマトの値段がまた下がりました。南の農家から最初のトラックが夜明け前に着いたためです。",
            "商人たちによると、一箱の値段は先月の半分以下になり、九時には玉ねぎが売り切れた店もありました。",
            "早く来た買い物客は一番良いピーマンを選べましたが、昼まで待った人はパン売り場の長い列に並ぶことになりました。",
        ],
    ),
    (
        "学校の菜園が賞を受ける",
        [
            "丘の上の小学校の子どもたちが、体育館の裏の古い駐車場に作った野菜畑で地域の賞を受けました。",
            "子どもたちは豆やキャベツやハーブを育て、給食の調理室では週に二回それを使っています。",
            "先生は、恥ずかしがりの子どもが審査員に毒を使わずにカタツムリを防ぐ方法を説明する姿を見るのが一番うれしかったと話しました。",
        ],
    ),
    (
        "川の渡し船が再開",
        [
            "エンジンと木の船着き場の修理のため三週間止まっていた川の小さな渡し船が、また動き始めました。",
            "橋を回る道は通勤に四十分も余計にかかっていたので、六時半の最初の便が出ると通勤客から拍手が起こりました。",
            "運航会社は、多くの観光客が来る夏祭りの間は夕方の便を一本増やすと約束しました。",
        ],
    ),
    (
        "図書館の夜の教室",
        [
            "町の図書館は来月から、手紙の書き方やコンピューターの使い方、時刻表の読み方を学ぶ無料の夜の教室を始めます。",
            "教師の会のボランティアが、火曜日と木曜日に閲覧室で授業を行います。",
            "図書館の人は、書類の書き方を手伝ってほしいという年配の住民の声が多く、最初の教室はもうほとんど満員だと話しました。",
        ],
    ),
]

CC_DATE = "2024-02-21T{:02d}:{:02d}:{:02d}Z"


# --- building blocks -------------------------------------------------------------------------------------------
def record_id(key: str) -> str:
    return f"<urn:uuid:{uuid.uuid5(ID_NAMESPACE, key)}>"


def sha1_b32(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def html_page(title: str, paragraphs: list[str], charset: str | None = "utf-8", lang: str = "en") -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if charset else ""
    body = "".join(f"<p>{p}</p>\n" for p in paragraphs)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head>{meta}<title>{title}</title></head>\n<body>\n'
        f'<div class="menu"><a href="/">Home</a> | <a href="/news">News</a></div>\n'
        f'<article><h1>{title}</h1>\n{body}</article>\n<div class="footer">Town News 2024</div>\n</body></html>\n'
    )


def http_response(
    body: bytes, content_type: str | None = "text/html; charset=utf-8", status: str = "200 OK", eol: bytes = b"\r\n", extra: tuple[str, ...] = ()
) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Server: Apache", "Date: Wed, 21 Feb 2024 06:00:00 GMT"]
    if content_type:
        lines.append(f"Content-Type: {content_type}")
    lines += list(extra) + [f"Content-Length: {len(body)}"]
    return eol.join(line.encode("latin-1") for line in lines) + eol + eol + body


def warc_record(version: str, fields: list[tuple[str, str]], block: bytes, eol: bytes = b"\r\n", declared_length: int | None = None) -> bytes:
    head = [version.encode()] + [f"{k}: {v}".encode("utf-8", "surrogateescape") for k, v in fields]
    head.append(f"Content-Length: {len(block) if declared_length is None else declared_length}".encode())
    return eol.join(head) + eol + eol + block + eol + eol


class Pages:
    """Unique English pages, handed out in order."""

    def __init__(self):
        self.index = 0

    def next(self, host: str) -> tuple[str, bytes]:
        title, paragraphs = ENGLISH[self.index % len(ENGLISH)]
        round_ = self.index // len(ENGLISH)
        self.index += 1
        slug = title.lower().replace(" ", "-").replace("'", "")
        extra = [f"This is edition {round_ + 1} of the story, filed from {host}."] if round_ else []
        return f"https://{host}/news/{slug}", html_page(title, paragraphs + extra).encode("utf-8")


# --- WARC 1.0 / 1.1, WET, WAT ----------------------------------------------------------------------------------
def _warcinfo(version: str, name: str, extra: str = "") -> bytes:
    block = (
        f"software: longtail-format-suite\r\nformat: WARC File Format {version[5:]}\r\nisPartOf: FORMAT-SUITE\r\nWARC-Filename: {name}\r\n{extra}"
    ).encode()
    return warc_record(
        version,
        [
            ("WARC-Type", "warcinfo"),
            ("WARC-Date", CC_DATE.format(6, 0, 0)),
            ("WARC-Filename", name),
            ("WARC-Record-ID", record_id(name + "/warcinfo")),
            ("Content-Type", "application/warc-fields"),
        ],
        block,
    )


def _response_triple(version: str, name: str, n: int, url: str, http: bytes, date: str) -> list[bytes]:
    """request, response, metadata: the records Common Crawl writes for one fetch."""
    request = (
        f"GET {url.split('/', 3)[-1] and '/' + url.split('/', 3)[-1]} HTTP/1.1\r\nHost: {url.split('/')[2]}\r\nUser-Agent: FormatSuiteBot/1.0\r\n\r\n".encode()
    )
    rid = record_id(f"{name}/{n}/response")
    base = [("WARC-Date", date), ("WARC-Target-URI", url)]
    meta = b"fetchTimeMs: 120\r\ncharset-detected: UTF-8\r\n"
    return [
        warc_record(
            version,
            [
                ("WARC-Type", "request"),
                *base,
                ("WARC-Record-ID", record_id(f"{name}/{n}/request")),
                ("Content-Type", "application/http; msgtype=request"),
                ("WARC-Block-Digest", sha1_b32(request)),
            ],
            request,
        ),
        warc_record(
            version,
            [
                ("WARC-Type", "response"),
                *base,
                ("WARC-Record-ID", rid),
                ("Content-Type", "application/http; msgtype=response"),
                ("WARC-IP-Address", "192.0.2.10"),
                ("WARC-Block-Digest", sha1_b32(http)),
            ],
            http,
        ),
        warc_record(
            version,
            [
                ("WARC-Type", "metadata"),
                *base,
                ("WARC-Record-ID", record_id(f"{name}/{n}/metadata")),
                ("WARC-Concurrent-To", rid),
                ("Content-Type", "application/warc-fields"),
            ],
            meta,
        ),
    ]


def write_warc(out: Path, name: str, version: str, pages: Pages, host: str, count: int, per_record_gzip: bool = True, extras: bool = False) -> dict:
    records, urls, counts = [_warcinfo(version, name)], [], {"warcinfo": 1, "response": 0, "request": 0, "metadata": 0}
    date = "2024-02-21T06:{:02d}:{:02d}.123456Z" if version == "WARC/1.1" else "2024-02-21T06:{:02d}:{:02d}Z"
    fetches = [pages.next(host) for _ in range(count)]
    if extras:
        fetches.append((f"https://{host}/missing", b"<html><body>Not found</body></html>", "404 Not Found", "text/html"))
        fetches.append((f"https://{host}/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(64), "200 OK", "image/png"))
    for n, fetch in enumerate(fetches):
        url, body = fetch[0], fetch[1]
        status, ctype = (fetch[2], fetch[3]) if len(fetch) > 2 else ("200 OK", "text/html; charset=utf-8")
        records += _response_triple(version, name, n, url, http_response(body, ctype, status), date.format(n // 60, n % 60))
        counts.update(response=counts["response"] + 1, request=counts["request"] + 1, metadata=counts["metadata"] + 1)
        if status.startswith("200") and ctype.startswith("text/html"):
            urls.append(url)
        elif status.startswith("200"):
            counts["non_html"] = counts.get("non_html", 0) + 1
        else:
            counts["non_200"] = counts.get("non_200", 0) + 1
    path = out / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(gz(r) for r in records) if per_record_gzip else gz(b"".join(records)))
    return {"format": version, "documents": urls, "records": counts}


def write_wet(out: Path, name: str, pages: Pages, host: str, count: int) -> dict:
    extra = (
        "Software-Info: format-suite-extractor 1.0\r\nExtracted-Date: Thu, 22 Feb 2024 10:00:00 GMT\r\n"
        "robots: checked\r\nisPartOf: FORMAT-SUITE\r\noperator: nobody\r\ndescription: WET test file\r\n"
    )
    records, urls, texts = [_warcinfo("WARC/1.0", name, extra)], [], {}
    for n in range(count):
        url, _ = pages.next(host)
        title, paragraphs = ENGLISH[(pages.index - 1) % len(ENGLISH)]
        text = title + "\n" + "\n".join(paragraphs) + "\n"
        block = text.encode("utf-8")
        records.append(
            warc_record(
                "WARC/1.0",
                [
                    ("WARC-Type", "conversion"),
                    ("WARC-Target-URI", url),
                    ("WARC-Date", CC_DATE.format(7, 0, n)),
                    ("WARC-Record-ID", record_id(f"{name}/{n}")),
                    ("WARC-Refers-To", record_id(f"{name}/{n}/response")),
                    ("WARC-Block-Digest", sha1_b32(block)),
                    ("WARC-Identified-Content-Language", "eng"),
                    ("Content-Type", "text/plain"),
                ],
                block,
            )
        )
        urls.append(url)
        texts[url] = paragraphs[1]
    (out / name).write_bytes(b"".join(gz(r) for r in records))
    return {"format": "WET", "documents": urls, "records": {"warcinfo": 1, "text_record": count}, "texts": texts}


def write_wat(path: Path, name: str, count: int = 3) -> None:
    records = [_warcinfo("WARC/1.0", name)]
    for n in range(count):
        envelope = {
            "Envelope": {
                "Format": "WARC",
                "WARC-Header-Metadata": {"WARC-Type": "response", "WARC-Target-URI": f"https://wat.example.test/{n}"},
                "Payload-Metadata": {
                    "HTTP-Response-Metadata": {"Response-Message": {"Status": "200"}, "HTML-Metadata": {"Head": {"Title": f"Page {n}"}, "Links": []}}
                },
            }
        }
        block = json.dumps(envelope).encode()
        records.append(
            warc_record(
                "WARC/1.0",
                [
                    ("WARC-Type", "metadata"),
                    ("WARC-Target-URI", f"https://wat.example.test/{n}"),
                    ("WARC-Date", CC_DATE.format(8, 0, n)),
                    ("WARC-Record-ID", record_id(f"{name}/{n}")),
                    ("WARC-Refers-To", record_id(f"{name}/{n}/response")),
                    ("Content-Type", "application/json"),
                ],
                block,
            )
        )
    path.write_bytes(b"".join(gz(r) for r in records))


# --- ClueWeb09 (WARC/0.18) -------------------------------------------------------------------------------------
def write_clueweb09(out: Path) -> dict:
    name = "ja0000/00.warc.gz"
    info = (
        "software: Nutch 1.0-dev (modified for clueweb09)\nisPartOf: clueweb09-ja\n"
        "description: clueweb09 crawl with WARC output\nformat: WARC file version 0.18\n"
        "conformsTo: http://www.archive.org/documents/WarcFileFormat-0.18.html\n"
    ).encode()
    warcinfo_id = str(uuid.uuid5(ID_NAMESPACE, "clueweb/warcinfo"))
    records = [
        warc_record(
            "WARC/0.18",
            [
                ("WARC-Type", "warcinfo"),
                ("WARC-Date", "2009-03-65T08:43:19-0800"),
                ("WARC-Record-ID", f"<urn:uuid:{warcinfo_id}>"),
                ("Content-Type", "application/warc-fields"),
            ],
            info,
            eol=b"\n",
            declared_length=len(info) + info.count(b"\n"),
        )
    ]
    urls, must_contain = [], {}
    variants = ["header", "meta", "none", "gzip_kept"]
    for n, (title, paragraphs) in enumerate(JAPANESE):
        variant = variants[n]
        html = html_page(title, paragraphs, charset="EUC-JP" if variant == "meta" else None, lang="ja")
        body = html.encode("euc_jp")
        ctype = "text/html; charset=EUC-JP" if variant in ("header", "gzip_kept") else "text/html"
        extra = ("Content-Encoding: gzip",) if variant == "gzip_kept" else ()
        http = http_response(body, ctype, eol=b"\n", extra=extra)
        if n == 0:  # a URL holding raw EUC-JP bytes, as ClueWeb09's do
            url_bytes = "http://www.nihon-shinbun.test/ニュース/朝市.html".encode("euc_jp")
            url_text = url_bytes.decode("utf-8", "surrogateescape")
        else:
            url_text = f"http://www{n}.nihon-shinbun.test/news/{n:04d}.html"
        fields = [
            ("WARC-Type", "response"),
            ("WARC-Target-URI", url_text),
            ("WARC-Warcinfo-ID", warcinfo_id),
            ("WARC-Date", f"2009-01-13T2{n}:10:00-0800"),
            ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid5(ID_NAMESPACE, f'clueweb/{n}')}>"),
            ("WARC-TREC-ID", f"clueweb09-ja0000-00-{n:05d}"),
            ("Content-Type", "application/http;msgtype=response"),
            ("WARC-Identified-Payload-Type", ""),
        ]
        # the Content-Length of the file as first written (CRLF line ends), not of the LF-only bytes that remain
        records.append(warc_record("WARC/0.18", fields, http, eol=b"\n", declared_length=len(http) + http.count(b"\n")))
        urls.append(None if n == 0 else url_text)
        must_contain[str(n)] = paragraphs[0][:12]
    # a page served without any Content-Type header
    title, paragraphs = ENGLISH[0][0] + " (archived)", ENGLISH[0][1]
    body = html_page(title, paragraphs).encode("utf-8")
    http = http_response(body, None, eol=b"\n")
    url = "http://archive.example-news.test/old/market.html"
    records.append(
        warc_record(
            "WARC/0.18",
            [
                ("WARC-Type", "response"),
                ("WARC-Target-URI", url),
                ("WARC-Warcinfo-ID", warcinfo_id),
                ("WARC-Date", "2009-01-14T01:00:00-0800"),
                ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid5(ID_NAMESPACE, 'clueweb/en')}>"),
                ("WARC-TREC-ID", "clueweb09-ja0000-00-00004"),
                ("Content-Type", "application/http;msgtype=response"),
                ("WARC-Identified-Payload-Type", ""),
            ],
            http,
            eol=b"\n",
            declared_length=len(http) + http.count(b"\n"),
        )
    )
    urls.append(url)
    path = out / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gz(b"".join(records)))
    return {
        "format": "WARC/0.18 (ClueWeb09)",
        "documents": urls,
        "records": {"warcinfo": 1, "response": len(records) - 1},
        "raw_url_prefix": "http://www.nihon-shinbun.test/%",
        "japanese": must_contain,
    }


# --- ARC -------------------------------------------------------------------------------------------------------
def _arc_record(header: str, block: bytes) -> bytes:
    return f"{header} {len(block)}\n".encode("latin-1") + block + b"\n"


def write_arc_v1(out: Path, pages: Pages) -> dict:
    name = "ia_v1.arc.gz"
    desc = b"1 0 InternetArchive\nURL IP-address Archive-date Content-type Archive-length\n"
    records = [_arc_record(f"filedesc://{name[:-3]} 0.0.0.0 20080301120000 text/plain", desc)]
    dns = b"20080301120000\nnews.arc-archive.test.\t600\tIN\tA\t192.0.2.20\n"
    records.append(_arc_record("dns:news.arc-archive.test 192.0.2.53 20080301120000 text/dns", dns))
    urls = []
    for n in range(3):
        url, body = pages.next("news.arc-archive.test")
        records.append(_arc_record(f"{url} 192.0.2.20 2008030112{n:02d}01 text/html", http_response(body, "text/html")))
        urls.append(url)
    records.append(
        _arc_record(
            "http://news.arc-archive.test/gone 192.0.2.20 20080301121001 text/html",
            http_response(b"<html><body>gone</body></html>", "text/html", "404 Not Found"),
        )
    )
    records.append(_arc_record("http://news.arc-archive.test/logo.gif 192.0.2.20 20080301121101 image/gif", http_response(b"GIF89a" + bytes(40), "image/gif")))
    url, body = pages.next("news.arc-archive.test")
    spaced = url.replace("/news/", "/news archive/")
    records.append(_arc_record(f"{spaced} 192.0.2.20 20080301121201 text/html", http_response(body, "text/html")))
    urls.append(spaced.replace(" ", "%20"))
    (out / name).write_bytes(b"".join(gz(r) for r in records))
    return {"format": "ARC v1", "documents": urls, "records": {"warcinfo": 1, "resource": 1, "response": 6, "non_200": 1, "non_html": 1}}


def write_arc_v2(out: Path, pages: Pages) -> dict:
    name = "alexa_v2.arc"
    desc = b"2 0 Alexa Internet\nURL IP-address Archive-date Content-type Result-code Checksum Location Offset Filename Archive-length\n"
    records = [_arc_record(f"filedesc://{name} 0.0.0.0 19990101000000 text/plain 200 - - 0 {name}", desc)]
    urls, offset = [], len(records[0])
    for n in range(2):
        url, body = pages.next("v2.arc-archive.test")
        record = _arc_record(f"{url} 192.0.2.30 1999010100{n:02d}00 text/html 200 - - {offset} {name}", http_response(body, "text/html"))
        records.append(record)
        offset += len(record)
        urls.append(url)
    (out / name).write_bytes(b"".join(records))
    return {"format": "ARC v2", "documents": urls, "records": {"warcinfo": 1, "response": 2}}


# --- text formats ----------------------------------------------------------------------------------------------
def _text_rows(host: str, first: int, count: int) -> list[dict]:
    rows = []
    for n in range(count):
        title, paragraphs = ENGLISH[(first + n) % len(ENGLISH)]
        rows.append(
            {"id": f"{host}-{n}", "text": title + "\n\n" + "\n\n".join(paragraphs), "url": f"https://{host}/doc/{n}", "date": "2024-01-0{}".format(n + 1)}
        )
    return rows


def write_jsonl(out: Path) -> dict:
    rows = [dict(r, source="format-suite", added="2024-03-01T00:00:00Z", metadata={"license": "composed"}) for r in _text_rows("jsonl.example.test", 2, 3)]
    with gzip.GzipFile(out / "dolma.jsonl.gz", "wb", mtime=0) as handle:
        handle.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode())
    return {"format": "JSONL", "documents": [r["url"] for r in rows], "records": {"text_record": 3}}


def write_parquet(out: Path) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        dict(r, dump="CC-MAIN-2024-10", file_path="s3://bucket/x.warc.gz", language="en", language_score=0.98, token_count=120)
        for r in _text_rows("parquet.example.test", 5, 3)
    ]
    pq.write_table(pa.Table.from_pylist(rows), out / "fineweb.parquet")
    return {"format": "Parquet", "documents": [r["url"] for r in rows], "records": {"text_record": 3}}


def write_corrupt_parquet(path: Path) -> None:
    """A Parquet file whose footer reads but whose data page does not decompress (a damaged copy)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _text_rows("corrupt.example.test", 0, 40)
    pq.write_table(pa.Table.from_pylist(rows), path, compression="zstd", use_dictionary=False)
    data = bytearray(path.read_bytes())
    column = pq.ParquetFile(path).metadata.row_group(0).column(1)  # the text column's pages
    start = column.data_page_offset  # the page header: its sizes and encodings no longer parse
    data[start : start + 24] = b"\xff" * 24
    path.write_bytes(bytes(data))


def write_refused(out: Path) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    write_wat(out / "cc.warc.wat.gz", "cc.warc.wat.gz")
    write_wat(out / "wat_renamed.warc.gz", "wat_renamed.warc.gz")
    (out / "empty.warc.gz").write_bytes(b"")
    (out / "html_page.warc.gz").write_bytes(html_page("Not an archive", ["Just a page saved under the wrong name."]).encode())
    (out / "bad_gzip.warc.gz").write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + bytes(range(7, 250)))
    (out / "notes.txt").write_text("notes, not an input\n")
    pq.write_table(pa.table({"body": ["some text"], "url": ["https://x.test/"]}), out / "no_text.parquet")
    (out / "not_json.jsonl").write_text('this is not json\n{"text": "later row"}\n')
    return {
        "cc.warc.wat.gz": "WAT",
        "wat_renamed.warc.gz": "WAT",
        "empty.warc.gz": "empty",
        "html_page.warc.gz": "not a WARC",
        "bad_gzip.warc.gz": "gzip",
        "notes.txt": "format",
        "no_text.parquet": "column",
        "not_json.jsonl": "JSON",
    }


def build_format_suite(out_dir: Path) -> dict:
    """Write every file and ``expected.json`` into ``out_dir``; return the expectations."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pages = Pages()
    files = {
        "cc_warc10.warc.gz": write_warc(out, "cc_warc10.warc.gz", "WARC/1.0", pages, "cc.example-news.test", 3, extras=True),
        "warc11.warc.gz": write_warc(out, "warc11.warc.gz", "WARC/1.1", pages, "warc11.example-news.test", 2),
        "wholefile_warc10.warc.gz": write_warc(out, "wholefile_warc10.warc.gz", "WARC/1.0", pages, "whole.example-news.test", 3, per_record_gzip=False),
        "cc.warc.wet.gz": write_wet(out, "cc.warc.wet.gz", pages, "wet.example-news.test", 3),
        "ja0000/00.warc.gz": write_clueweb09(out),
        "ia_v1.arc.gz": write_arc_v1(out, pages),
        "alexa_v2.arc": write_arc_v2(out, pages),
        "dolma.jsonl.gz": write_jsonl(out),
        "fineweb.parquet": write_parquet(out),
    }
    write_corrupt_parquet(out / "corrupt_page.parquet")
    expected = {"files": files, "refused": write_refused(out), "fails": ["corrupt_page.parquet"]}
    (out / "expected.json").write_text(json.dumps(expected, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return expected


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1 or argv[0].startswith("-"):
        print(__doc__.split("Usage:")[-1].strip(), file=sys.stderr)
        return 2
    expected = build_format_suite(Path(argv[0]))
    for name, spec in expected["files"].items():
        print(f"{name:28s} {spec['format']:24s} documents={len(spec['documents'])} records={spec['records']}")
    print("refused:", ", ".join(expected["refused"]), "| fails:", ", ".join(expected["fails"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

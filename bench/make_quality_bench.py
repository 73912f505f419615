#!/usr/bin/env python
"""Build the quality bench of issue 12 (bench/data/quality/) from the real-data development bench (bench/data/).

Input: bench/data/text/<label>.jsonl (real documents, individual ISO 639-3 labels) and bench/data/pages/ (real HTML
pages with gold text), both made by bench/build_real_bench.py (docs/bench.md).  Nothing is downloaded.

Output (never committed, bench/data/ is ignored):
  quality/quality_bench.warc.gz   WARC/1.0: one warcinfo record, then HTTP 200 utf-8 HTML response records
  quality/truth.jsonl             one line per response record: url, kind, lang_script (canonical, macro-folded),
                                  script, source, group, origin (the real document a page was made from), lid_known
  quality/summary.json            counts per kind / script group / language

Kinds
  good                 real documents, up to --per-language per label (stratified, seeded), wrapped in a small
                       realistic HTML page (bench/build_real_bench.py wrap_html: title, nav, article, footer), plus
                       every real HTML page of bench/data/pages with a gold text (whole pages: the pipeline extracts)
  no_article           the real pages whose gold text is empty (the benchmark says: no article); reported apart
  word_salad           the words of one real document shuffled
  keyword_stuffing     4-6 words of the language repeated in lines, little else
  boilerplate_only     only navigation, category lists, pagination, cookie banner and copyright lines
  repeated_sentences   2-3 real sentences of a document repeated to page length
  mojibake             a real document double-encoded: UTF-8 bytes read as cp1252 (undefined bytes as latin-1)
  scrambled_letters    letters shuffled inside every word, first and last kept
  price_spam           product lines: real words as product names, model numbers, prices, currency, discounts,
                       star ratings and a "buy now" call in the script's big languages
  templated            machine-made pages: one template sentence (from a real sentence) with slots filled by other
                       words and numbers; all pages of a script group share one site

Junk is made per script group (Latn, Cyrl, Arab, Deva, Hani+Jpan, Armn, Ethi, Grek, Hebr, Geor, Hang, Thai, other
Indic, other) from documents NOT in the good sample, cycling over the group's languages (languages the default LID
ensemble can name first, so that junk reaches the quality filters instead of stopping at LID).  URLs are unique and
deterministic, each page on its own host except `templated`.  Randomness: only `random.Random` instances seeded
from --seed and a fixed string; two builds are byte-identical.

Usage: .venv/bin/python bench/make_quality_bench.py [--data bench/data] [--per-language 12] [--seed 12]
"""
from __future__ import annotations

import argparse
import hashlib
import html
import json
import random
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import regex

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import build_real_bench as B  # noqa: E402  (wrap_html, WarcOut, script_of, decode_html, as_utf8_page, LANG1_TO_3)

try:
    from longtail.langid.labels import canonical_language
except Exception:  # the bench can be built without the package; labels then stay individual
    def canonical_language(code: str, policy: str = "macro") -> str:  # type: ignore[misc]
        return code

JUNK_KINDS = ("word_salad", "keyword_stuffing", "boilerplate_only", "repeated_sentences", "mojibake",
              "scrambled_letters", "price_spam", "templated")

# script -> group; the group is the unit junk is stratified over
GROUP_OF_SCRIPT = {"Latn": "Latn", "Cyrl": "Cyrl", "Arab": "Arab", "Deva": "Deva", "Hani": "CJK", "Jpan": "CJK",
                   "Armn": "Armn", "Ethi": "Ethi", "Grek": "Grek", "Hebr": "Hebr", "Geor": "Geor", "Hang": "Hang",
                   "Kore": "Hang", "Thai": "Thai",
                   "Beng": "Indic", "Gujr": "Indic", "Guru": "Indic", "Mlym": "Indic", "Orya": "Indic",
                   "Sinh": "Indic", "Taml": "Indic", "Telu": "Indic"}
JUNK_PER_KIND = {"Latn": 25, "Cyrl": 15, "Arab": 15}  # other groups: DEFAULT_JUNK_PER_KIND
DEFAULT_JUNK_PER_KIND = 12

CURRENCY = {"Latn": ["€", "$", "₦", "KSh", "R$", "S/", "£"], "Cyrl": ["₽", "₸", "сом", "лв", "₴"],
            "Arab": ["ر.س", "د.إ", "﷼", "Rs", "$"], "Deva": ["₹", "रु", "Rs."], "CJK": ["¥", "元", "円"],
            "Armn": ["֏", "$"], "Ethi": ["ብር", "Br", "$"], "Grek": ["€"], "Hebr": ["₪", "$"], "Geor": ["₾", "$"],
            "Hang": ["₩", "원"], "Thai": ["฿", "บาท"], "Indic": ["₹", "Rs", "රු"], "other": ["$", "€", "CA$"]}
BUY = {"Latn": ["Buy now", "Comprar ahora", "Acheter maintenant", "Jetzt kaufen", "Nunua sasa", "Add to cart"],
       "Cyrl": ["Купить", "В корзину", "Купити зараз", "Сатып алуу"],
       "Arab": ["اشتر الآن", "أضف إلى السلة", "خرید", "ابھی خریدیں"],
       "Deva": ["अभी खरीदें", "कार्ट में डालें", "आत्ता खरेदी करा"], "CJK": ["立即购买", "加入购物车", "今すぐ購入"],
       "Armn": ["Գնել հիմա", "Ավելացնել զամբյուղ"], "Ethi": ["አሁን ይግዙ", "ወደ ጋሪ ያክሉ"], "Grek": ["Αγορά τώρα", "Στο καλάθι"],
       "Hebr": ["קנה עכשיו", "הוסף לסל"], "Geor": ["იყიდე ახლა", "კალათაში დამატება"], "Hang": ["지금 구매", "장바구니 담기"],
       "Thai": ["ซื้อเลย", "หยิบใส่ตะกร้า"], "Indic": ["இப்போது வாங்கு", "ఇప్పుడే కొనండి", "હમણાં ખરીદો"],
       "other": ["Buy now", "Add to cart"]}
COOKIE = {"Latn": ["We use cookies to improve your experience. By continuing you accept our cookie policy.",
                   "Utilizamos cookies para mejorar su experiencia. Aceptar", "Ce site utilise des cookies. OK",
                   "Wir verwenden Cookies. Akzeptieren"],
          "Cyrl": ["Мы используем файлы cookie. Продолжая, вы соглашаетесь с политикой конфиденциальности.",
                   "Сайт використовує файли cookie. Прийняти"],
          "Arab": ["نستخدم ملفات تعريف الارتباط لتحسين تجربتك. موافق", "این سایت از کوکی استفاده می کند. قبول"],
          "Deva": ["हम आपके अनुभव को बेहतर बनाने के लिए कुकीज़ का उपयोग करते हैं। स्वीकार करें"],
          "CJK": ["本网站使用Cookie以改善您的体验。接受", "当サイトではクッキーを使用しています。同意する"],
          "Hang": ["이 사이트는 쿠키를 사용합니다. 동의"], "Thai": ["เว็บไซต์นี้ใช้คุกกี้ ยอมรับ"],
          "Grek": ["Χρησιμοποιούμε cookies. Αποδοχή"], "Hebr": ["אתר זה משתמש בעוגיות. אישור"]}
COPYRIGHT = ["© {y} {site}. All rights reserved.", "Copyright © {y} {site}", "© {y} {site} | {w} | {w}",
             "{site} © {y} — {w}"]
MOJIBAKE_MIN_CHANGED = 0.05  # documents with fewer non-ASCII characters hardly change when double-encoded: not junk

_CP1252 = []
for _b in range(256):
    try:
        _CP1252.append(bytes([_b]).decode("cp1252"))
    except UnicodeDecodeError:
        _CP1252.append(chr(_b))  # 0x81 0x8D 0x8F 0x90 0x9D: as latin-1, as sloppy decoders do


def double_encode(text: str) -> str:
    """UTF-8 bytes read back as cp1252: what a page saved as UTF-8 and re-encoded by a tool that assumed cp1252 shows."""
    return "".join(_CP1252[b] for b in text.encode("utf-8"))


def non_ascii_share(text: str) -> float:
    """Share of characters double-encoding changes (every non-ASCII one)."""
    return sum(1 for c in text if ord(c) > 127) / max(len(text), 1)


def graphemes(word: str) -> list[str]:
    """Base characters with their combining marks (Mn/Mc/Me, ZWJ/ZWNJ, virama sequences stay attached)."""
    out: list[str] = []
    for ch in word:
        if out and (unicodedata.category(ch) in ("Mn", "Mc", "Me") or ch in "\u200c\u200d"):
            out[-1] += ch
        elif out and out[-1] and unicodedata.category(out[-1][-1]) == "Mn" and "VIRAMA" in unicodedata.name(out[-1][-1], ""):
            out[-1] += ch
        else:
            out.append(ch)
    return out


# Marks and joiners belong to the word: `re`'s \w stops at every Indic vowel sign and virama ("हस्ताक्षर" -> 4
# pieces), so scrambling and the vocabulary worked on pieces of 1-3 letters and left Indic words intact.
_WORD = regex.compile(r"[\w\p{M}\u200c\u200d]+")
_SENT = re.compile(r"(?<=[.!?؟।॥።።。！？።፧])\s+|\n+")


def no_space_script(text: str) -> bool:
    toks = text.split()
    return not toks or sum(len(t) for t in toks) / len(toks) > 12


def tokens(text: str, rng: random.Random) -> list[str]:
    """Whitespace words; text written without spaces is cut into 2-4 grapheme pieces."""
    if not no_space_script(text):
        return text.split()
    out = []
    for tok in text.split():
        gs = graphemes(tok)
        i = 0
        while i < len(gs):
            n = rng.randint(2, 4)
            out.append("".join(gs[i:i + n]))
            i += n
    return out


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT.split(text) if len(s.strip()) >= 20]


def paragraphs_from(words: list[str], rng: random.Random, joiner: str = " ") -> list[str]:
    paras, i = [], 0
    while i < len(words):
        n = rng.randint(35, 80)
        chunk = words[i:i + n]
        i += n
        if chunk:
            paras.append(joiner.join(chunk))
    return paras


def vocabulary(docs: list[dict], rng: random.Random) -> list[str]:
    """Letter-only words of the language by frequency (pieces of 2-3 graphemes where there are no spaces)."""
    counts: Counter = Counter()
    for d in docs:
        text = d["text"]
        if no_space_script(text):
            for tok in text.split():
                gs = [g for g in graphemes(tok) if g[0].isalpha()]
                for i in range(0, max(len(gs) - 1, 0), 2):
                    counts["".join(gs[i:i + 2 + (i // 2) % 2])] += 1
        else:
            for w in _WORD.findall(text):
                if not any(c.isdigit() or c == "_" for c in w) and len(graphemes(w)) >= 3:
                    counts[w] += 1
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def content_words(vocab: list[str], rng: random.Random, k: int) -> list[str]:
    """k words from the middle of the frequency list (past the function words)."""
    band = vocab[10:400] or vocab
    return rng.sample(band, min(k, len(band)))


def sep(script_text: str) -> str:
    return "" if no_space_script(script_text) else " "


_CASED = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN")  # scripts whose menus and product names are capitalised


def title_case(w: str) -> str:
    """Capitalise where the script does (not Georgian: Mkhedruli text is not written with Mtavruli initials)."""
    return w[:1].upper() + w[1:] if w and unicodedata.name(w[0], "").startswith(_CASED) else w


# ---------------------------------------------------------------------------------------------- junk


def make_word_salad(rng, doc, vocab, ctx):
    words = tokens(doc["text"], rng)
    rng.shuffle(words)
    j = sep(doc["text"])
    paras = paragraphs_from(words, rng, j)
    return title_case(j.join(words[:rng.randint(4, 8)])), paras


def make_keyword_stuffing(rng, doc, vocab, ctx):
    j = sep(doc["text"])
    kws = content_words(vocab, rng, rng.randint(4, 6))
    phrases = kws + [f"{a}{j or ' '}{b}" for a, b in zip(kws, kws[1:])]
    lines = []
    for _ in range(rng.randint(10, 18)):
        items = [rng.choice(phrases) for _ in range(rng.randint(8, 20))]
        lines.append(rng.choice([" ", ", ", " | ", " - "]).join(items))
    return " ".join(kws[:3]), lines


def make_repeated_sentences(rng, doc, vocab, ctx):
    sents = sentences(doc["text"]) or [doc["text"][:200]]
    start = rng.randrange(len(sents))
    picked = sents[start:start + rng.randint(2, 3)]
    target, paras, total = rng.randint(1500, 3000), [], 0
    while total < target:
        p = " ".join(picked)
        paras.append(p)
        total += len(p)
    return picked[0][:80], paras


def make_mojibake(rng, doc, vocab, ctx):
    paras = [double_encode(p) for p in doc["text"].split("\n") if p.strip()]
    return paras[0][:90], paras[1:] if len(paras) > 2 else paras


def scramble_word(rng, w: str) -> str:
    gs = graphemes(w)
    if len(gs) <= 3:
        return w
    mid = gs[1:-1]
    for _ in range(3):  # a shuffle that gives the same word back is tried again
        rng.shuffle(mid)
        if mid != gs[1:-1]:
            break
    return gs[0] + "".join(mid) + gs[-1]


def make_scrambled(rng, doc, vocab, ctx):
    out = []
    for para in doc["text"].split("\n"):
        if no_space_script(para):  # pieces of 4-6 graphemes are the "words"
            gs, res, i = graphemes(para), [], 0
            while i < len(gs):
                n = rng.randint(4, 6)
                res.append(scramble_word(rng, "".join(gs[i:i + n])))
                i += n
            out.append("".join(res))
        else:
            out.append(_WORD.sub(lambda m: scramble_word(rng, m.group(0)), para))
    out = [p for p in out if p.strip()]
    return out[0][:90], out[1:] if len(out) > 2 else out


def make_price_spam(rng, doc, vocab, ctx):
    g = ctx["group"]
    j = sep(doc["text"]) or ""
    cur, buy = CURRENCY.get(g, CURRENCY["other"]), BUY.get(g, BUY["other"])
    names = content_words(vocab, rng, 40)
    lines = []
    for _ in range(rng.randint(14, 26)):
        name = j.join(title_case(w) for w in rng.sample(names, rng.randint(1, 3)))
        model = f"{rng.choice('ABCDEFGHKMPRSTXZ')}{rng.choice(['-', ''])}{rng.randint(10, 9999)}"
        price = rng.randint(3, 4999) + rng.choice([0, 0.5, 0.99, 0.9])
        old = price * rng.choice([1.2, 1.5, 2.0])
        c = rng.choice(cur)
        p_str, o_str = (f"{c}{price:,.2f}", f"{c}{old:,.2f}") if len(c) == 1 else (f"{price:,.2f} {c}", f"{old:,.2f} {c}")
        stars = "★" * rng.randint(3, 5)
        stars += "☆" * (5 - len(stars))
        lines.append(rng.choice([
            f"{name} {model} — {p_str} ({o_str}) -{rng.randint(10, 70)}% {stars} ({rng.randint(2, 999)}) {rng.choice(buy)}",
            f"{name} {model} {p_str} | {rng.choice(buy)} | {stars}",
            f"🔥 {name} {p_str} ➜ {rng.choice(buy)} -{rng.randint(10, 70)}%",
            f"{name} ({model}) {o_str} → {p_str} ✔ {rng.choice(buy)}",
        ]))
    return f"{title_case(names[0])} {names[1]} -{rng.randint(20, 80)}% {rng.choice(cur)}", lines


def make_templated(rng, doc, vocab, ctx):
    """All pages of a group's site share ctx['template']: fixed words with word and number slots."""
    tpl = ctx["template"]
    j = ctx["joiner"]
    lines = []
    for _ in range(rng.randint(8, 15)):
        parts = []
        for part in tpl:
            if part == "<W>":
                parts.append(rng.choice(ctx["slot_words"]))
            elif part == "<N>":
                parts.append(str(rng.randint(1, 2000)))
            else:
                parts.append(part)
        lines.append(j.join(parts))
    return j.join(tpl[:3]).replace("<W>", rng.choice(ctx["slot_words"])) + f" {rng.randint(1, 500)}", lines


def template_for(rng, docs: list[dict], vocab: list[str]):
    """A real sentence of 8-24 words cut into a template: first 3 words fixed, then 2-3 word slots and 2 number slots."""
    cands = [s for d in docs for s in sentences(d["text"])
             if 8 <= len(tokens(s, random.Random(0))) <= 24]
    s = cands[rng.randrange(len(cands))] if cands else " ".join(vocab[:12])
    toks = tokens(s, random.Random(0))[:18]
    slots = rng.sample(range(3, len(toks)), min(3, max(len(toks) - 3, 0)))
    for i in slots:
        toks[i] = "<W>"
    for _ in range(2):
        toks.insert(rng.randint(3, len(toks)), "<N>")
    return toks


JUNK_MAKERS = {"word_salad": make_word_salad, "keyword_stuffing": make_keyword_stuffing,
               "repeated_sentences": make_repeated_sentences, "mojibake": make_mojibake,
               "scrambled_letters": make_scrambled, "price_spam": make_price_spam, "templated": make_templated}


def boilerplate_page(rng, vocab, group: str, site: str, label: str) -> str:
    e = html.escape
    words = content_words(vocab, rng, 60)
    menu = [title_case(w) for w in words[:rng.randint(7, 12)]]
    cats = [f"{title_case(w)} ({rng.randint(1, 300)})" for w in words[12:12 + rng.randint(8, 16)]]
    links = [" ".join(title_case(x) for x in rng.sample(words, rng.randint(2, 4))) for _ in range(rng.randint(4, 10))]
    y = rng.randint(2009, 2026)
    cookie = rng.choice(COOKIE.get(group, COOKIE["Latn"]))
    foot = [rng.choice(COPYRIGHT).format(y=y, site=site, w=rng.choice(menu)) for _ in range(2)]
    foot.append(" | ".join(rng.sample(menu, min(5, len(menu))) + ["Privacy", "Terms", "Contact"]))
    pages = rng.randint(5, 40)
    li = "\n".join(f'      <li><a href="/{label}/{i}">{e(m)}</a></li>' for i, m in enumerate(menu))
    cl = "\n".join(f'        <li><a href="/c/{i}">{e(c)}</a></li>' for i, c in enumerate(cats))
    ll = "\n".join(f'        <li><a href="/p/{i}">{e(t)}</a></li>' for i, t in enumerate(links))
    pag = " ".join(["«"] + [str(i) for i in range(1, 6)] + ["…", str(pages), "»"])
    fl = "\n".join(f"    <p>{e(x)}</p>" for x in foot)
    return (f"<!DOCTYPE html>\n<html>\n<head>\n  <meta charset=\"utf-8\">\n  <title>{e(site)} - {e(menu[0])}</title>\n"
            f"</head>\n<body>\n  <header><a href=\"/\">{e(site)}</a>\n    <nav><ul>\n{li}\n    </ul></nav>\n  </header>\n"
            f"  <div class=\"breadcrumb\">{e(menu[0])} » {e(menu[1])} » {e(menu[2])}</div>\n"
            f"  <main>\n    <aside><h3>{e(title_case(words[-1]))}</h3>\n      <ul>\n{cl}\n      </ul>\n    </aside>\n"
            f"    <section><ul>\n{ll}\n      </ul>\n      <div class=\"pagination\">{e(pag)}</div>\n    </section>\n  </main>\n"
            f"  <div id=\"cookie-consent\"><p>{e(cookie)}</p><button>OK</button></div>\n"
            f"  <footer>\n{fl}\n  </footer>\n</body>\n</html>\n")


# ---------------------------------------------------------------------------------------------- main


def slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def short_hash(*parts) -> str:
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:8]


def folded(label: str) -> str:
    """The macro-folded label of a text's ISO 639-3 label. The whole ``xxx_Xxxx`` label is canonicalised: a bare
    code would be read as a Wikipedia code where they differ (``als`` = Alemannic there, Tosk Albanian in ISO 639-3:
    UD Albanian-TSA was filed as Swiss German until 2026-12-04)."""
    _, script = label.split("_")
    return f"{canonical_language(label, policy='macro')}_{script}"


def lid_known_languages() -> frozenset[str] | None:
    """Languages the default LID ensemble can name (macro-folded), or None if the package is not importable."""
    try:
        from longtail.langid.ensemble import DocumentIdentifier
        return DocumentIdentifier("ensemble").supported_languages()
    except Exception as exc:  # pragma: no cover - the bench still builds, without the preference
        print(f"note: LID inventory not available ({exc}); junk languages are not ordered by LID coverage")
        return None


def page_label(page: dict, page_html: str) -> tuple[str | None, str]:
    """``(lang_script or None, script)`` of a real page: the language its source gives (``lang_hint``) in the
    script of its gold text, or of its visible text when it has none."""
    gold = page["gold_text"]
    script = B.script_of(gold) if gold else B.script_of(visible_text(page_html))
    hint = (page["lang_hint"] or "").lower()[:2]
    label = f"{canonical_language(B.LANG1_TO_3[hint], policy='macro')}_{script}" if hint in B.LANG1_TO_3 else None
    return label, script


def visible_text(page_html: str) -> str:
    """The page's text as a reader sees it, for the script of a page without gold text: no comments, scripts,
    styles, code blocks or web addresses (a Chinese portal listing its links' URLs, or a WeChat article quoting
    Python, is still Chinese in Han script)."""
    t = re.sub(r"(?s)<!--.*?-->", " ", page_html)
    t = re.sub(r"(?is)<(script|style|noscript|template|svg|pre|code)\b[^>]*>.*?</\1>", " ", t)
    t = html.unescape(re.sub(r"(?s)<[^>]+>", " ", t))
    return re.sub(r"(?i)\b(?:https?://|www\.)\S+", " ", t)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=str(HERE / "data"), help="the real bench (bench/build_real_bench.py --out)")
    ap.add_argument("--out", default=None, help="default: <data>/quality")
    ap.add_argument("--per-language", type=int, default=12, help="good text documents per language label")
    ap.add_argument("--junk-scale", type=float, default=1.0, help="multiply the junk pages per kind and group")
    ap.add_argument("--seed", type=int, default=12)
    args = ap.parse_args(argv)
    data = Path(args.data)
    out = Path(args.out) if args.out else data / "quality"
    out.mkdir(parents=True, exist_ok=True)
    known = lid_known_languages()

    docs_by_label: dict[str, list[dict]] = {}
    for f in sorted((data / "text").glob("*.jsonl")):
        docs_by_label[f.stem] = [json.loads(line) for line in f.open(encoding="utf-8")]
    if not docs_by_label:
        print(f"no documents under {data / 'text'}: run bench/build_real_bench.py first", file=sys.stderr)
        return 1

    records: list[tuple[str, bytes, dict]] = []  # (url, body, truth)

    # ---- good: stratified sample of real documents -----------------------------------------------
    pools: dict[str, list[dict]] = {}
    for label, docs in docs_by_label.items():
        rng = random.Random(f"{args.seed}:good:{label}")
        order = list(range(len(docs)))
        rng.shuffle(order)
        take = sorted(order[:args.per_language])
        pools[label] = [docs[i] for i in order[args.per_language:]]
        picked = [docs[i] for i in take]
        titles = [d["text"].split("\n")[0][:60] for d in picked]
        for n, d in enumerate(picked):
            nav = [titles[(n + k) % len(titles)] for k in range(1, min(6, len(titles)))]
            host = f"{slug(d['id'])}-{short_hash('good', d['id'])}.{slug(d['source'].split('/')[-1])}.example"
            url = f"http://{host}/{label.lower()}/{d['id']}.html"
            script = label.split("_")[1]
            truth = {"url": url, "kind": "good", "lang_script": folded(label), "script": script,
                     "group": GROUP_OF_SCRIPT.get(script, "other"), "source": d["source"], "origin": d["id"],
                     "genre": d.get("genre")}
            records.append((url, B.wrap_html(d, nav, host).encode("utf-8"), truth))

    # ---- good: the real HTML pages --------------------------------------------------------------
    pages_file = data / "pages" / "pages.jsonl"
    used = {r[0] for r in records}
    n_pages = 0
    for line in pages_file.open(encoding="utf-8") if pages_file.exists() else []:
        p = json.loads(line)
        raw = (data / "pages" / "html" / f"{p['id']}.html").read_bytes()
        text, _ = B.decode_html(raw)
        url = p["url"] if p["url"] and p["url"].startswith("http") else None
        if not url or url in used:
            url = f"http://{B.host_for(p['source'])}/pages/{p['id']}.html"
        used.add(url)
        gold = p["gold_text"]
        label, script = page_label(p, text)
        truth = {"url": url, "kind": "no_article" if gold == "" else "good", "lang_script": label, "script": script,
                 "group": GROUP_OF_SCRIPT.get(script, "other"), "source": p["source"], "origin": p["id"],
                 "genre": "page", "gold": None if gold is None else ("empty" if gold == "" else "yes")}
        records.append((url, B.as_utf8_page(text), truth))
        n_pages += 1

    # ---- junk, per script group -------------------------------------------------------------------
    groups: dict[str, list[str]] = defaultdict(list)
    for label in sorted(docs_by_label):
        groups[GROUP_OF_SCRIPT.get(label.split("_")[1], "other")].append(label)
    for group in sorted(groups):
        rng = random.Random(f"{args.seed}:junk:{group}")
        labels = [lb for lb in groups[group] if any(len(d["text"]) >= 400 for d in pools[lb])]
        if not labels:
            continue
        # languages the LID can name first, then the others; bigger pools first within each
        labels.sort(key=lambda lb: (known is not None and canonical_language(lb.split("_")[0]) not in known,
                                    -len(pools[lb]), lb))
        vocab = {lb: vocabulary(docs_by_label[lb], rng) for lb in labels}
        queues = {lb: [d for d in pools[lb] if len(d["text"]) >= 400] for lb in labels}
        for q in queues.values():
            rng.shuffle(q)
        moji = {lb: [d for d in q if non_ascii_share(d["text"]) >= MOJIBAKE_MIN_CHANGED] for lb, q in queues.items()}
        n_kind = max(1, round(JUNK_PER_KIND.get(group, DEFAULT_JUNK_PER_KIND) * args.junk_scale))
        # templated: one site and one language per group (the group's first language)
        tl = labels[0]
        ctx_t = {"group": group, "template": template_for(rng, docs_by_label[tl], vocab[tl]),
                 "joiner": sep(docs_by_label[tl][0]["text"]) or "", "slot_words": content_words(vocab[tl], rng, 200)}
        site_t = f"www.{slug(tl)}-{short_hash('templated', group)}.listings.example"
        for k_i, kind in enumerate(JUNK_KINDS):
            made, tries, cursor = 0, 0, k_i
            kind_labels = labels
            if kind == "mojibake":  # only documents double-encoding really changes (not ASCII-only text)
                kind_labels = [lb for lb in labels if moji[lb]] or labels
            while made < n_kind and tries < n_kind * 20:
                tries += 1
                label = tl if kind == "templated" else kind_labels[cursor % len(kind_labels)]
                cursor += 1
                q = moji[label] if kind == "mojibake" and moji[label] else queues[label]
                doc = q[(tries * 7 + k_i) % len(q)]
                prng = random.Random(f"{args.seed}:{kind}:{group}:{made}")
                jid = f"{kind}-{group.lower()}-{made:03d}"
                if kind == "templated":
                    host = site_t
                    url = f"http://{host}/{slug(tl)}/item/{made + 1:04d}.html"
                else:
                    host = f"{slug(kind)}-{short_hash(jid, label)}.{slug(label)}.example"
                    url = f"http://{host}/{jid}.html"
                if kind == "boilerplate_only":
                    body = boilerplate_page(prng, vocab[label], group, host, label)
                else:
                    ctx = ctx_t if kind == "templated" else {"group": group}
                    title, paras = JUNK_MAKERS[kind](prng, doc, vocab[label], ctx)
                    if not paras:
                        continue
                    others = [rng.choice(vocab[label][:300] or ["…"]) for _ in range(4)]
                    nav = [" ".join(others[i:i + 2]) for i in range(0, 4, 2)]
                    body = B.wrap_html({"text": "\n".join([title] + paras), "lang_script": label, "licence": ""},
                                       nav, host)
                script = label.split("_")[1]
                truth = {"url": url, "kind": kind, "lang_script": folded(label), "script": script, "group": group,
                         "source": doc["source"], "origin": None if kind == "boilerplate_only" else doc["id"],
                         "genre": "junk"}
                records.append((url, body.encode("utf-8"), truth))
                made += 1

    # ---- write ----------------------------------------------------------------------------------
    urls = [r[0] for r in records]
    dup = [u for u, c in Counter(urls).items() if c > 1]
    if dup:
        raise SystemExit(f"duplicate URLs: {dup[:5]}")
    for r in records:  # LID coverage of the truth label, for the report
        lang = (r[2]["lang_script"] or "_").split("_")[0]
        r[2]["lid_known"] = None if known is None or not r[2]["lang_script"] else lang in known

    class QualityWarc(B.WarcOut):
        def warcinfo(self, fields: dict):
            payload = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode()
            self._raw("warcinfo", None, payload, "application/warc-fields")

    warc = QualityWarc(out / "quality_bench.warc.gz")
    warc.warcinfo({"software": "longtail bench/make_quality_bench.py", "format": "WARC File Format 1.0",
                   "description": "issue 12 quality bench: real text and pages (good) + junk generated from real text",
                   "isPartOf": "longtail-quality-bench"})
    with open(out / "truth.jsonl", "w", encoding="utf-8") as tf:
        for url, body, truth in records:
            warc.response(url, body)
            tf.write(json.dumps(truth, ensure_ascii=False) + "\n")
    warc.close()

    kinds = Counter(t["kind"] for _, _, t in records)
    by_kind_group: dict = defaultdict(Counter)
    for _, _, t in records:
        by_kind_group[t["kind"]][t["group"]] += 1
    summary = {"seed": args.seed, "per_language": args.per_language, "records": len(records),
               "good_text_documents": sum(1 for _, _, t in records if t["kind"] == "good" and t["genre"] != "page"),
               "good_pages": sum(1 for _, _, t in records if t["kind"] == "good" and t["genre"] == "page"),
               "pages": n_pages, "kinds": dict(sorted(kinds.items())),
               "kind_by_group": {k: dict(sorted(v.items())) for k, v in sorted(by_kind_group.items())},
               "junk_languages": dict(sorted(Counter(t["lang_script"] for _, _, t in records
                                                     if t["kind"] in JUNK_KINDS).items()))}
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(records)} records -> {out / 'quality_bench.warc.gz'}")
    print(f"good: {summary['good_text_documents']} text documents ({len(docs_by_label)} labels) + "
          f"{summary['good_pages']} real pages; no_article: {kinds.get('no_article', 0)}")
    groups_all = sorted({g for v in by_kind_group.values() for g in v})
    print(f"{'kind':<20}" + "".join(f"{g:>7}" for g in groups_all) + f"{'total':>8}")
    for k in ("good",) + JUNK_KINDS:
        v = by_kind_group.get(k, Counter())
        print(f"{k:<20}" + "".join(f"{v.get(g, 0):>7}" for g in groups_all) + f"{sum(v.values()):>8}")
    print(f"junk total: {sum(kinds[k] for k in JUNK_KINDS)} pages in {len(summary['junk_languages'])} languages")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python
"""Build the real-data development bench from local snapshots of public repositories.

Reads ONLY bare git snapshots under --mirror (default: `.mirror/<owner>+<name>/repo[/.git]` beside the repository) with
`git ls-tree` / `git cat-file`; downloads nothing.  Missing snapshots are listed at the end (fetch them and
run again); the build continues with what is there.  The source list is bench/realdata/sources.py.

Output (--out, default bench/data/, never committed; a rebuild removes and rewrites only these, other
benches' outputs in the same folder such as quality/ or lid_mixture.jsonl are left alone):
  text/<lang_script>.jsonl     {"id","lang_script","text","source","licence","genre"}
  pages/pages.jsonl            {"id","url","source","licence","lang_hint","gold_text","charset","bytes"}
  pages/html/<id>.html         the page's original bytes
  crawls/<source>/<file>       real WARC/ARC files as they are, crawls/index.jsonl says where from
  real_pages.warc.gz           WARC/1.0 response records: every page above + every text document wrapped in
                               a small HTML page; real_pages.truth.jsonl maps URL -> lang_script/source/kind
  summary.json                 counts; a table is printed too

Deterministic: inputs sorted, no randomness (document lengths vary by a hash of the source position).
Only the standard library (no pyarrow/pyyaml needed); warcio (from the project's .venv) is used for the WARC when
importable, else the WARC is written by hand.  GlotScript names the script when importable (as the
pipeline does), else a unicodedata fallback.

Usage: .venv/bin/python bench/build_real_bench.py [--mirror ../.mirror] [--out bench/data] [--cap 300]
       .venv/bin/python bench/build_real_bench.py --list-repos      # the repositories to fetch
"""
from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import html
import io
import json
import re
import shutil
import subprocess
import sys
import unicodedata
import uuid
from collections import Counter, defaultdict
from html.parser import HTMLParser
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "realdata"))
import sources as S  # noqa: E402

BUILD_DATE = "2026-12-03T00:00:00Z"
MIN_CHARS = 300           # documents shorter than this are merged with the next one of the same source
MAX_CHARS = 6000          # longer documents are split at paragraph / sentence boundaries
MAX_SENTENCES = 40
csv.field_size_limit(1 << 30)

# ----------------------------------------------------------------------------------------------- git


class Snapshot:
    """A bare git snapshot read with git ls-tree / cat-file."""

    def __init__(self, repo: str, gitdir: Path):
        self.repo = repo
        self.gitdir = gitdir
        self._cat = None

    def git(self, *args: str) -> bytes:
        return subprocess.run(["git", f"--git-dir={self.gitdir}", *args], check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout

    def has_ref(self, ref: str) -> bool:
        return subprocess.run(["git", f"--git-dir={self.gitdir}", "rev-parse", "--verify", "-q", ref],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode == 0

    def ls(self, ref: str = "HEAD", under: str = "") -> dict[str, str]:
        """path -> blob sha (every file under `under`), sorted by path."""
        args = ["ls-tree", "-r", "-z", ref] + ([under] if under else [])
        out = {}
        for item in self.git(*args).split(b"\0"):
            if not item:
                continue
            meta, path = item.split(b"\t", 1)
            mode, typ, sha = meta.split()
            if typ == b"blob":
                out[path.decode("utf-8", "surrogateescape")] = sha.decode()
        return dict(sorted(out.items()))

    def read(self, sha: str) -> bytes | None:
        """Blob content, or None when the object is absent (files >= 4 MiB are not in snapshots)."""
        if self._cat is None:
            self._cat = subprocess.Popen(["git", f"--git-dir={self.gitdir}", "cat-file", "--batch"],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._cat.stdin.write(sha.encode() + b"\n")
        self._cat.stdin.flush()
        header = self._cat.stdout.readline().split()
        if len(header) < 3 or header[1] != b"blob":
            return None
        size = int(header[2])
        data = self._cat.stdout.read(size)
        self._cat.stdout.read(1)
        return data

    def read_path(self, path: str, ref: str = "HEAD") -> bytes | None:
        files = self.ls(ref, path)
        return self.read(files[path]) if path in files else None

    def close(self):
        if self._cat is not None:
            self._cat.stdin.close()
            self._cat.wait()
            self._cat = None


def open_snapshot(mirror: Path, repo: str) -> Snapshot | None:
    base = mirror / repo.replace("/", "+") / "repo"
    for gitdir in (base / ".git", base):
        if (gitdir / "HEAD").exists() and (gitdir / "objects").exists():
            return Snapshot(repo, gitdir)
    return None


# -------------------------------------------------------------------------------------------- scripts

try:  # the same script identification as the pipeline (langid/scripts.py) when available
    from GlotScript import sp as _glot_sp
except Exception:  # pragma: no cover
    _glot_sp = None

_UNI_PREFIX = [  # unicodedata name prefix -> ISO 15924 (fallback when GlotScript is not importable)
    ("LATIN", "Latn"), ("CYRILLIC", "Cyrl"), ("GREEK", "Grek"), ("ARABIC", "Arab"), ("HEBREW", "Hebr"),
    ("DEVANAGARI", "Deva"), ("BENGALI", "Beng"), ("GURMUKHI", "Guru"), ("GUJARATI", "Gujr"),
    ("ORIYA", "Orya"), ("TAMIL", "Taml"), ("TELUGU", "Telu"), ("KANNADA", "Knda"), ("MALAYALAM", "Mlym"),
    ("SINHALA", "Sinh"), ("THAI", "Thai"), ("LAO", "Laoo"), ("TIBETAN", "Tibt"), ("MYANMAR", "Mymr"),
    ("GEORGIAN", "Geor"), ("ARMENIAN", "Armn"), ("ETHIOPIC", "Ethi"), ("KHMER", "Khmr"),
    ("HANGUL", "Hang"), ("HIRAGANA", "Hira"), ("KATAKANA", "Kana"), ("CJK UNIFIED", "Hani"),
    ("CJK COMPATIBILITY IDEOGRAPH", "Hani"), ("COPTIC", "Copt"), ("SYRIAC", "Syrc"), ("THAANA", "Thaa"),
    ("MONGOLIAN", "Mong"), ("CHEROKEE", "Cher"), ("TIFINAGH", "Tfng"), ("CANADIAN SYLLABICS", "Cans"),
    ("NKO", "Nkoo"), ("OL CHIKI", "Olck"), ("GLAGOLITIC", "Glag"), ("GOTHIC", "Goth"),
]


def _fallback_props(text: str) -> dict[str, float]:
    counts: Counter = Counter()
    for ch in text:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        for prefix, code in _UNI_PREFIX:
            if name.startswith(prefix):
                counts[code] += 1
                break
        else:
            counts["Zzzz"] += 1
    total = sum(counts.values()) or 1
    return {k: v / total for k, v in counts.items()}


def script_of(text: str) -> str:
    """Dominant ISO 15924 script of the letters (Jpan / Hang / Kore composites as langid/scripts.py)."""
    sample = text[:20000]
    if _glot_sp is not None:
        main, share, meta = _glot_sp(sample)
        if main is None:
            return "Zyyy"
        props = dict(meta.get("details", {main: share}))
    else:
        props = _fallback_props(sample)
    neutral = {"Zyyy", "Zinh", "Zzzz"}
    # Japanese = Hani + Hira + Kana, Korean = Hang (+ Hani): merged when kana / hangul are present and the
    # merged share is the majority of the letters (a stray Greek or Cyrillic letter does not break it).
    jp = sum(props.get(k, 0.0) for k in ("Hira", "Kana", "Hani"))
    ko = sum(props.get(k, 0.0) for k in ("Hang", "Hani"))
    if (props.get("Hira", 0.0) + props.get("Kana", 0.0)) > 0.02 and jp >= 0.5:
        props["Jpan"] = sum(props.pop(k) for k in list(props) if k in {"Hira", "Kana", "Hani"})
    elif props.get("Hang", 0.0) > 0.02 and ko >= 0.5:
        code = "Kore" if props.get("Hani", 0.0) >= 0.1 else "Hang"
        props[code] = sum(props.pop(k) for k in list(props) if k in {"Hang", "Hani"})
    letters = {k: v for k, v in props.items() if k not in neutral}
    if not letters:
        return "Zyyy"
    return max(sorted(letters), key=lambda k: letters[k])


# -------------------------------------------------------------------------------------- documenting


def stable_int(*parts) -> int:
    return int(hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:12], 16)


def clean_line(s: str) -> str:
    s = unicodedata.normalize("NFC", s.replace("\u00a0", " "))
    return re.sub(r"[ \t\r\f\v]+", " ", s).strip()


def chunk_sentences(sents: list[str], key: str, sep: str = " ") -> list[list[str]]:
    """Consecutive sentences -> documents of paragraphs (documents: 5-40 sentences, a target length that
    varies per document between ~400 and ~3000 characters; paragraphs of 2-6 sentences)."""
    docs, cur, chars, i = [], [], 0, 0
    target = 400 + stable_int(key, 0) % 2600
    for s in sents:
        cur.append(s)
        chars += len(s) + 1
        if (chars >= target and len(cur) >= 5) or len(cur) >= MAX_SENTENCES:
            docs.append(cur)
            i += 1
            cur, chars, target = [], 0, 400 + stable_int(key, i) % 2600
    if cur:
        docs.append(cur)
    out = []
    for d, doc in enumerate(docs):
        paras, j, k = [], 0, 0
        while j < len(doc):
            n = 2 + stable_int(key, "p", d, k) % 5
            paras.append(sep.join(doc[j:j + n]))
            j += n
            k += 1
        out.append(paras)
    return out


def shape_docs(docs: list[list[str]], sep: str) -> list[list[str]]:
    """Merge too-short consecutive documents, split too-long ones (at paragraph, then sentence bounds)."""
    merged, cur = [], []
    for paras in docs:
        cur = cur + paras
        if sum(len(p) for p in cur) >= MIN_CHARS:
            merged.append(cur)
            cur = []
    if cur:
        if merged and sum(len(p) for p in cur) < MIN_CHARS:
            merged[-1] = merged[-1] + cur
        else:
            merged.append(cur)
    out = []
    for paras in merged:
        part, size = [], 0
        for p in paras:
            if size and size + len(p) > MAX_CHARS:
                out.append(part)
                part, size = [], 0
            while len(p) > MAX_CHARS:  # one huge paragraph: cut at a sentence end near the limit
                cut = max(p.rfind(". ", 0, MAX_CHARS), p.rfind("。", 0, MAX_CHARS), p.rfind("። ", 0, MAX_CHARS))
                cut = cut + 1 if cut > MAX_CHARS // 3 else MAX_CHARS
                out.append([p[:cut].strip()])
                p = p[cut:].strip()
            part.append(p)
            size += len(p)
        if part:
            out.append(part)
    return [d for d in out if d and any(x.strip() for x in d)]


def spread(items: list, k: int) -> list:
    """k items spread evenly over the list (deterministic)."""
    if len(items) <= k:
        return list(items)
    return [items[(i * len(items)) // k] for i in range(k)]


# ------------------------------------------------------------------------------------- text sources


def ud_readme_meta(snap: Snapshot, ref: str) -> dict[str, str]:
    meta = {}
    for name in ("README.md", "README.txt", "README"):
        data = snap.read_path(name, ref)
        if data:
            for line in data.decode("utf-8", "replace").splitlines():
                m = re.match(r"^(License|Genre|Includes text)\s*:\s*(.*)$", line.strip())
                if m and m.group(1) not in meta:
                    meta[m.group(1)] = m.group(2).strip()
            if meta:
                break
    return meta


def parse_conllu(data: str):
    """Yield (doc_no, par_no, sentence text) in file order."""
    doc, par = 0, 0
    for line in data.splitlines():
        if not line.startswith("#"):
            continue
        if line.startswith("# newdoc"):
            doc += 1
            par += 1
        elif line.startswith("# newpar"):
            par += 1
        elif line.startswith("# text ="):
            yield doc, par, line[len("# text ="):].strip()


def ud_documents(snap: Snapshot, treebank: str, cap: int):
    """Documents of one UD treebank: list of (paras, genre, licence)."""
    ref = "HEAD"
    files = {p: s for p, s in snap.ls(ref).items() if "/" not in p and p.endswith(".conllu")}
    if not files and snap.has_ref("dev"):
        ref = "dev"
        files = {p: s for p, s in snap.ls(ref).items() if "/" not in p and p.endswith(".conllu")}
    meta = ud_readme_meta(snap, ref)
    if meta.get("Includes text", "yes").lower().startswith("no"):
        return [], meta, ref
    lang = S.ud_language(treebank)
    sep = "" if lang in S.NO_SPACE_JOIN else " "
    # train, dev, test order (stable) -- sorted names put dev < test < train; fine and deterministic
    units = []  # (group key, paragraph key, sentence)
    absent = []
    for path, sha in files.items():
        raw = snap.read(sha)
        if raw is None:
            absent.append(path)
            continue
        for d, p, sent in parse_conllu(raw.decode("utf-8", "replace")):
            if treebank in S.UD_STRIP_TAGS:
                sent = re.sub(r"<[^<>\s]{1,4}>", " ", sent)
            sent = clean_line(sent)
            if not sent or set(sent) <= set("_ "):
                continue
            units.append(((path, d), (path, p), sent))
    if absent:
        meta["_absent"] = absent
    if not units:
        return [], meta, ref
    docs: list[list[str]] = []
    n_docs = len({u[0] for u in units})
    has_docs = n_docs > 1 and n_docs < len(units) / 1.5  # real document markup, not one doc per sentence
    has_pars = len({u[1] for u in units}) > n_docs and len({u[1] for u in units}) < len(units) / 1.2
    if has_docs:
        groups: dict = {}
        for g, p, s in units:
            groups.setdefault(g, []).append((p, s))
        for g, items in groups.items():
            if has_pars:
                paras: dict = {}
                for p, s in items:
                    paras.setdefault(p, []).append(s)
                docs.append([sep.join(v) for v in paras.values()])
            else:
                for chunk in chunk_sentences([s for _, s in items], f"{treebank}:{g}", sep):
                    docs.append(chunk)
    else:
        # no usable document markup: chunks of consecutive sentences (per file)
        by_file: dict = {}
        for g, p, s in units:
            by_file.setdefault(g[0], []).append(s)
        for path, sents in by_file.items():
            docs.extend(chunk_sentences(sents, f"{treebank}:{path}", sep))
    docs = shape_docs(docs, sep)
    return spread(docs, cap), meta, ref


_SEG = re.compile(r'<seg\s+id="b\.([A-Z0-9]+)\.(\d+)\.(\d+)"[^>]*>(.*?)</seg>', re.S)


def bible_documents(snap: Snapshot, path: str, sha: str, key: str, cap: int):
    raw = snap.read(sha)
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace")
    chapters: dict = {}
    for book, chap, _verse, seg in _SEG.findall(text):
        seg = clean_line(html.unescape(re.sub(r"<[^>]+>", "", seg)))
        if seg:
            chapters.setdefault((book, chap), []).append(seg)
    docs = []
    for (book, chap), verses in chapters.items():
        docs.extend(chunk_sentences(verses, f"{key}:{book}.{chap}", " ") if len(verses) > MAX_SENTENCES
                    else [[" ".join(verses[i:i + 4]) for i in range(0, len(verses), 4)]])
    return spread(shape_docs(docs, " "), cap)


_SENT_END = re.compile(r"(?<=[.!?።።?؟।])\s+")


def paragraphs_of(text: str, key: str) -> list[str]:
    sents = [s for s in _SENT_END.split(text) if s.strip()]
    out, j, k = [], 0, 0
    while j < len(sents):
        n = 2 + stable_int(key, k) % 4
        out.append(" ".join(sents[j:j + n]).strip())
        j += n
        k += 1
    return out


def masakhanews_documents(snap: Snapshot, lang_dir: str, cap: int):
    files = snap.ls("HEAD", f"data/{lang_dir}/")
    docs = []
    for path, sha in files.items():
        if not path.endswith(".tsv"):
            continue
        raw = snap.read(sha)
        if raw is None:
            continue
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8", "replace")), delimiter="\t")
        for n, row in enumerate(reader):
            head = clean_line(row.get("headline") or "")
            body = clean_line(row.get("text") or "")
            if len(body) < 200:
                continue
            paras = ([head] if head else []) + paragraphs_of(body, f"{path}:{n}")
            docs.append(paras)
    return spread(shape_docs(docs, " "), cap)


_DETOK_BEFORE = re.compile(r"\s+([.,;:!?%)\]}»”’])")
_DETOK_AFTER = re.compile(r"([(\[{«“‘])\s+")


def detok(tokens: list[str]) -> str:
    s = " ".join(tokens)
    s = _DETOK_BEFORE.sub(r"\1", s)
    s = _DETOK_AFTER.sub(r"\1", s)
    s = re.sub(r'\s+"\s+([^"]*?)\s+"', r' "\1"', s)
    return s.strip()


def masakhaner_documents(snap: Snapshot, lang_dir: str, cap: int):
    files = snap.ls("HEAD", f"MasakhaNER2.0/data/{lang_dir}/")
    docs = []
    for path, sha in files.items():
        if not path.endswith(".txt"):
            continue
        raw = snap.read(sha)
        if raw is None:
            continue
        sents, toks = [], []
        for line in raw.decode("utf-8", "replace").splitlines():
            line = line.strip()
            if not line:
                if toks:
                    sents.append(detok(toks))
                toks = []
                continue
            toks.append(line.split(" ")[0] if " " in line else line.split("\t")[0])
        if toks:
            sents.append(detok(toks))
        docs.extend(chunk_sentences([clean_line(s) for s in sents if s], path))
    return spread(shape_docs(docs, " "), cap)


def lines_documents(snap: Snapshot, paths: list[str], cap: int):
    docs = []
    for path in paths:
        raw = snap.read_path(path)
        if raw is None:
            continue
        sents = [clean_line(x) for x in raw.decode("utf-8", "replace").splitlines()]
        docs.extend(chunk_sentences([s for s in sents if s], path))
    return spread(shape_docs(docs, " "), cap)


# ------------------------------------------------------------------------------------------- pages

_CHARSET = re.compile(rb'<meta[^>]+charset\s*=\s*["\']?\s*([A-Za-z0-9_\-:.]+)', re.I)


_META_CHARSET_STR = re.compile(r'(<meta[^>]+charset\s*=\s*["\']?\s*)([A-Za-z0-9_\-:.]+)', re.I)


def as_utf8_page(text: str) -> bytes:
    """The page re-encoded as UTF-8 with its <meta charset> declarations saying so (WARC copy only)."""
    return _META_CHARSET_STR.sub(lambda m: m.group(1) + "utf-8", text).encode("utf-8")


def decode_html(raw: bytes) -> tuple[str, str]:
    """(text, charset): the declared charset if it decodes, else utf-8, else cp1252."""
    m = _CHARSET.search(raw[:4096])
    cands = ([m.group(1).decode("ascii", "ignore").lower()] if m else []) + ["utf-8", "cp1252", "latin-1"]
    for cs in cands:
        cs = {"iso-8859-1": "cp1252", "latin1": "cp1252", "gb2312": "gb18030", "gbk": "gb18030"}.get(cs, cs)
        try:
            return raw.decode(cs), cs
        except (LookupError, UnicodeDecodeError):
            continue
    return raw.decode("utf-8", "replace"), "utf-8"


class _L3SGold(HTMLParser):
    """Text inside <span class="x-nc-sel1|x-nc-sel2"> (headline, full text) of an L3S-GN1 annotation."""

    KEEP = {"x-nc-sel1", "x-nc-sel2"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.parts = [], []

    def handle_starttag(self, tag, attrs):
        if tag == "span":
            cls = dict(attrs).get("class") or ""
            self.stack.append(any(c in self.KEEP for c in cls.split()))
        elif tag in ("p", "br", "div", "h1", "h2", "h3", "li", "tr") and self.parts:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag == "span" and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if self.stack and self.stack[-1]:
            self.parts.append(data)

    def text(self) -> str:
        lines = [clean_line(x) for x in "".join(self.parts).split("\n")]
        return "\n".join(x for x in lines if x)


def cleaneval_gold(txt: str) -> str:
    """CleanEval gold (URL line, <p>/<h>/<l> markers) -> paragraphs; "" when the page has no article."""
    txt = re.sub(r"<!--.*?-->", "", txt, flags=re.S)
    lines = []
    for line in txt.splitlines():
        if line.startswith("URL:"):
            continue
        line = re.sub(r"^\s*<(p|h|l)>\s*", "\n", line)
        lines.append(line)
    paras = [clean_line(p.replace("\n", " ")) for p in re.split(r"\n\s*\n|\n(?=\S)", "\n".join(lines))]
    return "\n".join(p for p in paras if p)


LANG1_TO_3 = {"en": "eng", "ar": "arb", "zh": "cmn", "ko": "kor", "es": "spa", "fr": "fra", "de": "deu",
              "ja": "jpn", "th": "tha", "lv": "lvs", "my": "mya", "hi": "hin", "bn": "ben", "ne": "npi",
              "it": "ita", "pt": "por", "ru": "rus", "tr": "tur", "cs": "ces", "no": "nob", "sv": "swe",
              "pl": "pol", "nl": "nld", "da": "dan", "id": "ind", "is": "isl", "lt": "lit", "vi": "vie",
              "uk": "ukr", "he": "heb", "el": "ell", "fi": "fin", "hu": "hun", "ro": "ron", "sw": "swh"}


def collect_pages(snaps: dict[str, Snapshot]):
    """Yield page dicts: id, url, source, licence, lang_hint, gold_text, raw (bytes)."""
    lic = {s["repo"]: s["licence"] for s in S.SOURCES}

    snap = snaps.get("geodrome/page-signal")
    if snap:
        base = "L3S-GN1-20100130203947-00001"
        files = snap.ls("HEAD", base + "/")
        urls = {}
        m = files.get(f"{base}/url-mapping.txt")
        if m:
            for line in (snap.read(m) or b"").decode("utf-8", "replace").splitlines():
                if "\t" in line:
                    k, v = line.split("\t", 1)
                    urls[k.strip("<>").replace("urn:uuid:", "")] = v.strip()
        for path, sha in files.items():
            if not path.startswith(f"{base}/original/") or not path.endswith(".html"):
                continue
            stem = path.rsplit("/", 1)[1][:-5]
            raw = snap.read(sha)
            if raw is None:
                continue
            gold = None
            ann = files.get(f"{base}/annotated/{stem}.html")
            if ann:
                p = _L3SGold()
                p.feed(decode_html(snap.read(ann) or b"")[0])
                gold = p.text() or None
            yield dict(id=f"l3sgn1-{stem[:8]}", url=urls.get(stem), source="geodrome/page-signal",
                       licence=lic["geodrome/page-signal"], lang_hint="en", gold_text=gold, raw=raw)

    snap = snaps.get("ppke-nlpg/CleanPortalEval")
    if snap:
        files = snap.ls()
        for path, sha in files.items():
            if not path.startswith("input/"):
                continue
            stem = path.split("/", 1)[1].rsplit(".", 1)[0]
            raw = snap.read(sha)
            if raw is None:
                continue
            m = re.match(rb'\s*<text id="([^"]*)">\s*', raw)
            url = m.group(1).decode("utf-8", "replace") if m else None
            if m:
                raw = raw[m.end():]
                raw = re.sub(rb"\s*</text>\s*$", b"\n", raw)
            gsha = files.get(f"GoldStandard/{stem}.txt")
            gold = cleaneval_gold(decode_html(snap.read(gsha) or b"")[0]) if gsha else None
            yield dict(id=f"cpe-{re.sub(r'[^A-Za-z0-9]+', '-', stem)}", url=url,
                       source="ppke-nlpg/CleanPortalEval", licence=lic["ppke-nlpg/CleanPortalEval"],
                       lang_hint="en", gold_text=gold, raw=raw)  # "" = the page has no article

    snap = snaps.get("goose3/goose3")
    if snap:
        files = snap.ls("HEAD", "tests/data/content/")
        for path, sha in files.items():
            if not path.endswith(".html"):
                continue
            raw = snap.read(sha)
            if raw is None or len(raw) < 5000:  # tiny synthetic markup tests are not real pages
                continue
            meta = {}
            j = files.get(path[:-5] + ".json")
            if j:
                try:
                    meta = json.loads((snap.read(j) or b"{}").decode("utf-8"))
                except ValueError:
                    meta = {}
            exp = meta.get("expected", {}) if isinstance(meta.get("expected"), dict) else {}
            stem = path.rsplit("/", 1)[1][:-5].replace("test_", "")
            yield dict(id=f"goose3-{stem}", url=meta.get("url"), source="goose3/goose3",
                       licence=lic["goose3/goose3"],
                       lang_hint=exp.get("meta_lang") or meta.get("target_language") or None,
                       gold_text=exp.get("cleaned_text") or None, raw=raw)

    def newspaper_language(stem: str) -> str | None:
        """The language the newspaper test suites' file names give (``japanese_article2``, ``vogue.de1``)."""
        names = (("arabic", "ar"), ("chinese", "zh"), ("japanese", "ja"), ("thai", "th"), ("latvian", "lv"),
                 ("spanish", "es"), ("burmese", "my"), ("yna_co_kr", "ko"), ("vogue.de", "de"))
        return next((code for name, code in names if stem.startswith(name)), None)

    snap = snaps.get("codelucas/newspaper")
    if snap:
        files = snap.ls("HEAD", "tests/data/")
        for path, sha in files.items():
            if not (path.startswith("tests/data/html/") and path.endswith(".html")):
                continue
            raw = snap.read(sha)
            if raw is None:
                continue
            stem = path.rsplit("/", 1)[1][:-5]
            t = files.get(f"tests/data/text/{stem}.txt")
            gold = (snap.read(t) or b"").decode("utf-8", "replace").strip() if t else None
            # the suite's pages are English unless the file name says otherwise (japanese_article, vogue.de1)
            yield dict(id=f"newspaper-{re.sub(r'[^A-Za-z0-9]+', '-', stem)}", url=None,
                       source="codelucas/newspaper", licence=lic["codelucas/newspaper"], lang_hint=newspaper_language(stem) or "en",
                       gold_text=gold or None, raw=raw)

    snap = snaps.get("AndyTheFactory/newspaper4k")
    if snap:
        files = snap.ls("HEAD", "tests/data/")
        for path, sha in files.items():
            if not (path.startswith("tests/data/html/") and path.endswith(".html")):
                continue
            raw = snap.read(sha)
            if raw is None or len(raw) < 5000:
                continue
            stem = path.rsplit("/", 1)[1][:-5]
            meta = {}
            j = files.get(f"tests/data/metadata/{stem}.json")
            if j:
                try:
                    meta = json.loads((snap.read(j) or b"{}").decode("utf-8"))
                except ValueError:
                    meta = {}
            t = files.get(f"tests/data/txt/{stem}.txt")
            gold = (snap.read(t) or b"").decode("utf-8", "replace").strip() if t else None
            hint = meta.get("language") or newspaper_language(stem)
            yield dict(id=f"newspaper4k-{re.sub(r'[^A-Za-z0-9]+', '-', stem)}", url=meta.get("url"),
                       source="AndyTheFactory/newspaper4k", licence=lic["AndyTheFactory/newspaper4k"],
                       lang_hint=hint, gold_text=gold or None, raw=raw)

    snap = snaps.get("flairNLP/fundus")
    if snap:
        yield from fundus_pages(snap, lic["flairNLP/fundus"])

    snap = snaps.get("GeneralNewsExtractor/GeneralNewsExtractor")
    if snap:
        # Chinese news and portal pages (163, sina, ifeng, thepaper, people, xinhuanet, ...), no gold text; a page
        # whose <html lang> names another language is left out
        for path, sha in snap.ls("HEAD", "tests/").items():
            if not path.endswith((".html", ".htm")):
                continue
            raw = snap.read(sha)
            if raw is None:
                continue
            if html_lang(raw) not in (None, "zh"):
                continue
            stem = re.sub(r"[^A-Za-z0-9]+", "-", path[len("tests/"):].rsplit(".", 1)[0])
            yield dict(id=f"gne-{stem}", url=None, source="GeneralNewsExtractor/GeneralNewsExtractor",
                       licence=lic["GeneralNewsExtractor/GeneralNewsExtractor"], lang_hint="zh", gold_text=None, raw=raw)

    snap = snaps.get("postlight/parser")
    if snap:
        # one real page per site (English, Japanese, German, French, Chinese news and blogs), no gold text; the
        # language is the page's own <html lang>, and a page that declares none is left out
        for path, sha in snap.ls("HEAD", "fixtures/").items():
            if not path.endswith(".html") or "/" in path[len("fixtures/"):]:
                continue
            raw = snap.read(sha)
            if raw is None or not html_lang(raw):
                continue
            stem = re.sub(r"[^A-Za-z0-9]+", "-", path[len("fixtures/"):-len(".html")])
            yield dict(id=f"postlight-{stem}", url=None, source="postlight/parser", licence=lic["postlight/parser"],
                       lang_hint=html_lang(raw), gold_text=None, raw=raw)


def html_lang(raw: bytes) -> str | None:
    """The primary language subtag of a page's ``<html lang="...">``, lower-cased (None: not declared)."""
    declared = re.search(rb"<html[^>]*\slang\s*=\s*[\"']?([A-Za-z]{2,3})", raw[:20000], re.I)
    return declared.group(1).decode().lower() if declared else None


# fundus names Norwegian "no" in its specs and pages say "nb" (Bokmal): the same language for the bench's truth
_SAME_LANGUAGE = {("nb", "no"), ("nn", "no")}


def fundus_publisher_languages(snap: Snapshot) -> dict[str, set[str]]:
    """Publisher name -> ISO 639-1 codes, from fundus's publisher specs: a publisher's sources' ``languages`` where
    given, else its country group's ``default_language``."""
    languages = {}
    for path, sha in snap.ls("HEAD", "src/fundus/publishers/").items():
        if not path.endswith("/__init__.py"):
            continue
        source = (snap.read(sha) or b"").decode("utf-8", "replace")
        default = re.search(r'default_language\s*=\s*"([a-z]{2,3})"', source)
        for block in re.split(r"\n    (?=\w+\s*=\s*Publisher\()", source)[1:]:
            name = re.match(r"(\w+)\s*=\s*Publisher\(", block).group(1)
            given = {code for group in re.findall(r"languages\s*=\s*\{([^}]*)\}", block) for code in re.findall(r'"([a-z]{2,3})"', group)}
            languages[name] = given or ({default.group(1)} if default else set())
    return languages


def fundus_gold(version: dict) -> str | None:
    """A parser test's expected body (summary, then each section's headline and paragraphs) as paragraphs."""
    body = version.get("body") if isinstance(version, dict) else None
    if not isinstance(body, dict):
        return None
    parts = list(body.get("summary") or [])
    for section in body.get("sections") or []:
        parts += list(section.get("headline") or []) + list(section.get("paragraphs") or [])
    text = "\n".join(clean_line(p) for p in parts if isinstance(p, str) and clean_line(p))
    return text or None


def fundus_pages(snap: Snapshot, licence: str):
    """fundus's parser test pages (gzipped real news pages, one folder per country). The language is the publisher
    spec's, kept only when the spec names one language and the page's own ``<html lang>`` (when it has one) says
    the same (a South African publisher listed as Zulu serves English pages: skipped). Gold: the expected body of
    the parser version the page tests, paired by date order when a publisher has as many pages as versions."""
    languages = fundus_publisher_languages(snap)
    files = snap.ls("HEAD", "tests/resources/parser/test_data/")
    by_publisher: dict[tuple[str, str], list[str]] = {}
    for path in files:
        if path.endswith(".html.gz"):
            country, name = path.split("/")[-2:]
            by_publisher.setdefault((country, name.rsplit("_", 3)[0]), []).append(path)
    for (country, publisher), paths in sorted(by_publisher.items()):
        codes = languages.get(publisher, set())
        if len(codes) != 1:
            continue
        code = next(iter(codes))
        folder = paths[0].rsplit("/", 1)[0]
        meta, expected = {}, {}
        for name, target in (("meta.info", meta), (f"{publisher}.json", expected)):
            if f"{folder}/{name}" in files:
                try:
                    target.update(json.loads((snap.read(files[f"{folder}/{name}"]) or b"{}").decode("utf-8")))
                except ValueError:
                    pass
        versions = [expected[k] for k in sorted(expected, key=lambda v: [int(n) for n in re.findall(r"\d+", v)] or [0])]
        paths = sorted(paths)  # <publisher>_<yyyy_mm_dd>.html.gz: date order
        for n, path in enumerate(paths):
            packed = snap.read(files[path])
            if packed is None:
                continue
            try:
                raw = gzip.decompress(packed)
            except (OSError, EOFError):
                continue
            declared = html_lang(raw)
            if declared and declared != code and (declared, code) not in _SAME_LANGUAGE:
                continue
            gold = fundus_gold(versions[n]) if len(versions) == len(paths) else None
            stem = path.rsplit("/", 1)[1][: -len(".html.gz")]
            yield dict(id=f"fundus-{country}-{re.sub(r'[^A-Za-z0-9]+', '-', stem)}", url=(meta.get(stem + ".html.gz") or {}).get("url"),
                       source="flairNLP/fundus", licence=licence, lang_hint=code, gold_text=gold, raw=raw)


# ------------------------------------------------------------------------------------------- crawls

CRAWL_PATTERNS = {
    "webrecorder/pywb": ("sample_archive/warcs/", re.compile(r"\.(warc|warc\.gz|arc|arc\.gz)$")),
    "edsu/warc": ("testdata/", re.compile(r"\.(warc|warc\.gz)$")),
    "antoinerg/warc-ruby": ("spec/fixtures/", re.compile(r"\.(warc|warc\.gz)$")),
    "chfoo/warcat": ("example/", re.compile(r"\.(warc|warc\.gz)$")),
}


def copy_crawls(snaps, out: Path):
    lic = {s["repo"]: s["licence"] for s in S.SOURCES}
    rows = []
    for repo, (under, pat) in CRAWL_PATTERNS.items():
        snap = snaps.get(repo)
        if not snap:
            continue
        for path, sha in snap.ls("HEAD", under).items():
            if not pat.search(path):
                continue
            raw = snap.read(sha)
            if raw is None:
                continue
            dest = out / "crawls" / repo.replace("/", "+") / path.rsplit("/", 1)[1]
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(raw)
            name = path.lower()
            fmt = "arc" if re.search(r"\.arc(\.gz)?$", name) else "warc"
            head = gzip.decompress(raw)[:200] if raw[:2] == b"\x1f\x8b" else raw[:200]
            version = (re.match(rb"(WARC/[0-9.]+)", head) or re.match(rb"(filedesc://)", head))
            rows.append({"file": str(dest.relative_to(out)), "origin": repo, "path": path, "format": fmt,
                         "gzip": raw[:2] == b"\x1f\x8b", "bytes": len(raw),
                         "version": version.group(1).decode() if version else None,
                         "licence": lic.get(repo)})
    (out / "crawls").mkdir(parents=True, exist_ok=True)
    with open(out / "crawls" / "index.jsonl", "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    return rows


# ---------------------------------------------------------------------------------------------- WARC

SOURCE_HOST = {}


def host_for(source: str) -> str:
    if source not in SOURCE_HOST:
        SOURCE_HOST[source] = re.sub(r"[^a-z0-9]+", "-", source.lower()).strip("-") + ".bench.example"
    return SOURCE_HOST[source]


def wrap_html(doc: dict, nav: list[str], site: str) -> str:
    paras = doc["text"].split("\n")
    title = paras[0][:90].rstrip()
    body = paras[1:] if len(paras) > 1 and len(paras[0]) < 150 else paras
    e = html.escape
    nav_items = "\n".join(f'      <li><a href="/{doc["lang_script"]}/{i}.html">{e(t)}</a></li>'
                          for i, t in enumerate(nav))
    ps = "\n".join(f"      <p>{e(p)}</p>" for p in body)
    h1 = f"      <h1>{e(paras[0])}</h1>\n" if body is not paras else ""
    return (f"<!DOCTYPE html>\n<html>\n<head>\n  <meta charset=\"utf-8\">\n  <title>{e(title)}</title>\n"
            f"</head>\n<body>\n  <header><a href=\"/\">{e(site)}</a>\n    <nav><ul>\n{nav_items}\n    </ul></nav>\n"
            f"  </header>\n  <main>\n    <article>\n{h1}{ps}\n    </article>\n  </main>\n"
            f"  <footer><p>{e(site)} · {e(doc['licence'] or '')}</p></footer>\n</body>\n</html>\n")


class WarcOut:
    def __init__(self, path: Path):
        self.f = open(path, "wb")
        try:
            from warcio.warcwriter import WARCWriter
            from warcio.statusandheaders import StatusAndHeaders
            self.writer, self.SH = WARCWriter(self.f, gzip=True, warc_version="WARC/1.0"), StatusAndHeaders
        except Exception:
            self.writer = None
        self.n = 0

    def _id(self, key: str) -> str:
        return f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, key)}>"

    def warcinfo(self, fields: dict):
        payload = "".join(f"{k}: {v}\r\n" for k, v in fields.items()).encode()
        if self.writer:
            rec = self.writer.create_warc_record("real_pages.warc.gz", "warcinfo", payload=io.BytesIO(payload),
                                                 length=len(payload),
                                                 warc_content_type="application/warc-fields",
                                                 warc_headers_dict={"WARC-Date": BUILD_DATE,
                                                                    "WARC-Record-ID": self._id("warcinfo"),
                                                                    "WARC-Filename": "real_pages.warc.gz"})
            self.writer.write_record(rec)
        else:
            self._raw("warcinfo", None, payload, "application/warc-fields")

    def response(self, url: str, body: bytes):
        http = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))]
        if self.writer:
            sh = self.SH("200 OK", http, protocol="HTTP/1.1")
            rec = self.writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                                 http_headers=sh,
                                                 warc_headers_dict={"WARC-Date": BUILD_DATE,
                                                                    "WARC-Record-ID": self._id(url)})
            self.writer.write_record(rec)
        else:
            head = "HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in http) + "\r\n"
            self._raw("response", url, head.encode() + body, "application/http; msgtype=response")
        self.n += 1

    def _raw(self, typ, url, block, ctype):
        hdr = [("WARC-Type", typ), ("WARC-Record-ID", self._id(url or typ)), ("WARC-Date", BUILD_DATE)]
        if url:
            hdr.append(("WARC-Target-URI", url))
        hdr += [("Content-Type", ctype), ("Content-Length", str(len(block))),
                ("WARC-Block-Digest", "sha1:" + hashlib.sha1(block).hexdigest())]
        rec = ("WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdr) + "\r\n").encode() + block + b"\r\n\r\n"
        self.f.write(gzip.compress(rec, mtime=0))

    def close(self):
        self.f.close()


# ---------------------------------------------------------------------------------------------- main

# What this builder writes under --out, and nothing else: a rebuild removes exactly these, so the outputs of
# other benches in the same folder (quality/ from bench/make_quality_bench.py and bench/bench_quality.py,
# lid_mixture.jsonl from bench/lid_mixture.py, ...) survive it.
OWN_DIRS = ("text", "pages", "crawls")
OWN_FILES = ("real_pages.warc.gz", "real_pages.truth.jsonl", "summary.json")


def clear_own_outputs(out: Path) -> None:
    """Remove this builder's previous outputs under `out` (OWN_DIRS, OWN_FILES); leave everything else."""
    for name in OWN_DIRS:
        if (out / name).is_dir():
            shutil.rmtree(out / name)
    for name in OWN_FILES:
        (out / name).unlink(missing_ok=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mirror", default=str(HERE.parent.parent / ".mirror"), help="folder of fetched snapshots (default: .mirror beside the repository)")
    ap.add_argument("--out", default=str(HERE / "data"))
    ap.add_argument("--cap", type=int, default=300, help="documents per lang_script (all sources together)")
    ap.add_argument("--list-repos", action="store_true", help="print the repositories to fetch and exit")
    args = ap.parse_args(argv)
    if args.list_repos:
        print("\n".join(S.all_repos()))
        return 0
    mirror, out = Path(args.mirror), Path(args.out)
    clear_own_outputs(out)
    (out / "text").mkdir(parents=True)
    (out / "pages" / "html").mkdir(parents=True)

    missing, snaps = [], {}
    for repo in S.all_repos():
        snap = open_snapshot(mirror, repo)
        if snap is None:
            missing.append(repo)
        else:
            snaps[repo] = snap

    # ---- text: candidate documents per (lang_script, source), capped per source first -------------
    cands: dict[str, dict[str, list[dict]]] = defaultdict(lambda: defaultdict(list))
    notes = []

    def add(source: str, lang: str, docs, licence: str, genre: str):
        for paras in docs:
            text = "\n".join(p for p in paras if p)
            if len(text) < 100:
                continue
            label = f"{lang}_{script_of(text)}"
            cands[label][source].append({"lang_script": label, "text": text, "source": source,
                                         "licence": licence, "genre": genre})

    for tb in S.UD_TREEBANKS:
        repo = f"UniversalDependencies/{tb}"
        snap = snaps.get(repo)
        if not snap:
            continue
        docs, meta, ref = ud_documents(snap, tb, args.cap)
        if meta.get("_absent"):
            notes.append(f"{repo}: absent from the snapshot (>=4 MiB): {', '.join(meta['_absent'])}")
        if not docs:
            notes.append(f"{repo}: no usable text (ref {ref})")
            continue
        genre = meta.get("Genre", "").strip() or "unknown"
        if tb in S.UD_GENRE_NOTE:
            genre = f"{genre} ({S.UD_GENRE_NOTE[tb]})"
        add(repo, S.ud_language(tb), docs, meta.get("License", "see repository"), genre)

    snap = snaps.get("christos-c/bible-corpus")
    if snap:
        lic = next(s["licence"] for s in S.SOURCES if s["repo"] == "christos-c/bible-corpus")
        files = snap.ls()
        meta_rows = list(csv.DictReader(io.StringIO((snap.read(files["metadata.csv"]) or b"").decode("utf-8"))))
        codes = {r["Filename"]: S.BIBLE_CODE_OVERRIDES.get(r["ISO_639-3"], r["ISO_639-3"]) for r in meta_rows}
        absent = []
        for path, sha in files.items():
            name = path.split("/")[-1]
            if not path.startswith("bibles/") or "-tok" in name or name not in codes:
                continue
            docs = bible_documents(snap, path, sha, name, args.cap)
            if docs is None:
                absent.append(name)
                continue
            add("christos-c/bible-corpus", codes[name], docs, lic, "bible")
        if absent:
            notes.append(f"christos-c/bible-corpus: {len(absent)} bibles absent from the snapshot (>=4 MiB)")

    snap = snaps.get("masakhane-io/masakhane-news")
    if snap:
        lic = next(s["licence"] for s in S.SOURCES if s["repo"] == "masakhane-io/masakhane-news")
        for d, code in sorted(S.MASAKHANE_NEWS_CODES.items()):
            add("masakhane-io/masakhane-news", code, masakhanews_documents(snap, d, args.cap), lic, "news")

    snap = snaps.get("masakhane-io/masakhane-ner")
    if snap:
        lic = next(s["licence"] for s in S.SOURCES if s["repo"] == "masakhane-io/masakhane-ner")
        for d, code in sorted(S.MASAKHANER_CODES.items()):
            add("masakhane-io/masakhane-ner", code, masakhaner_documents(snap, d, args.cap), lic, "news")

    for source in (s for s in S.SOURCES if s["kind"] == "americasnlp"):
        snap = snaps.get(source["repo"])
        if not snap:
            continue
        by_lang: dict = defaultdict(list)
        for path, code in source.get("files", S.AMERICASNLP_FILES):
            by_lang[code].append(path)
        for code, paths in sorted(by_lang.items()):
            add(source["repo"], code, lines_documents(snap, paths, args.cap), source["licence"], "mixed")

    # ---- cap per lang_script: round-robin over its sources (source order = fixed) ------------------
    text_docs: dict[str, list[dict]] = {}
    for label in sorted(cands):
        per_src = cands[label]
        order = sorted(per_src)
        picked, idx = [], {s: 0 for s in order}
        while len(picked) < args.cap and any(idx[s] < len(per_src[s]) for s in order):
            for s in order:
                if idx[s] < len(per_src[s]) and len(picked) < args.cap:
                    picked.append(per_src[s][idx[s]])
                    idx[s] += 1
        for n, d in enumerate(picked):
            d["id"] = f"{label}-{n:04d}"
        text_docs[label] = [{k: d[k] for k in ("id", "lang_script", "text", "source", "licence", "genre")}
                            for d in picked]
        with open(out / "text" / f"{label}.jsonl", "w", encoding="utf-8") as f:
            for d in text_docs[label]:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")

    # ---- pages ----------------------------------------------------------------------------------
    pages, seen_ids = [], set()
    with open(out / "pages" / "pages.jsonl", "w", encoding="utf-8") as f:
        for p in collect_pages(snaps):
            pid = p["id"]
            while pid in seen_ids:
                pid += "x"
            seen_ids.add(pid)
            p["id"] = pid
            raw = p.pop("raw")
            text, cs = decode_html(raw)
            (out / "pages" / "html" / f"{pid}.html").write_bytes(raw)
            p["charset"], p["bytes"] = cs, len(raw)
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
            p["_html"] = text
            pages.append(p)

    crawl_rows = copy_crawls(snaps, out)

    # ---- the WARC + truth -------------------------------------------------------------------------
    warc = WarcOut(out / "real_pages.warc.gz")
    warc.warcinfo({"software": "longtail bench/build_real_bench.py", "format": "WARC File Format 1.0",
                   "description": "real pages and real text wrapped in HTML; truth in real_pages.truth.jsonl",
                   "isPartOf": "longtail-real-bench"})
    used_urls = set()
    with open(out / "real_pages.truth.jsonl", "w", encoding="utf-8") as truth:
        for p in pages:
            url = p["url"] if p["url"] and p["url"].startswith("http") else None
            if not url or url in used_urls:
                url = f"http://{host_for(p['source'])}/pages/{p['id']}.html"
            used_urls.add(url)
            gold = p["gold_text"] or ""
            hint = (p["lang_hint"] or "").lower()[:2]
            label = None
            if hint in LANG1_TO_3 and gold:
                label = f"{LANG1_TO_3[hint]}_{script_of(gold)}"
            warc.response(url, as_utf8_page(p["_html"]))
            truth.write(json.dumps({"url": url, "id": p["id"], "lang_script": label, "source": p["source"],
                                    "kind": "page"}, ensure_ascii=False) + "\n")
        for label in sorted(text_docs):
            docs = text_docs[label]
            titles = [d["text"].split("\n")[0][:60] for d in docs]
            for n, d in enumerate(docs):
                nav = [titles[(n + k) % len(titles)] for k in range(1, min(6, len(titles)))]
                site = host_for(d["source"])
                url = f"http://{label.lower().replace('_', '-')}.{site}/{d['id']}.html"
                used_urls.add(url)
                warc.response(url, wrap_html(d, nav, site).encode("utf-8"))
                truth.write(json.dumps({"url": url, "id": d["id"], "lang_script": label, "source": d["source"],
                                        "kind": "text"}, ensure_ascii=False) + "\n")
    warc.close()

    # ---- summary ------------------------------------------------------------------------------
    langs = {}
    for label, docs in sorted(text_docs.items()):
        langs[label] = {"documents": len(docs), "characters": sum(len(d["text"]) for d in docs),
                        "sources": dict(sorted(Counter(d["source"] for d in docs).items()))}
    summary = {
        "date": BUILD_DATE[:10],
        "languages": len({k.split("_")[0] for k in langs}),
        "lang_scripts": len(langs),
        "scripts": sorted({k.split("_")[1] for k in langs}),
        "documents": sum(v["documents"] for v in langs.values()),
        "characters": sum(v["characters"] for v in langs.values()),
        "pages": len(pages),
        "pages_per_source": dict(sorted(Counter(p["source"] for p in pages).items())),
        "pages_with_gold": sum(1 for p in pages if p["gold_text"] is not None),
        "pages_without_article": sum(1 for p in pages if p["gold_text"] == ""),
        "crawl_files": len(crawl_rows),
        "warc_records": warc.n,
        "per_lang_script": langs,
        "missing_snapshots": missing,
        "notes": notes,
        "script_detector": "GlotScript" if _glot_sp else "unicodedata",
    }
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")

    print(f"{'lang_script':<14}{'docs':>6}{'chars':>11}  sources")
    print("-" * 78)
    for label, v in langs.items():
        srcs = ", ".join(f"{s.split('/')[-1]}:{c}" for s, c in v["sources"].items())
        print(f"{label:<14}{v['documents']:>6}{v['characters']:>11}  {srcs[:44]}")
    print("-" * 78)
    print(f"{summary['languages']} languages, {summary['lang_scripts']} language+script labels, "
          f"{len(summary['scripts'])} scripts ({' '.join(summary['scripts'])}), {summary['documents']} documents, "
          f"{summary['characters']} characters")
    print(f"{summary['pages']} pages ({summary['pages_with_gold']} with gold text, "
          f"{summary['pages_without_article']} of them gold-empty = no article): "
          + ", ".join(f"{k}:{v}" for k, v in summary["pages_per_source"].items()))
    print(f"{summary['crawl_files']} crawl files; real_pages.warc.gz: {warc.n} response records")
    for n in notes:
        print("note:", n)
    if missing:
        print(f"\n{len(missing)} snapshot(s) missing under {mirror} -- fetch these and run again:")
        for r in missing:
            print("  ", r)
    for s in snaps.values():
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

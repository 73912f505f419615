"""Sources of the real-data development bench (bench/build_real_bench.py).

Every source is a public GitHub repository read ONLY from a local snapshot (bare git directory) under the
mirror directory (default: .mirror/<owner>+<name>/repo[/.git] beside the repository); nothing here is committed to this
repository, and nothing is downloaded by the build itself.

Each entry of SOURCES says: repo ("owner/name"), kind (how the builder reads it), what we take, the path
patterns, the licence as stated in the repository, and language-code notes.  Licences are copied from the
repositories (UD treebanks: the "License:" line of each treebank's README machine-readable metadata, read
again at build time and stored per document).  Several sources are NON-COMMERCIAL or RESEARCH-ONLY: the bench
is a local development aid and must never be redistributed or committed.

Language labels are ISO 639-3 *individual* codes (e.g. cmn, arb, pes, ekk, lvs, swh, kpv); fold them with
longtail.langid.labels.canonical_language(code, policy="macro") to compare with the pipeline's default
macro policy.  The script half of every label is derived from each document's own characters at build time.

RESERVED FOR HELD-OUT EVALUATION, never fetched nor used here (see FORBIDDEN): UDHR translations
(udhr-in-unicode and anything derived), lingua-py test data, langid.py test samples, scrapinghub
article-extraction-benchmark, htmltotext-benchmark, trafilatura test pages, Mozilla Readability test pages
and ports that copy them (go-readability, readability.js forks, ReadabiliPy, merged sets that include them such
as j-szulc/html-cleaning-dataset-merged), and the test WARCs of resiliparse, warcio, jwarc, dolma,
ia-web-commons and whirlwind-python.
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------------------------
# Universal Dependencies: UD_<Language>-<Treebank>.  Language part of the repo name -> ISO 639-3.
# Notes on choices: Arabic (PADT = Modern Standard) -> arb; Persian (Seraji) -> pes; Chinese -> cmn
# (GSD = traditional characters, GSDSimp = simplified; the script label says Hani for both, as GlotScript
# does); Cantonese -> yue; Classical Chinese -> lzh; Estonian -> ekk; Latvian -> lvs; Albanian (TSA, Tosk
# standard) -> als; Gheg -> aln; Uzbek -> uzn; Azerbaijani -> azj; Pashto -> pbt (Sikaram text is standard
# Pashto; pus would be the macrolanguage); Northern Kurdish -> kmr; Swahili -> swh; Komi Zyrian -> kpv,
# Komi Permyak -> koi; Mbya Guarani -> gun; Norwegian -> nob / nno; Maghrebi Arabic-French (Arabizi,
# Latin-script Algerian) -> arq; South Levantine Arabic -> ajp; Swiss German -> gsw; Bavarian -> bar;
# Low Saxon -> nds; Frisian-Dutch (code-switching, mostly Frisian) -> fry; Highland Puebla Nahuatl -> azz;
# Yupik (St. Lawrence Island) -> ess; Pomak: UD uses the private code qpm; Pomak has no ISO 639-3 code
# and is counted as a Bulgarian variety -> bul (its script half comes from its text).
UD_LANGUAGE = {
    "Abaza": "abq", "Afrikaans": "afr", "Akuntsu": "aqz", "Albanian": "als", "Amharic": "amh",
    "Apurina": "apu", "Arabic": "arb", "Armenian": "hye", "Azerbaijani": "azj", "Bambara": "bam",
    "Basque": "eus", "Bavarian": "bar", "Beja": "bej", "Belarusian": "bel", "Bengali": "ben",
    "Bhojpuri": "bho", "Breton": "bre", "Bulgarian": "bul", "Buryat": "bxr", "Cantonese": "yue",
    "Catalan": "cat", "Cebuano": "ceb", "Chinese": "cmn", "Chukchi": "ckt", "Classical_Armenian": "xcl",
    "Classical_Chinese": "lzh", "Coptic": "cop", "Croatian": "hrv", "Czech": "ces", "Danish": "dan",
    "Dutch": "nld", "English": "eng", "Erzya": "myv", "Estonian": "ekk", "Faroese": "fao",
    "Finnish": "fin", "French": "fra", "Frisian_Dutch": "fry", "Galician": "glg", "Georgian": "kat",
    "German": "deu", "Gheg": "aln", "Greek": "ell", "Guajajara": "gub", "Gujarati": "guj",
    "Hausa": "hau", "Hebrew": "heb", "Highland_Puebla_Nahuatl": "azz", "Hindi": "hin",
    "Hungarian": "hun", "Icelandic": "isl", "Indonesian": "ind", "Irish": "gle", "Italian": "ita",
    "Japanese": "jpn", "Javanese": "jav", "Kangri": "xnr", "Karelian": "krl", "Kazakh": "kaz",
    "Khunsari": "kfm", "Kiche": "quc", "Komi_Permyak": "koi", "Komi_Zyrian": "kpv", "Korean": "kor",
    "Kyrgyz": "kir", "Latvian": "lvs", "Ligurian": "lij", "Lithuanian": "lit", "Livvi": "olo",
    "Low_Saxon": "nds", "Luxembourgish": "ltz", "Macedonian": "mkd", "Madi": "jaa", "Magahi": "mag",
    "Maghrebi_Arabic_French": "arq", "Malayalam": "mal", "Maltese": "mlt", "Manx": "glv",
    "Marathi": "mar", "Mbya_Guarani": "gun", "Moksha": "mdf", "Munduruku": "myu", "Naija": "pcm",
    "Neapolitan": "nap", "Nheengatu": "yrl", "North_Sami": "sme", "Northern_Kurdish": "kmr",
    "Norwegian-Bokmaal": "nob", "Norwegian-Nynorsk": "nno", "Occitan": "oci", "Odia": "ory",
    "Old_Church_Slavonic": "chu", "Pashto": "pbt", "Paumari": "pad", "Persian": "pes", "Polish": "pol",
    "Pomak": "bul", "Portuguese": "por", "Punjabi": "pan", "Romanian": "ron", "Russian": "rus",
    "Ruuli": "ruc", "Sanskrit": "san", "Scottish_Gaelic": "gla", "Serbian": "srp", "Sindhi": "snd",
    "Sinhala": "sin", "Slovak": "slk", "Slovenian": "slv", "South_Levantine_Arabic": "ajp",
    "Spanish": "spa", "Swahili": "swh", "Swedish": "swe", "Swiss_German": "gsw", "Tagalog": "tgl",
    "Tamil": "tam", "Tatar": "tat", "Teko": "eme", "Telugu": "tel", "Thai": "tha", "Tupinamba": "tpn",
    "Turkish": "tur", "Ukrainian": "ukr", "Upper_Sorbian": "hsb", "Urdu": "urd", "Uyghur": "uig",
    "Uzbek": "uzn", "Veps": "vep", "Vietnamese": "vie", "Welsh": "cym", "Western_Armenian": "hyw",
    "Wolof": "wol", "Xavante": "xav", "Xibe": "sjo", "Yakut": "sah", "Yoruba": "yor", "Yupik": "ess",
    "Zaar": "sax",
}
# Teko (Emerillon) is "eme" (not "emp", Northern Emberá).

# Added for the issue-13 mixture (more languages, many of them unknown to both LID backends).  Historical
# stages get their own ISO 639-3 codes (Ancient Greek grc, Ancient Hebrew hbo, Old East Slavic orv, Old
# French fro, Middle French frm, Old Occitan pro, Ottoman Turkish ota, here in its Latin transcription);
# Central Kurdish (Mukri, Latin transcription) ckb; Southern Kurdish (Garrusi) sdh; Ika (Arhuaco) arh;
# Tundra Nenets yrk; Kaapor urb; Karo arr; Makurap mpu; Cappadocian Greek cpg; Northwest Gbaya gya; Oroch
# oac.  Egyptian (egy), Hittite (hit) and Akkadian (akk) are scholarly transliterations of hieroglyphic /
# cuneiform text and Daur (dta) is an IPA transcription: real text of the language, but not an everyday
# orthography (genre says so).  Left out: Pesh and Bokota (ChibErgIS: much of `# text` is Spanish), Naga
# (Nagamese mixed with English), Prakrit (`pra` is a collective code), Old Irish (64 one-word glosses), Soi
# and Nayini (8-10 sentences), Phrygian (fragmentary inscriptions), Old Turkish (20 lines).
UD_LANGUAGE.update({
    "Abkhaz": "abk", "Akkadian": "akk", "Ancient_Greek": "grc", "Ancient_Hebrew": "hbo", "Assyrian": "aii",
    "Bororo": "bor", "Cappadocian": "cpg", "Central_Kurdish": "ckb", "Daur": "dta", "Egyptian": "egy",
    "Gothic": "got", "Haitian_Creole": "hat", "Hittite": "hit", "Ika": "arh", "Kaapor": "urb", "Karo": "arr",
    "Khoekhoe": "naq", "Latin": "lat", "Makurap": "mpu", "Middle_French": "frm", "Nenets": "yrk",
    "Northwest_Gbaya": "gya", "Old_East_Slavic": "orv", "Old_French": "fro", "Old_Occitan": "pro",
    "Oroch": "oac", "Ottoman_Turkish": "ota", "Sicilian": "scn", "Skolt_Sami": "sms",
    "Southern_Kurdish": "sdh", "Turkmen": "tuk", "Umbrian": "xum", "Warlpiri": "wbp", "Yiddish": "ydd",
})

# Added to the README genre of these treebanks (their text is not in an everyday orthography).
UD_GENRE_NOTE = {"UD_Egyptian-UJaen": "transliteration", "UD_Hittite-HitTB": "transliteration",
                 "UD_Akkadian-RIAO": "transliteration", "UD_Daur-GDUD": "IPA transcription"}

# Treebanks whose `# text` carries transcription tags (<p> pause, <n>, <un> ...): tags are removed.
UD_STRIP_TAGS = {"UD_Nenets-Tundra"}

# The UD treebanks fetched for the bench (one repository each).  Order = priority when several sources
# share a language (the per-language cap is shared round-robin over sources).
UD_TREEBANKS = [
    "UD_Abaza-ATB", "UD_Afrikaans-AfriBooms", "UD_Akuntsu-TuDeT", "UD_Albanian-TSA", "UD_Amharic-ATT",
    "UD_Apurina-UFPA", "UD_Arabic-PUD", "UD_Armenian-ArmTDP", "UD_Azerbaijani-TueCL", "UD_Bambara-CRB",
    "UD_Basque-BDT", "UD_Bavarian-MaiBaam", "UD_Beja-NSC", "UD_Belarusian-HSE", "UD_Bengali-BRU",
    "UD_Bhojpuri-BHTB", "UD_Breton-KEB", "UD_Bulgarian-BTB", "UD_Buryat-BDT", "UD_Cantonese-HK",
    "UD_Cebuano-GJA", "UD_Chinese-GSD", "UD_Chinese-GSDSimp", "UD_Chukchi-HSE",
    "UD_Classical_Armenian-CAVaL", "UD_Classical_Chinese-Kyoto", "UD_Coptic-Scriptorium",
    "UD_Croatian-SET", "UD_Czech-FicTree", "UD_Danish-DDT", "UD_Dutch-LassySmall", "UD_English-EWT",
    "UD_Erzya-JR", "UD_Estonian-EWT", "UD_Faroese-OFT", "UD_Finnish-TDT", "UD_French-GSD",
    "UD_Frisian_Dutch-Fame", "UD_Galician-TreeGal", "UD_Georgian-GLC", "UD_Georgian-GNC",
    "UD_German-GSD", "UD_Gheg-GPS", "UD_Greek-GDT", "UD_Guajajara-TuDeT", "UD_Gujarati-GujTB",
    "UD_Hausa-NorthernAutogramm", "UD_Hebrew-HTB", "UD_Hebrew-IAHLTwiki",
    "UD_Highland_Puebla_Nahuatl-ITML", "UD_Hindi-PUD", "UD_Hungarian-Szeged", "UD_Icelandic-Modern",
    "UD_Indonesian-GSD", "UD_Irish-IDT", "UD_Irish-TwittIrish", "UD_Italian-ISDT", "UD_Japanese-GSD",
    "UD_Javanese-CSUI", "UD_Kangri-KDTB", "UD_Karelian-KKPP", "UD_Kazakh-KTB", "UD_Khunsari-AHA",
    "UD_Kiche-IU", "UD_Komi_Permyak-UH", "UD_Komi_Zyrian-Lattice", "UD_Korean-GSD", "UD_Korean-Kaist",
    "UD_Kyrgyz-KTMU", "UD_Latvian-LVTB", "UD_Ligurian-GLT", "UD_Lithuanian-ALKSNIS", "UD_Livvi-KKPP",
    "UD_Low_Saxon-LSDC", "UD_Luxembourgish-LuxBank", "UD_Macedonian-MTB", "UD_Madi-Jarawara",
    "UD_Magahi-MGTB", "UD_Maghrebi_Arabic_French-Arabizi", "UD_Malayalam-UFAL", "UD_Maltese-MUDT",
    "UD_Manx-Cadhan", "UD_Marathi-UFAL", "UD_Mbya_Guarani-Thomas", "UD_Moksha-JR",
    "UD_Munduruku-TuDeT", "UD_Naija-NSC", "UD_Neapolitan-RB", "UD_Nheengatu-CompLin",
    "UD_North_Sami-Giella", "UD_Northern_Kurdish-Kurmanji", "UD_Norwegian-Bokmaal",
    "UD_Norwegian-Nynorsk", "UD_Occitan-TTB", "UD_Odia-ODTB", "UD_Old_Church_Slavonic-PROIEL",
    "UD_Pashto-Sikaram", "UD_Paumari-TueCL", "UD_Persian-Seraji", "UD_Polish-LFG",
    "UD_Portuguese-GSD", "UD_Punjabi-PunTB", "UD_Romanian-RRT", "UD_Russian-GSD", "UD_Ruuli-RDT",
    "UD_Sanskrit-UFAL", "UD_Scottish_Gaelic-ARCOSG", "UD_Serbian-SET", "UD_Sindhi-Isra",
    "UD_Sindhi-MazharDootio", "UD_Sinhala-STB", "UD_Slovak-SNK", "UD_Slovenian-SSJ",
    "UD_South_Levantine_Arabic-MADAR", "UD_Spanish-GSD", "UD_Swedish-Talbanken",
    "UD_Swiss_German-UZH", "UD_Tagalog-TRG", "UD_Tamil-MWTT", "UD_Tamil-TTB", "UD_Tatar-NMCTT",
    "UD_Teko-TuDeT", "UD_Telugu-MTG", "UD_Thai-PUD", "UD_Thai-TUD", "UD_Tupinamba-TuDeT",
    "UD_Turkish-IMST", "UD_Ukrainian-IU", "UD_Upper_Sorbian-UFAL", "UD_Urdu-UDTB", "UD_Uyghur-UDT",
    "UD_Uzbek-UT", "UD_Veps-VWT", "UD_Vietnamese-VTB", "UD_Welsh-CCG", "UD_Western_Armenian-ArmTDP",
    "UD_Wolof-WTB", "UD_Xavante-XDT", "UD_Xibe-XDT", "UD_Yakut-YKTDT", "UD_Yoruba-YTB", "UD_Yupik-SLI",
    "UD_Zaar-Autogramm",
    # added for the issue-13 mixture (2026-12)
    "UD_Abkhaz-AbNC", "UD_Akkadian-RIAO", "UD_Ancient_Greek-PTNK", "UD_Ancient_Hebrew-PTNK", "UD_Assyrian-AS",
    "UD_Bororo-BDT", "UD_Cappadocian-AMGiC", "UD_Central_Kurdish-Mukri", "UD_Daur-GDUD", "UD_Egyptian-UJaen",
    "UD_Gothic-PROIEL", "UD_Haitian_Creole-Autogramm", "UD_Hittite-HitTB", "UD_Ika-ChibErgIS", "UD_Kaapor-TuDeT",
    "UD_Karo-TuDeT", "UD_Khoekhoe-KDT", "UD_Latin-Perseus", "UD_Makurap-TuDeT", "UD_Middle_French-PROFITEROLE",
    "UD_Nenets-Tundra", "UD_Northwest_Gbaya-Autogramm", "UD_Old_East_Slavic-TOROT", "UD_Old_French-PROFITEROLE",
    "UD_Old_Occitan-CorAG", "UD_Oroch-GDUD", "UD_Ottoman_Turkish-BOUN", "UD_Sicilian-STB", "UD_Skolt_Sami-Giellagas",
    "UD_Southern_Kurdish-Garrusi", "UD_Turkmen-TUD", "UD_Umbrian-IKUVINA", "UD_Warlpiri-UFAL", "UD_Yiddish-YiTB",
]


def ud_language(treebank: str) -> str:
    """ISO 639-3 code of a UD repository name such as 'UD_Komi_Zyrian-Lattice'."""
    name = treebank[len("UD_"):]
    lang, _, tb = name.partition("-")
    key = f"{lang}-{tb}" if f"{lang}-{tb}" in UD_LANGUAGE else lang
    return UD_LANGUAGE[key]


# Languages whose sentences are written without spaces between them (joined with "" instead of " ").
NO_SPACE_JOIN = {"cmn", "yue", "lzh", "jpn"}

# --------------------------------------------------------------------------------------------------------
# christos-c/bible-corpus: bibles/<Name>.xml (CES XML, <seg> = verse).  The language code is the
# ISO_639-3 column of metadata.csv; files of 4 MiB and more are absent from the snapshot (the full Bibles),
# so mostly the New-Testament-only files of small languages remain.  "-tok" files (pre-tokenised) skipped.
# Overrides for metadata codes that are not what we want as label:
# (individual codes, as for the UD treebanks; "que" of Quichua-NT stays the macrolanguage: the metadata does
# not say which Quichua variety it is).
BIBLE_CODE_OVERRIDES = {"est": "ekk", "lav": "lvs", "alb": "als", "ara": "arb", "nep": "npi", "nor": "nob"}

# masakhane-io/masakhane-news: data/<lang>/{train,dev,test}.tsv (category, headline, text, url).
MASAKHANE_NEWS_CODES = {
    "amh": "amh", "eng": "eng", "fra": "fra", "hau": "hau", "ibo": "ibo", "lin": "lin", "lug": "lug",
    "orm": "gaz", "pcm": "pcm", "run": "run", "sna": "sna", "som": "som", "swa": "swh", "tir": "tir",
    "xho": "xho", "yor": "yor",
}

# masakhane-io/masakhane-ner: MasakhaNER2.0/data/<lang>/{train,dev,test}.txt (CoNLL: token TAG).
# Tokenised text, detokenised by the builder (space before punctuation removed) -- less natural than
# MasakhaNEWS, used for the languages MasakhaNEWS lacks.
MASAKHANER_CODES = {
    "bam": "bam", "bbj": "bbj", "ewe": "ewe", "fon": "fon", "kin": "kin", "luo": "luo", "mos": "mos",
    "nya": "nya", "tsn": "tsn", "twi": "twi", "wol": "wol", "zul": "zul",
}

# AmericasNLP/americasnlp2021: data/<pair>/{train,dev}.<code> (one sentence per line; Spanish side unused).
# Hñähñu (oto in the repo) -> ote (Mezquital Otomi, the variety of the Tsunkua corpus); Guarani gn -> gug;
# Aymara -> ayr; Rarámuri (tar) -> tar (Central Tarahumara); nahuatl-spanish skipped (Axolotl mixes
# varieties; no single ISO 639-3 code; UD Highland Puebla Nahuatl covers Nahuatl).  The Quechua train file
# is absent from the snapshot (>4 MiB), so only its dev file is used.
AMERICASNLP_FILES = [
    ("data/ashaninka-spanish/train.cni", "cni"), ("data/ashaninka-spanish/dev.cni", "cni"),
    ("data/aymara-spanish/train.aym", "ayr"), ("data/aymara-spanish/dev.aym", "ayr"),
    ("data/bribri-spanish/train.bzd", "bzd"), ("data/bribri-spanish/dev.bzd", "bzd"),
    ("data/guarani-spanish/train.gn", "gug"), ("data/guarani-spanish/dev.gn", "gug"),
    ("data/hñähñu-spanish/train.oto", "ote"), ("data/hñähñu-spanish/dev.oto", "ote"),
    ("data/quechua-spanish/dev.quy", "quy"),
    ("data/raramuri-spanish/train_nontok.tar", "tar"), ("data/raramuri-spanish/dev.tar", "tar"),
    ("data/shipibo_konibo-spanish/train.shp", "shp"), ("data/shipibo_konibo-spanish/dev.shp", "shp"),
    ("data/wixarika-spanish/train.hch", "hch"), ("data/wixarika-spanish/dev.hch", "hch"),
]

# AmericasNLP/americasnlp2025: the two languages the 2021 data lacks.  Wayuunaiki (guc; train.guc is >4 MiB
# and absent, dev.guc is used) and Western Highland Chatino (ctp, the code the files carry; tone letters as
# superscripts, as written in the source).  Awajún (agr) is already in the bench from the Bible corpus.
AMERICASNLP2025_FILES = [
    ("ST1_MachineTranslation/data/wayuu-spanish/dev.guc", "guc"),
    ("ST1_MachineTranslation/data/chatino-spanish/train.ctp", "ctp"),
    ("ST1_MachineTranslation/data/chatino-spanish/dev.ctp", "ctp"),
]

# --------------------------------------------------------------------------------------------------------
SOURCES = [
    {
        "repo": "UniversalDependencies/UD_*",
        "repos": [f"UniversalDependencies/{tb}" for tb in UD_TREEBANKS],
        "kind": "ud",
        "take": "`# text =` sentences of the released *.conllu files (branch master, or dev when master has "
                "none), grouped by `# newdoc` / `# newpar`, else chunks of consecutive sentences",
        "paths": ["*.conllu (repository root only; not-to-release/ is skipped)"],
        "licence": "per treebank, the README 'License:' line (mostly CC BY-SA 4.0; some CC BY-NC-SA, "
                   "GPL 3.0 (Polish-LFG), LGPL-LR (Galician-TreeGal), C-UDA (Ligurian), PD (Classical Chinese))",
        "lang_notes": "UD_LANGUAGE table above (repo name -> ISO 639-3)",
    },
    {
        "repo": "christos-c/bible-corpus",
        "kind": "bible",
        "take": "verses (<seg>) of each available bible, grouped by chapter (long chapters split)",
        "paths": ["bibles/*.xml (not *-tok.xml)", "metadata.csv"],
        "licence": "CC0 1.0 (repository LICENSE; the translations' own rights as described in the corpus paper)",
        "lang_notes": "metadata.csv ISO_639-3 column",
    },
    {
        "repo": "masakhane-io/masakhane-news",
        "kind": "masakhanews",
        "take": "news articles (headline + text) of 16 languages",
        "paths": ["data/<lang>/{train,dev,test}.tsv"],
        "licence": "not stated in the repository (articles from BBC/VOA/other news sites; research dataset, "
                   "AfricaNLP/IJCNLP-AACL 2023 MasakhaNEWS)",
        "lang_notes": "MASAKHANE_NEWS_CODES (orm -> gaz, swa -> swh)",
    },
    {
        "repo": "masakhane-io/masakhane-ner",
        "kind": "masakhaner",
        "take": "sentences of MasakhaNER 2.0 (detokenised), chunked into documents",
        "paths": ["MasakhaNER2.0/data/<lang>/{train,dev,test}.txt"],
        "licence": "CC BY-NC 4.0 (README: NER dataset; monolingual sources under their sites' licences)",
        "lang_notes": "MASAKHANER_CODES",
    },
    {
        "repo": "AmericasNLP/americasnlp2021",
        "kind": "americasnlp",
        "take": "indigenous-language side of the shared-task train/dev sentences, chunked into documents",
        "paths": [p for p, _ in AMERICASNLP_FILES],
        "licence": "no licence file; per original corpus (see README 'Data sources'); research shared-task data",
        "lang_notes": "AMERICASNLP_FILES (oto -> ote, gn -> gug, aym -> ayr)",
    },
    {
        "repo": "AmericasNLP/americasnlp2025",
        "kind": "americasnlp",
        "take": "indigenous-language side of the 2025 shared-task sentences for Wayuunaiki and Chatino",
        "paths": [p for p, _ in AMERICASNLP2025_FILES],
        "files": AMERICASNLP2025_FILES,
        "licence": "no licence file; per original corpus (README of each language folder); research shared-task data",
        "lang_notes": "AMERICASNLP2025_FILES (guc, ctp)",
    },
    # ---- real HTML pages ----
    {
        "repo": "geodrome/page-signal",
        "kind": "l3s_gn1",
        "take": "L3S-GN1 Google-News pages (original HTML) + gold text from the human-annotated copies "
                "(x-nc-sel1 headline + x-nc-sel2 full text)",
        "paths": ["L3S-GN1-20100130203947-00001/original/*.html", ".../annotated/*.html", ".../url-mapping.txt"],
        "licence": "L3S-GN1: research use only (Readme-L3S-GN1.txt), Kohlschuetter et al., WSDM 2010",
        "lang_notes": "English news (lang_hint en)",
    },
    {
        "repo": "ppke-nlpg/CleanPortalEval",
        "kind": "cleanportaleval",
        "take": "70 portal pages (CleanEval format) + CleanEval-style gold text",
        "paths": ["input/*.html", "GoldStandard/*.txt"],
        "licence": "not stated in the repository (GoldMiner paper, Endredy & Novak 2013)",
        "lang_notes": "English pages (bbc, wsj blogs, msnbc, washingtonpost)",
    },
    {
        "repo": "goose3/goose3",
        "kind": "goose3",
        "take": "real article pages of the extractor tests + expected cleaned_text",
        "paths": ["tests/data/content/*.html", "tests/data/content/*.json"],
        "licence": "Apache-2.0 (repository; pages are third-party news pages)",
        "lang_notes": "meta_lang / target_language of the expected json",
    },
    {
        "repo": "codelucas/newspaper",
        "kind": "newspaper",
        "take": "real article pages of the extractor tests + expected text",
        "paths": ["tests/data/html/*.html", "tests/data/text/*.txt"],
        "licence": "MIT (repository; pages are third-party news pages)",
        "lang_notes": "English",
    },
    {
        "repo": "AndyTheFactory/newspaper4k",
        "kind": "newspaper4k",
        "take": "real multilingual article pages of the tests + expected text and metadata",
        "paths": ["tests/data/html/*.html", "tests/data/txt/*.txt", "tests/data/metadata/*.json"],
        "licence": "MIT (repository; pages are third-party news pages)",
        "lang_notes": "metadata 'language' (ISO 639-1) or the file name (arabic_, thai_, ...)",
    },
    {
        "repo": "flairNLP/fundus",
        "kind": "fundus",
        "take": "real news pages of the parser tests (gzipped, one folder per country) + expected body paragraphs",
        "paths": ["tests/resources/parser/test_data/*/*.html.gz", "tests/resources/parser/test_data/*/*.json",
                  "tests/resources/parser/test_data/*/meta.info", "src/fundus/publishers/*/__init__.py"],
        "licence": "MIT (repository; pages are third-party news pages)",
        "lang_notes": "the publisher spec's language (languages / default_language), kept when the page's <html lang> agrees",
    },
    {
        "repo": "GeneralNewsExtractor/GeneralNewsExtractor",
        "kind": "gne",
        "take": "real Chinese news and portal pages of the extractor tests (no gold text)",
        "paths": ["tests/*/*.html"],
        "licence": "GPL-3.0 (repository; pages are third-party news pages)",
        "lang_notes": "Chinese (zh); a page whose <html lang> says otherwise is left out",
    },
    {
        "repo": "postlight/parser",
        "kind": "postlight",
        "take": "real news and blog pages of the parser's fixtures (English, Japanese, some German, French, Chinese; no gold text)",
        "paths": ["fixtures/*.html"],
        "licence": "MIT (repository; pages are third-party news pages)",
        "lang_notes": "the page's own <html lang>; a page that declares none is left out",
    },
    # ---- real crawl files (copied as they are) ----
    {
        "repo": "webrecorder/pywb",
        "kind": "crawl",
        "take": "sample WARC/ARC files",
        "paths": ["sample_archive/warcs/*.warc", "*.warc.gz", "*.arc", "*.arc.gz"],
        "licence": "GPL-3.0 (repository)",
        "lang_notes": "",
    },
    {
        "repo": "edsu/warc",
        "kind": "crawl",
        "take": "test WARC",
        "paths": ["testdata/test.warc.gz"],
        "licence": "not stated in the repository",
        "lang_notes": "",
    },
    {
        "repo": "antoinerg/warc-ruby",
        "kind": "crawl",
        "take": "fixture WARCs",
        "paths": ["spec/fixtures/*.warc", "spec/fixtures/*.warc.gz"],
        "licence": "MIT (repository)",
        "lang_notes": "",
    },
    {
        "repo": "chfoo/warcat",
        "kind": "crawl",
        "take": "example WARCs (incl. deliberately odd ones: chunked, long URL, non-UTF-8 header)",
        "paths": ["example/*.warc", "example/*.warc.gz"],
        "licence": "GPL-3.0 (repository)",
        "lang_notes": "",
    },
]

# Fetched, looked at, and NOT used (kept here so nobody fetches them again for this purpose):
NOT_USED = {
    "seomoz/dragnet_data": "dragnet_HTML.tar.gz is >4 MiB and absent from the snapshot (only the gold "
                           "text tarball is there); AGPL-3.0",
    "fhamborg/news-please": "no test HTML pages",
    "jmriebold/BoilerPy3": "one test page only",
    "internetarchive/warctools": "no WARC test files in the snapshot",
    "UniversalDependencies/UD_Arabic-PADT": "all .conllu files >4 MiB, absent from the snapshot (UD_Arabic-PUD used)",
    "UniversalDependencies/UD_Catalan-AnCora": "all .conllu files >4 MiB, absent from the snapshot",
    "UniversalDependencies/UD_Swahili-OPUSGV": "no released .conllu on master or dev",
    "UniversalDependencies/UD_Pomak-Philotis": "Pomak has no ISO 639-3 code (UD: private qpm); labelling it "
                                               "bul_Latn would mislabel it, so it is left out",
    "UniversalDependencies/UD_Western_Sierra_Puebla_Nahuatl-TAZ": "no snapshot available",
    "UniversalDependencies/UD_Peripheral_Mongolian-Ordos": "no snapshot available",
    "UniversalDependencies/UD_Pesh-ChibErgIS": "much of the `# text` lines is Spanish (interviews)",
    "UniversalDependencies/UD_Bokota-ChibErgIS": "code-switched with Spanish",
    "UniversalDependencies/UD_Naga-Suansu": "Nagamese mixed with English words",
    "UniversalDependencies/UD_Prakrit-DIPI": "`pra` is a collective ISO 639 code, no individual language",
    "UniversalDependencies/UD_Old_Irish-DipSGG": "64 glosses of one or two words",
    "UniversalDependencies/UD_Soi-AHA": "8 sentences",
    "UniversalDependencies/UD_Nayini-AHA": "10 sentences",
    "UniversalDependencies/UD_Phrygian-KUL": "fragmentary inscriptions ([..] gaps)",
    "UniversalDependencies/UD_Old_Turkish-Clausal": "20 lines",
    "UniversalDependencies/UD_Kadiweu-Unicamp": "no released .conllu on master or dev",
    "UniversalDependencies/UD_Megrelian-MLC": "no released .conllu on master or dev",
    "UniversalDependencies/UD_Dargwa": "no released .conllu on master or dev",
    "AmericasNLP/americasnlp2023": "same languages as 2021 + Chatino; americasnlp2025 has Chatino and Wayuunaiki",
    "AmericasNLP/americasnlp2024": "same languages as americasnlp2025 without Wayuunaiki",
    # Inuktitut in syllabics (for heliport's iku_Cans calibration, docs/lid.md), looked at 2026-12-03, none usable:
    "LowResourceLanguages/InuktitutComputing": "BSD-3-Clause; the Nunavut Hansard files (SingleLineAlignedSyllabic.txt "
                                               "...) are >4 MiB and absent from the snapshot; the rest is word lists",
    "iutools/iutools": "morpheme dictionaries, word lists and test fixtures, no running syllabic text",
    "cwtliu/inuktitut-mt": "the Bible text it prepares is not in the repository (inukfile.txt absent, >4 MiB)",
    "nrc-cnrc/Reranking-WMT20-IKU": "human scores of WMT20 systems, no source or target text",
    "jessicahuynh/inuktitut-morpheme-segment": "Hansard and Bible excerpts in roman orthography (transliterated)",
    "wikimedia/mediawiki": "languages/i18n/ike-cans.json is interface messages, not running text; snapshot too large",
    "UniversalDependencies/UD_Chechen-MottDT, UD_Gorontalo-BungoLoLombi, UD_Kalmyk-GDUD, UD_Manchu-GDUD, "
    "UD_Mongolian-GDUD, UD_Middle_Armenian-ArmTDP, UD_Negidal-GDUD, UD_Old_Georgian-GLC, UD_Old_Saxon-ConOS, "
    "UD_Pontic-AHA, UD_Dongxiang-GDUD": "no snapshot available",
}

FORBIDDEN = [
    "UDHR translations: udhr-in-unicode and anything derived",
    "lingua-py test data (pemistahl/lingua-py)",
    "langid.py test samples (saffsd/langid.py)",
    "scrapinghub/article-extraction-benchmark",
    "leogao2/htmltotext-benchmark",
    "trafilatura test pages (adbar/trafilatura)",
    "Mozilla Readability test pages and ports copying them (go-readability, readability.js forks, "
    "ReadabiliPy, j-szulc/html-cleaning-dataset-merged)",
    "test WARCs of resiliparse, warcio, jwarc, dolma, ia-web-commons, whirlwind-python",
]


def all_repos() -> list[str]:
    """Every repository the build reads, in a fixed order."""
    out: list[str] = []
    for s in SOURCES:
        out.extend(s.get("repos", [s["repo"]]))
    return out

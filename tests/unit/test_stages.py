"""Each stage on hand-made inputs, without Ray."""

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from longtail.stages.dedup.cluster import cluster_duplicates
from longtail.stages.extract import ExtractStage, decode_html
from longtail.stages.identify import IdentifyStage
from longtail.stages.dedup.minhash import MinHashParams, MinHashStage, shingles
from longtail.stages.quality import SignalsStage
from longtail.stages.read import ReadReport, TextFields, input_format, read_unit

RUSSIAN = [
    "Сегодня утром в городе открылась новая библиотека для детей и взрослых.",
    "Читатели могут взять книги домой на две недели, а в читальном зале есть бесплатный интернет.",
    "Директор библиотеки рассказала, что за первый день записались почти двести человек.",
]


def test_input_format():
    assert input_format("s3://bucket/CC-MAIN-1.warc.gz") == "warc"
    assert input_format("docs.jsonl.gz") == "jsonl"
    assert input_format("x.parquet") == "parquet"
    with pytest.raises(ValueError, match="cannot tell the format"):
        input_format("notes.txt")


def test_read_warc_keeps_only_200_html_and_counts_the_rest(make_warc, article_html):
    html = article_html(RUSSIAN).encode()
    path = make_warc([
        ("https://a.test/1", html),
        ("https://a.test/404", b"<html>missing</html>", "404 Not Found"),
        ("https://a.test/img.png", b"\x89PNG\r\n\x1a\n", "200 OK", "image/png"),
        ("https://a.test/2", html),
    ])
    report = ReadReport()
    tables = list(read_unit(str(path), report))
    table = pa.concat_tables(tables)
    assert table.column("url").to_pylist() == ["https://a.test/1", "https://a.test/2"]
    assert report.records["non_200"] == 1 and report.records["non_html"] == 1 and report.records["response"] == 4
    assert all(table.column("crawl_date").to_pylist())
    assert len(set(table.column("id").to_pylist())) == 2


def test_truncated_warc_keeps_good_records_and_counts_malformed(make_warc, article_html):
    html = article_html(RUSSIAN).encode()
    path = make_warc([("https://a.test/1", html), ("https://a.test/2", html)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 200])  # cut into the last gzip member
    report = ReadReport()
    table = pa.concat_tables(list(read_unit(str(path), report)))
    assert table.column("url").to_pylist() == ["https://a.test/1"]
    assert report.records["malformed"] == 1
    assert report.errors[0]["reason"] == "malformed" and report.errors[0]["file"] == path.name


def test_read_jsonl_with_custom_fields_and_bad_lines(tmp_path):
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join([json.dumps({"body": "hello", "key": "a"}), "{not json", json.dumps({"key": "b"})]) + "\n")
    report = ReadReport()
    table = pa.concat_tables(list(read_unit(str(path), report, TextFields(text="body", id="key"))))
    assert table.column("id").to_pylist() == ["a"] and table.column("text").to_pylist() == ["hello"]
    assert report.records["malformed"] == 2


def test_read_parquet(tmp_path):
    path = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"text": ["one", "two"], "id": ["x", "y"]}), path)
    table = pa.concat_tables(list(read_unit(str(path), ReadReport())))
    assert table.column("text").to_pylist() == ["one", "two"]


def test_decode_html_charsets():
    text = "<html><body><p>" + " ".join(RUSSIAN) + "</p></body></html>"
    cp1251 = text.encode("windows-1251")
    assert decode_html(cp1251, "text/html; charset=windows-1251")[0] == text
    assert decode_html(cp1251, "text/html")[0] == text  # no declaration: detected
    # UTF-8 bytes behind a wrong latin-1 header must not become mojibake
    assert decode_html(text.encode("utf-8"), "text/html; charset=iso-8859-1")[0] == text
    meta = ('<html><head><meta charset="windows-1251"></head>' + text[6:]).encode("windows-1251")
    assert "библиотека" in decode_html(meta, None)[0]


def test_extract_stage_removes_boilerplate(article_html):
    html = article_html(RUSSIAN).encode()
    batch = pa.table({"html": [html, None], "text": [None, "already text"], "content_type": ["text/html", None]})
    out = ExtractStage()(batch)
    text = out.column("text").to_pylist()[0]
    assert "библиотека" in text and "Copyright" not in text and "Home" not in text
    assert out.column("text").to_pylist()[1] == "already text"
    assert "html" not in out.column_names


def test_identify_and_signals_stage():
    batch = pa.table({"text": ["\n".join(RUSSIAN), ""]})
    out = SignalsStage()(IdentifyStage("fasttext")(batch))
    assert out.column("lang_script").to_pylist() == ["rus_Cyrl", "zxx_Zyyy"]
    assert out.column("n_words").to_pylist()[0] > 30


def test_shingles_are_script_aware():
    params = MinHashParams()
    lao = "ມື້ນີ້ຕະຫຼາດມີຄົນຫຼາຍ ແລະ ອາກາດດີ ພວກເຮົາໄປຊື້ຜັກ"
    assert len(shingles(lao, "Laoo", params)) > 10
    # char shingles (issue 14): 7 code points of a normalised line; a shorter line is one shingle
    assert len(shingles("One, two!", "Latn", params)) == 1
    assert shingles("one two three\nfour five", "Latn", params) == shingles("FOUR  five\n\none two, three", "Latn", params)
    assert shingles("ມື້ນີ້ ຕະຫຼາດ", "Laoo", params) == shingles("ມື້ນີ້ຕະຫຼາດ", "Laoo", params)  # spaces ignored where unwritten
    word = MinHashParams(shingle="word")
    assert len(shingles("one two three four five six", "Latn", word)) == 2


def test_char_shingles_find_edited_copies_that_word_shingles_miss():
    from longtail.stages.dedup.minhash import char_shingle_hashes

    text = " ".join(RUSSIAN * 3)
    words = text.split()
    edited = " ".join(w if i % 10 != 3 else "замена" for i, w in enumerate(words))  # 10 % of the words substituted

    def jaccard(params):
        a, b = shingles(text, "Cyrl", params), shingles(edited, "Cyrl", params)
        return len(a & b) / len(a | b)

    assert jaccard(MinHashParams()) > 0.6 > 0.45 > jaccard(MinHashParams(shingle="word"))
    hashes = char_shingle_hashes(text, "Cyrl", MinHashParams())
    assert hashes.dtype == np.uint32 and len(hashes) == len(set(hashes.tolist())) > 100
    assert char_shingle_hashes("", "Latn", MinHashParams()).size == 0 and char_shingle_hashes("!!", "Latn", MinHashParams()).size == 0


def test_copies_module_makes_every_kind():
    import random

    from longtail.stages.dedup import copies

    text = "\n".join(RUSSIAN * 2)
    vocab = copies.vocabulary([text], "Cyrl")
    base, made = copies.copies(text, "Cyrl", vocab, random.Random(1))
    assert set(made) == set(copies.DUPLICATE_KINDS)
    assert made["exact"] == (base, base) and made["truncated_70"][1].endswith("…")
    assert 0.6 < len(made["truncated_70"][1]) / len(base) < 0.8
    assert sorted(copies.paragraphs(made["shuffled"][1])) == sorted(copies.paragraphs(base)) != copies.paragraphs(made["shuffled"][1])
    n = len(base.split())
    assert abs(len(made["edit_10"][1].split()) - n) <= 0.1 * n and made["edit_10"][1] != base
    assert copies.split_words("สวัสดีครับ", "Thai") == ["สวัสดี", "ครับ"]  # 4 grapheme clusters a word


def _signed(texts, script="Cyrl"):
    batch = pa.table({
        "id": [f"d{i}" for i in range(len(texts))],
        "url": [f"https://a.test/{i}" for i in range(len(texts))],
        "crawl_date": [f"2026-10-0{i + 1}" for i in range(len(texts))],
        "text": texts,
        "script": [script] * len(texts),
        "n_chars": [len(t) for t in texts],
    })
    return MinHashStage()(batch)


def test_minhash_signature_deterministic():
    a = _signed(["\n".join(RUSSIAN)]).column("minhash").to_pylist()
    b = _signed(["\n".join(RUSSIAN)]).column("minhash").to_pylist()
    assert a == b and len(a[0]) == 128


def test_char_signatures_equal_datasketchs_own_update():
    """permuted_minimum computes datasketch's affine32 update itself (speed); it must give datasketch's values,
    also for no shingles and for more shingles than one block."""
    import numpy as np
    from datasketch import MinHash

    from longtail.stages.dedup.minhash import _MAX_SHINGLES_PER_UPDATE, SCHEME, permuted_minimum

    rng = np.random.default_rng(7)
    for seed, size in ((1, 0), (1, 1), (1, 2_500), (5, _MAX_SHINGLES_PER_UPDATE + 1_000)):
        hashes = np.unique(rng.integers(0, 2**32, size, dtype=np.uint64)).astype(np.uint32)
        reference = MinHash(num_perm=128, seed=seed, hashfunc=lambda value: value, scheme=SCHEME)
        if size:
            reference.update_batch(hashes)
        ours = permuted_minimum(hashes, *reference.permutations)
        assert ours.dtype == np.uint32 and ours.tolist() == reference.hashvalues.astype(np.uint32).tolist()
    different = permuted_minimum(np.arange(1, 500, dtype=np.uint32), *MinHash(num_perm=128, seed=1, scheme=SCHEME).permutations)
    assert different.tolist() != ours.tolist()


def test_cosmetic_mark_fold_of_ascii_and_of_marked_text():
    from longtail.filters.words import fold_cosmetic_marks

    assert fold_cosmetic_marks("Plain ASCII text, 42.", "Latn") == "Plain ASCII text, 42."
    assert fold_cosmetic_marks("Ọjà àárọ̀ ńlá", "Latn") == "Oja aaro nla"
    assert fold_cosmetic_marks("ё й", "Cyrl") == "е и"  # NFD splits the breve and diaeresis off, NFC has nothing to join
    assert fold_cosmetic_marks("क़िताब", "Deva") == "क़िताब"  # vowel signs of Indic scripts are not cosmetic


def test_dedup_exact_near_and_keep_rule():
    base = " ".join(RUSSIAN * 3)
    near = base.replace("почти двести", "сто", 1)
    different = "Футбольная команда нашего района выиграла кубок области в напряжённом финале. " * 5
    table = _signed([near, base, base.upper(), different])
    out = {r["id"]: r for r in cluster_duplicates(table).to_pylist()}
    # base (d1) and its case-folded copy (d2) are identical after normalisation; same length: earlier date wins
    assert out["d1"]["duplicate_of"] is None and out["d1"]["dup_cluster_size"] == 3
    assert out["d2"]["dedup_reason"] == "dedup:exact" and out["d2"]["duplicate_of"] == "d1"
    assert out["d0"]["dedup_reason"] == "dedup:near" and out["d0"]["duplicate_of"] == "d1"
    assert out["d3"]["dup_cluster_size"] == 1 and out["d3"]["dedup_reason"] is None


def test_dedup_keeps_longest():
    base = " ".join(RUSSIAN * 3)
    longer = base + " Вход свободный для всех жителей."
    out = {r["id"]: r for r in cluster_duplicates(_signed([base, longer])).to_pylist()}
    assert out["d1"]["duplicate_of"] is None and out["d0"]["duplicate_of"] == "d1"


def test_cosmetic_diacritics_fold_for_dedup_only_where_cosmetic():
    from longtail.stages.dedup.minhash import exact_hash

    assert exact_hash("Ẹ kú àárọ̀, ọjà ti kún lónìí", "Latn") == exact_hash("E ku aaro, oja ti kun lonii", "Latn")
    assert exact_hash("مَدْرَسَة جَدِيدَة", "Arab") == exact_hash("مدرسة جديدة", "Arab")
    # Devanagari vowel signs are the vowels: removing them would merge different words
    assert exact_hash("किताब", "Deva") != exact_hash("कतब", "Deva")


def test_records_without_ids_get_distinct_ids_across_folders(tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "part-0.jsonl").write_text(json.dumps({"text": "same", "url": 42}) + "\n")
    ids = []
    for folder in ("a", "b"):
        table = pa.concat_tables(list(read_unit(str(tmp_path / folder / "part-0.jsonl"), ReadReport())))
        ids += table.column("id").to_pylist()
        assert table.column("url").to_pylist() == ["42"]  # a non-string url is kept as text, not a crash
    assert len(set(ids)) == 2


def test_warc_responses_without_record_ids_get_ids_from_their_path(tmp_path, article_html):
    """WARC-Record-ID is mandatory but not always present in the wild: such records get the fallback id."""
    body = article_html(RUSSIAN).encode()
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    ids = []
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        headers = (b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Target-URI: https://example.test/\r\n"
                   b"WARC-Date: 2024-01-01T00:00:00Z\r\nContent-Type: application/http; msgtype=response\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(http))
        path = tmp_path / folder / "x.warc"
        path.write_bytes(headers + http + b"\r\n\r\n")
        report = ReadReport()
        table = pa.concat_tables(list(read_unit(str(path), report)))
        assert table.num_rows == 1 and not report.errors
        ids += table.column("id").to_pylist()
    assert all(ids) and len(set(ids)) == 2

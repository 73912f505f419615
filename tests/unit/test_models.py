"""KenLM (real lmplz + kenlm) and the fastText quality classifier (real fastText), trained on small data."""

import json
import os
import random

import pytest

from longtail.filters.classifier import QualityClassifier, train_classifier
from longtail.filters.kenlm_model import KenLMScorer, load_card, train_kenlm

SWAHILI = [
    "Mvua imenyesha usiku kucha na mashamba yamejaa maji.",
    "Watoto wanakwenda shuleni asubuhi na mapema kila siku.",
    "Bei ya mahindi sokoni imepanda wiki hii kwa sababu ya ukame.",
    "Mama ameandaa chakula kitamu cha wali na samaki kwa wageni.",
    "Basi la kwenda mjini linaondoka saa moja kamili asubuhi.",
    "Wakulima wanasubiri msimu wa mvua ili waanze kupanda mbegu.",
    "Hospitali ya wilaya imepokea dawa mpya kutoka serikalini.",
    "Timu yetu ya mpira ilishinda mechi ya jana kwa mabao mawili.",
    "Mwalimu aliwaeleza wanafunzi umuhimu wa kusoma vitabu.",
    "Soko la samaki hufunguliwa mapema kabla jua halijachomoza.",
] * 3
LAO = ["ມື້ນີ້ອາກາດດີຫຼາຍ ພວກເຮົາໄປຕະຫຼາດນຳກັນ", "ແມ່ຊື້ຜັກ ແລະ ປາຢູ່ຕະຫຼາດເຊົ້າ", "ເດັກນ້ອຍໄປໂຮງຮຽນທຸກມື້", "ຊາວນາເລີ່ມປູກເຂົ້າໃນລະດູຝົນ", "ລົດເມໄປເມືອງອອກເວລາເຈັດໂມງເຊົ້າ"] * 4


def test_kenlm_trains_and_scores_words(tmp_path):
    path = train_kenlm(SWAHILI, "swa_Latn", tmp_path, order=3, unit="word")
    card = load_card(tmp_path, "swa_Latn")
    assert path.is_file() and card["order"] == 3 and card["unit"] == "word"
    assert card["model_sha256"] and card["heldout_perplexity"]["p50"] > 0
    scorer = KenLMScorer(str(tmp_path))
    natural = scorer.perplexity("Watoto wanakwenda shuleni asubuhi na mapema.", "swa_Latn")
    words = "Watoto wanakwenda shuleni asubuhi na mapema".split()
    random.Random(0).shuffle(words)
    shuffled = scorer.perplexity(" ".join(reversed(words)) + ".", "swa_Latn")
    assert natural < shuffled
    assert scorer.perplexity("anything", "xyz_Latn") is None  # no model: no score, not a crash


def test_kenlm_unspaced_script_uses_graphemes(tmp_path):
    train_kenlm(LAO, "lao_Laoo", tmp_path, order=4, unit="word")  # no spaces: graphemes whatever is asked
    assert load_card(tmp_path, "lao_Laoo")["unit"] == "grapheme"
    scorer = KenLMScorer(str(tmp_path))
    assert scorer.perplexity("ມື້ນີ້ອາກາດດີຫຼາຍ", "lao_Laoo") < scorer.perplexity("ຫຼາຍດີດາກາອນີ້ມື້", "lao_Laoo")


def test_grapheme_model_flags_scrambled_text(tmp_path):
    train_kenlm(SWAHILI, "swa_Latn", tmp_path)  # default: grapheme 5-grams
    scorer = KenLMScorer(str(tmp_path))
    natural = scorer.perplexity("Wakulima wanasubiri msimu wa mvua ili waanze kupanda mbegu.", "swa_Latn")
    scrambled = scorer.perplexity("Wkaiulma wsbiaunri mmusi wa mvua ili wznaee kdapnua mebgu.", "swa_Latn")
    assert scrambled > 1.5 * natural


def test_kenlm_refuses_tiny_input(tmp_path):
    from longtail.filters.kenlm_model import KenLMError

    with pytest.raises(KenLMError, match="at least 5 lines"):
        train_kenlm(["one line"], "swa_Latn", tmp_path)


def test_classifier_trains_and_separates(tmp_path):
    good = [{"label": "good", "lang_script": "swa_Latn", "text": " ".join(SWAHILI[i : i + 3])} for i in range(0, 27)]
    bad = [{"label": "bad", "lang_script": "swa_Latn", "text": " ".join(["bei nafuu bonasi kasino"] * (3 + i % 4))} for i in range(27)]
    bad += [{"label": "bad", "lang_script": "swa_Latn", "text": " ".join(f"SKU {i}{j} $ {j}.99 #" for j in range(8))} for i in range(20)]
    card = train_classifier(good + bad, tmp_path / "clf.bin")
    assert card["heldout"]["examples"] > 0 and 0 <= card["heldout"]["precision_good"] <= 1
    assert json.loads((tmp_path / "clf.json").read_text())["model_sha256"] == card["model_sha256"]
    classifier = QualityClassifier(str(tmp_path / "clf.bin"))
    assert classifier.score("Wakulima wanasubiri mvua ili waanze kupanda mahindi shambani.", "swa_Latn") > \
        classifier.score("bonasi kasino bei nafuu bonasi kasino bei nafuu", "swa_Latn")


def test_lmplz_sort_memory_follows_the_text_up_to_the_ceiling():
    from longtail.filters.kenlm_model import LMPLZ_MIN_MEMORY, lmplz_memory

    assert lmplz_memory("1G", 10_000) == f"{LMPLZ_MIN_MEMORY >> 20}M"  # a small language: the floor, not 1G
    assert lmplz_memory("1G", 4_000_000) == "245M"  # 64 bytes a byte of text, rounded up to MiB
    assert lmplz_memory("1G", 60_000_000) == "1G"  # the setting is the ceiling
    assert lmplz_memory("80M", 10**9) == "80M"
    assert lmplz_memory("100", 10) == "100"  # below the floor already (bare KiB): lmplz gets it as given
    assert lmplz_memory("50%", 10) == f"{LMPLZ_MIN_MEMORY >> 20}M"


def test_grapheme_models_sort_in_small_blocks_whatever_their_size():
    from longtail.filters.kenlm_model import LMPLZ_GRAPHEME_MEMORY, LMPLZ_MIN_MEMORY, lmplz_memory

    assert LMPLZ_GRAPHEME_MEMORY < LMPLZ_MIN_MEMORY
    for text_bytes in (10_000, 4_000_000, 60_000_000, 10**9):
        assert lmplz_memory("1G", text_bytes, "grapheme") == f"{LMPLZ_GRAPHEME_MEMORY >> 20}M"
    assert lmplz_memory("16M", 10**9, "grapheme") == "16M"  # the setting stays the ceiling
    assert lmplz_memory("1G", 4_000_000, "word") == "245M"


@pytest.mark.parametrize("unit", ["grapheme", "word"])
def test_model_does_not_depend_on_the_sort_memory(tmp_path, monkeypatch, unit):
    """lmplz's -S only sizes its sort buffers: the model built with the whole 1G (the floors raised to it) equals
    the one built with the 32M / 64M this text now gets; the card's hashes included."""
    from longtail.filters import kenlm_model

    train_kenlm(SWAHILI, "swa_Latn", tmp_path / "small", memory="1G", unit=unit)
    monkeypatch.setattr(kenlm_model, "LMPLZ_MIN_MEMORY", 1 << 30)
    monkeypatch.setattr(kenlm_model, "LMPLZ_GRAPHEME_MEMORY", 1 << 30)
    assert kenlm_model.lmplz_memory("1G", 1000, unit) == "1G"
    train_kenlm(SWAHILI, "swa_Latn", tmp_path / "whole", memory="1G", unit=unit)
    for name in ("swa_Latn.binary", "swa_Latn.json"):
        assert (tmp_path / "whole" / name).read_bytes() == (tmp_path / "small" / name).read_bytes(), name


def test_kenlm_tools_run_on_the_training_threads_cpu_only(tmp_path):
    """lmplz and build_binary start pinned to the one CPU the training thread is on (lmplz's threads would spread
    over cores Ray gave to other tasks, for more CPU and no gain); the thread's own CPUs are restored after."""
    from longtail.filters.kenlm_model import find_tool

    seen = tmp_path / "cpus.txt"
    tools = {}
    for name in ("lmplz", "build_binary"):  # the real tools, behind a script that notes which CPUs they may use
        wrapper = tmp_path / name
        wrapper.write_text(f'#!/bin/sh\ngrep Cpus_allowed_list /proc/self/status >> "{seen}"\nexec "{find_tool(name)}" "$@"\n')
        wrapper.chmod(0o755)
        tools[name] = str(wrapper)
    allowed = os.sched_getaffinity(0)
    train_kenlm(SWAHILI, "swa_Latn", tmp_path / "model", lmplz=tools["lmplz"], build_binary=tools["build_binary"])
    assert os.sched_getaffinity(0) == allowed
    cpus = [line.split(":")[1].strip() for line in seen.read_text().splitlines()]
    assert len(cpus) >= 2 and all(cpu.isdigit() and int(cpu) in allowed for cpu in cpus), cpus
    assert KenLMScorer(str(tmp_path / "model")).perplexity(SWAHILI[0], "swa_Latn") > 0


def test_token_cache_changes_nothing_but_the_work(tmp_path, monkeypatch):
    """A bootstrap tokenizes each line once and reuses it (token_cache): the model, its card and the scores are
    those of the uncached path, and a cached line is not tokenized again."""
    from longtail.filters import kenlm_model

    train_kenlm(SWAHILI, "swa_Latn", tmp_path / "plain")
    cache: dict = {}
    train_kenlm(SWAHILI, "swa_Latn", tmp_path / "cached", token_cache=cache)
    for name in ("swa_Latn.binary", "swa_Latn.json"):
        assert (tmp_path / "cached" / name).read_bytes() == (tmp_path / "plain" / name).read_bytes(), name
    assert len(cache) == len(set(SWAHILI))
    text = "Watoto wanakwenda shuleni asubuhi.\nMama ameandaa chakula kitamu cha wali na samaki kwa wageni."
    cached_scorer = KenLMScorer(str(tmp_path / "cached"), cache)
    assert cached_scorer.perplexity(text, "swa_Latn") == KenLMScorer(str(tmp_path / "plain")).perplexity(text, "swa_Latn")
    calls = []
    original = kenlm_model.lm_tokens
    monkeypatch.setattr(kenlm_model, "lm_tokens", lambda *args: calls.append(args) or original(*args))
    cached_scorer.perplexity(text, "swa_Latn")
    assert calls == []  # both lines were in the cache
    KenLMScorer(str(tmp_path / "plain")).perplexity(text, "swa_Latn")
    assert len(calls) == 2  # without the cache: each line tokenized


def test_fold_line_scores_are_the_fold_models_scores(tmp_path):
    """train_kenlm hands back each fold model's scores of its own fold's lines; a scorer given them returns the
    perplexities it would compute, the card is unchanged, and a known score is used rather than recomputed."""
    folds = [i % 2 for i in range(len(SWAHILI))]
    scores: dict = {}
    train_kenlm(SWAHILI, "swa_Latn", tmp_path / "a", heldout_folds=2, line_folds=folds, fold_models_dir=tmp_path / "a" / "folds",
                fold_line_scores=scores)
    train_kenlm(SWAHILI, "swa_Latn", tmp_path / "b", heldout_folds=2, line_folds=folds, fold_models_dir=tmp_path / "b" / "folds")
    assert (tmp_path / "a" / "swa_Latn.json").read_bytes() == (tmp_path / "b" / "swa_Latn.json").read_bytes()
    assert sorted(scores) == [0, 1] and len(scores[0]) + len(scores[1]) == len(set(SWAHILI))
    fold0 = str(tmp_path / "a" / "folds" / "fold0")
    text = SWAHILI[0] + "\n" + SWAHILI[2]  # both in fold 0
    assert KenLMScorer(fold0, line_scores=scores[0]).perplexity(text, "swa_Latn") == KenLMScorer(fold0).perplexity(text, "swa_Latn")
    known = {line: -1000.0 for line in scores[0]}  # far below any real score: used, so the perplexity soars
    assert KenLMScorer(fold0, line_scores=known).perplexity(text, "swa_Latn") > 1e6 > KenLMScorer(fold0).perplexity(text, "swa_Latn")

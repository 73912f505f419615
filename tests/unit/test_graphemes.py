"""filters.words.graphemes: the same clusters as the ``\\X`` regex, with a fast path for text that has no code
point able to join a cluster. Texts written for this test."""

import pytest
import regex

from longtail.filters.words import CLUSTER_JOINERS, graphemes, lm_tokens

PLAIN = regex.compile(r"\X")

TEXTS = [
    "The market opens early, and 20 farmers bring maize.",  # ASCII: fast path
    "Москва — столица России; ёлка, ёж.",  # precomposed Cyrillic: fast path
    "今日は市場に人がたくさんいます。",  # Han and kana: fast path
    "नमस्ते दुनिया, क्षत्रिय और श्री",  # vowel signs and virama conjuncts
    "Ọlọ́run sì wí pé kí ìmọ́lẹ̀ wà",  # Yoruba with combining tone marks
    "คำว่า น้ำ และ กำลัง",  # Thai SARA AM (spacing mark) and tone marks
    "한국어 ᄒᆞᆫ글 옛한글",  # conjoining jamo next to precomposed syllables
    "flags 🇳🇬🇯🇵 and a family 👩\u200d👩\u200d👧 and 👍🏽",  # regional indicators, ZWJ sequence, skin tone
    "e\u0301te\u0301 cafe\u0301",  # decomposed accents
    "line one\r\nline two",  # CR LF is one cluster
    "",
]


def test_graphemes_are_the_regex_clusters():
    for text in TEXTS:
        assert graphemes(text) == PLAIN.findall(text), text


def test_fast_path_is_taken_only_without_joiners():
    assert graphemes("abc") == ["a", "b", "c"]
    assert graphemes("ко\u0301т") == ["к", "о\u0301", "т"]  # a combining acute stays on its letter
    tokens = lm_tokens("Ọlọ́run sì", "Latn")  # KenLM's units: the tone-marked vowel is one token
    assert "\u1ecd\u0301" in tokens and tokens[-2:] == ["s", "ì"] and "▁" in tokens


@pytest.mark.parametrize("word", ["kitabu", "общество", "ሰላምታ", "ნაშრომი", "ภาษาไทยสำคัญ", "ພາສາລາວຄຳ", "ൎമ്മ", "\u1100\u1161\u11a8", "한국어",
                                  "a\u0301b", "ab\u200dc", "🇳🇬", "a\r\nb"])
def test_a_cluster_of_several_code_points_always_has_a_joiner(word):
    """The fast paths (graphemes, signals.letter_order_ratio) skip the regex when no code point of the text is in
    CLUSTER_JOINERS: that must hold exactly when every cluster is one code point (Thai/Lao AM are letters yet
    spacing marks, Malayalam dot reph is prepended, conjoining jamo join each other, flags pair up, CR LF)."""
    one_per_cluster = PLAIN.findall(word) == list(word)
    assert one_per_cluster or CLUSTER_JOINERS.search(word)


@pytest.mark.parametrize("script", ["Latn", "Cyrl", "Deva", "Thai", "Jpan", "Hang", "Tibt", "Hani"])
def test_first_words_are_the_first_of_all_words(script):
    """templated.formula_share asks only for a line's opening words; found lazily, they must be the same."""
    from longtail.filters.words import first_words, words

    tibetan = "བོད་ཀྱི་སྐད་ཡིག་ནི་ གལ་ཆེན་པོ་རེད།"
    for text in [*TEXTS, tibetan, "3:16 For so it was – twenty-two O'Neil's don't", "  ", "।।"]:
        for n in (1, 3, 8):
            assert first_words(text, script, n) == words(text, script)[:n], (text, script, n)


def test_no_code_point_between_cr_and_the_first_joiner_above_it_joins():
    """may_join_clusters settles text below FIRST_JOINER_ABOVE_CR without the regex: that holds only while CR
    is the one joiner there (a newer Unicode or regex release could add one)."""
    from longtail.filters.words import FIRST_JOINER_ABOVE_CR, may_join_clusters

    below = [chr(c) for c in range(ord(FIRST_JOINER_ABOVE_CR)) if CLUSTER_JOINERS.match(chr(c))]
    assert below == ["\r"]
    assert CLUSTER_JOINERS.match(FIRST_JOINER_ABOVE_CR)
    for text in TEXTS:
        assert may_join_clusters(text) == (CLUSTER_JOINERS.search(text) is not None), text


@pytest.mark.parametrize("script", ["Latn", "Arab"])
def test_ascii_normalisation_is_the_general_one(script):
    """normalise takes a table for ASCII text: the same string as the general path, for every ASCII character
    alone and in runs (punctuation runs become one space, digits 0, case folded only in a cased script)."""
    from longtail.filters.words import normalise, normalise_characters

    texts = [chr(c) for c in range(128)] + ["".join(map(chr, range(128))), "Posted on 12 March -- (3:16) A.B.C  x\ty", "  "]
    for text in texts:
        assert normalise(text, script) == " ".join(normalise_characters(text, script).split()), repr(text)


# A space followed by combining marks, an Arabic number sign (a prepended letter) before a space and before a
# mark: clusters that hold a space, which the token counts and the shuffles must treat as the general path does.
EDGE_TEXTS = ["x \u0301y", "\u0301 at the start", "\u0600 12 \u0600", "a \u0600 \u0301 b", "end \u0600"]


@pytest.mark.parametrize("unit", ["grapheme", "word"])
def test_a_model_line_counts_its_tokens_as_a_split_does(unit):
    """kenlm_model.token_count counts a model line's tokens without splitting it; KenLM's perplexities divide by it."""
    from longtail.filters.kenlm_model import _lm_lines, token_count

    scripts = ["Latn", "Arab", "Deva", "Thai", "Hang"]
    lines = [line for script in scripts for line in _lm_lines([*TEXTS, *EDGE_TEXTS], script, unit)]
    assert any("  " in line or line.startswith(" ") or line.endswith(" ") for line in lines)  # the edge cases occur
    for line in lines:
        assert token_count(line) == len(line.split()), repr(line)
    assert token_count("") == 0


def test_shuffled_graphemes_draw_as_a_shuffle_per_word_does():
    """kenlm_bootstrap.shuffled_graphemes asks once per line whether clusters may join and skips one-letter words:
    the same garbled text and the same draws as shuffling every word's clusters with Random.shuffle."""
    import random

    from longtail.filters.kenlm_bootstrap import shuffled_graphemes

    def reference(text: str, rng: random.Random) -> str:
        words = []
        for word in text.split():
            clusters = PLAIN.findall(word)
            rng.shuffle(clusters)
            words.append("".join(clusters))
        return " ".join(words)

    ours, theirs = random.Random("yor_Latn"), random.Random("yor_Latn")
    for text in [*TEXTS, *EDGE_TEXTS, "a b c d", "I went to a market in 2024"]:
        assert shuffled_graphemes(text, ours) == reference(text, theirs), text
    assert ours.random() == theirs.random()


def test_templated_scores_are_the_maximum_of_their_parts():
    """templated_scores splits each text into lines once and tests a line for a colon before the verse pattern:
    the same as the three public parts, each on its own."""
    from longtail.filters.templated import domain_shares, formula_share, templated_scores, verse_share

    verses = "\n".join(f"{n}:{n + 3} And the word went out" for n in range(1, 6))
    texts = [verses, "Chapter 3\n:16 is not a verse\n(12:4) but this is\n12：4 also\n4 lines", "1. Buy now\n2. Buy now\n3. Buy now\n4. Buy now",
             *TEXTS, "", "Posted 12 May\nnews\nPosted 13 May\nmore\nPosted 14 May"] * 2
    scripts = ["Latn", "Latn", "Latn", *(["Latn", "Cyrl", "Jpan", "Deva", "Latn", "Thai", "Hang", "Latn", "Latn", "Latn", "Latn"]), "Latn", "Latn"] * 2
    urls = [f"https://site{i % 3}.example/page{i}" for i in range(len(texts))]
    footer = "Subscribe to the 24 hour news service"  # on five pages of one domain, digits masked
    texts += [f"Story number {n} of the day\nSubscribe to the {n} hour news service" for n in range(5)] + [footer]
    urls += [f"https://news.example/{n}" for n in range(5)] + [None]
    scripts += ["Latn"] * 6
    domain = domain_shares(texts, urls)
    expected = [round(max(verse_share(t), formula_share(t, s), d), 4) for t, s, d in zip(texts, scripts, domain)]
    assert templated_scores(texts, urls, scripts) == expected
    assert expected[0] == 1.0 and max(domain) > 0  # verse numbering and repeated lines are found


def test_scripts_of_one_token_form_give_the_same_tokens():
    """words.lm_token_form keys the bootstrap's token cache: scripts of one form must tokenize alike; case folding
    and the split into words or graphemes give different forms."""
    from longtail.filters.words import lm_token_form

    scripts = ["Latn", "Cyrl", "Geor", "Arab", "Deva", "Ethi", "Thai", "Hani", "Jpan", "Tibt", "Zyyy"]
    texts = [*TEXTS, *EDGE_TEXTS, "ABC Ölçü ΣΊΣΥΦΟΣ", "བོད་ཀྱི་སྐད་ཡིག་ནི་ གལ་ཆེན་པོ་རེད།"]
    seen: dict[tuple, tuple[str, list]] = {}
    for unit in ("grapheme", "word"):
        for script in scripts:
            tokens = [lm_tokens(text, script, unit) for text in texts]
            form = lm_token_form(script, unit)
            if form in seen:
                assert tokens == seen[form][1], (script, unit, seen[form][0])
            seen.setdefault(form, (f"{script}/{unit}", tokens))
    forms = {lm_token_form(script, unit) for script in ("Latn", "Arab") for unit in ("grapheme", "word")}
    assert len(forms) == 4 and len({tuple(lm_tokens("ABC def", script, unit)) for script in ("Latn", "Arab") for unit in ("grapheme", "word")}) == 4

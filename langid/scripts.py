"""Script identification from the text's own characters (never from a LID model's label).

GlotScript gives the proportion of each Unicode script among the letters; we add the ISO 15924 composite
codes that a single Unicode script property cannot express (Japanese = Hani + Hira + Kana) and a
mixed-script flag, so a Hindi page in Latin letters is `hin_Latn` and a Serbian page is `srp_Cyrl` or
`srp_Latn` by what it is written in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from GlotScript import sp

from longtail.langid.labels import UNKNOWN_SCRIPT

# A second script above this share of the letters makes a document "mixed-script".
MIXED_SCRIPT_SHARE = 0.2
_JAPANESE_PARTS = frozenset({"Hira", "Kana", "Hani"})
_KOREAN_PARTS = frozenset({"Hang", "Hani"})
_NEUTRAL = frozenset({"Zyyy", "Zinh", "Zzzz"})
KOREAN_HANJA_SHARE = 0.1
# Japanese prose writes its particles and endings in kana: 19-74% of the Han + kana letters on the bench's real
# Japanese pages and texts. Chinese has none, but a stray one (an IME slip, "ぃ" in a People's Daily article) made
# a Chinese page Jpan, and the script check then turned both models' "Chinese" into und_Jpan.
JAPANESE_KANA_SHARE = 0.05


@dataclass(frozen=True)
class ScriptProfile:
    """Main script of a text, its share of the letters, and the share of every script present."""

    script: str
    share: float
    proportions: dict[str, float] = field(default_factory=dict)

    @property
    def mixed(self) -> bool:
        others = sorted((v for k, v in self.proportions.items() if k != self.script), reverse=True)
        return bool(others) and others[0] >= MIXED_SCRIPT_SHARE


def _minor_others(proportions: dict[str, float], parts: frozenset[str]) -> bool:
    """Do the scripts outside ``parts`` and Latin stay too small to make the text mixed? A stray Greek mu or a
    Cyrillic letter in a Japanese news page must not split it off as ``jpn_Hani`` / ``jpn_Hira``."""
    return sum(v for k, v in proportions.items() if k not in parts and k not in _NEUTRAL and k != "Latn") < MIXED_SCRIPT_SHARE


def _merge_composites(proportions: dict[str, float]) -> dict[str, float]:
    # Punctuation (、。？) is Common/Inherited: it must not stop a Japanese text from being Jpan.
    present = set(proportions) - _NEUTRAL
    kana = proportions.get("Hira", 0.0) + proportions.get("Kana", 0.0)
    if kana and kana >= JAPANESE_KANA_SHARE * (kana + proportions.get("Hani", 0.0)) and _minor_others(proportions, _JAPANESE_PARTS):
        jpan = sum(proportions.pop(k) for k in list(proportions) if k in _JAPANESE_PARTS)
        proportions["Jpan"] = jpan
    elif "Hang" in present and _minor_others(proportions, _KOREAN_PARTS):
        # Modern Korean is written in Hangul alone (kor_Hang, as in FLORES-200 and GlotLID); only text
        # with a real share of Hanja is the composite Kore.
        script = "Kore" if proportions.get("Hani", 0.0) >= KOREAN_HANJA_SHARE else "Hang"
        merged = sum(proportions.pop(k) for k in list(proportions) if k in _KOREAN_PARTS)
        proportions[script] = merged
    return proportions


def script_profile(text: str) -> ScriptProfile:
    """Return the dominant ISO 15924 script of ``text`` (``Zyyy`` when it has no letters)."""
    main, share, meta = sp(text)
    if main is None:
        return ScriptProfile(UNKNOWN_SCRIPT, 0.0, {})
    proportions = _merge_composites(dict(meta.get("details", {main: share})))
    # Common characters (digits, punctuation) name the script only when there is nothing else.
    letters = {k: v for k, v in proportions.items() if k not in _NEUTRAL} or proportions
    script = max(letters, key=letters.get)
    return ScriptProfile(script, float(proportions[script]), proportions)

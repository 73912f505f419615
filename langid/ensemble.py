"""Document identifiers: one backend, or heliport and fastText that must agree (``backend: ensemble``).

Why an ensemble: a single LID model assigns its nearest known language to text in a language it has never
seen (Xhosa -> Zulu, Saraiki -> Punjabi, Tamazight in Tifinagh -> anything). Two models trained on different
data rarely make the *same* confident mistake, so agreement is strong evidence and a confident disagreement
is a reason to keep the document out of the corpus (``lid:disagreement``), not to guess.

The rules (measured on data/lid_dev, see docs/lid.md; every threshold is one number for all languages):

* both answer languages that match after label normalisation -> assigned (``agreed``). A macrolanguage
  and one of its members match (heliport's ``hbs`` with fastText's ``hrv``); the member is used only if the
  member's backend scores it at least ``refine_score``, else the label stays undetermined.
* the primary (heliport) answers a language the secondary cannot emit (``tir``, ``zul``, ``ibo`` are not in
  lid.176): the secondary cannot vouch for or against it (``single``).
* they differ on languages both know: if the secondary's score is at least ``veto_score`` the document is
  ``disagreed`` (``und`` for scoring, dropped as ``lid:disagreement``); a less confident secondary does not veto.
* an answer nobody else vouches for (``single``) must score at least ``single_score``, else ``und``.
* the primary abstains (``und``) and the secondary names a language the primary cannot emit with at least
  ``veto_score``: the secondary's answer (``single``).
* open set (every identifier, ``open_set``): before the rules above, each member's answer must be as sure
  as that member is on text of the language it names: per-label score floor and fit ceiling learned from
  its answers on languages it knows (langid/calibration.py); a less sure answer is that member's ``und``.
  In the ensemble, an answer that only one member can emit, in a script in which that member knows no other
  language, and whose label has no calibration of its own (never measured on its own text) is ``und`` too:
  its score says which script the text is in, not which language (Ojibwe syllabics -> Inuktitut).
  A member measured to miss a label (the table's ``unrecognised``: heliport on Latin-script Uzbek, lid.176 on
  Bavarian) counts as not knowing that language in that script: it neither vouches nor vetoes there.
* script consistency (every identifier): a language CLDR never records in the text's script becomes ``und``
  (``kom`` for Tifinagh text). Latin is always allowed: any language may be romanised.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Sequence

from longtail.langid.backends import ENSEMBLE, make_backend
from longtail.langid.calibration import Calibration
from longtail.langid.document import DISAGREED, ChunkedTexts, DocumentLanguage, identify_documents
from longtail.langid.labels import INDIVIDUAL_TO_MACRO, NON_LANGUAGE, UNDETERMINED, iso639_3, kept_apart

AGREED, SINGLE = "agreed", "single"
DEFAULT_MEMBERS = ("heliport", "fasttext")
VETO_SCORE = 0.5
REFINE_SCORE = 0.5
SINGLE_SCORE = 0.5


class ScriptInventory:
    """Which ISO 15924 scripts each language is written in, from the CLDR data shipped in Babel.

    GlotScript has no language->script table; CLDR's likely subtags and locale names do (``sr_Latn``,
    ``uz_Arab``, ``und_Tfng`` -> ``zgh_Tfng``). Languages CLDR does not know are never rejected.
    """

    def __init__(self) -> None:
        self._scripts: dict[str, set[str]] = {}

    def setup(self) -> None:
        if self._scripts:
            return
        from babel import localedata
        from babel.core import get_global

        tags = list(get_global("likely_subtags").values()) + list(localedata.locale_identifiers())
        for tag in tags:
            parts = tag.split("_")
            if len(parts) >= 2 and len(parts[1]) == 4 and parts[1].istitle():
                lang = iso639_3(parts[0])
                if lang:
                    self._scripts.setdefault(lang, set()).add(parts[1])
        for scripts in self._scripts.values():  # composites: Japanese is Jpan, Korean Hang or Kore
            if scripts & {"Hira", "Kana", "Jpan"}:
                scripts.update({"Jpan", "Hira", "Kana", "Hani"})
            if scripts & {"Hang", "Kore"}:
                scripts.update({"Hang", "Kore"})

    def scripts_of(self, lang: str) -> set[str]:
        self.setup()
        found = set(self._scripts.get(lang, ()))
        macro = INDIVIDUAL_TO_MACRO.get(lang)
        if macro:
            found |= self._scripts.get(macro, set())
        for member, parent in INDIVIDUAL_TO_MACRO.items():
            if parent == lang:
                found |= self._scripts.get(member, set())
        return found

    def allows(self, lang: str, script: str) -> bool:
        if lang in NON_LANGUAGE or script == "Latn":
            return True
        known = self.scripts_of(lang)
        return not known or script in known


def related(a: str, b: str) -> str | None:
    """The finer of two labels naming the same language (equal, or macrolanguage and member), else None."""
    if a == b:
        return a
    if INDIVIDUAL_TO_MACRO.get(a) == b:
        return a
    if INDIVIDUAL_TO_MACRO.get(b) == a:
        return b
    return None


def covers(languages: frozenset[str], lang: str) -> bool:
    """Can a backend emit ``lang``, itself, its macrolanguage, or one of its members?"""
    if lang in languages or INDIVIDUAL_TO_MACRO.get(lang) in languages:
        return True
    return any(parent == lang and member in languages for member, parent in INDIVIDUAL_TO_MACRO.items())


class DocumentIdentifier:
    """One backend (``heliport``, ``fasttext``) or the ``ensemble``; picklable until ``setup()``."""

    def __init__(
        self,
        backend: str = "heliport",
        model_path: str | None = None,
        macro_policy: str = "macro",
        script_check: bool = True,
        veto_score: float = VETO_SCORE,
        refine_score: float = REFINE_SCORE,
        single_score: float = SINGLE_SCORE,
        open_set: bool = True,
        calibration: str | None = None,
        trusted_labels: tuple[str, ...] = (),
    ):
        if backend == "heliport" and model_path:
            raise ValueError("the heliport backend ships its own model; model_path is for fasttext and ensemble")
        self.backend = backend
        self.model_path = model_path
        self.macro_policy = macro_policy
        self.script_check = script_check
        self.veto_score = veto_score
        self.refine_score = refine_score
        self.single_score = single_score
        self.open_set = open_set
        self.calibration_path = calibration
        # labels the user vouches for where a model's score shows only the script (see _script_evidence_only):
        # a team building an Inuktitut corpus from Nunavut sites, where nothing calibrates iku_Cans
        self.trusted_labels = frozenset(trusted_labels)
        self.calibration: Calibration | None = None
        self.members: list = []
        self.inventory = ScriptInventory()
        self._supported: list[frozenset[str]] = []
        self._script_languages: list[dict[str, set[str]]] = []

    @property
    def name(self) -> str:
        return self.backend

    def setup(self) -> None:
        if self.members:
            return
        names = DEFAULT_MEMBERS if self.backend == ENSEMBLE else (self.backend,)
        for name in names:
            member = make_backend(name, self.model_path if name == "fasttext" else None, self.macro_policy)
            member.setup()
            self.members.append(member)
        self._supported = [m.supported_languages() for m in self.members]
        if self.open_set:
            self.calibration = Calibration.load(self.calibration_path)
        if self.script_check:
            self.inventory.setup()
        if self.open_set and len(self.members) > 1:
            for languages in self._supported:  # per member: script -> the languages it knows in that script
                by_script: dict[str, set[str]] = {}
                for lang in languages:
                    for script in self.inventory.scripts_of(lang):
                        by_script.setdefault(script, set()).add(lang)
                self._script_languages.append(by_script)

    def supported_languages(self) -> frozenset[str]:
        self.setup()
        return frozenset().union(*self._supported)

    def calibration_key(self, member) -> str:
        """The calibration table of a member: lid.176 is ``fasttext``; another fastText model has none."""
        if member.name == "fasttext" and self.model_path:
            return f"fasttext:{Path(self.model_path).name}"
        return member.name

    def identify_members(self, texts: Sequence[str]) -> list[list[DocumentLanguage]]:
        """Each member's own document answers, before calibration and combination."""
        self.setup()
        chunks = ChunkedTexts(texts)
        return [identify_documents(texts, m, chunks) for m in self.members]

    def _calibrated(self, key: str, result: DocumentLanguage) -> DocumentLanguage:
        if result.lang in NON_LANGUAGE or self.calibration is None:
            return result
        if self.calibration.admits(key, result.label, result.score, result.fit):
            return result
        return replace(result, lang=UNDETERMINED)

    def identify(self, texts: Sequence[str]) -> list[DocumentLanguage]:
        per_member = self.identify_members(texts)
        if self.open_set:
            per_member = [[self._calibrated(self.calibration_key(m), r) for r in results] for m, results in zip(self.members, per_member)]
        if len(self.members) == 1:
            results = [replace(r, votes=(f"{self.members[0].name}:{r.lang}",)) for r in per_member[0]]
        else:
            results = [self._named_by_policy(self._combine(primary, secondary)) for primary, secondary in zip(*per_member)]
        return [self._check_script(r) for r in results]

    def _named_by_policy(self, result: DocumentLanguage) -> DocumentLanguage:
        """An ensemble answer that is a macrolanguage the policy splits (``hbs``) is the refine rule's case with no
        member named: which of Bosnian, Croatian, Serbian it is stays undetermined, and an ``hbs`` split would mix
        what the policy keeps apart."""
        return replace(result, lang=UNDETERMINED) if kept_apart(result.lang, self.macro_policy) else result

    def _check_script(self, result: DocumentLanguage) -> DocumentLanguage:
        if self.script_check and not self.inventory.allows(result.lang, result.script):
            return replace(result, lang=UNDETERMINED)
        return result

    def _script_evidence_only(self, index: int, result: DocumentLanguage) -> bool:
        """Is member ``index``'s answer the only language it knows in the text's script, with no calibration of
        its own? Then its score measures the script, not the language (open set only; Latin never counts)."""
        if self.calibration is None or not self._script_languages or result.script == "Latn":
            return False
        if result.label in self.trusted_labels:
            return False
        known = self._script_languages[index].get(result.script, set())
        if known != {result.lang}:
            return False
        return not self.calibration.has_own(self.calibration_key(self.members[index]), result.label)

    def _knows(self, index: int, answer: DocumentLanguage) -> bool:
        """Can member ``index`` judge ``answer``'s language in the text's script? It must list the language and,
        in the open set, not have been measured to miss it (Calibration.recognises: heliport lists Uzbek but
        answers ``und`` on Latin-script Uzbek, so its silence there is no veto)."""
        if not covers(self._supported[index], answer.lang):
            return False
        return self.calibration is None or self.calibration.recognises(self.calibration_key(self.members[index]), answer.label)

    def _combine(self, first: DocumentLanguage, second: DocumentLanguage) -> DocumentLanguage:
        votes = (f"{self.members[0].name}:{first.lang}", f"{self.members[1].name}:{second.lang}")
        a, b = first.lang, second.lang
        if a in NON_LANGUAGE:
            if b not in NON_LANGUAGE and not self._knows(0, second) and second.score >= self.veto_score:
                if self._script_evidence_only(1, second):
                    return replace(second, lang=UNDETERMINED, agreement=SINGLE, votes=votes)
                return replace(second, agreement=SINGLE, votes=votes)
            return replace(first, agreement=SINGLE, votes=votes)
        if b not in NON_LANGUAGE:
            same = related(a, b)
            if same is not None:
                refined_by_second = same != a
                if refined_by_second and second.score < self.refine_score:
                    return replace(first, lang=UNDETERMINED, agreement=AGREED, votes=votes)
                return replace(first, lang=same, score=max(first.score, second.score), agreement=AGREED, votes=votes)
            if self._knows(1, first) and self._knows(0, second) and second.score >= self.veto_score:
                return replace(first, agreement=DISAGREED, votes=votes)
        if first.score < self.single_score:  # nobody vouches for it: the primary alone must be sure
            return replace(first, lang=UNDETERMINED, agreement=SINGLE, votes=votes)
        if not self._knows(1, first) and self._script_evidence_only(0, first):
            return replace(first, lang=UNDETERMINED, agreement=SINGLE, votes=votes)
        return replace(first, agreement=SINGLE, votes=votes)


def make_identifier(backend: str = "heliport", model_path: str | None = None, macro_policy: str = "macro", **options) -> DocumentIdentifier:
    return DocumentIdentifier(backend, model_path, macro_policy, **options)

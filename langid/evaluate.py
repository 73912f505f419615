"""Scoring language identification against a labelled set: the numbers behind ``longtail eval-lid``.

Classes are ``lang_script`` labels (``srp_Cyrl`` and ``srp_Latn`` are different answers). Gold labels go
through the same macrolanguage policy as the backend's answers, so ``pes`` gold and a ``fas`` answer match
under the ``macro`` policy and do not under ``individual``. ``und``/``zxx`` answers are abstentions: they
cost recall, never precision. Besides per-language P/R/F1 we report what matters for corpus building: the
share of assigned labels that are right, and what happens to texts in languages the backend cannot know.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from longtail.langid.labels import NON_LANGUAGE, apply_macro_policy, canonical_language

CONFUSABLE_GROUPS: dict[str, tuple[str, ...]] = {
    "bos/hrv/srp": ("bos", "hrv", "srp", "hbs"),
    "msa/ind/zsm": ("msa", "ind", "zsm"),
    "hin/mar/npi": ("hin", "mar", "npi", "nep"),
    "amh/tir": ("amh", "tir"),
    "urd/pnb/skr": ("urd", "pnb", "skr", "lah"),
    "zul/xho": ("zul", "xho"),
    "pes/prs/tgk": ("pes", "prs", "tgk", "fas"),
}


@dataclass(frozen=True)
class GoldItem:
    id: str
    text: str
    lang: str  # ISO 639-3 as written in the file
    script: str  # ISO 15924
    length: str | None = None

    def label(self, policy: str) -> str:
        # Gold codes are ISO 639-3: read in the ``lang_Script`` form so that e.g. ``als`` stays Tosk Albanian
        # (a bare ``als`` is lid.176's Wikipedia code for Alemannic).
        return f"{apply_macro_policy(canonical_language(f'{self.lang}_{self.script}', 'individual'), policy)}_{self.script}"


def load_gold(path: str | Path, text_field: str = "text") -> list[GoldItem]:
    """Read JSONL rows with ``text``, gold ``lang`` (ISO 639-3) and ``script`` (ISO 15924)."""
    items = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            missing = [k for k in (text_field, "lang", "script") if not row.get(k)]
            if missing:
                raise ValueError(f"{path}:{number}: missing field(s) {', '.join(missing)}")
            items.append(GoldItem(str(row.get("id", number)), row[text_field], row["lang"], row["script"], row.get("length")))
    return items


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def answer_label(lang: str, script: str) -> str:
    """An answer as a class: ``und``/``zxx`` carry no script (they are abstentions, whatever the letters)."""
    return lang if lang in NON_LANGUAGE else f"{lang}_{script}"


def score(
    gold: Sequence[str],
    predicted: Sequence[str],
    supported: set[str] | None = None,
    lengths: Sequence[str | None] | None = None,
    top_confusions: int = 15,
) -> dict:
    """Metrics for one backend. ``gold``/``predicted`` are ``lang_script`` labels (answers may be ``und``/``zxx``).

    ``supported`` is the set of languages (ISO 639-3 after the policy) the backend can emit; gold items in
    other languages are reported separately as "unsupported" (the right answer for them is ``und``).
    """
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    total = len(gold)
    tp: Counter = Counter()
    fp: Counter = Counter()
    support: Counter = Counter(gold)
    confusions: Counter = Counter()
    for g, p in zip(gold, predicted):
        if g == p:
            tp[g] += 1
            continue
        confusions[(g, p)] += 1
        if p not in NON_LANGUAGE:
            fp[p] += 1

    per_language = {}
    for label in sorted(set(gold) | set(fp)):
        n = support[label]
        precision = _ratio(tp[label], tp[label] + fp[label])
        recall = _ratio(tp[label], n)
        per_language[label] = {
            "support": n,
            "tp": tp[label],
            "fp": fp[label],
            "fn": n - tp[label],
            "precision": precision,
            "recall": recall,
            "f1": _ratio(2 * precision * recall, precision + recall),
            "fpr": _ratio(fp[label], total - n),
        }
    gold_labels = sorted(support)
    macro = {m: _ratio(sum(per_language[g][m] for g in gold_labels), len(gold_labels)) for m in ("precision", "recall", "f1")}

    assigned = [(g, p) for g, p in zip(gold, predicted) if p not in NON_LANGUAGE]
    correct = sum(g == p for g, p in zip(gold, predicted))
    report = {
        "items": total,
        "gold_labels": len(gold_labels),
        "accuracy": _ratio(correct, total),
        "macro": macro,
        "assigned": len(assigned),
        "assigned_share": _ratio(len(assigned), total),
        "assigned_precision": _ratio(sum(g == p for g, p in assigned), len(assigned)),
        "per_language": per_language,
        "top_confusions": [{"gold": g, "predicted": p, "count": c} for (g, p), c in confusions.most_common(top_confusions)],
        "groups": confusable_groups(gold, predicted),
    }
    if supported is not None:
        report["unsupported"] = unsupported_answers(gold, predicted, supported)
        in_scope = [g for g in gold_labels if g.split("_")[0] in supported]
        report["macro_supported"] = {
            "labels": len(in_scope),
            **{m: _ratio(sum(per_language[g][m] for g in in_scope), len(in_scope)) for m in ("precision", "recall", "f1")},
        }
    if lengths is not None:
        by_length: dict[str, list[bool]] = defaultdict(list)
        for g, p, length in zip(gold, predicted, lengths):
            by_length[length or "?"].append(g == p)
        report["accuracy_by_length"] = {k: {"items": len(v), "accuracy": _ratio(sum(v), len(v))} for k, v in sorted(by_length.items())}
    return report


def unsupported_answers(gold: Sequence[str], predicted: Sequence[str], supported: set[str]) -> dict:
    """How texts in languages the backend cannot emit are answered: silence (und/zxx) or a wrong neighbour."""
    answers = [(g, p) for g, p in zip(gold, predicted) if g.split("_")[0] not in supported]
    silent = sum(p in NON_LANGUAGE for _, p in answers)
    by_label: dict[str, Counter] = defaultdict(Counter)
    for g, p in answers:
        by_label[g][p] += 1
    return {
        "items": len(answers),
        "silent": silent,
        "silent_share": _ratio(silent, len(answers)),
        "labels": {g: dict(c.most_common()) for g, c in sorted(by_label.items())},
    }


def confusable_groups(gold: Sequence[str], predicted: Sequence[str]) -> dict:
    """Per group and gold label: right, confused inside the group, abstained, or sent elsewhere."""
    out = {}
    for name, members in CONFUSABLE_GROUPS.items():
        rows = {}
        for g in sorted({g for g in gold if g.split("_")[0] in members}):
            answers = [p for gg, p in zip(gold, predicted) if gg == g]
            right = sum(p == g for p in answers)
            abstained = sum(p in NON_LANGUAGE for p in answers)
            in_group = sum(p != g and p not in NON_LANGUAGE and p.split("_")[0] in members for p in answers)
            rows[g] = {
                "items": len(answers),
                "right": right,
                "in_group": in_group,
                "und": abstained,
                "other": len(answers) - right - abstained - in_group,
                "answers": dict(Counter(answers).most_common()),
            }
        if rows:
            out[name] = rows
    return out


def format_report(name: str, report: dict, per_language: bool = True) -> str:
    """A plain-text table of one backend's report."""
    lines = [f"== {name} =="]
    macro = report["macro"]
    lines.append(
        f"items {report['items']}  gold labels {report['gold_labels']}  accuracy {report['accuracy']:.3f}  "
        f"macro P {macro['precision']:.3f} R {macro['recall']:.3f} F1 {macro['f1']:.3f}"
    )
    if "macro_supported" in report:
        ms = report["macro_supported"]
        lines.append(f"macro over the {ms['labels']} gold labels it supports: P {ms['precision']:.3f} R {ms['recall']:.3f} F1 {ms['f1']:.3f}")
    lines.append(
        f"assigned a label (not und/zxx): {report['assigned']} ({report['assigned_share']:.1%}); "
        f"precision of assigned labels {report['assigned_precision']:.3f}"
    )
    if "unsupported" in report:
        un = report["unsupported"]
        lines.append(f"unsupported-language items: {un['items']}, answered und/zxx: {un['silent']} ({un['silent_share']:.1%})")
        for g, answers in un["labels"].items():
            lines.append(f"  {g:<10} " + ", ".join(f"{p} {c}" for p, c in answers.items()))
    if report.get("unsupported_by_all", {}).get("items"):
        al = report["unsupported_by_all"]
        lines.append(f"items in languages no evaluated backend knows: {al['items']}, answered und/zxx: {al['silent']} ({al['silent_share']:.1%}): "
                     + "; ".join(f"{g} " + ", ".join(f"{p} {c}" for p, c in a.items()) for g, a in al["labels"].items()))
    if "accuracy_by_length" in report:
        lines.append("accuracy by length: " + ", ".join(f"{k} {v['accuracy']:.3f} (n={v['items']})" for k, v in report["accuracy_by_length"].items()))
    if per_language:
        lines.append(f"{'label':<10} {'n':>4} {'P':>6} {'R':>6} {'F1':>6} {'FPR':>7} {'FP':>4}")
        for label, m in report["per_language"].items():
            lines.append(f"{label:<10} {m['support']:>4} {m['precision']:>6.3f} {m['recall']:>6.3f} {m['f1']:>6.3f} {m['fpr']:>7.4f} {m['fp']:>4}")
    lines.append("top confusions (gold -> answer):")
    for c in report["top_confusions"]:
        lines.append(f"  {c['gold']:<10} -> {c['predicted']:<10} {c['count']}")
    lines.append("confusable groups (right / confused in group / und / elsewhere):")
    for group, rows in report["groups"].items():
        cells = "; ".join(f"{g} {r['right']}/{r['in_group']}/{r['und']}/{r['other']} of {r['items']}" for g, r in rows.items())
        lines.append(f"  {group:<12} {cells}")
    return "\n".join(lines)


def comparison_table(reports: dict[str, dict]) -> str:
    """One line per backend: the figures docs/lid.md quotes."""
    header = (f"{'backend':<10} {'acc':>6} {'macroP':>7} {'macroR':>7} {'macroF1':>8} {'assigned':>9} {'P(assigned)':>12} "
              f"{'unsupported->und':>17} {'none-knows->und':>16}")
    lines = [header, "-" * len(header)]
    for name, r in reports.items():
        un = r.get("unsupported", {})
        silent = f"{un['silent']}/{un['items']}" if un else "-"
        al = r.get("unsupported_by_all", {})
        silent_all = f"{al['silent']}/{al['items']}" if al else "-"
        lines.append(
            f"{name:<10} {r['accuracy']:>6.3f} {r['macro']['precision']:>7.3f} {r['macro']['recall']:>7.3f} {r['macro']['f1']:>8.3f} "
            f"{r['assigned_share']:>8.1%} {r['assigned_precision']:>12.3f} {silent:>17} {silent_all:>16}"
        )
    return "\n".join(lines)


def gold_labels(items: Iterable[GoldItem], policy: str) -> list[str]:
    return [item.label(policy) for item in items]


def predict_labels(items: Sequence[GoldItem], identifier, min_score: float | None = None, batch_size: int = 256) -> list[str]:
    """Answers of a :class:`~longtail.langid.ensemble.DocumentIdentifier` as ``lang_script`` or ``und``/``zxx``.

    A disagreement of an ensemble, or a score under ``min_score`` (what the ``lid:undetermined`` filter does),
    counts as ``und``.
    """
    answers = []
    for start in range(0, len(items), batch_size):
        batch = items[start : start + batch_size]
        for result in identifier.identify([item.text for item in batch]):
            lang = result.assigned
            if min_score is not None and lang not in NON_LANGUAGE and result.score < min_score:
                lang = "und"
            answers.append(answer_label(lang, result.script))
    return answers


def evaluate(items: Sequence[GoldItem], identifier, policy: str, min_score: float | None = None) -> dict:
    """Run one identifier over the gold items and score it (the identifier's own macro policy must be ``policy``)."""
    predicted = predict_labels(items, identifier, min_score)
    report = score(gold_labels(items, policy), predicted, set(identifier.supported_languages()), [i.length for i in items])
    report["backend"] = identifier.name
    report["macro_policy"] = policy
    report["min_score"] = min_score
    report["predictions"] = [{"id": i.id, "gold": g, "predicted": p} for i, g, p in zip(items, gold_labels(items, policy), predicted)]
    return report


def markdown_tables(reports: dict[str, dict]) -> str:
    """The comparison and a per-language P/R/F1 table side by side, as Markdown (for docs/lid.md)."""
    names = list(reports)
    out = ["| backend | accuracy | macro P | macro R | macro F1 | assigned | precision of assigned | unsupported -> und | none knows -> und |",
           "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in reports.items():
        un, al = r.get("unsupported", {}), r.get("unsupported_by_all", {})
        out.append(
            f"| {name} | {r['accuracy']:.3f} | {r['macro']['precision']:.3f} | {r['macro']['recall']:.3f} | {r['macro']['f1']:.3f} | "
            f"{r['assigned_share']:.1%} | {r['assigned_precision']:.3f} | {un.get('silent', '-')}/{un.get('items', '-')} | "
            f"{al.get('silent', '-')}/{al.get('items', '-')} |"
        )
    out += ["", "| gold label | n | " + " | ".join(f"{n} P / R / F1" for n in names) + " |", "| --- | ---: |" + " ---: |" * len(names)]
    labels = sorted({g for r in reports.values() for g, m in r["per_language"].items() if m["support"]})
    for label in labels:
        cells = []
        for name in names:
            m = reports[name]["per_language"][label]
            cells.append(f"{m['precision']:.2f} / {m['recall']:.2f} / {m['f1']:.2f}")
        out.append(f"| {label} | {reports[names[0]]['per_language'][label]['support']} | " + " | ".join(cells) + " |")
    return "\n".join(out)

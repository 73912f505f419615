"""``longtail report``: one self-contained HTML page (inline PNG plots) for a run folder or a release folder."""

from __future__ import annotations

import base64
import html
import io
import json
import os
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from longtail.pipeline.release.export import audited_contamination
from longtail.pipeline.runfolder import CONTAMINATION_JSON, LANGUAGES_JSON, LID_CONTAMINATION_JSON, RECORDS_JSON, RunFolder
from longtail.pipeline.stats import judged_pages, lid_contamination_summary
from longtail.reasons import LID_OUTLIER

REPORT_COLUMNS = ("lang_script", "n_words", "perplexity", "lang_score", "dup_cluster_size")
OVERVIEW_LANGUAGES = 40  # bars in the overview's documents plot; the rest are summed into one bar
LOWER_BOUND_NOTE = (f"A lower bound: {LID_OUTLIER} compares each page's words with the common words of its split's confident core, "
                    "so it misses relatives that share the language's function words (Classical or Western Armenian in Armenian, "
                    "Xhosa in Zulu; docs/lid.md).")


def document_files(folder: Path) -> list[Path]:
    """Kept-document shards of a run (``dataset/lang_script=*/``) or of a release (``data/*/``)."""
    return RunFolder(folder).kept_files() + sorted((folder / "data").glob("*/*.parquet"))


def load_documents(folder: Path) -> pa.Table:
    tables = []
    for path in document_files(folder):
        names = pq.read_schema(path).names
        table = pq.read_table(path, columns=[c for c in REPORT_COLUMNS if c in names])
        if "lang_script" not in table.column_names:
            label = path.parent.name.split("=", 1)[-1]
            table = table.append_column("lang_script", pa.array([label] * table.num_rows, pa.string()))
        tables.append(table)
    if not tables:
        return pa.table({c: pa.array([], pa.string() if c == "lang_script" else pa.float64()) for c in REPORT_COLUMNS})
    return pa.concat_tables(tables, promote_options="permissive")


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(rows: int, height_per_row: float = 0.32, minimum: float = 2.5):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(9, max(minimum, 0.8 + height_per_row * rows)))


def plot_documents_and_words(languages: list[dict]) -> str:
    labels = [s["lang_script"] for s in languages]
    fig, ax = _figure(len(labels))
    positions = range(len(labels))
    ax.barh([p - 0.2 for p in positions], [max(s.get("documents", 0), 0) for s in languages], height=0.4, label="documents", color="#3b6ea5")
    ax.barh([p + 0.2 for p in positions], [max(s.get("words", 0), 0) for s in languages], height=0.4, label="words", color="#e0943a")
    ax.set_xscale("symlog", linthresh=1)
    ax.set_yticks(list(positions), labels)
    ax.invert_yaxis()
    ax.set_xlabel("count (log scale)")
    ax.legend(loc="lower right")
    ax.set_title("Kept documents and words per language")
    return _png(fig)


def _stacked_barh(rows: list[str], series: dict[str, list[int]], colormap: str, xlabel: str, title: str) -> str:
    """One horizontal bar per row, stacked by series (drop reasons, scripts), legend outside the axes."""
    from matplotlib import colormaps

    fig, ax = _figure(len(rows))
    colors = colormaps[colormap]
    left = [0] * len(rows)
    for index, (name, counts) in enumerate(series.items()):
        ax.barh(rows, counts, left=left, label=name, color=colors(index % colors.N))
        left = [a + b for a, b in zip(left, counts)]
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    if series:
        ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    return _png(fig)


def plot_removals(languages: list[dict]) -> str:
    reasons = sorted({r for s in languages for r in (s.get("dropped") or {})})
    series = {reason: [(s.get("dropped") or {}).get(reason, 0) for s in languages] for reason in reasons}
    return _stacked_barh([s["lang_script"] for s in languages], series, "tab20", "removed documents", "Removals per reason per language")


def plot_distribution(documents: pa.Table, column: str, title: str, xlabel: str, log_x: bool = False) -> str:
    """Box plot per language of one numeric column of the kept documents."""
    by_language: dict[str, list[float]] = defaultdict(list)
    if column in documents.column_names:
        for label, value in zip(documents.column("lang_script").to_pylist(), documents.column(column).to_pylist()):
            if value is not None and value == value:
                by_language[label].append(float(value))
    labels = sorted(by_language)
    fig, ax = _figure(len(labels))
    if labels:
        ax.boxplot([by_language[label] for label in labels], orientation="horizontal", tick_labels=labels, showfliers=True)
        ax.invert_yaxis()
    else:
        ax.text(0.5, 0.5, f"no {column} values", ha="center", va="center", transform=ax.transAxes)
    if log_x and labels:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    return _png(fig)


def plot_cluster_sizes(documents: pa.Table) -> str:
    sizes = Counter(int(s or 1) for s in documents.column("dup_cluster_size").to_pylist()) if "dup_cluster_size" in documents.column_names else Counter()
    fig, ax = _figure(0, minimum=3)
    if sizes:
        keys = sorted(sizes)
        ax.bar([str(k) for k in keys], [sizes[k] for k in keys], color="#5a9a5a")
        ax.set_yscale("log")
    ax.set_xlabel("duplicate-cluster size (copies incl. the kept one)")
    ax.set_ylabel("kept documents (log scale)")
    ax.set_title("Duplicate-cluster sizes")
    return _png(fig)


def plot_kept_overview(languages: list[dict], limit: int = OVERVIEW_LANGUAGES) -> str:
    """Kept documents of the ``limit`` largest languages, the others summed into one bar: one plot of bounded size
    however many languages the run has (the full per-language plots come after the tables)."""
    ranked = sorted((s for s in languages if s.get("documents")), key=lambda s: (-s["documents"], s["lang_script"]))
    labels, counts = [s["lang_script"] for s in ranked[:limit]], [s["documents"] for s in ranked[:limit]]
    if len(ranked) > limit:
        labels.append(f"other {len(ranked) - limit} languages")
        counts.append(sum(s["documents"] for s in ranked[limit:]))
    fig, ax = _figure(len(labels), height_per_row=0.22)
    ax.barh(labels, counts, color="#3b6ea5")
    if counts:
        ax.set_xscale("symlog", linthresh=1)
    ax.invert_yaxis()
    ax.set_xlabel("kept documents (log scale)")
    shown = f"largest {limit} of {len(ranked)}" if len(ranked) > limit else f"all {len(ranked)}"
    ax.set_title(f"Kept documents per language ({shown} languages)")
    return _png(fig)


def plot_drops_overview(drops: dict[str, int]) -> str:
    """Removed documents per reason, summed over languages."""
    reasons = sorted(drops, key=lambda r: (-drops[r], r))
    fig, ax = _figure(len(reasons))
    ax.barh(reasons, [drops[r] for r in reasons], color="#b5534a")
    if reasons:
        ax.set_xscale("symlog", linthresh=1)
    else:
        ax.text(0.5, 0.5, "no document was removed", ha="center", va="center", transform=ax.transAxes)
    ax.invert_yaxis()
    ax.set_xlabel("removed documents, all languages (log scale)")
    ax.set_title("Removals per reason, all languages")
    return _png(fig)


def drops_by_reason(languages: list[dict]) -> dict[str, int]:
    """Every drop reason with its count summed over languages (reasons no document had are left out)."""
    total: Counter = Counter()
    for s in languages:
        total.update(s.get("dropped") or {})
    return {reason: count for reason, count in sorted(total.items()) if count}


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def contamination_cell(stats: dict, audited: dict[str, float]) -> str:
    """A language's estimated contamination: the audited rate when a human audit has it, and the lid:outlier share
    of its split (``not judged`` when the split was too small)."""
    parts = []
    if stats["lang_script"] in audited:
        parts.append(f"audited {_percent(audited[stats['lang_script']])}")
    value = stats.get("lid_contamination")
    parts.append(f"{LID_OUTLIER} {_percent(value)}" if value is not None else "not judged")
    if stats.get("lid_blind_spots"):
        parts.append("blind spots: " + ", ".join(e["lang"] for e in stats["lid_blind_spots"]))
    return "; ".join(parts)


def contamination_summary(folder: Path, languages: list[dict]) -> dict:
    """stats/lid_contamination.json, or the same figure computed from languages.json (runs written before the file)."""
    path = RunFolder(folder).stats_file(LID_CONTAMINATION_JSON)
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    return lid_contamination_summary(languages)


def overview(languages: list[dict], summary: dict, audited: dict[str, float], plots: list[tuple[str, str, str]]) -> str:
    """The section a reviewer reads first: totals, drops by reason, estimated contamination, the key plots."""
    kept = [s for s in languages if s.get("documents")]
    drops = drops_by_reason(languages)
    removed = sum(drops.values())
    figure = _percent(summary.get("contamination"))
    judged = (f"{summary.get('outliers', 0):,} of {summary.get('pages_judged', 0):,} pages dropped as {LID_OUTLIER} in the "
              f"{summary.get('splits_judged', 0)} splits judged; {summary.get('splits_not_judged', 0)} splits "
              f"({summary.get('pages_not_judged', 0):,} pages) had fewer than {summary.get('min_pages')} pages and were not judged")
    rows = [
        ("languages", "languages with kept documents", f"{len(kept):,} (of {len(languages):,} language splits)"),
        ("documents", "documents kept", f"{sum(s.get('documents', 0) for s in languages):,}"),
        ("words", "words kept", f"{sum(s.get('words', 0) for s in languages):,}"),
        ("removed", "documents removed", f"{removed:,}"),
        ("contamination", "estimated wrong-language contamination (lower bound)", f"{figure} ({judged})"),
    ]
    if audited:
        rates = [audited[s["lang_script"]] for s in languages if s["lang_script"] in audited]
        rows.append(("audited", "human audit of wrong-language pages",
                     f"{len(rates)} languages audited, mean wrong-language rate {_percent(sum(rates) / len(rates) if rates else None)}"))
    facts = "".join(f'<tr data-key="{key}"><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>' for key, name, value in rows)
    reason_rows = "".join(f'<tr data-reason="{html.escape(r)}"><td>{html.escape(r)}</td><td>{n:,}</td><td>{100 * n / removed:.1f}%</td></tr>'
                          for r, n in sorted(drops.items(), key=lambda kv: (-kv[1], kv[0])))
    worst = sorted((s for s in languages if s.get("lid_contamination")), key=lambda s: (-s["lid_contamination"], s["lang_script"]))[:10]
    worst_line = ", ".join(f"{s['lang_script']} {_percent(s['lid_contamination'])} ({judged_pages(s):,} pages)" for s in worst) or "none"
    spots = summary.get("blind_spots") or {}
    spots_note = ("" if not spots else '<p class="note" id="blind-spots">Known LID blind spots: languages no model knows that '
                  "longtail's LID bench files under these kept splits (bench items filed there), which the check above cannot "
                  "find: " + html.escape("; ".join(f"{label}: {text}" for label, text in spots.items())) + ".</p>")
    images = "\n".join(f'<figure id="{key}"><img alt="{html.escape(title)}" src="data:image/png;base64,{png}"><figcaption>{html.escape(title)}</figcaption></figure>'
                       for key, title, png in plots)
    return f"""<section id="overview"><h2>Overview</h2>
<table class="overview"><tbody>{facts}</tbody></table>
<p class="note">Estimated contamination: the share of the judged splits' pages that the split-level check dropped as
<code>{LID_OUTLIER}</code>. {html.escape(LOWER_BOUND_NOTE)} Highest per split: {html.escape(worst_line)}.
Per language: the contamination column of the Languages table.</p>
{spots_note}
<h3>Drops by reason, all languages</h3>
<table class="drops"><thead><tr><th>reason</th><th>documents</th><th>share of removed</th></tr></thead><tbody>{reason_rows}</tbody></table>
{images}
</section>"""


def scripts_per_language(labels: list[str]) -> dict[str, Counter]:
    scripts: dict[str, Counter] = defaultdict(Counter)
    for label in labels:
        lang, _, script = label.partition("_")
        scripts[lang][script] += 1
    return scripts


def plot_scripts(scripts: dict[str, Counter]) -> str:
    languages = sorted(scripts)
    all_scripts = sorted({s for c in scripts.values() for s in c})
    series = {script: [scripts[lang].get(script, 0) for lang in languages] for script in all_scripts}
    return _stacked_barh(languages, series, "Set2", "kept documents", "Scripts per language (ISO 639-3 -> ISO 15924)")


def _table(headers: list[str], rows: list[list]) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kenlm_cell(info: dict) -> str:
    """Which KenLM model judged a language: bootstrapped from the run (with its size), given, or none (and why)."""
    if info.get("source") == "bootstrap":
        return f"bootstrapped ({info.get('training_lines')} lines, held-out AUC {info.get('heldout_auc') or 0:.2f})"
    status = (info.get("bootstrap") or {}).get("status")
    return info.get("source", "") + (f" (bootstrap: {status})" if status else "")


def _classifier_cell(info: dict) -> str:
    """The quality-classifier threshold a language was selected with, and where it came from (its stats' rule)."""
    if not info:
        return ""
    threshold = info.get("min_quality_score")
    return f"{'none' if threshold is None else f'{threshold:g}'} ({info.get('rule')})"


def build_report(folder: Path) -> str:
    folder = Path(folder)
    stats_path = RunFolder(folder).stats_file(LANGUAGES_JSON)  # a release copies the run's stats/ as they are
    if not stats_path.is_file():
        raise FileNotFoundError(f"{stats_path} not found: give a run's output folder or a release folder")
    languages = sorted(json.loads(stats_path.read_text(encoding="utf-8")), key=lambda s: (-s.get("documents", 0), s["lang_script"]))
    records_path = RunFolder(folder).stats_file(RECORDS_JSON)
    records = json.loads(records_path.read_text()) if records_path.is_file() else {}
    documents = load_documents(folder)
    release = (folder / "manifest.json").is_file()
    name = (json.loads((folder / "manifest.json").read_text()).get("name") if release else None) or folder.name
    kept_labels = documents.column("lang_script").to_pylist()
    scripts = scripts_per_language(kept_labels)
    audited = audited_contamination(RunFolder(folder).stats_file(CONTAMINATION_JSON))
    summary = contamination_summary(folder, languages)

    head = overview(languages, summary, audited, [
        ("overview-documents", "Kept documents per language", plot_kept_overview(languages)),
        ("overview-removals", "Removals per reason, all languages", plot_drops_overview(drops_by_reason(languages))),
    ])
    sections = [
        ("documents", "Documents and words per language", plot_documents_and_words(languages)),
        ("removals", "Removals per reason", plot_removals(languages)),
        ("perplexity", "Perplexity distribution", plot_distribution(documents, "perplexity", "KenLM perplexity of kept documents", "perplexity (log scale)", log_x=True)),
        ("lid", "LID-score distribution", plot_distribution(documents, "lang_score", "Language-ID score of kept documents", "LID score")),
        ("clusters", "Duplicate-cluster sizes", plot_cluster_sizes(documents)),
        ("scripts", "Scripts per language", plot_scripts(scripts)),
    ]
    table = _table(
        ["lang_script", "documents", "words", "removed", "duplicate rate", "mean LID score", "perplexity p50", "KenLM model", "classifier threshold",
         "kept head / middle / tail", "templated share", "est. contamination", "top removal reasons"],
        [[s["lang_script"], s.get("documents", 0), s.get("words", 0), sum((s.get("dropped") or {}).values()),
          f"{100 * (s.get('duplicate_rate') or 0):.1f}%", s.get("mean_lang_score"), (s.get("perplexity") or {}).get("p50", ""),
          _kenlm_cell(s.get("kenlm") or {}), _classifier_cell(s.get("classifier") or {}), " / ".join(str(((s.get("perplexity_buckets") or {}).get("kept") or {}).get(b, 0)) for b in ("head", "middle", "tail")),
          f"{100 * ((s.get('templated') or {}).get('kept_share') or 0):.1f}%", contamination_cell(s, audited),
          ", ".join(f"{r} {n}" for r, n in Counter(s.get("dropped") or {}).most_common(3))] for s in languages],
    )
    record_table = _table(["record kind", "count"], [[k, v] for k, v in sorted(records.items())])
    script_table = _table(["language", "scripts (kept documents)"], [[lang, ", ".join(f"{s} {n}" for s, n in c.most_common())] for lang, c in sorted(scripts.items())])
    figures = "\n".join(
        f'<section id="{key}"><h2>{html.escape(title)}</h2><img alt="{html.escape(title)}" src="data:image/png;base64,{png}"></section>'
        for key, title, png in sections
    )
    # order: the overview a reviewer reads first (totals, drops, contamination, its plots), then the per-language
    # table, the per-language plots, and the long reference tables last
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>longtail report: {html.escape(name)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em auto; max-width: 1100px; color: #222; background: #fff; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 14px; }}
th, td {{ border: 1px solid #bbb; padding: 3px 8px; text-align: left; }}
th {{ background: #e8eef5; }}
table.overview th {{ width: 22em; }}
p.note {{ font-size: 14px; max-width: 60em; }}
figure {{ margin: 1em 0; }}
figcaption {{ font-size: 13px; color: #555; }}
img {{ max-width: 100%; border: 1px solid #ddd; }}
</style></head><body>
<h1>longtail report: {html.escape(name)}</h1>
<p>{'Release' if release else 'Run'} folder <code>{html.escape(str(folder.resolve()))}</code>.</p>
{head}
<h2>Languages</h2>
{table}
{figures}
<h2>WARC records</h2>
{record_table}
<h2>Scripts</h2>
{script_table}
</body></html>
"""


def write_report(folder: str | Path, output: str | Path) -> Path:
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    page = build_report(Path(folder))
    tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, output)
    return output

"""``longtail calibrate``: per-language heuristic thresholds from a run's annotations, a YAML the manifest
includes (``selection.thresholds_file``), a JSON report and one PNG of distributions per language."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from longtail.fileio import atomic_path, atomic_write_text
from longtail.filters.calibration import CALIBRATED_SIGNALS, CalibrationSettings, calibrate_language, reference_like
from longtail.filters.kenlm_model import load_card

from longtail.pipeline.runfolder import RUN_JSON, RunFolder

COLUMNS = ["id", "lang", "lang_script", "lang_score", "perplexity", "quality_score", *CALIBRATED_SIGNALS]


def read_annotations(output: str | Path, columns: list[str] = COLUMNS) -> dict[str, list[dict]]:
    """Annotated rows (calibration's columns by default) grouped by ``lang_script``, see :meth:`RunFolder.read_annotations`."""
    return RunFolder(output).read_annotations(columns)


def kenlm_dir_of_run(output: str | Path) -> str | None:
    run_info = RunFolder(output).stats_file(RUN_JSON)
    if run_info.is_file():
        return json.loads(run_info.read_text()).get("manifest", {}).get("quality", {}).get("kenlm_models")
    return None


def run_card(output: str | Path, kenlm_models: str | None, label: str) -> dict | None:
    """The card of the KenLM model that scored ``label`` in a run: bootstrapped by the run, else given."""
    folder = RunFolder(output)
    card = load_card(folder.kenlm, label) if folder.rescored_is_current() else None
    return card if card or not kenlm_models else load_card(kenlm_models, label)


def calibrate_run(output: str | Path, settings: CalibrationSettings, kenlm_models: str | None) -> dict[str, dict]:
    rows = read_annotations(output)
    return {label: calibrate_language(language_rows, run_card(output, kenlm_models, label), settings)
            for label, language_rows in rows.items()}


def write_thresholds_yaml(results: dict[str, dict], settings: CalibrationSettings, path: str | Path, source: str) -> None:
    document = {
        "method": {"tool": "longtail calibrate", "annotations": source, **settings.as_dict(), "see": "docs/quality.md"},
        "languages": {label: r["thresholds"] for label, r in results.items() if r["thresholds"]},
    }
    header = "# Per-language thresholds from `longtail calibrate`; include with selection.thresholds_file in a manifest.\n"
    atomic_write_text(path, header + yaml.safe_dump(document, allow_unicode=True, sort_keys=False))


def plot_language(label: str, rows: list[dict], reference: list[dict], thresholds: dict | None, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(CALIBRATED_SIGNALS), figsize=(4 * len(CALIBRATED_SIGNALS), 3.2))
    for ax, (signal, (field, kind, _)) in zip(axes, CALIBRATED_SIGNALS.items()):
        all_values = [r[signal] for r in rows if r.get(signal) is not None]
        ref_values = [r[signal] for r in reference if r.get(signal) is not None]
        bins = [i / 40 for i in range(41)]
        ax.hist(all_values, bins=bins, color="0.75", label=f"all ({len(all_values)})")
        ax.hist(ref_values, bins=bins, color="tab:blue", alpha=0.7, label=f"reference-like ({len(ref_values)})")
        if thresholds and thresholds.get(field) is not None:
            ax.axvline(thresholds[field], color="tab:red", linestyle="--", label=f"{field} = {thresholds[field]:.3f}")
        ax.set_title(signal)
        ax.legend(fontsize=7)
    fig.suptitle(f"{label}: heuristic signals, calibrated thresholds")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=80, format="png")
    plt.close(fig)


def plot_run(output: str | Path, results: dict[str, dict], settings: CalibrationSettings, kenlm_models: str | None, folder: str | Path) -> list[Path]:
    written = []
    for label, rows in read_annotations(output).items():
        if len(rows) < settings.min_documents:  # nothing to see in a handful of points
            continue
        card = run_card(output, kenlm_models, label)
        path = Path(folder) / f"{label}.png"
        plot_language(label, rows, reference_like(rows, card, settings), results.get(label, {}).get("thresholds"), path)
        written.append(path)
    return written

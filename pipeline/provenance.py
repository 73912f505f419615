"""What a run was made with: the code version and the sha256 of every model file it used.

Recorded in ``stats/run.json`` at run time (models can be retrained later) and copied into a release's
``manifest.json`` by ``longtail export``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from longtail import __version__
from longtail.fileio import is_url, local_copy, local_tree
from longtail.filters.kenlm_bootstrap import FOLDS
from longtail.filters.kenlm_model import sha256_file  # one checksum helper for models and releases

REPO_ROOT = Path(__file__).resolve().parent.parent


def code_version() -> str:
    """``git describe`` of the checkout when there is one (``-dirty`` when edited), else the package version."""
    if (REPO_ROOT / ".git").exists():
        try:
            described = subprocess.run(
                ["git", "-C", str(REPO_ROOT), "describe", "--tags", "--always", "--dirty"],
                capture_output=True, text=True, timeout=20, check=True,
            ).stdout.strip()
            if described:
                return f"{__version__}+git.{described}"
        except (OSError, subprocess.SubprocessError):
            pass
    return __version__


def _entry(role: str, path: Path, **extra) -> dict:
    return {"role": role, "path": str(path), "sha256": sha256_file(path), "bytes": path.stat().st_size, **extra}


def lid_model_files(identify: dict) -> list:
    """The files that make up the language-ID model of an ``identify`` settings mapping."""
    from longtail.langid.backends import default_fasttext_model, package_file

    backend = identify.get("backend")
    files = []
    if backend in ("heliport", "ensemble"):  # heliport's model ships inside its wheel
        folder = package_file("heliport")
        files += sorted(p for p in folder.iterdir() if p.suffix == ".bin" or p.name == "confidenceThresholds")
    if backend in ("fasttext", "ensemble"):
        model = identify.get("model_path") or default_fasttext_model()
        files.append(model if is_url(model) else Path(model))  # a URL stays a string (hashed from a local copy)
    return files


def model_fingerprints(manifest: dict, bootstrapped_kenlm: str | None = None, bootstrapped_classifier: str | None = None) -> list[dict]:
    """sha256 of every model file a run manifest (as ``Manifest.to_dict()``) points at: LID, KenLM, classifier,
    the KenLM models the run bootstrapped (``bootstrapped_kenlm``, role ``kenlm-bootstrap``) and the fold models of
    its bootstrapped classifier, which scored the documents (``bootstrapped_classifier``, role
    ``classifier-bootstrap``; the thresholds it set are in each language's stats)."""
    entries = []
    identify = manifest.get("identify") or {}
    for path in lid_model_files(identify):
        if is_url(path):
            entries.append({**_entry("lid", Path(local_copy(path)), backend=identify.get("backend")), "path": str(path)})
        elif path.is_file():
            entries.append(_entry("lid", path, backend=identify.get("backend")))
    quality = manifest.get("quality") or {}
    kenlm_models = quality.get("kenlm_models")
    if kenlm_models and is_url(kenlm_models):  # hashed from the local copy the stages use, recorded by URL
        for binary in sorted(Path(local_tree(kenlm_models)).glob("*.binary")):
            entries.append({**_entry("kenlm", binary, lang_script=binary.stem), "path": f"{kenlm_models}/{binary.name}"})
    elif kenlm_models and Path(kenlm_models).is_dir():
        for binary in sorted(Path(kenlm_models).glob("*.binary")):
            entries.append(_entry("kenlm", binary, lang_script=binary.stem))
    if bootstrapped_kenlm and (is_url(bootstrapped_kenlm) or Path(bootstrapped_kenlm).is_dir()):
        root = Path(local_tree(bootstrapped_kenlm))  # an object-store run folder: hashed from a local copy
        # the fold models scored the run's documents (cross-fitting); a language's final model, kept with the
        # kenlm_bootstrap setting final_model, is listed too
        for binary in sorted(root.glob("*.binary")) + sorted(root.glob(f"{FOLDS}/fold*/*.binary")):
            fold = {"fold": int(binary.parent.name[len("fold"):])} if binary.parent != root else {}
            entry = _entry("kenlm-bootstrap", binary, lang_script=binary.stem, **fold)
            if is_url(bootstrapped_kenlm):
                entry["path"] = f"{str(bootstrapped_kenlm).rstrip('/')}/{binary.relative_to(root).as_posix()}"
            entries.append(entry)
    if bootstrapped_classifier and (is_url(bootstrapped_classifier) or Path(bootstrapped_classifier).is_dir()):
        root = Path(local_tree(bootstrapped_classifier))
        for fold, model in sorted((int(path.stem[len("fold"):]), path) for path in root.glob("fold*.bin")):  # fold10 after fold2
            entry = _entry("classifier-bootstrap", model, fold=fold)
            if is_url(bootstrapped_classifier):
                entry["path"] = f"{str(bootstrapped_classifier).rstrip('/')}/{model.name}"
            entries.append(entry)
    classifier = quality.get("classifier_model")
    if classifier and is_url(classifier):
        entries.append({**_entry("classifier", Path(local_copy(classifier))), "path": classifier})
    elif classifier and Path(classifier).is_file():
        entries.append(_entry("classifier", Path(classifier)))
    return entries


def safety_rules(manifest) -> dict:
    """Which URL lists (version, sha256) and personal-data rules a run applied (``stats/run.json``, the release)."""
    from longtail.filters.pii import describe_pii_rules
    from longtail.filters.urls import describe_url_rules

    return {"url_filter": describe_url_rules(manifest.url_filter), "pii": describe_pii_rules(manifest.pii)}

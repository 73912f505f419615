"""pyproject.toml declares every third-party import of the package (as a dependency or in an extra)."""

import ast
import pathlib
import re
import sys

import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("pipeline", "stages", "filters", "langid")

# top-level module -> the distribution that provides it (where the names differ, or several could)
MODULE_TO_DISTRIBUTION = {
    "GlotScript": "glotscript",
    "babel": "babel",
    "charset_normalizer": "charset-normalizer",
    "datasketch": "datasketch",
    "datatrove": "datatrove",
    "duckdb": "duckdb",
    "fasttext": "fasttext-numpy2-wheel",
    "fastwarc": "fastwarc",
    "fsspec": "fsspec",
    "upath": "universal-pathlib",
    "heliport": "heliport",
    "kenlm": "kenlm",
    "matplotlib": "matplotlib",
    "numpy": "numpy",
    "pyarrow": "pyarrow",
    "phonenumbers": "phonenumbers",
    "pycountry": "pycountry",
    "ray": "ray",
    "regex": "regex",
    "resiliparse": "resiliparse",
    "tldextract": "tldextract",
    "tqdm": "tqdm",
    "trafilatura": "trafilatura",
    "xxhash": "xxhash",
    "yaml": "pyyaml",
}


def package_files():
    files = sorted(ROOT.glob("*.py")) + sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))
    return [f for f in files if f.name != "setup.py"]


def third_party_imports() -> dict[str, str]:
    """Top-level module -> first file importing it, for every absolute import (module level or inside functions)."""
    found: dict[str, str] = {}
    for path in package_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top not in sys.stdlib_module_names and top not in ("longtail", "__future__"):
                    found.setdefault(top, path.relative_to(ROOT).as_posix())
    return found


def _distribution_name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def declared_distributions() -> dict[str, str]:
    """Declared distribution -> where (``dependencies`` or ``extra:<name>``)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = {_distribution_name(r): "dependencies" for r in project["dependencies"]}
    for extra, requirements in project.get("optional-dependencies", {}).items():
        for requirement in requirements:
            declared.setdefault(_distribution_name(requirement), f"extra:{extra}")
    return declared


def test_scan_finds_the_package_imports():
    imports = third_party_imports()
    assert {"pyarrow", "trafilatura", "ray"} <= set(imports)  # the scan works


def test_every_third_party_import_is_mapped_and_declared():
    imports = third_party_imports()
    unmapped = {module: where for module, where in imports.items() if module not in MODULE_TO_DISTRIBUTION}
    assert unmapped == {}, f"add these modules to MODULE_TO_DISTRIBUTION (and pyproject.toml): {unmapped}"
    declared = declared_distributions()
    missing = {module: MODULE_TO_DISTRIBUTION[module] for module in imports if MODULE_TO_DISTRIBUTION[module] not in declared}
    assert missing == {}, f"imported by the package but not declared in pyproject.toml: {missing}"


def test_core_dependencies_are_not_optional():
    """Modules imported at module level by the pipeline's own path must be real dependencies, not extras."""
    declared = declared_distributions()
    for module in ("pyarrow", "ray", "trafilatura", "fastwarc", "babel", "heliport", "datasketch", "kenlm", "yaml", "regex"):
        assert declared.get(MODULE_TO_DISTRIBUTION[module]) == "dependencies", module


def test_url_and_pii_dependencies_are_core():
    """datatrove (URLFilter, its UT1 and banned-word lists, PII patterns) and phonenumbers run in the annotate pass
    (filters/urls.py, filters/pii.py): dependencies, not extras; so are the modules datatrove's URLFilter needs."""
    declared = declared_distributions()
    for distribution in ("datatrove", "phonenumbers", "tldextract", "pyahocorasick", "fasteners"):
        assert declared.get(distribution) == "dependencies", distribution
    assert {"datatrove", "phonenumbers"} <= set(third_party_imports())


def test_requirements_pin_every_declared_distribution():
    """requirements.txt (what scripts/setup.sh installs) names every distribution pyproject declares."""
    pinned = {_distribution_name(line.split("#", 1)[0].strip()) for line in (ROOT / "requirements.txt").read_text().splitlines() if line.split("#", 1)[0].strip()}
    pinned.add("fasttext-numpy2-wheel")  # installed by scripts/setup.sh itself (FASTTEXT_PKG), after requirements.txt
    assert {d for d in declared_distributions() if d not in pinned} == set()


def test_every_data_file_the_package_reads_is_declared_as_package_data():
    """A wheel carries only modules unless pyproject.toml names the data files: without langid/calibration.json a
    pip-installed longtail would have no open-set LID table."""
    import fnmatch

    declared = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"].get("package-data", {})
    data_files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*")
                  if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts]
    assert data_files, "the package has data files (langid/calibration.json)"
    for path in data_files:
        relative = path.relative_to(ROOT)
        package = "longtail." + ".".join(relative.parent.parts)
        patterns = declared.get(package, [])
        assert any(fnmatch.fnmatch(relative.name, pattern) for pattern in patterns), f"{relative} is not in [tool.setuptools.package-data] {package}"


def test_a_missing_calibration_table_is_a_clear_error(tmp_path):
    import pytest

    from longtail.langid.calibration import Calibration

    with pytest.raises(FileNotFoundError, match="calibration"):
        Calibration.load(tmp_path / "typo.json")

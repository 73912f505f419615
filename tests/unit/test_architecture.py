"""The package's shape (docs/design.md, "Layout"), read from the source with ``ast``: no import cycles, imports only
in the allowed directions, Ray only in its adapter, no machine-specific absolute paths in tracked files.

Every import counts, including those inside functions: a lazy import still ties the modules together.
"""

from __future__ import annotations

import ast
import pathlib
import re
import subprocess
from collections import defaultdict

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("pipeline", "stages", "filters", "langid")

# Which top-level parts of longtail a part may import ("root" = the modules at the top: fileio, reasons, __init__).
# pipeline is on top; then stages; filters (pure text logic) and langid below; root modules import nothing of longtail.
ALLOWED = {
    "pipeline": {"pipeline", "stages", "filters", "langid", "root"},
    "stages": {"stages", "filters", "langid", "root"},
    "filters": {"filters", "langid", "root"},
    "langid": {"langid", "root"},
    "root": {"root"},
}
# Inside pipeline: the CLI, release tooling and offline tools sit on the orchestration modules, never below them.
PIPELINE_FRONT_ENDS = ("longtail.pipeline.cli", "longtail.pipeline.release", "longtail.pipeline.tools")
RAY_ADAPTER = "longtail.pipeline.ray_backend"


def module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(["longtail", *parts])


def package_modules() -> dict[str, pathlib.Path]:
    files = sorted(ROOT.glob("*.py")) + sorted(p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py"))
    return {module_name(f): f for f in files}


def _imports(name: str, path: pathlib.Path) -> list[tuple[str, list[str]]]:
    """(module imported from, names imported) for every import statement, resolving relative imports."""
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((module, [alias.name for alias in node.names]))
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports. ``from a import b`` with ``a.b`` a module counts as importing ``a.b``
    (not the package ``a``'s ``__init__``); importing a name counts as importing the module that defines it."""
    modules = package_modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        for module, names in _imports(name, path):
            submodules = [f"{module}.{n}" for n in names if f"{module}.{n}" in modules]
            targets = submodules if submodules and len(submodules) == len(names) else [module, *submodules]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def third_party_importers(top: str) -> list[str]:
    return sorted(name for name, path in package_modules().items()
                  if any(module.split(".")[0] == top for module, _ in _imports(name, path)))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index, low, on_stack, stack, result, counter = {}, {}, set(), [], [], 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    result.append(sorted(component))
    return result


def part(module: str) -> str:
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 and pieces[1] in PACKAGES else "root"


def test_graph_is_read():
    graph = import_graph()
    assert "longtail.pipeline.run" in graph and "longtail.reasons" in graph
    assert "longtail.stages.base" in graph["longtail.stages.select"]  # the scan sees imports


def test_cycle_finder():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules():
    assert cycles(import_graph()) == []


def test_no_import_cycle_between_packages():
    edges: dict[str, set[str]] = defaultdict(set)
    for source, targets in import_graph().items():
        for target in targets:
            if part(source) != part(target):
                edges[part(source)].add(part(target))
    assert cycles({p: edges[p] for p in (*PACKAGES, "root")}) == []


def test_imports_follow_the_allowed_directions():
    """filters never import stages or pipeline; stages never import pipeline; langid imports only langid and root
    modules; root modules (fileio, reasons) import nothing of longtail."""
    wrong = sorted(f"{source} -> {target}" for source, targets in import_graph().items() for target in targets
                   if part(target) not in ALLOWED[part(source)])
    assert wrong == []


def test_pipeline_core_does_not_import_its_front_ends():
    """pipeline/cli, pipeline/release and pipeline/tools use the orchestration modules, not the other way round
    (and nothing below pipeline imports them)."""
    wrong = sorted(f"{source} -> {target}" for source, targets in import_graph().items() for target in targets
                   if target.startswith(PIPELINE_FRONT_ENDS) and not source.startswith(PIPELINE_FRONT_ENDS))
    assert wrong == []


def test_reasons_is_a_leaf():
    assert import_graph()["longtail.reasons"] == set()


def test_only_the_ray_backend_imports_ray():
    assert third_party_importers("ray") == [RAY_ADAPTER]


# --- no absolute paths that exist on one machine only --------------------------------------------------------------

# A home or work folder anywhere (code, docs, configs), and a named folder under /tmp in documentation. Shared,
# conventional locations are fine: /tmp as a scratch default in code, /tmp/ray (Ray's session folder on every node),
# /data/... (the cluster volume of manifests/k8s).
_MACHINE_PATH = re.compile(r"(?<![\w.~$}/-])/(?:work|root|home|Users)/[\w.-]+")
_DOC_TMP_PATH = re.compile(r"(?<![\w.~$}/-])/tmp/(?!ray/)[\w.-]+")
_DOC_SUFFIXES = (".md", ".rst", ".txt")


def tracked_text_files() -> list[pathlib.Path]:
    try:
        listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    files = []
    for name in listed.decode().split("\0"):
        path = ROOT / name
        if not name or not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        head = path.read_bytes()[:8192]
        if b"\0" not in head:  # text
            files.append(path)
    return files


def test_no_machine_specific_absolute_paths():
    found = []
    for path in tracked_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        patterns = (_MACHINE_PATH, _DOC_TMP_PATH) if path.suffix in _DOC_SUFFIXES else (_MACHINE_PATH,)
        for pattern in patterns:
            for match in pattern.finditer(text):
                found.append(f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: {match.group(0)}")
    assert found == []


def test_the_path_check_catches_one():
    assert _MACHINE_PATH.search("see `" + "/wo" + "rk/shared/notes/x.md`")
    assert _DOC_TMP_PATH.search("in " + "/t" + "mp/run-42/out") and not _DOC_TMP_PATH.search("/t" + "mp/ray/session_latest")
    assert not _MACHINE_PATH.search("a relative ../shared/notes/x.md and s3://bucket/home/x")

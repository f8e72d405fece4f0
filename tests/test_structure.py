"""The package's shape: layers without import cycles, small modules, a docstring per room."""

from __future__ import annotations

import ast
import importlib
import pkgutil
from pathlib import Path

import coherence

PACKAGE = Path(coherence.__file__).parent
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _eager_imports(path: Path, known: set[str]) -> set[str]:
    """coherence modules a module imports when it loads (not inside functions or TYPE_CHECKING)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue
            if isinstance(node, ast.Import):
                out.update(a.name for a in node.names if a.name in known)
            elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("coherence"):
                for alias in node.names:
                    full = f"{node.module}.{alias.name}"
                    out.add(full if full in known else node.module)
            elif isinstance(node, (ast.If, ast.Try)):
                visit(node.body)
                visit(getattr(node, "orelse", []))

    visit(tree.body)
    return out & known


def test_no_module_imports_itself_back():
    modules = _modules()
    graph = {name: _eager_imports(path, set(modules)) - {name} for name, path in modules.items()}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def walk(name: str, trail: list[str]) -> None:
        state[name] = 1
        for nxt in sorted(graph[name]):
            if state.get(nxt) == 1:
                cycles.append(trail[trail.index(nxt):] + [nxt] if nxt in trail else [name, nxt])
            elif nxt not in state:
                walk(nxt, trail + [nxt])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_modules_stay_small():
    long = {name: n for name, path in _modules().items() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_every_subpackage_says_what_lives_there():
    for info in pkgutil.walk_packages(coherence.__path__, "coherence."):
        if info.ispkg:
            module = importlib.import_module(info.name)
            assert (module.__doc__ or "").strip(), f"{info.name} has no docstring"


def test_importing_the_package_loads_no_heavy_library():
    import subprocess
    import sys

    code = "import sys, coherence; print(sorted(m for m in ('torch', 'sentence_transformers', 'onnxruntime', 'sklearn', 'pyarrow', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_benchmark_and_training_script_imports():
    """They run as `python -m benchmarks.NAME` and are not all exercised by the suite: a moved
    name must fail here, not in the next benchmark run."""
    import benchmarks
    import training

    for package in (benchmarks, training):
        for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
            importlib.import_module(info.name)

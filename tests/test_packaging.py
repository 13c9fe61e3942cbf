"""pyproject.toml says what the code imports: every third-party import of packdepth/ is a
dependency or an extra, every extra (but dev) is imported by some module, and the configs ship."""

from __future__ import annotations

import ast
import fnmatch
import re
import sys
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")

ROOT = Path(__file__).resolve().parents[1]
#: Distribution name -> import name, where they differ.
IMPORT_NAMES = {"pillow": "PIL", "pyyaml": "yaml", "scikit-learn": "sklearn",
                "pydensecrf2": "pydensecrf"}
#: Dependencies that no module imports by name: Lightning's TensorBoardLogger needs tensorboard;
#: fastapi brings starlette.
INDIRECT = {"tensorboard"}
BROUGHT = {"starlette": "fastapi"}


def _names(requirements: list[str]) -> set[str]:
    dists = {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower() for r in requirements}
    return {IMPORT_NAMES.get(d, d) for d in dists}


def _is_dynamic_import(node: ast.AST) -> bool:
    """``import_module("x")`` or ``require("x")`` (packdepth.export.runtime) with a literal."""
    if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)):
        return False
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module"
    return isinstance(func, ast.Name) and func.id in ("import_module", "require")


def _imports() -> dict[str, set[str]]:
    """Top-level module name -> the files of packdepth/ that import it."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "packdepth").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif _is_dynamic_import(node):
                names = [node.args[0].value]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(ROOT)))
    return found


def test_imports_and_extras_match() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    required = _names(project["dependencies"])
    extras = {k: _names(v) for k, v in project["optional-dependencies"].items() if k != "dev"}
    imports = _imports()
    third_party = {m for m in imports
                   if m not in sys.stdlib_module_names and m not in ("packdepth", "__future__")}
    declared = required | set().union(*extras.values())
    undeclared = {m for m in third_party - declared if BROUGHT.get(m) not in declared}
    assert not undeclared, {m: sorted(imports[m]) for m in undeclared}
    for extra, names in extras.items():
        assert names <= set(imports), f"extra {extra}: {sorted(names - set(imports))} unused"
    assert required - INDIRECT <= set(imports), sorted(required - INDIRECT - set(imports))


def test_configs_ship_as_package_data() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = data["package-data"]["packdepth"]
    shipped = {p for pattern in patterns for p in (ROOT / "packdepth").glob(pattern)}
    assert shipped == set((ROOT / "packdepth" / "configs").rglob("*.yaml"))
    assert {p.name for p in shipped} >= {"synthetic_cpu.yaml", "fast_cpu.yaml"}
    weights = ROOT / "packdepth" / "weights"  # the shipped model: every file but the code
    patterns = data["package-data"]["packdepth.weights"]
    shipped = {p for pattern in patterns for p in weights.glob(pattern)}
    assert shipped == {p for p in weights.rglob("*") if p.is_file() and p.suffix != ".py"
                       and "__pycache__" not in p.parts}
    for name in ("streets/depth_net.safetensors", "streets/MODEL_CARD.md"):  # when not there yet
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name

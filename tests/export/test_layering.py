"""packdepth.export sits above the networks, inference, io and data floors: only itself and its
command import it."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "packdepth"


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_nothing_below_imports_the_export_room():
    allowed = {PACKAGE / "commands" / "export.py", *(PACKAGE / "export").glob("*.py")}
    importers = [str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                 if p not in allowed and any(n == "packdepth.export" or
                                             n.startswith("packdepth.export.")
                                             for n in _imports(p))]
    assert importers == []
    assert "packdepth.export.onnx" in _imports(PACKAGE / "export" / "__init__.py")

"""Imports point down the house (DESIGN.md): common ← storage ← reports ← handlers ←
scheduler ← bot. Every import statement of the project's code counts, those inside functions
and under ``TYPE_CHECKING`` too: a lazy import up is still an arrow up."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each package, from the ground up, and the project's packages it may import.
LAYERS = {
    "common": set(),
    "storage": {"common"},
    "reports": {"common", "storage"},
    "handlers": {"common", "storage", "reports"},
    "scheduler": {"common", "storage", "reports", "handlers"},
    "bot": {"common", "storage", "reports", "handlers", "scheduler"},
}
PROJECT = {*LAYERS, "bench", "tests"}


def imported(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every absolute import in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def arrows_up(package: str) -> list[str]:
    allowed = LAYERS[package] | {package}
    return [f"{path.relative_to(ROOT)}:{line} imports {top}"
            for path in sorted((ROOT / package).rglob("*.py"))
            for line, top in imported(path)
            if top in PROJECT and top not in allowed]


@pytest.mark.parametrize("package", LAYERS)
def test_imports_point_down(package):
    assert arrows_up(package) == []


def test_no_relative_imports():
    """A relative import would slip past the check above."""
    relative = [f"{path.relative_to(ROOT)}:{node.lineno}"
                for package in LAYERS for path in (ROOT / package).rglob("*.py")
                for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                if isinstance(node, ast.ImportFrom) and node.level]
    assert relative == []


def test_the_check_sees_an_arrow_up(tmp_path, monkeypatch):
    """The checker itself: a lazy import of the scheduler inside a report function is found."""
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "x.py").write_text(
        "def f():\n    from scheduler.planner import governing\n    return governing\n",
        encoding="utf-8")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    assert arrows_up("reports") == ["reports/x.py:2 imports scheduler"]

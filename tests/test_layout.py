"""Import direction: the stand-ins never import the engine, and the engine never imports them.

Only the two CLI commands that run stand-ins (``demo`` and ``emulator``) may import ``standins``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ("sync", "metadata", "scheduler")
STANDIN_USERS = {
    "scheduler/commands/demo.py",
    "scheduler/commands/demo_providers.py",
    "scheduler/commands/emulator.py",
}


def top_level_imports(path: Path) -> set[str]:
    """The top-level package of every absolute import in ``path`` (relative ones are local)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def sources(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, package
    return files


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_standins_import_nothing_from_the_engine() -> None:
    bad = {rel(p): sorted(top_level_imports(p) & set(ENGINE)) for p in sources("standins")}
    assert {k: v for k, v in bad.items() if v} == {}


@pytest.mark.parametrize("package", ["sync", "metadata"])
def test_engine_never_imports_standins(package: str) -> None:
    assert [rel(p) for p in sources(package) if "standins" in top_level_imports(p)] == []


def test_only_the_demo_and_emulator_commands_import_standins() -> None:
    users = {rel(p) for p in sources("scheduler") if "standins" in top_level_imports(p)}
    assert users <= STANDIN_USERS
    assert users == STANDIN_USERS  # the check itself still sees the two real importers

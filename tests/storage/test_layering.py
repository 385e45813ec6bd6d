"""Storage stands alone: no module under storage/ imports the bot, the model or Discord."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.test_layers import parse_source

STORAGE = Path(__file__).resolve().parents[2] / "storage"
FORBIDDEN = ("bot", "classifier", "training", "sandbox", "discord", "torch", "pandas")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at top level or inside functions."""
    names: set[str] = set()
    for node in ast.walk(parse_source(path)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_no_storage_module_imports_bot_classifier_sandbox_or_discord() -> None:
    """Every import in storage/**.py stays outside the forbidden packages."""
    offending = {
        f"{path.relative_to(STORAGE.parent)}: {name}"
        for path in STORAGE.rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN
    }
    assert list(STORAGE.rglob("*.py")) and offending == set()

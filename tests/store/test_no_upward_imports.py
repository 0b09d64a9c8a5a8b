"""store/ is the bottom room: none of its modules may import logs/ (or anything above)."""

from __future__ import annotations

import ast
from pathlib import Path

import rlm_cli.store

_ABOVE = ("rlm_cli.logs", "rlm_cli.engine", "rlm_cli.repl", "rlm_cli.actions", "rlm_cli.commands")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_store_imports_nothing_above_it():
    folder = Path(rlm_cli.store.__file__).parent
    bad = {
        f"{p.name}: {name}"
        for p in sorted(folder.glob("*.py"))
        for name in _imports(p)
        if name.startswith(_ABOVE)
    }
    assert not bad, sorted(bad)

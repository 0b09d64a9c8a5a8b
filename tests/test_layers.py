"""The house's layering holds: no import cycles, and no room imports a room above it.

Rooms (ARCHITECTURE.md), bottom to top: the base (errors, paths, config, signals,
atomic writes), the bottom (store, llm, logs, runs, testing), engine and repl, what
builds on the engine (render, scan), actions, and commands with the CLI on top. Imports
inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parent.parent / "rlm_cli"

ROOMS = {
    "rlm_cli": 0,
    "errors": 0,
    "paths": 0,
    "config": 0,
    "signals": 0,
    "atomic": 0,
    "plain": 0,
    "store": 1,
    "llm": 1,
    "logs": 1,
    "runs": 1,
    "testing": 1,
    "repl": 2,
    "engine": 2,
    "render": 3,
    "scan": 3,
    "actions": 4,
    "bench": 4,  # `rlm bench` (branch bench): runs tasks through actions
    "commands": 5,
    "cli": 5,
    "__main__": 5,
}


def _modules() -> dict[str, Path]:
    mods = {}
    for p in PKG.rglob("*.py"):
        name = ".".join(p.relative_to(PKG.parent).with_suffix("").parts)
        mods[name.removesuffix(".__init__")] = p
    return mods


def _imports(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    """The rlm_cli modules ``name`` imports, anywhere in the file."""
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in mods and t != name)
    return found


def _room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


MODULES = _modules()
GRAPH = {name: _imports(name, path, MODULES) for name, path in MODULES.items()}


def test_every_room_is_placed() -> None:
    assert {_room(m) for m in MODULES} <= set(ROOMS), "a new package: give it a room here"


def test_no_import_goes_up_a_room() -> None:
    upward = sorted(
        f"{a} -> {b}"
        for a, targets in GRAPH.items()
        for b in targets
        if ROOMS[_room(b)] > ROOMS[_room(a)]
    )
    assert upward == []


def test_no_import_cycles() -> None:
    """Tarjan's strongly connected components of the module graph: all of size one."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert cycles == []


@pytest.mark.parametrize(
    ("source", "target"),
    [("rlm_cli.engine.recursion", "rlm_cli.engine.loop"), ("rlm_cli.store.ingest", "rlm_cli.cli")],
)
def test_the_checker_sees_an_upward_or_cyclic_import(source: str, target: str) -> None:
    """The graph is real: adding one edge that breaks a rule is caught."""
    graph = {k: set(v) for k, v in GRAPH.items()}
    graph[source].add(target)
    cyclic = source in _reachable(graph, target)
    upward = ROOMS[_room(target)] > ROOMS[_room(source)]
    assert cyclic or upward


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        v = todo.pop()
        for w in graph[v]:
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def test_architecture_names_every_module() -> None:
    """ARCHITECTURE.md's module index names every module a newcomer will meet, each on its
    package's line."""
    text = (PKG.parent / "ARCHITECTURE.md").read_text("utf-8")
    index = text[text.index("## Module index") :]
    lines = {line.split("`")[1]: line for line in index.splitlines() if line.startswith("- `")}
    missing = []
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG)
        package = "rlm_cli/" if len(rel.parts) == 1 else f"{rel.parts[0]}/"
        if path.name != "__init__.py" and f"`{path.name}`" not in lines.get(package, ""):
            missing.append(str(rel))
    assert missing == [], f"add these to ARCHITECTURE.md's module index: {missing}"

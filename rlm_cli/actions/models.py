"""The work behind `rlm models ...`."""

from __future__ import annotations

import os
from pathlib import Path

from rlm_cli.llm.registry import ModelRegistry, render_models_table
from rlm_cli.render.console import stderr_console, stdout_console
from rlm_cli.render.report import print_json


def list_models(json_out: bool) -> None:
    """Print the models table (or JSON)."""
    entries = ModelRegistry().list()
    out = stdout_console()
    if json_out:
        print_json(
            out, {"models": [e.to_json() if hasattr(e, "to_json") else e.__dict__ for e in entries]}
        )
        return
    out.print(render_models_table(entries))


def pull(name: str, *, alias: str | None, quiet: bool) -> None:
    """Download a catalogue model or a URL."""
    entry = ModelRegistry().pull(
        name, alias=alias, progress=not quiet, mirror=os.environ.get("RLM_MODEL_MIRROR")
    )
    if not quiet:
        stderr_console().print(
            f"rlm: {entry.name} is ready at {entry.path}", markup=False, highlight=False
        )


def add(path: Path, alias: str, *, replace: bool) -> None:
    """Register a local GGUF file."""
    entry = ModelRegistry().add(path, alias, replace=replace)
    stderr_console().print(
        f"rlm: registered {entry.name} → {entry.path}", markup=False, highlight=False
    )


def rm(name: str) -> None:
    """Forget a model (deleting a file rlm downloaded)."""
    deleted = ModelRegistry().rm(name)
    msg = f"rlm: removed {name}" + (f" and deleted {deleted}" if deleted else "")
    stderr_console().print(msg, markup=False, highlight=False)


def set_default(name: str) -> None:
    """Make ``name`` the default model."""
    entry = ModelRegistry().set_default(name)
    stderr_console().print(f"rlm: default model is now {entry.name}", markup=False, highlight=False)

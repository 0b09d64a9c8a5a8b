"""The work behind `rlm models ...`."""

from __future__ import annotations

import os
from pathlib import Path

from rlm_cli.config import Settings
from rlm_cli.llm.registry import ModelRegistry, render_models_table
from rlm_cli.render.console import stderr_console, stdout_console
from rlm_cli.render.report import print_json


def list_models(json_out: bool) -> None:
    """Print the models table (or JSON)."""
    registry = ModelRegistry()
    entries = registry.list()
    problem = registry.default_problem()
    out = stdout_console()
    if json_out:
        print_json(out, {"models": [e.to_json() for e in entries], "default_problem": problem})
        return
    out.print(render_models_table(entries))
    err = stderr_console()
    if problem:
        err.print(
            f"rlm: {problem}: choose one with `rlm models default NAME`",
            markup=False,
            highlight=False,
        )
    elif not any(e.is_default for e in entries):
        err.print(
            "rlm: no model installed: `rlm models add FILE.gguf` or `rlm models pull NAME`",
            markup=False,
            highlight=False,
        )


def pull(name: str, *, alias: str | None, quiet: bool) -> None:
    """Download a catalogue model or a URL."""
    entry = ModelRegistry().pull(
        name, alias=alias, progress=not quiet, mirror=os.environ.get("RLM_MODEL_MIRROR")
    )
    if not quiet:
        stderr_console().print(
            f"rlm: {entry.name} is ready at {entry.path}", markup=False, highlight=False
        )


def add(path: Path, alias: str | None, *, replace: bool) -> None:
    """Register a local GGUF file, and say whether a plain `rlm ask` now uses it."""
    registry = ModelRegistry()
    entry = registry.add(path, alias, replace=replace)
    err = stderr_console()
    err.print(f"rlm: registered {entry.name} → {entry.path}", markup=False, highlight=False)
    default = registry.default_name()
    if default is not None and default.lower() == entry.name.lower():
        msg = f"rlm: {entry.name} is the default model: `rlm ask` uses it"
    elif default is not None:
        msg = f"rlm: the default model is still {default}; use this one with --model {entry.name}"
    else:
        msg = f"rlm: {registry.default_problem()}; choose with `rlm models default NAME`"
    err.print(msg, markup=False, highlight=False)


def rm(name: str) -> None:
    """Forget a model (deleting a file rlm downloaded)."""
    deleted = ModelRegistry().rm(name)
    msg = f"rlm: removed {name}" + (f" and deleted {deleted}" if deleted else "")
    stderr_console().print(msg, markup=False, highlight=False)


def set_default(name: str) -> None:
    """Make ``name`` the default model."""
    entry = ModelRegistry().set_default(name)
    stderr_console().print(f"rlm: default model is now {entry.name}", markup=False, highlight=False)


def warm(settings: Settings, json_out: bool, quiet: bool) -> None:
    """Put every system prompt a run may open with in the model's prompt cache, saying what
    each cost (stderr, or one JSON object on stdout)."""
    from dataclasses import asdict

    from rlm_cli.actions.lifecycle import engine_config, load_models
    from rlm_cli.engine.warmup import warm_prompts
    from rlm_cli.llm.base import close_models

    err = stderr_console()

    def say(msg: str) -> None:
        if not quiet:
            err.print(f"rlm: {msg}", markup=False, highlight=False)

    if not settings.prompt_cache:
        say("the prompt cache is off (prompt_cache: false): nothing to warm")
        if json_out:
            print_json(stdout_console(), {"warmed": []})
        return
    root, sub = load_models(settings)
    try:
        done = warm_prompts(
            root,
            sub,
            engine_config(settings.merged(cache=False)),
            on_each=lambda w: say(_warmed_line(w)),
        )
    finally:
        close_models(root, sub)
    if json_out:
        print_json(stdout_console(), {"warmed": [asdict(w) for w in done]})


def _warmed_line(w) -> str:
    """What one warmed prompt cost, for stderr."""
    if w.tokens_evaluated:
        done = f"{w.tokens_evaluated:,} tokens evaluated and saved"
    elif w.tokens_loaded:
        done = f"{w.tokens_loaded:,} tokens in the cache already"
    else:
        done = "nothing to cache"
    return f"{w.prompt} on {w.model}: {done} ({w.seconds:.1f} s)"

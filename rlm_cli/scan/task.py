"""``--task NAME`` / ``--question TEXT``: what a scan asks, and the guidance that goes with it.

The engine's task presets (``rlm_cli.engine.prompts.load_task``) are used when that function
exists; until then a minimal lookup reads ``question:`` and ``guidance:`` from
``<config dir>/tasks/NAME.yaml`` or the shipped ``prompts/tasks/NAME.yaml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import yaml

from rlm_cli import paths
from rlm_cli.engine import prompts as engine_prompts
from rlm_cli.errors import ConfigError, UsageError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


@dataclass
class ScanTask:
    """The question, its guidance, and the identity the scan's state is kept under."""

    question: str
    guidance: str
    identity: str
    """``task:NAME`` for a preset (editing the preset keeps the state), else the question."""


def resolve_task(task: str | None, question: str | None) -> ScanTask:
    """``--question`` as given, or the preset named by ``--task`` (exactly one of them)."""
    if bool(task) == bool(question and question.strip()):
        raise UsageError("give exactly one of --task NAME or --question TEXT")
    if question:
        return ScanTask(question.strip(), "", question.strip())
    assert task is not None
    load = getattr(engine_prompts, "load_task", None) or _load_preset
    preset = load(task)
    return ScanTask(preset["question"].strip(), preset.get("guidance", "").strip(), f"task:{task}")


def _load_preset(name: str) -> dict[str, str]:
    if not _NAME.match(name):
        raise UsageError(f"--task {name!r}: not a task name")
    user = paths.config_dir() / "tasks" / f"{name}.yaml"
    if user.is_file():
        text, where = user.read_text("utf-8"), str(user)
    else:
        try:
            text = (
                resources.files("rlm_cli.prompts")
                .joinpath("tasks", f"{name}.yaml")
                .read_text("utf-8")
            )
        except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError):
            raise UsageError(f"unknown task {name!r} (add one as {user})") from None
        where = f"prompts/tasks/{name}.yaml"
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{where} is not valid YAML: {e}") from e
    q = data.get("question") if isinstance(data, dict) else None
    if not isinstance(q, str) or not q.strip():
        raise ConfigError(f"{where}: a task preset needs a 'question:' text")
    g = data.get("guidance")
    return {"question": q, "guidance": g if isinstance(g, str) else ""}

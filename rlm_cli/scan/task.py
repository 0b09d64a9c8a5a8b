"""``--task NAME``: the question (and guidance) of a task preset.

Uses the engine's task presets (``rlm_cli.engine.tasks``) when that module exists; until
then reads ``question:`` and optional ``guidance:`` from ``<config dir>/tasks/NAME.yaml``,
``<config dir>/prompts/tasks/NAME.yaml`` or the shipped ``prompts/tasks/NAME.yaml``.
"""

from __future__ import annotations

import re
from importlib import resources

import yaml

from rlm_cli import paths
from rlm_cli.errors import ConfigError, UsageError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def resolve_question(task: str | None, question: str | None) -> str:
    """The question a scan asks: ``--question`` as given, or the preset's text."""
    if bool(task) == bool(question and question.strip()):
        raise UsageError("give exactly one of --task NAME or --question TEXT")
    if question:
        return question.strip()
    assert task is not None
    try:  # the engine's presets, once they land
        from rlm_cli.engine import tasks as engine_tasks  # type: ignore[attr-defined]
    except ImportError:
        engine_tasks = None
    if engine_tasks is not None and hasattr(engine_tasks, "task_question"):
        return engine_tasks.task_question(task)
    return _preset_question(task)


def _preset_question(name: str) -> str:
    if not _NAME.match(name):
        raise UsageError(f"--task {name!r}: not a task name")
    for text, where in _candidates(name):
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{where} is not valid YAML: {e}") from e
        q = data.get("question") if isinstance(data, dict) else None
        if not isinstance(q, str) or not q.strip():
            raise ConfigError(f"{where}: a task preset needs a 'question:' text")
        guidance = data.get("guidance")
        return q.strip() + (
            f"\n\n{guidance.strip()}" if isinstance(guidance, str) and guidance.strip() else ""
        )
    raise UsageError(
        f"no task preset {name!r} (put one in {paths.config_dir() / 'tasks'}/{name}.yaml)"
    )


def _candidates(name: str):
    for p in (
        paths.config_dir() / "tasks" / f"{name}.yaml",
        paths.config_dir() / "prompts" / "tasks" / f"{name}.yaml",
    ):
        if p.is_file():
            yield p.read_text("utf-8"), str(p)
            return
    try:
        shipped = resources.files("rlm_cli.prompts").joinpath("tasks", f"{name}.yaml")
        if shipped.is_file():
            yield shipped.read_text("utf-8"), f"prompts/tasks/{name}.yaml"
    except (FileNotFoundError, ModuleNotFoundError):
        return

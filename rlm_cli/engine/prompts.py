"""Prompt templates: YAML files in prompts/, overridable from the user's config dir.

A user file ``<config dir>/prompts/NAME.yaml`` replaces keys of the shipped
``prompts/NAME.yaml`` one by one. Placeholders are ``{{name}}``; a placeholder with no
value is an error, so a template and the engine cannot drift apart silently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

import rlm_cli
from rlm_cli import paths
from rlm_cli.errors import ConfigError

_PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


def _shipped(relpath: str) -> str | None:
    """Text of a shipped prompt file: the source checkout's prompts/ first (so a checkout
    run with PYTHONPATH uses its own prompts), else the installed rlm_cli.prompts."""
    checkout = Path(rlm_cli.__file__).resolve().parent.parent
    candidate = checkout / "prompts" / relpath
    if (checkout / "pyproject.toml").is_file() and candidate.is_file():
        return candidate.read_text("utf-8")
    try:
        return resources.files("rlm_cli.prompts").joinpath(relpath).read_text("utf-8")
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError):
        return None


def load_prompts(name: str) -> dict[str, str]:
    """The prompt set ``name`` (e.g. "root"), with user overrides applied."""
    text = _shipped(f"{name}.yaml")
    if text is None:
        raise ConfigError(f"prompt set {name!r} is missing from the installation")
    prompts = _parse(text, f"prompts/{name}.yaml")
    override = paths.config_dir() / "prompts" / f"{name}.yaml"
    if override.is_file():
        prompts.update(_parse(override.read_text("utf-8"), str(override)))
    return prompts


NEVER = re.compile(r"(?!)")
"""A ``when`` that matches no question (a task preset's own intent)."""


@dataclass(frozen=True)
class Intent:
    """A kind of question (``when`` matches its wording), the hint for its first message, the
    worked example for its system prompt and a reminder shown under one output."""

    name: str
    when: re.Pattern[str]
    hint: str
    example: str = ""
    """A worked example of this kind of question for the system prompt ("" : root.yaml's)."""
    step: str = ""
    """A reminder shown once, under the first output of a run of this kind ("": none); with
    ``{{host}}``, under the first output that named a host, filled with it. Small models lose
    the first message's hint after a turn or two."""
    narrow: str = ""
    """A reminder shown once, under the output of a later search that does not name the host
    the ``step`` reminder named: ``{{host}}`` and ``{{pattern}}`` (that search's own regex) are
    filled in ("": none)."""
    read: str = ""
    """A reminder shown once, under a later output with lines that name the host the ``step``
    reminder named (``{{host}}``), asking for the value on them ("": none)."""


def load_intents() -> list[Intent]:
    """The intents of ``prompts/intents.yaml``, or of the user's file that replaces it."""
    override = paths.config_dir() / "prompts" / "intents.yaml"
    if override.is_file():
        text, where = override.read_text("utf-8"), str(override)
    else:
        text, where = _shipped("intents.yaml") or "[]", "prompts/intents.yaml"
    try:
        raw = yaml.safe_load(text) or []
    except yaml.YAMLError as e:
        raise ConfigError(f"{where} is not valid YAML: {e}") from e
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: expected a list of intents (name, when, hint)")
    intents = []
    for i, item in enumerate(raw, 1):
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("name", "when", "hint")
        ):
            raise ConfigError(f"{where}: intent {i} needs text fields name, when and hint")
        for key in ("example", "step", "narrow", "read"):
            if not isinstance(item.get(key, ""), str):
                raise ConfigError(f"{where}: intent {item['name']!r}: {key} must be text")
        try:
            when = re.compile(item["when"], re.IGNORECASE)
        except re.error as e:
            raise ConfigError(f"{where}: intent {item['name']!r}: bad regex: {e}") from None
        example, step = item.get("example", "").strip(), item.get("step", "").strip()
        narrow, read = item.get("narrow", "").strip(), item.get("read", "").strip()
        intents.append(
            Intent(item["name"], when, item["hint"].strip(), example, step, narrow, read)
        )
    return intents


def intent_for(question: str, intents: list[Intent] | None = None) -> Intent | None:
    """The first intent whose wording matches ``question``; None when none does."""
    for intent in load_intents() if intents is None else intents:
        if intent.when.search(question):
            return intent
    return None


def task_names() -> list[str]:
    """Names of the task presets: shipped ones and the user's own."""
    names = set()
    checkout = Path(rlm_cli.__file__).resolve().parent.parent / "prompts" / "tasks"
    if checkout.is_dir():
        names.update(p.stem for p in checkout.glob("*.yaml"))
    try:
        shipped = resources.files("rlm_cli.prompts").joinpath("tasks")
        names.update(p.name[:-5] for p in shipped.iterdir() if p.name.endswith(".yaml"))
    except (FileNotFoundError, ModuleNotFoundError, NotADirectoryError):
        pass
    user = paths.config_dir() / "tasks"
    if user.is_dir():
        names.update(p.stem for p in user.glob("*.yaml"))
    return sorted(names)


def load_task(name: str) -> dict[str, str]:
    """A task preset: ``question``, ``guidance`` and an optional worked ``example`` for
    the system prompt (as an intent's, in ``prompts/intents.yaml``). A user file
    ``<config dir>/tasks/NAME.yaml`` replaces the shipped preset's keys one by one."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", name or ""):
        raise ConfigError(f"bad task name {name!r}")
    task: dict[str, str] = {}
    text = _shipped(f"tasks/{name}.yaml")
    if text is not None:
        task.update(_parse(text, f"prompts/tasks/{name}.yaml"))
    override = paths.config_dir() / "tasks" / f"{name}.yaml"
    if override.is_file():
        task.update(_parse(override.read_text("utf-8"), str(override)))
    if not task:
        raise ConfigError(
            f"unknown task {name!r}; known tasks: {', '.join(task_names()) or 'none'}"
        )
    if not task.get("question", "").strip():
        raise ConfigError(f"task {name!r} has no question")
    task.setdefault("guidance", "")
    return task


def _parse(text: str, where: str) -> dict[str, str]:
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{where} is not valid YAML: {e}") from e
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ConfigError(f"{where}: expected a mapping of names to text")
    return data


def fill(template: str, **values: object) -> str:
    """Replace every ``{{name}}`` in ``template``; a missing value raises ConfigError."""

    def sub(m: re.Match) -> str:
        key = m.group(1)
        if key not in values:
            raise ConfigError(f"prompt placeholder {{{{{key}}}}} has no value")
        return str(values[key])

    return _PLACEHOLDER.sub(sub, template)

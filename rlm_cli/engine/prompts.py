"""Prompt templates: YAML files in prompts/, overridable from the user's config dir.

A user file ``<config dir>/prompts/NAME.yaml`` replaces keys of the shipped
``prompts/NAME.yaml`` one by one. Placeholders are ``{{name}}``; a placeholder with no
value is an error, so a template and the engine cannot drift apart silently.
"""

from __future__ import annotations

import re
from importlib import resources

import yaml

from rlm_cli import paths
from rlm_cli.errors import ConfigError

_PLACEHOLDER = re.compile(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")


def load_prompts(name: str) -> dict[str, str]:
    """The prompt set ``name`` (e.g. "root"), with user overrides applied."""
    try:
        text = resources.files("rlm_cli.prompts").joinpath(f"{name}.yaml").read_text("utf-8")
    except (FileNotFoundError, ModuleNotFoundError) as e:
        raise ConfigError(f"prompt set {name!r} is missing from the installation") from e
    prompts = _parse(text, f"prompts/{name}.yaml")
    override = paths.config_dir() / "prompts" / f"{name}.yaml"
    if override.is_file():
        prompts.update(_parse(override.read_text("utf-8"), str(override)))
    return prompts


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

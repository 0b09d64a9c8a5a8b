"""Settings: built-in defaults < config.yaml (XDG config dir) < ``RLM_*`` env vars < flags."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from rlm_cli import paths
from rlm_cli.atomic import atomic_write
from rlm_cli.errors import ConfigError


@dataclass(frozen=True)
class Settings:
    """Everything a run can be configured with, and the one place its defaults live
    (:data:`DEFAULTS`; help texts and the engine's own defaults read them from here).
    Field names are the config keys; the env var of ``n_ctx`` is ``RLM_N_CTX``."""

    model: str | None = None
    sub_model: str | None = None
    n_ctx: int | None = None
    """Model window in tokens; None: 8192 for a GGUF model (``llm.base.DEFAULT_N_CTX``),
    an ``openai:`` server's own window."""
    threads: int | None = None
    n_batch: int = 512
    n_gpu_layers: int = 0
    flash_attn: bool = False
    concurrency: int = 4
    temperature: float = 0.2
    seed: int = 0
    max_iterations: int = 12
    max_subcalls: int = 64
    max_tokens: int | None = None
    max_depth: int = 1
    timeout: float | None = None
    max_output_chars: int = 4000
    brief_tokens: int = 1200
    map_max_lines: int = 2_000_000
    step_timeout: float = 60.0
    sandbox_isolation: bool = True
    """False: skip the OS layer of the REPL sandbox (namespaces, empty root, dropping
    privileges), as on a platform that refuses them; the language and process layers stay."""
    root_max_tokens: int = 1024
    sub_max_tokens: int = 512
    fail_on: str = "error"
    grammar: bool = True
    reasoning_chars: int = 400
    repeats_before_end: int = 1
    answer_bias: float = 3.0
    """Logits added, in a root turn that follows an output, to the reply opening with
    ``FINAL(`` (llama.cpp models). Small models re-send the code whose output already holds
    the answer; this nudges the first token toward answering (0: off)."""
    """Replies that only re-send code already run before the run ends by ``repeating`` with a
    forced final answer. In every recorded 1.5B run whose model re-sent a block once, it
    re-sent it again after being shown the earlier output: a second chance bought a turn."""
    compact_summary: str = "digest"
    """How older root turns are summarised when the conversation nears the window: ``digest``
    (what each ran and what it printed, verbatim, long outputs clipped from the middle; no
    model call) or ``model``
    (the root model writes the summary: one more call, and a small model drops evidence: the
    1.5B model summed up "cn149 kernel: Kernel panic" as "Host had kernel panic")."""
    thinking: str = "hide"
    cache: bool = True
    tiny_prompt_chars: int = 400
    max_tiny_subcalls: int = 8
    log_runs: bool = True
    retention_days: float | None = None
    aliases: dict = field(default_factory=dict)
    prompt_cache: bool = True
    """Keep evaluated system prompts of llama.cpp models on disk for later runs."""
    prompt_cache_mb: int = 1024
    lookup_tokens: int = 0
    """Prompt-lookup speculative decoding of root turns: tokens drafted per step (0: off)."""
    sub_model_auto: str = "off"
    """``auto``: with no --sub-model, a smaller installed model of the root's family answers
    sub-calls; ``off``: the root model does."""

    def merged(self, **overrides: Any) -> Settings:
        """A copy with every non-None override applied (how flags win)."""
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


DEFAULTS = Settings()
"""The built-in defaults (before config.yaml, ``RLM_*`` and flags)."""


def config_path() -> Path:
    """The config file: ``<config dir>/config.yaml``."""
    return paths.config_dir() / "config.yaml"


def _field_types() -> dict[str, Any]:
    return {f.name: f for f in fields(Settings)}


def _coerce(key: str, value: Any, where: str) -> Any:
    kind = str(_field_types()[key].type)
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null")):
        if "None" in kind:
            return None
        raise ConfigError(f"{where}: {key} cannot be empty")
    try:
        if kind.startswith("bool"):
            if isinstance(value, bool):
                return value
            v = str(value).strip().lower()
            if v in ("1", "true", "yes", "on"):
                return True
            if v in ("0", "false", "no", "off"):
                return False
            raise ValueError(value)
        if kind.startswith("int"):
            return int(value)
        if kind.startswith("float"):
            return float(value)
        if kind.startswith("dict"):
            if not isinstance(value, dict):
                raise ValueError(value)
            return value
        return str(value)
    except (TypeError, ValueError):
        expected = kind.split(" ")[0].replace("|", "or")
        raise ConfigError(f"{where}: {key}={value!r} is not a valid {expected}") from None


def read_config_file(path: Path | None = None) -> dict[str, Any]:
    """The raw mapping in config.yaml ({} when there is none)."""
    path = path or config_path()
    if not path.is_file():
        return {}
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read {path}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    return data


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Defaults, then config.yaml, then ``RLM_*`` env vars."""
    env = dict(os.environ if env is None else env)
    known = _field_types()
    values: dict[str, Any] = {}
    path = config_path()
    for key, value in read_config_file(path).items():
        k = str(key).replace("-", "_")
        if k not in known:
            raise ConfigError(f"{path}: unknown setting {key!r}")
        values[k] = _coerce(k, value, str(path))
    for k in known:
        name = "RLM_" + k.upper()
        if name in env and k != "aliases":
            values[k] = _coerce(k, env[name], name)
    return Settings(**values)


def write_setting(key: str, value: str) -> Path:
    """Set one key in config.yaml (atomically), validating it first. ``aliases.NAME`` sets
    a model alias (NAME → a model spec)."""
    k = key.replace("-", "_")
    path = config_path()
    data = read_config_file(path)
    if k.startswith("aliases."):
        name = key.split(".", 1)[1].strip()
        if not name or not value.strip():
            raise ConfigError("usage: rlm config set aliases.NAME MODEL_SPEC")
        aliases = data.get("aliases") or {}
        if not isinstance(aliases, dict):
            raise ConfigError(f"{path}: aliases must be a mapping")
        aliases[name] = value.strip()
        data["aliases"] = aliases
    else:
        if k not in _field_types() or k == "aliases":
            raise ConfigError(
                f"unknown setting {key!r} (see: rlm config show; aliases: aliases.NAME)"
            )
        parsed = yaml.safe_load(value) if value.strip() else None
        data[k] = _coerce(k, parsed, "value")
    _write(path, data)
    return path


def unset_setting(key: str) -> Path:
    """Remove one key (or ``aliases.NAME``) from config.yaml, so the default applies again."""
    k = key.replace("-", "_")
    path = config_path()
    data = read_config_file(path)
    if k.startswith("aliases."):
        aliases = data.get("aliases") or {}
        if key.split(".", 1)[1] not in aliases:
            raise ConfigError(f"no alias {key.split('.', 1)[1]!r} in {path}")
        del aliases[key.split(".", 1)[1]]
        data["aliases"] = aliases
    elif k in data:
        del data[k]
    else:
        raise ConfigError(f"{key!r} is not set in {path}")
    _write(path, data)
    return path


def _write(path: Path, data: dict[str, Any]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, yaml.safe_dump(data, sort_keys=True))
    except OSError as e:
        raise ConfigError(f"cannot write {path}: {e.strerror or e}") from e

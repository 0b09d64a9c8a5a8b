"""`rlm config path | show | set | unset`: where settings live and what they are now."""

from __future__ import annotations

import os
from dataclasses import asdict, fields
from typing import Any

import yaml

from rlm_cli import paths
from rlm_cli.config import (
    Settings,
    config_path,
    load_settings,
    read_config_file,
    unset_setting,
    write_setting,
)
from rlm_cli.render.console import stderr_console, stdout_console
from rlm_cli.render.report import print_json


def locations() -> dict[str, str]:
    """Every place rlm reads or writes, by name."""
    cdir = paths.config_dir()
    return {
        "config": str(config_path()),
        "prompts": str(cdir / "prompts"),
        "tasks": str(cdir / "tasks"),
        "data": str(paths.data_dir()),
        "runs": str(paths.runs_db_path()),
        "contexts": str(paths.contexts_dir()),
        "models": str(paths.models_dir()),
    }


def show_path(all_: bool = False) -> int:
    """Print the config file's path, or (``all_``) every location; 0."""
    out = stdout_console()
    if not all_:
        out.file.write(str(config_path()) + "\n")
    else:
        for name, where in locations().items():
            out.file.write(f"{name:9} {where}\n")
    out.file.flush()
    return 0


def sources(env: dict[str, str] | None = None) -> dict[str, str]:
    """Where each setting's value comes from: ``default``, ``file`` or ``env RLM_X``."""
    env = dict(os.environ if env is None else env)
    in_file = {str(k).replace("-", "_") for k in read_config_file()}
    out = {}
    for f in fields(Settings):
        name = "RLM_" + f.name.upper()
        if name in env and f.name != "aliases":
            out[f.name] = f"env {name}" + (", over the file" if f.name in in_file else "")
        elif f.name in in_file:
            out[f.name] = "file"
        else:
            out[f.name] = "default"
    return out


def show_settings(json: bool = False) -> int:
    """Print the effective settings and where each comes from; 0."""
    out = stdout_console()
    settings = asdict(load_settings())
    where = sources()
    if json:
        print_json(out, {"settings": settings, "sources": where, "path": str(config_path())})
        return 0
    lines = [f"# {config_path()}  (defaults < file < RLM_* env < flags)"]
    for key, value in settings.items():
        if key == "aliases":
            continue
        lines.append(f"{key}: {_yaml_scalar(value)}  # {where[key]}")
    aliases = settings.get("aliases") or {}
    lines.append("aliases:" + ("" if aliases else " {}") + f"  # {where['aliases']}")
    for name, spec in sorted(aliases.items()):
        lines.append(f"  {name}: {_yaml_scalar(spec)}")
    out.file.write("\n".join(lines) + "\n")
    out.file.flush()
    return 0


def _yaml_scalar(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


def set_value(key: str, value: str) -> int:
    """Write one setting (or ``aliases.NAME``) into config.yaml; 0."""
    path = write_setting(key, value)
    stderr_console().print(f"rlm: set {key} in {path}", markup=False, highlight=False)
    return 0


def unset_value(key: str) -> int:
    """Remove one setting (or ``aliases.NAME``) from config.yaml; 0."""
    path = unset_setting(key)
    stderr_console().print(f"rlm: removed {key} from {path}", markup=False, highlight=False)
    return 0

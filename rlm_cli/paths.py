"""Where rlm keeps things: XDG data and config dirs, with env overrides.

- data dir: ``$RLM_HOME`` or ``$XDG_DATA_HOME/rlm`` or ``~/.local/share/rlm``
  (contexts, run history, sub-call cache, downloaded models, scan state)
- config dir: ``$RLM_CONFIG_DIR`` or ``$XDG_CONFIG_HOME/rlm`` or ``~/.config/rlm``
  (config.yaml, prompt overrides, task presets)
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """Root of everything rlm writes."""
    if os.environ.get("RLM_HOME"):
        return Path(os.environ["RLM_HOME"]).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "rlm"


def config_dir() -> Path:
    """Folder holding config.yaml, prompts/ overrides and tasks/ presets."""
    if os.environ.get("RLM_CONFIG_DIR"):
        return Path(os.environ["RLM_CONFIG_DIR"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "rlm"


def contexts_dir() -> Path:
    """Folder of stored contexts, one sub-folder per context id."""
    return data_dir() / "contexts"


def models_dir() -> Path:
    """Folder for downloaded GGUF models and the alias registry."""
    return data_dir() / "models"


def runs_db_path() -> Path:
    """SQLite database of run history."""
    return data_dir() / "runs.db"


def cache_db_path() -> Path:
    """SQLite database of cached sub-call answers."""
    return data_dir() / "subcall_cache.db"

"""Where tests and benchmarks find the real GGUF models (never shipped, never committed).

``RLM_TEST_MODELS`` names the folder (default ``~/.cache/rlm-eval-models``, where
``../shared/models/fetch.sh`` puts them); ``/root/models`` is tried as well.
"""

from __future__ import annotations

import os
from pathlib import Path

EVAL_MODELS = {
    "qwen2.5-coder-1.5b": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    "qwen2.5-coder-0.5b": "qwen2.5-coder-0.5b-instruct.gguf",
    "gemma-3-270m": "gemma-3-270m-q4_k_m.gguf",
}
DEFAULT_DIR = "~/.cache/rlm-eval-models"


def model_dirs() -> list[Path]:
    """Folders searched, in order."""
    first = Path(os.environ.get("RLM_TEST_MODELS") or DEFAULT_DIR).expanduser()
    return [first, Path("/root/models")]


def find_eval_model(name: str) -> Path | None:
    """The model file called ``name`` (a key of ``EVAL_MODELS``), or None when absent."""
    filename = EVAL_MODELS[name]
    for d in model_dirs():
        p = d / filename
        if p.is_file() and p.stat().st_size > 0:
            return p
    return None


def missing_reason(name: str) -> str:
    """Why a real-model test skips, and the command that fetches the model."""
    where = " or ".join(str(d) for d in model_dirs())
    return (
        f"real model {EVAL_MODELS[name]} not found in {where}; fetch it with "
        f"../shared/models/fetch.sh {model_dirs()[0]} {name} (or set RLM_TEST_MODELS)"
    )

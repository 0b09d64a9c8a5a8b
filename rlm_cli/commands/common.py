"""What commands share: option declarations (as ``Annotated`` types) and option checks.

A command that takes ``--model`` writes ``model: ModelOpt = None``; the flag, its short
form and its help text live here once, so `ask` and `scan` cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from rlm_cli.config import DEFAULTS, Settings, load_settings
from rlm_cli.engine.findings import SEVERITIES
from rlm_cli.errors import UsageError
from rlm_cli.llm.base import DEFAULT_N_CTX

FAIL_ON_CHOICES = (*SEVERITIES, "never")

DebugOpt = Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")]
ModelOpt = Annotated[
    Optional[str],  # noqa: UP045 - Typer reads the annotation at run time (Python 3.10+)
    typer.Option(
        "--model",
        "-m",
        help="Root model: PATH.gguf, script:FILE.yaml, openai:URL#name or an alias. [env: RLM_MODEL]",
    ),
]
SubModelOpt = Annotated[
    Optional[str],  # noqa: UP045
    typer.Option("--sub-model", help="Model for sub-calls (default: the root model)."),
]
MaxIterationsOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--max-iterations",
        min=1,
        help=f"Root turns before a forced final answer (default {DEFAULTS.max_iterations}).",
    ),
]
MaxSubcallsOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--max-subcalls",
        min=0,
        help=f"Sub-calls allowed in the run (default {DEFAULTS.max_subcalls}).",
    ),
]
NCtxOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option(
        "--n-ctx",
        min=256,
        help=f"Model window in tokens (default {DEFAULT_N_CTX} for a GGUF model; "
        "an openai: server's own window).",
    ),
]
ThreadsOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--threads", min=1, help="CPU threads for llama.cpp."),
]
IncludeOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--include", help="Glob of files to read inside folders (repeatable)."),
]
ExcludeOpt = Annotated[
    Optional[list[str]],  # noqa: UP045
    typer.Option("--exclude", help="Glob of files to skip inside folders (repeatable)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="Nothing on stderr but errors (for cron).")
]
BinaryOpt = Annotated[bool, typer.Option("--binary", help="Keep inputs that contain NUL bytes.")]
TimeoutOpt = Annotated[
    Optional[float],  # noqa: UP045
    typer.Option(
        "--timeout",
        min=1,
        help="Seconds allowed for the model run; calls under way are stopped at the deadline "
        "and a short final answer gets a few seconds more.",
    ),
]
NoLogOpt = Annotated[
    bool, typer.Option("--no-log", "-n", help="Do not record this run in the history.")
]


def run_settings(*, fail_on: str | None, no_log: bool, **flags: Any) -> Settings:
    """Settings for a model run: defaults < config.yaml < ``RLM_*`` < the flags given
    (a flag left at None was not given)."""
    check_fail_on(fail_on)
    return load_settings().merged(fail_on=fail_on, log_runs=False if no_log else None, **flags)


def check_fail_on(value: str | None) -> None:
    """Raise UsageError unless ``--fail-on`` is a severity or ``never``."""
    if value is not None and value not in FAIL_ON_CHOICES:
        raise UsageError(f"--fail-on {value!r}: expected {', '.join(SEVERITIES)} or never")

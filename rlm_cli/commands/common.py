"""What commands share: option declarations (as ``Annotated`` types) and option checks.

A command that takes ``--model`` writes ``model: ModelOpt = None``; the flag, its short
form and its help text live here once, so `ask` and `scan` cannot drift apart.
"""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from rlm_cli.engine.findings import SEVERITIES
from rlm_cli.errors import UsageError

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
    typer.Option("--max-iterations", min=1, help="Root turns before a forced final answer."),
]
MaxSubcallsOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--max-subcalls", min=0, help="Sub-calls allowed in the run."),
]
NCtxOpt = Annotated[
    Optional[int],  # noqa: UP045
    typer.Option("--n-ctx", min=256, help="Model window in tokens (default 8192)."),
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
NoLogOpt = Annotated[
    bool, typer.Option("--no-log", "-n", help="Do not record this run in the history.")
]


def check_fail_on(value: str | None) -> None:
    """Raise UsageError unless ``--fail-on`` is a severity or ``never``."""
    if value is not None and value not in FAIL_ON_CHOICES:
        raise UsageError(f"--fail-on {value!r}: expected {', '.join(SEVERITIES)} or never")

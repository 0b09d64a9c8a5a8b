"""`rlm brief` and `rlm templates`: the log map, without a model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Optional

import typer

from rlm_cli.commands.common import DebugOpt, ExcludeOpt, IncludeOpt, inputs

PathsArg = Annotated[
    Optional[list[str]],  # noqa: UP045 - Typer reads it at run time
    typer.Argument(help="Log files, folders or globs; stdin when none or '-'."),
]
ContextOpt = Annotated[
    Optional[str],  # noqa: UP045 - Typer reads it at run time
    typer.Option("--context", help="A stored context id instead of paths."),
]
KeepOpt = Annotated[
    bool,
    typer.Option(
        "--keep", help="Keep the stored copy of the inputs as a context (else it is removed after)."
    ),
]

BRIEF_EXAMPLES = """
Examples:

  rlm brief sample_logs/bmc_cluster.log

  rlm brief /var/log/bmc/ --json | jq '.entities[0].name'
"""

TEMPLATES_EXAMPLES = """
Examples:

  rlm templates /var/log/syslog

  rlm templates app.log --per-line | cut -f2 | sort | uniq -c | sort -rn | head
"""


def register(app: typer.Typer, set_debug: Callable[[bool], None]) -> None:
    """Add `brief` and `templates` to ``app``."""

    @app.command(epilog=BRIEF_EXAMPLES)
    def brief(
        paths: PathsArg = None,
        context_id: ContextOpt = None,
        json_out: bool = typer.Option(
            False, "--json", help="Print JSON: entities ordered most-concerning first."
        ),
        max_tokens: int = typer.Option(
            None, "--max-tokens", min=100, help="Cut the text form to about this many tokens."
        ),
        include: IncludeOpt = None,
        exclude: ExcludeOpt = None,
        keep: KeepOpt = False,
        debug: DebugOpt = False,
    ) -> None:
        """What the root model is told first: size, time span, severities, templates, entities to look at."""
        set_debug(debug)
        from rlm_cli.actions.logmap import run_brief

        req = _request(paths, context_id, include, exclude, keep)
        run_brief(req, json_out=json_out, max_tokens=max_tokens)

    @app.command(epilog=TEMPLATES_EXAMPLES)
    def templates(
        paths: PathsArg = None,
        context_id: ContextOpt = None,
        json_out: bool = typer.Option(False, "--json", help="Print JSON."),
        per_line: bool = typer.Option(
            False, "--per-line", help="Print '<line>\\t<template id>' for every line."
        ),
        top: int = typer.Option(None, "--top", min=1, help="Only the N most frequent templates."),
        include: IncludeOpt = None,
        exclude: ExcludeOpt = None,
        keep: KeepOpt = False,
        debug: DebugOpt = False,
    ) -> None:
        """The kinds of lines in a log (templates), mined from raw lines with no configuration."""
        set_debug(debug)
        from rlm_cli.actions.logmap import run_templates

        req = _request(paths, context_id, include, exclude, keep)
        run_templates(req, json_out=json_out, per_line=per_line, top=top)


def _request(paths, context_id, include, exclude, keep):
    from rlm_cli.actions.contexts import LookRequest

    return LookRequest(**inputs(paths, include, exclude), context_id=context_id, keep=keep)

"""`rlm brief` and `rlm templates`: the log map, without a model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from rlm_cli.commands.common import (
    LOOK,
    DebugOpt,
    JsonOpt,
    PathsArg,
    look_inputs,
    shared_options,
)

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
    @shared_options(*LOOK)
    def brief(
        paths: PathsArg = None,
        json_out: JsonOpt = False,
        max_tokens: int = typer.Option(
            None, "--max-tokens", min=100, help="Cut the text form to about this many tokens."
        ),
        debug: DebugOpt = False,
        **shared: Any,
    ) -> None:
        """What the root model is told first: size, time span, severities, templates, entities to look at."""
        set_debug(debug)
        from rlm_cli.actions.logmap import run_brief

        req = _request(paths, shared)
        run_brief(req, json_out=json_out, max_tokens=max_tokens)

    @app.command(epilog=TEMPLATES_EXAMPLES)
    @shared_options(*LOOK)
    def templates(
        paths: PathsArg = None,
        json_out: JsonOpt = False,
        per_line: bool = typer.Option(
            False, "--per-line", help="Print '<line>\\t<template id>' for every line."
        ),
        top: int = typer.Option(None, "--top", min=1, help="Only the N most frequent templates."),
        debug: DebugOpt = False,
        **shared: Any,
    ) -> None:
        """The kinds of lines in a log (templates), mined from raw lines with no configuration."""
        set_debug(debug)
        from rlm_cli.actions.logmap import run_templates

        req = _request(paths, shared)
        run_templates(req, json_out=json_out, per_line=per_line, top=top)


def _request(paths: list[str] | None, shared: dict[str, Any]):
    from rlm_cli.actions.contexts import LookRequest

    return LookRequest(**look_inputs(paths, shared))

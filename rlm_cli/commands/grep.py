"""`rlm grep PATTERN (PATH... | --context ID)`: options only; the work is in actions.grep."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from rlm_cli.commands.common import (
    LOOK,
    DebugOpt,
    PathsArg,
    look_inputs,
    shared_options,
)

EXAMPLES = """
Examples:

  rlm grep 'Correctable ECC' --context 3f9a2c1b -c

  rlm grep -n 'node1[0-9]7 .*Critical' /var/log/bmc/*.log.gz

Patterns are Python regular expressions (a plain string is searched as is).
Exit status: 0 a line matched, 1 none matched, 2 error.
"""


def register(app: typer.Typer, set_debug: Callable[[bool], None]) -> None:
    """Add the `grep` command to ``app``."""

    @app.command(epilog=EXAMPLES)
    @shared_options(*LOOK)
    def grep(
        pattern: str = typer.Argument(..., help="Python regex (or plain text) to search for."),
        paths: PathsArg = None,
        count: bool = typer.Option(
            False, "--count", "-c", help="Print the number of matching lines."
        ),
        ignore_case: bool = typer.Option(False, "--ignore-case", "-i", help="Ignore case."),
        line_number: bool = typer.Option(
            False, "--line-number", "-n", help="Prefix the line number in its source file."
        ),
        debug: DebugOpt = False,
        **shared: Any,
    ) -> int:
        """Search a log with the same code as context.grep; output and exit status like grep."""
        set_debug(debug)
        from rlm_cli.actions.grep import GrepRequest, run_grep

        return run_grep(
            GrepRequest(
                **look_inputs(paths, shared),
                pattern=pattern,
                count=count,
                ignore_case=ignore_case,
                line_numbers=line_number,
            )
        )

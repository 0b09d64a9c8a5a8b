"""`rlm grep PATTERN (PATH... | --context ID)`: options only; the work is in actions.grep."""

from __future__ import annotations

from collections.abc import Callable

import typer

from rlm_cli.commands.common import BinaryOpt, DebugOpt, ExcludeOpt, IncludeOpt, inputs

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
    def grep(
        pattern: str = typer.Argument(..., help="Python regex (or plain text) to search for."),
        paths: list[str] = typer.Argument(
            None, help="Log files, folders or globs (stored for this search only); stdin when none."
        ),
        context_id: str = typer.Option(
            None, "--context", help="Search a stored context by id (see rlm contexts list)."
        ),
        count: bool = typer.Option(
            False, "--count", "-c", help="Print the number of matching lines."
        ),
        ignore_case: bool = typer.Option(False, "--ignore-case", "-i", help="Ignore case."),
        line_number: bool = typer.Option(
            False, "--line-number", "-n", help="Prefix the line number in its source file."
        ),
        include: IncludeOpt = None,
        exclude: ExcludeOpt = None,
        binary: BinaryOpt = False,
        keep: bool = typer.Option(
            False, "--keep", help="Keep the stored copy of the inputs as a context (else removed)."
        ),
        debug: DebugOpt = False,
    ) -> int:
        """Search a log with the same code as context.grep; output and exit status like grep."""
        set_debug(debug)
        from rlm_cli.actions.grep import GrepRequest, run_grep

        return run_grep(
            GrepRequest(
                **inputs(paths, include, exclude, binary),
                pattern=pattern,
                context_id=context_id,
                count=count,
                ignore_case=ignore_case,
                line_numbers=line_number,
                keep=keep,
            )
        )

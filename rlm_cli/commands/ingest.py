"""`rlm ingest PATH...`: options only; the work is in rlm_cli.actions.ingest."""

from __future__ import annotations

from collections.abc import Callable

import typer

EXAMPLES = """
Examples:

  rlm ingest /var/log/syslog*              # prints the context id

  cat bmc.log | rlm ingest --json

  rlm ingest logs/ --include '*.log' --include '*.gz' --exclude 'debug*'

  rlm ask "which node will fail" --context $(rlm ingest -q logs/)
"""


def register(app: typer.Typer, set_debug: Callable[[bool], None]) -> None:
    """Add the `ingest` command to ``app``."""

    @app.command(epilog=EXAMPLES)
    def ingest(
        paths: list[str] = typer.Argument(
            None, help="Log files, folders or globs; stdin when none or '-'."
        ),
        json_out: bool = typer.Option(
            False, "--json", help="Print id, sizes, sources and time span as JSON."
        ),
        include: list[str] = typer.Option(
            None, "--include", help="Glob of files to read inside folders (repeatable)."
        ),
        exclude: list[str] = typer.Option(
            None, "--exclude", help="Glob of files to skip inside folders (repeatable)."
        ),
        binary: bool = typer.Option(False, "--binary", help="Keep inputs that contain NUL bytes."),
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the id."),
        debug: bool = typer.Option(False, "--debug", help="Show tracebacks of errors."),
    ) -> int:
        """Store logs as a context (once per content) and print its id."""
        set_debug(debug)
        from rlm_cli.actions.ingest import IngestRequest, run_ingest

        return run_ingest(
            IngestRequest(
                paths=[p for p in (paths or []) if p],
                json=json_out,
                quiet=quiet,
                allow_binary=binary,
                include=include or [],
                exclude=exclude or [],
            )
        )

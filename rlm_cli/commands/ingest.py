"""`rlm ingest PATH...`: options only; the work is in rlm_cli.actions.ingest."""

from __future__ import annotations

from collections.abc import Callable

import typer

from rlm_cli.commands.common import BinaryOpt, DebugOpt, ExcludeOpt, IncludeOpt, JsonOpt, inputs

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
        json_out: JsonOpt = False,
        include: IncludeOpt = None,
        exclude: ExcludeOpt = None,
        binary: BinaryOpt = False,
        quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the id."),
        debug: DebugOpt = False,
    ) -> int:
        """Store logs as a context (once per content) and print its id."""
        set_debug(debug)
        from rlm_cli.actions.ingest import IngestRequest, run_ingest

        return run_ingest(
            IngestRequest(**inputs(paths, include, exclude, binary), json=json_out, quiet=quiet)
        )

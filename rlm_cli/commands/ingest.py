"""`rlm ingest PATH...`: options only; the work is in rlm_cli.actions.ingest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from rlm_cli.commands.common import (
    INPUTS,
    DebugOpt,
    JsonOpt,
    PathsArg,
    QuietOpt,
    inputs,
    shared_options,
)

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
    @shared_options(*INPUTS)
    def ingest(
        paths: PathsArg = None,
        json_out: JsonOpt = False,
        quiet: QuietOpt = False,
        debug: DebugOpt = False,
        **shared: Any,
    ) -> int:
        """Store logs as a context (once per content) and print its id."""
        set_debug(debug)
        from rlm_cli.actions.ingest import IngestRequest, run_ingest

        return run_ingest(IngestRequest(**inputs(paths, shared), json=json_out, quiet=quiet))

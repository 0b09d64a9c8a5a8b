"""`rlm scan DIR|FILE... (--task NAME | --question TEXT)`: options only; the work is in
rlm_cli.actions.scan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from rlm_cli.commands import common as opts

EXAMPLES = """
Examples:

  rlm scan /var/log/bmc/ --task which-node-fails --quiet --out /var/lib/rlm/findings.jsonl

  rlm scan /var/log/bmc/ --question "which node will fail" --json --prom /var/lib/node_exporter/rlm.prom

  rlm scan /var/log/bmc/ --task which-node-fails --findings

  rlm scan /var/log/bmc/ --task which-node-fails --resolve 3fa9c2
"""


def register(app: typer.Typer, set_debug: Callable[[bool], None]) -> None:
    """Add the `scan` command to ``app``."""

    @app.command(epilog=EXAMPLES)
    @opts.shared_options(*opts.RUN_MODEL, *opts.RUN_LIMITS, "fail_on", *opts.INPUTS, "no_log")
    def scan(
        paths: list[str] = typer.Argument(..., help="Log folders (walked recursively) or files."),
        task: opts.TaskOpt = None,
        question: str = typer.Option(
            None, "--question", "-Q", help="The question to ask of new lines."
        ),
        state: Path = typer.Option(
            None,
            "--state",
            help="Folder of this scan's state (default: <data dir>/scan/<hash of paths and question>).",
        ),
        json_out: opts.JsonOpt = False,
        out: Path = typer.Option(
            None, "--out", help="Append this run's findings to FILE as JSON Lines."
        ),
        prom: Path = typer.Option(
            None, "--prom", help="Write a Prometheus textfile to FILE (atomically)."
        ),
        alert_on: str = typer.Option(
            "new",
            "--alert-on",
            help="new: only findings not seen before (or reopened) alert; any: every one.",
        ),
        quiet: opts.QuietOpt = False,
        wait: float = typer.Option(
            0.0,
            "--wait",
            min=0.0,
            help="Seconds to wait for another scan of the same state to finish.",
        ),
        resolve: list[str] = typer.Option(
            None, "--resolve", help="Mark a finding resolved by id (repeatable); no scan."
        ),
        list_findings: bool = typer.Option(
            False, "--findings", help="List the findings kept across runs; no scan."
        ),
        debug: opts.DebugOpt = False,
        **shared: Any,
    ) -> int:
        """Analyse only what is new in log files since the last scan (for cron); exit 1 on new findings."""
        set_debug(debug)
        from rlm_cli.actions.scan import ScanRequest, run_scan

        settings = opts.run_settings(shared)
        return run_scan(
            ScanRequest(
                **opts.inputs(paths, shared),
                question=question,
                task=task,
                state_dir=state,
                settings=settings,
                json=json_out,
                out=out,
                prom=prom,
                quiet=quiet,
                wait_s=wait,
                alert_on=alert_on,
                resolve=resolve or [],
                list_findings=list_findings,
            )
        )

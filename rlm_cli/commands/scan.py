"""`rlm scan DIR|FILE... (--task NAME | --question TEXT)`: options only; the work is in
rlm_cli.actions.scan."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import typer

from rlm_cli.commands import common as opts
from rlm_cli.config import DEFAULTS

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
    def scan(
        paths: list[str] = typer.Argument(..., help="Log folders (walked recursively) or files."),
        task: str = typer.Option(None, "--task", "-t", help="A task preset's question."),
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
        fail_on: str = typer.Option(
            None,
            "--fail-on",
            help="Exit 1 when a new finding is at or above: info, warning, error, critical, "
            f"or never (default {DEFAULTS.fail_on}).",
        ),
        alert_on: str = typer.Option(
            "new",
            "--alert-on",
            help="new: only findings not seen before (or reopened) alert; any: every one.",
        ),
        quiet: bool = typer.Option(
            False, "--quiet", "-q", help="Silent unless there is something to report."
        ),
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
        model: opts.ModelOpt = None,
        sub_model: opts.SubModelOpt = None,
        max_iterations: opts.MaxIterationsOpt = None,
        max_subcalls: opts.MaxSubcallsOpt = None,
        timeout: opts.TimeoutOpt = None,
        n_ctx: opts.NCtxOpt = None,
        threads: opts.ThreadsOpt = None,
        include: opts.IncludeOpt = None,
        exclude: opts.ExcludeOpt = None,
        binary: opts.BinaryOpt = False,
        no_log: opts.NoLogOpt = False,
        debug: opts.DebugOpt = False,
    ) -> int:
        """Analyse only what is new in log files since the last scan (for cron); exit 1 on new findings."""
        set_debug(debug)
        from rlm_cli.actions.scan import ScanRequest, run_scan

        settings = opts.run_settings(locals())
        return run_scan(
            ScanRequest(
                **opts.inputs(paths, include, exclude, binary),
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

"""`rlm runs ...`: options only; the work is in rlm_cli.actions.runs."""

from __future__ import annotations

from collections.abc import Callable

import typer

from rlm_cli.commands.common import JsonOpt, command_group

RUNS_HELP = (
    "Run history: every `rlm ask` is recorded (question, models, context, trajectory, "
    "findings, usage, timings, exit status) in runs.db in the data dir, unless -n/--no-log.\n\n"
    "Old runs are pruned on each new run when retention_days is set "
    "(rlm config set retention_days 30)."
)

LIST_EXAMPLES = """
Examples:

  rlm runs list

  rlm runs list --search ECC --since 7d

  rlm runs list --status interrupted --limit 5

  rlm runs list --json | jq -r '.runs[].id'
"""

SHOW_EXAMPLES = """
Examples:

  rlm runs show 20261125-071501-a3f2

  rlm runs show 20261125-0715          (a unique prefix is enough)

  rlm runs show 20261125-071501-a3f2 --full | less -R
"""

EXPORT_EXAMPLES = """
Examples:

  rlm runs export 20261125-071501-a3f2 --format html -o run.html

  rlm runs export 20261125-071501-a3f2 --format svg > run.svg

  rlm runs export 20261125-071501-a3f2 --format json | jq .findings
"""

RM_EXAMPLES = """
Examples:

  rlm runs rm 20261125-071501-a3f2

  rlm runs prune --older-than 30d
"""


def register(app: typer.Typer, set_debug: Callable[[bool], None]) -> None:
    """Add the `runs` command group to ``app``."""
    runs = command_group(
        app, "runs", RUNS_HELP, "Recorded runs: list, show, export (html/svg/json), rm."
    )

    @runs.command("list", epilog=LIST_EXAMPLES)
    def list_(
        limit: int = typer.Option(20, "--limit", "-l", min=1, help="How many runs to show."),
        search: str = typer.Option(
            None, "--search", "-s", help="Only runs whose question or answer contains this."
        ),
        status: str = typer.Option(
            None,
            "--status",
            help="Only runs that ended so: final, interrupted, error, max_iterations, max_tokens, timeout.",
        ),
        since: str = typer.Option(
            None, "--since", help="Only runs newer than an age (30m, 12h, 7d, 2w) or a UTC date."
        ),
        json_out: JsonOpt = False,
    ) -> int:
        """Recent runs, newest first (tab-separated when piped)."""
        from rlm_cli.actions.runs import list_runs

        return list_runs(limit=limit, search=search, status=status, since=since, json=json_out)

    @runs.command("show", epilog=SHOW_EXAMPLES)
    def show(
        run_id: str = typer.Argument(..., help="Run id (or a unique prefix), from rlm runs list."),
        full: bool = typer.Option(
            False, "--full", help="Do not fold long code, printed output or sub-call fans."
        ),
        json_out: JsonOpt = False,
    ) -> int:
        """Draw a recorded run again: its tree of turns, usage, answer and findings."""
        from rlm_cli.actions.runs import show_run

        return show_run(run_id, full=full, json=json_out)

    @runs.command("export", epilog=EXPORT_EXAMPLES)
    def export(
        run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."),
        fmt: str = typer.Option(
            "html", "--format", "-f", help="json, html (a standalone page) or svg (an image)."
        ),
        output: str = typer.Option(None, "--output", "-o", help="File to write (default: stdout)."),
        width: int = typer.Option(120, "--width", min=40, help="Columns of the drawn tree."),
    ) -> int:
        """Export a run to attach to a ticket: JSON, or the tree as HTML or SVG."""
        from rlm_cli.actions.runs import export_run

        return export_run(run_id, fmt, output, width)

    @runs.command("rm", epilog=RM_EXAMPLES)
    def rm(
        run_ids: list[str] = typer.Argument(..., help="Run ids (or unique prefixes)."),
    ) -> int:
        """Delete recorded runs."""
        from rlm_cli.actions.runs import rm_runs

        return rm_runs(run_ids)

    @runs.command("prune", epilog=RM_EXAMPLES)
    def prune(
        older_than: str = typer.Option(
            ..., "--older-than", help="Delete runs older than this age: 30d, 12h, 2w."
        ),
    ) -> int:
        """Delete old runs now (retention_days does this on every recorded run)."""
        from rlm_cli.actions.runs import prune_runs

        return prune_runs(older_than)

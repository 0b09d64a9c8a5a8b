"""`rlm bench SUITE | list | show ID`: options only; the work is in rlm_cli.actions.bench."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from rlm_cli.commands import common as opts

EXAMPLES = """
Examples:

  rlm bench builtin --model ~/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf

  rlm bench builtin -m qwen-1.5b --family needle,timeline --mode rlm

  rlm bench builtin -m qwen-0.5b --tasks 'needle-*' --repeat 3 --json > needle.json

  rlm bench my-suite.yaml -m script:replies.yaml --n-ctx 4096

  rlm bench list

  rlm bench show 20261201-231501-a3f2 --json --out bench.json
"""


def register(app: typer.Typer, set_debug: Callable[[bool], None]) -> None:
    """Add the `bench` command to ``app``."""

    @app.command(epilog=EXAMPLES)
    @opts.shared_options(*opts.RUN_MODEL, *opts.RUN_LIMITS, *opts.GENERATION, "no_log")
    def bench(
        suite: str = typer.Argument(
            ...,
            help="A suite YAML file, 'builtin' (the shipped suite), 'list' (saved results) "
            "or 'show ID'.",
        ),
        bench_id: str = typer.Argument(None, help="With 'show': the bench id (or a prefix)."),
        mode: str = typer.Option(
            "rlm,direct", "--mode", help="Modes to run side by side: rlm, direct or rlm,direct."
        ),
        repeat: int = typer.Option(1, "--repeat", min=1, help="Runs of each task per mode."),
        tasks: str = typer.Option(
            None, "--tasks", help="Only tasks whose id matches a glob (comma-separated)."
        ),
        family: str = typer.Option(
            None, "--family", help="Only tasks of these families (comma-separated)."
        ),
        json_out: opts.JsonOpt = False,
        out: str = typer.Option(None, "--out", "-o", help="Also write the JSON result to FILE."),
        quiet: opts.QuietOpt = False,
        no_warm: bool = typer.Option(
            False,
            "--no-warm",
            help="Do not fill the prompt cache before the timed runs (a task of a kind not "
            "seen before then pays for its system prompt, as a user's first question does).",
        ),
        debug: opts.DebugOpt = False,
        **shared: Any,
    ) -> int:
        """Measure answer quality: run a suite of log questions in rlm and direct mode."""
        set_debug(debug)
        from rlm_cli.actions.bench import (
            BenchRequest,
            list_benches,
            parse_list,
            run_bench,
            show_bench,
        )
        from rlm_cli.errors import UsageError

        if suite == "list":
            if bench_id:
                raise UsageError("rlm bench list takes no id (did you mean: rlm bench show ID?)")
            return list_benches(json=json_out)
        if suite == "show":
            if not bench_id:
                raise UsageError("rlm bench show needs a bench id (see: rlm bench list)")
            return show_bench(bench_id, json=json_out, out_file=out)
        if bench_id:
            raise UsageError(f"unexpected argument {bench_id!r}: rlm bench takes one suite")
        settings = opts.run_settings(shared)
        request = BenchRequest(
            suite=suite,
            settings=settings,
            modes=parse_list(mode),
            repeat=repeat,
            tasks=parse_list(tasks),
            families=parse_list(family),
            json=json_out,
            out=out,
            quiet=quiet,
            warm=not no_warm,
        )
        return run_bench(request)

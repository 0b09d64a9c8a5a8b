"""`rlm bench SUITE | list | show ID`: options only; the work is in rlm_cli.actions.bench."""

from __future__ import annotations

from collections.abc import Callable

import typer

from rlm_cli.commands.common import (
    DebugOpt,
    MaxIterationsOpt,
    ModelOpt,
    NCtxOpt,
    NoLogOpt,
    SubModelOpt,
    ThreadsOpt,
)

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
    def bench(
        suite: str = typer.Argument(
            ...,
            help="A suite YAML file, 'builtin' (the shipped suite), 'list' (saved results) "
            "or 'show ID'.",
        ),
        bench_id: str = typer.Argument(None, help="With 'show': the bench id (or a prefix)."),
        model: ModelOpt = None,
        sub_model: SubModelOpt = None,
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
        n_ctx: NCtxOpt = None,
        threads: ThreadsOpt = None,
        max_iterations: MaxIterationsOpt = None,
        timeout: float = typer.Option(
            None, "--timeout", min=1, help="Seconds allowed for each run."
        ),
        temperature: float = typer.Option(
            None, "--temperature", min=0.0, help="Sampling temperature."
        ),
        seed: int = typer.Option(None, "--seed", help="Sampling seed (repeat k uses seed + k)."),
        root_max_tokens: int = typer.Option(
            None, "--root-max-tokens", min=16, help="Longest root reply in tokens."
        ),
        no_grammar: bool = typer.Option(
            False, "--no-grammar", help="Do not constrain root replies with a grammar (GGUF)."
        ),
        json_out: bool = typer.Option(False, "--json", help="Print the result as one JSON object."),
        out: str = typer.Option(None, "--out", "-o", help="Also write the JSON result to FILE."),
        quiet: bool = typer.Option(
            False, "--quiet", "-q", help="Nothing on stderr but errors (no progress)."
        ),
        no_log: NoLogOpt = False,
        debug: DebugOpt = False,
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
        from rlm_cli.config import load_settings
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
        settings = load_settings().merged(
            model=model,
            sub_model=sub_model,
            n_ctx=n_ctx,
            threads=threads,
            max_iterations=max_iterations,
            timeout=timeout,
            temperature=temperature,
            seed=seed,
            root_max_tokens=root_max_tokens,
            grammar=False if no_grammar else None,
            log_runs=False if no_log else None,
        )
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
        )
        return run_bench(request)

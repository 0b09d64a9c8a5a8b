"""`rlm ask QUESTION [PATH...]`: options only; the work is in rlm_cli.actions.ask."""

from __future__ import annotations

from collections.abc import Callable

import typer

from rlm_cli.commands import common as opts
from rlm_cli.config import DEFAULTS as D

EXAMPLES = """
Examples:

  cat bmc.log | rlm ask "which node will fail" --model ~/models/qwen3-4b.gguf

  rlm ask "why did the disk go read-only" /var/log/syslog* --json

  rlm ask "summarise the errors" --context 3f9a2c1b --quiet

  rlm ask "which node will fail" sample_logs/bmc_cluster.log \\
      -m script:sample_logs/scripts/which_node_fails.yaml    (scripted demo; in a checkout)

  rlm ask --task which-node-fails bmc.log      (presets: which-node-fails, error-summary,
                                                 timeline; with --task every argument is a path)

  rlm ask "which node will fail" bmc.log --mode direct   (one-call baseline, for comparison)
"""


def register(app: typer.Typer, set_debug: Callable[[bool], None]) -> None:
    """Add the `ask` command to ``app``."""

    @app.command(epilog=EXAMPLES)
    def ask(
        question: str = typer.Argument(
            None, help="What you want to know about the log (with --task: a path)."
        ),
        paths: list[str] = typer.Argument(
            None, help="Log files, folders or globs; stdin when none or '-'."
        ),
        model: opts.ModelOpt = None,
        sub_model: opts.SubModelOpt = None,
        context_id: str = typer.Option(
            None, "--context", help="Reuse a stored context by id (see rlm contexts list)."
        ),
        json_out: opts.JsonOpt = False,
        quiet: opts.QuietOpt = False,
        max_iterations: opts.MaxIterationsOpt = None,
        max_subcalls: opts.MaxSubcallsOpt = None,
        max_tokens: opts.MaxTokensOpt = None,
        max_depth: opts.MaxDepthOpt = None,
        timeout: opts.TimeoutOpt = None,
        n_ctx: opts.NCtxOpt = None,
        threads: opts.ThreadsOpt = None,
        batch_size: opts.BatchSizeOpt = None,
        flash_attn: opts.FlashAttnOpt = None,
        gpu_layers: opts.GpuLayersOpt = None,
        concurrency: opts.ConcurrencyOpt = None,
        max_output_chars: opts.MaxOutputCharsOpt = None,
        temperature: opts.TemperatureOpt = None,
        root_max_tokens: opts.RootMaxTokensOpt = None,
        sub_max_tokens: opts.SubMaxTokensOpt = None,
        seed: int = typer.Option(None, "--seed", help="Sampling seed."),
        fail_on: str = typer.Option(
            None,
            "--fail-on",
            help="Exit 1 when a verified finding is at or above: info, warning, error, critical, "
            f"or never (default {D.fail_on}).",
        ),
        no_log: opts.NoLogOpt = False,
        brief_tokens: opts.BriefTokensOpt = None,
        binary: opts.BinaryOpt = False,
        include: opts.IncludeOpt = None,
        exclude: opts.ExcludeOpt = None,
        task: str = typer.Option(
            None,
            "--task",
            help="A preset question and guidance: which-node-fails, error-summary, timeline "
            "(or your own in <config dir>/tasks/NAME.yaml). All arguments are then paths.",
        ),
        mode: str = typer.Option(
            "rlm", "--mode", help="rlm (the loop) or direct (one call over what fits, a baseline)."
        ),
        no_grammar: opts.NoGrammarOpt = False,
        no_cache: opts.NoCacheOpt = False,
        thinking: opts.ThinkingOpt = None,
        debug: opts.DebugOpt = False,
    ) -> int:
        """Ask a question about a log; the answer goes to stdout."""
        set_debug(debug)
        from rlm_cli.actions.ask import AskRequest, run_ask
        from rlm_cli.errors import UsageError

        settings = opts.run_settings(
            locals(),
            n_batch=batch_size,
            n_gpu_layers=gpu_layers,
            cache=False if no_cache else None,
        )
        positional = [p for p in ([question] if question else []) + list(paths or []) if p]
        if task:
            question, positional = "", positional
        elif not question:
            raise UsageError("give a question (or --task NAME)")
        else:
            positional = positional[1:]
        request = AskRequest(
            **opts.inputs(positional, include, exclude, binary),
            question=question,
            task=task,
            mode=mode,
            context_id=context_id,
            settings=settings,
            json=json_out,
            quiet=quiet,
            debug=debug,
        )
        return run_ask(request)

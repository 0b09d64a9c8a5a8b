"""`rlm ask QUESTION [PATH...]`: options only; the work is in rlm_cli.actions.ask."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from rlm_cli.commands import common as opts

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
    @opts.shared_options(*opts.RUN_OPTIONS, *opts.INPUTS)
    def ask(
        question: str = typer.Argument(
            None, help="What you want to know about the log (with --task: a path)."
        ),
        paths: opts.PathsArg = None,
        context_id: opts.ContextOpt = None,
        json_out: opts.JsonOpt = False,
        quiet: opts.QuietOpt = False,
        task: opts.TaskOpt = None,
        mode: str = typer.Option(
            "rlm", "--mode", help="rlm (the loop) or direct (one call over what fits, a baseline)."
        ),
        debug: opts.DebugOpt = False,
        **shared: Any,
    ) -> int:
        """Ask a question about a log; the answer goes to stdout."""
        set_debug(debug)
        from rlm_cli.actions.ask import AskRequest, run_ask
        from rlm_cli.errors import UsageError

        settings = opts.run_settings(shared)
        positional = [p for p in ([question] if question else []) + list(paths or []) if p]
        if task:
            question, positional = "", positional
        elif not question:
            raise UsageError("give a question (or --task NAME)")
        else:
            positional = positional[1:]
        request = AskRequest(
            **opts.inputs(positional, shared),
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

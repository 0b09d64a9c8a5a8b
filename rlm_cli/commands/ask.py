"""`rlm ask QUESTION [PATH...]`: options only; the work is in rlm_cli.actions.ask."""

from __future__ import annotations

from collections.abc import Callable

import typer

from rlm_cli.commands.common import (
    BinaryOpt,
    DebugOpt,
    ExcludeOpt,
    IncludeOpt,
    JsonOpt,
    MaxIterationsOpt,
    MaxSubcallsOpt,
    ModelOpt,
    NCtxOpt,
    NoLogOpt,
    QuietOpt,
    SubModelOpt,
    ThreadsOpt,
    TimeoutOpt,
    run_settings,
)
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
        model: ModelOpt = None,
        sub_model: SubModelOpt = None,
        context_id: str = typer.Option(
            None, "--context", help="Reuse a stored context by id (see rlm contexts list)."
        ),
        json_out: JsonOpt = False,
        quiet: QuietOpt = False,
        max_iterations: MaxIterationsOpt = None,
        max_subcalls: MaxSubcallsOpt = None,
        max_tokens: int = typer.Option(
            None, "--max-tokens", min=1, help="Tokens (root and sub-calls) allowed in the run."
        ),
        max_depth: int = typer.Option(
            None, "--max-depth", min=1, help="Recursion depth (1: sub-calls are plain model calls)."
        ),
        timeout: TimeoutOpt = None,
        n_ctx: NCtxOpt = None,
        threads: ThreadsOpt = None,
        batch_size: int = typer.Option(
            None,
            "--batch-size",
            min=1,
            help=f"Prompt tokens llama.cpp evaluates per step (default {D.n_batch}).",
        ),
        flash_attn: bool = typer.Option(
            None, "--flash-attn/--no-flash-attn", help="Flash attention in llama.cpp."
        ),
        gpu_layers: int = typer.Option(
            None,
            "--gpu-layers",
            min=-1,
            help=f"Layers offloaded to the GPU (-1: all; default {D.n_gpu_layers}).",
        ),
        concurrency: int = typer.Option(
            None,
            "--concurrency",
            min=1,
            help=f"Sub-calls in flight at once on an openai: server (default {D.concurrency}).",
        ),
        max_output_chars: int = typer.Option(
            None, "--max-output-chars", min=200, help="Printed output per step shown to the model."
        ),
        temperature: float = typer.Option(
            None, "--temperature", min=0.0, help="Sampling temperature."
        ),
        root_max_tokens: int = typer.Option(
            None,
            "--root-max-tokens",
            min=16,
            help=f"Longest root reply in tokens (default {D.root_max_tokens}).",
        ),
        sub_max_tokens: int = typer.Option(
            None,
            "--sub-max-tokens",
            min=16,
            help=f"Longest sub-call answer in tokens (default {D.sub_max_tokens}).",
        ),
        seed: int = typer.Option(None, "--seed", help="Sampling seed."),
        fail_on: str = typer.Option(
            None,
            "--fail-on",
            help="Exit 1 when a verified finding is at or above: info, warning, error, critical, "
            f"or never (default {D.fail_on}).",
        ),
        no_log: NoLogOpt = False,
        brief_tokens: int = typer.Option(
            None,
            "--brief-tokens",
            min=0,
            help="Token budget of the log map in the first prompt, by the model's tokenizer "
            f"(0: none; at most 1/6 of the model's window; default {D.brief_tokens}).",
        ),
        binary: BinaryOpt = False,
        include: IncludeOpt = None,
        exclude: ExcludeOpt = None,
        task: str = typer.Option(
            None,
            "--task",
            help="A preset question and guidance: which-node-fails, error-summary, timeline "
            "(or your own in <config dir>/tasks/NAME.yaml). All arguments are then paths.",
        ),
        mode: str = typer.Option(
            "rlm", "--mode", help="rlm (the loop) or direct (one call over what fits, a baseline)."
        ),
        no_grammar: bool = typer.Option(
            False, "--no-grammar", help="Do not constrain root replies with a grammar (GGUF)."
        ),
        no_cache: bool = typer.Option(
            False, "--no-cache", help="Do not read or write the sub-call cache."
        ),
        thinking: str = typer.Option(
            None,
            "--thinking",
            help="Thinking models: hide (default; <think> kept out of answer and history), "
            "keep (kept in the history) or off (disabled via the chat template).",
        ),
        debug: DebugOpt = False,
    ) -> int:
        """Ask a question about a log; the answer goes to stdout."""
        set_debug(debug)
        from rlm_cli.actions.ask import AskRequest, run_ask
        from rlm_cli.errors import UsageError

        settings = run_settings(
            fail_on=fail_on,
            no_log=no_log,
            model=model,
            sub_model=sub_model,
            max_iterations=max_iterations,
            max_subcalls=max_subcalls,
            max_tokens=max_tokens,
            max_depth=max_depth,
            timeout=timeout,
            n_ctx=n_ctx,
            threads=threads,
            n_batch=batch_size,
            flash_attn=flash_attn,
            n_gpu_layers=gpu_layers,
            concurrency=concurrency,
            max_output_chars=max_output_chars,
            temperature=temperature,
            seed=seed,
            root_max_tokens=root_max_tokens,
            sub_max_tokens=sub_max_tokens,
            brief_tokens=brief_tokens,
            grammar=False if no_grammar else None,
            cache=False if no_cache else None,
            thinking=thinking,
        )
        positional = [p for p in ([question] if question else []) + list(paths or []) if p]
        if task:
            question, positional = "", positional
        elif not question:
            raise UsageError("give a question (or --task NAME)")
        else:
            positional = positional[1:]
        request = AskRequest(
            question=question,
            paths=positional,
            task=task,
            mode=mode,
            context_id=context_id,
            settings=settings,
            json=json_out,
            quiet=quiet,
            allow_binary=binary,
            include=include or [],
            exclude=exclude or [],
            debug=debug,
        )
        return run_ask(request)

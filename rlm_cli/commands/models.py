"""`rlm models list | pull NAME | add PATH --alias NAME | rm NAME | default NAME`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer

from rlm_cli.commands import common as opts
from rlm_cli.commands.common import command_group

EXAMPLES = """
Examples:

  rlm models list

  rlm models pull qwen3-4b-instruct-2507      # the default model (about 2.5 GB)

  rlm models add ~/Downloads/my-model-Q4_K_M.gguf               # named my-model-q4_k_m

  rlm models add ~/Downloads/my-model-Q4_K_M.gguf --alias mine   # the only model: the default

  rlm models default mine                                          # same as: rlm config set model mine

  RLM_MODEL_MIRROR=https://mirror.example.org rlm models pull qwen3-8b

  rlm models warm -m qwen-1.5b      # evaluate its system prompts once, now, not on the first ask
"""


def register(app: typer.Typer, set_debug: Callable[[bool], None]) -> None:
    """Add the `models` command group to ``app``."""
    models = command_group(
        app, "models", "Local GGUF models: list, download, register, remove.", epilog=EXAMPLES
    )

    @models.command("list")
    def list_models(json_out: opts.JsonOpt = False) -> None:
        """The catalogue and your registered models; which are downloaded."""
        from rlm_cli.actions.models import list_models as run

        run(json_out)

    @models.command("pull")
    def pull(
        name: str = typer.Argument(..., help="A catalogue name, or an https://... .gguf URL."),
        alias: str = typer.Option(None, "--alias", help="Name to register a URL download under."),
        quiet: opts.QuietOpt = False,
    ) -> None:
        """Download a model (resumes an interrupted download; verifies checksums when known)."""
        from rlm_cli.actions.models import pull as run

        run(name, alias=alias, quiet=quiet)

    @models.command("add")
    def add(
        path: Path = typer.Argument(..., help="A .gguf file on this machine."),
        alias: str = typer.Option(
            None, "--alias", help="The name to use with --model (default: from the file name)."
        ),
        replace: bool = typer.Option(False, "--replace", help="Replace an existing alias."),
    ) -> None:
        """Register a GGUF file you already have under a short name (a config.yaml alias).

        The only installed model is the default at once; with several, choose one with
        `rlm models default NAME`."""
        from rlm_cli.actions.models import add as run

        run(path, alias, replace=replace)

    @models.command("rm")
    def rm(name: str = typer.Argument(..., help="A registered or downloaded model.")) -> None:
        """Forget a model; a file downloaded by rlm is deleted too."""
        from rlm_cli.actions.models import rm as run

        run(name)

    @models.command("default")
    def default(
        name: str = typer.Argument(..., help="The model used when --model is not given."),
    ) -> None:
        """Make a model the default (writes config `model`, like `rlm config set model`)."""
        from rlm_cli.actions.models import set_default as run

        run(name)

    @models.command("warm")
    @opts.shared_options(*opts.RUN_MODEL, "thinking", "max_output_chars", "sub_max_tokens")
    def warm(
        json_out: opts.JsonOpt = False,
        quiet: opts.QuietOpt = False,
        debug: opts.DebugOpt = False,
        **shared: Any,
    ) -> None:
        """Fill the prompt cache: evaluate every system prompt a run may open with, once.

        The first question of each kind otherwise pays for it (about 20 s with a 1.5B model
        on two cores). Run it after adding a model, or from cron at boot. The cache is keyed
        by model file, window size and the exact prompt: warm with the --n-ctx (and
        --max-output-chars, --sub-max-tokens, --thinking) you ask with."""
        set_debug(debug)
        from rlm_cli.actions.models import warm as run

        run(opts.run_settings(shared), json_out, quiet)

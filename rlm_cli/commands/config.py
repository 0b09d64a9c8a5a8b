"""`rlm config ...`: options only; the work is in rlm_cli.actions.config."""

from __future__ import annotations

from collections.abc import Callable

import typer

from rlm_cli.commands.common import JsonOpt, command_group

CONFIG_HELP = (
    "Settings: built-in defaults < config.yaml in the config dir < RLM_* environment "
    "variables (RLM_N_CTX=16384, RLM_MODEL=...) < command-line flags.\n\n"
    "The config dir ($RLM_CONFIG_DIR, else $XDG_CONFIG_HOME/rlm, else ~/.config/rlm) also "
    "holds prompt overrides (prompts/root.yaml, prompts/subcall.yaml: their keys replace the "
    "shipped ones) and task presets (tasks/NAME.yaml). `rlm config path --all` lists every "
    "location."
)

PATH_EXAMPLES = """
Examples:

  rlm config path

  $EDITOR "$(rlm config path)"

  rlm config path --all
"""

SHOW_EXAMPLES = """
Examples:

  rlm config show

  RLM_N_CTX=16384 rlm config show      (the env var wins over the file)

  rlm config show --json | jq .settings.model
"""

SET_EXAMPLES = """
Examples:

  rlm config set model ~/models/qwen3-4b.gguf

  rlm config set n_ctx 16384

  rlm config set retention_days 30

  rlm config set aliases.fast ~/models/qwen3-1.7b.gguf   (then: rlm ask ... -m fast)

  rlm config unset n_ctx
"""


def register(app: typer.Typer, set_debug: Callable[[bool], None]) -> None:
    """Add the `config` command group to ``app``."""
    config = command_group(
        app, "config", CONFIG_HELP, "Settings: config path, show, set KEY VALUE, unset."
    )

    @config.command("path", epilog=PATH_EXAMPLES)
    def path(
        all_: bool = typer.Option(
            False, "--all", "-a", help="Every location: config, prompts, tasks, data, runs."
        ),
    ) -> int:
        """Print where config.yaml lives (prompts/ and tasks/ overrides sit beside it)."""
        from rlm_cli.actions.config import show_path

        return show_path(all_)

    @config.command("show", epilog=SHOW_EXAMPLES)
    def show(
        json_out: JsonOpt = False,
    ) -> int:
        """The settings in effect, each with where it came from (default, file or env)."""
        from rlm_cli.actions.config import show_settings

        return show_settings(json_out)

    @config.command("set", epilog=SET_EXAMPLES)
    def set_(
        key: str = typer.Argument(..., help="A setting (see rlm config show) or aliases.NAME."),
        value: str = typer.Argument(..., help="Its value ('none' clears an optional one)."),
    ) -> int:
        """Write one setting into config.yaml (checked before it is written)."""
        from rlm_cli.actions.config import set_value

        return set_value(key, value)

    @config.command("unset", epilog=SET_EXAMPLES)
    def unset(
        key: str = typer.Argument(..., help="A setting or aliases.NAME."),
    ) -> int:
        """Remove one setting from config.yaml so its default applies again."""
        from rlm_cli.actions.config import unset_value

        return unset_value(key)

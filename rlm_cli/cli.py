"""The `rlm` command: Typer wiring only. Each command parses options and hands off."""

from __future__ import annotations

import os
import sys

import typer

from rlm_cli import __version__
from rlm_cli.commands import ask as ask_cmd
from rlm_cli.commands import config as config_cmd
from rlm_cli.commands import contexts as contexts_cmd
from rlm_cli.commands import grep as grep_cmd
from rlm_cli.commands import ingest as ingest_cmd
from rlm_cli.commands import logmap as logmap_cmd
from rlm_cli.commands import models as models_cmd
from rlm_cli.commands import runs as runs_cmd
from rlm_cli.commands import scan as scan_cmd
from rlm_cli.errors import RlmError

app = typer.Typer(
    name="rlm",
    help=(
        "Log triage with Recursive Language Models on local models.\n\n"
        "The log never enters the model's window: it is stored on disk and the model writes "
        "code to inspect it.\n\n"
        '  cat bmc.log | rlm ask "which node will fail" --model ~/models/qwen3-4b.gguf'
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    add_completion=True,
    rich_markup_mode="rich",
)

_state = {"debug": False}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"rlm {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show tracebacks of errors.", envvar="RLM_DEBUG"
    ),
) -> None:
    """Log triage with Recursive Language Models."""
    _state["debug"] = _state["debug"] or debug


def set_debug(value: bool) -> None:
    """Commands with their own --debug flag call this."""
    _state["debug"] = _state["debug"] or value


ask_cmd.register(app, set_debug)
ingest_cmd.register(app, set_debug)
grep_cmd.register(app, set_debug)
contexts_cmd.register(app, set_debug)
models_cmd.register(app, set_debug)
scan_cmd.register(app, set_debug)
logmap_cmd.register(app, set_debug)
runs_cmd.register(app, set_debug)
config_cmd.register(app, set_debug)


def main() -> None:
    """Console entry point: run the app; expected errors become one line and exit 2."""
    from rlm_cli.commands.fast import run_fast

    fast = run_fast(sys.argv[1:])  # plain `rlm grep` / `rlm ingest`: skip Typer's coercion
    if fast is not None:
        sys.stdout.flush()
        sys.exit(fast)
    from rlm_cli.render.console import usage_error_line, widen_help_for_pipes

    widen_help_for_pipes()
    try:
        code = app(standalone_mode=False, prog_name="rlm")
    except RlmError as e:
        if _state["debug"]:
            raise
        sys.stderr.write(f"rlm: error: {e}\n")
        sys.exit(e.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("rlm: interrupted\n")
        sys.exit(130)
    except BrokenPipeError:
        # The reader went away (`rlm ... | head`): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(0)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        sys.stderr.write("rlm: aborted\n")
        sys.exit(130)
    except typer.TyperException as e:  # usage errors from the option parser: one line too
        sys.stderr.write(usage_error_line(e) + "\n")
        sys.exit(getattr(e, "exit_code", 2) or 2)
    except Exception as e:  # noqa: BLE001 - the one place that turns surprises into exit 2
        if _state["debug"]:
            raise
        sys.stderr.write(
            f"rlm: internal error: {type(e).__name__}: {e} (run with --debug for the traceback)\n"
        )
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)

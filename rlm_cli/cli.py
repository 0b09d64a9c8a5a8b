"""The `rlm` command: Typer wiring only. Each command parses options and hands off."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable

import typer

from rlm_cli import __version__
from rlm_cli.commands import ask as ask_cmd
from rlm_cli.commands import bench as bench_cmd
from rlm_cli.commands import config as config_cmd
from rlm_cli.commands import contexts as contexts_cmd
from rlm_cli.commands import grep as grep_cmd
from rlm_cli.commands import ingest as ingest_cmd
from rlm_cli.commands import logmap as logmap_cmd
from rlm_cli.commands import models as models_cmd
from rlm_cli.commands import runs as runs_cmd
from rlm_cli.commands import scan as scan_cmd
from rlm_cli.errors import ExitStatus, exit_for

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
bench_cmd.register(app, set_debug)


class _Carried(Exception):
    """Carries a stop by signal or a closed stdout past Typer (which turns KeyboardInterrupt
    into a bare exit 130, losing which signal it was, and a broken pipe into exit 1) to
    :func:`main`, where ``exit_for`` decides like for every other exception."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(repr(exc))
        self.exc = exc


def _carry(callback: Callable) -> Callable:
    @functools.wraps(callback)
    def run(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except (KeyboardInterrupt, BrokenPipeError) as e:
            raise _Carried(e) from e

    return run


def _carry_all(typer_app: typer.Typer) -> None:
    for info in typer_app.registered_commands:
        info.callback = _carry(info.callback)
    for group in typer_app.registered_groups:
        if group.typer_instance is not None:
            _carry_all(group.typer_instance)


_carry_all(app)


def main() -> None:
    """Console entry point: run the app; every exception becomes a status by ``errors.exit_for``."""
    from rlm_cli.commands.fast import run_fast
    from rlm_cli.signals import signals_as_interrupts

    with signals_as_interrupts():
        fast = run_fast(sys.argv[1:])  # plain `rlm grep` / `rlm ingest`: skip Typer's coercion
        if fast is not None:
            sys.stdout.flush()
            sys.exit(fast)
        from rlm_cli.render.console import usage_error_line, widen_help_for_pipes

        widen_help_for_pipes()
        try:
            code = app(standalone_mode=False, prog_name="rlm")
        except typer.Exit as e:
            sys.exit(e.exit_code)
        except typer.Abort:  # click's abort is its handling of Ctrl-C at a prompt
            sys.exit(exit_for(KeyboardInterrupt(), debug=_state["debug"]))
        except typer.TyperException as e:  # usage errors from the option parser: one line too
            sys.stderr.write(usage_error_line(e) + "\n")
            sys.exit(getattr(e, "exit_code", ExitStatus.ERROR) or ExitStatus.ERROR)
        except _Carried as e:
            sys.exit(exit_for(e.exc, debug=_state["debug"]))
        except Exception as e:  # noqa: BLE001 - the one place surprises become a status
            sys.exit(exit_for(e, debug=_state["debug"]))
    sys.exit(code if isinstance(code, int) else ExitStatus.OK)

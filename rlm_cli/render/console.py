"""The two consoles: stdout for answers, stderr for everything else.

Rich already honours ``NO_COLOR``, ``FORCE_COLOR``, ``TERM=dumb`` and ``COLUMNS``, and
turns colour off when the stream is not a terminal; we only pick the stream.
"""

from __future__ import annotations

import os

from rich.console import Console


def stdout_console() -> Console:
    """Where answers, tables and JSON go."""
    return Console(highlight=False, soft_wrap=False)


def live_capable(console: Console) -> bool:
    """A live, redrawn view makes sense: the stream really is a terminal (FORCE_COLOR alone
    only asks for colour) and the terminal is not ``TERM=dumb``."""
    try:
        tty = os.isatty(console.file.fileno())
    except (AttributeError, OSError, ValueError):
        tty = False
    return tty and console.is_interactive


def stderr_console() -> Console:
    """Where the live view, notes and errors go."""
    return Console(stderr=True, highlight=False, soft_wrap=True)


HELP_WIDTH_IN_PIPES = 100
"""Columns for ``--help`` written to a pipe: at 80 Rich cuts long option names
(``--max-output-cha…``); at 100 every option of every command fits."""


def widen_help_for_pipes() -> None:
    """Let Typer's help use :data:`HELP_WIDTH_IN_PIPES` columns when stdout is not a
    terminal and the user set no width (``COLUMNS`` or ``TERMINAL_WIDTH``)."""
    import typer.rich_utils

    width: int | None = None
    if os.environ.get("TERMINAL_WIDTH", "").isdigit():
        width = int(os.environ["TERMINAL_WIDTH"])
    elif not os.environ.get("COLUMNS"):
        try:
            width = None if os.isatty(1) else HELP_WIDTH_IN_PIPES
        except OSError:
            width = HELP_WIDTH_IN_PIPES
    typer.rich_utils.MAX_WIDTH = width


def usage_error_line(error: Exception) -> str:
    """A command-line parsing error (Click's) as the one line every rlm error is:
    the message, then where to read about the command."""
    fmt = getattr(error, "format_message", None)
    message = fmt() if callable(fmt) else str(error)
    message = " ".join(message.split()).rstrip(".")
    message = message[:1].lower() + message[1:] if message[:2] != message[:2].upper() else message
    ctx = getattr(error, "ctx", None)
    where = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
    return f"rlm: error: {message}{where}"

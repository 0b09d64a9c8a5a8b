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

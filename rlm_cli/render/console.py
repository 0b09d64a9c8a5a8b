"""The two consoles: stdout for answers, stderr for everything else.

Rich already honours ``NO_COLOR``, ``FORCE_COLOR``, ``TERM=dumb`` and ``COLUMNS``, and
turns colour off when the stream is not a terminal; we only pick the stream.
"""

from __future__ import annotations

from rich.console import Console


def stdout_console() -> Console:
    """Where answers, tables and JSON go."""
    return Console(highlight=False, soft_wrap=False)


def stderr_console() -> Console:
    """Where the live view, notes and errors go."""
    return Console(stderr=True, highlight=False, soft_wrap=True)

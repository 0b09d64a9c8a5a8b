"""SIGTERM and SIGHUP stop a run the way Ctrl-C does.

cron's ``timeout``, systemd and a closed terminal send SIGTERM or SIGHUP, whose default
action kills the process at once: no partial run recorded, the live view's status line
left on the terminal. :func:`signals_as_interrupts` turns them into
:class:`~rlm_cli.errors.Interrupted` (a KeyboardInterrupt), so the same paths that keep a
Ctrl-C'd run keep these, and the exit status says which signal it was (143, 129).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from rlm_cli.errors import Interrupted

STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def signals_as_interrupts() -> Iterator[None]:
    """Within the block, SIGTERM/SIGHUP raise :class:`Interrupted` in the main thread.

    Only the first such signal raises; a repeat during the clean-up it started is
    ignored, so the partial run can still be recorded. Outside the main thread this
    does nothing (Python delivers signals to the main thread only).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired: list[int] = []

    def handler(signum: int, _frame) -> None:
        if fired:
            return
        fired.append(signum)
        raise Interrupted(signum)

    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)

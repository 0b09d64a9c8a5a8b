"""Errors the CLI turns into a one-line message and an exit code.

Anything raised as an :class:`RlmError` is an expected failure (bad input, a
missing model, a server that said no): the CLI prints ``rlm: <message>`` on
stderr and exits with ``exit_code`` (2), with no traceback unless ``--debug``.
:class:`ExitStatus` names every exit code; :func:`exit_for` is the one mapping from an
exception to a message and a status, used by both entry points.
"""

from __future__ import annotations

import os
import signal
import sys
from enum import IntEnum


class RlmError(Exception):
    """An expected failure with a message meant for the operator."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message} ({self.hint})"


class UsageError(RlmError):
    """The command line itself is wrong (conflicting or missing options)."""


class InputError(RlmError):
    """The log input cannot be read: missing, empty, binary, unreadable."""


class StoreError(RlmError):
    """The on-disk context store failed (disk full, corrupt context, unknown id)."""


class ModelError(RlmError):
    """A model could not be loaded or answered with an error."""


class PromptTooLong(ModelError):
    """A prompt does not fit the model's window; nothing was cut."""

    def __init__(self, message: str, *, tokens: int = 0, limit: int = 0) -> None:
        super().__init__(message)
        self.tokens = tokens
        self.limit = limit


class ConfigError(RlmError):
    """The config file or an RLM_* variable holds a value that cannot be used."""


class ExitStatus(IntEnum):
    """Every exit code of `rlm` (as httpie's ExitStatus): 128 + N for a stop by signal N."""

    OK = 0
    FINDINGS = 1
    """A verified finding at or above ``--fail-on``."""
    ERROR = 2
    SIGHUP = 128 + signal.SIGHUP
    SIGINT = 128 + signal.SIGINT
    SIGTERM = 128 + signal.SIGTERM


class Interrupted(KeyboardInterrupt):
    """A stop asked by a signal: Ctrl-C, or SIGTERM/SIGHUP (cron, systemd, a closed terminal).

    A subclass of KeyboardInterrupt, so every place that handles Ctrl-C (the engine
    keeping the partial run, the live view restoring the terminal) handles the others.
    """

    def __init__(self, signum: int = signal.SIGINT) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


def interrupt_status(exc: BaseException | None = None) -> ExitStatus:
    """The exit status of a stop by ``exc`` (a plain KeyboardInterrupt is SIGINT)."""
    return ExitStatus(128 + getattr(exc, "signum", signal.SIGINT))


def exit_for(exc: BaseException, *, debug: bool = False) -> ExitStatus:
    """The one place both entry points turn an exception into a line on stderr and a status.

    Expected errors print ``rlm: error: ...``; a stop by signal ``rlm: interrupted``
    (or ``terminated``/``hung up``); a closed stdout (``rlm ... | head``) is not an error;
    anything else is an internal error. With ``debug`` the traceback is shown instead
    (the exception is re-raised).
    """
    if isinstance(exc, KeyboardInterrupt):
        status = interrupt_status(exc)
        word = {ExitStatus.SIGTERM: "terminated", ExitStatus.SIGHUP: "hung up"}
        sys.stderr.write(f"rlm: {word.get(status, 'interrupted')}\n")
        return status
    if isinstance(exc, BrokenPipeError):
        # The reader went away: point stdout at /dev/null so the exit flush stays quiet.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return ExitStatus.OK
    if debug:
        raise exc
    if isinstance(exc, RlmError):
        sys.stderr.write(f"rlm: error: {exc}\n")
        return ExitStatus(exc.exit_code)
    sys.stderr.write(
        f"rlm: internal error: {type(exc).__name__}: {exc} (run with --debug for the traceback)\n"
    )
    return ExitStatus.ERROR

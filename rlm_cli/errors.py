"""Errors the CLI turns into a one-line message and an exit code.

Anything raised as an :class:`RlmError` is an expected failure (bad input, a
missing model, a server that said no): the CLI prints ``rlm: <message>`` on
stderr and exits with ``exit_code`` (2), with no traceback unless ``--debug``.
"""

from __future__ import annotations


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

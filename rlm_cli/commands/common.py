"""Option checks shared by commands that run the engine (`ask`, `scan`)."""

from __future__ import annotations

from rlm_cli.engine.findings import SEVERITIES
from rlm_cli.errors import UsageError

FAIL_ON_CHOICES = (*SEVERITIES, "never")


def check_fail_on(value: str | None) -> None:
    """Raise UsageError unless ``--fail-on`` is a severity or ``never``."""
    if value is not None and value not in FAIL_ON_CHOICES:
        raise UsageError(f"--fail-on {value!r}: expected {', '.join(SEVERITIES)} or never")

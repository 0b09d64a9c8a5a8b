"""The worker's sandbox, in the order the worker applies it.

1. ``prepare``: before the context is opened (process limits that allow opening it).
2. ``lockdown``: after everything the model needs is open and imported.
3. ``check``: every step's code, before it runs.
4. ``builtins_for_model``: the builtins mapping the code sees.

(Interim: the hardened layers land with the sandbox work; until then this module
only defines the seam and does not restrict anything.)
"""

from __future__ import annotations

import builtins


class Refused(Exception):
    """The step's code was refused before running; the message says why."""


def prepare(init: dict) -> dict:
    """Apply what must happen before the context is opened. Returns an isolation report."""
    return {"language": "none", "process": "none", "network": "none", "filesystem": "none"}


def lockdown(init: dict, report: dict) -> dict:
    """Apply what must happen once the context is open. Returns the updated report."""
    return report


def check(code: str) -> None:
    """Raise Refused if ``code`` must not run."""


def builtins_for_model() -> dict:
    """The builtins the model's code sees."""
    return dict(vars(builtins))

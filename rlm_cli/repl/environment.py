"""The environment and command line the REPL worker is started with.

The worker runs model-written code, so it inherits nothing it does not need:
no tokens, keys or passwords, no ``PYTHONPATH``/``LD_PRELOAD`` style hooks.

Command line: ``python -I -S -c <bootstrap>``.

* ``-I`` (isolated mode) ignores every ``PYTHON*`` variable, the user site
  directory and the current directory on ``sys.path``.
* ``-S`` skips ``site``: no site-packages, and above all no ``.pth`` files, which
  can run arbitrary code at startup.  The worker needs only the standard library
  and ``rlm_cli``; the bootstrap puts the directory that holds the ``rlm_cli``
  package first on ``sys.path`` (the source tree in development, site-packages
  once installed), so this works the same for both.  ``-S`` also drops the
  ``help``/``exit``/``quit`` builtins that ``site`` would add.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path

_SAFE_LOCALE = re.compile(r"^[A-Za-z0-9_.@-]{1,40}$")
_SAFE_TZ = re.compile(r"^:?[A-Za-z0-9_+\-/]{1,40}$")
_LOCALE_VARS = ("LANG", "LC_ALL", "LC_CTYPE")

BASE_ENV: dict[str, str] = {
    "PATH": "/usr/bin:/bin",
    "PYTHONIOENCODING": "utf-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    # A fixed hash seed keeps set/dict-of-str iteration order stable, so a
    # replayed trajectory prints the same output; hash flooding is no threat here.
    "PYTHONHASHSEED": "0",
}


def scrubbed_env(parent: Mapping[str, str]) -> dict[str, str]:
    """Return the worker's environment: :data:`BASE_ENV` plus safe locale and TZ values.

    Everything else in ``parent`` (API keys, tokens, proxies, ``HOME``, ``LD_*``)
    is dropped.  Locale and ``TZ`` are kept only when they look like plain names
    (``en_US.UTF-8``, ``Europe/Paris``), since log timestamps may depend on them.
    """
    env = dict(BASE_ENV)
    for name in _LOCALE_VARS:
        value = parent.get(name)
        if value and _SAFE_LOCALE.match(value):
            env[name] = value
    tz = parent.get("TZ")
    if tz and _SAFE_TZ.match(tz) and ".." not in tz:
        env["TZ"] = tz
    return env


def package_root() -> Path:
    """The directory that holds the ``rlm_cli`` package."""
    import rlm_cli

    return Path(rlm_cli.__file__).resolve().parent.parent


def python_argv(module: str, *, python: str | None = None) -> list[str]:
    """Command line that runs ``python -m module`` isolated (``-I -S``) but able to import rlm_cli."""
    if not re.fullmatch(r"[A-Za-z_][\w.]*", module):
        raise ValueError(f"not a module name: {module!r}")
    bootstrap = (
        f"import sys, runpy; sys.path.insert(0, {str(package_root())!r}); "
        f"runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
    )
    return [python or sys.executable, "-I", "-S", "-c", bootstrap]


def _describe_self() -> dict[str, object]:
    """What a process started by :func:`python_argv` sees (used by tests and for debugging)."""
    import os

    return {
        "env": dict(os.environ),
        "isolated": bool(sys.flags.isolated),
        "no_site": bool(sys.flags.no_site),
        "site_loaded": "site" in sys.modules,
        "path": list(sys.path),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(_describe_self()))

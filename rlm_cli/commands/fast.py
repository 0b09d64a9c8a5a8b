"""A quick start for the commands used in pipelines: `rlm grep` and `rlm ingest`.

Importing Typer (and the Pydantic it uses to coerce options) costs a few hundred
milliseconds per run, more than `rlm grep -c` needs to scan 100 MB. When the command line
is plain (only the options those commands document, no ``--help``), it is parsed here with
argparse and handed to the same action Typer would call; anything else returns None and
the Typer app takes over, so help and usage errors stay Typer's. The option lists mirror
``commands/grep.py`` and ``commands/ingest.py``; tests run both paths and compare.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import fields


class _NotPlain(Exception):
    """The command line needs the full parser."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise _NotPlain(message)


def _parser(prog: str) -> _Parser:
    """The options grep and ingest share; ``dest`` is the request's field name."""
    p = _Parser(prog=prog, add_help=False, allow_abbrev=False)
    p.add_argument("--include", action="append", default=[])
    p.add_argument("--exclude", action="append", default=[])
    p.add_argument("--binary", dest="allow_binary", action="store_true")
    p.add_argument("--debug", action="store_true")
    return p


def _grep_parser() -> _Parser:
    p = _parser("rlm grep")
    p.add_argument("pattern")
    p.add_argument("paths", nargs="*")
    p.add_argument("--context", dest="context_id")
    p.add_argument("-c", "--count", action="store_true")
    p.add_argument("-i", "--ignore-case", action="store_true")
    p.add_argument("-n", "--line-number", dest="line_numbers", action="store_true")
    p.add_argument("--keep", action="store_true")
    return p


def _ingest_parser() -> _Parser:
    p = _parser("rlm ingest")
    p.add_argument("paths", nargs="*")
    p.add_argument("--json", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    return p


def _request(argv: list[str]):
    """(action, request, debug) for a plain command line, else None."""
    if not argv or argv[0] not in ("grep", "ingest"):
        return None
    if any(a in ("-h", "--help") for a in argv[1:] if a != "--"):
        return None
    parser = _grep_parser() if argv[0] == "grep" else _ingest_parser()
    try:
        ns = parser.parse_intermixed_args(argv[1:])
    except (_NotPlain, TypeError):
        return None
    if argv[0] == "grep":
        from rlm_cli.actions.grep import GrepRequest as request
        from rlm_cli.actions.grep import run_grep as action
    else:
        from rlm_cli.actions.ingest import IngestRequest as request
        from rlm_cli.actions.ingest import run_ingest as action
    ns.paths = [p for p in ns.paths if p]
    values = {f.name: getattr(ns, f.name) for f in fields(request) if hasattr(ns, f.name)}
    return action, request(**values), ns.debug


def run_fast(argv: list[str]) -> int | None:
    """Run a plain `rlm grep` / `rlm ingest` command line; None when Typer must handle it."""
    found = _request(argv)
    if found is None:
        return None
    action, req, debug = found
    debug = debug or os.environ.get("RLM_DEBUG", "").lower() in ("1", "true", "yes")
    from rlm_cli.errors import exit_for

    try:
        return action(req)
    except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - cli.main's contract, its function
        return exit_for(e, debug=debug)

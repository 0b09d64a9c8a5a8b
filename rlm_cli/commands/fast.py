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
import sys


class _NotPlain(Exception):
    """The command line needs the full parser."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise _NotPlain(message)


def _grep_parser() -> _Parser:
    p = _Parser(prog="rlm grep", add_help=False, allow_abbrev=False)
    p.add_argument("pattern")
    p.add_argument("paths", nargs="*")
    p.add_argument("--context", dest="context_id")
    p.add_argument("-c", "--count", action="store_true")
    p.add_argument("-i", "--ignore-case", action="store_true")
    p.add_argument("-n", "--line-number", action="store_true")
    p.add_argument("--include", action="append", default=[])
    p.add_argument("--exclude", action="append", default=[])
    p.add_argument("--binary", action="store_true")
    p.add_argument("--keep", action="store_true")
    p.add_argument("--debug", action="store_true")
    return p


def _ingest_parser() -> _Parser:
    p = _Parser(prog="rlm ingest", add_help=False, allow_abbrev=False)
    p.add_argument("paths", nargs="*")
    p.add_argument("--json", action="store_true")
    p.add_argument("--include", action="append", default=[])
    p.add_argument("--exclude", action="append", default=[])
    p.add_argument("--binary", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--debug", action="store_true")
    return p


def _request(argv: list[str]):
    """(action, request, debug) for a plain command line, else None."""
    if not argv or argv[0] not in ("grep", "ingest"):
        return None
    if any(a in ("-h", "--help") for a in argv[1:] if a != "--"):
        return None
    try:
        if argv[0] == "grep":
            ns = _grep_parser().parse_intermixed_args(argv[1:])
            from rlm_cli.actions.grep import GrepRequest, run_grep

            req = GrepRequest(
                pattern=ns.pattern,
                paths=[p for p in ns.paths if p],
                context_id=ns.context_id,
                count=ns.count,
                ignore_case=ns.ignore_case,
                line_numbers=ns.line_number,
                include=ns.include,
                exclude=ns.exclude,
                allow_binary=ns.binary,
                keep=ns.keep,
            )
            return run_grep, req, ns.debug
        ns = _ingest_parser().parse_intermixed_args(argv[1:])
        from rlm_cli.actions.ingest import IngestRequest, run_ingest

        req = IngestRequest(
            paths=[p for p in ns.paths if p],
            json=ns.json,
            quiet=ns.quiet,
            allow_binary=ns.binary,
            include=ns.include,
            exclude=ns.exclude,
        )
        return run_ingest, req, ns.debug
    except (_NotPlain, TypeError):
        return None


def run_fast(argv: list[str]) -> int | None:
    """Run a plain `rlm grep` / `rlm ingest` command line; None when Typer must handle it."""
    found = _request(argv)
    if found is None:
        return None
    action, req, debug = found
    debug = debug or os.environ.get("RLM_DEBUG", "").lower() in ("1", "true", "yes")
    from rlm_cli.errors import RlmError

    try:
        return action(req)
    except RlmError as e:
        if debug:
            raise
        sys.stderr.write(f"rlm: error: {e}\n")
        return e.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("rlm: interrupted\n")
        return 130
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as e:  # noqa: BLE001 - same contract as cli.main
        if debug:
            raise
        sys.stderr.write(
            f"rlm: internal error: {type(e).__name__}: {e} (run with --debug for the traceback)\n"
        )
        return 2

"""`rlm ingest`: inputs → one stored context; prints its id (stdout) and stats (stderr)."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

import orjson

from rlm_cli.errors import UsageError
from rlm_cli.store.contexts import ContextStore
from rlm_cli.store.inputs import expand_inputs


@dataclass(kw_only=True)
class Inputs:
    """What a command reads: files, folders or globs (stdin when none), which files inside
    folders count, and whether inputs with NUL bytes are kept. The requests of the commands
    that read logs (ingest, ask, grep, brief, templates, scan) start with these fields."""

    paths: list[str] = field(default_factory=list)
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    allow_binary: bool = False


@dataclass
class IngestRequest(Inputs):
    """Everything `rlm ingest` was told."""

    json: bool = False
    quiet: bool = False


def summary(meta: dict) -> dict:
    """The `--json` object: id, sizes, sources with their line ranges, first/last time."""
    return {
        "id": meta["id"],
        "bytes": meta["bytes"],
        "lines": meta["lines"],
        "chars": meta["chars"],
        "first_time": meta.get("first_time"),
        "last_time": meta.get("last_time"),
        "sources": [
            {
                "path": s["path"],
                "bytes": s["bytes"],
                "lines": s["lines"],
                "line_range": [s["first_line"], s["last_line"]],
                "first_time": s.get("first_time"),
                "last_time": s.get("last_time"),
                "compression": s.get("compression"),
                "final_newline": s.get("final_newline", True),
            }
            for s in meta["sources"]
        ],
        "skipped": meta.get("skipped", []),
    }


def describe(meta: dict) -> str:
    """One line of stats for people."""
    n = len(meta["sources"])
    text = (
        f"{meta['id']}: {meta['lines']:,} lines, {meta['bytes']:,} bytes, "
        f"{n} source{'s' if n != 1 else ''}"
    )
    if meta.get("first_time"):
        text += f", {meta['first_time']} .. {meta['last_time']}"
    return text


def ingest_inputs(req: Inputs, *, warn=None, store: ContextStore | None = None) -> dict:
    """Expand ``req.paths`` (stdin when empty) and store them as one context in ``store``
    (default: the user's context store); returns its meta."""
    if not req.paths and sys.stdin is not None and sys.stdin.isatty():
        raise UsageError("no input: pipe a log into rlm, or name files or folders")
    inputs = expand_inputs(req.paths, include=req.include, exclude=req.exclude, warn=warn)
    return (store or ContextStore()).ingest(inputs, allow_binary=req.allow_binary, warn=warn)


def run_ingest(req: IngestRequest) -> int:
    """Run `rlm ingest`; returns the exit code."""

    def warn(msg: str) -> None:
        if not req.quiet:
            sys.stderr.write(f"rlm: {msg}\n")

    meta = ingest_inputs(req, warn=warn)
    if req.json:
        sys.stdout.buffer.write(orjson.dumps(summary(meta), option=orjson.OPT_INDENT_2) + b"\n")
    else:
        sys.stdout.write(meta["id"] + "\n")
        if not req.quiet:
            sys.stderr.write(describe(meta) + "\n")
    sys.stdout.flush()
    return 0

"""The work behind `rlm brief` and `rlm templates`."""

from __future__ import annotations

import sys

from rlm_cli.errors import UsageError
from rlm_cli.logs.brief import make_brief, render_brief
from rlm_cli.logs.logmap import LogMap, ensure_logmap
from rlm_cli.logs.queries import MapQueries
from rlm_cli.render.console import stderr_console, stdout_console
from rlm_cli.render.report import print_json
from rlm_cli.store.context import Context
from rlm_cli.store.contexts import ContextStore
from rlm_cli.store.inputs import expand_inputs


def _open(paths: list[str], context_id: str | None) -> tuple[Context, LogMap]:
    store = ContextStore()
    if context_id:
        if paths:
            raise UsageError("give either --context ID or input paths, not both")
        ctx = store.open(context_id)
    else:
        if not paths and sys.stdin is not None and sys.stdin.isatty():
            raise UsageError("no input: pipe a log in, or name files")
        err = stderr_console()
        warn = lambda m: err.print(f"rlm: {m}", markup=False, highlight=False)  # noqa: E731
        meta = store.ingest(expand_inputs(paths, warn=warn), warn=warn)
        ctx = Context(store.root / meta["id"])
    return ctx, ensure_logmap(ctx)


def run_brief(
    paths: list[str], context_id: str | None, *, json_out: bool, max_tokens: int | None
) -> None:
    """Print the brief of the input."""
    ctx, logmap = _open(paths, context_id)
    brief = make_brief(ctx, logmap)
    out = stdout_console()
    if json_out:
        print_json(out, brief)
    else:
        out.file.write(render_brief(brief, max_tokens=max_tokens) + "\n")


def run_templates(
    paths: list[str], context_id: str | None, *, json_out: bool, per_line: bool, top: int | None
) -> None:
    """Print the templates of the input (or the template of every line)."""
    ctx, logmap = _open(paths, context_id)
    out = stdout_console().file
    if per_line:
        write = out.write
        for i, tid in enumerate(logmap.mining.assignments, 1):
            write(f"{i}\t{tid}\n")
        out.flush()
        return
    rows = MapQueries(ctx, logmap).templates(top=top or len(logmap.mining.templates))
    if json_out:
        print_json(stdout_console(), {"context_id": ctx.id, "templates": list(rows)})
    else:
        out.write(str(rows) + "\n")

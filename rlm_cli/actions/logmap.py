"""The work behind `rlm brief` and `rlm templates`."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

from rlm_cli.actions.contexts import LookRequest, looked_at
from rlm_cli.errors import UsageError
from rlm_cli.logs.brief import make_brief, render_brief
from rlm_cli.logs.logmap import LogMap, ensure_logmap
from rlm_cli.logs.queries import MapQueries
from rlm_cli.render.console import stderr_console, stdout_console
from rlm_cli.render.report import print_json
from rlm_cli.store.context import Context


@contextlib.contextmanager
def _open(req: LookRequest) -> Iterator[tuple[Context, LogMap]]:
    if not req.context_id and not req.paths and sys.stdin is not None and sys.stdin.isatty():
        raise UsageError("no input: pipe a log in, or name files")
    err = stderr_console()
    warn = lambda m: err.print(f"rlm: {m}", markup=False, highlight=False)  # noqa: E731
    with looked_at(req, warn=warn) as ctx:
        yield ctx, ensure_logmap(ctx)


def run_brief(req: LookRequest, *, json_out: bool, max_tokens: int | None) -> None:
    """Print the brief of the input."""
    with _open(req) as (ctx, logmap):
        brief = make_brief(ctx, logmap)
    out = stdout_console()
    if json_out:
        print_json(out, brief)
    else:
        out.file.write(render_brief(brief, max_tokens=max_tokens) + "\n")


def run_templates(req: LookRequest, *, json_out: bool, per_line: bool, top: int | None) -> None:
    """Print the templates of the input (or the template of every line)."""
    with _open(req) as (ctx, logmap):
        _templates(ctx, logmap, json_out=json_out, per_line=per_line, top=top)


def _templates(
    ctx: Context, logmap: LogMap, *, json_out: bool, per_line: bool, top: int | None
) -> None:
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

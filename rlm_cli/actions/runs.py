"""`rlm runs list | show | export | rm | prune`: the run history, read back."""

from __future__ import annotations

import html
import io
import re
import time
from datetime import datetime, timezone
from pathlib import Path

from rich.console import Console

from rlm_cli.errors import UsageError
from rlm_cli.render.console import stderr_console, stdout_console
from rlm_cli.render.report import print_json
from rlm_cli.render.run import render_run, runs_plain, runs_table
from rlm_cli.runs.history import RunHistory

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
EXPORT_FORMATS = ("json", "html", "svg")


def parse_since(text: str, now: float | None = None) -> float:
    """An epoch time from ``30m``, ``12h``, ``7d``, ``2w`` (ago) or a UTC date
    ``2026-11-24`` / ``2026-11-24T10:00``."""
    now = time.time() if now is None else now
    t = text.strip()
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhdw])", t)
    if m:
        return now - float(m.group(1)) * _UNITS[m.group(2)]
    for fmt in ("%Y-%m-%d", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"):
        try:
            return datetime.strptime(t, fmt).replace(tzinfo=timezone.utc).timestamp()
        except ValueError:
            continue
    raise UsageError(
        f"--since {text!r}: expected an age like 30m, 12h, 7d, 2w or a date like 2026-11-24"
    )


def list_runs(
    *,
    limit: int = 20,
    search: str | None = None,
    status: str | None = None,
    since: str | None = None,
    json: bool = False,
) -> int:
    """Print recent runs (newest first); 0."""
    out = stdout_console()
    history = RunHistory()
    try:
        rows = history.list(
            limit=limit,
            search=search,
            status=status,
            since=parse_since(since) if since else None,
        )
    finally:
        history.close()
    if json:
        print_json(out, {"runs": rows})  # type: ignore[arg-type]
        return 0
    if not rows:
        stderr_console().print(
            "rlm: no runs recorded" + (" match" if search or status or since else ""),
            markup=False,
            highlight=False,
        )
        return 0
    if out.is_terminal:
        out.print(runs_table(rows))
    else:
        out.file.write(runs_plain(rows) + "\n")
        out.file.flush()
    return 0


def show_run(run_id: str, *, full: bool = False, json: bool = False) -> int:
    """Draw a stored run again: its tree, usage, answer and findings; 0."""
    out = stdout_console()
    record = _get(run_id)
    if json:
        print_json(out, record)
        return 0
    out.print(render_run(record, rich=out.is_terminal, full=full), crop=out.is_terminal)
    return 0


def export_run(run_id: str, fmt: str, output: str | None = None, width: int = 120) -> int:
    """Write a run as JSON, or a standalone HTML or SVG of its tree; 0."""
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"--format {fmt!r}: expected json, html or svg")
    record = _get(run_id)
    if fmt == "json":
        import orjson

        text = orjson.dumps(record, option=orjson.OPT_INDENT_2, default=str).decode() + "\n"
    else:
        text = export_document(record, fmt, width)
    if output and output != "-":
        Path(output).write_text(text, encoding="utf-8")
        stderr_console().print(
            f"rlm: wrote {output} ({len(text):,} bytes)", markup=False, highlight=False
        )
    else:
        out = stdout_console()
        out.file.write(text)
        out.file.flush()
    return 0


def export_document(record: dict, fmt: str, width: int = 120) -> str:
    """A standalone HTML page or SVG image of a run (full tree, colours kept)."""
    console = Console(
        record=True,
        file=io.StringIO(),
        width=width,
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
    )
    console.print(render_run(record, rich=True, full=True))
    title = f"rlm run {record.get('run_id', '')}"
    if fmt == "html":
        page = console.export_html(inline_styles=True)
        return page.replace("<head>", f"<head>\n<title>{html.escape(title)}</title>", 1)
    return console.export_svg(title=title)


def rm_runs(run_ids: list[str]) -> int:
    """Delete runs by id (or unique prefix); 0."""
    history = RunHistory()
    err = stderr_console()
    try:
        for rid in run_ids:
            err.print(f"rlm: removed run {history.rm(rid)}", markup=False, highlight=False)
    finally:
        history.close()
    return 0


def prune_runs(older_than: str) -> int:
    """Delete runs started before ``older_than`` (an age like 30d); 0."""
    cutoff = parse_since(older_than)
    history = RunHistory()
    try:
        n = history.prune(keep_days=(time.time() - cutoff) / 86400)
    finally:
        history.close()
    stderr_console().print(
        f"rlm: removed {n} run{'s' if n != 1 else ''}", markup=False, highlight=False
    )
    return 0


def _get(run_id: str) -> dict:
    history = RunHistory()
    try:
        return history.get(run_id)
    finally:
        history.close()

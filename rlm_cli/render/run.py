"""A stored run, drawn again: `rlm runs show`, `rlm runs export`, and the runs list.

The tree is drawn by :mod:`rlm_cli.render.tree`, the same code the live view uses, with
every turn open. ``rich=False`` gives the plain form for pipes (and the golden tests).
"""

from __future__ import annotations

import time
from typing import Any

from rich import box
from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from rlm_cli.errors import ExitStatus
from rlm_cli.render.report import findings_table, plain_findings, sort_findings
from rlm_cli.render.safe import terminal_safe
from rlm_cli.render.tree import draw_tree, fmt_secs, run_title, summary_line, turns_from_record


def fmt_when(epoch: float | None) -> str:
    """``2026-11-25 07:15:01 UTC``."""
    if not epoch:
        return "?"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


def exit_style(code: int | None) -> str:
    """Green for OK, yellow for findings or a stop by signal, red for an error."""
    if code == ExitStatus.OK:
        return "green"
    if code == ExitStatus.FINDINGS or (code or 0) > 128:
        return "yellow"
    return "red"


def run_header(record: dict[str, Any]) -> Text:
    """Who, when and how a run ended."""
    models = record.get("models") or {}
    code = record.get("exit_code")
    text = Text()
    text.append(f"run {record.get('run_id', '?')}", style="bold")
    text.append(f"  {fmt_when(record.get('started'))}", style="dim")
    if code is not None:
        style = exit_style(code)
        text.append(f"  exit {code}", style=style)
    text.append(f" ({record.get('ended_by', '?')})\n", style="dim")
    root, sub = models.get("root", "?"), models.get("sub", "?")
    text.append("models: ", style="dim")
    text.append(f"root {root}" + (f" · sub {sub}" if sub != root else " (also sub-calls)"))
    text.append("\ncontext: ", style="dim")
    text.append(str(record.get("context_id") or "?"))
    return text


def render_run(record: dict[str, Any], *, rich: bool = True, full: bool = False) -> RenderableType:
    """Header, the tree with every turn open, usage, notes, the answer and the findings."""
    turns = turns_from_record(record)
    tree = draw_tree(
        run_title(record.get("question", ""), record.get("lines")),
        turns,
        expand=lambda i, t: True,
        full=full,
        open_all=True,
    )
    parts: list[RenderableType] = [run_header(record), Text(""), tree, summary_line(record)]
    in_turns = {n for t in record.get("trajectory") or [] for n in t.get("notes") or []}
    for n in record.get("notes") or []:
        if n in in_turns:
            continue  # already drawn under its turn
        parts.append(Text(f"! {terminal_safe(n)}", style="yellow"))
    parts.append(Text(""))
    answer = terminal_safe(record.get("answer") or "").strip()
    findings = sort_findings(record.get("findings") or [])
    if rich:
        parts.append(Text("Answer", style="bold"))
        parts.append(Markdown(answer) if answer else Text("(no answer)", style="dim"))
        if findings:
            parts += [Text(""), findings_table(findings)]
    else:
        # Plain text is never re-wrapped: long lines stay whole for grep and mail.
        body = "Answer:\n" + (answer or "(no answer)")
        if findings:
            body += "\n\nFindings:\n" + terminal_safe(plain_findings(findings))
        parts.append(Text(body, no_wrap=True, overflow="ignore"))
    return Group(*parts)


def runs_table(rows: list[dict[str, Any]]) -> Table:
    """The recent runs as a table (terminal form of `rlm runs list`); the id and the status
    never shrink, the question takes what is left."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))
    table.add_column("id", style="bold", no_wrap=True, min_width=20)
    table.add_column("UTC", no_wrap=True, style="dim", min_width=11)
    table.add_column("ended by", no_wrap=True, min_width=14)
    table.add_column("exit", justify="right", no_wrap=True, min_width=4)
    table.add_column("findings", justify="right", no_wrap=True, min_width=8)
    table.add_column("time", justify="right", no_wrap=True, min_width=6)
    table.add_column("question", overflow="ellipsis", no_wrap=True, ratio=1)
    for r in rows:
        code = r.get("exit_code")
        style = exit_style(code)
        when = time.strftime("%m-%d %H:%M", time.gmtime(r["started"])) if r.get("started") else "?"
        table.add_row(
            r["id"],
            when,
            Text(str(r.get("ended_by") or "?"), style=style),
            Text("?" if code is None else str(code), style=style),
            str(r.get("n_findings") or 0),
            fmt_secs(float(r.get("elapsed_s") or 0)),
            r.get("question") or "",
        )
    return table


def runs_plain(rows: list[dict[str, Any]]) -> str:
    """Tab-separated runs for pipes: id, started, ended_by, exit, findings, seconds, question."""
    out = []
    for r in rows:
        out.append(
            "\t".join(
                [
                    r["id"],
                    fmt_when(r["started"]),
                    str(r.get("ended_by") or ""),
                    str(r.get("exit_code")),
                    str(r.get("n_findings") or 0),
                    f"{float(r.get('elapsed_s') or 0):.1f}",
                    (r.get("question") or "").replace("\t", " ").replace("\n", " "),
                ]
            )
        )
    return "\n".join(out)

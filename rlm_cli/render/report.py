"""The answer and the findings, on stdout: Markdown and a table on a terminal, plain text in a pipe."""

from __future__ import annotations

import orjson
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table
from rich.text import Text

from rlm_cli.render.safe import terminal_safe

SEVERITY_STYLE = {"critical": "bold red", "error": "red", "warning": "yellow", "info": "cyan"}


def evidence_refs(finding: dict, limit: int = 3) -> str:
    """``file:line`` references of a finding's evidence."""
    refs = [f"{e['source']}:{e['line']}" for e in finding.get("evidence", [])[:limit]]
    more = len(finding.get("evidence", [])) - limit
    if more > 0:
        refs.append(f"+{more} more")
    return ", ".join(refs) if refs else "(no line found)"


def findings_table(findings: list[dict]) -> Table:
    """A Rich table of findings, most severe first."""
    table = Table(
        title=f"Findings ({len(findings)})", title_justify="left", title_style="bold", expand=False
    )
    table.add_column("severity", no_wrap=True)
    table.add_column("entity", no_wrap=True, style="bold", max_width=24, overflow="ellipsis")
    table.add_column("summary", ratio=3)
    table.add_column("evidence", ratio=2, overflow="fold", style="cyan")
    for f in findings:
        sev = f["severity"]
        label = Text(sev.upper(), style=SEVERITY_STYLE.get(sev, ""))
        if not f.get("verified"):
            label.append("\nunverified", style="dim")
        table.add_row(
            label,
            Text(terminal_safe(str(f["entity"]))),
            Text(terminal_safe(str(f["summary"]))),
            terminal_safe(evidence_refs(f)),
        )
    return table


def plain_findings(findings: list[dict]) -> str:
    """One line per finding, for pipes and cron mail."""
    lines = []
    for f in findings:
        mark = "" if f.get("verified") else " [unverified]"
        refs = evidence_refs(f) if f.get("evidence") else "no line found"
        lines.append(f"{f['severity'].upper():8} {f['entity']}: {f['summary']}{mark} ({refs})")
    return "\n".join(lines)


def sort_findings(findings: list[dict]) -> list[dict]:
    """Most severe first, verified before unverified."""
    order = {"critical": 0, "error": 1, "warning": 2, "info": 3}
    return sorted(findings, key=lambda f: (order.get(f["severity"], 4), not f.get("verified")))


def print_answer(out: Console, answer: str, findings: list[dict]) -> None:
    """The answer (Markdown on a terminal), then the findings."""
    findings = sort_findings(findings)
    if out.is_terminal:
        out.print(Markdown(terminal_safe(answer) or "_(no answer)_"))
        if findings:
            out.print()
            out.print(findings_table(findings))
        return
    if (answer or "").strip():
        out.file.write(terminal_safe(answer).rstrip("\n") + "\n\n")
    if findings:
        out.file.write("Findings:\n" + terminal_safe(plain_findings(findings)) + "\n")
    out.file.flush()


def print_partial(out: Console, answer: str, findings: list[dict]) -> None:
    """What an interrupted run found so far (its findings; an answer if it had one)."""
    if out.is_terminal:
        out.print(Text("Interrupted: no final answer.", style="bold yellow"))
    else:
        out.file.write("Interrupted: no final answer.\n")
    if answer.strip() or findings:
        print_answer(out, answer or "_(no answer)_", findings)
    elif out.is_terminal:
        out.print(Text("No findings yet.", style="dim"))
    else:
        out.file.write("No findings yet.\n")
        out.file.flush()


def print_json(out: Console, obj: dict) -> None:
    """One JSON object on stdout."""
    out.file.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")
    out.file.flush()

"""The answer and the findings, on stdout: Markdown and a table on a terminal, plain text in a pipe."""

from __future__ import annotations

import orjson
from rich.console import Console
from rich.markdown import Markdown
from rich.table import Table

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
    table = Table(title="Findings", title_justify="left", expand=False)
    table.add_column("severity", no_wrap=True)
    table.add_column("entity", no_wrap=True)
    table.add_column("summary")
    table.add_column("evidence", overflow="fold")
    for f in findings:
        sev = f["severity"]
        mark = "" if f.get("verified") else " (unverified)"
        table.add_row(
            f"[{SEVERITY_STYLE.get(sev, '')}]{sev}[/]{mark}",
            f["entity"],
            f["summary"],
            evidence_refs(f),
        )
    return table


def plain_findings(findings: list[dict]) -> str:
    """One line per finding, for pipes and cron mail."""
    lines = []
    for f in findings:
        mark = "" if f.get("verified") else " [unverified]"
        lines.append(
            f"{f['severity'].upper():8} {f['entity']}: {f['summary']}{mark} ({evidence_refs(f)})"
        )
    return "\n".join(lines)


def sort_findings(findings: list[dict]) -> list[dict]:
    """Most severe first, verified before unverified."""
    order = {"critical": 0, "error": 1, "warning": 2, "info": 3}
    return sorted(findings, key=lambda f: (order.get(f["severity"], 4), not f.get("verified")))


def print_answer(out: Console, answer: str, findings: list[dict]) -> None:
    """The answer (Markdown on a terminal), then the findings."""
    findings = sort_findings(findings)
    if out.is_terminal:
        out.print(Markdown(answer or "_(no answer)_"))
        if findings:
            out.print()
            out.print(findings_table(findings))
        return
    out.file.write((answer or "").rstrip("\n") + "\n")
    if findings:
        out.file.write("\nFindings:\n" + plain_findings(findings) + "\n")
    out.file.flush()


def print_json(out: Console, obj: dict) -> None:
    """One JSON object on stdout."""
    out.file.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")
    out.file.flush()

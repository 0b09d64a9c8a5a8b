"""Ground findings in the log: every cited line must exist, and carries its text and source."""

from __future__ import annotations

from rlm_cli.logs.severity import FINDING_SEVERITIES as SEVERITIES
from rlm_cli.logs.severity import finding_severity as normalise_severity
from rlm_cli.store.context import Context


def severity_rank(value: str) -> int:
    """0 (info) .. 3 (critical)."""
    return SEVERITIES.index(normalise_severity(value))


def verify(raw: dict, context: Context, *, max_evidence: int = 20, max_chars: int = 400) -> dict:
    """A finding as reported: entity, severity, summary, evidence lines, verified."""
    evidence = []
    missing = []
    for n in raw.get("lines", [])[:max_evidence]:
        if isinstance(n, int) and 1 <= n <= context.line_count:
            source, line_in_source = context.source_of(n)
            text = context.line(n)
            evidence.append(
                {
                    "source": source,
                    "line": line_in_source,
                    "context_line": n,
                    "text": text if len(text) <= max_chars else text[:max_chars] + "…",
                }
            )
        else:
            missing.append(n)
    return {
        "entity": raw.get("entity", ""),
        "severity": normalise_severity(raw.get("severity", "")),
        "summary": raw.get("summary", ""),
        "evidence": evidence,
        "missing_lines": missing,
        "verified": bool(evidence),
        "turn": raw.get("turn"),
        "source": raw.get("source", "model"),
    }

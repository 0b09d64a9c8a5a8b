"""Ground findings in the log: every cited line must exist, and carries its text and source."""

from __future__ import annotations

from rlm_cli.store.context import Context

SEVERITIES = ("info", "warning", "error", "critical")
_ALIASES = {
    "warn": "warning",
    "err": "error",
    "crit": "critical",
    "fatal": "critical",
    "high": "critical",
    "medium": "warning",
    "low": "info",
    "notice": "info",
}


def normalise_severity(value: str) -> str:
    """Map a model's severity word onto info / warning / error / critical."""
    v = str(value).strip().lower()
    v = _ALIASES.get(v, v)
    return v if v in SEVERITIES else "warning"


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
    }

"""Findings from the final answer: the entities it names that the log map saw in trouble.

Small models rarely call ``FINDING(...)``: asked which node will fail, the 1.5B model
answered "node09" from a per-host count and recorded nothing, so a cron run exited 0 on a
node with uncorrectable ECC errors. When the answer names an entity (host, DIMM, PSU,
device...) whose lines the log map graded warning or worse, and the model recorded no
finding for it, the run records one: that entity, the worst severity of its lines, the
answer as the summary and its first severe lines as evidence (checked against the log like
any finding). ``source: "answer"`` tells them apart from the model's own.
"""

from __future__ import annotations

import re

from rlm_cli.logs.logmap import LogMap, entity_pattern
from rlm_cli.logs.severity import finding_severity, worst_level

MIN_SEVERITY = ("warning", "error", "critical")
"""Finding levels an entity's lines must reach for the answer to make it a finding."""


MAX_ENTITIES = 3
"""An answer that names more entities than this is a list, not a verdict: the first three
(most concerning first) are recorded."""


def answer_findings(
    answer: str, logmap: LogMap | None, recorded: list[dict], *, max_lines: int = 5
) -> list[dict]:
    """Raw findings (as ``FINDING`` records them) for the troubled entities ``answer`` names
    and ``recorded`` does not already cover, most concerning first (at most
    :data:`MAX_ENTITIES`). The loop asks only for a run that ended by its own FINAL: a
    forced answer is a best guess."""
    if logmap is None or not answer.strip():
        return []
    covered = " ".join(str(f.get("entity", "")) for f in recorded)
    found: list[dict] = []
    cited: set[int] = set()
    for e in logmap.entities:
        if len(found) >= MAX_ENTITIES:
            break
        names = e["names"] or [e["key"]]
        rx = re.compile(entity_pattern(names), re.IGNORECASE)
        lines = list(e["severe_lines"][:max_lines])
        if not rx.search(answer) or rx.search(covered) or not lines:
            continue
        if cited.issuperset(lines):  # a DIMM on the node just found: the same lines again
            continue
        worst = finding_severity(worst_level(e["severities"]))
        if worst not in MIN_SEVERITY:
            continue
        found.append(
            {
                "entity": names[0],
                "severity": worst,
                "summary": _summary(answer, rx) or f"named in the answer; its lines reach {worst}",
                "lines": lines,
                "source": "answer",
            }
        )
        cited.update(lines)
    return found


def _summary(answer: str, named: re.Pattern[str]) -> str:
    """The answer's first line, without a leading ``node09:`` (the finding names it); ""
    when the answer is the name alone."""
    line = answer.strip().splitlines()[0]
    m = named.match(line)
    if m:
        line = line[m.end() :].lstrip(" :,-–—.")
    return line if len(line) <= 200 else line[:199] + "…"

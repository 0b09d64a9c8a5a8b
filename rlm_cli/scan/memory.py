"""What the model is told of earlier runs: the last summary and the open findings.

It goes into the question text (the first user message), clearly labelled, so it does not
depend on how the engine builds its system prompt. The REPL sees only the new lines.
"""

from __future__ import annotations

import time

MAX_FINDINGS = 20
MAX_ANSWER_CHARS = 1500


def _ts(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(t))


def scan_prompt(question: str, memory: dict, open_findings: list[dict], scanned: list[dict]) -> str:
    """The question for this run, with the memory of the last one and what is new."""
    files = [s for s in scanned if s["new_bytes"]]
    listed = ", ".join(f"{s['path']} (+{s['new_lines']} lines, {s['how']})" for s in files[:12])
    if len(files) > 12:
        listed += f", and {len(files) - 12} more"
    parts = [
        question.strip(),
        "",
        "[Scan] `context` holds only the lines written since the last scan: " + listed + ".",
    ]
    if memory.get("run_id"):
        answer = (memory.get("answer") or "").strip()
        if len(answer) > MAX_ANSWER_CHARS:
            answer = (
                answer[:MAX_ANSWER_CHARS] + f"… [{len(answer) - MAX_ANSWER_CHARS} more chars cut]"
            )
        parts += [
            "",
            f"[Memory: previous scan {memory['run_id']} at {_ts(memory.get('time', 0))}; "
            "its lines are NOT in `context`]",
            "Previous summary: " + (answer or "(none)"),
        ]
        if open_findings:
            parts.append(
                "Open findings from earlier scans (report one again only if the new lines show it again):"
            )
            for f in open_findings[:MAX_FINDINGS]:
                parts.append(
                    f"- [{f['id']}] {f['severity']} {f['entity']}: {f['summary']} "
                    f"(seen in {f['count']} scan(s), last {_ts(f['last_seen'])})"
                )
            if len(open_findings) > MAX_FINDINGS:
                parts.append(f"- … and {len(open_findings) - MAX_FINDINGS} more")
        else:
            parts.append("Open findings from earlier scans: none.")
        parts.append("[End of memory]")
    return "\n".join(parts)

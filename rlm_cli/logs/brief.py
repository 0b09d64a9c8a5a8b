"""The brief: what the root model is given in its first turn, and what `rlm brief` prints.

Size, sources, time span, severity counts, top and rare templates, and the entities
that most deserve a look, each with line references. The text form is cut to a token
budget, most important sections first, and says what it left out.
"""

from __future__ import annotations

from collections.abc import Callable

from rlm_cli.logs.logmap import LogMap
from rlm_cli.logs.queries import MapQueries, iso
from rlm_cli.logs.severity import Severity
from rlm_cli.store.context import Context

ENTITY_KINDS_FIRST = ("host",)


def make_brief(
    context: Context, logmap: LogMap, *, top: int = 10, rare: int = 8, entities: int = 10
) -> dict:
    """The brief as data (the ``--json`` of `rlm brief`)."""
    q = MapQueries(context, logmap)
    span = logmap.summary["time_span"]
    ents = []
    for e in logmap.entities:
        if e["score"] <= 0:
            break
        ents.append(
            {
                "name": e["names"][0] if e["names"] else e["key"],
                "kind": e["kind"],
                "score": e["score"],
                "lines": e["count"],
                "severities": e["severities"],
                "first_line": e["first_line"],
                "last_line": e["last_line"],
                "severe_lines": e["severe_lines"][:8],
                "top_templates": _worst_templates(logmap, e["templates"]),
            }
        )
        if len(ents) >= entities:
            break
    return {
        "context_id": context.id,
        "size": {"lines": context.line_count, "bytes": context.size_bytes, "chars": len(context)},
        "sources": [
            {
                "path": s["path"],
                "lines": s["lines"],
                "first_line": s["first_line"],
                "last_line": s["last_line"],
            }
            for s in context.sources()
        ],
        "time_span": {
            "first": iso(span[0]),
            "last": iso(span[1]),
            "lines_with_time": logmap.summary["lines_with_time"],
        },
        "severity_counts": logmap.summary["severity_counts"],
        "templates": len(logmap.mining.templates),
        "top_templates": list(q.templates(top=top)),
        "rare_templates": list(q.rare(top=rare)),
        "entities": ents,
    }


def _rank(name: str | None) -> int:
    """Position of a severity name on the one scale (0 when missing)."""
    return int(Severity[name.upper()]) if name else 0


def _worst_templates(logmap: LogMap, counts: dict[str, int], n: int = 3) -> list[dict]:
    """An entity's most severe templates, then its most frequent."""
    infos = logmap.summary["templates"]
    ranked = sorted(
        counts.items(), key=lambda kv: (-_rank(infos.get(kv[0], {}).get("severity")), -kv[1])
    )
    return [
        {
            "id": int(tid),
            "count": c,
            "severity": infos.get(tid, {}).get("severity"),
            "pattern": logmap.template(int(tid)).pattern,
        }
        for tid, c in ranked[:n]
    ]


def render_brief(
    brief: dict, *, max_tokens: int | None = None, count_tokens: Callable[[str], int] | None = None
) -> str:
    """The brief as text for the root prompt, cut to ``max_tokens`` with a note when cut.

    A template's pattern is written once, where it first appears; later mentions (another
    entity's lines, the rare and frequent lists) give its id and count with ``(above)``:
    on a BMC log the entities shared their fatal templates and wrote each of them two or
    three times over."""
    count = count_tokens or (lambda s: len(s) // 4 + 1)
    sev = brief["severity_counts"]
    order = [s.name.lower() for s in sorted(Severity, reverse=True)]
    sev_line = ", ".join(f"{k} {sev[k]:,}" for k in order if sev.get(k))
    span = brief["time_span"]
    shown: set[int] = set()

    def pattern(t: dict, width: int) -> str:
        return " (above)" if t["id"] in shown else f": {t['pattern'][:width]}"

    def entity(e: dict) -> str:
        return (
            f"- {e['name']} ({e['kind']}, score {e['score']:g}): {e['lines']} lines; "
            + ", ".join(
                f"{k} {v}"
                for k, v in e["severities"].items()
                if k in ("fatal", "critical", "error", "warning")
            )
            + f"; severe lines {e['severe_lines'][:5]}"
            + "".join(
                f"\n    - [{t['id']}] x{t['count']} {t['severity']}{pattern(t, 100)}"
                for t in e["top_templates"]
            )
        )

    def rare(t: dict) -> str:
        return (
            f"- [{t['id']}] x{t['count']} {t['severity']} line {t['first_line']}{pattern(t, 110)}"
        )

    def frequent(t: dict) -> str:
        return f"- [{t['id']}] x{t['count']} {t['severity']}{' rising' if t['rising'] else ''}{pattern(t, 110)}"

    def items():
        """(text, templates it writes), rendered one by one as the cut below asks for them,
        so each sees the patterns the lines kept before it have written; a section's title
        comes with None."""
        yield "## Log map (computed before you start; line numbers are context lines)", []
        yield (
            f"- {brief['size']['lines']:,} lines from {len(brief['sources'])} source(s); "
            f"time {span['first'] or '?'} to {span['last'] or '?'} "
            f"({span['lines_with_time']:,} lines timed)",
            [],
        )
        yield f"- severity: {sev_line}", []
        yield f"- {brief['templates']} templates (kinds of lines)", []
        yield "### Entities that most deserve a look (score: severe, specific to it, rising)", None
        for e in brief["entities"]:
            yield entity(e), e["top_templates"]
        yield "### Rare templates (id, count, severity, first line: pattern)", None
        for t in brief["rare_templates"]:
            yield rare(t), [t]
        yield "### Most frequent templates (id, count, severity: pattern)", None
        for t in brief["top_templates"]:
            yield frequent(t), [t]

    out: list[str] = []
    used = 0
    dropped = 0
    header = ""  # a section's title, written only above a line of it that is kept
    for line, templates in items():
        if templates is None:  # a section's title
            header = line
            continue
        cost = count(line) + 1 + (count(header) + 1 if header else 0)
        if max_tokens is not None and used + cost > max_tokens - 40:
            dropped += 1
            continue
        out.extend([header, line] if header else [line])
        header = ""
        used += cost
        shown.update(t["id"] for t in templates)
    if dropped:
        out.append(
            f"[brief cut to fit {max_tokens} tokens: {dropped} line(s) left out; "
            "use context.templates(), context.entities(), context.rare()]"
        )
    return "\n".join(out)

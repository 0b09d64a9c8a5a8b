"""The log-map functions the model calls on ``context``: templates, entities, timelines.

Results are lists that print as compact tables, so ``print(context.templates())``
is readable in a small window.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from typing import Any

from rlm_cli.logs.headers import HeaderModel
from rlm_cli.logs.logmap import (
    HEADER_SAMPLE,
    LogMap,
    entity_pattern,
    learn_header,
    scan_line_parts,
)
from rlm_cli.logs.related import related_templates
from rlm_cli.logs.severity import Severity, worst_level
from rlm_cli.store.context import Context, Hits
from rlm_cli.store.layout import TIME_DIR
from rlm_cli.store.timeindex import TimeIndex

_BUCKET = re.compile(r"^\s*(\d+)\s*(s|sec|m|min|h|hour|d|day)s?\s*$", re.I)
_UNIT = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


class Row(dict):
    """A table row: a dict by column name that also takes a column's position, as
    ``sqlite3.Row`` does (``top(...)[0][0]`` is the first row's name; the 1.5B model wrote
    that and got ``KeyError: 0``)."""

    def __getitem__(self, key):
        if isinstance(key, int) and not isinstance(key, bool) and key not in self:
            try:
                return list(self.values())[key]
            except IndexError:
                raise IndexError(
                    f"row has {len(self)} columns ({', '.join(self)}); position {key} is past them"
                ) from None
        return super().__getitem__(key)


class Rows(list):
    """A list of dicts (:class:`Row`) that prints as an aligned table."""

    def __init__(self, rows=(), columns: tuple[str, ...] = (), note: str = "") -> None:
        super().__init__(
            r if isinstance(r, Row) or not isinstance(r, dict) else Row(r) for r in rows
        )
        self.columns = columns or (tuple(self[0]) if self else ())
        self.note = note
        """A line printed under the table: what it says, in words (small models copy the
        last sentence they read more faithfully than they read a table)."""

    def __str__(self) -> str:
        if not self:
            return "(none)"
        table = self._table()
        return f"{table}\n{self.note}" if self.note else table

    def _table(self) -> str:
        cols = self.columns
        cells = [[_cell(r.get(c)) for c in cols] for r in self]
        widths = [min(60, max(len(c), *(len(row[i]) for row in cells))) for i, c in enumerate(cols)]
        out = ["  ".join(c.ljust(w) for c, w in zip(cols, widths))]
        out += [
            "  ".join(
                v[:w].ljust(w) if i < len(cols) - 1 else v
                for i, (v, w) in enumerate(zip(row, widths))
            )
            for row in cells
        ]
        return "\n".join(line.rstrip() for line in out)

    __repr__ = __str__

    def items(self) -> list[tuple[Any, dict]]:
        """``(first column's value, row)`` pairs: a small model takes a table of templates
        for a dict keyed by id (the 1.5B model wrote ``for tid, t in
        context.templates().items()`` and got AttributeError)."""
        key = self.columns[0] if self.columns else None
        return [(row.get(key), row) for row in self]

    def __getitem__(self, key):
        got = super().__getitem__(key)
        return Rows(got, self.columns, self.note) if isinstance(key, slice) else got


def _cell(v) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v[:5]) + ("…" if len(v) > 5 else "")
    return "" if v is None else str(v)


def iso(t: float | None) -> str | None:
    """UTC time as ``YYYY-MM-DD HH:MM:SS``."""
    return None if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(t))


def parse_bucket(bucket: str | int | float) -> float:
    """``"15m"``, ``"1h"``, ``"1d"`` or seconds → seconds."""
    if isinstance(bucket, (int, float)):
        if bucket <= 0:
            raise ValueError("bucket must be positive")
        return float(bucket)
    m = _BUCKET.match(str(bucket))
    if not m:
        raise ValueError(f"bucket {bucket!r}: use e.g. '15m', '1h', '1d' or seconds")
    return int(m.group(1)) * _UNIT[m.group(2).lower()]


class MapQueries:
    """The log map's read API over one context (the map must already be built)."""

    def __init__(self, context: Context, logmap: LogMap, times: TimeIndex | None = None) -> None:
        self._ctx = context
        self._map = logmap
        self._times = times if times is not None else TimeIndex.load(context.path / TIME_DIR)

    def templates(self, top: int = 20, severity: str | None = None) -> Rows:
        """The most frequent templates (id, count, severity, first/last time, pattern);
        with ``severity``, only those of that level or worse (``"error"``: error, critical,
        fatal), as ``journalctl -p`` takes a level."""
        floor = Severity.parse(severity) if severity else None
        rows = []
        for t in sorted(self._map.mining.templates, key=lambda t: -t.count):
            info = self._map.template_info(t)
            if floor is not None and Severity.parse(info["severity"]) < floor:
                continue
            rows.append(self._template_row(info))
            if len(rows) >= top:
                break
        return Rows(
            rows, ("id", "count", "severity", "rising", "first_time", "last_time", "pattern")
        )

    def related_lines(self, text: str, n: int = 3) -> Hits:
        """The first line of each of the ``n`` templates closest to ``text`` in words
        (:func:`rlm_cli.logs.related.related_templates`)."""
        found = related_templates(text, self._map.mining.templates, n)
        return Hits((t.first_line, self._ctx.line(t.first_line)) for t in found)

    def rare(self, top: int = 20) -> Rows:
        """The rarest templates, most severe first among equals."""
        order = {"fatal": 0, "critical": 1, "error": 2, "warning": 3}
        infos = [self._map.template_info(t) for t in self._map.mining.templates]
        infos.sort(key=lambda i: (i["count"], order.get(i["severity"], 9)))
        return Rows(
            [self._template_row(i) for i in infos[:top]],
            ("id", "count", "severity", "first_line", "pattern"),
        )

    def _template_row(self, info: dict) -> dict:
        return {
            "id": info["id"],
            "count": info["count"],
            "severity": info["severity"],
            "rising": "yes" if info["rising"] else "",
            "first_time": iso(info["first_time"]),
            "last_time": iso(info["last_time"]),
            "first_line": info["first_line"],
            "pattern": info["pattern"],
        }

    def lines_of(self, template_id: int, max: int = 200) -> Hits:  # noqa: A002 - the model's word
        """``(line number, line)`` of the lines of one template (at most ``max``)."""
        numbers = self._map.lines_of(template_id)
        shown = numbers if max is None else numbers[:max]
        if max is not None and len(numbers) > max:
            print(f"[lines_of({template_id}): {len(numbers)} lines; showing the first {max}]")
        return Hits((n, self._ctx.line(n)) for n in shown)

    def entities(self, kind: str | None = None, top: int = 30) -> Rows:
        """Entities (hosts, DIMMs, fans, PSUs, devices…), most concerning first."""
        rows = []
        for e in self._map.entities:
            if kind and e["kind"] != kind:
                continue
            sev = e["severities"]
            rows.append(
                {
                    "name": e["names"][0] if e["names"] else e["key"],
                    "kind": e["kind"],
                    "score": e["score"],
                    "lines": e["count"],
                    "severe": sum(
                        v for k, v in sev.items() if k in ("warning", "error", "critical", "fatal")
                    ),
                    "worst": worst_level(sev),
                    "first_severe_lines": e["severe_lines"][:5],
                }
            )
            if len(rows) >= top:
                break
        note = ""
        if rows and rows[0]["score"] > 0:
            r = rows[0]
            note = (
                f"(most concerning: {r['name']}, {r['severe']:,} severe of its {r['lines']:,} "
                f"lines, worst {r['worst']}"
                + (f"; next: {rows[1]['name']}" if len(rows) > 1 and rows[1]["score"] > 0 else "")
                + ")"
            )
        return Rows(
            rows, ("name", "kind", "score", "lines", "severe", "worst", "first_severe_lines"), note
        )

    def by_entity(self, name: str, max: int = 200) -> Hits:  # noqa: A002
        """Lines that mention an entity (any of its spellings), as ``(line number, line)``."""
        key = name.lower()
        names = [name]
        for e in self._map.entities:
            if e["key"].lower() == key or any(n.lower() == key for n in e["names"]):
                names = e["names"] or [name]
                break
        return self._ctx.grep(entity_pattern(names), max=max)

    TOP_MAX_LINES = 300_000
    """Most matching lines :meth:`top` reads (it says so when there are more)."""

    def top(self, pattern: str, by: str = "host", n: int = 10, ignore_case: bool = False) -> Rows:
        """The entities of kind ``by`` (host, dimm, psu, fan, device, ip, ...) named on the
        most lines matching ``pattern`` (a regex or a log-map template), with the first and
        last such line: "which host has the most X" in one call, the host read the way the
        log map reads it (line prefix, syslog field, ``host=``, JSON key). When the lines
        name no ``by`` at all, it ranks the kind they name most instead (Blue Gene nodes
        are ``rack`` positions), saying so."""
        header = self._header()
        caches: tuple[dict, dict] = ({}, {})
        counts: dict[str, Counter] = {}
        first: dict[tuple[str, str], int] = {}
        last: dict[tuple[str, str], int] = {}
        lines_with: Counter = Counter()  # lines naming each kind
        writers: set[str] = set()  # names in the lines' headers: the machines that wrote them
        total = 0
        for number, raw in self._ctx.search(pattern, ignore_case=ignore_case):
            if total >= self.TOP_MAX_LINES:
                print(f"[top: stopped after {total:,} matching lines; narrow the pattern]")
                break
            total += 1
            _, head, ents, body = scan_line_parts(raw.decode("utf-8", "replace"), header, caches)
            writers.update(e.name for e in head)
            pairs = {(e.kind, e.name) for e in head + ents}
            if by == "host":  # an address where the body names the machine at the other end
                pairs |= {("host", e.name) for e in ents if _in_host_role(e, body)}
            lines_with.update({kind for kind, _ in pairs})
            for kind, name in pairs:
                counts.setdefault(kind, Counter())[name] += 1
                first.setdefault((kind, name), number)
                last[kind, name] = number
        asked = by
        if by not in counts and lines_with:
            by = max(lines_with, key=lambda k: lines_with[k])
        ranked = (counts.get(by) or Counter()).most_common()
        unnamed = total - lines_with[by]
        note = f"[top: {total:,} lines match; {len(ranked):,} {by} names among them"
        if by != asked:
            note += f" (they name no {asked}: ranked by {by}, the kind they name most)"
        print(note + (f"; {unnamed:,} lines name no {by}" if unnamed > 0 else "") + "]")
        # the machine whose header is on every matching line (a syslog's own host)
        writer = next((k for k, c in ranked if c == total and k in writers), None)
        shown = ranked[:n]
        if writer is not None and len(ranked) > 1:
            # last, not first: top(...)[0] is then the one the question is about (the 1.5B
            # model took top(...)[0][0] unprinted, and answered the syslog's own host)
            others = [(k, c) for k, c in ranked if k != writer]
            shown = others[: max(1, n - 1)] + [(writer, total)]
        rows = [
            {"name": k, "lines": c, "first_line": first[by, k], "last_line": last[by, k]}
            for k, c in shown
        ]
        leader = _leader(ranked, total, writer)
        leader += _address_hint(by, counts, ranked, writer, writers)
        return Rows(rows, ("name", "lines", "first_line", "last_line"), leader)

    def _header(self) -> HeaderModel:
        if getattr(self, "_header_model", None) is None:
            head = self._ctx.lines(1, min(self._ctx.line_count, HEADER_SAMPLE))
            try:
                self._header_model = learn_header(head)
            except (OSError, RuntimeError):  # the sandboxed worker sees no config dir
                self._header_model = learn_header(head, user=False)
        return self._header_model

    def timeline(self, what: int | str, bucket: str | int = "1h") -> Rows:
        """Counts per time bucket of a template id or a regex: rates over time."""
        if self._times is None:
            raise ValueError("this log has no timestamps the time index could read")
        step = parse_bucket(bucket)
        if isinstance(what, int):
            lines = self._map.lines_of(what)
        else:
            lines = [n for n, _ in self._ctx.search(str(what))]
        counts: Counter = Counter()
        untimed = 0
        for n in lines:
            t = self._times.time_of(n)
            if t is None:
                untimed += 1
            else:
                counts[int(t // step) * step] += 1
        rows = [{"from": iso(b), "count": c} for b, c in sorted(counts.items())]
        if untimed:
            print(f"[timeline: {untimed} matching lines have no timestamp and are not counted]")
        return Rows(rows, ("from", "count"))


_HOST_ROLE = re.compile(r"(?:host[=:]\s*|\bfrom\s+)$", re.IGNORECASE)
"""Text just before an address that makes it a host's: ``rhost=``, ``host:``, ``from``."""


def _in_host_role(entity, body: str) -> bool:
    """An IP address written where a line names the machine at the other end
    (``rhost=1.2.3.4``, ``from 1.2.3.4``): ``top(by="host")`` ranks it with the host names.
    Addresses elsewhere (a DHCP lease, a route) stay ``ip`` only."""
    start = entity.start
    return entity.kind == "ip" and _HOST_ROLE.search(body, max(0, start - 12), start) is not None


_ADDRESS_KINDS = {"host": "ip", "ip": "host"}
"""A machine is named by a host name or an IP address: ``top`` by one points to the other."""


def _address_hint(
    by: str, counts: dict[str, Counter], ranked: list, writer: str | None, writers: set[str]
) -> str:
    """Under a ranking by host or ip, a line pointing to the other kind's most-named name
    that is neither ranked already nor a line's writer; it says when that one is ahead."""
    other = _ADDRESS_KINDS.get(by)
    if other is None:
        return ""
    also = [
        (k, c)
        for k, c in counts.get(other, Counter()).most_common()
        if k not in writers and k not in counts.get(by, ())
    ]
    if not also:
        return ""
    name, c = also[0]
    mine = next((n for k, n in ranked if k != writer), 0)  # this kind's own leader
    ahead = ""
    if c > mine:
        ahead = f", more than any {by} name" + (" on only some of them" if writer else "")
    what = ("ip address", "es") if other == "ip" else ("host name", "s")
    return (
        f"\n(these lines also name {len(also):,} other {what[0]}{what[1] * (len(also) > 1)}"
        f"; most: {name} on {c:,} line{'s' * (c != 1)}{ahead}: top(..., by={other!r}))"
    )


def _leader(ranked: list[tuple[str, int]], total: int, writer: str | None = None) -> str:
    """``most: cn137 with 40 of the 146 matching lines; next: cn126 with 28`` (ties named).
    ``writer``, the machine in the header of every matching line (a syslog's own host), is
    named as such, and the most among the others after it."""
    if not ranked:
        return ""
    if writer is not None:
        every = f"({writer} is on every one of the {total:,} matching lines"
        rest = _leader([r for r in ranked if r[0] != writer], total).removeprefix("(")
        return (
            f"{every}; {rest.replace('most:', 'most among the others:', 1)}"
            if rest
            else every + ")"
        )
    best = ranked[0][1]
    tied = [name for name, c in ranked if c == best]
    if len(tied) > 1:
        names = ", ".join(tied[:5]) + (f" and {len(tied) - 5} more" if len(tied) > 5 else "")
        return f"(tied for most: {names} with {best:,} of the {total:,} matching lines each)"
    text = f"(most: {ranked[0][0]} with {best:,} of the {total:,} matching lines"
    if len(ranked) > 1:
        text += f"; next: {ranked[1][0]} with {ranked[1][1]:,}"
    return text + ")"

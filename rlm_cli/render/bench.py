"""How a bench looks: the per-run table, the summaries, the list of saved benches, and the
progress bar on stderr while it runs."""

from __future__ import annotations

import os
import time
from typing import Any

from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from rlm_cli.engine.events import RunObserver
from rlm_cli.render.safe import terminal_safe


def _pct(cell: dict | None) -> str:
    if not cell or cell.get("accuracy") is None:
        return "-"
    return f"{100 * cell['accuracy']:.0f}% ({cell['correct']}/{cell['n']})"


def _secs(cell: dict | None) -> str:
    if not cell or cell.get("median_wall_s") is None:
        return "-"
    return f"{cell['median_wall_s']:.1f}"


def _num(v: float | None) -> str:
    return "-" if v is None else f"{v:.1f}"


def _delta(v: float | None) -> str:
    return "-" if v is None else f"{v:+.0f}"


def results_table(results: list[dict[str, Any]], width: int = 160) -> Table:
    """One row per task run: task, family, size, mode, correct, wall s, turns, tokens, ...

    Every column but the answer keeps its full width; the answer takes what is left of
    ``width`` (and is left out when fewer than 10 columns are left)."""
    heads = (
        ("task", "left"),
        ("mode", "left"),
        ("ok", "left"),
        ("family", "left"),
        ("size", "right"),
        ("wall s", "right"),
        ("turns", "right"),
        ("tok eval", "right"),
        ("subs", "right"),
        ("ended_by", "left"),
        ("left out", "right"),
    )
    rows = []
    for r in results:
        left = f"{r['lines_left_out']:,}/{r['lines_total']:,}" if r["mode"] == "direct" else ""
        rows.append(
            [
                r["task"] + (f" #{r['repeat'] + 1}" if r.get("repeat") else ""),
                r["mode"],
                "yes" if r["correct"] else "no",
                r["family"],
                r["size"],
                f"{r['wall_s']:.1f}",
                str(r["turns"]),
                f"{r['prompt_tokens_evaluated']:,}",
                str(r["sub_calls"]),
                r["ended_by"],
                left,
            ]
        )
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), title="runs")
    widths = [max([len(name)] + [len(row[i]) for row in rows]) for i, (name, _) in enumerate(heads)]
    room = width - sum(w + 2 for w in widths)
    for (name, just), w in zip(heads, widths):
        # Too narrow for every column: let Rich shorten them (with …) rather than drop some.
        keep = room >= 0 or name == "ok"
        t.add_column(name, justify=just, no_wrap=True, min_width=w if keep else None)  # type: ignore[arg-type]
    answers = room >= 16
    if answers:
        t.add_column("answer", overflow="ellipsis", no_wrap=True, min_width=10, max_width=room - 2)
    for r, row in zip(results, rows):
        ok = Text(row[2], style="green" if r["correct"] else "red")
        answer = " ".join((r.get("error") or r["answer"] or "").split())
        t.add_row(*row[:2], ok, *row[3:], *([Text(terminal_safe(answer))] if answers else []))
    return t


def _group_table(title: str, label: str, groups: dict, deltas: dict, modes: list[str]) -> Table:
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), title=title)
    t.add_column(label, no_wrap=True)
    for m in modes:
        t.add_column(f"{m} correct", justify="right", no_wrap=True)
        t.add_column(f"{m} med s", justify="right", no_wrap=True)
    if len(modes) > 1 and "rlm" in modes and "direct" in modes:
        t.add_column("rlm-direct pts", justify="right", no_wrap=True)
    for key, cells in groups.items():
        row = [key]
        for m in modes:
            row += [_pct(cells.get(m)), _secs(cells.get(m))]
        if len(row) < len(t.columns):
            row.append(_delta(deltas.get(key)))
        t.add_row(*row)
    return t


def widen(out: Console) -> None:
    """In a file or a pipe (no COLUMNS set), draw tables 160 columns wide, not 80."""
    if not out.is_terminal and "COLUMNS" not in os.environ:
        out.width = max(out.width, 160)


def print_bench(out: Console, doc: dict[str, Any]) -> None:
    """The whole bench result: runs, summary per family and per size, overall line."""
    modes = doc["modes"]
    s = doc["summary"]
    widen(out)
    out.print(results_table(doc["results"], out.width))
    out.print(
        _group_table("by family", "family", s["by_family"], s["delta_points"]["by_family"], modes)
    )
    out.print(
        _group_table("by log size", "size", s["by_size"], s["delta_points"]["by_size"], modes)
    )
    parts = [
        f"{m}: {_pct(s['overall'].get(m))}, median {_secs(s['overall'].get(m))} s" for m in modes
    ]
    if s["delta_points"]["overall"] is not None:
        parts.append(f"rlm-direct {_delta(s['delta_points']['overall'])} pts")
    over = s.get("over_window") or {}
    if any(c.get("n") for c in over.values()):
        parts.append(
            "over the window: "
            + ", ".join(f"{m} {_pct(over.get(m))}" for m in modes if over.get(m, {}).get("n"))
        )
    rt = s["root_turns"]
    if rt["total"]:
        parts.append(
            f"root turns that ran code or ended: {rt['ran_code_or_ended']}/{rt['total']}, "
            f"cut at max tokens: {rt['cut_at_max_tokens']}"
        )
    for m, ft in (s.get("first_token") or {}).items():
        seen = ft.get("log_seen_median_s")
        parts.append(
            f"{m} time to first root token, median: {_num(ft.get('new_log_median_s'))} s on a new log"
            + (
                f", {_num(seen)} s on a log asked about before (repeats)"
                if seen is not None
                else ""
            )
        )
    out.print(
        f"bench {doc['id']} · {doc['suite']['name']} · {doc['models']['root']}",
        markup=False,
        highlight=False,
    )
    for p in parts:
        out.print("  " + p, markup=False, highlight=False)


def benches_table(docs: list[dict[str, Any]]) -> Table:
    """Saved bench results, newest first."""
    t = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1))
    for name, width in (("id", 20), ("UTC", 11), ("suite", 7), ("model", 10), ("modes", 10)):
        t.add_column(name, no_wrap=True, min_width=width)
    for name in ("runs", "rlm", "direct"):
        t.add_column(name, no_wrap=True, min_width=len(name), justify="right")
    for d in docs:
        s = d.get("summary", {}).get("overall", {})
        t.add_row(
            d["id"],
            time.strftime("%m-%d %H:%M", time.gmtime(d.get("started", 0))),
            d.get("suite", {}).get("name", "?"),
            str(d.get("models", {}).get("root", "?")).rsplit("/", 1)[-1],
            ",".join(d.get("modes", [])),
            str(len(d.get("results", []))),
            _pct(s.get("rlm")),
            _pct(s.get("direct")),
        )
    return t


class BenchProgress(RunObserver):
    """A progress bar on stderr (terminal only): runs done of all, the current task and turn."""

    def __init__(self, console: Console, total: int) -> None:
        self.progress = Progress(
            TextColumn("[bold]bench[/]"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=True,
        )
        self.bar = self.progress.add_task("", total=total)
        self.current = ""

    def __enter__(self) -> BenchProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def starting(self, label: str) -> None:
        """A run begins."""
        self.current = label
        self.progress.update(self.bar, description=label)

    def finished(self, correct: bool) -> None:
        """A run ended."""
        self.progress.advance(self.bar)

    def turn_started(self, turn: int, depth: int = 0) -> None:
        if depth == 0:
            self.progress.update(self.bar, description=f"{self.current} · turn {turn}")

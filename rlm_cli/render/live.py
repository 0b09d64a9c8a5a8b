"""The live recursion tree on stderr (terminal only).

Finished turns fold to one line; the current turn shows its reasoning, its code
(syntax highlighted, folded when long), what it printed, and its sub-calls with
spinners while they run. Large sub-call fans fold into a count. A footer shows the
budget left and the elapsed time. Events come from any thread; drawing happens on
Rich's refresh thread, under one lock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.syntax import Syntax
from rich.text import Text
from rich.tree import Tree

from rlm_cli.engine.events import RunObserver

CODE_LINES = 8
OUTPUT_LINES = 6
SUBCALLS_SHOWN = 6


@dataclass
class _Sub:
    kind: str
    preview: str
    depth: int
    started: float = field(default_factory=time.monotonic)
    done: bool = False
    ok: bool = True
    answer: str = ""
    usage: dict = field(default_factory=dict)
    elapsed: float = 0.0


@dataclass
class _Turn:
    index: int
    depth: int = 0
    started: float = field(default_factory=time.monotonic)
    reasoning: str = ""
    code: list[str] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    subs: dict[int, _Sub] = field(default_factory=dict)
    usage: dict = field(default_factory=dict)
    streamed: int = 0
    finished: float | None = None


def _first_line(text: str, width: int = 70) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


class LiveView(RunObserver):
    """A Rich Live tree of the run; use as a context manager around the run."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()
        self.info: dict[str, Any] = {}
        self.turns: list[_Turn] = []
        self.notes: list[str] = []
        self.started = time.monotonic()
        self.subcalls_done = 0
        self.tokens = 0
        self._live = Live(
            self,
            console=console,
            refresh_per_second=8,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
        )

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self._live.__exit__(*exc)

    # -- events ------------------------------------------------------------------------------

    def run_started(self, info: dict[str, Any]) -> None:
        with self._lock:
            self.info = info
            self.started = time.monotonic()

    def turn_started(self, turn: int, depth: int = 0) -> None:
        with self._lock:
            if self.turns and self.turns[-1].finished is None:
                self.turns[-1].finished = time.monotonic()
            self.turns.append(_Turn(turn, depth))

    def root_text(self, turn: int, piece: str, depth: int = 0) -> None:
        with self._lock:
            if self.turns:
                self.turns[-1].streamed += len(piece)

    def root_reply(
        self, turn: int, reasoning: str, code: list[str], usage: dict, depth: int = 0
    ) -> None:
        with self._lock:
            t = self.turns[-1]
            t.reasoning, t.code, t.usage = reasoning, code, usage
            self.tokens += usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)

    def step_finished(self, turn: int, index: int, result: dict, depth: int = 0) -> None:
        with self._lock:
            self.turns[-1].outputs.append(result)

    def subcall_started(
        self, call_id: int, turn: int, kind: str, preview: str, depth: int = 0
    ) -> None:
        with self._lock:
            if self.turns:
                self.turns[-1].subs[call_id] = _Sub(kind, preview, depth)

    def subcall_finished(
        self, call_id: int, ok: bool, usage: dict, preview: str, depth: int = 0
    ) -> None:
        with self._lock:
            for t in reversed(self.turns):
                sub = t.subs.get(call_id)
                if sub is not None and not sub.done:
                    sub.done, sub.ok, sub.answer, sub.usage = True, ok, preview, usage
                    sub.elapsed = time.monotonic() - sub.started
                    self.subcalls_done += 1
                    self.tokens += usage.get("prompt_tokens", 0) + usage.get("completion_tokens", 0)
                    break

    def note(self, message: str, depth: int = 0) -> None:
        with self._lock:
            self.notes.append(message)

    def run_finished(self, result: Any) -> None:
        with self._lock:
            if self.turns and self.turns[-1].finished is None:
                self.turns[-1].finished = time.monotonic()

    # -- drawing --------------------------------------------------------------------------------

    def __rich__(self) -> RenderableType:
        with self._lock:
            return self._render()

    def _render(self) -> RenderableType:
        q = self.info.get("question", "")
        tree = Tree(
            Text.assemble(
                ("rlm ", "bold"),
                (f"“{q}”", "italic"),
                (f"  {self.info.get('lines', 0):,} lines", "dim"),
            )
        )
        for i, t in enumerate(self.turns):
            current = i == len(self.turns) - 1 and t.finished is None
            node = tree.add(self._turn_label(t, current))
            if current:
                self._expand(node, t)
        for n in self.notes[-3:]:
            tree.add(Text(f"! {n}", style="yellow"))
        return Group(tree, self._footer())

    def _turn_label(self, t: _Turn, current: bool) -> RenderableType:
        took = (t.finished or time.monotonic()) - t.started
        subs = len(t.subs)
        head = Text.assemble((f"turn {t.index}", "bold cyan"), " ")
        if current and not t.code and not t.reasoning:
            return Text.assemble(
                head, ("thinking… ", "dim"), (f"{t.streamed} chars · {took:.1f}s", "dim")
            )
        summary = _first_line(t.code[0]) if t.code else _first_line(t.reasoning)
        tail = f"  {subs} sub-call{'s' if subs != 1 else ''}" if subs else ""
        errors = sum(1 for o in t.outputs if o.get("error"))
        err = f"  {errors} error{'s' if errors > 1 else ''}" if errors else ""
        return Text.assemble(
            head,
            (summary, "green" if t.code else "white"),
            (tail, "magenta"),
            (err, "red"),
            (f"  {took:.1f}s", "dim"),
        )

    def _expand(self, node: Tree, t: _Turn) -> None:
        if t.reasoning:
            node.add(Text(_first_line(t.reasoning, 110), style="dim italic"))
        for i, code in enumerate(t.code):
            lines = code.splitlines()
            shown = "\n".join(lines[:CODE_LINES])
            branch = node.add(
                Syntax(
                    shown, "python", theme="ansi_dark", background_color="default", word_wrap=True
                )
            )
            if len(lines) > CODE_LINES:
                branch.add(Text(f"… {len(lines) - CODE_LINES} more lines", style="dim"))
            if i < len(t.outputs):
                out = t.outputs[i]
                text = (out.get("stdout") or "").rstrip()
                out_lines = text.splitlines()
                body = "\n".join(out_lines[:OUTPUT_LINES]) + (
                    f"\n… {len(out_lines) - OUTPUT_LINES} more lines"
                    if len(out_lines) > OUTPUT_LINES
                    else ""
                )
                if body.strip():
                    branch.add(Text(body, style="white"))
                if out.get("error"):
                    branch.add(Text(_first_line(out["error"].splitlines()[-1], 110), style="red"))
        self._subcalls(node, t)

    def _subcalls(self, node: Tree, t: _Turn) -> None:
        subs = list(t.subs.values())
        if not subs:
            return
        running = [s for s in subs if not s.done]
        done = [s for s in subs if s.done]
        if len(subs) > SUBCALLS_SHOWN:
            failed = sum(1 for s in done if not s.ok)
            node.add(
                Text(
                    f"✓ {len(done) - failed} sub-calls done"
                    + (f" · {failed} failed" if failed else "")
                    + f" · {len(running)} running",
                    style="magenta",
                )
            )
            subs = running[:SUBCALLS_SHOWN]
        for s in subs:
            if s.done:
                mark, style = ("✓", "green") if s.ok else ("✗", "red")
                toks = s.usage.get("prompt_tokens", 0) + s.usage.get("completion_tokens", 0)
                cached = " cached" if s.usage.get("cached") else ""
                node.add(
                    Text.assemble(
                        (f"{mark} {s.kind} ", style),
                        (_first_line(s.preview, 50), "dim"),
                        (f"  → {_first_line(s.answer, 40)}", ""),
                        (f"  {toks} tok{cached} · {s.elapsed:.1f}s", "dim"),
                    )
                )
            else:
                node.add(
                    Text.assemble(
                        ("… ", "cyan"),
                        (f"{s.kind} ", "cyan"),
                        (_first_line(s.preview, 60), "dim"),
                        (f"  {time.monotonic() - s.started:.1f}s", "dim"),
                    )
                )

    def _footer(self) -> Text:
        lim = self.info.get("limits", {})
        turn = self.turns[-1].index if self.turns else 0
        return Text.assemble(
            ("─ ", "dim"),
            (f"turn {turn}/{lim.get('max_iterations', '?')}", "bold"),
            (f" · sub-calls {self.subcalls_done}/{lim.get('max_subcalls', '?')}", ""),
            (f" · {self.tokens:,} tokens", ""),
            (f" · {time.monotonic() - self.started:.1f}s", "dim"),
        )


class NotesOnly(RunObserver):
    """For a stderr that is not a terminal: no live view, only the notes that matter."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()

    def note(self, message: str, depth: int = 0) -> None:
        with self._lock:
            self.console.print(f"rlm: note: {message}", markup=False, highlight=False)

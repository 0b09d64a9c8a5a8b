"""The live recursion tree on stderr (terminal only).

Events (from any thread) fill the view model of :mod:`rlm_cli.render.tree`; Rich's
refresh thread draws it with the same functions `rlm runs show` uses. Only the last turn
is open; older turns are one line each and the oldest fold into "N earlier turns". Big
sub-call fans fold into one line per kind. The whole region is cropped to the terminal's
height, so the screen never scrolls while the run goes on. Child RLMs (events with
``depth`` > 0) nest under the sub-call that started them.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.constrain import Constrain
from rich.live import Live
from rich.segment import Segment
from rich.spinner import Spinner
from rich.style import Style
from rich.text import Text

from rlm_cli.engine.events import RunObserver
from rlm_cli.render.tree import (
    CODE_LINES,
    SubNode,
    TurnNode,
    draw_tree,
    fmt_secs,
    one_line,
    run_title,
)

TURNS_SHOWN = 8
"""Root turns listed before older ones fold into one line."""
SPINNER = "dots"


class FitHeight:
    """Render ``renderable`` but never taller than the terminal minus ``reserve`` lines:
    keeps the first line (the title) and the newest lines, with a count of what is hidden."""

    def __init__(self, renderable: RenderableType, reserve: int = 2) -> None:
        self.renderable = renderable
        self.reserve = reserve

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        height = max(4, console.size.height - self.reserve)
        lines = console.render_lines(self.renderable, options, pad=False)
        if len(lines) > height:
            hidden = len(lines) - height + 1
            marker = [Segment(f"  ⋮ {hidden} lines above", Style(dim=True))]
            lines = [lines[0], marker, *lines[len(lines) - (height - 2) :]]
        for line in lines:
            yield from line
            yield Segment.line()


class LiveView(RunObserver):
    """A Rich Live tree of the run; use as a context manager around the run."""

    def __init__(self, console: Console, refresh_per_second: float = 10) -> None:
        self.console = console
        self._lock = threading.RLock()
        self.info: dict[str, Any] = {}
        self.turns: list[TurnNode] = []
        self.notes: list[str] = []
        self.started = time.monotonic()
        self.subcalls_done = 0
        self.subcalls_started = 0
        self.cache_hits = 0
        self.tokens = 0
        self.finished = False
        self.interrupted = False
        self.failed = False
        self._containers: dict[int, list[TurnNode]] = {0: self.turns}
        self._running: dict[tuple[int, int], SubNode] = {}
        self._synthetic: dict[int, SubNode] = {}
        self._spinners: dict[int, Spinner] = {}
        self._used: set[int] = set()
        self._live = Live(
            self,
            console=console,
            refresh_per_second=refresh_per_second,
            transient=False,
            redirect_stdout=False,
            redirect_stderr=False,
            vertical_overflow="crop",
        )

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        with self._lock:
            self.finished = True
            # RunInterrupted (Ctrl-C) or any error: the last turn stays open, marked stopped.
            self.interrupted = exc_type is not None
            self.failed = exc_type is not None and not (
                issubclass(exc_type, KeyboardInterrupt) or exc_type.__name__ == "RunInterrupted"
            )
            now = time.monotonic()
            for turns in self._containers.values():
                if turns and not turns[-1].done and not self.interrupted:
                    turns[-1].done, turns[-1].elapsed = True, now - turns[-1].started
        self._live.__exit__(exc_type, exc, tb)

    # -- events ------------------------------------------------------------------------------

    def run_started(self, info: dict[str, Any]) -> None:
        with self._lock:
            if not self.info:  # child RLMs may announce themselves too: the root run wins
                self.info = info
                self.started = time.monotonic()

    def _close_synthetic(self, depth: int) -> None:
        """A child RLM started without a sub-call event ends when its parent moves on."""
        sub = self._synthetic.pop(depth + 1, None)
        if sub is not None and not sub.done:
            sub.done, sub.elapsed = True, time.monotonic() - sub.started
            kids = sub.children
            if kids and not kids[-1].done:
                kids[-1].done, kids[-1].elapsed = True, time.monotonic() - kids[-1].started

    def _parent_for(self, depth: int) -> list[TurnNode]:
        """The turn list a child RLM at ``depth`` appends to: under the newest running
        sub-call of its parent (an rlm_query first), or a stand-in one."""
        running = [s for (d, _), s in self._running.items() if d == depth - 1]
        rlm = [s for s in running if "rlm" in s.kind]
        pick = (rlm or running or [None])[-1]
        if pick is None:
            parent_turns = self._containers.get(depth - 1) or []
            if not parent_turns:
                return self.turns
            pick = SubNode(id=0, kind="rlm_query", prompt="child RLM", done=False)
            pick.started = time.monotonic()
            parent_turns[-1].subs.append(pick)
            self._synthetic[depth] = pick
        return pick.children

    def turn_started(self, turn: int, depth: int = 0) -> None:
        with self._lock:
            now = time.monotonic()
            if depth == 0:
                self._close_synthetic(0)
            if depth not in self._containers or (depth > 0 and turn == 1):
                self._containers[depth] = self._parent_for(depth)
            turns = self._containers[depth]
            if turns and not turns[-1].done:
                turns[-1].done, turns[-1].elapsed = True, now - turns[-1].started
            turns.append(TurnNode(turn, depth, done=False, started=now))

    def final_started(self, turn: int, depth: int = 0) -> None:
        with self._lock:
            self.turn_started(turn, depth)
            self._containers[depth][-1].forced = True

    def prompt_progress(self, turn: int, done: int, total: int, depth: int = 0) -> None:
        with self._lock:
            t = self._current(depth)
            if t is not None and not t.done:
                t.prompt_done, t.prompt_total = done, total

    def _current(self, depth: int) -> TurnNode | None:
        turns = self._containers.get(depth) or []
        return turns[-1] if turns else None

    def root_text(self, turn: int, piece: str, depth: int = 0) -> None:
        with self._lock:
            t = self._current(depth)
            if t is not None:
                if not t.pieces:
                    t.first_piece_at = time.monotonic()
                t.pieces += 1
                t.streamed += len(piece)
                if len(t.reply) < 2000:
                    t.reply += piece[: 2000 - len(t.reply)]
                t.tail = (t.tail + piece)[-300:]

    def root_reply(
        self, turn: int, reasoning: str, code: list[str], usage: dict, depth: int = 0
    ) -> None:
        with self._lock:
            t = self._current(depth)
            if t is None:
                return
            t.reasoning, t.code = reasoning, list(code)
            spent = int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))
            t.tokens += spent
            t.reused += int(usage.get("prompt_tokens_reused", 0) or 0)
            self.tokens += spent

    def step_finished(self, turn: int, index: int, result: dict, depth: int = 0) -> None:
        with self._lock:
            self._close_synthetic(depth)
            t = self._current(depth)
            if t is not None:
                t.outputs.append(result)

    def subcall_started(
        self, call_id: int, turn: int, kind: str, preview: str, depth: int = 0
    ) -> None:
        with self._lock:
            t = self._current(depth)
            sub = SubNode(id=call_id, kind=kind, prompt=preview, done=False)
            sub.started = time.monotonic()
            if t is not None:
                t.subs.append(sub)
            self._running[(depth, call_id)] = sub
            self.subcalls_started += 1

    def subcall_finished(
        self, call_id: int, ok: bool, usage: dict, preview: str, depth: int = 0
    ) -> None:
        with self._lock:
            sub = self._running.pop((depth, call_id), None)
            if sub is None:
                return
            sub.done = True
            if ok:
                sub.answer = preview
            else:
                sub.error = preview or "failed"
            sub.cached = bool(usage.get("cached"))
            sub.tokens = int(usage.get("prompt_tokens", 0)) + int(usage.get("completion_tokens", 0))
            sub.elapsed = float(usage.get("elapsed_s") or time.monotonic() - sub.started)
            self.subcalls_done += 1
            self.cache_hits += 1 if sub.cached else 0
            if not sub.cached:
                self.tokens += sub.tokens

    def note(self, message: str, depth: int = 0) -> None:
        with self._lock:
            t = self._current(depth)
            if t is not None:
                t.notes.append(message)
            else:
                self.notes.append(message)

    def run_finished(self, result: Any) -> None:
        with self._lock:
            if getattr(result, "run_id", None) not in (None, self.info.get("run_id")):
                return  # a child RLM with its own id finished; the root run goes on
            # A child may share the root's id: the sub-calls still running above it tell
            # how deep the run that finished is; only turns below them are closed.
            busy = {d for d, _ in self._running} | {d - 1 for d in self._synthetic}
            floor = max(busy) + 1 if busy else 0
            now = time.monotonic()
            for depth, turns in self._containers.items():
                if depth >= floor and turns and not turns[-1].done:
                    turns[-1].done, turns[-1].elapsed = True, now - turns[-1].started

    # -- drawing --------------------------------------------------------------------------------

    def _spinner_for(self, item: object) -> Spinner:
        key = id(item)
        self._used.add(key)
        sp = self._spinners.get(key)
        if sp is None:
            sp = self._spinners[key] = Spinner(SPINNER, style="cyan")
        return sp

    def __rich__(self) -> RenderableType:
        with self._lock:
            return self.render()

    def render(self) -> RenderableType:
        """The current frame: the tree (cropped to the terminal) and the footer."""
        now = time.monotonic()
        self._used = set()
        live = not self.finished
        last = len(self.turns) - 1
        # Open: the last turn, and while it is still thinking the one before (so what that
        # turn's code printed stays in sight until the next reply arrives).
        opened = {last}
        if self.turns and not (self.turns[-1].code or self.turns[-1].reasoning):
            opened.add(last - 1)
        height = self.console.size.height
        tree = draw_tree(
            run_title(self.info.get("question", ""), self.info.get("lines"), self.info.get("root")),
            self.turns,
            expand=lambda i, t: (live or self.interrupted) and i in opened,
            now=now,
            spinner_for=self._spinner_for if live else None,
            keep_last=max(2, min(TURNS_SHOWN, height // 4)) if live else None,
            code_lines=max(3, min(CODE_LINES, (height - 12) // 2)),
        )
        for n in self.notes[-3:]:
            tree.add(one_line(("! ", "yellow"), (n, "yellow")))
        for key in list(self._spinners):
            if key not in self._used:
                del self._spinners[key]
        # The footer stops short of the last columns: the terminal echoes "^C" at the cursor,
        # and a wrap there would push the live region down a line.
        footer = Constrain(self._footer(now), width=max(20, self.console.width - 3))
        if not live:
            # The last frame stays in the scrollback: every turn, one line each (Rich lets
            # the final refresh be taller than the screen).
            return Group(tree, footer)
        return Group(FitHeight(tree, reserve=2), footer)

    def _footer(self, now: float) -> Text:
        lim = self.info.get("limits", {}) or {}
        turn = self.turns[-1].index if self.turns else 0
        elapsed = now - self.started
        max_sub = lim.get("max_subcalls")
        running = len(self._running)
        parts: list[tuple[str, str] | str] = [
            ("─ ", "dim"),
            (f"turn {turn}/{lim.get('max_iterations', '?')}", "bold"),
            f" · sub-calls {self.subcalls_done}"
            + (f"+{running}" if running else "")
            + (f" ({max(0, max_sub - self.subcalls_started)} left)" if max_sub is not None else ""),
            f" · {self.tokens:,} tok",
        ]
        if lim.get("max_tokens"):
            parts.append(f" ({max(0, lim['max_tokens'] - self.tokens):,} left)")
        if self.cache_hits:
            parts.append(f" · {self.cache_hits} cached")
        parts.append((f" · {fmt_secs(elapsed)}", "dim"))
        if lim.get("timeout_s"):
            parts.append((f" of {fmt_secs(lim['timeout_s'])}", "dim"))
        if self.failed:
            parts.append((" · stopped by an error", "bold red"))
        elif self.interrupted:
            parts.append((" · interrupted", "bold yellow"))
        elif not self.finished:
            parts.append((" · Ctrl-C stops and keeps the partial run", "dim"))
        return one_line(*parts)


class NotesOnly(RunObserver):
    """For a stderr that is not a terminal: no live view, only the notes that matter."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._lock = threading.Lock()

    def note(self, message: str, depth: int = 0) -> None:
        with self._lock:
            where = f" (depth {depth})" if depth else ""
            self.console.print(f"rlm: note{where}: {message}", markup=False, highlight=False)

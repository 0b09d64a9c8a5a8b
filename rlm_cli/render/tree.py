"""One way to draw a run's tree, shared by the live view and `rlm runs show`.

The view model (:class:`TurnNode`, :class:`SubNode`) is filled either from engine events
(:mod:`rlm_cli.render.live`) or from a stored record (:func:`turns_from_record`); the
drawing functions below turn it into a Rich :class:`~rich.tree.Tree`. Running items get a
:class:`Ticking` label, whose spinner the caller keeps per item so its frames advance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.spinner import Spinner
from rich.syntax import Syntax
from rich.text import Text
from rich.tree import Tree

from rlm_cli.render.safe import terminal_safe

CODE_LINES = 12
"""Code lines shown per block before folding."""
OUTPUT_LINES = 6
"""Printed lines shown per block before trimming."""
SUBCALLS_SHOWN = 6
"""Sub-calls listed one by one; more fold into a summary line per kind."""
RUNNING_SHOWN = 4
"""Running sub-calls listed with spinners when a group is folded."""


@dataclass
class SubNode:
    """A sub-call (llm_query, a batch item, rlm_query) and any child RLM it started."""

    id: int
    kind: str
    prompt: str = ""
    answer: str = ""
    error: str = ""
    tokens: int = 0
    cached: bool = False
    elapsed: float = 0.0
    done: bool = True
    started: float = 0.0
    """monotonic start, for the running clock (live only)."""
    children: list[TurnNode] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """It answered."""
        return not self.error


@dataclass
class TurnNode:
    """A root turn (or a child RLM's turn): reasoning, code, what it printed, its sub-calls."""

    index: int
    depth: int = 0
    reasoning: str = ""
    code: list[str] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    subs: list[SubNode] = field(default_factory=list)
    tokens: int = 0
    reused: int = 0
    """Prompt tokens the backend did not evaluate again (its prefix cache hit)."""
    notes: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    done: bool = True
    started: float = 0.0
    streamed: int = 0
    tail: str = ""
    """The end of the reply streamed so far (live only: what the model is writing now)."""
    forced: bool = False
    reply: str = ""
    """The raw reply (kept only as a fallback summary when there is no reasoning or code)."""
    prompt_done: int = 0
    prompt_total: int = 0
    """Prompt tokens read so far / to read this turn (live only, backends that report it)."""
    pieces: int = 0
    first_piece_at: float = 0.0
    """Streamed pieces (about one token each) and when the first came (live only)."""

    @property
    def flags(self) -> list[str]:
        """What went wrong in this turn, from its notes: ``cut``, ``not run``, ``repeated``."""
        out = []
        for n in self.notes:
            if ("was cut" in n or "cut by the token limit" in n) and "cut" not in out:
                out.append("cut")
            if "repeated code" in n and "repeated" not in out:
                out.append("repeated")
            if ("not run" in n or "not accepted" in n) and "not run" not in out:
                out.append("not run" if "not run" in n else "not accepted")
        return out


SpinnerFor = Callable[[object], Spinner]
"""Returns the spinner kept for one running item (so its frames advance between refreshes)."""


class Ticking:
    """A one-line label led by an animated spinner; cropped, never wrapped."""

    def __init__(self, spinner: Spinner, label: Text) -> None:
        self.spinner = spinner
        self.label = label

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        frame = self.spinner.render(console.get_time())
        line = Text.assemble(frame, " ", self.label, no_wrap=True, overflow="ellipsis")
        line.truncate(options.max_width, overflow="ellipsis")
        yield line


def first_line(text: str, width: int = 70) -> str:
    """The first non-blank line of ``text`` (terminal-safe), cut to ``width`` with an ellipsis."""
    line = next((ln.strip() for ln in terminal_safe(text or "").splitlines() if ln.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def one_line(*parts: tuple[str, str] | str) -> Text:
    """A Text that is cropped with an ellipsis instead of wrapping."""
    return Text.assemble(*parts, no_wrap=True, overflow="ellipsis")


def fmt_secs(s: float) -> str:
    """``0.4s``, ``12.3s``, ``4m05s``."""
    if s < 60:
        return f"{s:.1f}s"
    m, sec = divmod(int(s), 60)
    return f"{m}m{sec:02d}s"


def fmt_tokens(n: int) -> str:
    """``812 tok``, ``12.4k tok``."""
    return f"{n:,} tok" if n < 10_000 else f"{n / 1000:.1f}k tok"


# -- from a stored record ------------------------------------------------------------------------


def _usage_tokens(u: dict) -> int:
    return int(u.get("prompt_tokens", 0) or 0) + int(u.get("completion_tokens", 0) or 0)


def sub_from_record(s: dict, depth: int) -> SubNode:
    """A SubNode from a trajectory's ``subcalls`` item (a child RLM's turns nest under it)."""
    child = s.get("child") or {}
    child_turns = (
        (child.get("trajectory") if isinstance(child, dict) else None) or s.get("trajectory") or []
    )
    return SubNode(
        id=int(s.get("id", 0) or 0),
        kind=str(s.get("kind", "llm_query")),
        prompt=str(s.get("prompt") or ""),
        answer=str(s.get("answer") or ""),
        error=str(s.get("error") or ""),
        tokens=_usage_tokens(s),
        cached=bool(s.get("cached")),
        elapsed=float(s.get("elapsed_s", 0) or 0),
        done=s.get("answer") is not None or s.get("error") is not None,
        children=[turn_from_record(t, depth + 1) for t in child_turns],
    )


def turn_from_record(t: dict, depth: int = 0) -> TurnNode:
    """A TurnNode from one item of a record's ``trajectory``."""
    notes = list(t.get("notes") or [])
    return TurnNode(
        index=int(t.get("turn", 0) or 0),
        depth=depth,
        reasoning=str(t.get("reasoning") or ""),
        code=list(t.get("code") or []),
        outputs=list(t.get("outputs") or []),
        subs=[sub_from_record(s, depth) for s in t.get("subcalls") or []],
        tokens=_usage_tokens(t.get("usage") or {}),
        reused=int((t.get("usage") or {}).get("prompt_tokens_reused", 0) or 0),
        notes=notes,
        elapsed=float(t.get("elapsed_s", 0) or 0),
        forced="forced final answer" in notes,
        reply=str(t.get("reply") or "")[:2000],
    )


def turns_from_record(record: dict) -> list[TurnNode]:
    """The root turns of a stored run (``RunResult.to_json()``); an interrupted run's last
    turn is marked as stopped."""
    turns = [turn_from_record(t) for t in record.get("trajectory") or []]
    _attach_children(turns, record.get("children") or [])
    if turns and record.get("ended_by") == "interrupted":
        turns[-1].done = False
    return turns


def _attach_children(turns: list[TurnNode], children: list[dict]) -> None:
    """Hang the record's child RLM runs (``children``: prompt, trajectory, in run order)
    under the rlm_query sub-calls that started them: in order, checked by prompt."""
    pending = [c for c in children if isinstance(c, dict) and c.get("trajectory")]
    for t in turns:
        for sub in t.subs:
            if sub.kind != "rlm_query" or sub.children or not sub.ok or not pending:
                continue
            match = next((c for c in pending if c.get("prompt") == sub.prompt), pending[0])
            pending.remove(match)
            sub.children = [turn_from_record(ct, t.depth + 1) for ct in match["trajectory"]]


# -- drawing --------------------------------------------------------------------------------------


def turn_label(
    t: TurnNode, *, now: float | None = None, spinner_for: SpinnerFor | None = None
) -> RenderableType:
    """The one line of a turn: its number, what it did, its sub-calls, tokens and time."""
    elapsed = t.elapsed if t.done or now is None else now - t.started
    name = "final answer" if t.forced else f"turn {t.index}"
    head = (f"{name} ", "bold cyan" if t.depth == 0 else "cyan")
    if not t.done and spinner_for is not None:
        if not t.code and not t.reasoning:
            label = one_line(
                (head[0].rstrip(), head[1]),
                (f" · {fmt_secs(elapsed)} · ", "dim"),
                (_progress(t, now), "dim"),
            )
        else:
            running = sum(1 for s in t.subs if not s.done)
            doing = (
                f"waiting on {running} sub-call{'s' if running != 1 else ''}"
                if running
                else ("running its code" if t.code else "answering")
            )
            label = one_line(
                (head[0].rstrip(), head[1]),
                (f" · {fmt_secs(elapsed)} · ", "dim"),
                (doing, "magenta"),
                "  ",
                (_summary(t), "white"),
            )
        return Ticking(spinner_for(t), label)
    # Facts first, the summary last: a narrow terminal crops the summary, never the facts.
    subs = len(t.subs)
    errors = sum(1 for o in t.outputs if o.get("error"))
    facts: list[tuple[str, str]] = [(fmt_secs(elapsed), "dim")]
    if t.tokens:
        cached = f" ({t.reused:,} cached)" if t.reused else ""
        facts.append((fmt_tokens(t.tokens) + cached, "dim"))
    if subs:
        facts.append((f"{subs} sub-call{'s' if subs != 1 else ''}", "magenta"))
    if errors:
        facts.append((f"{errors} error{'s' if errors > 1 else ''}", "red"))
    for flag in t.flags:  # seen on the folded line too, not only when the turn is open
        facts.append((flag, "bold yellow"))
    if not t.done:
        facts.insert(0, ("stopped", "bold yellow"))
    parts: list[tuple[str, str] | str] = [(head[0].rstrip(), head[1])]
    for fact in facts:
        parts += [(" · ", "dim"), fact]
    parts += ["  ", (_summary(t), "white")]
    return one_line(*parts)


def _progress(t: TurnNode, now: float | None) -> str:
    """What a turn with no parsed reply yet is doing: reading its prompt, or writing."""
    if t.pieces and now is not None and t.first_piece_at:
        took = now - t.first_piece_at
        rate = f"{(t.pieces - 1) / took:.1f} tok/s · " if t.pieces > 1 and took > 0.5 else ""
        return f"writing · {rate}{t.streamed:,} chars"
    if t.prompt_total:
        pct = 100 * t.prompt_done // max(1, t.prompt_total)
        return f"reading prompt ({t.prompt_total:,} tokens) {pct}%"
    return "waiting for the model…"


def _meaningful(text: str) -> str:
    """The first line of ``text`` that says something: not blank, not a ``` fence."""
    for line in terminal_safe(text or "").splitlines():
        line = line.strip()
        if line and not line.startswith("```"):
            return line
    return ""


def _summary(t: TurnNode) -> str:
    """The reasoning's first line, else the first line of the turn's code, else the reply's
    (never a bare ```repl fence)."""
    for text in (t.reasoning, *t.code[:1], t.reply):
        line = _meaningful(text)
        if line:
            return line if len(line) <= 200 else line[:199] + "…"
    return "(no reply)" if t.done else "(no reply yet)"


@dataclass(frozen=True)
class DrawOptions:
    """How a tree is drawn, the same for every turn and sub-call in it."""

    now: float | None = None
    """The clock for running items (live only)."""
    spinner_for: SpinnerFor | None = None
    full: bool = False
    """Nothing folded or cut."""
    theme: str = "ansi_dark"
    code_lines: int = CODE_LINES
    open_all: bool = False
    """Child RLMs' turns open too (else only a running one)."""


def draw_turn(node: Tree, t: TurnNode, expanded: bool, opts: DrawOptions) -> Tree:
    """Add turn ``t`` under ``node``: one line, and when ``expanded`` its reasoning, code,
    printed output, notes and sub-calls (child RLMs nested under the sub-call that ran them;
    their turns open too with ``opts.open_all``, else only a running one)."""
    branch = node.add(turn_label(t, now=opts.now, spinner_for=opts.spinner_for))
    if not expanded:
        return branch
    if not t.done and not t.code and not t.reasoning and t.tail.strip():
        last = [ln for ln in t.tail.splitlines() if ln.strip()][-1]
        branch.add(one_line(("✎ ", "dim"), (last.strip(), "dim italic")))
    # The label already shows the reasoning's first line; the rest goes here.
    lines = [ln for ln in t.reasoning.strip().splitlines()[1:] if ln.strip()]
    if lines:
        keep = lines if opts.full else lines[:3]
        text = "\n".join(keep) + (
            f"\n… {len(lines) - 3} more lines" if len(keep) < len(lines) else ""
        )
        branch.add(Text(terminal_safe(text), style="italic dim"))
    for i, code in enumerate(t.code):
        out = t.outputs[i] if i < len(t.outputs) else None
        _draw_code(branch, code, out, opts)
    for n in t.notes:
        if n != "forced final answer":
            branch.add(one_line(("! ", "yellow"), (n, "yellow")))
    draw_subcalls(branch, t.subs, opts)
    return branch


def _draw_code(node: Tree, code: str, out: dict | None, opts: DrawOptions) -> None:
    full = opts.full
    lines = code.rstrip().splitlines() or [""]
    shown = lines if full else lines[: opts.code_lines]
    block = node.add(
        Syntax(
            terminal_safe("\n".join(shown)),
            "python",
            theme=opts.theme,
            background_color="default",
            word_wrap=True,
        )
    )
    if len(shown) < len(lines):
        block.add(Text(f"… {len(lines) - len(shown)} more lines of code", style="dim"))
    if out is None:
        return
    printed = (out.get("stdout") or "").rstrip()
    if printed:
        plines = printed.splitlines()
        keep = plines if full else plines[:OUTPUT_LINES]
        body = Text(terminal_safe("\n".join(keep)), style="default")
        if not full:
            body.no_wrap, body.overflow = True, "ellipsis"
        if len(keep) < len(plines):
            body.append(f"\n… {len(plines) - len(keep)} more lines printed", style="dim")
        block.add(body)
    elif not out.get("error"):
        block.add(Text("(nothing printed)", style="dim"))
    if out.get("error"):
        last = out["error"].strip().splitlines()[-1] if out["error"].strip() else "error"
        block.add(one_line(("✗ ", "red"), (terminal_safe(last), "red")))


def sub_label(
    s: SubNode, *, now: float | None = None, spinner_for: SpinnerFor | None = None
) -> RenderableType:
    """One line of a sub-call: what was asked, the answer, tokens, cache hit, time."""
    if not s.done:
        took = (now - s.started) if now is not None else s.elapsed
        label = one_line(
            (f"{s.kind} ", "cyan"),
            (first_line(s.prompt, 200), "dim"),
            (f"  {fmt_secs(took)}", "dim"),
        )
        if spinner_for is not None:
            return Ticking(spinner_for(s), label)
        return Text.assemble(("◌ ", "yellow"), label, no_wrap=True, overflow="ellipsis")
    mark, style = ("✓", "green") if s.ok else ("✗", "red")
    result = (
        (f" → {first_line(s.answer, 200)}", "default")
        if s.ok
        else (
            f" → {first_line(s.error, 200)}",
            "red",
        )
    )
    facts = [fmt_tokens(s.tokens)] if s.tokens else []
    if s.cached:
        facts.append("cached")
    facts.append(fmt_secs(s.elapsed))
    return one_line(
        (f"{mark} {s.kind} ", style),
        (first_line(s.prompt, 40), "dim"),
        result,
        (f"  {' · '.join(facts)}", "dim"),
    )


def draw_subcalls(node: Tree, subs: list[SubNode], opts: DrawOptions) -> None:
    """Sub-calls under ``node``; beyond :data:`SUBCALLS_SHOWN`, finished ones fold into one
    line per kind and only a few running ones are listed."""
    if not subs:
        return
    fold = len(subs) > SUBCALLS_SHOWN and not opts.full
    shown: list[SubNode] = subs
    if fold:
        done_by_kind: dict[str, list[SubNode]] = {}
        for s in subs:
            if s.done and not s.children:
                done_by_kind.setdefault(s.kind, []).append(s)
        for kind, group in done_by_kind.items():
            node.add(_group_label(kind, group))
        running = [s for s in subs if not s.done]
        with_children = [s for s in subs if s.done and s.children]
        shown = with_children + running[:RUNNING_SHOWN]
        failed = [s for s in subs if s.done and not s.ok][:2]
        shown = failed + [s for s in shown if s not in failed]
        hidden = len(running) - RUNNING_SHOWN
    else:
        hidden = 0
    for s in shown:
        branch = node.add(sub_label(s, now=opts.now, spinner_for=opts.spinner_for))
        for i, child in enumerate(s.children):
            last = i == len(s.children) - 1
            draw_turn(branch, child, opts.open_all or opts.full or (last and not child.done), opts)
    if hidden > 0:
        node.add(Text(f"… {hidden} more running", style="dim"))


def _group_label(kind: str, group: list[SubNode]) -> Text:
    failed = sum(1 for s in group if not s.ok)
    cached = sum(1 for s in group if s.cached)
    tokens = sum(s.tokens for s in group)
    took = sum(s.elapsed for s in group)
    parts = [f"{len(group) - failed} {kind} done"]
    if failed:
        parts.append(f"{failed} failed")
    if cached:
        parts.append(f"{cached} cached")
    if tokens:
        parts.append(fmt_tokens(tokens))
    parts.append(f"{fmt_secs(took / max(1, len(group)))} avg")
    return one_line(("✓ ", "green"), (" · ".join(parts), "magenta"))


def draw_tree(
    title: Text,
    turns: list[TurnNode],
    *,
    expand: Callable[[int, TurnNode], bool],
    now: float | None = None,
    spinner_for: SpinnerFor | None = None,
    full: bool = False,
    keep_last: int | None = None,
    code_lines: int = CODE_LINES,
    open_all: bool = False,
) -> Tree:
    """The run's tree: a title, then its turns (``expand(i, turn)`` picks the open ones).
    With ``keep_last``, earlier turns fold into one "N earlier turns" line."""
    tree = Tree(title, guide_style="dim")
    start = 0
    if keep_last is not None and len(turns) > keep_last:
        start = len(turns) - keep_last
        earlier = turns[:start]
        subs = sum(len(t.subs) for t in earlier)
        took = sum(t.elapsed for t in earlier)
        tree.add(
            Text(
                f"… {start} earlier turn{'s' if start > 1 else ''} · {subs} sub-calls · {fmt_secs(took)}",
                style="dim",
            )
        )
    opts = DrawOptions(
        now=now, spinner_for=spinner_for, full=full, code_lines=code_lines, open_all=open_all
    )
    for i in range(start, len(turns)):
        draw_turn(tree, turns[i], expand(i, turns[i]), opts)
    return tree


def run_title(question: str, lines: int | None = None, model: str | None = None) -> Text:
    """The root line of the tree: the question (and the context's size and the root model
    when known)."""
    title = Text.assemble(("rlm ", "bold"), (f"“{first_line(question, 300)}”", "italic"))
    if lines:
        title.append(f"  {lines:,} lines", style="dim")
    if model:
        title.append(f" · {model_name(model)}", style="dim")
    title.no_wrap, title.overflow = True, "ellipsis"
    return title


def model_name(spec: str) -> str:
    """A short name for a model spec: a file's name without .gguf, a server's model name."""
    spec = spec.rstrip("/")
    if "#" in spec:
        return spec.rsplit("#", 1)[1]
    name = spec.rsplit("/", 1)[-1]
    return name[:-5] if name.endswith(".gguf") else name


def summary_line(record: dict[str, Any]) -> Text:
    """Usage of a finished run: calls, tokens, cache hits, time, how it ended."""
    u = record.get("usage") or {}
    parts = [
        f"{u.get('root_calls', 0)} root calls",
        f"{u.get('sub_calls', 0)} sub-calls",
        f"{u.get('total_tokens', 0):,} tokens",
    ]
    if u.get("sub_cache_hits"):
        parts.append(f"{u['sub_cache_hits']} cache hits")
    if u.get("prompt_tokens_reused"):
        parts.append(f"{u['prompt_tokens_reused']:,} prompt tokens reused")
    parts.append(fmt_secs(float(record.get("elapsed_s", 0) or 0)))
    parts.append(f"ended by {record.get('ended_by', '?')}")
    return Text("─ " + " · ".join(parts), style="dim")

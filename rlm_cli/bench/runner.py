"""Running bench tasks: one log stored per task, each mode and repeat run on loaded models.

``run_task`` is the one seam between the bench and the run lifecycle of `rlm ask`: it
takes a prepared task, a mode, the settings and the loaded models, and returns what the
bench keeps (``TaskResult``, with the run's full record for the history).
"""

from __future__ import annotations

import io
import shutil
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from rlm_cli.bench.suite import ResolvedTask
from rlm_cli.config import Settings
from rlm_cli.engine.events import RunObserver
from rlm_cli.engine.records import FORCED_FINAL, RunResult, Usage
from rlm_cli.errors import RlmError
from rlm_cli.llm.base import Model, close_models
from rlm_cli.store.context import Context
from rlm_cli.store.contexts import ContextStore
from rlm_cli.store.ingest import ingest_streams

MODES = ("rlm", "direct")


@dataclass
class BenchModels:
    """The root and sub models, loaded once for the whole bench."""

    root: Model
    sub: Model
    prompt_cache: Path | None = None
    """The bench's own prompt cache folder, removed by :meth:`close`."""

    def close(self) -> None:
        """Release both models (and remove the bench's prompt cache)."""
        try:
            close_models(self.root, self.sub)
        finally:
            if self.prompt_cache is not None:
                shutil.rmtree(self.prompt_cache, ignore_errors=True)


@dataclass
class PreparedTask:
    """A resolved task with its log stored as a context (and the brief, once built)."""

    resolved: ResolvedTask
    context: Context
    brief: str | None = None
    log_tokens: int = 0
    """The log's length in the root model's tokens (0: not counted)."""


@dataclass
class TaskResult:
    """One run of one task in one mode: what the bench table and summary are made of."""

    task: str
    """The task's id in its suite, e.g. ``needle-10x``."""
    family: str
    size: str
    """The log's size as the suite labels it (``10x``: ten times the model's window)."""
    size_x: float
    mode: str
    """``rlm`` or ``direct``."""
    repeat: int
    """Which of ``--repeat`` runs this is (0 first)."""
    correct: bool
    """The task's checker accepted the answer (never, when the run failed)."""
    answer: str
    expected: str
    """What the checker looks for, in words."""
    wall_s: float
    """Seconds from the task's start to its answer, model calls and sandbox included."""
    turns: int
    ended_by: str
    """``final``, or the budget or failure that ended the run (``RunResult.ended_by``)."""
    run_id: str
    """The run in the history (``rlm runs show ID``)."""
    root_turns: int = 0
    """Root turns in the trajectory (with a forced final step, one more than ``turns``)."""
    turns_ok: int = 0
    """Root turns in which a block ran, or whose reply ended the run (see ``_turn_stats``)."""
    turns_cut: int = 0
    """Root turns cut at the reply's token limit."""
    log_tokens: int = 0
    """The whole log in the root model's tokens."""
    lines_total: int = 0
    """Lines of the task's log."""
    lines_left_out: int = 0
    """Direct mode: log lines that did not fit the window (0 in rlm mode)."""
    error: str | None = None
    usage: Usage = field(default_factory=Usage)
    """The run's model calls and tokens (empty when the run failed before its first call)."""
    record: dict[str, Any] | None = field(default=None, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The form kept in the bench result: a flat row, the run's usage figures under the
        names of :data:`USAGE_COLUMNS` (the run record itself is in the history)."""
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        del d["record"], d["usage"]
        d["wall_s"] = round(self.wall_s, 3)
        d["size_x"] = round(self.size_x, 3)
        usage = self.usage.to_json()
        d.update({column: usage[name] for column, name in USAGE_COLUMNS.items()})
        return d


USAGE_COLUMNS = {
    "prompt_tokens_evaluated": "prompt_tokens_evaluated",
    "prompt_tokens": "prompt_tokens",
    "completion_tokens": "completion_tokens",
    "sub_calls": "sub_calls",
    "first_token_s": "first_root_token_s",
}
"""Bench row columns taken from the run's :class:`Usage`: column name -> usage field. The
first root token's time is the time to read the first prompt."""


def prepare_task(
    resolved: ResolvedTask, store: ContextStore | None = None, model: Model | None = None
) -> PreparedTask:
    """Store the task's log as a context (content-addressed: the same log is stored once),
    and count its tokens with ``model``'s tokenizer when given."""
    store = store or ContextStore()
    data = resolved.text.encode("utf-8")
    meta = ingest_streams(
        store.root,
        [(f"{resolved.task.id}.log", io.BytesIO(data), None)],
        empty_message=f"task {resolved.task.id}: the log is empty",
    )
    tokens = model.count_tokens(resolved.text) if model is not None else 0
    return PreparedTask(resolved, Context(store.root / meta["id"]), log_tokens=tokens)


def _turn_stats(result: RunResult) -> tuple[int, int]:
    """(root turns that ran code or ended the run, turns cut at max tokens). A turn ran code
    when at least one of its blocks ran (a block re-sent from an earlier turn is not run); it
    ended the run when its reply gave the answer, the forced final answer included."""
    ok = cut = 0
    last = len(result.trajectory)
    for t in result.trajectory:
        ended = t.index == last and (result.ended_by == "final" or FORCED_FINAL in t.notes)
        if t.outputs or ended:
            ok += 1
        if (t.usage or {}).get("finish_reason") == "length":
            cut += 1
    return ok, cut


def run_task(
    task: PreparedTask,
    mode: str,
    settings: Settings,
    models: BenchModels,
    *,
    run_id: str,
    repeat: int = 0,
    observer: RunObserver | None = None,
) -> TaskResult:
    """Run one task once in ``mode`` (``rlm`` or ``direct``) and check the answer.

    An expected failure of the run (a prompt that does not fit, a model error) is a result
    (``ended_by`` ``error``), not an exception: the bench goes on with the next task.
    """
    from rlm_cli.actions.ask import engine_config, prepare_brief
    from rlm_cli.engine.direct import run_direct
    from rlm_cli.engine.loop import RlmEngine

    r = task.resolved
    config = engine_config(settings)
    t0 = time.monotonic()
    error = None
    try:
        if mode == "direct":
            result = run_direct(models.root, task.context, r.question, config.root_params, run_id)
        else:
            if task.brief is None:
                task.brief = prepare_brief(task.context, models.root, settings, lambda _m: None)
            engine = RlmEngine(
                models.root, models.sub, task.context, config, observer, brief=task.brief
            )
            result = engine.run(r.question, run_id)
    except RlmError as e:
        partial = getattr(e, "partial", None)
        error = str(e)
        result = partial if isinstance(partial, RunResult) else None
    finally:
        if config.cache is not None:
            config.cache.close()
    wall = time.monotonic() - t0
    answer = result.answer if result is not None else ""
    direct = (result.extra.get("direct") if result is not None else None) or {}
    ok, cut = _turn_stats(result) if result is not None else (0, 0)
    record = result.to_json() if result is not None else None
    if record is not None:
        record["bench"] = {"task": r.task.id, "family": r.task.family, "mode": mode}
    return TaskResult(
        task=r.task.id,
        family=r.task.family,
        size=r.size_label,
        size_x=r.size_x,
        mode=mode,
        repeat=repeat,
        correct=error is None and r.check(answer),
        answer=answer,
        expected=r.check.describe(),
        wall_s=wall,
        turns=result.iterations if result is not None else 0,
        ended_by="error" if error is not None else result.ended_by,  # type: ignore[union-attr]
        run_id=run_id,
        root_turns=len(result.trajectory) if result is not None else 0,
        log_tokens=task.log_tokens,
        turns_ok=ok,
        turns_cut=cut,
        lines_total=int(direct.get("lines_total") or task.context.line_count),
        lines_left_out=int(direct.get("lines_left_out") or 0),
        usage=result.usage if result is not None else Usage(),
        error=error,
        record=record,
    )

"""`rlm bench`: a suite of tasks run in each mode on models loaded once; table, summary,
every run in the history, the whole result saved under ``<data dir>/bench/``."""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from rlm_cli import __version__, paths
from rlm_cli.bench.runner import MODES, BenchModels, TaskResult, prepare_task, run_task
from rlm_cli.bench.store import list_results, load_result, save_result
from rlm_cli.bench.suite import ResolvedTask, Suite, load_suite, resolve
from rlm_cli.bench.summary import summarise
from rlm_cli.config import Settings
from rlm_cli.engine.loop import RunInterrupted
from rlm_cli.errors import Interrupted, UsageError, interrupt_status
from rlm_cli.llm.base import DEFAULT_N_CTX
from rlm_cli.render.bench import BenchProgress, benches_table, print_bench, widen
from rlm_cli.render.console import live_capable, stderr_console, stdout_console
from rlm_cli.render.report import print_json
from rlm_cli.runs.history import RunHistory, new_run_id


@dataclass
class BenchRequest:
    """Everything `rlm bench SUITE` was told."""

    suite: str
    settings: Settings = field(default_factory=Settings)
    modes: list[str] = field(default_factory=lambda: list(MODES))
    repeat: int = 1
    tasks: list[str] = field(default_factory=list)
    """Globs of task ids (any matches)."""
    families: list[str] = field(default_factory=list)
    json: bool = False
    out: str | None = None
    quiet: bool = False
    warm: bool = True
    """Fill the prompt cache with every root system prompt before the timed runs (as after a
    user's first runs), so that no task pays for evaluating one; False: tasks meet the cache
    as they find it."""


def parse_list(value: str | None) -> list[str]:
    """``a,b, c`` → ``[a, b, c]`` (empty items dropped)."""
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def select_tasks(suite: Suite, globs: list[str], families: list[str]) -> list:
    """The suite's tasks that match any glob (by id) and any family; UsageError if none."""
    picked = [
        t
        for t in suite.tasks
        if (not globs or any(fnmatch.fnmatchcase(t.id, g) for g in globs))
        and (not families or t.family in families)
    ]
    if not picked:
        known = sorted({t.family for t in suite.tasks})
        raise UsageError(
            f"no task of {suite.path} matches"
            + (f" --tasks {','.join(globs)}" if globs else "")
            + (f" --family {','.join(families)}" if families else "")
            + f" (families: {', '.join(known)}; ids like {suite.tasks[0].id})"
        )
    return picked


def _settings_json(s: Settings) -> dict[str, Any]:
    keys = (
        "n_ctx", "temperature", "seed", "max_iterations", "max_subcalls", "root_max_tokens",
        "sub_max_tokens", "grammar", "brief_tokens", "timeout", "threads",
    )  # fmt: skip
    return {k: getattr(s, k) for k in keys}


def run_bench(req: BenchRequest) -> int:
    """Run `rlm bench`; 0 when it ran (quality is data, not an exit status)."""
    from rlm_cli.actions.ask import load_models

    err = stderr_console()
    for m in req.modes:
        if m not in MODES:
            raise UsageError(f"--mode {m!r}: expected {' or '.join(MODES)} (comma-separated)")
    if not req.modes:
        raise UsageError("--mode: give rlm, direct or rlm,direct")
    if req.repeat < 1:
        raise UsageError("--repeat must be at least 1")
    # The sub-call cache would let repeats and re-runs answer from memory: off for benches.
    s = req.settings.merged(cache=False)
    window = s.n_ctx or DEFAULT_N_CTX  # n_ctx None: the backend's own; size logs for a GGUF's
    suite = load_suite(req.suite)
    resolved = [resolve(t, suite, window) for t in select_tasks(suite, req.tasks, req.families)]
    say = (
        (lambda m: None)
        if req.quiet
        else (lambda m: err.print(f"rlm: {m}", markup=False, highlight=False))
    )
    # A task's log is new to the bench as a log is to a user, but earlier benches met the
    # same generated logs: the bench keeps its own prompt cache, filled first with the
    # system prompts (a user's steady state) unless --no-warm (a first-ever run).
    pcache = _private_prompt_cache()
    try:
        root, sub = load_models(s, pcache)
    except BaseException:
        shutil.rmtree(pcache, ignore_errors=True)
        raise
    models = BenchModels(root, sub, pcache)
    try:
        return _bench(req, s, suite, resolved, models, say)
    finally:
        models.close()


def _bench(
    req: BenchRequest,
    s: Settings,
    suite: Suite,
    resolved: list[ResolvedTask],
    models: BenchModels,
    say: Callable[[str], None],
) -> int:
    """Warm up, run every task in each mode, keep and print the result."""
    err, out = stderr_console(), stdout_console()
    root, sub = models.root, models.sub
    warmup = _warm(models, s, say) if req.warm and "rlm" in req.modes else None
    history = _open_history(say) if s.log_runs else None
    bench_id = new_run_id()
    total = len(resolved) * len(req.modes) * req.repeat
    progress = BenchProgress(err, total) if live_capable(err) and not req.quiet else None
    doc: dict[str, Any] = {
        "id": bench_id,
        "version": __version__,
        "started": time.time(),
        "suite": {"name": suite.name, "path": suite.path, "tasks": len(resolved)},
        "models": {"root": root.spec, "sub": sub.spec},
        "settings": _settings_json(s),
        "modes": list(req.modes),
        "repeat": req.repeat,
        "warmup": warmup,
        "results": [],
        "interrupted": False,
    }
    results: list[TaskResult] = []
    try:
        with progress if progress is not None else contextlib.nullcontext():
            for task in resolved:
                _run_one_task(task, req, s, models, history, progress, say, results, total)
                # kept as it goes, marked interrupted until the end: a bench killed outright
                # (SIGKILL, a lost machine) loses one task, not the evening
                _finish({**doc, "interrupted": True}, results, req)
    except (KeyboardInterrupt, RunInterrupted) as e:
        doc["interrupted"] = True
        _finish(doc, results, req)
        say(f"bench interrupted after {len(results)} of {total} runs; kept as {bench_id}")
        # the CLI says so and exits with the signal's status (130, 143, 129)
        status = e.status if isinstance(e, RunInterrupted) else interrupt_status(e)
        raise Interrupted(int(status) - 128) from None
    finally:
        if history is not None:
            history.close()
    path = _finish(doc, results, req)
    if req.json:
        print_json(out, doc)
    else:
        print_bench(out, doc)
    say(f"bench result saved: {path} (rlm bench show {bench_id})")
    return 0


def _private_prompt_cache() -> Path:
    """A new folder for this bench's prompt cache, ``<data dir>/bench/prompt-cache-PID-*``;
    those of benches no longer running (killed outright) are removed first."""
    parent = paths.data_dir() / "bench"
    parent.mkdir(parents=True, exist_ok=True)
    for old in parent.glob("prompt-cache-*"):
        pid = old.name.split("-")[2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"prompt-cache-{os.getpid()}-", dir=parent))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # there, but not ours
    return True


def _warm(models: BenchModels, s: Settings, say) -> dict[str, Any]:
    """Warm the prompt cache (untimed); what it cost, for the bench record."""
    from rlm_cli.actions.lifecycle import engine_config
    from rlm_cli.engine.warmup import warm_prompts

    t0 = time.monotonic()
    done = warm_prompts(models.root, models.sub, engine_config(s))
    w = {
        "prompts": len(done),
        "tokens_evaluated": sum(x.tokens_evaluated for x in done),
        "tokens_loaded": sum(x.tokens_loaded for x in done),
        "seconds": round(time.monotonic() - t0, 3),
    }
    say(
        f"prompt cache warmed before the timed runs (--no-warm: not): {w['prompts']} system "
        f"prompts, {w['tokens_evaluated']:,} tokens evaluated, {w['tokens_loaded']:,} found "
        f"cached, {w['seconds']:.1f} s"
    )
    return w


def _run_one_task(
    task: ResolvedTask,
    req: BenchRequest,
    s: Settings,
    models: BenchModels,
    history: RunHistory | None,
    progress: BenchProgress | None,
    say,
    results: list[TaskResult],
    total: int,
) -> None:
    prepared = prepare_task(task, model=models.root)
    for mode in req.modes:
        for rep in range(req.repeat):
            label = f"{task.task.id} {mode}" + (f" #{rep + 1}" if req.repeat > 1 else "")
            if progress is not None:
                progress.starting(label)
            run_id = new_run_id() + "-bench"
            started = time.time()
            r = run_task(
                prepared,
                mode,
                s.merged(seed=s.seed + rep),
                models,
                run_id=run_id,
                repeat=rep,
                observer=progress,
            )
            results.append(r)
            if history is not None and r.record is not None:
                with contextlib.suppress(sqlite3.Error):  # the figures matter more
                    history.save(r.record, exit_code=2 if r.error else 0, started=started)
            if progress is not None:
                progress.finished(r.correct)
            else:
                verdict = "correct" if r.correct else "wrong"
                say(
                    f"bench [{len(results)}/{total}] {label}: {verdict} ({r.wall_s:.1f} s, "
                    f"{r.turns} turns, ended by {r.ended_by})"
                )


def _finish(doc: dict[str, Any], results: list[TaskResult], req: BenchRequest) -> Path:
    doc["finished"] = time.time()
    doc["elapsed_s"] = round(doc["finished"] - doc["started"], 3)
    doc["results"] = [r.to_json() for r in results]
    doc["summary"] = summarise(doc["results"], doc["modes"])
    path = save_result(doc)
    if req.out:
        _write_out(doc, req.out)
    return path


def _write_out(doc: dict[str, Any], out: str) -> None:
    try:
        Path(out).expanduser().write_bytes(orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n")
    except OSError as e:
        raise UsageError(f"--out {out}: cannot write: {e}") from e


def _open_history(say) -> RunHistory | None:
    from rlm_cli.errors import RlmError

    try:
        return RunHistory()
    except RlmError as e:
        say(f"warning: bench runs not recorded: {e}")
        return None


def list_benches(*, json: bool = False) -> int:
    """`rlm bench list`: saved bench results, newest first."""
    out = stdout_console()
    docs = list_results()
    if json:
        rows = [
            {
                "id": d["id"],
                "started": d.get("started"),
                "suite": d.get("suite", {}).get("name"),
                "models": d.get("models"),
                "modes": d.get("modes"),
                "runs": len(d.get("results", [])),
                "overall": d.get("summary", {}).get("overall"),
            }
            for d in docs
        ]
        print_json(out, {"benches": rows})
        return 0
    if not docs:
        stderr_console().print("rlm: no bench results saved", markup=False, highlight=False)
        return 0
    widen(out)
    out.print(benches_table(docs))
    return 0


def show_bench(bench_id: str, *, json: bool = False, out_file: str | None = None) -> int:
    """`rlm bench show ID`: a saved result again (``--json`` or ``--out FILE`` to export)."""
    doc = load_result(bench_id)
    if out_file:
        _write_out(doc, out_file)
    out = stdout_console()
    if json:
        print_json(out, doc)
    elif not out_file:
        print_bench(out, doc)
    return 0

"""`rlm scan`: lock → state → new bytes of each file → context → models → findings across
runs → outputs (JSON Lines, Prometheus textfile) → state committed → exit code.

Nothing new means no context, no model, exit 0. The state (cursors, findings, memory) is
committed in one atomic rename after the run completes, so a run that dies halfway leaves
the previous state and the next run reads the same bytes again.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from rlm_cli.actions.ask import (
    EXIT_ERROR,
    EXIT_FINDINGS,
    EXIT_OK,
    engine_config,
    load_models,
    prepare_brief,
)
from rlm_cli.config import Settings
from rlm_cli.engine.findings import severity_rank
from rlm_cli.engine.loop import RlmEngine, RunInterrupted
from rlm_cli.errors import RlmError, StoreError, UsageError
from rlm_cli.render.console import live_capable, stderr_console, stdout_console
from rlm_cli.render.live import LiveView, NotesOnly
from rlm_cli.render.report import print_answer, print_json
from rlm_cli.runs.history import RunHistory, new_run_id
from rlm_cli.scan.files import discover, read_new
from rlm_cli.scan.findings_store import FindingsStore
from rlm_cli.scan.lock import ScanLock
from rlm_cli.scan.memory import scan_prompt
from rlm_cli.scan.prom import render_metrics, write_textfile
from rlm_cli.scan.rotation import plan_reads
from rlm_cli.scan.state import ScanState, default_state_dir, load_state, save_state
from rlm_cli.scan.task import ScanTask, resolve_task
from rlm_cli.store.context import Context
from rlm_cli.store.contexts import ContextStore
from rlm_cli.store.ingest import ContextWriter


@dataclass
class ScanRequest:
    """Everything `rlm scan` was told."""

    paths: list[str]
    question: str | None = None
    task: str | None = None
    state_dir: Path | None = None
    settings: Settings = field(default_factory=Settings)
    json: bool = False
    out: Path | None = None
    prom: Path | None = None
    quiet: bool = False
    wait_s: float = 0.0
    alert_on: str = "new"
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    allow_binary: bool = False
    resolve: list[str] = field(default_factory=list)
    list_findings: bool = False


def state_dir_for(req: ScanRequest, task: ScanTask) -> Path:
    """``--state`` or the default folder for these targets and this task or question."""
    return req.state_dir or default_state_dir(req.paths, task.identity)


def run_scan(req: ScanRequest) -> int:
    """Run `rlm scan`; returns the exit code."""
    if not req.paths:
        raise UsageError("name the log files or folders to scan: rlm scan DIR|FILE... --task NAME")
    if req.alert_on not in ("new", "any"):
        raise UsageError(f"--alert-on {req.alert_on!r}: expected new or any")
    task = resolve_task(req.task, req.question)
    state_dir = state_dir_for(req, task)
    with ScanLock(state_dir, req.wait_s):
        state = load_state(state_dir)
        if req.resolve or req.list_findings:
            return _manage_findings(req, state_dir, state)
        t0 = time.monotonic()
        try:
            return _scan(req, task, state_dir, state)
        except (RlmError, KeyboardInterrupt):
            if req.prom is not None:  # a failing scan must show on the dashboard too
                _write_prom(
                    req, {"scanned": []}, state, FindingsStore(state.findings), t0, EXIT_ERROR
                )
            raise


def _manage_findings(req: ScanRequest, state_dir: Path, state: ScanState) -> int:
    store = FindingsStore(state.findings)
    out = stdout_console()
    if req.resolve:
        when = time.time()
        done = [store.resolve(fid, when=when) for fid in req.resolve]
        save_state(state_dir, state)
        if not req.quiet:
            for r in done:
                stderr_console().print(
                    f"rlm: resolved {r['id']} ({r['entity']}: {r['summary']})",
                    markup=False,
                    highlight=False,
                )
    if req.list_findings:
        if req.json:
            print_json(out, {"state": str(state_dir), "findings": state.findings})
        else:
            for r in sorted(
                state.findings, key=lambda r: (r["status"], -severity_rank(r["severity"]))
            ):
                out.file.write(
                    f"{r['id']}  {r['status']:8} {r['severity'].upper():8} {r['entity']}: "
                    f"{r['summary']} (x{r['count']}, last {time.strftime('%Y-%m-%d %H:%M', time.gmtime(r['last_seen']))})\n"
                )
            out.file.flush()
    return EXIT_OK


def _scan(req: ScanRequest, task: ScanTask, state_dir: Path, state: ScanState) -> int:
    err = stderr_console()
    out = stdout_console()
    s = req.settings
    started = time.time()
    t0 = time.monotonic()

    def say(msg: str) -> None:
        if not req.quiet:
            err.print(f"rlm: {msg}", markup=False, highlight=False)

    files = discover(
        req.paths,
        include=req.include,
        exclude=req.exclude,
        allow_binary=req.allow_binary,
        remembered=list(state.cursors),
        warn=say,
    )
    store = ContextStore()
    try:
        plans, notes = plan_reads(state.cursors, files)
        with ContextWriter(store.root, allow_binary=req.allow_binary) as writer:
            reads = read_new(plans, writer)
            new_bytes = sum(r.new_bytes for r in reads)
            meta = writer.finish() if new_bytes else None
            if meta is None:
                writer.abort()
    finally:
        for f in files:
            f.close()
    for n in notes:
        say(n)
    scanned = [r.summary() for r in reads if r.cursor is not None or r.new_bytes]
    cursors = {r.cursor.path: r.cursor for r in reads if r.cursor is not None}
    findings_store = FindingsStore(state.findings)
    summary: dict = {
        "state": str(state_dir),
        "scanned": scanned,
        "new_bytes": new_bytes,
        "new_lines": sum(x["new_lines"] for x in scanned),
        "notes": notes,
    }

    if meta is None:  # nothing new: no model, no alert; only the cursors move (renames)
        state.cursors = cursors
        state.last_success = time.time()
        save_state(state_dir, state)
        code = EXIT_OK
        summary.update(run_id=None, model_called=False, answer="", findings=[], exit_code=code)
        _write_prom(req, summary, state, findings_store, t0, code)
        if req.json:
            print_json(out, summary)
        else:
            say(f"nothing new in {len(scanned)} file(s)")
        return code

    say(
        f"scanning {summary['new_lines']:,} new lines ({new_bytes:,} bytes) "
        f"from {sum(1 for x in scanned if x['new_bytes'])} file(s)"
    )
    context = Context(store.root / meta["id"])
    question, guidance = task.question, task.guidance
    if guidance and not _engine_takes_guidance():
        question, guidance = f"{question}\n\nGuidance: {guidance}", ""
    prompt = scan_prompt(question, state.memory, findings_store.open(), scanned)
    root, sub = load_models(s)
    run_id = new_run_id()
    live = live_capable(err) and not req.quiet
    observer = LiveView(err) if live else None if req.quiet else NotesOnly(err)
    history = _open_history(say) if s.log_runs else None
    try:
        brief = prepare_brief(context, root, s, say)  # the log map of the new lines
        extra = {"guidance": guidance} if guidance else {}
        engine = RlmEngine(root, sub, context, engine_config(s), observer, brief=brief, **extra)
        with observer if isinstance(observer, LiveView) else contextlib.nullcontext():
            result = engine.run(prompt, run_id)
    except RunInterrupted as e:
        _record(history, e.result.to_json(), 130, started, say)
        raise KeyboardInterrupt from None
    except RlmError as e:
        partial = getattr(e, "partial", None)
        if partial is not None:
            _record(history, partial.to_json(), EXIT_ERROR, started, say)
        raise
    finally:
        root.close()
        sub.close()

    bases = {r.plan.file.path: r.plan.line_base for r in reads}
    for f in result.findings:
        for ev in f.get("evidence", []):
            ev["file_line"] = bases.get(ev["source"], 0) + ev["line"]
    when = time.time()
    merged = findings_store.merge(result.findings, run_id=run_id, when=when)
    unverified = [f for f in result.findings if not f.get("verified")]
    code = _exit_code(merged, s.fail_on, req.alert_on)

    summary.update(
        run_id=run_id,
        model_called=True,
        context_id=context.id,
        answer=result.answer,
        ended_by=result.ended_by,
        findings=merged,
        unverified_findings=unverified,
        usage=result.usage.to_json(),
        exit_code=code,
    )
    if req.out is not None:
        _append_jsonl(req.out, run_id, when, merged)
    previous_context = state.memory.get("context_id")
    state.cursors = cursors
    state.memory = {
        "run_id": run_id,
        "time": when,
        "answer": result.answer,
        "context_id": context.id,
    }
    state.runs += 1
    state.bytes_total += new_bytes
    state.last_success = when
    save_state(state_dir, state)  # the commit point
    if previous_context and previous_context != context.id:
        shutil.rmtree(store.root / previous_context, ignore_errors=True)
    _write_prom(req, summary, state, findings_store, t0, code)
    _record(history, {**result.to_json(), "scan": summary}, code, started, say)
    if history is not None and s.retention_days is not None:
        with contextlib.suppress(sqlite3.Error):
            history.prune(keep_days=s.retention_days)

    if req.json:
        print_json(out, summary)
    elif code != EXIT_OK or not req.quiet:
        shown = [f for f in merged if req.alert_on == "any" or f["status"] != "repeat"]
        print_answer(out, result.answer, shown + unverified)
        repeats = len(merged) - len(shown)
        if repeats:
            say(f"{repeats} finding(s) seen in earlier scans (see --findings)")
    return code


def _engine_takes_guidance() -> bool:
    """Whether RlmEngine takes ``guidance=`` (the engine's task presets) in this tree."""
    return "guidance" in inspect.signature(RlmEngine).parameters


def _open_history(say) -> RunHistory | None:
    """The run history, or None (said on stderr): a scan never fails for its record."""
    try:
        return RunHistory()
    except RlmError as e:
        say(f"warning: run not recorded: {e}")
        return None


def _record(history: RunHistory | None, record: dict, code: int, started: float, say) -> None:
    if history is None:
        return
    try:
        history.save(record, exit_code=code, started=started)
    except sqlite3.Error as e:
        say(f"warning: run not recorded: {e}")


def _exit_code(merged: list[dict], fail_on: str, alert_on: str) -> int:
    """1 when a finding at or above ``fail_on`` is new (or, with alert_on=any, any)."""
    if fail_on == "never":
        return EXIT_OK
    threshold = severity_rank(fail_on)
    for f in merged:
        if severity_rank(f["severity"]) >= threshold and (
            alert_on == "any" or f["status"] != "repeat"
        ):
            return EXIT_FINDINGS
    return EXIT_OK


def _append_jsonl(path: Path, run_id: str, when: float, findings: list[dict]) -> None:
    """One line per finding of this run, appended in a single write."""
    if not findings:
        return
    data = b"".join(orjson.dumps({"time": when, "run_id": run_id, **f}) + b"\n" for f in findings)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as e:
        raise StoreError(f"cannot append findings to {path}: {e.strerror or e}") from e


def _write_prom(req, summary, state, findings_store, t0, code) -> None:
    if req.prom is None:
        return
    text = render_metrics(
        when=time.time(),
        exit_code=code,
        duration_s=time.monotonic() - t0,
        scanned=summary["scanned"],
        run_findings=summary.get("findings", []),
        open_findings=findings_store.open(),
        bytes_total=state.bytes_total,
        model_called=summary.get("model_called", False),
        last_success=state.last_success,
    )
    write_textfile(req.prom, text)

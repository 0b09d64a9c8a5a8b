"""`rlm scan`: lock → state → new bytes of each file → context → models → findings across
runs → outputs (JSON Lines, Prometheus textfile) → state committed → exit code.

Nothing new means no context, no model, exit 0. The state (cursors, findings, memory) is
committed in one atomic rename after the run completes, so a run that dies halfway leaves
the previous state and the next run reads the same bytes again.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from rlm_cli.actions.ingest import Inputs
from rlm_cli.actions.lifecycle import RunLifecycle, findings_status
from rlm_cli.config import Settings
from rlm_cli.engine.findings import severity_rank
from rlm_cli.engine.loop import RunInterrupted
from rlm_cli.errors import ExitStatus, Interrupted, RlmError, StoreError, UsageError
from rlm_cli.render.console import stderr_console, stdout_console
from rlm_cli.render.report import print_answer, print_json
from rlm_cli.runs.history import new_run_id
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
class ScanRequest(Inputs):
    """Everything `rlm scan` was told."""

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
                    req, {"scanned": []}, state, FindingsStore(state.findings), t0, ExitStatus.ERROR
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
    return ExitStatus.OK


def _scan(req: ScanRequest, task: ScanTask, state_dir: Path, state: ScanState) -> int:
    err = stderr_console()
    out = stdout_console()
    s = req.settings
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
        code = ExitStatus.OK
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
    prompt = scan_prompt(task.question, state.memory, findings_store.open(), scanned)
    run_id = new_run_id()
    with RunLifecycle(s, quiet=req.quiet, warn=say) as run:
        try:
            result = run.run(
                context, prompt, guidance=task.guidance, example=task.example, run_id=run_id
            )
        except RunInterrupted as e:  # recorded; the state stays as it was
            raise Interrupted(e.status - 128) from None
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
        run.record({**result.to_json(), "scan": summary}, code)

        if req.json:
            print_json(out, summary)
        elif code != ExitStatus.OK or not req.quiet:
            shown = [f for f in merged if req.alert_on == "any" or f["status"] != "repeat"]
            print_answer(out, result.answer, shown + unverified)
            repeats = len(merged) - len(shown)
            if repeats:
                say(f"{repeats} finding(s) seen in earlier scans (see --findings)")
    return code


def _exit_code(merged: list[dict], fail_on: str, alert_on: str) -> ExitStatus:
    """FINDINGS when a finding at or above ``fail_on`` is new (or, with alert_on=any, any)."""
    return findings_status(merged, fail_on, lambda f: alert_on == "any" or f["status"] != "repeat")


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
        exit_code=int(code),
        duration_s=time.monotonic() - t0,
        scanned=summary["scanned"],
        run_findings=summary.get("findings", []),
        open_findings=findings_store.open(),
        bytes_total=state.bytes_total,
        model_called=summary.get("model_called", False),
        last_success=state.last_success,
    )
    write_textfile(req.prom, text)

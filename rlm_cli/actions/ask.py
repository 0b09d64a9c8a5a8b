"""`rlm ask`: input → context → models → RLM loop → answer, findings, record, exit code.

The run itself (models, config, observer, history, interruption, closing) is
:class:`~rlm_cli.actions.lifecycle.RunLifecycle`; this module adds the input and the output.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from rlm_cli.actions.ingest import Inputs
from rlm_cli.actions.lifecycle import (  # noqa: F401 - their old home, for code not yet moved
    RunLifecycle,
    engine_config,
    findings_status,
    load_models,
    model_options,
    prepare_brief,
)
from rlm_cli.config import Settings
from rlm_cli.engine.loop import RunInterrupted
from rlm_cli.engine.prompts import load_task
from rlm_cli.engine.records import RunResult
from rlm_cli.errors import ExitStatus, UsageError
from rlm_cli.render.console import stderr_console, stdout_console
from rlm_cli.render.report import print_answer, print_json, print_partial
from rlm_cli.repl.sandbox import describe
from rlm_cli.runs.history import RunHistory
from rlm_cli.store.context import Context
from rlm_cli.store.contexts import ContextStore
from rlm_cli.store.inputs import expand_inputs


@dataclass
class AskRequest(Inputs):
    """Everything `rlm ask` was told."""

    question: str
    context_id: str | None = None
    settings: Settings = field(default_factory=Settings)
    json: bool = False
    quiet: bool = False
    debug: bool = False
    task: str | None = None
    mode: str = "rlm"


def open_context(req: AskRequest, warn) -> Context:
    """The context to analyse: an existing one, or the inputs streamed into a new one."""
    store = ContextStore()
    if req.context_id:
        if req.paths:
            raise UsageError("give either --context ID or input paths, not both")
        return store.open(req.context_id)
    if not req.paths and sys.stdin is not None and sys.stdin.isatty():
        raise UsageError("no input: pipe a log into rlm, or name files: rlm ask QUESTION FILE...")
    inputs = expand_inputs(req.paths, include=req.include, exclude=req.exclude, warn=warn)
    meta = store.ingest(inputs, allow_binary=req.allow_binary, warn=warn)
    return Context(store.root / meta["id"])


def exit_code_for(result: RunResult, fail_on: str) -> ExitStatus:
    """OK: no verified finding at or above ``fail_on``; FINDINGS: some (grep style)."""
    return findings_status(result.findings, fail_on, lambda f: bool(f["verified"]))


def run_ask(req: AskRequest) -> int:
    """Run `rlm ask`; returns the exit status."""
    err = stderr_console()
    out = stdout_console()
    s = req.settings
    guidance = example = ""
    if req.task:
        task = load_task(req.task)
        guidance, example = task["guidance"], task.get("example", "")
        if not req.question.strip():
            req.question = task["question"].strip()
    if not req.question.strip():
        raise UsageError("the question is empty")
    if req.mode not in ("rlm", "direct"):
        raise UsageError(f"--mode {req.mode!r}: expected rlm or direct")
    with RunLifecycle(s, quiet=req.quiet, debug=req.debug) as run:
        # Check the inputs exist before loading a model (fast errors), then load, then ingest.
        if not req.context_id and req.paths:
            expand_inputs(req.paths, include=req.include, exclude=req.exclude)
        run.load_models()
        context = open_context(req, run.warn)
        try:
            # --timeout is the command's: loading the model and reading the log count too
            result = run.run(
                context,
                req.question,
                guidance=guidance,
                example=example,
                mode=req.mode,
                started=run.clock,
            )
        except RunInterrupted as e:
            _show(e.result, e.status, out, err, req)
            _interrupted_note(e.result, run.history, err)
            return e.status
        code = exit_code_for(result, s.fail_on)
        if req.debug and result.isolation:
            err.print(
                f"rlm: sandbox: {describe(result.isolation)}",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        run.record(result.to_json(), code)
    _show(result, code, out, err, req)
    return code


def _show(result: RunResult, code: int, out, err, req: AskRequest) -> None:
    """The answer (or partial answer) on stdout, or the JSON record with its exit code."""
    if req.json:
        print_json(out, {**result.to_json(), "exit_code": int(code)})
    elif result.ended_by == "interrupted":
        print_partial(out, result.answer, result.findings)
    else:
        print_answer(out, result.answer, result.findings)
    if result.ended_by not in ("final", "interrupted", "direct") and not req.quiet:
        err.print(
            f"rlm: note: the run ended by budget ({result.ended_by}); the answer was forced "
            "from the trajectory",
            markup=False,
            highlight=False,
        )


def _interrupted_note(result: RunResult, history: RunHistory | None, err) -> None:
    """Say on stderr how far the run got and where the partial run is kept."""
    turns = len(result.trajectory)
    subs = sum(len(t.subcalls) for t in result.trajectory)
    kept = (
        f"partial run kept as {result.run_id} (rlm runs show {result.run_id})"
        if history is not None
        else "partial run not recorded (--no-log)"
    )
    err.print(
        f"rlm: interrupted after {turns} turn{'s' if turns != 1 else ''} and {subs} "
        f"sub-call{'s' if subs != 1 else ''} "
        f"({len(result.findings)} findings so far); {kept}",
        markup=False,
        highlight=False,
    )

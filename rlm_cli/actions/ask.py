"""`rlm ask`: input → context → models → RLM loop → answer, findings, record, exit code."""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass, field

from rlm_cli.config import Settings
from rlm_cli.engine.budget import Limits
from rlm_cli.engine.direct import run_direct
from rlm_cli.engine.findings import severity_rank
from rlm_cli.engine.loop import EngineConfig, RlmEngine, RunInterrupted
from rlm_cli.engine.prompts import load_task
from rlm_cli.engine.records import RunResult
from rlm_cli.engine.subcalls import ExplosionGuard
from rlm_cli.errors import ConfigError, ModelError, RlmError, UsageError
from rlm_cli.llm.base import GenerationParams, Model
from rlm_cli.llm.cache import SubcallCache
from rlm_cli.llm.llama import LlamaOptions
from rlm_cli.llm.spec import ModelLoader, ModelOptions
from rlm_cli.render.console import stderr_console, stdout_console
from rlm_cli.render.live import LiveView, NotesOnly
from rlm_cli.render.report import print_answer, print_json
from rlm_cli.runs.history import RunHistory, new_run_id
from rlm_cli.store.context import Context
from rlm_cli.store.contexts import ContextStore
from rlm_cli.store.inputs import expand_inputs

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


@dataclass
class AskRequest:
    """Everything `rlm ask` was told."""

    question: str
    paths: list[str] = field(default_factory=list)
    context_id: str | None = None
    settings: Settings = field(default_factory=Settings)
    json: bool = False
    quiet: bool = False
    allow_binary: bool = False
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    task: str | None = None
    mode: str = "rlm"


def model_options(s: Settings) -> ModelOptions:
    """Backend options from settings."""
    return ModelOptions(
        llama=LlamaOptions(
            n_ctx=s.n_ctx,
            n_threads=s.threads,
            n_batch=s.n_batch,
            n_gpu_layers=s.n_gpu_layers,
            flash_attn=s.flash_attn,
            seed=s.seed,
        ),
        concurrency=s.concurrency,
    )


def engine_config(s: Settings) -> EngineConfig:
    """Loop options from settings."""
    if s.thinking not in ("hide", "keep", "off"):
        raise ConfigError(f"thinking={s.thinking!r}: expected hide, keep or off")
    return EngineConfig(
        limits=Limits(
            max_iterations=s.max_iterations,
            max_subcalls=s.max_subcalls,
            max_tokens=s.max_tokens,
            timeout_s=s.timeout,
            max_depth=s.max_depth,
        ),
        root_params=GenerationParams(
            max_tokens=s.root_max_tokens, temperature=s.temperature, seed=s.seed
        ),
        sub_params=GenerationParams(
            max_tokens=s.sub_max_tokens, temperature=s.temperature, seed=s.seed
        ),
        max_output_chars=s.max_output_chars,
        step_timeout_s=s.step_timeout,
        grammar=s.grammar,
        reasoning_chars=s.reasoning_chars,
        thinking=s.thinking,
        cache=SubcallCache() if s.cache else None,
        guard=ExplosionGuard(tiny_chars=s.tiny_prompt_chars, max_tiny=s.max_tiny_subcalls),
    )


def load_models(s: Settings) -> tuple[Model, Model]:
    """The root and sub models named by the settings."""
    if not s.model:
        raise ModelError(
            "no model configured: pass --model PATH.gguf (or script:FILE.yaml, openai:URL#name), "
            "set RLM_MODEL, or run `rlm models pull` to get the default model"
        )
    loader = ModelLoader(model_options(s))
    root = loader.load(s.model, "root")
    sub = loader.load(s.sub_model or s.model, "sub")
    return root, sub


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


def exit_code_for(result: RunResult, fail_on: str) -> int:
    """0 no finding at or above ``fail_on``, 1 some (grep style)."""
    if fail_on == "never":
        return EXIT_OK
    threshold = severity_rank(fail_on)
    hit = any(f["verified"] and severity_rank(f["severity"]) >= threshold for f in result.findings)
    return EXIT_FINDINGS if hit else EXIT_OK


def run_ask(req: AskRequest) -> int:
    """Run `rlm ask`; returns the exit code."""
    err = stderr_console()
    out = stdout_console()
    s = req.settings
    guidance = ""
    if req.task:
        task = load_task(req.task)
        guidance = task["guidance"]
        if not req.question.strip():
            req.question = task["question"].strip()
    if not req.question.strip():
        raise UsageError("the question is empty")
    if req.mode not in ("rlm", "direct"):
        raise UsageError(f"--mode {req.mode!r}: expected rlm or direct")
    warn = (
        (lambda m: None)
        if req.quiet
        else (lambda m: err.print(f"rlm: {m}", markup=False, highlight=False))
    )
    # Check the inputs exist before loading a model (fast errors), then load, then ingest.
    if not req.context_id:
        expand_inputs(req.paths, include=req.include, exclude=req.exclude) if req.paths else None
    root, sub = load_models(s)
    context = open_context(req, warn)
    live = err.is_terminal and not req.quiet
    observer = LiveView(err) if live else NotesOnly(err) if not req.quiet else None
    run_id = new_run_id()
    started = time.time()
    config = engine_config(s)
    engine = RlmEngine(root, sub, context, config, observer, guidance=guidance)
    history = RunHistory() if s.log_runs else None
    try:
        if req.mode == "direct":
            result = run_direct(
                root, context, req.question, config.root_params, run_id, guidance=guidance
            )
            for note in result.notes:
                warn("note: " + note)
        else:
            with observer if isinstance(observer, LiveView) else contextlib.nullcontext():
                result = engine.run(req.question, run_id)
    except RunInterrupted as e:
        _finish(e.result, history, started, EXIT_INTERRUPTED, out, err, req)
        err.print(
            "rlm: interrupted; partial run kept as " + e.result.run_id,
            markup=False,
            highlight=False,
        )
        return EXIT_INTERRUPTED
    except RlmError as e:
        partial = getattr(e, "partial", None)
        if partial is not None and history is not None:
            history.save(partial.to_json(), exit_code=EXIT_ERROR, started=started)
        raise
    finally:
        root.close()
        sub.close()
        if config.cache is not None:
            config.cache.close()
    code = exit_code_for(result, s.fail_on)
    _finish(result, history, started, code, out, err, req)
    return code


def _finish(
    result: RunResult,
    history: RunHistory | None,
    started: float,
    code: int,
    out,
    err,
    req: AskRequest,
) -> None:
    record = result.to_json()
    if history is not None:
        history.save(record, exit_code=code, started=started)
    if req.json:
        print_json(out, {**record, "exit_code": code})
    else:
        print_answer(out, result.answer, result.findings)
    if result.ended_by not in ("final", "interrupted", "direct") and not req.quiet:
        err.print(
            f"rlm: note: the run ended by budget ({result.ended_by}); the answer was forced "
            "from the trajectory",
            markup=False,
            highlight=False,
        )

"""`rlm ask`: input → context → models → RLM loop → answer, findings, record, exit code."""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

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
from rlm_cli.render.console import live_capable, stderr_console, stdout_console
from rlm_cli.render.live import LiveView, NotesOnly
from rlm_cli.render.report import print_answer, print_json, print_partial
from rlm_cli.repl.sandbox import OS_LAYER_OFF, describe
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
    debug: bool = False
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
        sandbox={} if s.sandbox_isolation else dict(OS_LAYER_OFF),
        grammar=s.grammar,
        reasoning_chars=s.reasoning_chars,
        thinking=s.thinking,
        cache=SubcallCache() if s.cache else None,
        guard=ExplosionGuard(tiny_chars=s.tiny_prompt_chars, max_tiny=s.max_tiny_subcalls),
    )


def load_models(s: Settings) -> tuple[Model, Model]:
    """The root and sub models named by the settings (or the registry's default model)."""
    spec = s.model or _installed_default()
    loader = ModelLoader(model_options(s), s.aliases)
    root = loader.load(spec, "root")
    sub = loader.load(s.sub_model or spec, "sub")
    return root, sub


def _installed_default() -> str:
    """The registry's default model when it is downloaded; else a clear error saying how to get one.

    When the default model's download host cannot be reached, the error says the machine
    looks offline and how to use a model file copied onto it instead.
    """
    from rlm_cli.llm.download import apply_mirror, reachable
    from rlm_cli.llm.registry import ModelRegistry

    registry = ModelRegistry()
    chosen = registry.default_spec()  # the only installed model, or the chosen one
    if chosen is not None:
        return chosen
    name = registry.catalogue.default
    entry = registry.get(name)
    url = entry.catalogue.url if entry is not None and entry.catalogue is not None else None
    if url and not reachable(apply_mirror(url)):
        host = urlsplit(apply_mirror(url)).netloc
        raise ModelError(
            f"no model installed, and {host} cannot be reached: this machine looks offline, "
            "so `rlm models pull` cannot download one. Copy a .gguf file here and pass "
            "--model PATH.gguf, or register it with `rlm models add PATH.gguf --alias NAME`"
        )
    raise ModelError(
        "no model configured: pass --model PATH.gguf (or script:FILE.yaml, openai:URL#name), "
        f"set RLM_MODEL, or download the default with `rlm models pull {name}`"
    )


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


def prepare_brief(context: Context, root: Model, s: Settings, warn) -> str:
    """Build (or load) the log map in this process, and the brief for the root prompt.

    Building is one pass at about 10k lines/s on a small machine; above ``map_max_lines``
    a first run skips it (and says so) instead of making the operator wait.
    """
    from rlm_cli.logs.brief import make_brief, render_brief
    from rlm_cli.logs.logmap import LogMap, ensure_logmap

    logmap = LogMap.load(context.path)
    if logmap is None:
        if context.line_count > s.map_max_lines:
            warn(
                f"log map not built for {context.line_count:,} lines (over map_max_lines={s.map_max_lines:,}); "
                f"the model works without a brief. Build it once: rlm brief --context {context.id[:12]}"
            )
            return ""
        logmap = ensure_logmap(context)
    if s.brief_tokens <= 0:
        return ""
    return render_brief(
        make_brief(context, logmap), max_tokens=s.brief_tokens, count_tokens=root.count_tokens
    )


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
    live = live_capable(err) and not req.quiet
    observer = LiveView(err) if live else NotesOnly(err) if not req.quiet else None
    run_id = new_run_id()
    started = time.time()
    brief = prepare_brief(context, root, s, warn)
    config = engine_config(s)
    engine = RlmEngine(root, sub, context, config, observer, guidance=guidance, brief=brief)
    history = _open_history(err) if s.log_runs else None
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
        _interrupted_note(e.result, history, err)
        return EXIT_INTERRUPTED
    except RlmError as e:
        partial = getattr(e, "partial", None)
        if partial is not None and history is not None:
            with contextlib.suppress(sqlite3.Error):  # the error itself is what to report
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
    if req.debug and result.isolation:
        err.print(
            f"rlm: sandbox: {describe(result.isolation)}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if history is not None:
        try:
            history.save(record, exit_code=code, started=started)
            if req.settings.retention_days is not None:
                history.prune(keep_days=req.settings.retention_days)
        except sqlite3.Error as e:  # the answer matters more than its record
            err.print(f"rlm: warning: run not recorded: {e}", markup=False, highlight=False)
    if req.json:
        print_json(out, {**record, "exit_code": code})
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


def _open_history(err) -> RunHistory | None:
    """The run history, or None (with a warning) when it cannot be opened: a run is never
    refused because its record cannot be kept."""
    try:
        return RunHistory()
    except RlmError as e:
        err.print(f"rlm: warning: run not recorded: {e}", markup=False, highlight=False)
        return None


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

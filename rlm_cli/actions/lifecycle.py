"""One run of the engine, the same for `ask`, `scan` and `bench`.

:class:`RunLifecycle` owns what every run needs and must not forget: the models (loaded
once, closed once), the engine config (and the sub-call cache it opens), the brief, the
observer (live view on a terminal, notes otherwise, nothing with --quiet), the run
history (a partial run is recorded when interrupted or failed), and the exit status of an
interruption (:class:`~rlm_cli.errors.ExitStatus`). The commands keep only what is theirs:
where the context comes from, what the question is, and what to print.

    with RunLifecycle(settings, quiet=quiet) as run:
        result = run.run(context, question)           # RunInterrupted carries .status
        run.record(result.to_json(), status)
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import urlsplit

from rlm_cli.config import Settings
from rlm_cli.engine.budget import Limits
from rlm_cli.engine.direct import run_direct
from rlm_cli.engine.findings import severity_rank
from rlm_cli.engine.loop import EngineConfig, RlmEngine, RunInterrupted
from rlm_cli.engine.records import RunResult
from rlm_cli.engine.subcalls import ExplosionGuard
from rlm_cli.errors import ConfigError, ExitStatus, ModelError, RlmError
from rlm_cli.llm.base import DEFAULT_N_CTX, GenerationParams, Model, close_models
from rlm_cli.llm.cache import SubcallCache
from rlm_cli.llm.llama import LlamaOptions
from rlm_cli.llm.spec import ModelLoader, ModelOptions
from rlm_cli.plain import pick
from rlm_cli.render.console import live_capable, stderr_console
from rlm_cli.render.live import LiveView, NotesOnly
from rlm_cli.repl.sandbox import OS_LAYER_OFF
from rlm_cli.runs.history import RunHistory, new_run_id
from rlm_cli.store.context import Context

Warn = Callable[[str], None]


def model_options(s: Settings, prompt_cache_dir: Path | None = None) -> ModelOptions:
    """Backend options from settings (``prompt_cache_dir``: another folder for the prompt
    cache than ``<data dir>/prompt_cache``)."""
    return ModelOptions(
        llama=LlamaOptions(
            n_ctx=s.n_ctx or DEFAULT_N_CTX,
            n_threads=s.threads,
            prompt_cache_dir=prompt_cache_dir,
            # settings that keep their names in the backend's options
            **pick(
                s, "n_batch n_gpu_layers flash_attn seed prompt_cache prompt_cache_mb lookup_tokens"
            ),
        ),
        concurrency=s.concurrency,
        n_ctx=s.n_ctx,
    )


def engine_config(s: Settings) -> EngineConfig:
    """Loop options from settings (opens the sub-call cache unless ``cache`` is off)."""
    if s.thinking not in ("hide", "keep", "off"):
        raise ConfigError(f"thinking={s.thinking!r}: expected hide, keep or off")
    if s.compact_summary not in ("digest", "model"):
        raise ConfigError(f"compact_summary={s.compact_summary!r}: expected digest or model")
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
        step_timeout_s=s.step_timeout,
        sandbox={} if s.sandbox_isolation else dict(OS_LAYER_OFF),
        # settings that keep their names in the loop's options
        **pick(
            s,
            "max_output_chars grammar reasoning_chars repeats_before_end answer_bias"
            " compact_summary thinking",
        ),
        cache=SubcallCache() if s.cache else None,
        guard=ExplosionGuard(tiny_chars=s.tiny_prompt_chars, max_tiny=s.max_tiny_subcalls),
    )


def load_models(s: Settings, prompt_cache_dir: Path | None = None) -> tuple[Model, Model]:
    """The root and sub models named by the settings (or the registry's default model)."""
    spec = s.model or _installed_default()
    loader = ModelLoader(model_options(s, prompt_cache_dir), s.aliases)
    root = loader.load(spec, "root")
    try:
        sub = loader.load_sub(s.sub_model, spec, root, s.sub_model_auto)
    except BaseException:
        root.close()
        raise
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


def prepare_brief(context: Context, root: Model, s: Settings, warn: Warn) -> str:
    """Build (or load) the log map in this process, and the brief for the root prompt.

    Building is one pass at about 10k lines/s on a small machine; above ``map_max_lines``
    a first run skips it (and says so) instead of making the operator wait. The brief is
    cut to ``brief_tokens`` and to 1/``BRIEF_WINDOW_SHARE`` of the root model's window
    (by its tokenizer), whichever is smaller.
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
    budget = min(s.brief_tokens, root.n_ctx // BRIEF_WINDOW_SHARE)
    if budget <= 0:
        return ""
    return render_brief(
        make_brief(context, logmap), max_tokens=budget, count_tokens=root.count_tokens
    )


BRIEF_WINDOW_SHARE = 6
"""The brief takes at most 1/6 of the root window: a small window keeps room for the
instructions, the turns and their output (the brief says what it left out)."""


def findings_status(
    findings: Iterable[dict], fail_on: str, counts: Callable[[dict], bool] | None = None
) -> ExitStatus:
    """FINDINGS when a finding at or above ``fail_on`` (and passing ``counts``) is there, else OK."""
    if fail_on == "never":
        return ExitStatus.OK
    threshold = severity_rank(fail_on)
    for f in findings:
        if severity_rank(f["severity"]) >= threshold and (counts is None or counts(f)):
            return ExitStatus.FINDINGS
    return ExitStatus.OK


def stderr_warn(quiet: bool) -> Warn:
    """``rlm: MESSAGE`` on stderr, or nothing with --quiet."""
    if quiet:
        return lambda _m: None
    err = stderr_console()
    return lambda m: err.print(f"rlm: {m}", markup=False, highlight=False)


class RunLifecycle:
    """Models, config, observer and history of runs with one set of settings; closes all.

    ``run()`` may be called several times (a benchmark asks many questions with the same
    models); use it as a context manager so everything is closed whatever happens.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        quiet: bool = False,
        warn: Warn | None = None,
        debug: bool = False,
    ):
        self.settings = settings
        self.quiet = quiet
        self.debug = debug
        self.warn = warn or stderr_warn(quiet)
        self.root: Model | None = None
        self.sub: Model | None = None
        self.config: EngineConfig | None = None
        self.history: RunHistory | None = None
        self._history_opened = False
        self.started = time.time()
        self.clock = time.monotonic()
        """When the command started: ``rlm ask --timeout`` counts from here."""

    def __enter__(self) -> RunLifecycle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def load_models(self) -> tuple[Model, Model]:
        """Load the root and sub models once (call early for fast errors)."""
        if self.root is None or self.sub is None:
            self.root, self.sub = load_models(self.settings)
            if self.debug:
                for role, m in (("root", self.root), ("sub", self.sub)):
                    self.warn(f"{role} model: {m.describe()}")
        return self.root, self.sub

    def open_history(self) -> RunHistory | None:
        """The run history (None with log_runs off, or when it cannot be opened: a run is
        never refused because its record cannot be kept; the reason is said once)."""
        if not self._history_opened and self.settings.log_runs:
            self._history_opened = True
            try:
                self.history = RunHistory()
            except RlmError as e:
                self.warn(f"warning: run not recorded: {e}")
        return self.history

    def observer(self):
        """The live view on a terminal, notes on stderr otherwise, nothing with --quiet."""
        if self.quiet:
            return None
        err = stderr_console()
        return LiveView(err) if live_capable(err) else NotesOnly(err)

    def run(
        self,
        context: Context,
        question: str,
        *,
        guidance: str = "",
        example: str = "",
        mode: str = "rlm",
        run_id: str | None = None,
        started: float | None = None,
    ) -> RunResult:
        """Answer ``question`` over ``context`` (``guidance`` and ``example``: a task
        preset's, see :func:`rlm_cli.engine.prompts.load_task`).

        An interruption raises :class:`RunInterrupted` (its ``status`` says which signal)
        after the partial run is recorded; an error raises after its partial run (if any)
        is recorded with status ERROR. ``started`` (monotonic) starts the time budget's
        clock earlier than the run itself, e.g. at :attr:`clock`.
        """
        root, sub = self.load_models()
        s = self.settings
        run_id = run_id or new_run_id()
        self.started = time.time()
        self.open_history()
        brief = prepare_brief(context, root, s, self.warn)
        if self.config is None:
            self.config = engine_config(s)
        config = self.config
        try:
            if mode == "direct":
                result = run_direct(
                    root, context, question, config.root_params, run_id, guidance=guidance
                )
                for note in result.notes:
                    self.warn("note: " + note)
                return result
            observer = self.observer()
            engine = RlmEngine(
                root,
                sub,
                context,
                config,
                observer,
                guidance=guidance,
                example=example,
                brief=brief,
                started=started,
            )
            live = observer if isinstance(observer, LiveView) else contextlib.nullcontext()
            with live:
                return engine.run(question, run_id)
        except RunInterrupted as e:
            self.record(e.result.to_json(), e.status)
            raise
        except RlmError as e:
            partial = getattr(e, "partial", None)
            if partial is not None:  # the error itself is what to report: no warning
                self.record(partial.to_json(), ExitStatus.ERROR, prune=False, say=False)
            raise

    def record(self, record: dict, status: int, *, prune: bool = True, say: bool = True) -> None:
        """Save a run in the history with its exit status, and prune by ``retention_days``."""
        history = self.open_history()
        if history is None:
            return
        try:
            history.save(record, exit_code=int(status), started=self.started)
            if prune and self.settings.retention_days is not None:
                history.prune(keep_days=self.settings.retention_days)
        except sqlite3.Error as e:  # the answer matters more than its record
            if say:
                self.warn(f"warning: run not recorded: {e}")

    def close(self) -> None:
        """Close the models, the sub-call cache and the history (each once); notes the
        models kept (a prompt-cache entry that could not be read) are said first."""
        models = {id(m): m for m in (self.root, self.sub) if m is not None}.values()
        notes = [n for m in models for n in m.drain_notes()]
        for note in dict.fromkeys(notes):
            self.warn("note: " + note)
        close_models(*models)
        self.root = self.sub = None
        if self.config is not None and self.config.cache is not None:
            self.config.cache.close()
            self.config = None
        if self.history is not None:
            self.history.close()
            self.history = None

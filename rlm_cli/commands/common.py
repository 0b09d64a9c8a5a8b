"""What commands share: option declarations (as ``Annotated`` types) and option checks.

A command that takes ``--model`` writes ``model: ModelOpt = None``; the flag, its short
form and its help text live here once, so `ask` and `scan` cannot drift apart. Options a
command only passes on (to Settings or to the request's inputs) it names instead:
``@shared_options(*RUN_MODEL, *INPUTS)`` adds them and hands them over as ``**shared``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Annotated, Any, Optional, TypeVar, get_args

import typer

from rlm_cli.config import DEFAULTS, Settings, load_settings
from rlm_cli.engine.findings import SEVERITIES
from rlm_cli.errors import UsageError
from rlm_cli.llm.base import DEFAULT_N_CTX

FAIL_ON_CHOICES = (*SEVERITIES, "never")


def _optional(kind: Any, *flags: str, **kw: Any) -> Any:
    """The type of an option that is None unless given (Typer reads it at run time)."""
    return Annotated[Optional[kind], typer.Option(*flags, **kw)]  # noqa: UP045 - Typer reads it at run time


def _tuned(kind: Any, flag: str, minimum: float, text: str, setting: str) -> Any:
    """An optional flag for a setting, its help ending with the setting's default."""
    return _optional(
        kind, flag, min=minimum, help=f"{text} (default {getattr(DEFAULTS, setting)})."
    )


def _switch(*flags: str, help: str) -> Any:  # noqa: A002 - Typer's own name
    """The type of an on/off flag that is off unless given."""
    return Annotated[bool, typer.Option(*flags, help=help)]


DebugOpt = _switch("--debug", help="Show tracebacks of errors.")
JsonOpt = _switch("--json", help="Print one JSON object on stdout.")
QuietOpt = _switch(
    "--quiet",
    "-q",
    help="For cron: nothing on stderr but errors (scan: nothing at all unless a finding is new).",
)
BinaryOpt = _switch("--binary", help="Keep inputs that contain NUL bytes.")
NoLogOpt = _switch("--no-log", "-n", help="Do not record this run in the history.")
NoGrammarOpt = _switch("--no-grammar", help="Do not constrain root replies with a grammar (GGUF).")
ModelOpt = _optional(
    str,
    "--model",
    "-m",
    help="Root model: PATH.gguf, script:FILE.yaml, openai:URL#name or an alias. [env: RLM_MODEL]",
)
SubModelOpt = _optional(str, "--sub-model", help="Model for sub-calls (default: the root model).")
MaxIterationsOpt = _tuned(
    int, "--max-iterations", 1, "Root turns before a forced final answer", "max_iterations"
)
MaxSubcallsOpt = _tuned(int, "--max-subcalls", 0, "Sub-calls allowed in the run", "max_subcalls")
NCtxOpt = _optional(
    int,
    "--n-ctx",
    min=256,
    help=f"Model window in tokens (default {DEFAULT_N_CTX} for a GGUF model; "
    "an openai: server's own window).",
)
ThreadsOpt = _optional(int, "--threads", min=1, help="CPU threads for llama.cpp.")
TemperatureOpt = _optional(float, "--temperature", min=0.0, help="Sampling temperature.")
RootMaxTokensOpt = _tuned(
    int,
    "--root-max-tokens",
    16,
    "Longest root reply in tokens, at most 1/8 of the model's window",
    "root_max_tokens",
)
IncludeOpt = _optional(
    list[str], "--include", help="Glob of files to read inside folders (repeatable)."
)
ExcludeOpt = _optional(
    list[str], "--exclude", help="Glob of files to skip inside folders (repeatable)."
)
TimeoutOpt = _optional(
    float,
    "--timeout",
    min=1,
    help="Seconds allowed for the model run; calls under way are stopped at the deadline "
    "and a short final answer gets a few seconds more.",
)

MaxTokensOpt = _optional(
    int, "--max-tokens", min=1, help="Tokens (root and sub-calls) allowed in the run."
)
MaxDepthOpt = _optional(
    int, "--max-depth", min=1, help="Recursion depth (1: sub-calls are plain model calls)."
)
BatchSizeOpt = _tuned(
    int, "--batch-size", 1, "Prompt tokens llama.cpp evaluates per step", "n_batch"
)
FlashAttnOpt = _optional(bool, "--flash-attn/--no-flash-attn", help="Flash attention in llama.cpp.")
GpuLayersOpt = _optional(
    int,
    "--gpu-layers",
    min=-1,
    help=f"Layers offloaded to the GPU (-1: all; default {DEFAULTS.n_gpu_layers}).",
)
ConcurrencyOpt = _tuned(
    int, "--concurrency", 1, "Sub-calls in flight at once on an openai: server", "concurrency"
)
MaxOutputCharsOpt = _optional(
    int, "--max-output-chars", min=200, help="Printed output per step shown to the model."
)
SubMaxTokensOpt = _tuned(
    int, "--sub-max-tokens", 16, "Longest sub-call answer in tokens", "sub_max_tokens"
)
BriefTokensOpt = _optional(
    int,
    "--brief-tokens",
    min=0,
    help="Token budget of the log map in the first prompt, by the model's tokenizer "
    f"(0: none; at most 1/6 of the model's window; default {DEFAULTS.brief_tokens}).",
)
ThinkingOpt = _optional(
    str,
    "--thinking",
    help="Thinking models: hide (default; <think> kept out of answer and history), "
    "keep (kept in the history) or off (disabled via the chat template).",
)
KeepOpt = _switch(
    "--keep", help="Keep the stored copy of the inputs as a context (else it is removed after)."
)
ContextOpt = _optional(
    str, "--context", help="A stored context by id instead of paths (see rlm contexts list)."
)
TaskOpt = _optional(
    str,
    "--task",
    "-t",
    help="A preset question and guidance: which-node-fails, error-summary, timeline (or your "
    "own in <config dir>/tasks/NAME.yaml). Every argument is then a path.",
)
PathsArg = Annotated[
    Optional[list[str]],  # noqa: UP045 - Typer reads it at run time
    typer.Argument(help="Log files, folders or globs; stdin when none or '-'."),
]
SeedOpt = _optional(int, "--seed", help="Sampling seed (rlm bench: repeat k uses seed + k).")
FailOnOpt = _optional(
    str,
    "--fail-on",
    help="Exit 1 when a finding (scan: a new one) is at or above: info, warning, error, "
    f"critical, or never (default {DEFAULTS.fail_on}).",
)
NoCacheOpt = _switch("--no-cache", help="Do not read or write the sub-call cache.")

OPTIONS: dict[str, Any] = {
    "model": ModelOpt,
    "sub_model": SubModelOpt,
    "n_ctx": NCtxOpt,
    "threads": ThreadsOpt,
    "max_iterations": MaxIterationsOpt,
    "max_subcalls": MaxSubcallsOpt,
    "max_tokens": MaxTokensOpt,
    "max_depth": MaxDepthOpt,
    "timeout": TimeoutOpt,
    "batch_size": BatchSizeOpt,
    "flash_attn": FlashAttnOpt,
    "gpu_layers": GpuLayersOpt,
    "concurrency": ConcurrencyOpt,
    "max_output_chars": MaxOutputCharsOpt,
    "temperature": TemperatureOpt,
    "seed": SeedOpt,
    "root_max_tokens": RootMaxTokensOpt,
    "sub_max_tokens": SubMaxTokensOpt,
    "brief_tokens": BriefTokensOpt,
    "thinking": ThinkingOpt,
    "fail_on": FailOnOpt,
    "no_grammar": NoGrammarOpt,
    "no_cache": NoCacheOpt,
    "no_log": NoLogOpt,
    "context_id": ContextOpt,
    "keep": KeepOpt,
    "include": IncludeOpt,
    "exclude": ExcludeOpt,
    "binary": BinaryOpt,
}
"""Options a command can take by name through ``shared_options``: their types (a switch
defaults to off, any other option to None: not given)."""

RUN_MODEL = ("model", "sub_model", "n_ctx", "threads")
"""The model a run loads, and where."""
RUN_LIMITS = ("max_iterations", "max_subcalls", "timeout")
"""How long a run may go on."""
GENERATION = ("temperature", "seed", "root_max_tokens", "no_grammar")
"""How the root model's replies are sampled."""
INPUTS = ("include", "exclude", "binary")
"""Which files of the paths given are read."""
LOOK = ("context_id", *INPUTS, "keep")
"""Where a command that only looks (grep, brief, templates) reads: a stored context or the
inputs, stored for the command alone unless kept."""
RUN_OPTIONS = tuple(n for n in OPTIONS if n not in LOOK)
"""Every option of a model run (`rlm ask` takes them all)."""

_Command = TypeVar("_Command", bound=Callable[..., Any])


def shared_options(*names: str) -> Callable[[_Command], _Command]:
    """Add the options ``names`` (keys of ``OPTIONS``) to a command, before its ``--debug``;
    the command takes them as ``**shared`` and passes them on (``run_settings``,
    ``inputs``), so each is declared once, here."""

    def add(command: _Command) -> _Command:
        sig = inspect.signature(command, eval_str=True)
        own = [p for p in sig.parameters.values() if p.kind is not p.VAR_KEYWORD]
        added = [
            inspect.Parameter(
                n,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=OPTIONS[n],
                default=False if get_args(OPTIONS[n])[0] is bool else None,
            )
            for n in names
        ]
        last = [p for p in own if p.name == "debug"]
        params = [p.replace(kind=p.KEYWORD_ONLY) for p in own if p.name != "debug"]
        params += added + [p.replace(kind=p.KEYWORD_ONLY) for p in last]

        @functools.wraps(command)
        def run(**kw: Any) -> Any:
            return command(**kw)

        run.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in params}
        return run  # type: ignore[return-value]

    return add


RENAMED = {"batch_size": "n_batch", "gpu_layers": "n_gpu_layers"}
"""Options whose Settings field has another name."""
SWITCHES = ("no_grammar", "no_cache", "no_log")
"""On/off options that turn a setting off."""
RUN_FLAGS = frozenset(RUN_OPTIONS) - set(SWITCHES) - set(RENAMED)
"""The options of a model run that a command passes on to Settings under their own name."""


def run_settings(args: dict[str, Any], **flags: Any) -> Settings:
    """Settings for a model run: defaults < config.yaml < ``RLM_*`` < the flags given
    (a flag left at None was not given).

    ``args`` are the command's shared options (``**shared``): those named in ``RUN_FLAGS``
    or ``RENAMED``, and the switches ``no_log``, ``no_grammar`` and ``no_cache``, are read
    from it; ``flags`` are the command's own, by their Settings name."""
    check_fail_on(args.get("fail_on"))
    shared = {name: args[name] for name in RUN_FLAGS if name in args}
    shared.update({field: args[name] for name, field in RENAMED.items() if name in args})
    return load_settings().merged(
        log_runs=False if args.get("no_log") else None,
        grammar=False if args.get("no_grammar") else None,
        cache=False if args.get("no_cache") else None,
        **shared,
        **flags,
    )


def check_fail_on(value: str | None) -> None:
    """Raise UsageError unless ``--fail-on`` is a severity or ``never``."""
    if value is not None and value not in FAIL_ON_CHOICES:
        raise UsageError(f"--fail-on {value!r}: expected {', '.join(SEVERITIES)} or never")


def inputs(paths: list[str] | None, shared: dict[str, Any]) -> dict[str, Any]:
    """The input fields of a request (``actions.ingest.Inputs``) from a command's paths and
    its ``INPUTS`` options: empty path arguments dropped, globs not given as empty lists."""
    return {
        "paths": [p for p in paths or [] if p],
        "include": shared.get("include") or [],
        "exclude": shared.get("exclude") or [],
        "allow_binary": bool(shared.get("binary")),
    }


def look_inputs(paths: list[str] | None, shared: dict[str, Any]) -> dict[str, Any]:
    """The fields of a ``LookRequest`` (grep, brief, templates) from a command's paths and its
    ``LOOK`` options."""
    return {
        **inputs(paths, shared),
        "context_id": shared.get("context_id"),
        "keep": shared.get("keep", False),
    }


def command_group(
    app: typer.Typer,
    name: str,
    help: str,  # noqa: A002 - Typer's own name
    short_help: str | None = None,
    epilog: str | None = None,
) -> typer.Typer:
    """A command group, ``rlm NAME ...``, added to ``app``: called bare it shows its help,
    and its help text may use Rich markup."""
    group = typer.Typer(help=help, epilog=epilog, no_args_is_help=True, rich_markup_mode="rich")
    app.add_typer(group, name=name, short_help=short_help)
    return group

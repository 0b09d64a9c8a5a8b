"""Bench suites: a YAML file of tasks (a log, a question, a check), read and checked up front.

::

    name: my-suite
    tasks:
      - id: disk-1
        family: needle
        question: Which host logged the disk failure?
        log: {file: logs/disk.log}             # relative to this file
        check: {first_entity: db01}
        candidates: [web01, web02, db01]
      - id: bmc-10x
        family: fails
        size: 10                               # window multiples (generated logs)
        log: {generator: bmc_fleet, args: {seed: 3, fmt: pipe}}
        check: {first_entity: "{node}"}        # {name}: from the generator's ground truth
        candidates: "{nodes}"

A generated task may leave ``question`` out (the generator's own question is used). Every
problem is reported as one line naming the file and the task.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from rlm_cli.bench.checks import CHECK_KINDS, Check, parse_expected_time
from rlm_cli.bench.generators import GENERATORS, GeneratedLog
from rlm_cli.errors import UsageError
from rlm_cli.store.context import LOG_CHARS_PER_TOKEN

BUILTIN = "builtin"
CHARS_PER_TOKEN = int(LOG_CHARS_PER_TOKEN)
"""A window of n_ctx tokens holds about 2 * n_ctx characters of log (``LOG_CHARS_PER_TOKEN``)."""
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class LogSpec:
    """Where a task's log comes from: a file, or a generator with its arguments."""

    file: Path | None = None
    generator: str | None = None
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Task:
    """One task as written in the suite (placeholders not yet filled)."""

    id: str
    family: str
    log: LogSpec
    question: str | None
    check: dict[str, Any]
    candidates: Any = None
    size: float | None = None


@dataclass
class Suite:
    """A parsed suite."""

    name: str
    path: str
    tasks: list[Task]


@dataclass
class ResolvedTask:
    """A task ready to run: its log text, question and check, with ground truth filled in."""

    task: Task
    text: str
    question: str
    check: Check
    size_x: float
    """The log's size in model windows (characters / (n_ctx * CHARS_PER_TOKEN))."""
    truth: dict[str, Any] = field(default_factory=dict)

    @property
    def size_label(self) -> str:
        """``0.5x``, ``10x``, ``100x`` (two significant digits under 10)."""
        x = self.task.size if self.task.size is not None else self.size_x
        return f"{x:.2g}x" if x < 10 else f"{x:.0f}x"


def load_suite(spec: str) -> Suite:
    """Read ``spec`` (a YAML path, or ``builtin``) and check every task."""
    if spec == BUILTIN:
        text = resources.files("rlm_cli.bench").joinpath("builtin.yaml").read_text("utf-8")
        return parse_suite(text, where="builtin suite", base=None)
    path = Path(spec).expanduser()
    if not path.is_file():
        raise UsageError(f"suite {spec}: no such file (or give 'builtin')")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"suite {spec}: cannot read it: {e}") from e
    return parse_suite(text, where=f"suite {spec}", base=path.parent)


def parse_suite(text: str, *, where: str, base: Path | None) -> Suite:
    """Parse suite YAML; ``where`` names it in errors, ``base`` anchors relative log files."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        mark = getattr(e, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise UsageError(f"{where}: not valid YAML{at}: {first}") from None
    if not isinstance(data, dict) or not isinstance(data.get("tasks"), list) or not data["tasks"]:
        raise UsageError(f"{where}: expected a mapping with a non-empty 'tasks:' list")
    tasks: list[Task] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["tasks"], 1):
        task = _parse_task(raw, f"{where}: task {i}", base)
        if task.id in seen:
            raise UsageError(f"{where}: task {i}: id {task.id!r} is used twice")
        seen.add(task.id)
        tasks.append(task)
    return Suite(name=str(data.get("name") or where), path=where, tasks=tasks)


def _parse_task(raw: Any, where: str, base: Path | None) -> Task:
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: expected a mapping (id, family, question, log, check)")
    unknown = set(raw) - {"id", "family", "question", "log", "check", "candidates", "size"}
    if unknown:
        raise UsageError(f"{where}: unknown key {sorted(unknown)[0]!r}")
    tid = raw.get("id")
    if not isinstance(tid, (str, int)) or not str(tid).strip():
        raise UsageError(f"{where}: 'id' is missing")
    where = f"{where} ({tid})"
    family = raw.get("family")
    if not isinstance(family, str) or not family.strip():
        raise UsageError(f"{where}: 'family' is missing")
    log = _parse_log(raw.get("log"), where, base)
    question = raw.get("question")
    if question is not None and (not isinstance(question, str) or not question.strip()):
        raise UsageError(f"{where}: 'question' must be non-empty text")
    if question is None and log.generator is None:
        raise UsageError(f"{where}: 'question' is missing")
    check = raw.get("check")
    if not isinstance(check, dict) or len(check) != 1:
        raise UsageError(f"{where}: 'check' must be one of {', '.join(CHECK_KINDS)}: VALUE")
    kind, value = next(iter(check.items()))
    if kind not in CHECK_KINDS:
        raise UsageError(f"{where}: unknown check {kind!r} (expected {', '.join(CHECK_KINDS)})")
    if kind == "first_entity" and raw.get("candidates") is None:
        raise UsageError(
            f"{where}: check first_entity needs 'candidates:' (the entities to tell apart)"
        )
    size = raw.get("size")
    if size is not None:
        if isinstance(size, bool) or not isinstance(size, (int, float)) or size <= 0:
            raise UsageError(f"{where}: 'size' must be a positive number of windows")
        if log.generator is None:
            raise UsageError(f"{where}: 'size' applies to generated logs only")
    elif log.generator is not None and "chars" not in log.args:
        raise UsageError(f"{where}: a generated log needs 'size:' (windows) or args.chars")
    _check_value(kind, value, where, partial=log.generator is not None)
    return Task(
        id=str(tid),
        family=family.strip(),
        log=log,
        question=question,
        check={kind: value},
        candidates=raw.get("candidates"),
        size=float(size) if size is not None else None,
    )


def _parse_log(raw: Any, where: str, base: Path | None) -> LogSpec:
    if not isinstance(raw, dict) or ("file" in raw) == ("generator" in raw):
        raise UsageError(
            f"{where}: 'log' must be {{file: PATH}} or {{generator: NAME, args: {{...}}}}"
        )
    if "file" in raw:
        if base is None:
            raise UsageError(f"{where}: the builtin suite cannot name log files")
        path = (base / str(raw["file"])).expanduser()
        if not path.is_file():
            raise UsageError(f"{where}: log file {raw['file']} not found (looked at {path})")
        return LogSpec(file=path)
    name = raw["generator"]
    if name not in GENERATORS:
        raise UsageError(
            f"{where}: unknown generator {name!r} (known: {', '.join(sorted(GENERATORS))})"
        )
    args = raw.get("args") or {}
    if not isinstance(args, dict):
        raise UsageError(f"{where}: 'args' must be a mapping")
    return LogSpec(generator=name, args=dict(args))


def _check_value(kind: str, value: Any, where: str, *, partial: bool = False) -> None:
    """Raise UsageError when ``value`` cannot be a ``kind`` check (placeholders allowed when
    ``partial``: they are filled from the generator's truth later)."""
    if partial and isinstance(value, str) and _PLACEHOLDER.fullmatch(value.strip()):
        return
    if kind == "contains":
        items = value if isinstance(value, list) else [value]
        if not items or any(not isinstance(x, (str, int, float)) or str(x) == "" for x in items):
            raise UsageError(f"{where}: check contains: expected text or a list of texts")
    elif kind == "number":
        try:
            float(str(value).replace(",", ""))
        except ValueError:
            raise UsageError(f"{where}: check number: {value!r} is not a number") from None
    elif kind == "regex":
        try:
            re.compile(str(value))
        except re.error as e:
            raise UsageError(f"{where}: check regex: {value!r} does not compile: {e}") from None
    elif kind == "first_entity":
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"{where}: check first_entity: expected the entity's name")
    elif kind == "time":
        try:
            parse_expected_time(str(value))
        except ValueError:
            raise UsageError(
                f"{where}: check time: {value!r} is not 'YYYY-mm-dd HH:MM:SS'"
            ) from None


def _fill(value: Any, truth: dict[str, Any], where: str) -> Any:
    """``value`` with ``{name}`` placeholders replaced from ``truth`` (a lone placeholder
    keeps the truth's type, e.g. a list of candidates)."""
    if isinstance(value, list):
        return [_fill(v, truth, where) for v in value]
    if not isinstance(value, str):
        return value
    whole = _PLACEHOLDER.fullmatch(value.strip())
    if whole and whole.group(1) in truth:
        return truth[whole.group(1)]

    def sub(m: re.Match[str]) -> str:
        return str(truth[m.group(1)]) if m.group(1) in truth else m.group(0)

    return _PLACEHOLDER.sub(sub, value)


def resolve(task: Task, suite: Suite, n_ctx: int) -> ResolvedTask:
    """Materialise ``task`` for a model window of ``n_ctx`` tokens: its log text (generated at
    ``size`` windows), question and check with the ground truth filled in."""
    where = f"{suite.path}: task {task.id}"
    window_chars = n_ctx * CHARS_PER_TOKEN
    truth: dict[str, Any] = {}
    if task.log.file is not None:
        try:
            text = task.log.file.read_text("utf-8", errors="replace")
        except OSError as e:
            raise UsageError(f"{where}: cannot read {task.log.file}: {e}") from e
    else:
        assert task.log.generator is not None
        args = dict(task.log.args)
        if task.size is not None:
            args["chars"] = int(task.size * window_chars)
        try:
            gen: GeneratedLog = GENERATORS[task.log.generator](**args)
        except (TypeError, ValueError) as e:
            raise UsageError(f"{where}: generator {task.log.generator}: {e}") from None
        text, truth = gen.text, gen.truth
    question = _fill(task.question, truth, where) if task.question else truth.get("question")
    if not question:
        raise UsageError(f"{where}: no question (the generator gives none)")
    kind, value = next(iter(task.check.items()))
    value = _fill(value, truth, where)
    _check_value(kind, value, where)
    candidates = _fill(task.candidates, truth, where) if task.candidates is not None else []
    if not isinstance(candidates, list):
        candidates = [candidates]
    check = Check(kind, value, [str(c) for c in candidates])
    return ResolvedTask(task, text, str(question), check, len(text) / window_chars, truth)

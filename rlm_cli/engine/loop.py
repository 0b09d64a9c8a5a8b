"""The RLM loop: the root model writes code, the worker runs it, until FINAL or a budget.

Data flow of one turn: messages → root model → :func:`parse_reply` → each code block
runs in the REPL worker (its model calls served by :class:`SubcallService`) →
outputs go back as the next user message, with the budget line. The run ends at
FINAL / FINAL_VAR, or when a budget runs out, where one last call asks the root for
its best answer from the trajectory.
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace

from rlm_cli.config import DEFAULTS
from rlm_cli.engine import findings as findings_mod
from rlm_cli.engine.answer_end import other_end_taken
from rlm_cli.engine.answer_findings import answer_findings
from rlm_cli.engine.answer_kind import how_to_find, kind_line, lacks_asked_kind
from rlm_cli.engine.answer_rank import runner_up_named
from rlm_cli.engine.answer_severity import (
    ERROR,
    NO_SUCCESS,
    PRINTED_LINE,
    SUCCESS,
    error_kinds,
    first_line_of,
    mismatched_lines,
    success_kinds,
)
from rlm_cli.engine.budget import Budget, Limits
from rlm_cli.engine.compaction import Compactor
from rlm_cli.engine.events import RunObserver
from rlm_cli.engine.grammar import DEFAULT_REASONING_CHARS, final_grammar, turn_grammar
from rlm_cli.engine.grounding import IP_RE, answer_tokens, ungrounded
from rlm_cli.engine.parse import (
    UNPARSABLE,
    FinalSpec,
    ParsedReply,
    collapse_repeats,
    final_is_literal,
    is_placeholder,
    normalise_code,
    parse_reply,
    says_nothing_found,
    strip_thinking,
    touches_data,
)
from rlm_cli.engine.prompts import NEVER, Intent, fill, intent_for, load_prompts
from rlm_cli.engine.records import FORCED_FINAL, RunResult, Turn, Usage
from rlm_cli.engine.recursion import run_child
from rlm_cli.engine.subcalls import (
    ExplosionGuard,
    SubcallService,
    measure_chars_per_token,
    piece_chars,
)
from rlm_cli.errors import ExitStatus, PromptTooLong, RlmError, interrupt_status
from rlm_cli.llm.base import Completion, GenerationParams, GenerationStopped, Message, Model
from rlm_cli.llm.cache import SubcallCache
from rlm_cli.logs.logmap import LogMap
from rlm_cli.logs.severity import Severity
from rlm_cli.repl.session import ReplConfig, ReplSession
from rlm_cli.repl.view import NEAR_MISSES, NEAR_QUESTION, OTHER_WORDS, clip_line
from rlm_cli.store.context import LOG_CHARS_PER_TOKEN, TEMPLATE_WILDCARD, Context


@dataclass
class EngineConfig:
    """How a run behaves (budgets, sampling, windows, structure)."""

    limits: Limits = field(default_factory=Limits)
    root_params: GenerationParams = field(
        default_factory=lambda: GenerationParams(max_tokens=DEFAULTS.root_max_tokens)
    )
    sub_params: GenerationParams = field(
        default_factory=lambda: GenerationParams(max_tokens=DEFAULTS.sub_max_tokens)
    )
    max_output_chars: int = 4000
    step_timeout_s: float = 60.0
    compact_at: float = 0.85
    sandbox: dict = field(default_factory=dict)
    grammar: bool = True
    """Constrain root replies with a GBNF grammar where the backend can (llama.cpp)."""
    reasoning_chars: int = DEFAULT_REASONING_CHARS
    """Longest reasoning before the code block, under the grammar."""
    repeats_before_end: int = DEFAULTS.repeats_before_end
    """Replies that only re-send code already run before the run ends by ``repeating``."""
    answer_bias: float = DEFAULTS.answer_bias
    """Logits added to opening the reply with ``FINAL(`` in a turn after code ran."""
    thinking: str = "hide"
    """``hide``: <think> kept out of answer and history; ``keep``: kept in the history;
    ``off``: disabled through the chat template (Qwen3 ``enable_thinking``, ``/no_think``)."""
    cache: SubcallCache | None = None
    guard: ExplosionGuard = field(default_factory=ExplosionGuard)
    plan_pushback: bool = True
    """Refuse once a FINAL given before any code looked at the data."""
    summary_max_tokens: int = 300
    compact_summary: str = DEFAULTS.compact_summary
    """``digest`` or ``model``: who writes the summary of compacted turns."""
    grounding_pushbacks: int = 2
    """Times per run a written final answer naming something the model never saw (an IP,
    a host, a number in no output, the brief or the question) is pushed back; an IP address
    counts as seen only in what code printed (or the question), not in the brief."""
    final_grace_s: float = 8.0
    """After a timeout, seconds the forced final answer may take (then it is skipped)."""
    final_max_tokens_after_timeout: int = 160
    """After a timeout, the forced final answer's token limit (short, so it fits the grace)."""


def sub_chunk_chars(sub_n_ctx: int, config: EngineConfig) -> int:
    """A sub-call piece's characters for a log of usual density (``LOG_CHARS_PER_TOKEN``):
    the system prompt's ``{{sub_chunk_chars}}`` for prompt files that still name it. A run
    measures its log (``RlmEngine.pieces``): ``context.chunks()`` cuts that size."""
    return piece_chars(sub_n_ctx, config.sub_params.max_tokens, 100, LOG_CHARS_PER_TOKEN)


def root_system_prompt(
    prompts: dict[str, str], config: EngineConfig, intent: Intent | None, sub_n_ctx: int
) -> str:
    """The static head of the root conversation: the same for every log and question of one
    kind (``intent``'s worked example) for a model and prompt version, so its evaluated
    state can be cached (the log's description, the brief and the question go in the first
    user message)."""
    example = intent.example if intent and intent.example else ""
    text = fill(
        prompts["system"],
        functions=prompts["functions"],
        example=(example or prompts.get("example", "")).strip(),
        max_output_chars=f"{config.max_output_chars:,}",
        sub_chunk_chars=f"{sub_chunk_chars(sub_n_ctx, config):,}",
    )
    if config.thinking == "off":
        text += "\n/no_think"
    return text


@dataclass(frozen=True)
class Pieces:
    """The size of a sub-call's piece of this log, by the sub-model's tokenizer."""

    chars: int
    chars_per_token: float

    @property
    def tokens(self) -> int:
        """The piece in the sub-model's tokens."""
        return max(1, int(self.chars / self.chars_per_token))


class RunInterrupted(Exception):
    """Ctrl-C (or SIGTERM/SIGHUP) during a run; ``result`` holds what was done so far,
    ``status`` the exit status of the signal (130, 143, 129)."""

    def __init__(self, result: RunResult, status: int = ExitStatus.SIGINT) -> None:
        super().__init__("interrupted")
        self.result = result
        self.status = ExitStatus(status)


def describe_context(context: Context, head_lines: int = 3, width: int = 160) -> str:
    """The metadata block of the root prompt: size, sources, a short head sample."""
    meta = context.meta
    srcs = meta["sources"]
    listed = ", ".join(f"{s['path']} (lines {s['first_line']}-{s['last_line']})" for s in srcs[:8])
    if len(srcs) > 8:
        listed += f", and {len(srcs) - 8} more"
    head = []
    for i, line in enumerate(context.head(head_lines), 1):
        shown = line if len(line) <= width else line[:width] + f"… [{len(line) - width} more chars]"
        head.append(f"  {i}: {shown}")
    return (
        f"- {context.line_count:,} lines, {len(context):,} characters, {meta['bytes']:,} bytes\n"
        f"- sources: {listed}\n"
        f"- first lines:\n" + "\n".join(head)
    )


class RlmEngine:
    """Runs one question over one context."""

    def __init__(
        self,
        root: Model,
        sub: Model,
        context: Context,
        config: EngineConfig | None = None,
        observer: RunObserver | None = None,
        *,
        brief: str = "",
        guidance: str = "",
        example: str = "",
        depth: int = 0,
        usage: Usage | None = None,
        budget: Budget | None = None,
        call_ids: Iterator[int] | None = None,
        started: float | None = None,
    ) -> None:
        self.root = root
        self.sub = sub
        self.context = context
        self.config = _reply_fits_window(config or EngineConfig(), root.n_ctx)
        self.observer = observer or RunObserver()
        self.brief = brief
        self.guidance = guidance
        self.example = example  # a task preset's worked example ("": none)
        self.intent = ""  # the kind of question whose hint the first message carried
        self._intent: Intent | None = None
        self._log_head_chars = 0
        self.depth = depth
        self.prompts = load_prompts("root")
        self.usage = usage or Usage()
        self.budget = budget or Budget(self.config.limits, self.usage, started)
        self.turns: list[Turn] = []
        self.findings: list[dict] = []
        self.child_findings: list[dict] = []
        self.children: list[dict] = []
        self.notes: list[str] = []
        self.history: list[dict] = []
        self.use_grammar = bool(self.config.grammar and root.supports_grammar())
        self._looked = False
        self._printed = False  # a block printed something (before an error or not)
        self._failed = False  # a block raised an error
        self._pushed_back = False
        self._failed_pushed = False
        self._near_misses_shown = ""  # the close lines the last step's empty search showed
        self._empty_search_shown = False  # the last step printed an empty search's notice
        self._near_miss_pushed = False
        self._seen_code: dict[str, int] = {}
        self._seen_output: dict[str, str] = {}
        self._shown: list[str] = []  # what the model was shown: first message, outputs
        self._outputs_seen: list[str] = []  # what code printed, in replies already read
        self._question = ""
        self._kinds_pushed: set[str] = (
            set()
        )  # kinds of value asked for an answer lacked (once each)
        self._template_pushed = False  # an answer holding a template's <*>, pushed back
        self._outcome_pushed = False  # an answer standing on lines of the other outcome
        self._order_pushed: set[str] = set()  # the order checks that pushed back (each once)
        self._ungrounded_pushbacks = 0
        self._stalled = 0
        self._after_output = False  # the next turn follows what a block printed
        self._found_host = ""  # the first host an output named (see _note_found_host)
        self._reminders_shown: set[str] = set()  # the intent's reminders shown (each once)
        self._logmap: LogMap | bool | None = None  # loaded on first use; False: none built
        self.run_id = ""
        self.session: ReplSession | None = None
        self.call_ids = call_ids or itertools.count(1)
        self._pieces: Pieces | None = None

    # -- prompt pieces ------------------------------------------------------------------------

    def pieces(self) -> Pieces:
        """How big a piece of this log one sub-call takes (measured once, by the sub-model's
        tokenizer): ``context.chunks()`` cuts it, a refusal of too many tiny prompts names it."""
        if self._pieces is None:
            cpt = measure_chars_per_token(self.context, self.sub)
            system_tokens = self.sub.count_tokens(load_prompts("subcall")["system"])
            chars = piece_chars(
                self.sub.n_ctx, self.config.sub_params.max_tokens, system_tokens, cpt
            )
            self._pieces = Pieces(chars, cpt)
        return self._pieces

    def _system_prompt(self) -> str:
        return root_system_prompt(self.prompts, self.config, self._intent, self.sub.n_ctx)

    def first_messages(self, question: str) -> list[Message]:
        """The conversation of the first root turn: the static system prompt, then the
        log's description, the brief, the question and the budget."""
        guidance = self.guidance.strip()
        if not guidance:  # no --task: the hint and example for this kind of question, if any
            self._intent = intent_for(question)
            if self._intent is not None:
                self.intent, guidance = self._intent.name, self._intent.hint
        elif self.example.strip():  # a task with its own worked example
            self._intent = Intent("task", NEVER, guidance, self.example.strip())
        first_user = fill(
            self.prompts["first_user"],
            context_info=describe_context(self.context),
            brief=f"\n{self.brief}\n" if self.brief else "",
            question=question,
            guidance=f"\n{guidance}\n" if guidance else "",
            **self._budget_values(1),
        )
        # what precedes the question (the log's description and brief) is the same for
        # every question about this log: the backend may cache the prompt up to there
        self._log_head_chars = max(0, first_user.find(question))
        return [
            {"role": "system", "content": self._system_prompt()},
            {"role": "user", "content": first_user},
        ]

    def _budget_values(self, turn: int) -> dict:
        return {
            "turn": turn,
            "max_turns": self.config.limits.max_iterations,
            "subcalls_left": self.budget.subcalls_left,
            "budget_extra": self.budget.status_line(),
            "budget_line": self.budget.turn_line(turn, self.config.limits.max_iterations),
        }

    def _reminder(self) -> str:
        """The intent's step reminder, once: under the first output, or, when it names
        ``{{host}}``, under the first output that named a host ("" otherwise). Shown on
        every turn, it kept the 1.5B model searching after the value was printed."""
        step = self._intent.step if self._intent else ""
        if not step or "step" in self._reminders_shown:
            return ""
        if _names_host(step):
            if not self._found_host:
                return ""
            step = fill(step, host=self._found_host)
        self._reminders_shown.add("step")
        return step + "\n"

    def _step_again(self) -> str:
        """The step reminder once more, under a reply that only re-sent code, when it named
        a host and no code run so far names that host ("" otherwise). The 1.5B model re-sent
        its first search under the step reminder; the run then ended by ``repeating``, and
        the forced answer, which cannot search, said the address was not found."""
        step = self._intent.step if self._intent else ""
        host = self._found_host
        if not host or not _names_host(step) or not self._due_after_step("step_again"):
            return ""
        if any(host.lower() in code.lower() for code in self._seen_code):
            return ""
        self._reminders_shown.add("step_again")
        return fill(step, host=host) + "\n"

    def _due_after_step(self, name: str) -> bool:
        """The reminder ``name`` may go now: the step reminder was shown, ``name`` not yet."""
        return "step" in self._reminders_shown and name not in self._reminders_shown

    def _last_search(self) -> str:
        """The pattern of the last search the model's code ran, as written ("" for none)."""
        for turn in reversed(self.turns):
            for code in reversed(turn.code):
                m = _SEARCH_PATTERN.search(code)
                if m is not None:
                    return m.group("literal")
        return ""

    def _narrow_reminder(self, ran: list[str]) -> str:
        """The intent's ``narrow`` reminder, once: under the output of a search, after the
        step reminder named a host, whose pattern does not name that host. The 1.5B model,
        told to search cn149's own lines with a word of the question, grepped "bmc" alone,
        and read other hosts' lines. The reminder gives it code: its own search (``{{pattern}}``:
        the string as it wrote it, quotes included) with ``also=`` the host."""
        narrow = self._intent.narrow if self._intent else ""
        host = self._found_host
        if not narrow or not host or not self._due_after_step("narrow"):
            return ""
        for code in ran:
            m = _SEARCH_PATTERN.search(code)
            if m is None:
                continue
            if host.lower() in code.lower() or not m.group(3).strip():  # also="cn149" too
                return ""
            self._reminders_shown.add("narrow")
            return fill(narrow, host=host, pattern=m.group("literal")) + "\n"
        return ""

    def _read_reminder(self, printed: list[str]) -> str:
        """The intent's ``read`` reminder, once: under a later output with lines that name the
        host the step reminder named. The 1.5B model printed cn149-bmc's DHCP lease, the
        answer, and searched on for SEL lines until it ran out of new searches."""
        read = self._intent.read if self._intent else ""
        host = self._found_host
        if not read or not host or not self._due_after_step("read"):
            return ""
        names = re.compile(rf"(?<![\w.-]){re.escape(host)}(?![\w.])", re.IGNORECASE)
        lines = (line for text in printed for line in text.splitlines()[1:])
        if not any(PRINTED_LINE.search(line) and names.search(line) for line in lines):
            return ""
        self._reminders_shown.add("read")
        return fill(read, host=host) + "\n"

    def _note_found_host(self, printed: list[str]) -> None:
        """Remember the first host the model's outputs named (the one a two-step question
        goes on with): the step reminder names it, so the model need not carry it over."""
        if self._found_host or not printed or not (self._intent and self._intent.step):
            return
        logmap = self._log_map()
        if logmap is not None:
            hosts = logmap.named_in("\n".join(printed), kind="host")
            self._found_host = hosts[0] if hosts else ""

    def _log_map(self) -> LogMap | None:
        """The context's log map, loaded once (None when it was not built)."""
        if self._logmap is None:
            self._logmap = LogMap.load(self.context.path) or False
        return self._logmap or None

    # -- the run ----------------------------------------------------------------------------------

    def run(self, question: str, run_id: str) -> RunResult:
        """Answer ``question``; returns the full record of the run."""
        t0 = time.monotonic()
        self.run_id = run_id
        if self.config.limits.timeout_s is not None:  # calls under way stop at the deadline
            stop = self.budget.should_stop
            self.config = replace(
                self.config,
                root_params=replace(self.config.root_params, should_stop=stop),
                sub_params=replace(self.config.sub_params, should_stop=stop),
            )
        if self.config.thinking == "off":
            for m in {id(self.root): self.root, id(self.sub): self.sub}.values():
                m.set_thinking(False)
        service = SubcallService(
            self.sub,
            self.config.sub_params,
            load_prompts("subcall")["system"],
            self.budget,
            self.usage,
            self.observer,
            depth=self.depth,
            child_runner=self._run_child,
            cache=self.config.cache,
            guard=self.config.guard,
            chunk_chars=self.pieces().chars,
            call_ids=self.call_ids,
            question=question,
        )
        session = ReplSession(
            self.context.path,
            service.handle,
            ReplConfig(
                max_output_chars=self.config.max_output_chars,
                step_timeout_s=self.config.step_timeout_s,
                sandbox=self.config.sandbox,
                chars_per_token=self.pieces().chars_per_token,
                chunk_tokens=self.pieces().tokens,
                question=question,
            ),
        )
        self.session = session
        if self.depth == 0:
            self.observer.run_started(
                {
                    "run_id": run_id,
                    "question": question,
                    "root": self.root.spec,
                    "sub": self.sub.spec,
                    "context_id": self.context.id,
                    "lines": self.context.line_count,
                    "limits": self.config.limits.__dict__,
                    "grammar": self.use_grammar,
                }
            )
        messages = self.first_messages(question)
        self._question = question
        first_user = messages[1]["content"]
        self._shown.append(first_user)
        self.compactor = Compactor(
            model=self.root,
            prompts=self.prompts,
            question=question,
            compact_at=self.config.compact_at,
            reply_tokens=self.config.root_params.max_tokens,
            summary_max_tokens=self.config.summary_max_tokens,
            complete=self._root_call,
            by_model=self.config.compact_summary == "model",
        )
        answer: str | None = None
        ended_by = "max_iterations"
        try:
            session.start()
            for turn_no in range(1, self.config.limits.max_iterations + 1):
                exhausted = self.budget.exhausted()
                if exhausted:
                    ended_by = exhausted
                    break
                turn = Turn(index=turn_no)
                service.turn = turn
                self.turns.append(turn)
                compactions = len(self.compactor.records)
                try:
                    self._fit_window(messages, first_user, turn)
                except PromptTooLong:
                    if turn_no == 1:
                        raise
                    # no room for another turn: the forced final answer gives way instead
                    self.turns.pop()
                    tried = self.compactor.records[compactions:]
                    first, last = tried[-1]["turns"] if tried else (0, 0)
                    self.notes.append(
                        f"turn {turn_no}: no room for another turn in the "
                        f"{self.root.n_ctx:,}-token window"
                        + (f", even with turns {first}-{last} compacted" if tried else "")
                    )
                    ended_by = "window"
                    break
                try:
                    answer, reply_msg = self._turn(turn, messages, session)
                except GenerationStopped:
                    self._note(turn, f"turn {turn_no}: stopped by the time budget")
                    ended_by = "timeout"
                    break
                if answer is not None:
                    ended_by = "final"
                    break
                messages.append({"role": "assistant", "content": self._history_text(turn.reply)})
                messages.append({"role": "user", "content": reply_msg})
                turn.feedback = reply_msg
                self._remember(turn, reply_msg, session)
                if self._stalled >= self.config.repeats_before_end:
                    ended_by = "repeating"
                    break
            if answer is None:
                if ended_by == "max_iterations" and self.budget.exhausted():
                    ended_by = self.budget.exhausted() or ended_by
                answer = self._final_in_time(
                    ended_by,
                    lambda: self._forced_final(messages, first_user, question, ended_by, session),
                )
        except KeyboardInterrupt as e:
            result = self._result(run_id, question, answer or "", "interrupted", t0, session)
            session.close()
            raise RunInterrupted(result, interrupt_status(e)) from None
        except RlmError as e:
            e.partial = self._result(run_id, question, answer or "", "error", t0, session)  # type: ignore[attr-defined]
            session.close()
            raise
        session.close()
        if self.depth == 0 and ended_by == "final":  # not a forced best guess
            logmap = self._log_map()
            self.findings.extend(answer_findings(answer, logmap, self.findings))
        result = self._result(run_id, question, answer, ended_by, t0, session)
        if self.depth == 0:
            self.observer.run_finished(result)
        return result

    def _root_call(
        self, messages: list[Message], params: GenerationParams, on_text=None, turn: int = 0
    ):
        def progress(done: int, total: int) -> None:
            self.observer.prompt_progress(turn, done, total, self.depth)

        hooked = hasattr(self.root, "on_prompt_progress")
        if hooked:
            self.root.on_prompt_progress = progress  # type: ignore[attr-defined]
        if self._log_head_chars:
            params = replace(params, cache_prefix_chars=self._log_head_chars)
        try:
            c = self.root.complete(messages, params, on_text)
        finally:
            if hooked:
                self.root.on_prompt_progress = None  # type: ignore[attr-defined]
        self.usage.add(c, root=True)
        return c

    def _turn_usage(self, c: Completion) -> dict:
        """What a root turn's reply cost, as its record keeps it."""
        return {
            "prompt_tokens": c.prompt_tokens,
            "completion_tokens": c.completion_tokens,
            "prompt_tokens_reused": c.prompt_tokens_reused,
            "finish_reason": c.finish_reason,
            "grammar": self.use_grammar,
            **c.speed(),
        }

    def _history_text(self, reply: str) -> str:
        """The assistant message kept in the conversation (thinking out unless ``keep``)."""
        if self.config.thinking == "keep":
            return reply
        return strip_thinking(reply)[0]

    def _turn(self, turn: Turn, messages: list[Message], session: ReplSession):
        """One root turn. Returns (answer or None, next user message)."""
        t0 = time.monotonic()
        self.observer.turn_started(turn.index, self.depth)
        params = self.config.root_params
        if self.use_grammar:
            params = replace(params, grammar=turn_grammar(self.config.reasoning_chars))
        if self._after_output and self.config.answer_bias:
            params = replace(params, opening_bias=("FINAL(", self.config.answer_bias))
        c = self._root_call(
            messages,
            params,
            lambda piece: self.observer.root_text(turn.index, piece, self.depth),
            turn=turn.index,
        )
        parsed: ParsedReply = parse_reply(c.text)
        turn.reply, turn.reasoning, turn.code = c.text, parsed.reasoning, list(parsed.code_blocks)
        turn.usage = self._turn_usage(c)
        if parsed.thinking:
            turn.usage["thinking_chars"] = len(parsed.thinking)
        outputs: list[str] = []
        blocks = list(parsed.code_blocks)
        if c.finish_reason == "length":
            what = ""
            if blocks and parsed.unclosed and not _compiles(blocks[-1]):
                blocks.pop()
                what = " inside its code block, so that block was not run"
            elif not blocks and parsed.final is None:
                what = " before it wrote any code"
            self._note(
                turn,
                f"turn {turn.index}: the reply hit the {params.max_tokens}-token limit and was cut"
                + what,
            )
            outputs.append(
                fill(self.prompts["cut_reply"], max_tokens=params.max_tokens, what=what).strip()
            )
        self.observer.root_reply(turn.index, parsed.reasoning, blocks, turn.usage, self.depth)
        answer = None
        answer_written = False  # text the model wrote, not a value its code computed
        printed: list[str] = []  # what this reply's code printed (not the engine's words)
        ran = 0
        unseen = False  # code of this reply printed something its author has not read yet
        searched = False  # code of this reply read the log (its output may change the answer)
        ran_code: list[str] = []
        for i, code in enumerate(blocks):
            key = normalise_code(code)
            if key in self._seen_code:
                earlier = self._seen_output.get(key, "")
                outputs.append(
                    f"[block {i + 1}] "
                    + fill(self.prompts["repeated_code"], turn_ran=self._seen_code[key]).strip()
                    + (f"\nIts output then was:\n{_clip_text(earlier, 1500)}" if earlier else "")
                )
                self._note(
                    turn,
                    f"turn {turn.index}: repeated code from turn {self._seen_code[key]} not run",
                )
                continue
            self._seen_code[key] = turn.index
            ran += 1
            ran_code.append(code)
            if touches_data(code):
                self._looked = searched = True
            left = self.budget.time_left()
            session.config.step_timeout_s = (
                self.config.step_timeout_s
                if left is None
                else max(1.0, min(self.config.step_timeout_s, left))
            )
            r = session.execute(code)
            self._printed = self._printed or bool(r.stdout.strip())
            self._failed = self._failed or r.error is not None
            if NEAR_MISSES in r.stdout or NEAR_QUESTION in r.stdout:  # compaction may cut it
                self._near_misses_shown = _close_lines(r.stdout)
            else:
                self._near_misses_shown = ""
            self._empty_search_shown = OTHER_WORDS in r.stdout
            turn.outputs.append(r.to_json())
            self.observer.step_finished(turn.index, i, r.to_json(), self.depth)
            if r.cut:
                self._note(
                    turn,
                    f"turn {turn.index}: printed output cut by {r.cut:,} characters (model was told)",
                )
            if r.restarted:
                self._note(turn, f"turn {turn.index}: {r.error}")
            for f in r.findings:
                self.findings.append({**f, "turn": turn.index})
            step_text = self._format_step(i, len(blocks), r.stdout, r.error)
            outputs.append(step_text)
            printed.append(step_text)
            self._seen_output[key] = step_text
            news = unseen or bool(r.error) or _prints_news(r.stdout)
            if r.final is not None:
                written = final_is_literal(code)
                if news and written and not self._stands_on_seen(str(r.final["value"]), searched):
                    self._refuse_unseen_final(turn, outputs)
                else:
                    answer = r.final["value"]
                    answer_written = written
                break
            unseen = news
        again = self._step_again() if blocks and not ran else ""
        # a re-send under a reminder shown again is not a stall: the reminder is new to it
        self._stalled = self._stalled + 1 if blocks and not ran and not again else 0
        if (
            answer is None
            and parsed.final is not None
            and not parsed.final.closed
            and c.finish_reason == "length"
        ):
            outputs.append(self.prompts["cut_final"].strip())
            self._note(
                turn, f"turn {turn.index}: final answer cut by the token limit, not accepted"
            )
        elif (
            answer is None
            and parsed.final is not None
            and unseen
            and parsed.final.is_literal
            and not self._stands_on_seen(parsed.final.literal(), searched)
        ):
            self._refuse_unseen_final(turn, outputs)
        elif answer is None and parsed.final is not None:
            answer, message = self._resolve_final(parsed.final, session)
            answer_written = parsed.final.is_literal
            if message:
                outputs.append(message)
                self._note(turn, f"turn {turn.index}: {message.splitlines()[0]}")
        if answer is not None:
            answer = strip_thinking(answer)[0]
            if answer_written:
                answer = self._once(turn, answer)
            refusal = self._refusal(turn, answer, answer_written)
            if refusal:
                outputs.append(refusal)
                answer = None
        turn.elapsed_s = time.monotonic() - t0
        if answer is not None:
            return answer, ""
        self._shown.extend(printed)
        self._outputs_seen.extend(printed)
        # lines of the host on screen: read them; none: narrow the search to the host
        read = self._read_reminder(printed)
        narrow = "" if read else self._narrow_reminder(ran_code)
        self._note_found_host(printed)
        values = self._budget_values(turn.index + 1)
        self._after_output = False
        if not blocks and parsed.final is None and not outputs:
            return None, fill(self.prompts["no_code_user"], **values)
        if not blocks and parsed.final is None:
            outputs.append(fill(self.prompts["no_code_user"], **values).strip())
            return None, "\n\n".join(outputs)
        step = self._reminder()
        # the nudge toward answering is not given where a reminder sends the model on to a
        # second search (seed 1: nudged under "search cn080's own lines next", the 1.5B
        # model answered an address it had not looked up)
        searches_on = bool(narrow) or (bool(step) and _names_host(self._intent.step))
        self._after_output = ran > 0 and not searches_on
        return None, fill(
            self.prompts["step_user"],
            outputs="\n\n".join(outputs),
            reminder=read + narrow + step + again,
            **values,
        )

    def _refusal(self, turn: Turn, answer: str, written: bool) -> str:
        """Why a final answer is not taken yet, as the text sent back ("": taken), noted.
        ``written``: the answer is text the model wrote, not a value its code computed.
        Each check pushes back at most as often as its setting or flag allows; then the
        answer stands."""
        if is_placeholder(answer):
            return self._refuse(
                turn, "empty final answer not accepted", self.prompts["empty_final"]
            )
        if self.config.plan_pushback and not self._looked and not self._pushed_back:
            self._pushed_back = True
            return self._refuse(
                turn,
                "final answer before any code looked at the log: pushed back once",
                self.prompts["plan_pushback"],
            )
        # a written answer after code that only failed, printing nothing: the 1.5B model,
        # its one block raising AttributeError, answered "The error message template
        # 'error' is not found" (output printed before an error was seen: that stands)
        if (
            self.config.plan_pushback
            and written
            and self._looked
            and self._failed
            and not self._printed
            and not self._failed_pushed
        ):
            self._failed_pushed = True
            return self._refuse(
                turn,
                "final answer when no block had printed anything: pushed back once",
                self.prompts["failed_final"],
            )
        if self._empty_search_shown and not self._near_miss_pushed and says_nothing_found(answer):
            # "none" from one search in the model's words (the 1.5B model: "No znode path was
            # found" after grepping "znode already exists"; the log says NodeExists)
            self._near_miss_pushed = True
            if self._near_misses_shown:
                return self._refuse(
                    turn,
                    "'nothing found' after a search with close lines: pushed back once",
                    fill(self.prompts["near_miss_final"], lines=self._near_misses_shown),
                )
            return self._refuse(
                turn,
                "'nothing found' after a search that matched nothing: pushed back once",
                self.prompts["empty_search_final"],
            )
        # a template's wildcard stands for a value not looked up (the 1.5B model answered
        # 'msra-sa-<*>/<*>:<*>' on a real Hadoop log); in a value code computed from the log
        # map's rows (an error summary's patterns) it is what the data says
        if written and TEMPLATE_WILDCARD in answer and not self._template_pushed:
            self._template_pushed = True
            return self._refuse(
                turn,
                "final answer holds a template's <*>: pushed back once",
                self.prompts["template_final"],
            )
        asked, mismatch = self._outcome_mismatch(answer)
        if mismatch:
            self._outcome_pushed = True
            stands = {
                ERROR: "stands on lines logged below warning",
                SUCCESS: "stands on lines logged at warning or worse",
                NO_SUCCESS: "says there was none",
            }[asked]
            return self._refuse(
                turn,
                f"the question asks about {'an error' if asked == ERROR else 'a success'}, "
                f"the final answer {stands}: pushed back once",
                mismatch,
            )
        kind = lacks_asked_kind(self._question, answer, self._kinds_pushed)
        if kind:
            self._kinds_pushed.add(kind)
            return self._refuse(
                turn,
                f"the question asks for {kind}, the final answer gives none: pushed back once",
                fill(
                    self.prompts["wrong_kind_final"],
                    kind=kind,
                    how=how_to_find(kind, answer, self._question, self._last_search()),
                ),
            )
        misread = self._order_misread(answer)
        if misread:
            prompt, found, why = misread
            return self._refuse(turn, why, fill(self.prompts[prompt], **found))
        if written and self._ungrounded_pushbacks < self.config.grounding_pushbacks:
            missing = ungrounded(answer, "\n".join(self._shown))
            # an address is looked up, not picked from the brief or the first lines shown:
            # the 1.5B model answered a BMC's IP with the host's own lease from the latter
            by_code = "\n".join([self._question, *self._outputs_seen])
            missing += [
                t for t in ungrounded(answer, by_code) if IP_RE.fullmatch(t) and t not in missing
            ]
            if missing:
                self._ungrounded_pushbacks += 1
                names = ", ".join(missing[:5])
                return self._refuse(
                    turn,
                    f"final answer names {names}, seen in no output: pushed back",
                    fill(self.prompts["ungrounded_final"], tokens=names),
                )
        return ""

    def _order_misread(self, answer: str) -> tuple[str, dict[str, str], str] | None:
        """``(prompt, values, note)`` for an answer that misreads an order the outputs
        printed, each kind pushed back once: the runner-up of a ranking named for its leader
        (``answer_rank``), or the other end of a series for the end asked (``answer_end``)."""
        if not self.config.plan_pushback:
            return None
        for prompt, check, note in _ORDER_CHECKS:
            if prompt in self._order_pushed:
                continue
            found = check(self._question, answer, self._outputs_seen)
            if found:
                self._order_pushed.add(prompt)
                return prompt, found, note(found)
        return None

    def _outcome_mismatch(self, answer: str) -> tuple[str, str]:
        """``(mismatch, the pushback)`` for an answer standing only on lines of the other
        outcome, or a "none" to a question about a success (``mismatched_lines``); the
        pushback shows the kinds of line of the outcome asked. ``("", "")``: none due."""
        logmap = self._log_map()
        if self._outcome_pushed or not self.config.plan_pushback or logmap is None:
            return "", ""
        asked, lines = mismatched_lines(
            answer, self._question, self._outputs_seen, logmap, hop_host=self._found_host
        )
        if not asked:
            return "", ""
        kinds = (error_kinds if asked == ERROR else success_kinds)(self._question, logmap)
        if not kinds:
            return "", ""
        level = Severity(max(logmap.severity[n - 1] for n in lines)).name if lines else ""
        firsts = [(first_line_of(logmap, t, asked), t.count) for t in kinds]
        shown = "\n".join(
            f"{n}: {clip_line(self.context.line(n))} "
            f"[{count:,} line{'s' if count != 1 else ''} of this kind]"
            for n, count in firsts
        )
        # an answer from these lines stands on what it was shown, addresses included
        self._shown.append(shown)
        self._outputs_seen.append(shown)
        prompt = {
            ERROR: "below_error_final",
            SUCCESS: "failure_for_success_final",
            NO_SUCCESS: "no_success_final",
        }[asked]
        return asked, fill(
            self.prompts[prompt],
            lines=", ".join(str(n) for n in lines[:5]),
            level=level,
            kinds=shown,
        )

    def _once(self, turn: Turn, answer: str) -> str:
        """A written answer with a passage it wrote again and again kept once (noted)."""
        answer, repeats = collapse_repeats(answer)
        if repeats:
            self._note(turn, f"the answer wrote one passage {repeats + 1} times: kept once")
        return answer

    def _refuse(self, turn: Turn, why: str, text: str) -> str:
        """Note why turn ``turn``'s answer was not taken; the text to send back."""
        self._note(turn, f"turn {turn.index}: {why}")
        return text.strip()

    def _stands_on_seen(self, answer: str, searched: bool = False) -> bool:
        """Whether a written answer beside new code stands on what was seen, not on the new
        code's unread output: every identifying token of it (names with digits, IPs,
        numbers) was printed by code in a reply already read (the brief alone does not
        count: a name copied from it is no finding), and the new code did not search the
        log (``searched``): a search beside an answer is a step not yet read (the 1.5B model
        wrote FINAL("cn149"), the host, beside the grep for the value asked about it)."""
        if searched or not answer_tokens(answer):
            return False
        return not ungrounded(answer, "\n".join(self._outputs_seen))

    def _refuse_unseen_final(self, turn: Turn, outputs: list[str]) -> None:
        """A final answer written in the same reply as code whose output it has not seen."""
        outputs.append(self.prompts["unseen_final"].strip())
        self._note(
            turn,
            f"turn {turn.index}: final answer written before its code's output was seen: "
            "not accepted yet",
        )

    def _format_step(self, i: int, n: int, stdout: str, error: str | None) -> str:
        label = f"[output of block {i + 1}/{n}]" if n > 1 else "[output]"
        body = stdout.rstrip() or "(nothing printed: use print() to see values)"
        if error:
            body = (stdout.rstrip() + "\n" if stdout.strip() else "") + f"[error]\n{error}"
        return f"{label}\n{body}"

    def _resolve_final(
        self, spec: FinalSpec, session: ReplSession
    ) -> tuple[str | None, str | None]:
        """FINAL written outside code: a variable's value, an expression run in the REPL,
        or the literal text. A FINAL_VAR of a missing variable is an error for the model."""
        name = spec.names_variable
        if name:
            found, value = session.get_var(name)
            if found:
                return value, None
            if value:  # the variable exists but could not be turned into text
                return None, f"[error] {spec.kind}({name!r}): {value}"
            if spec.kind == "FINAL_VAR":
                return None, fill(self.prompts["missing_var"], kind=spec.kind, name=name).strip()
            return spec.literal(), None
        if spec.kind == "FINAL" and not spec.is_literal:
            r = session.execute(f"FINAL({spec.arg})")
            if r.final is not None and not r.error:
                return r.final["value"], None
        if spec.kind == "FINAL_VAR":
            return None, fill(self.prompts["missing_var"], kind=spec.kind, name=spec.arg).strip()
        return spec.literal(), None

    def _final_in_time(self, ended_by: str, ask: Callable[[], str]) -> str:
        """The forced final answer (``ask``); after a timeout it gets ``final_grace_s`` of its
        own, at most a quarter of the timeout (3 s at least; top-level runs only), and is
        skipped when even that is not there."""
        if ended_by != "timeout":
            return ask()
        timeout = self.config.limits.timeout_s or 0
        grace = min(self.config.final_grace_s, max(3.0, 0.25 * timeout))
        overshoot = self.budget.elapsed() - timeout
        if self.depth == 0 and overshoot < grace:
            self.budget.grant(grace)
            try:
                return ask()
            except GenerationStopped:
                pass
        self.notes.append("ended by timeout; no time left for a final answer")
        return "(no answer: timeout)"

    def _forced_final(
        self,
        messages: list[Message],
        first_user: str,
        question: str,
        ended_by: str,
        session: ReplSession,
    ) -> str:
        reasons = {
            "max_iterations": f"You have used all {self.config.limits.max_iterations} turns.",
            "max_tokens": "You have used the token budget.",
            "max_subcalls": "You have used all your sub-calls.",
            "timeout": "The time budget is used up.",
            "repeating": "You are repeating the same code.",
            "window": "The conversation no longer fits the model's window.",
        }
        self.notes.append(f"ended by {ended_by}; final answer forced from the trajectory")
        why = "window full" if ended_by == "window" else f"budget reached ({ended_by})"
        self.observer.note(f"{why}: asking for the best final answer", self.depth)
        msgs = list(messages)
        msgs.append(
            {
                "role": "user",
                "content": fill(
                    self.prompts["final_user"],
                    reason=reasons.get(ended_by, ""),
                    question=question,
                    kind=kind_line(question),
                ),
            }
        )
        t0 = time.monotonic()
        turn = Turn(index=len(self.turns) + 1)
        turn.notes.append(FORCED_FINAL)
        self.turns.append(turn)
        self.observer.final_started(turn.index, self.depth)
        try:
            self._fit_window(msgs, first_user, turn, extra_tail=1)
        except PromptTooLong:
            if len(msgs) < 5:  # [system, first user, final question]: nothing to give way
                raise
            # the last exchange gives way to the question (its turn is in the record)
            del msgs[-3:-1]
            self._note(turn, "the last turn's exchange left out to fit the final question")
            self._fit_window(msgs, first_user, turn, extra_tail=1)
        params = replace(
            self.config.root_params,
            grammar=final_grammar() if self.use_grammar else None,
        )
        if ended_by == "timeout":
            limit = self.config.final_max_tokens_after_timeout
            params = replace(params, max_tokens=min(params.max_tokens, limit))
        answer, c = self._final_reply(msgs, params, turn, session, ended_by)
        again = self._forced_final_flaw(answer)
        if again is not None and ended_by != "timeout":  # once: ask again from the outputs only
            what, ask = again
            self._note(turn, f"forced final answer {what}: asked again")
            msgs += [{"role": "assistant", "content": c.text}, {"role": "user", "content": ask}]
            self._fit_window(msgs, first_user, turn, extra_tail=3)
            first = turn.reply
            answer, c = self._final_reply(msgs, params, turn, session, ended_by)
            turn.reply = f"{first}\n\n[asked again: {what}]\n\n{turn.reply}"
            again = self._forced_final_flaw(answer)
        if again is not None:  # a best guess stands, but the user is told
            self._note(turn, f"forced final answer {again[0]}")
        turn.elapsed_s = time.monotonic() - t0  # the final-answer calls' own time
        return answer

    def _forced_final_flaw(self, answer: str) -> tuple[str, str] | None:
        """What is wrong with a forced final answer, and the question that asks again: it
        names something no output printed, or holds a template's <*>; None if neither."""
        missing = ungrounded(answer, "\n".join(self._shown))
        if missing:
            names = ", ".join(missing[:5])
            return f"names {names}, seen in no output", fill(
                self.prompts["final_ungrounded"], tokens=names
            )
        if TEMPLATE_WILDCARD in answer:
            return "holds <*>, a template's wildcard", self.prompts["final_template"].strip()
        return None

    def _final_reply(
        self,
        msgs: list[Message],
        params: GenerationParams,
        turn: Turn,
        session: ReplSession,
        ended_by: str,
    ) -> tuple[str, Completion]:
        """One forced-final call: the answer it gives (a FINAL, or its text) and the call."""
        c = self._root_call(
            msgs,
            params,
            lambda piece: self.observer.root_text(turn.index, piece, self.depth),
            turn=turn.index,
        )
        parsed = parse_reply(c.text)
        turn.reply, turn.reasoning = c.text, parsed.reasoning
        turn.usage = self._turn_usage(c)
        self.observer.root_reply(turn.index, parsed.reasoning, [], turn.usage, self.depth)
        answer = None
        if parsed.final is not None:
            answer, _ = self._resolve_final(parsed.final, session)
        if answer is None:
            for code in parsed.code_blocks:  # FINAL("...") written inside a block anyway
                inner = parse_reply(code).final
                if inner is not None:
                    answer, _ = self._resolve_final(inner, session)
        if answer is None:
            answer = parsed.reasoning or strip_thinking(c.text)[0]
        answer = strip_thinking(answer)[0].strip()
        if parsed.final is None or parsed.final.is_literal:  # written, not a value computed
            answer = self._once(turn, answer)
        if not answer:
            answer = f"(no answer: the run ended by {ended_by} before the model gave one)"
        return answer, c

    # -- windows, history ----------------------------------------------------------------------------

    def _fit_window(
        self, messages: list[Message], first_user: str, turn: Turn, extra_tail: int = 0
    ) -> None:
        """Compact older turns into a summary when the conversation nears the window."""
        tail = messages[len(messages) - extra_tail :] if extra_tail else []
        body = messages[: len(messages) - extra_tail] if extra_tail else messages
        reserve = self.compactor.tokens(tail) if tail else 0
        record = self.compactor.fit(body, first_user, self.turns, turn.index, reserve)
        if extra_tail:
            messages[:] = body + tail
        if self.compactor.last_cut:
            self._note(
                turn,
                f"turn {turn.index}: {self.compactor.last_cut:,} characters of the last output "
                "cut to fit the window (model was told)",
            )
        if record is None:
            return
        turn.compaction = record
        self._note(
            turn,
            f"turn {turn.index}: turns {record['turns'][0]}-{record['turns'][1]} compacted "
            f"({record['tokens_before']:,} → {record['tokens_after']:,} tokens of "
            f"{record['n_ctx']:,}; summary by {record['summary_by']}); full history in `history`",
        )
        if self.session is not None:
            self.session.set_var("history", self.history)

    def _remember(self, turn: Turn, reply_msg: str, session: ReplSession) -> None:
        self.history.append(
            {
                "turn": turn.index,
                "reply": self._history_text(turn.reply),
                "code": turn.code,
                "output": reply_msg,
            }
        )
        if self.compactor.records:
            session.set_var("history", self.history)

    def _note(self, turn: Turn, message: str) -> None:
        turn.notes.append(message)
        self.notes.append(message)
        self.observer.note(message, self.depth)

    # -- recursion -----------------------------------------------------------------------------------

    def _run_child(self, prompt: str, text: str) -> str:
        """A child RLM over ``text`` at depth + 1 (see :mod:`rlm_cli.engine.recursion`)."""
        return run_child(self, prompt, text)

    def _result(
        self,
        run_id: str,
        question: str,
        answer: str,
        ended_by: str,
        t0: float,
        session: ReplSession,
    ) -> RunResult:
        verified = [findings_mod.verify(f, self.context) for f in self.findings]
        extra: dict = {"grammar": self.use_grammar}
        if self.intent:
            extra["intent"] = self.intent
        compactor = getattr(self, "compactor", None)
        if compactor is not None and compactor.records:
            extra["compactions"] = compactor.records
        if self.children:
            extra["children"] = self.children
        return RunResult(
            run_id=run_id,
            question=question,
            answer=answer,
            ended_by=ended_by,
            iterations=len([t for t in self.turns if FORCED_FINAL not in t.notes]),
            elapsed_s=time.monotonic() - t0,
            usage=self.usage,
            trajectory=self.turns,
            findings=verified + self.child_findings,
            notes=self.notes,
            context_id=self.context.id,
            models={"root": self.root.spec, "sub": self.sub.spec},
            isolation=session.isolation,
            extra=extra,
        )


def _close_lines(stdout: str) -> str:
    """The close lines the first empty search's notice listed (``repl/view.py``), without
    the notice (nor a later one's: grep and top in one block listed the same lines twice)."""
    marker = NEAR_MISSES if NEAR_MISSES in stdout else NEAR_QUESTION
    after = stdout.split(marker, 1)[1].splitlines()[1:]  # the rest of the marker's line
    lines = list(itertools.takewhile(lambda ln: re.match(r"\d+: ", ln), after))
    return "\n".join(lines[:5])


_SEARCH_PATTERN = re.compile(
    r"""\bcontext\.(?:grep|count)\(\s*(?P<literal>r?(["'])((?:\\.|(?!\2).)*)\2)"""
)
"""The first string given to context.grep() or context.count() in a block of code (group 3:
its text; ``literal``: as written, prefix and quotes included)."""

_ORDER_CHECKS = (
    (
        "runner_up_final",
        runner_up_named,
        lambda r: (
            f"the final answer names {r['next']}, second in the ranking printed, "
            f"not {r['leader']}, its first: pushed back once"
        ),
    ),
    (
        "other_end_final",
        other_end_taken,
        lambda e: (
            f"the question asks for the {e['asked']} one, the final answer is "
            f"from the line printed as {e['other']}: pushed back once"
        ),
    ),
)
"""The checks of an answer against an order the outputs printed: (prompt, check, note)."""

_MARKER = re.compile(r"^\[(?:FINAL answer recorded|finding recorded)[^\n]*\]$", re.MULTILINE)


def _prints_news(stdout: str) -> bool:
    """Whether a step printed anything beyond the REPL's own FINAL/FINDING receipts."""
    return bool(_MARKER.sub("", stdout).strip())


def _names_host(reminder: str) -> bool:
    """Whether an intent's reminder text has the ``{{host}}`` placeholder."""
    return "{{host}}" in reminder.replace(" ", "")


def _clip_text(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit:,} more characters not repeated]"


REPLY_WINDOW_SHARE = 8
"""A root reply may take at most 1/8 of the root model's window (1,024 tokens of 8,192):
the window must still hold the first prompt and a turn's output after it."""


def _reply_fits_window(config: EngineConfig, n_ctx: int) -> EngineConfig:
    """``config`` with the root reply's token limit cut to 1/``REPLY_WINDOW_SHARE`` of the
    window. At n_ctx 4096 the default 1,024 left one turn: a 2,800-token first prompt and
    the reply's reserve filled the window, and the run ended by ``window`` after turn 1."""
    cap = max(64, n_ctx // REPLY_WINDOW_SHARE)
    if config.root_params.max_tokens <= cap:
        return config
    return replace(config, root_params=replace(config.root_params, max_tokens=cap))


def _compiles(code: str) -> bool:
    try:
        compile(code, "<repl>", "exec")
    except UNPARSABLE:
        return False
    return True

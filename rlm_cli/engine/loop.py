"""The RLM loop: the root model writes code, the worker runs it, until FINAL or a budget.

Data flow of one turn: messages → root model → :func:`parse_reply` → each code block
runs in the REPL worker (its model calls served by :class:`SubcallService`) →
outputs go back as the next user message, with the budget line. The run ends at
FINAL / FINAL_VAR, or when a budget runs out, where one last call asks the root for
its best answer from the trajectory.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rlm_cli.engine import findings as findings_mod
from rlm_cli.engine.budget import Budget, Limits
from rlm_cli.engine.events import RunObserver
from rlm_cli.engine.parse import ParsedReply, parse_reply, strip_thinking
from rlm_cli.engine.prompts import fill, load_prompts
from rlm_cli.engine.records import RunResult, Turn, Usage
from rlm_cli.engine.subcalls import SubcallService
from rlm_cli.errors import PromptTooLong, RlmError
from rlm_cli.llm.base import GenerationParams, Message, Model
from rlm_cli.repl.output import clip
from rlm_cli.repl.session import ReplConfig, ReplSession
from rlm_cli.store.context import Context


@dataclass
class EngineConfig:
    """How a run behaves (budgets, sampling, windows)."""

    limits: Limits = field(default_factory=Limits)
    root_params: GenerationParams = field(default_factory=lambda: GenerationParams(max_tokens=1024))
    sub_params: GenerationParams = field(default_factory=lambda: GenerationParams(max_tokens=512))
    max_output_chars: int = 4000
    step_timeout_s: float = 60.0
    compact_at: float = 0.85
    sandbox: dict = field(default_factory=dict)


class RunInterrupted(Exception):
    """Ctrl-C during a run; ``result`` holds what was done so far."""

    def __init__(self, result: RunResult) -> None:
        super().__init__("interrupted")
        self.result = result


def describe_context(context: Context, head_lines: int = 5, width: int = 200) -> str:
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
        depth: int = 0,
    ) -> None:
        self.root = root
        self.sub = sub
        self.context = context
        self.config = config or EngineConfig()
        self.observer = observer or RunObserver()
        self.brief = brief
        self.depth = depth
        self.prompts = load_prompts("root")
        self.usage = Usage()
        self.budget = Budget(self.config.limits, self.usage)
        self.turns: list[Turn] = []
        self.findings: list[dict] = []
        self.notes: list[str] = []

    # -- prompt pieces ------------------------------------------------------------------------

    def _system_prompt(self) -> str:
        sub_room = max(1000, self.sub.n_ctx - self.config.sub_params.max_tokens - 200)
        return fill(
            self.prompts["system"],
            context_info=describe_context(self.context),
            brief=f"\n{self.brief}\n" if self.brief else "",
            functions=self.prompts["functions"],
            max_output_chars=f"{self.config.max_output_chars:,}",
            sub_chunk_chars=f"{sub_room * 3:,}",
        )

    def _budget_values(self, turn: int) -> dict:
        return {
            "turn": turn,
            "max_turns": self.config.limits.max_iterations,
            "subcalls_left": self.budget.subcalls_left,
            "budget_extra": self.budget.status_line(),
        }

    # -- the run ----------------------------------------------------------------------------------

    def run(self, question: str, run_id: str) -> RunResult:
        """Answer ``question``; returns the full record of the run."""
        t0 = time.monotonic()
        sub_system = load_prompts("subcall")["system"]
        service = SubcallService(
            self.sub,
            self.config.sub_params,
            sub_system,
            self.budget,
            self.usage,
            self.observer,
            depth=self.depth,
        )
        session = ReplSession(
            self.context.path,
            service.handle,
            ReplConfig(
                max_output_chars=self.config.max_output_chars,
                step_timeout_s=self.config.step_timeout_s,
                sandbox=self.config.sandbox,
            ),
        )
        self.observer.run_started(
            {
                "run_id": run_id,
                "question": question,
                "root": self.root.spec,
                "sub": self.sub.spec,
                "context_id": self.context.id,
                "lines": self.context.line_count,
                "limits": self.config.limits.__dict__,
            }
        )
        messages: list[Message] = [
            {"role": "system", "content": self._system_prompt()},
            {
                "role": "user",
                "content": fill(
                    self.prompts["first_user"], question=question, **self._budget_values(1)
                ),
            },
        ]
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
                answer, reply_msg = self._turn(turn, messages, session, question)
                if answer is not None:
                    ended_by = "final"
                    break
                messages.append({"role": "assistant", "content": strip_thinking(turn.reply)[0]})
                messages.append({"role": "user", "content": reply_msg})
            if answer is None:
                answer = self._forced_final(messages, question, ended_by)
        except KeyboardInterrupt:
            result = self._result(run_id, question, answer or "", "interrupted", t0, session)
            session.close()
            raise RunInterrupted(result) from None
        except RlmError as e:
            e.partial = self._result(run_id, question, answer or "", "error", t0, session)  # type: ignore[attr-defined]
            session.close()
            raise
        session.close()
        result = self._result(run_id, question, answer, ended_by, t0, session)
        self.observer.run_finished(result)
        return result

    def _turn(self, turn: Turn, messages: list[Message], session: ReplSession, question: str):
        """One root turn. Returns (answer or None, next user message)."""
        t0 = time.monotonic()
        self.observer.turn_started(turn.index, self.depth)
        self._fit_window(messages, turn)
        c = self.root.complete(
            messages,
            self.config.root_params,
            lambda piece: self.observer.root_text(turn.index, piece, self.depth),
        )
        self.usage.add(c, root=True)
        parsed: ParsedReply = parse_reply(c.text)
        turn.reply, turn.reasoning, turn.code = c.text, parsed.reasoning, parsed.code_blocks
        turn.usage = {
            "prompt_tokens": c.prompt_tokens,
            "completion_tokens": c.completion_tokens,
            "prompt_tokens_reused": c.prompt_tokens_reused,
            "finish_reason": c.finish_reason,
        }
        if c.finish_reason == "length":
            self._note(
                turn,
                f"turn {turn.index}: the reply hit the {self.config.root_params.max_tokens}-token limit and was cut",
            )
        self.observer.root_reply(
            turn.index, parsed.reasoning, parsed.code_blocks, turn.usage, self.depth
        )
        outputs: list[str] = []
        answer = None
        for i, code in enumerate(parsed.code_blocks):
            r = session.execute(code)
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
            outputs.append(self._format_step(i, len(parsed.code_blocks), r.stdout, r.error))
            if r.final is not None:
                answer = r.final["value"]
                break
        if answer is None and parsed.final is not None:
            answer, message = self._resolve_final(parsed, session)
            if message:
                outputs.append(message)
        turn.elapsed_s = time.monotonic() - t0
        if answer is not None:
            return answer, ""
        values = self._budget_values(turn.index + 1)
        if not parsed.code_blocks and parsed.final is None:
            return None, fill(self.prompts["no_code_user"], **values)
        return None, fill(self.prompts["step_user"], outputs="\n\n".join(outputs), **values)

    def _format_step(self, i: int, n: int, stdout: str, error: str | None) -> str:
        label = f"[output of block {i + 1}/{n}]" if n > 1 else "[output]"
        body = stdout.rstrip() or "(nothing printed: use print() to see values)"
        if error:
            body = (stdout.rstrip() + "\n" if stdout.strip() else "") + f"[error]\n{error}"
        return f"{label}\n{body}"

    def _resolve_final(
        self, parsed: ParsedReply, session: ReplSession
    ) -> tuple[str | None, str | None]:
        """FINAL written outside code: a variable's value, or the literal text."""
        spec = parsed.final
        assert spec is not None
        name = spec.names_variable
        if name:
            found, value = session.get_var(name)
            if found:
                return value, None
            if value:  # the variable exists but could not be turned into text
                return None, f"[error] {spec.kind}({name!r}): {value}"
            if spec.kind == "FINAL_VAR":
                return None, (
                    f"[error] FINAL_VAR({name!r}): there is no variable named {name!r}. "
                    'Assign it in a ```repl block first, or use FINAL("answer text").'
                )
        return spec.literal(), None

    def _forced_final(self, messages: list[Message], question: str, ended_by: str) -> str:
        reasons = {
            "max_iterations": f"You have used all {self.config.limits.max_iterations} turns.",
            "max_tokens": "You have used the token budget.",
            "timeout": "The time budget is used up.",
        }
        self.notes.append(f"ended by budget ({ended_by}); final answer forced from the trajectory")
        self.observer.note(
            f"budget reached ({ended_by}): asking for the best final answer", self.depth
        )
        msgs = list(messages)
        msgs.append(
            {
                "role": "user",
                "content": fill(
                    self.prompts["final_user"], reason=reasons.get(ended_by, ""), question=question
                ),
            }
        )
        turn = Turn(index=len(self.turns) + 1)
        self._fit_window(msgs, turn)
        params = GenerationParams(
            max_tokens=self.config.root_params.max_tokens,
            temperature=self.config.root_params.temperature,
            seed=self.config.root_params.seed,
        )
        c = self.root.complete(msgs, params)
        self.usage.add(c, root=True)
        parsed = parse_reply(c.text)
        turn.reply, turn.reasoning = c.text, parsed.reasoning
        turn.notes.append("forced final answer")
        self.turns.append(turn)
        if parsed.final is not None:
            return parsed.final.literal()
        return strip_thinking(c.text)[0].strip()

    # -- windows -------------------------------------------------------------------------------------

    def _tokens(self, messages: list[Message]) -> int:
        return sum(self.root.count_tokens(m["content"]) + 8 for m in messages)

    def _fit_window(self, messages: list[Message], turn: Turn) -> None:
        """Compact older turns when the conversation nears the window (never cut silently)."""
        limit = int(self.root.n_ctx * self.config.compact_at) - self.config.root_params.max_tokens
        if self._tokens(messages) <= limit:
            return
        # messages: system, first user, then (assistant, user) pairs. Keep the last two pairs.
        marker = "[earlier turn, compacted] "
        i, compacted = 2, 0
        while self._tokens(messages) > limit and i < len(messages) - 4:
            a, u = messages[i], messages[i + 1]
            if not a["content"].startswith(marker):
                messages[i] = {"role": "assistant", "content": marker + clip(a["content"], 300)[0]}
                messages[i + 1] = {
                    "role": "user",
                    "content": "[its output, compacted] " + clip(u["content"], 300)[0],
                }
                compacted += 1
            i += 2
        if compacted:
            self._note(
                turn,
                f"turn {turn.index}: {compacted} older turn(s) compacted to fit the {self.root.n_ctx}-token window",
            )
        if self._tokens(messages) > self.root.n_ctx - self.config.root_params.max_tokens:
            raise PromptTooLong(
                f"the root prompt does not fit the model's window ({self.root.n_ctx} tokens) even after "
                "compaction; use a larger --n-ctx",
            )

    def _note(self, turn: Turn, message: str) -> None:
        turn.notes.append(message)
        self.notes.append(message)
        self.observer.note(message, self.depth)

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
        return RunResult(
            run_id=run_id,
            question=question,
            answer=answer,
            ended_by=ended_by,
            iterations=len([t for t in self.turns if "forced final answer" not in t.notes]),
            elapsed_s=time.monotonic() - t0,
            usage=self.usage,
            trajectory=self.turns,
            findings=verified,
            notes=self.notes,
            context_id=self.context.id,
            models={"root": self.root.spec, "sub": self.sub.spec},
            isolation=session.isolation,
        )

"""Serve the REPL's model calls: llm_query, llm_query_batched, rlm_query.

Every sub-call is checked against the sub-model's window before it is sent: a prompt
that does not fit is refused with a message telling the model how to split it, never
cut silently. Sub-calls count against the run's budget and are recorded in the turn.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from rlm_cli.engine.budget import Budget
from rlm_cli.engine.events import RunObserver
from rlm_cli.engine.records import SubcallRecord, Turn, Usage
from rlm_cli.errors import PromptTooLong, RlmError
from rlm_cli.llm.base import GenerationParams, Message, Model
from rlm_cli.repl.output import clip

REFUSED_PROMPT_KEPT_CHARS = 4000
"""How much of a prompt that was refused (never sent) the run's record keeps, head + tail."""

ChildRunner = Callable[[str, str], str]
"""Runs a child RLM: ``runner(prompt, text) -> answer``."""


class SubcallService:
    """Answers the worker's model calls with the sub-model."""

    def __init__(
        self,
        model: Model,
        params: GenerationParams,
        system_prompt: str,
        budget: Budget,
        usage: Usage,
        observer: RunObserver,
        *,
        depth: int = 0,
        child_runner: ChildRunner | None = None,
    ) -> None:
        self.model = model
        self.params = params
        self.system_prompt = system_prompt
        self.budget = budget
        self.usage = usage
        self.observer = observer
        self.depth = depth
        self.child_runner = child_runner
        self.turn: Turn | None = None
        self._ids = itertools.count(1)

    def handle(self, fn: str, args: dict):
        """Entry point for :class:`rlm_cli.repl.session.ReplSession`."""
        if fn == "llm_query":
            return self.query(args.get("prompt", ""))
        if fn == "llm_query_batched":
            return self.batch(list(args.get("prompts") or []))
        if fn == "rlm_query":
            return self.recurse(args.get("prompt", ""), args.get("text", ""))
        raise RlmError(f"unknown function {fn!r}")

    # -- one call ---------------------------------------------------------------------------

    def _messages(self, prompt: str) -> list[Message]:
        return [
            {"role": "system", "content": self.system_prompt},
            {"role": "user", "content": prompt},
        ]

    def check_fits(self, prompt: str) -> None:
        """Refuse (PromptTooLong) a prompt that cannot fit the sub-model's window."""
        tokens = self.model.count_tokens(self.system_prompt) + self.model.count_tokens(prompt) + 16
        room = self.model.n_ctx - self.params.max_tokens
        if tokens > room:
            per_piece = max(1, int(len(prompt) * room / tokens * 0.9))
            raise PromptTooLong(
                f"this prompt is about {tokens:,} tokens but the sub-model's window is "
                f"{self.model.n_ctx:,} ({self.params.max_tokens} kept for the answer); nothing was "
                f"sent. Split the text into pieces of about {per_piece:,} characters "
                "(e.g. context.chunks(tokens=...)) and use llm_query_batched",
                tokens=tokens,
                limit=room,
            )

    def _call(self, prompt: str, kind: str) -> str:
        call_id = next(self._ids)
        record = SubcallRecord(id=call_id, kind=kind, prompt=prompt)
        if self.turn is not None:
            self.turn.subcalls.append(record)
        self.observer.subcall_started(
            call_id, self.turn.index if self.turn else 0, kind, prompt[:120], self.depth
        )
        t0 = time.perf_counter()
        try:
            self.check_fits(prompt)
            c = self.model.complete(self._messages(prompt), self.params)
        except RlmError as e:
            record.error = str(e)
            # Never sent: keep only its ends (a refused prompt can be as big as the worker's memory).
            record.prompt = clip(prompt, REFUSED_PROMPT_KEPT_CHARS)[0]
            record.elapsed_s = time.perf_counter() - t0
            self.observer.subcall_finished(call_id, False, {}, str(e)[:120], self.depth)
            raise
        self.usage.add(c, root=False)
        record.answer = c.text
        record.prompt_tokens, record.completion_tokens = c.prompt_tokens, c.completion_tokens
        record.cached = c.cached
        record.elapsed_s = time.perf_counter() - t0
        self.observer.subcall_finished(
            call_id,
            True,
            {
                "prompt_tokens": c.prompt_tokens,
                "completion_tokens": c.completion_tokens,
                "cached": c.cached,
                "elapsed_s": record.elapsed_s,
            },
            c.text[:120],
            self.depth,
        )
        return c.text

    def query(self, prompt: str) -> str:
        """One sub-call."""
        if not self.budget.take_subcalls(1):
            raise RlmError(
                f"sub-call budget used up ({self.budget.limits.max_subcalls}); "
                "finish with what you have"
            )
        return self._call(prompt, "llm_query")

    def batch(self, prompts: list[str]) -> list[str]:
        """Several sub-calls, run with the model's concurrency; answers in order."""
        if not prompts:
            return []
        if not self.budget.take_subcalls(len(prompts)):
            raise RlmError(
                f"this batch needs {len(prompts)} sub-calls but only {self.budget.subcalls_left} are "
                "left; send fewer, bigger pieces"
            )
        for p in prompts:  # refuse the whole batch before spending anything
            self.check_fits(p)
        workers = max(1, min(self.model.concurrency, len(prompts)))
        if workers == 1:
            return [self._call(p, "batch") for p in prompts]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda p: self._call(p, "batch"), prompts))

    def recurse(self, prompt: str, text: str) -> str:
        """A child RLM over ``text`` while depth allows, else a plain sub-call."""
        if self.child_runner is not None and self.depth + 1 < self.budget.limits.max_depth:
            if not self.budget.take_subcalls(1):
                raise RlmError("sub-call budget used up; finish with what you have")
            return self.child_runner(prompt, text)
        self.observer.note("rlm_query at maximum depth: answered by a plain sub-call", self.depth)
        return self.query(f"{prompt}\n\n---\n{text}")

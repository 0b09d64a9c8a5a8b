"""Serve the REPL's model calls: llm_query, llm_query_batched, rlm_query.

Every sub-call is checked against the sub-model's window before it is sent: a prompt
that does not fit is refused with a message telling the model how to split it, never
cut silently. Sub-calls count against the run's budget and are recorded in the turn.
Answers come from the SQLite cache when the same model, parameters and prompt were
seen before (no tokens spent). Many tiny prompts in one turn are refused with a
message asking for fewer, bigger pieces (a small model's classic sub-call explosion).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import KW_ONLY, dataclass, field

from rlm_cli.engine.budget import Budget
from rlm_cli.engine.events import RunObserver
from rlm_cli.engine.prompts import fill, load_prompts
from rlm_cli.engine.records import SubcallRecord, Turn, Usage
from rlm_cli.errors import PromptTooLong, RlmError
from rlm_cli.llm.base import Completion, GenerationParams, Message, Model
from rlm_cli.llm.cache import SubcallCache, cache_key
from rlm_cli.repl.output import clip
from rlm_cli.store.context import LOG_CHARS_PER_TOKEN, Context

REFUSED_PROMPT_KEPT_CHARS = 4000
"""How much of a prompt that was refused (never sent) the run's record keeps, head + tail."""

ChildRunner = Callable[[str, str], str]
"""Runs a child RLM: ``runner(prompt, text) -> answer``."""

PIECE_WORDS_TOKENS = 200
PIECE_QUESTION_CHARS = 400
"""The longest question a piece sent alone is asked under (cut with a marker beyond it), so
the question and the piece prompt's words stay inside ``PIECE_WORDS_TOKENS``."""
"""Room a sub-call's prompt keeps for the root's own words around a piece of log."""
PIECE_MARGIN = 0.9
"""Share of the rest a piece is sized to: a log's density varies along it."""
SAMPLES = 16
SAMPLE_CHARS = 1500
"""A log's density is measured on ``SAMPLES`` slices of ``SAMPLE_CHARS`` spread along it."""


def measure_chars_per_token(context: Context, model: Model) -> float:
    """Characters a token of ``context`` by ``model``'s tokenizer: the densest of slices
    spread along it (a piece sized by the average would not fit where the log is denser);
    ``LOG_CHARS_PER_TOKEN`` for an empty log, or a model with no tokenizer to ask (its
    estimate of 4 would size pieces twice what a server's window holds)."""
    n = len(context)
    starts = sorted({max(0, (n - SAMPLE_CHARS) * i // (SAMPLES - 1)) for i in range(SAMPLES)})
    rates = []
    for a in starts:
        text = context[a : a + SAMPLE_CHARS]
        tokens = model.count_tokens(text)
        if tokens:
            rates.append(len(text) / tokens)
    if not rates or not model.counts_tokens_exactly():
        return LOG_CHARS_PER_TOKEN
    return min(rates)


def piece_chars(n_ctx: int, answer_tokens: int, system_tokens: int, chars_per_token: float) -> int:
    """Characters of log one sub-call can carry: the sub-model's window less its answer, its
    system prompt and the root's words, at ``chars_per_token``, with a margin."""
    room = n_ctx - answer_tokens - system_tokens - PIECE_WORDS_TOKENS
    return max(200, int(room * chars_per_token * PIECE_MARGIN))


class SubcallRefused(RlmError):
    """A sub-call the engine would not send (budget, window, explosion guard)."""


@dataclass
class ExplosionGuard:
    """Limits on tiny sub-calls per turn: more than ``max_tiny`` prompts shorter than
    ``tiny_chars`` characters in one turn are refused."""

    tiny_chars: int = 400
    max_tiny: int = 8


@dataclass
class SubcallService:
    """Answers the worker's model calls with the sub-model."""

    model: Model
    params: GenerationParams
    system_prompt: str
    budget: Budget
    usage: Usage
    observer: RunObserver
    _: KW_ONLY
    depth: int = 0
    child_runner: ChildRunner | None = None
    cache: SubcallCache | None = None
    guard: ExplosionGuard = field(default_factory=ExplosionGuard)
    chunk_chars: int = 8000
    call_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    """Shared with child runs so call ids are unique across the whole tree."""
    question: str = ""
    """The run's question: asked of a piece of the log that the code sends with no words."""
    turn: Turn | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _tiny_in_turn: dict[int, int] = field(default_factory=dict, init=False, repr=False)
    _identity: str | None = field(default=None, init=False, repr=False)
    _piece: str | None = field(default=None, init=False, repr=False)

    def handle(self, fn: str, args: dict):
        """Entry point for :class:`rlm_cli.repl.session.ReplSession`."""
        if fn == "llm_query":
            prompt, sent = self._prompt(args.get("prompt", ""))
            return self.query(prompt, sizes=[sent])
        if fn == "llm_query_batched":
            asked = [self._prompt(p) for p in args.get("prompts") or []]
            return self.batch([p for p, _ in asked], sizes=[n for _, n in asked])
        if fn == "rlm_query":
            return self.recurse(args.get("prompt", ""), args.get("text", ""))
        raise RlmError(f"unknown function {fn!r}")

    def _prompt(self, asked: object) -> tuple[str, int]:
        """The prompt for what the worker sent, and how many characters of it the code wrote:
        its text, or for a piece of the log sent alone (``llm_query(chunk)``) the run's
        question asked of that piece (the piece's own length is what the tiny-prompt guard
        weighs)."""
        if not isinstance(asked, dict):
            text = str(asked)
            return text, len(text)
        lines, text = asked.get("lines"), asked.get("text")
        if not (
            isinstance(lines, list)
            and len(lines) == 2
            and all(type(n) is int for n in lines)
            and isinstance(text, str)
        ):
            raise RlmError("a piece of the log is sent as its line range and its text")
        question = self.question.strip()
        if len(question) > PIECE_QUESTION_CHARS:
            question = question[:PIECE_QUESTION_CHARS] + " [the rest of the question cut]"
        prompt = fill(
            self._piece_template(),
            question=question or "What in these lines matters?",
            start=lines[0],
            end=lines[1],
            text=text,
        )
        return prompt, len(text)

    def _piece_template(self) -> str:
        if self._piece is None:
            self._piece = load_prompts("subcall")["piece"]
        return self._piece

    # -- checks -------------------------------------------------------------------------------

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
                "(context.chunks() gives pieces that fit) and use llm_query_batched",
                tokens=tokens,
                limit=room,
            )

    def _check_budget(self, n: int) -> None:
        spent = self.budget.exhausted()
        if spent in ("max_tokens", "timeout"):
            what = "token" if spent == "max_tokens" else "time"
            raise SubcallRefused(
                f"the run's {what} budget is used up; no sub-call was sent. Finish with FINAL(...)"
            )
        if not self.budget.take_subcalls(n):
            raise SubcallRefused(
                f"this needs {n} sub-call(s) but only {self.budget.subcalls_left} of "
                f"{self.budget.limits.max_subcalls} are left; nothing was sent. "
                "Finish with what you have: FINAL(...)"
            )

    def _check_explosion(self, sizes: list[int]) -> None:
        """Refuse a turn's worth of tiny prompts (``sizes``: the characters the code wrote
        in each); ask for pieces of about chunk_chars."""
        tiny = sum(1 for n in sizes if n < self.guard.tiny_chars)
        if not tiny:
            return
        key = self.turn.index if self.turn else 0
        with self._lock:
            seen = self._tiny_in_turn.get(key, 0)
            if seen + tiny > self.guard.max_tiny:
                self.observer.note(
                    f"refused {len(sizes)} sub-call(s): too many tiny prompts in one turn",
                    self.depth,
                )
                raise SubcallRefused(
                    f"too many tiny sub-calls: {seen + tiny} prompts under "
                    f"{self.guard.tiny_chars} characters in this turn (limit "
                    f"{self.guard.max_tiny}); nothing was sent. Batch by size: join lines into "
                    f"pieces of about {self.chunk_chars:,} characters (context.chunks() gives "
                    "them) and send them with llm_query_batched, or "
                    "filter with code (grep/count) first"
                )
            self._tiny_in_turn[key] = seen + tiny

    # -- calls --------------------------------------------------------------------------------

    def _model_identity(self) -> str:
        if self._identity is None:
            self._identity = self.model.identity()
        return self._identity

    def _cached(self, prompt: str) -> tuple[str | None, Completion | None]:
        if self.cache is None:
            return None, None
        key = cache_key(self._model_identity(), self.params, self._messages(prompt))
        return key, self.cache.get(key)

    def _start(self, prompt: str, kind: str) -> tuple[SubcallRecord, float]:
        record = SubcallRecord(id=next(self.call_ids), kind=kind, prompt=prompt)
        if self.turn is not None:
            with self._lock:
                self.turn.subcalls.append(record)
        self.observer.subcall_started(
            record.id, self.turn.index if self.turn else 0, kind, prompt[:120], self.depth
        )
        return record, time.perf_counter()

    def _finish(self, record: SubcallRecord, t0: float, c: Completion, key: str | None) -> str:
        self.usage.add(c, root=False)
        if key is not None and self.cache is not None and not c.cached:
            self.cache.put(key, self._model_identity(), c)
        record.answer = c.text
        record.prompt_tokens, record.completion_tokens = c.prompt_tokens, c.completion_tokens
        record.cached = c.cached
        record.elapsed_s = time.perf_counter() - t0
        self.observer.subcall_finished(
            record.id,
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

    def _fail(self, record: SubcallRecord, t0: float, e: Exception) -> None:
        record.error = str(e)
        # A refused prompt can be as big as the worker's memory: keep only its ends.
        record.prompt = clip(record.prompt, REFUSED_PROMPT_KEPT_CHARS)[0]
        record.elapsed_s = time.perf_counter() - t0
        self.observer.subcall_finished(record.id, False, {}, str(e)[:120], self.depth)

    def _call(self, prompt: str, kind: str) -> str:
        record, t0 = self._start(prompt, kind)
        try:
            key, hit = self._cached(prompt)
            c = hit or self.model.complete(self._messages(prompt), self.params)
        except RlmError as e:
            self._fail(record, t0, e)
            raise
        return self._finish(record, t0, c, key)

    def query(self, prompt: str, sizes: list[int] | None = None) -> str:
        """One sub-call (``sizes``: see :meth:`batch`)."""
        self.check_fits(prompt)
        self._check_explosion(sizes or [len(prompt)])
        self._check_budget(1)
        return self._call(prompt, "llm_query")

    def batch(self, prompts: list[str], sizes: list[int] | None = None) -> list[str]:
        """Several sub-calls, run with the backend's concurrency (or its own batching); answers
        in order. Refused whole, before anything is spent, if any prompt cannot be sent.
        ``sizes``: the characters the code itself wrote in each, which the tiny-prompt guard
        weighs (default: each prompt's length)."""
        if not prompts:
            return []
        for p in prompts:
            self.check_fits(p)
        self._check_explosion(sizes or [len(p) for p in prompts])
        self._check_budget(len(prompts))
        if type(self.model).complete_many is not Model.complete_many:
            return self._batch_native(prompts)
        workers = max(1, min(self.model.concurrency, len(prompts)))
        if workers == 1:
            return [self._call(p, "batch") for p in prompts]
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda p: self._call(p, "batch"), prompts))

    def _batch_native(self, prompts: list[str]) -> list[str]:
        """Cache lookups first, then one ``complete_many`` for the misses."""
        started = [self._start(p, "batch") for p in prompts]
        answers: list[str | None] = [None] * len(prompts)
        misses: list[tuple[int, str | None]] = []
        for i, p in enumerate(prompts):
            key, hit = self._cached(p)
            if hit is not None:
                answers[i] = self._finish(*started[i], hit, key)
            else:
                misses.append((i, key))
        if misses:
            try:
                done = self.model.complete_many(
                    [self._messages(prompts[i]) for i, _ in misses], self.params
                )
            except RlmError as e:
                for i, _ in misses:
                    self._fail(*started[i], e)
                raise
            for (i, key), c in zip(misses, done):
                answers[i] = self._finish(*started[i], c, key)
        return [a or "" for a in answers]

    def recurse(self, prompt: str, text: str) -> str:
        """A child RLM over ``text`` while depth allows, else a plain sub-call."""
        if self.child_runner is not None and self.depth + 1 < self.budget.limits.max_depth:
            self._check_budget(1)
            record, t0 = self._start(prompt, "rlm_query")
            try:
                answer = self.child_runner(prompt, text)
            except RlmError as e:
                self._fail(record, t0, e)
                raise
            record.answer = answer
            record.elapsed_s = time.perf_counter() - t0
            self.observer.subcall_finished(
                record.id, True, {"elapsed_s": record.elapsed_s}, answer[:120], self.depth
            )
            return answer
        self.observer.note(
            f"rlm_query at the depth limit (--max-depth {self.budget.limits.max_depth}): "
            "answered by a plain sub-call",
            self.depth,
        )
        return self.query(f"{prompt}\n\n---\n{text}")

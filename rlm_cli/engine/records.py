"""The record of a run: turns, sub-calls, usage, the answer. Kept whole for `rlm runs`."""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from rlm_cli.llm.base import Completion
from rlm_cli.plain import pick


@dataclass
class Usage:
    """Model calls and tokens, root and sub-calls together."""

    root_calls: int = 0
    """Calls to the root model: turns, forced final answers, compaction summaries."""
    sub_calls: int = 0
    """``llm_query`` prompts answered (cache hits included)."""
    prompt_tokens: int = 0
    """Prompt tokens of every call, root and sub, as the model counted them."""
    completion_tokens: int = 0
    prompt_tokens_evaluated: int = 0
    """Prompt tokens the model computed; the rest came from its KV cache."""
    prompt_tokens_reused: int = 0
    """Prompt tokens whose state was kept from the previous call or loaded from disk."""
    sub_cache_hits: int = 0
    """Sub-call answers taken from the sub-call cache, with no model call."""
    sub_prompt_tokens: int = 0
    """Prompt tokens spent by sub-calls (cache hits spend none)."""
    sub_completion_tokens: int = 0
    prompt_tokens_cached: int = 0
    """Prompt tokens loaded from the persistent prompt cache (part of the reused ones)."""
    first_root_token_s: float | None = None
    """Seconds from the first root call to its first generated token."""
    root_gen_tokens: int = 0
    root_gen_s: float = 0.0
    """Root tokens generated after each call's first one, and the seconds they took."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, c: Completion, *, root: bool) -> None:
        """Count one completion."""
        with self._lock:
            if root:
                self.root_calls += 1
            else:
                self.sub_calls += 1
            if c.cached:
                self.sub_cache_hits += 1
                return
            if not root:
                self.sub_prompt_tokens += c.prompt_tokens
                self.sub_completion_tokens += c.completion_tokens
            self.prompt_tokens += c.prompt_tokens
            self.completion_tokens += c.completion_tokens
            self.prompt_tokens_evaluated += c.prompt_tokens_evaluated
            self.prompt_tokens_reused += c.prompt_tokens_reused
            self.prompt_tokens_cached += c.prompt_tokens_cached
            if root and c.first_token_s is not None and self.first_root_token_s is None:
                self.first_root_token_s = c.first_token_s
            if root and c.gen_tokens_per_s and c.completion_tokens > 1:
                self.root_gen_tokens += c.completion_tokens - 1
                self.root_gen_s += (c.completion_tokens - 1) / c.gen_tokens_per_s

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens spent."""
        return self.prompt_tokens + self.completion_tokens

    def to_json(self) -> dict:
        """The ``usage`` object of ``--json``."""
        d = {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}
        d["total_tokens"] = self.total_tokens
        d["root_gen_s"] = round(self.root_gen_s, 3)
        if d["first_root_token_s"] is not None:
            d["first_root_token_s"] = round(d["first_root_token_s"], 3)
        d["root_gen_tokens_per_s"] = (
            round(self.root_gen_tokens / self.root_gen_s, 2) if self.root_gen_s > 0 else None
        )
        return d


@dataclass
class SubcallRecord:
    """One sub-call, as kept in the trajectory."""

    id: int
    kind: str
    prompt: str
    answer: str | None = None
    error: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached: bool = False
    elapsed_s: float = 0.0


FORCED_FINAL = "forced final answer"
"""The note on the turn the engine added to ask for an answer when a budget ran out."""


@dataclass
class Turn:
    """One root turn: the reply, the code it ran, what came back."""

    index: int
    reply: str = ""
    reasoning: str = ""
    code: list[str] = field(default_factory=list)
    outputs: list[dict] = field(default_factory=list)
    subcalls: list[SubcallRecord] = field(default_factory=list)
    usage: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    feedback: str = ""
    """The message the model got back after this turn (outputs, errors, budget line)."""
    compaction: dict | None = None
    """Set when older turns were compacted before this turn (what, how, tokens)."""

    def to_json(self) -> dict:
        """The form in ``--json`` and the run history."""
        return pick(
            self,
            "compaction turn reply reasoning code outputs subcalls usage feedback notes elapsed_s",
            turn=self.index,
            subcalls=[asdict(s) for s in self.subcalls],
            elapsed_s=round(self.elapsed_s, 3),
        )


@dataclass
class RunResult:
    """Everything a run produced."""

    run_id: str
    question: str
    answer: str
    ended_by: str
    """``final`` (the model answered), or what ended it: ``max_iterations``, ``max_tokens``,
    ``max_subcalls``, ``timeout``, ``repeating`` (the same code again and again), ``window``
    (no room left for another turn, even compacted), ``direct``
    (one-call baseline), ``interrupted``, ``error``."""
    iterations: int
    elapsed_s: float
    usage: Usage
    trajectory: list[Turn]
    findings: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    context_id: str = ""
    models: dict = field(default_factory=dict)
    isolation: dict = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict:
        """The ``--json`` object."""
        names = "run_id question answer ended_by iterations elapsed_s usage findings notes"
        return {
            **pick(
                self,
                f"{names} context_id models isolation trajectory",
                elapsed_s=round(self.elapsed_s, 3),
                usage=self.usage.to_json(),
                trajectory=[t.to_json() for t in self.trajectory],
            ),
            **self.extra,
        }

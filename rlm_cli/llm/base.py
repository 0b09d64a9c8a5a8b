"""The one interface every model backend implements.

A backend turns chat messages into a :class:`Completion`. The engine never
knows which backend it talks to: llama.cpp in process, an OpenAI-compatible
server, or a scripted replay all look the same from here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rlm_cli.config import DEFAULTS
from rlm_cli.errors import ModelError
from rlm_cli.plain import pick

DEFAULT_N_CTX = 8192
"""The window of a model that does not say its own (a GGUF model unless --n-ctx)."""

Message = dict[str, str]
"""A chat message: ``{"role": "system" | "user" | "assistant", "content": str}``."""

OnText = Callable[[str], None]
"""Called with each piece of generated text as it streams (may be ignored)."""


@dataclass(frozen=True)
class GenerationParams:
    """How to sample one completion."""

    max_tokens: int = DEFAULTS.root_max_tokens
    temperature: float = DEFAULTS.temperature
    top_p: float = 0.95
    seed: int | None = None
    stop: tuple[str, ...] = ()
    grammar: str | None = None
    """A GBNF grammar; backends that cannot constrain output ignore it."""
    opening_bias: tuple[str, float] | None = None
    """(text, logits): make the reply likelier to open with ``text`` by adding ``logits`` to
    the first token's tokens that begin it; backends that cannot ignore it."""
    cache_prefix_chars: int = 0
    """The first user message's first N characters are the same for every question about
    this log (its description and brief): a backend with a prompt cache may keep the prompt
    up to there too, so a second question about the same log starts at the question."""
    should_stop: Callable[[], bool] | None = field(default=None, compare=False, repr=False)
    """Polled while the call runs (between tokens and prompt batches, while waiting on a
    server); when it returns True the backend abandons the call with
    :class:`GenerationStopped`. How a run's time budget stops a call already under way."""

    def stop_requested(self) -> bool:
        """Whether ``should_stop`` says to abandon the call now."""
        return self.should_stop is not None and self.should_stop()

    def check_stop(self) -> None:
        """Raise :class:`GenerationStopped` when ``should_stop`` says so (backends call this)."""
        if self.stop_requested():
            raise GenerationStopped()

    def cache_key(self) -> dict:
        """The parameters that change the answer, for the sub-call cache."""
        return pick(
            self,
            "max_tokens temperature top_p seed stop grammar opening_bias",
            stop=list(self.stop),
        )


class GenerationStopped(ModelError):
    """A call abandoned because ``GenerationParams.should_stop`` said so (the time budget)."""

    def __init__(self, message: str = "generation stopped: the time budget is spent") -> None:
        super().__init__(message)


@dataclass
class Completion:
    """One model answer and what it cost."""

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_tokens_reused: int = 0
    """Prompt tokens served from the KV cache instead of evaluated again."""
    finish_reason: str = "stop"
    """``stop`` (ended on its own), ``length`` (hit max_tokens) or ``error``."""
    elapsed_s: float = 0.0
    cached: bool = False
    """True when answered from the sub-call cache (no tokens were spent)."""
    meta: dict = field(default_factory=dict)
    prompt_tokens_cached: int = 0
    """Prompt tokens whose KV state was loaded from the persistent prompt cache
    (part of ``prompt_tokens_reused``)."""
    first_token_s: float | None = None
    """Seconds from the call to its first generated token (prompt evaluation included)."""
    gen_tokens_per_s: float | None = None
    """Generated tokens per second after the first one (None when not measured)."""

    def speed(self) -> dict:
        """Time to first token, tokens loaded from the prompt cache and generation speed,
        for a turn's usage (only what the backend measured)."""
        out: dict = {}
        if self.prompt_tokens_cached:
            out["prompt_tokens_cached"] = self.prompt_tokens_cached
        if self.first_token_s is not None:
            out["first_token_s"] = round(self.first_token_s, 3)
        if self.gen_tokens_per_s is not None:
            out["gen_tokens_per_s"] = round(self.gen_tokens_per_s, 2)
        return out

    @property
    def prompt_tokens_evaluated(self) -> int:
        """Prompt tokens the backend actually had to evaluate."""
        return max(0, self.prompt_tokens - self.prompt_tokens_reused)


class Model(ABC):
    """A chat model. Implementations must be safe to call from one thread at a time;
    backends that can serve calls concurrently say so with ``concurrency > 1``."""

    spec: str = ""
    """The model spec string it was made from (for logs and the cache key)."""
    n_ctx: int = DEFAULT_N_CTX
    """Context window in tokens."""
    concurrency: int = 1
    """How many calls the engine may have in flight at once."""

    @abstractmethod
    def complete(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        on_text: OnText | None = None,
    ) -> Completion:
        """Answer one conversation."""

    def complete_many(
        self, conversations: Sequence[Sequence[Message]], params: GenerationParams
    ) -> list[Completion]:
        """Answer several independent conversations; backends that can batch override this."""
        return [self.complete(m, params) for m in conversations]

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's own tokenizer (an estimate where it has none)."""
        return max(1, len(text) // 4) if text else 0

    def counts_tokens_exactly(self) -> bool:
        """Whether ``count_tokens`` uses the model's tokenizer (after a first call), not the
        estimate of 4 characters a token."""
        return False

    def supports_grammar(self) -> bool:
        """Whether ``GenerationParams.grammar`` is honoured."""
        return False

    def set_thinking(self, enabled: bool) -> bool:
        """Turn a thinking model's reasoning on or off through its chat template
        (e.g. Qwen3's ``enable_thinking``); True when the backend applied it."""
        return False

    def identity(self) -> str:
        """What names this model's weights for the sub-call cache: the spec by default;
        file backends add size and modification time so a replaced file misses the cache."""
        return self.spec

    def describe(self) -> str:
        """How the backend runs (threads, caches), for ``--debug``."""
        return self.spec

    def warm(self, system: str) -> tuple[int, int]:
        """Put the evaluated head of conversations opening with the system prompt ``system``
        in the backend's persistent prompt cache, as the first run would. Returns (tokens
        evaluated, tokens loaded from the cache); (0, 0) for backends without one."""
        return 0, 0

    def drain_notes(self) -> list[str]:
        """Notes the backend has for the operator since the last call (e.g. a cache
        entry it could not use)."""
        return []

    def close(self) -> None:
        """Release resources (model weights, connections)."""


def close_models(*models: Model | None) -> None:
    """Close each distinct model once (the sub model is often the root model itself)."""
    for model in {id(m): m for m in models if m is not None}.values():
        model.close()

"""A model loaded at its first call: the sub-model when it is the root's own file.

Most runs make no sub-call (a search answers), yet loading the root's GGUF a second time for
sub-calls took seconds of every `rlm ask` and a second copy of the weights in memory. Until
the first call, what needs only the tokenizer (counting tokens, the window, the identity that
keys the sub-call cache) is answered by the root model, which reads the same file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from rlm_cli.errors import ModelError
from rlm_cli.llm.base import Completion, GenerationParams, Message, Model


class DeferredModel(Model):
    """Stands for the model ``load()`` returns, loading it on the first completion;
    ``twin`` (a loaded model of the same file and window) answers the tokenizer's questions
    until then."""

    def __init__(self, load: Callable[[], Model], twin: Model) -> None:
        self._load = load
        self._twin = twin
        self._model: Model | None = None
        self._thinking: bool | None = None
        self._failed: ModelError | None = None
        self._closed = False
        self._lock = threading.Lock()
        self.spec = twin.spec
        self.n_ctx = twin.n_ctx
        self.concurrency = twin.concurrency

    @property
    def loaded(self) -> bool:
        """Whether the model itself has been loaded."""
        return self._model is not None

    def model(self) -> Model:
        """The model itself, loaded now if it was not yet. A load that failed is not tried
        again: every later call raises its error at once."""
        with self._lock:
            if self._closed:
                raise ModelError("the sub-model was closed")
            if self._failed is not None:
                raise self._failed
            if self._model is None:
                try:
                    model = self._load()
                except ModelError as e:
                    self._failed = e
                    raise
                if self._thinking is not None:
                    model.set_thinking(self._thinking)
                self._model = model
            return self._model

    def _ready(self) -> Model:
        """The loaded model, or the twin for what both answer alike."""
        return self._model or self._twin

    def complete(self, *args: Any, **kwargs: Any) -> Completion:
        """Answer one conversation (loading the model first, once): ``Model.complete``'s
        arguments, passed on as they are."""
        return self.model().complete(*args, **kwargs)

    def complete_many(
        self, conversations: Sequence[Sequence[Message]], params: GenerationParams
    ) -> list[Completion]:
        """Answer several conversations (loading the model first, once)."""
        return self.model().complete_many(conversations, params)

    def warm(self, system: str) -> tuple[int, int]:
        """Fill the prompt cache for ``system``. Until loaded the twin does it: the entry is
        keyed by the file and the window, which the two share, so the copy loaded later
        finds it (and `rlm models warm` does not load a second copy)."""
        return self._ready().warm(system)

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text``: the same tokenizer, loaded or not."""
        return self._ready().count_tokens(text)

    def counts_tokens_exactly(self) -> bool:
        """Whether counts come from the tokenizer (the twin's until loaded)."""
        return self._ready().counts_tokens_exactly()

    def supports_grammar(self) -> bool:
        """Whether grammars are honoured (the same backend as the twin)."""
        return self._ready().supports_grammar()

    def set_thinking(self, enabled: bool) -> bool:
        """Applied now when loaded, else at the load; True when applied now."""
        with self._lock:
            self._thinking = bool(enabled)
            return self._model.set_thinking(enabled) if self._model is not None else False

    def identity(self) -> str:
        """The weights' identity: the twin's file is this model's file."""
        return self._ready().identity()

    def describe(self) -> str:
        """How it runs, or that it loads at the first sub-call."""
        if self._model is not None:
            return self._model.describe()
        return f"the root's file, loaded at the first sub-call: {self._twin.describe()}"

    def drain_notes(self) -> list[str]:
        """The loaded model's notes (none before it is loaded)."""
        return self._model.drain_notes() if self._model is not None else []

    def close(self) -> None:
        """Close the model if it was loaded (the twin is closed by its owner); later calls
        raise instead of loading a copy nobody would close."""
        with self._lock:
            self._closed = True
            if self._model is not None:
                self._model.close()
                self._model = None

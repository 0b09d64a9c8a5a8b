"""Cheaper sampling for llama.cpp in process: a grammar checked against one token, and a
first-token bias written into the logits instead of run through a Python sampler.

llama-cpp-python puts a grammar into the sampler chain, where it is tested against every
token of the vocabulary before each pick: 151,936 tokens for Qwen2.5, a third of the time
per generated token of a 1.5B model on two cores (``benchmarks/bench_turn_grammar.py``).
:class:`GrammarGate` does what llama.cpp's own ``common_sampler`` does instead: the chain
picks without the grammar, the grammar checks that one token, and only a rejected pick is
made again with the grammar applied to the whole vocabulary. Under greedy decoding the
result is the same token; when sampling it is the same rule llama.cpp's server follows.
"""

from __future__ import annotations

import ctypes
import math
from collections.abc import Sequence

import numpy as np

from rlm_cli.errors import ModelError

_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


class GrammarGate:
    """One completion's grammar, checked token by token (see the module docstring).

    ``vocab`` is the model's ``llama_vocab`` pointer; the gate holds native state and is
    closed when the completion ends."""

    def __init__(self, vocab, gbnf: str, n_vocab: int) -> None:
        import llama_cpp

        self._lib = llama_cpp
        self._sampler = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")
        if not self._sampler:
            raise ModelError("bad GBNF grammar: llama.cpp could not parse it")
        self._one = (llama_cpp.llama_token_data * 1)()
        self._one_view = llama_cpp.llama_token_data_array(
            data=self._one, size=1, selected=-1, sorted=False
        )
        self._n_vocab = n_vocab
        self._all = (llama_cpp.llama_token_data * n_vocab)()
        self._all_np = np.frombuffer(self._all, dtype=_TOKEN_DATA)
        self._all_view = llama_cpp.llama_token_data_array(
            data=self._all, size=n_vocab, selected=-1, sorted=False
        )
        self.checked = 0
        """Tokens the grammar checked alone."""
        self.resampled = 0
        """Picks it rejected, made again under the grammar over the whole vocabulary."""

    def allows(self, token: int) -> bool:
        """Whether the grammar, in its present state, accepts ``token`` next."""
        one = self._one[0]
        one.id, one.logit, one.p = token, 0.0, 0.0
        self._one_view.size, self._one_view.selected = 1, -1
        self._lib.llama_sampler_apply(self._sampler, ctypes.byref(self._one_view))
        return one.logit != -math.inf

    def settle(self, token: int, ctx, chain, idx: int) -> int:
        """The token to emit after ``chain`` picked ``token`` from the logits at ``idx``
        without the grammar: ``token`` itself if the grammar allows it, else the chain's
        pick from the logits the grammar allows. The grammar then advances past it."""
        self.checked += 1
        if not self.allows(token):
            self.resampled += 1
            token = self._pick_under_grammar(ctx, chain, idx)
        self._lib.llama_sampler_accept(self._sampler, token)
        return token

    def _pick_under_grammar(self, ctx, chain, idx: int) -> int:
        lib = self._lib
        logits = lib.llama_get_logits_ith(ctx, idx)
        n = self._n_vocab
        self._all_np["id"] = np.arange(n, dtype=np.intc)
        self._all_np["logit"] = np.ctypeslib.as_array(logits, shape=(n,))
        self._all_np["p"] = 0.0
        view = self._all_view
        view.size, view.selected, view.sorted = n, -1, False
        lib.llama_sampler_apply(self._sampler, ctypes.byref(view))
        lib.llama_sampler_apply(chain, ctypes.byref(view))
        if not 0 <= view.selected < view.size:
            raise ModelError("llama.cpp: no token is allowed by the grammar here")
        return int(self._all[view.selected].id)

    def close(self) -> None:
        """Free the native grammar sampler."""
        if self._sampler:
            self._lib.llama_sampler_free(self._sampler)
            self._sampler = None

    def __del__(self) -> None:  # pragma: no cover - a safety net; close() is the way
        self.close()


def bias_logits(ctx, idx: int, n_vocab: int, ids: Sequence[int], amount: float) -> None:
    """Add ``amount`` to the logits of ``ids`` at output ``idx`` of ``ctx``, in place, before
    the sampler reads them: a bias on one token costs nothing on the others."""
    import llama_cpp

    logits = np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, idx), shape=(n_vocab,))
    logits[list(ids)] += amount

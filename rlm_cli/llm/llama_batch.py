"""Batched decoding: several independent prompts as separate sequences of one llama.cpp batch.

A :class:`BatchDecoder` owns a second ``llama_context`` on the same (memory-mapped)
weights as a ``Llama`` instance, so batching never disturbs that instance's KV cache.
Each prompt is one sequence (``seq_id``) with its own KV stream (``kv_unified`` off), so
a sequence sees exactly the cache layout it would see alone. Prompt tokens of all
sequences are packed into batches of ``n_batch`` tokens; after that every step decodes
one token per live sequence in a single ``llama_decode`` call, which is where batching
pays: a step costs about as much as one single-sequence step (the weights are read
once), but advances every sequence.

Sampling uses the ``Llama`` instance's own sampler chain (one per sequence), and the
stop rules of ``Llama.create_completion`` (end-of-generation token, the first stop
string in list order, ``max_tokens``), so at temperature 0 the answers equal those of
one-at-a-time completion.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from rlm_cli.errors import ModelError


class HeadCache(Protocol):
    """Where a batch keeps the KV state of a shared head between runs (per stream count:
    a state loads only into a context with as many streams as the one that saved it)."""

    def load(self, streams: int) -> bytes | memoryview | None: ...

    def save(self, streams: int, state: bytes) -> None: ...


@dataclass
class SeqResult:
    """What one sequence produced."""

    tokens: list[int] = field(default_factory=list)
    text: str = ""
    finish_reason: str = "length"


@dataclass
class _Seq:
    prompt: list[int]
    max_tokens: int
    sampler: object
    out: SeqResult = field(default_factory=SeqResult)
    done: bool = False
    multibyte_fix: int = 0
    skip: int = 0
    """Leading prompt tokens already in the sequence's KV (a loaded shared head)."""


def _round_up(n: int, to: int) -> int:
    return ((n + to - 1) // to) * to


class BatchDecoder:
    """Decodes several prompts together on a dedicated context of ``llm``'s weights."""

    def __init__(self, llm, n_batch: int) -> None:
        self._llm = llm
        self.n_batch = max(1, int(n_batch))
        self._ctx = None
        self._ctx_shape: tuple[int, int] = (0, 0)
        self._batch = None
        self.last_timing: dict[str, float] = {}
        self.last_skipped: list[int] = []
        """Per sequence of the last run, prompt tokens it did not evaluate (a shared head)."""
        self.head_loaded = False
        """Whether the last run's shared head came from the head cache."""
        """Seconds of the last run: ``prefill_s`` (prompts) and ``decode_s`` (generation)."""

    # -- resources ---------------------------------------------------------------------------

    def _context(self, n_seq: int, n_ctx_seq: int):
        """A context with ``n_seq`` KV streams of ``n_ctx_seq`` cells each (kept for reuse)."""
        import llama_cpp
        from llama_cpp import _internals as internals

        have_seq, have_ctx = self._ctx_shape
        if self._ctx is not None and have_seq >= n_seq and have_ctx >= n_ctx_seq:
            llama_cpp.llama_memory_clear(self._ctx.memory, True)
            return self._ctx
        self.close()
        n_seq = max(n_seq, have_seq)
        n_ctx_seq = max(_round_up(n_ctx_seq, 256), have_ctx)
        params = llama_cpp.llama_context_params.from_buffer_copy(self._llm.context_params)
        params.n_seq_max = n_seq
        params.n_ctx = n_seq * n_ctx_seq
        params.n_batch = self.n_batch
        params.n_ubatch = min(self.n_batch, int(self._llm.context_params.n_ubatch) or self.n_batch)
        params.kv_unified = False
        try:
            self._ctx = internals.LlamaContext(model=self._llm._model, params=params, verbose=False)  # noqa: SLF001
        except ValueError as e:
            raise ModelError(f"llama.cpp could not make a batch context: {e}") from e
        self._ctx_shape = (n_seq, n_ctx_seq)
        self._batch = llama_cpp.llama_batch_init(self.n_batch, 0, 1)
        return self._ctx

    def close(self) -> None:
        """Free the batch context (the weights stay with the ``Llama`` instance)."""
        import llama_cpp

        if self._batch is not None:
            llama_cpp.llama_batch_free(self._batch)
            self._batch = None
        if self._ctx is not None:
            self._ctx.close()
            self._ctx = None
        self._ctx_shape = (0, 0)

    # -- decoding ----------------------------------------------------------------------------

    def run(
        self,
        prompts: list[list[int]],
        max_tokens: list[int],
        *,
        temperature: float,
        top_p: float,
        seed: int | None,
        stops: list[str],
        head: list[int] | None = None,
        head_cache: HeadCache | None = None,
    ) -> list[SeqResult]:
        """Complete every prompt; one :class:`SeqResult` per prompt, in order.

        ``head``: tokens every prompt starts with (the sub-call system message). They are
        evaluated once, in sequence 0 (or loaded there from ``head_cache``, which is given
        the state to keep when it had none), and copied to the other sequences.
        """
        llm = self._llm
        if seed is not None:
            llm.set_seed(seed)
        n_ctx_seq = max(len(p) + m for p, m in zip(prompts, max_tokens))
        ctx = self._context(len(prompts), n_ctx_seq)
        seqs = [
            _Seq(
                prompt=list(p),
                max_tokens=m,
                sampler=llm._init_sampler(temp=temperature, top_p=top_p),  # noqa: SLF001
            )
            for p, m in zip(prompts, max_tokens)
        ]
        stop_bytes = [s.encode("utf-8") for s in stops if s]
        t0 = time.perf_counter()
        self.head_loaded = False
        if head and all(len(s.prompt) > len(head) for s in seqs):
            self._share_head(ctx, seqs, head, head_cache)
        try:
            self._prefill(ctx, seqs, stop_bytes)
            t1 = time.perf_counter()
            while True:
                live = [i for i, s in enumerate(seqs) if not s.done]
                if not live:
                    break
                self._clear()
                for i in live:
                    s = seqs[i]
                    self._add(s.out.tokens[-1], len(s.prompt) + len(s.out.tokens) - 1, i, True)
                self._decode(ctx)
                for j, i in enumerate(live):
                    self._sample(ctx, seqs[i], j, stop_bytes)
        finally:
            for s in seqs:
                s.sampler.close()  # type: ignore[attr-defined]
        self.last_timing = {"prefill_s": t1 - t0, "decode_s": time.perf_counter() - t1}
        self.last_skipped = [s.skip for s in seqs]
        return [s.out for s in seqs]

    def _share_head(self, ctx, seqs: list[_Seq], head: list[int], cache: HeadCache | None) -> None:
        """Put ``head`` in every sequence's KV: loaded or evaluated once, then copied."""
        import ctypes

        import llama_cpp

        streams = self._ctx_shape[0]
        state = cache.load(streams) if cache is not None else None
        if state is not None:
            buf = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
            self.head_loaded = bool(llama_cpp.llama_state_seq_set_data(ctx.ctx, buf, len(state), 0))
        if not self.head_loaded:
            llama_cpp.llama_memory_seq_rm(llama_cpp.llama_get_memory(ctx.ctx), 0, -1, -1)
            for start in range(0, len(head), self.n_batch):
                self._clear()
                for pos in range(start, min(len(head), start + self.n_batch)):
                    self._add(head[pos], pos, 0, False)
                self._decode(ctx)
            if cache is not None:
                size = llama_cpp.llama_state_seq_get_size(ctx.ctx, 0)
                out = (ctypes.c_uint8 * size)()
                n = llama_cpp.llama_state_seq_get_data(ctx.ctx, out, size, 0)
                if 0 < n <= size:
                    cache.save(streams, bytes(memoryview(out)[:n]))
        mem = llama_cpp.llama_get_memory(ctx.ctx)
        for i, s in enumerate(seqs):
            if i:
                llama_cpp.llama_memory_seq_cp(mem, 0, i, -1, -1)
            s.skip = len(head)

    def _prefill(self, ctx, seqs: list[_Seq], stop_bytes: list[bytes]) -> None:
        """Evaluate every prompt, packed into batches; sample each first token."""
        pending: list[tuple[int, int]] = []  # (sequence, batch index of its last token)
        self._clear()
        for i, s in enumerate(seqs):
            for pos in range(s.skip, len(s.prompt)):
                tok = s.prompt[pos]
                if self._batch.n_tokens >= self.n_batch:
                    self._decode(ctx)
                    for si, j in pending:
                        self._sample(ctx, seqs[si], j, stop_bytes)
                    pending.clear()
                    self._clear()
                last = pos == len(s.prompt) - 1
                if last:
                    pending.append((i, self._batch.n_tokens))
                self._add(tok, pos, i, last)
        if self._batch.n_tokens:
            self._decode(ctx)
            for si, j in pending:
                self._sample(ctx, seqs[si], j, stop_bytes)

    def _clear(self) -> None:
        self._batch.n_tokens = 0

    def _add(self, token: int, pos: int, seq_id: int, logits: bool) -> None:
        b = self._batch
        j = b.n_tokens
        b.token[j] = token
        b.pos[j] = pos
        b.n_seq_id[j] = 1
        b.seq_id[j][0] = seq_id
        b.logits[j] = logits
        b.n_tokens = j + 1

    def _decode(self, ctx) -> None:
        import llama_cpp

        rc = llama_cpp.llama_decode(ctx.ctx, self._batch)
        if rc != 0:
            raise ModelError(
                f"llama_decode failed on a batch of {self._batch.n_tokens} tokens (code {rc})"
            )

    def _sample(self, ctx, s: _Seq, idx: int, stop_bytes: list[bytes]) -> None:
        """Sample the next token of ``s`` from output ``idx``; apply create_completion's stop rules."""
        import llama_cpp

        llm = self._llm
        token = s.sampler.sample(ctx, idx)  # type: ignore[attr-defined]
        if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):  # noqa: SLF001
            self._finish(s, "stop")
            return
        s.out.tokens.append(token)
        text = llm.detokenize(s.out.tokens, prev_tokens=s.prompt)
        if len(s.prompt) + len(s.out.tokens) >= self._ctx_shape[1]:
            self._finish(s, "length")  # the sequence's KV stream is full
            return
        if self._partial_utf8(s, text):
            return  # like create_completion: no stop or length check inside a character
        for stop in stop_bytes:
            if stop in text:
                s.out.text = text[: text.index(stop)].decode("utf-8", errors="ignore")
                s.out.finish_reason = "stop"
                s.done = True
                return
        if len(s.out.tokens) >= s.max_tokens:
            self._finish(s, "length")

    @staticmethod
    def _partial_utf8(s: _Seq, text: bytes) -> bool:
        """create_completion's check (kept byte for byte): does ``text`` end inside a character?"""
        for k, char in enumerate(text[-3:]):
            k = 3 - k
            for num, pattern in ((2, 192), (3, 224), (4, 240)):
                if num > k and pattern & char == pattern:
                    s.multibyte_fix = num - k
        if s.multibyte_fix > 0:
            s.multibyte_fix -= 1
            return True
        return False

    def _finish(self, s: _Seq, reason: str) -> None:
        text = self._llm.detokenize(s.out.tokens, prev_tokens=s.prompt)
        s.out.text = text.decode("utf-8", errors="ignore")
        s.out.finish_reason = reason
        s.done = True

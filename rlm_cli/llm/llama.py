"""llama.cpp in process, through llama-cpp-python.

One :class:`LlamaModel` per role (root, sub-caller): the weights are memory-mapped
and shared, and each instance keeps its own KV cache, so the root's growing
conversation is reused turn after turn instead of evaluated again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rlm_cli.errors import ModelError, PromptTooLong
from rlm_cli.llm.base import Completion, GenerationParams, Message, Model, OnText

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@dataclass(frozen=True)
class LlamaOptions:
    """How to load a GGUF model."""

    n_ctx: int = 8192
    n_threads: int | None = None
    n_batch: int = 512
    n_gpu_layers: int = 0
    flash_attn: bool = False
    seed: int = 0
    batch_seqs: int = 8
    """Most sub-call prompts decoded together by :meth:`LlamaModel.complete_many`."""
    batch_ctx: int | None = None
    """KV cells of the batch context, all sequences together (default: 2 × n_ctx)."""


def check_gguf_file(path: Path) -> None:
    """Raise ModelError unless ``path`` is a readable GGUF file."""
    if not path.exists():
        raise ModelError(f"model file not found: {path}")
    if path.is_dir():
        raise ModelError(f"model path is a folder, not a .gguf file: {path}")
    try:
        with open(path, "rb") as f:
            magic = f.read(4)
    except OSError as e:
        raise ModelError(f"cannot read model file {path}: {e.strerror or e}") from e
    if magic != b"GGUF":
        raise ModelError(f"not a GGUF model file: {path}")


class LlamaModel(Model):
    """A GGUF model run by llama.cpp in this process."""

    def __init__(self, path: Path, options: LlamaOptions | None = None) -> None:
        self.path = Path(path)
        self.options = options or LlamaOptions()
        self.spec = str(self.path)
        self.n_ctx = self.options.n_ctx
        check_gguf_file(self.path)
        try:
            from llama_cpp import Llama
        except ImportError as e:  # pragma: no cover - dependency is required
            raise ModelError("llama-cpp-python is not installed") from e
        from rlm_cli.llm.llama_logging import silence_native_logs

        silence_native_logs()
        try:
            self._llm = Llama(
                model_path=str(self.path),
                n_ctx=self.options.n_ctx,
                n_threads=self.options.n_threads,
                n_threads_batch=self.options.n_threads,
                n_batch=self.options.n_batch,
                n_gpu_layers=self.options.n_gpu_layers,
                flash_attn=self.options.flash_attn,
                seed=self.options.seed,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as e:
            raise ModelError(f"llama.cpp could not load {self.path.name}: {e}") from e
        self._lock = threading.Lock()
        self._grammars: dict[str, object] = {}
        self._formatter = self._make_formatter()
        self._batcher = None
        self._eval_sizes: list[int] = []
        self._sampled: list[int] = []
        self._count_work()

    def _count_work(self) -> None:
        """Record every ``Llama.eval`` and ``Llama.sample`` call of this instance.

        ``generate()`` first evaluates the part of the prompt not already in the KV cache
        (one call, maybe empty), then one call per generated token; so the first size of a
        completion is its exact count of prompt tokens evaluated. Each sample call is one
        generated token.
        """
        llm = self._llm
        eval_, sample = llm.eval, llm.sample

        def counting_eval(tokens):
            self._eval_sizes.append(len(tokens))
            progress = self.on_prompt_progress
            step = max(1, llm.n_batch)
            if progress is None or len(tokens) <= step:
                return eval_(tokens)
            # The same n_batch slices Llama.eval makes, one call each, so the caller can
            # say how far the prompt has been read (each slice costs seconds on a CPU).
            progress(0, len(tokens))
            for i in range(0, len(tokens), step):
                eval_(tokens[i : i + step])
                progress(min(i + step, len(tokens)), len(tokens))
            return None

        def counting_sample(*args, **kwargs):
            token = sample(*args, **kwargs)
            self._sampled.append(token)
            return token

        llm.eval = counting_eval
        llm.sample = counting_sample
        self.on_prompt_progress: Callable[[int, int], None] | None = None
        """Called with (tokens read, prompt tokens) while a long prompt is evaluated."""
        self.template_kwargs: dict = {}
        """Extra variables for the chat template (``enable_thinking`` for Qwen3)."""

    # -- prompt formatting ----------------------------------------------------------------

    def _make_formatter(self):
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        meta = self._llm.metadata or {}
        template = meta.get("tokenizer.chat_template") or CHATML
        vocab = self._llm._model  # noqa: SLF001 - token text lookups
        eos_id, bos_id = self._llm.token_eos(), self._llm.token_bos()
        eos = vocab.token_get_text(eos_id) if eos_id >= 0 else ""
        bos = vocab.token_get_text(bos_id) if bos_id >= 0 else ""
        return Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)

    def tokenize_chat(self, messages: Sequence[Message]) -> tuple[list[int], list[str]]:
        """Token ids of the formatted conversation, and the template's stop strings."""
        resp = self._formatter(messages=list(messages), **self.template_kwargs)
        stops = resp.stop if isinstance(resp.stop, list) else ([resp.stop] if resp.stop else [])
        tokens = self._llm.tokenize(
            resp.prompt.encode("utf-8"), add_bos=not resp.added_special, special=True
        )
        return tokens, stops

    def count_tokens(self, text: str) -> int:
        """Tokens in ``text`` by the model's own tokenizer."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def supports_grammar(self) -> bool:
        return True

    def set_thinking(self, enabled: bool) -> bool:
        """Pass ``enable_thinking`` to templates that read it (Qwen3); others ignore it."""
        template = (self._llm.metadata or {}).get("tokenizer.chat_template") or ""
        self.template_kwargs["enable_thinking"] = bool(enabled)
        return "enable_thinking" in template

    def identity(self) -> str:
        """Path, size and modification time of the GGUF file."""
        st = self.path.stat()
        return f"{self.path.resolve()}|{st.st_size}|{st.st_mtime_ns}"

    def _grammar(self, gbnf: str | None):
        if not gbnf:
            return None
        if gbnf not in self._grammars:
            from llama_cpp import LlamaGrammar

            try:
                self._grammars[gbnf] = LlamaGrammar.from_string(gbnf, verbose=False)
            except ValueError as e:
                raise ModelError(f"bad GBNF grammar: {e}") from e
        return self._grammars[gbnf]

    # -- completion -------------------------------------------------------------------------

    def complete(
        self, messages: Sequence[Message], params: GenerationParams, on_text: OnText | None = None
    ) -> Completion:
        tokens, stops = self.tokenize_chat(messages)
        max_tokens, meta = self._fit(tokens, params)
        t0 = time.perf_counter()
        with self._lock:
            self._eval_sizes, self._sampled = [], []
            try:
                stream = self._llm.create_completion(
                    prompt=tokens,
                    max_tokens=max_tokens,
                    temperature=params.temperature,
                    top_p=params.top_p,
                    seed=params.seed,
                    stop=list(params.stop) + stops,
                    grammar=self._grammar(params.grammar),
                    stream=True,
                )
                parts: list[str] = []
                finish = "stop"
                for chunk in stream:
                    choice = chunk["choices"][0]
                    piece = choice.get("text") or ""
                    if piece:
                        parts.append(piece)
                        if on_text:
                            on_text(piece)
                    if choice.get("finish_reason"):
                        finish = choice["finish_reason"]
            except ValueError as e:
                raise ModelError(f"llama.cpp: {e}") from e
            evaluated = self._eval_sizes[0] if self._eval_sizes else len(tokens)
            generated = len(self._sampled)
            if generated and self._is_eog(self._sampled[-1]):
                generated -= 1  # the end-of-generation token is not part of the answer
        text = "".join(parts)
        return Completion(
            text=text,
            prompt_tokens=len(tokens),
            completion_tokens=generated,
            prompt_tokens_reused=len(tokens) - evaluated,
            finish_reason=finish,
            elapsed_s=time.perf_counter() - t0,
            meta=meta,
        )

    def _is_eog(self, token: int) -> bool:
        import llama_cpp

        return bool(llama_cpp.llama_vocab_is_eog(self._llm._model.vocab, token))  # noqa: SLF001

    def _fit(self, tokens: list[int], params: GenerationParams) -> tuple[int, dict]:
        """``max_tokens`` shortened to what the window leaves; PromptTooLong when nothing is left."""
        if len(tokens) >= self.n_ctx:
            raise PromptTooLong(
                f"prompt is {len(tokens)} tokens; the model's window (n_ctx) is {self.n_ctx}",
                tokens=len(tokens),
                limit=self.n_ctx,
            )
        meta: dict = {}
        max_tokens = params.max_tokens
        if len(tokens) + max_tokens > self.n_ctx:
            max_tokens = self.n_ctx - len(tokens)
            meta["max_tokens_reduced_to"] = max_tokens
        return max_tokens, meta

    # -- batched completion ------------------------------------------------------------------

    def complete_many(
        self, conversations: Sequence[Sequence[Message]], params: GenerationParams
    ) -> list[Completion]:
        """Answer several conversations, decoded together as sequences of one batch.

        Falls back to one at a time where batching cannot work: a grammar (one
        grammar sampler per sequence is not supported here), a single conversation,
        a prompt too long for the window, or a batch llama.cpp refuses.
        """
        if len(conversations) < 2 or params.grammar or self.options.batch_seqs < 2:
            return super().complete_many(conversations, params)
        prepared = [self.tokenize_chat(m) for m in conversations]
        if any(len(toks) >= self.n_ctx for toks, _ in prepared):
            return super().complete_many(conversations, params)  # raises PromptTooLong in order
        results: list[Completion | None] = [None] * len(conversations)
        for group in self._groups([len(t) + self._fit(t, params)[0] for t, _ in prepared]):
            if len(group) == 1:
                i = group[0]
                results[i] = self.complete(conversations[i], params)
                continue
            try:
                done = self._complete_group([prepared[i] for i in group], params)
            except ModelError as e:
                done = [self.complete(conversations[i], params) for i in group]
                for c in done:
                    c.meta["batch_fallback"] = str(e)
            for i, c in zip(group, done):
                results[i] = c
        return [c for c in results if c is not None]

    def _groups(self, needs: list[int]) -> list[list[int]]:
        """Consecutive indices packed so that n × the largest need fits the batch context."""
        budget = self.options.batch_ctx or 2 * self.n_ctx
        groups: list[list[int]] = []
        cur: list[int] = []
        widest = 0
        for i, need in enumerate(needs):
            w = max(widest, need)
            if cur and (len(cur) >= self.options.batch_seqs or w * (len(cur) + 1) > budget):
                groups.append(cur)
                cur, w = [], need
            cur.append(i)
            widest = w
        if cur:
            groups.append(cur)
        return groups

    def _complete_group(
        self, prepared: list[tuple[list[int], list[str]]], params: GenerationParams
    ) -> list[Completion]:
        from rlm_cli.llm.llama_batch import BatchDecoder

        fits = [self._fit(t, params) for t, _ in prepared]
        stops = list(params.stop) + [s for s in prepared[0][1] if s]
        t0 = time.perf_counter()
        with self._lock:
            if self._batcher is None:
                self._batcher = BatchDecoder(self._llm, self.options.n_batch)
            outs = self._batcher.run(
                [t for t, _ in prepared],
                [m for m, _ in fits],
                temperature=params.temperature,
                top_p=params.top_p,
                seed=params.seed,
                stops=stops,
            )
        elapsed = time.perf_counter() - t0
        return [
            Completion(
                text=o.text,
                prompt_tokens=len(toks),
                completion_tokens=len(o.tokens),
                prompt_tokens_reused=0,
                finish_reason=o.finish_reason,
                elapsed_s=elapsed,
                meta={**meta, "batched": len(prepared), **self._batcher.last_timing},
            )
            for o, (toks, _), (_, meta) in zip(outs, prepared, fits)
        ]

    def close(self) -> None:
        if getattr(self, "_batcher", None) is not None:
            self._batcher.close()
            self._batcher = None
        llm = getattr(self, "_llm", None)
        if llm is not None:
            llm.close()
            self._llm = None

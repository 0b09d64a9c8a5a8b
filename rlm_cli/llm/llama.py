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

from rlm_cli.config import DEFAULTS
from rlm_cli.errors import ModelError, PromptTooLong
from rlm_cli.llm.base import DEFAULT_N_CTX, Completion, GenerationParams, Message, Model, OnText
from rlm_cli.llm.llama_sampling import GrammarGate, bias_logits
from rlm_cli.llm.machine import choose
from rlm_cli.llm.prompt_cache import DEFAULT_MAX_FILES, PromptCache

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


GEMMA = (
    "{{ bos_token }}{% if messages[0]['role'] == 'system' %}"
    "{% set head = messages[0]['content'] + '\n\n' %}"
    "{% set turns = messages[1:] %}{% else %}{% set head = '' %}{% set turns = messages %}"
    "{% endif %}{% for m in turns %}<start_of_turn>"
    "{{ 'model' if m['role'] == 'assistant' else 'user' }}\n"
    "{{ (head if loop.first else '') + m['content'] }}<end_of_turn>\n{% endfor %}"
    "{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
"""Gemma's turn format (no system role: the system text opens the first user turn)."""

FALLBACK_TEMPLATES = {"gemma": GEMMA, "gemma2": GEMMA, "gemma3": GEMMA}
"""Chat templates by ``general.architecture`` for GGUFs that carry none (some conversions
drop ``tokenizer.chat_template``); anything else gets ChatML, with a note either way."""

STOP_CHECK_TOKENS = 64
"""Under a deadline, prompt tokens evaluated between two looks at ``should_stop`` (a
512-token batch of a 1.5B model takes 10-25 s on two busy cores)."""


@dataclass(frozen=True)
class LlamaOptions:
    """How to load a GGUF model."""

    n_ctx: int = DEFAULT_N_CTX
    n_threads: int | None = None
    n_batch: int = DEFAULTS.n_batch
    n_gpu_layers: int = 0
    flash_attn: bool = False
    seed: int = 0
    batch_seqs: int = 8
    """Most sub-call prompts decoded together by :meth:`LlamaModel.complete_many`."""
    batch_ctx: int | None = None
    """KV cells of the batch context, all sequences together (default: 2 × n_ctx)."""
    prompt_cache: bool = False
    """Keep the evaluated static head of prompts (the system message) on disk, and load
    it on later runs instead of evaluating it again (:mod:`rlm_cli.llm.prompt_cache`)."""
    prompt_cache_dir: Path | None = None
    """Where (default ``<data dir>/prompt_cache``)."""
    prompt_cache_mb: int = 1024
    """Bound on the folder; least recently used entries go first."""
    prompt_cache_min_tokens: int = 64
    """Heads shorter than this are evaluated, not cached (loading would not pay)."""
    lookup_tokens: int = 0
    """Prompt-lookup speculative decoding: tokens drafted per step by matching the last
    n-gram against the conversation (0: off)."""
    grammar_gate: bool = True
    """Check a grammar against the sampler's pick alone and resample only a rejected one
    (:class:`~rlm_cli.llm.llama_sampling.GrammarGate`); False: llama-cpp-python's way, the
    grammar over the whole vocabulary before every pick (kept for comparison)."""


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
        self.tuning = choose(
            self.options.n_threads, self.options.n_batch, self.options.n_gpu_layers
        )
        draft = None
        if self.options.lookup_tokens > 0:
            from llama_cpp.llama_speculative import LlamaPromptLookupDecoding

            draft = LlamaPromptLookupDecoding(num_pred_tokens=self.options.lookup_tokens)
        try:
            self._llm = Llama(
                model_path=str(self.path),
                n_ctx=self.options.n_ctx,
                n_threads=self.tuning.threads,
                n_threads_batch=self.tuning.threads_batch,
                n_batch=self.tuning.n_batch,
                n_ubatch=self.tuning.n_ubatch,
                n_gpu_layers=self.options.n_gpu_layers,
                flash_attn=self.options.flash_attn,
                seed=self.options.seed,
                draft_model=draft,
                # a draft model needs every position's logits; llama-cpp-python switches the
                # context to that but sizes its score buffer from this flag, so say it here
                logits_all=draft is not None,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as e:
            raise ModelError(f"llama.cpp could not load {self.path.name}: {e}") from e
        self._pcache: PromptCache | None = None
        if self.options.prompt_cache:
            self._pcache = PromptCache(
                self.options.prompt_cache_dir,
                max_bytes=self.options.prompt_cache_mb << 20,
                max_files=DEFAULT_MAX_FILES,
            )
        self._heads: dict[tuple, list[int]] = {}
        self._notes: list[str] = []
        self._lock = threading.Lock()
        self._grammars: dict[str, object] = {}
        self._opening_ids: dict[str, list[int]] = {}
        self._formatter = self._make_formatter()
        self._batcher = None
        self._eval_sizes: list[int] = []
        self._sampled: list[int] = []
        self._params: GenerationParams | None = None
        """The running call's parameters, for the stop hook in ``eval``."""
        self._gate: GrammarGate | None = None
        """The running call's grammar, when it is checked pick by pick."""
        self._first_bias: tuple[list[int], float] | None = None
        """The running call's first-token bias: token ids and the logits added to them."""
        self._sample_times: list[float] = []
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
            params = self._params
            progress = self.on_prompt_progress
            stopping = params is not None and params.should_stop is not None
            step = min(self.options.n_batch, STOP_CHECK_TOKENS) if stopping else max(1, llm.n_batch)
            if not stopping and (progress is None or len(tokens) <= step):
                return eval_(tokens)
            # Slices (n_batch, or smaller with a stop hook) so the stop hook is polled between
            # them and the caller can say how far the prompt has been read.
            if progress is not None:
                progress(0, len(tokens))
            for i in range(0, len(tokens), step):
                if stopping:
                    params.check_stop()
                eval_(tokens[i : i + step])
                if progress is not None:
                    progress(min(i + step, len(tokens)), len(tokens))
            return None

        def counting_sample(*args, **kwargs):
            idx = kwargs.get("idx")
            at = idx - llm.n_tokens if idx is not None else -1
            ctx = llm._ctx.ctx  # noqa: SLF001 - the native context, for its logits
            bias = None if self._sampled else self._first_bias
            if bias:
                bias_logits(ctx, at, llm.n_vocab(), *bias)
            token = sample(*args, **kwargs)
            if self._gate is not None:
                token = self._gate.settle(token, ctx, llm._sampler.sampler, at)  # noqa: SLF001
            if bias:  # the logits stay as the model left them, for a later exact-prefix hit
                bias_logits(ctx, at, llm.n_vocab(), bias[0], -bias[1])
            self._sampled.append(token)
            if len(self._sample_times) < 2:
                self._sample_times.append(time.perf_counter())
            else:
                self._sample_times[1] = time.perf_counter()
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
        template = meta.get("tokenizer.chat_template")
        vocab = self._llm._model  # noqa: SLF001 - token text lookups
        eos_id, bos_id = self._llm.token_eos(), self._llm.token_bos()
        eos = vocab.token_get_text(eos_id) if eos_id >= 0 else ""
        if not template:
            arch = str(meta.get("general.architecture", ""))
            template = FALLBACK_TEMPLATES.get(arch, CHATML)
            kind = "ChatML" if template is CHATML else f"the {arch} turn format"
            self._notes.append(f"{self.path.name} has no chat template; using {kind}")
            if template is GEMMA:
                eos = "<end_of_turn>"  # the end of a model turn, the template's stop
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

    def counts_tokens_exactly(self) -> bool:
        return True

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

    def describe(self) -> str:
        """Threads, batch sizes, prompt cache and speculative decoding, for ``--debug``."""
        cache = f"prompt cache {self._pcache.root}" if self._pcache else "prompt cache off"
        lookup = (
            f"prompt-lookup decoding {self.options.lookup_tokens} tokens"
            if self.options.lookup_tokens
            else "prompt-lookup decoding off"
        )
        return f"{self.path.name}: {self.tuning.describe()}; {cache}; {lookup}"

    def warm(self, system: str) -> tuple[int, int]:
        """Evaluate and save the cached head of conversations opening with ``system`` (once
        per model, prompt version and window); (0, 0) with the prompt cache off."""
        messages: list[Message] = [
            {"role": "system", "content": system},
            {"role": "user", "content": "A"},
        ]
        tokens, _ = self.tokenize_chat(messages)
        with self._lock:
            self._eval_sizes = []
            return self._prime([self._static_head(messages, tokens)])

    def drain_notes(self) -> list[str]:
        """Notes since the last call (a prompt cache entry that could not be used)."""
        notes, self._notes = self._notes, []
        return notes

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

    def _first_token_bias(self, bias: tuple[str, float] | None) -> tuple[list[int], float] | None:
        """The token ids and logits of a first-token bias: ``bias[1]`` added to the longest
        tokens that begin ``bias[0]`` (None: no bias). Only the longest: a shorter one opens
        other words too (``FIN`` opens ``FINDING``, which the 1.5B model then wrote as
        prose before its answer)."""
        if not bias or not bias[1]:
            return None
        text, logits = bias
        if text not in self._opening_ids:
            vocab = self._llm._model  # noqa: SLF001 - token text lookups
            pieces = {i: vocab.token_get_text(i) for i in range(self._llm.n_vocab())}
            begins = {i: p for i, p in pieces.items() if p and text.startswith(p)}
            longest = max((len(p) for p in begins.values()), default=0)
            self._opening_ids[text] = [i for i, p in begins.items() if len(p) == longest]
        return self._opening_ids[text], logits

    def _grammar_gate(self, gbnf: str | None) -> GrammarGate | None:
        """A fresh gate for one completion under ``gbnf`` (None without a grammar, or when
        the grammar goes to llama-cpp-python whole)."""
        if not gbnf or not self.options.grammar_gate:
            return None
        llm = self._llm
        return GrammarGate(llm._model.vocab, gbnf, llm.n_vocab())  # noqa: SLF001

    # -- completion -------------------------------------------------------------------------

    def complete(
        self, messages: Sequence[Message], params: GenerationParams, on_text: OnText | None = None
    ) -> Completion:
        tokens, stops = self.tokenize_chat(messages)
        max_tokens, meta = self._fit(tokens, params)
        t0 = time.perf_counter()
        with self._lock:
            self._eval_sizes, self._sampled, self._sample_times = [], [], []
            self._params = params
            head = self._static_head(messages, tokens)
            log_head = self._log_head(messages, tokens, head, params.cache_prefix_chars)
            head_evaluated, cached = self._prime([head, log_head])
            self._eval_sizes = []
            self._first_bias = self._first_token_bias(params.opening_bias)
            self._gate = self._grammar_gate(params.grammar)
            try:
                stream = self._llm.create_completion(
                    prompt=tokens,
                    max_tokens=max_tokens,
                    temperature=params.temperature,
                    top_p=params.top_p,
                    seed=params.seed,
                    stop=list(params.stop) + stops,
                    grammar=None if self._gate else self._grammar(params.grammar),
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
            finally:
                self._params, self._first_bias = None, None
                if self._gate is not None:
                    self._gate.close()
                    self._gate = None
            evaluated = self._eval_sizes[0] if self._eval_sizes else len(tokens) - head_evaluated
            evaluated += head_evaluated
            sampled = len(self._sampled)
            generated = sampled
            if generated and self._is_eog(self._sampled[-1]):
                generated -= 1  # the end-of-generation token is not part of the answer
            times = self._sample_times
        text = "".join(parts)
        first = times[0] - t0 if times else None
        rate = (
            (sampled - 1) / (times[1] - times[0])
            if len(times) == 2 and times[1] > times[0]
            else None
        )
        return Completion(
            text=text,
            prompt_tokens=len(tokens),
            completion_tokens=generated,
            prompt_tokens_reused=len(tokens) - evaluated,
            prompt_tokens_cached=cached,
            finish_reason=finish,
            elapsed_s=time.perf_counter() - t0,
            first_token_s=first,
            gen_tokens_per_s=rate,
            meta=meta,
        )

    # -- persistent prompt cache -----------------------------------------------------------

    def _static_head(self, messages: Sequence[Message], tokens: list[int]) -> list[int]:
        """The tokens of the formatted system message (and the template's opening of the
        next turn) when they start ``tokens`` and are long enough to be worth caching.

        Found as the common prefix of the conversation formatted with two different one-
        letter user messages, so any chat template works and the head ends where the
        first content that varies begins.
        """
        if not messages or messages[0].get("role") != "system":
            return []
        head = self._head_before(messages[0], "")
        if len(head) < self.options.prompt_cache_min_tokens:
            return []
        return head if _starts(tokens, head) else []

    def _log_head(
        self, messages: Sequence[Message], tokens: list[int], head: list[int], chars: int
    ) -> list[int]:
        """The system head and the first user message's first ``chars`` characters (the
        log's description and brief), found like :meth:`_static_head`; [] when there is
        no such prefix worth caching beyond the system head."""
        if not head or chars <= 0 or len(messages) < 2 or messages[1].get("role") != "user":
            return []
        found = self._head_before(messages[0], str(messages[1].get("content", ""))[:chars])
        if len(found) - len(head) < self.options.prompt_cache_min_tokens:
            return []
        return found if _starts(tokens, found) else []

    def _head_before(self, system: Message, user_prefix: str) -> list[int]:
        """Tokens of ``[system, user message starting with user_prefix]`` up to where the
        user text varies: the common prefix of it formatted with two different one-letter
        endings, so any chat template works (remembered per system text and prefix)."""
        key = (system.get("content", ""), user_prefix, tuple(sorted(self.template_kwargs.items())))
        head = self._heads.get(key)
        if head is None:
            a, _ = self.tokenize_chat([system, {"role": "user", "content": user_prefix + "A"}])
            b, _ = self.tokenize_chat([system, {"role": "user", "content": user_prefix + "B"}])
            n = 0
            for x, y in zip(a, b):
                if x != y:
                    break
                n += 1
            head = self._heads[key] = a[:n]
        return head

    def _layout(self) -> dict:
        """What besides the weights shapes a saved KV state."""
        import llama_cpp

        return {
            "n_ctx": self.n_ctx,
            "flash_attn": bool(self.options.flash_attn),
            "n_gpu_layers": self.options.n_gpu_layers,
            "llama_cpp": llama_cpp.__version__,
        }

    def _prime(self, heads: list[list[int]]) -> tuple[int, int]:
        """Put the longest of ``heads`` (nested prefixes, shortest first; [] for none) in
        the KV cache before a completion: nothing to do when it is there already (a later
        turn of the same conversation); else the longest one the prompt cache holds is
        loaded, the rest evaluated, and each longer head saved as it is reached. Returns
        (tokens evaluated here, tokens loaded from the cache)."""
        heads = [h for h in heads if h]
        if not heads or self._pcache is None:
            return 0, 0
        llm = self._llm
        longest = heads[-1]
        common = 0
        for x, y in zip(llm.input_ids[: min(llm.n_tokens, len(longest))], longest):
            if x != y:
                break
            common += 1
        if common == len(longest):
            return 0, 0
        model, layout = self.identity(), self._layout()
        loaded = 0
        for head in reversed(heads):
            if common >= len(head):
                break  # what the KV cache holds already covers this head
            found = self._pcache.load(model, layout, head)
            if found.note:
                self._notes.append(found.note)
            if found.state is None:
                continue
            if self._load_seq_state(found.state, head):
                common = loaded = len(head)
                break
            self._notes.append("prompt cache entry could not be applied; evaluating the prompt")
        llm.n_tokens = common
        evaluated = 0
        for head in heads:
            if len(head) <= common:
                continue
            llm.eval(head[common:])
            evaluated += len(head) - common
            common = len(head)
            state = self._seq_state()
            if state is not None:
                self._pcache.save(model, layout, head, state)
        return evaluated, loaded

    def _seq_state(self) -> bytes | None:
        import ctypes

        import llama_cpp

        ctx = self._llm._ctx.ctx  # noqa: SLF001 - state save/load is not wrapped
        size = llama_cpp.llama_state_seq_get_size(ctx, 0)
        if size <= 0:
            return None
        buf = (ctypes.c_uint8 * size)()
        n = llama_cpp.llama_state_seq_get_data(ctx, buf, size, 0)
        return bytes(memoryview(buf)[:n]) if 0 < n <= size else None

    def _load_seq_state(self, state, head: list[int]) -> bool:
        import ctypes

        import llama_cpp

        llm = self._llm
        ctx = llm._ctx.ctx  # noqa: SLF001
        llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), True)
        buf = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_seq_set_data(ctx, buf, len(state), 0) == 0:
            llama_cpp.llama_memory_clear(llama_cpp.llama_get_memory(ctx), True)
            llm.n_tokens = 0
            return False
        llm.input_ids[: len(head)] = head
        llm.n_tokens = len(head)
        llm._requires_eval = True  # noqa: SLF001 - no logits until the rest is evaluated
        return True

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
        params.check_stop()
        if len(conversations) < 2 or params.grammar or self.options.batch_seqs < 2:
            return super().complete_many(conversations, params)
        prepared = [self.tokenize_chat(m) for m in conversations]
        heads = [self._static_head(m, t) for m, (t, _) in zip(conversations, prepared)]
        if any(len(toks) >= self.n_ctx for toks, _ in prepared):
            return super().complete_many(conversations, params)  # raises PromptTooLong in order
        results: list[Completion | None] = [None] * len(conversations)
        for group in self._groups([len(t) + self._fit(t, params)[0] for t, _ in prepared]):
            if len(group) == 1:
                i = group[0]
                results[i] = self.complete(conversations[i], params)
                continue
            try:
                shared = {tuple(heads[i]) for i in group}
                head = heads[group[0]] if len(shared) == 1 else []
                done = self._complete_group([prepared[i] for i in group], params, head)
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
        self,
        prepared: list[tuple[list[int], list[str]]],
        params: GenerationParams,
        head: list[int] | None = None,
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
                head=head,
                head_cache=_BatchHeadCache(self, head) if head and self._pcache else None,
            )
            skipped = self._batcher.last_skipped
            loaded = self._batcher.head_loaded
        elapsed = time.perf_counter() - t0
        done = [
            Completion(
                text=o.text,
                prompt_tokens=len(toks),
                completion_tokens=len(o.tokens),
                prompt_tokens_reused=skip,
                prompt_tokens_cached=skip if loaded else 0,
                finish_reason=o.finish_reason,
                elapsed_s=elapsed,
                meta={**meta, "batched": len(prepared), **self._batcher.last_timing},
            )
            for o, (toks, _), (_, meta), skip in zip(outs, prepared, fits, skipped)
        ]
        if skipped and skipped[0] and not loaded:  # evaluated once, for all of them
            done[0].prompt_tokens_reused = 0
        return done

    def close(self) -> None:
        if getattr(self, "_batcher", None) is not None:
            self._batcher.close()
            self._batcher = None
        llm = getattr(self, "_llm", None)
        if llm is not None:
            llm.close()
            self._llm = None


class _BatchHeadCache:
    """The prompt cache as a batch decoder's :class:`~rlm_cli.llm.llama_batch.HeadCache`."""

    def __init__(self, model: LlamaModel, head: list[int]) -> None:
        self.model, self.head = model, head

    def _layout(self, streams: int) -> dict:
        return {**self.model._layout(), "streams": streams}  # noqa: SLF001

    def load(self, streams: int):
        m = self.model
        found = m._pcache.load(m.identity(), self._layout(streams), self.head)  # noqa: SLF001
        if found.note:
            m._notes.append(found.note)  # noqa: SLF001
        return found.state

    def save(self, streams: int, state: bytes) -> None:
        m = self.model
        m._pcache.save(m.identity(), self._layout(streams), self.head, state)  # noqa: SLF001


def _starts(tokens: list[int], head: list[int]) -> bool:
    """Whether ``head`` is a proper prefix of ``tokens``."""
    return len(head) < len(tokens) and tokens[: len(head)] == head

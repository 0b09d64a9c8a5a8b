"""llama.cpp in process, through llama-cpp-python.

One :class:`LlamaModel` per role (root, sub-caller): the weights are memory-mapped
and shared, and each instance keeps its own KV cache, so the root's growing
conversation is reused turn after turn instead of evaluated again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
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

    def _reusable_prefix(self, tokens: list[int]) -> int:
        """How many leading tokens llama.cpp will take from the KV cache (mirrors generate())."""
        n = self._llm.n_tokens
        if n <= 0:
            return 0
        cached = self._llm.input_ids[:n]
        k = 0
        for a, b in zip(cached, tokens):
            if a != b:
                break
            k += 1
        return k - 1 if k == len(tokens) else k

    # -- completion -------------------------------------------------------------------------

    def complete(
        self, messages: Sequence[Message], params: GenerationParams, on_text: OnText | None = None
    ) -> Completion:
        tokens, stops = self.tokenize_chat(messages)
        if len(tokens) >= self.n_ctx:
            raise PromptTooLong(
                f"prompt is {len(tokens)} tokens; the model's window (n_ctx) is {self.n_ctx}",
                tokens=len(tokens),
                limit=self.n_ctx,
            )
        max_tokens = params.max_tokens
        meta: dict = {}
        if len(tokens) + max_tokens > self.n_ctx:
            max_tokens = self.n_ctx - len(tokens)
            meta["max_tokens_reduced_to"] = max_tokens
        t0 = time.perf_counter()
        with self._lock:
            reused = self._reusable_prefix(tokens)
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
        text = "".join(parts)
        return Completion(
            text=text,
            prompt_tokens=len(tokens),
            completion_tokens=len(
                self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
            ),
            prompt_tokens_reused=max(0, reused),
            finish_reason=finish,
            elapsed_s=time.perf_counter() - t0,
            meta=meta,
        )

    def close(self) -> None:
        llm = getattr(self, "_llm", None)
        if llm is not None:
            llm.close()
            self._llm = None

"""Random-weight llama-architecture GGUF files for tests and speed benchmarks.

``write_tiny_gguf`` writes a model of a few hundred kilobytes that llama.cpp
loads in milliseconds and generates (random) text from: enough to exercise the
whole llama-cpp-python path (chat template, tokenizer, grammars, streaming)
without downloading anything. ``write_sized_gguf`` writes the same architecture
at realistic sizes ("0.5B", "1.5B", ...) for speed measurements: the cost of a
forward pass depends only on the shapes and the tensor types, never on the
weight values, so tokens per second measured on these files equal those of a
real model of the same shapes and type.

The vocabulary is SentencePiece-style (``tokenizer.ggml.model = "llama"``):
control tokens (``<unk>``, ``<s>``, ``</s>``, ``<|im_start|>``, ``<|im_end|>``),
the 256 byte-fallback tokens ``<0x00>``..``<0xFF>`` (so any text tokenises) and
a few hundred common ASCII pieces with scores. A ChatML template is embedded in
``tokenizer.chat_template`` and end-of-sequence is ``<|im_end|>``.

Needs the ``gguf`` and ``numpy`` packages (test extras); they are imported
lazily so importing this module never fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Token types as GGUF stores them (gguf.TokenType); repeated here so the
# vocabulary can be built and inspected without the gguf package.
NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE = 1, 2, 3, 4, 5, 6

SPECIAL_TOKENS: tuple[tuple[str, int], ...] = (
    ("<unk>", UNKNOWN),
    ("<s>", CONTROL),
    ("</s>", CONTROL),
    ("<|im_start|>", CONTROL),
    ("<|im_end|>", CONTROL),
)
UNK_ID, BOS_ID, EOS_ID, IM_START_ID, IM_END_ID = range(5)

_SP = "\u2581"  # SentencePiece's visible space

_WORDS = [
    "the",
    "of",
    "and",
    "to",
    "in",
    "is",
    "that",
    "for",
    "it",
    "as",
    "with",
    "was",
    "on",
    "be",
    "by",
    "at",
    "this",
    "are",
    "from",
    "or",
    "an",
    "not",
    "but",
    "have",
    "has",
    "had",
    "which",
    "you",
    "we",
    "they",
    "all",
    "can",
    "will",
    "one",
    "if",
    "no",
    "so",
    "do",
    "up",
    "out",
    "about",
    "into",
    "than",
    "then",
    "them",
    "there",
    "their",
    "these",
    "those",
    "what",
    "when",
    "where",
    "who",
    "why",
    "how",
    "node",
    "nodes",
    "host",
    "error",
    "errors",
    "warning",
    "warn",
    "info",
    "debug",
    "fatal",
    "failed",
    "failure",
    "fail",
    "ok",
    "memory",
    "ecc",
    "correctable",
    "uncorrectable",
    "dimm",
    "cpu",
    "fan",
    "temp",
    "temperature",
    "sensor",
    "power",
    "supply",
    "psu",
    "redundancy",
    "lost",
    "asserted",
    "deasserted",
    "critical",
    "upper",
    "lower",
    "going",
    "high",
    "low",
    "reading",
    "event",
    "log",
    "logs",
    "sel",
    "clear",
    "cleared",
    "reboot",
    "reset",
    "system",
    "boot",
    "kernel",
    "disk",
    "ata",
    "sda",
    "read",
    "write",
    "only",
    "timeout",
    "link",
    "up",
    "down",
    "eth0",
    "sshd",
    "cron",
    "session",
    "opened",
    "closed",
    "user",
    "root",
    "line",
    "lines",
    "count",
    "time",
    "date",
    "print",
    "len",
    "range",
    "context",
    "llm",
    "query",
    "answer",
    "def",
    "return",
    "import",
    "re",
    "for",
    "in",
    "if",
    "else",
    "elif",
    "true",
    "false",
    "none",
    "self",
    "list",
    "dict",
    "str",
    "int",
    "the",
    "a",
    "i",
]

_SYMBOLS = (
    "```", "``", "repl", "FINAL", "FINAL_VAR", "FINDING", "llm_query", "print(", "def",
    "()", "):", "))", "((", "[]", "{}", "\n\n", "    ", "  ", "==", "!=", "<=", ">=",
    "->", "**", "//", "#0x", "0x", "00", "01", "10", "20", "...", "--", "|", " |", "| ",
    "\\n", "'\\n'", "\"\"\"", "https", "http", "://", ".log", ".py",
)  # fmt: skip


@dataclass(frozen=True)
class Vocab:
    """A SentencePiece-style vocabulary: pieces, scores and token types."""

    tokens: list[str]
    scores: list[float]
    types: list[int]


def build_vocab(size: int | None = None) -> Vocab:
    """Build the vocabulary; with ``size``, pad with extra pieces up to that many tokens.

    Every prefix of every multi-character piece is in the vocabulary, so the
    SentencePiece bigram merge can reach each piece from single characters.
    """
    tokens = [t for t, _ in SPECIAL_TOKENS]
    types = [k for _, k in SPECIAL_TOKENS]
    scores = [0.0] * len(tokens)
    for b in range(256):
        tokens.append(f"<0x{b:02X}>")
        types.append(BYTE)
        scores.append(0.0)
    pieces: list[str] = [_SP]
    pieces += [chr(c) for c in range(33, 127)]
    for word in _WORDS:
        pieces += [_SP + word, word]
        if word.isalpha():
            pieces += [_SP + word.capitalize(), word.capitalize()]
    for sym in _SYMBOLS:
        pieces.append(sym.replace(" ", _SP))
        if sym[0].isalpha():
            pieces.append(_SP + sym)
    pieces += [_SP + d for d in "0123456789"]
    seen: set[str] = set(tokens)
    normal: list[str] = []
    for piece in pieces:
        for end in range(1, len(piece) + 1):
            prefix = piece[:end]
            if prefix not in seen:
                seen.add(prefix)
                normal.append(prefix)
    if size is not None:
        n = 0
        while len(tokens) + len(normal) < size:
            extra = f"{_SP}w{n:x}"
            n += 1
            for end in range(2, len(extra) + 1):
                prefix = extra[:end]
                if prefix not in seen and len(tokens) + len(normal) < size:
                    seen.add(prefix)
                    normal.append(prefix)
    for piece in normal:
        tokens.append(piece)
        types.append(NORMAL)
        # Longer pieces win merges; within a length keep a stable order.
        scores.append(float(len(piece)) - len(tokens) * 1e-6)
    return Vocab(tokens=tokens, scores=scores, types=types)


@dataclass(frozen=True)
class Shape:
    """The hyperparameters of a llama-architecture model."""

    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_vocab: int | None = None  # None: the built-in vocabulary, unpadded
    n_ctx_train: int = 4096


SIZES: dict[str, Shape] = {
    # Dimensions of well-known open models, in the llama architecture.
    "tiny": Shape(64, 2, 4, 4, 128),
    "0.5B": Shape(896, 24, 14, 2, 4864, 32000, 32768),  # Qwen2.5-0.5B-like
    "1.5B": Shape(1536, 28, 12, 2, 8960, 32000, 32768),  # Qwen2.5-1.5B-like
    "3B": Shape(2048, 36, 16, 2, 11008, 32000, 32768),  # Qwen2.5-3B-like
    "7B": Shape(3584, 28, 28, 4, 18944, 32000, 32768),  # Qwen2.5-7B-like
}


def write_tiny_gguf(
    path: Path,
    *,
    seed: int = 0,
    n_embd: int = 64,
    n_layer: int = 2,
    n_head: int = 4,
    n_head_kv: int = 4,
    n_ff: int = 128,
    n_ctx_train: int = 4096,
    vocab: str = "bytes",
) -> Path:
    """Write a small random-weight llama GGUF (F32) to ``path`` and return ``path``.

    ``vocab="bytes"`` is the only vocabulary: control tokens, byte fallback and
    a few hundred ASCII pieces. The same seed always gives the same file.
    """
    if vocab != "bytes":
        raise ValueError(f"unknown vocab {vocab!r} (only 'bytes' is built in)")
    shape = Shape(n_embd, n_layer, n_head, n_head_kv, n_ff, None, n_ctx_train)
    return _write(Path(path), shape, seed=seed, dtype="f32", exact_random=True)


SIZED_DTYPES = ("f16", "f32", "q8_0", "q4_0")
"""Tensor types :func:`write_sized_gguf` can write."""


def write_sized_gguf(
    path: Path, *, params: str = "0.5B", seed: int = 0, dtype: str = "f16"
) -> Path:
    """Write a random-weight llama GGUF with realistic shapes for speed benchmarks.

    ``params`` names a size in :data:`SIZES` ("0.5B" is Qwen2.5-0.5B-like: n_embd
    896, 24 layers, 14 heads, 2 KV heads, n_ff 4864, 32000 tokens). ``dtype`` is
    "f16", "f32", or a quantised type users download: "q8_0" or "q4_0" (every matrix
    in that type; norms stay F32). Speed does not depend on weight values, only on
    shapes and types, so a benchmark on this file measures what a real model would
    do. The file is written tensor by tensor (memory stays near one tensor's size), and
    values are tiled from one random block, so a 1 GB file takes seconds.
    """
    if params not in SIZES:
        raise ValueError(f"unknown size {params!r}; choose from {', '.join(SIZES)}")
    if dtype not in SIZED_DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(SIZED_DTYPES)}, not {dtype!r}")
    return _write(Path(path), SIZES[params], seed=seed, dtype=dtype, exact_random=False)


def _tensor_shapes(shape: Shape, n_vocab: int) -> Iterator[tuple[str, tuple[int, ...]]]:
    """Names and numpy shapes (rows, cols) of the llama tensors, in file order."""
    head_dim = shape.n_embd // shape.n_head
    kv = shape.n_head_kv * head_dim
    yield "token_embd.weight", (n_vocab, shape.n_embd)
    for i in range(shape.n_layer):
        yield f"blk.{i}.attn_norm.weight", (shape.n_embd,)
        yield f"blk.{i}.attn_q.weight", (shape.n_embd, shape.n_embd)
        yield f"blk.{i}.attn_k.weight", (kv, shape.n_embd)
        yield f"blk.{i}.attn_v.weight", (kv, shape.n_embd)
        yield f"blk.{i}.attn_output.weight", (shape.n_embd, shape.n_embd)
        yield f"blk.{i}.ffn_norm.weight", (shape.n_embd,)
        yield f"blk.{i}.ffn_gate.weight", (shape.n_ff, shape.n_embd)
        yield f"blk.{i}.ffn_up.weight", (shape.n_ff, shape.n_embd)
        yield f"blk.{i}.ffn_down.weight", (shape.n_embd, shape.n_ff)
    yield "output_norm.weight", (shape.n_embd,)
    yield "output.weight", (n_vocab, shape.n_embd)


def _write(path: Path, shape: Shape, *, seed: int, dtype: str, exact_random: bool) -> Path:
    import gguf
    import numpy as np

    if shape.n_embd % shape.n_head or shape.n_head % shape.n_head_kv:
        raise ValueError("n_embd must divide by n_head, and n_head by n_head_kv")
    voc = build_vocab(shape.n_vocab)
    n_vocab = len(voc.tokens)
    rng = np.random.default_rng(seed)
    q = gguf.GGMLQuantizationType
    qtype = {"q8_0": q.Q8_0, "q4_0": q.Q4_0}.get(dtype)
    ftype = gguf.LlamaFileType
    file_type = {
        "f16": ftype.MOSTLY_F16,
        "f32": ftype.ALL_F32,
        "q8_0": ftype.MOSTLY_Q8_0,
        "q4_0": ftype.MOSTLY_Q4_0,
    }[dtype]
    np_dtype = np.float16 if dtype == "f16" else np.float32
    std = 0.02
    pool = None
    if not exact_random:
        # One random block, sliced at random offsets: values do not matter for speed.
        pool = (rng.standard_normal(1 << 22, dtype=np.float32) * std).astype(np_dtype)
    if qtype is not None:
        # Quantised the way llama.cpp's tools do it, once; tensors tile its blocks.
        block = gguf.GGML_QUANT_SIZES[qtype][0]
        pool = gguf.quants.quantize(pool.reshape(-1, block), qtype)

    def tensor(name: str, dims: tuple[int, ...]) -> np.ndarray:
        if len(dims) == 1:  # norm weights stay F32, as converters write them
            return np.ones(dims, dtype=np.float32)
        if qtype is not None:  # whole quantised blocks: rows of cols // block blocks
            blocks = int(np.prod(dims)) // block
            picks = rng.integers(0, pool.shape[0], blocks)
            return pool[picks].reshape(dims[0], -1)
        if pool is None:
            return (rng.standard_normal(dims, dtype=np.float32) * std).astype(np_dtype)
        n = int(np.prod(dims))
        reps = -(-n // (pool.size // 2))
        parts = [pool[s : s + pool.size // 2] for s in rng.integers(0, pool.size // 2, reps)]
        return np.concatenate(parts)[:n].reshape(dims)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    writer = gguf.GGUFWriter(str(tmp), "llama")
    writer.add_name(f"rlm-random-{shape.n_embd}x{shape.n_layer}")
    writer.add_context_length(shape.n_ctx_train)
    writer.add_embedding_length(shape.n_embd)
    writer.add_block_count(shape.n_layer)
    writer.add_feed_forward_length(shape.n_ff)
    writer.add_head_count(shape.n_head)
    writer.add_head_count_kv(shape.n_head_kv)
    writer.add_rope_dimension_count(shape.n_embd // shape.n_head)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(n_vocab)
    writer.add_file_type(file_type)
    writer.add_tokenizer_model("llama")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(voc.tokens)
    writer.add_token_scores(voc.scores)
    writer.add_token_types(voc.types)
    writer.add_unk_token_id(UNK_ID)
    writer.add_bos_token_id(BOS_ID)
    writer.add_eos_token_id(IM_END_ID)
    writer.add_pad_token_id(EOS_ID)
    writer.add_add_bos_token(True)
    writer.add_add_eos_token(False)
    writer.add_chat_template(CHATML_TEMPLATE)

    specs = list(_tensor_shapes(shape, n_vocab))
    for name, dims in specs:
        if qtype is not None and len(dims) > 1:
            block, size = gguf.GGML_QUANT_SIZES[qtype]
            byte_dims = (*dims[:-1], dims[-1] // block * size)
            nbytes = int(np.prod(byte_dims))
            writer.add_tensor_info(name, byte_dims, np.dtype(np.uint8), nbytes, raw_dtype=qtype)
            continue
        t_dtype = np.float32 if len(dims) == 1 else np_dtype
        nbytes = int(np.prod(dims)) * np.dtype(t_dtype).itemsize
        writer.add_tensor_info(name, dims, np.dtype(t_dtype), nbytes)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for name, dims in specs:
        writer.write_tensor_data(tensor(name, dims))
    writer.close()
    tmp.replace(path)
    return path

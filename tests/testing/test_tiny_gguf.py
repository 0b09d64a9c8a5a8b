"""The tiny GGUF writer produces models llama-cpp-python really loads and runs."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from rlm_cli.testing.tiny_gguf import (
    BYTE,
    CONTROL,
    IM_END_ID,
    IM_START_ID,
    build_vocab,
    write_sized_gguf,
    write_tiny_gguf,
)

try:
    import llama_cpp
except ImportError:  # pragma: no cover - depends on the environment
    llama_cpp = None

needs_llama = pytest.mark.skipif(llama_cpp is None, reason="llama_cpp is not importable")


def test_vocab_has_controls_bytes_and_reachable_pieces() -> None:
    voc = build_vocab()
    assert voc.tokens[IM_START_ID] == "<|im_start|>" and voc.types[IM_START_ID] == CONTROL
    assert voc.tokens[IM_END_ID] == "<|im_end|>" and voc.types[IM_END_ID] == CONTROL
    assert sum(t == BYTE for t in voc.types) == 256
    assert len(set(voc.tokens)) == len(voc.tokens)
    pieces = set(voc.tokens)
    for piece in ("\u2581the", "```", "repl", "FINAL", "\u2581FINAL"):
        assert piece in pieces
        assert all(piece[:i] in pieces for i in range(1, len(piece)))
    assert len(build_vocab(32000).tokens) == 32000


def test_tiny_file_is_deterministic(tmp_path: Path) -> None:
    pytest.importorskip("gguf")
    a = write_tiny_gguf(tmp_path / "a.gguf", seed=3).read_bytes()
    b = write_tiny_gguf(tmp_path / "b.gguf", seed=3).read_bytes()
    c = write_tiny_gguf(tmp_path / "c.gguf", seed=4).read_bytes()
    assert a == b and a != c
    assert a[:4] == b"GGUF"


def test_metadata_round_trips_through_gguf_reader(tiny_gguf: Path) -> None:
    import gguf

    reader = gguf.GGUFReader(str(tiny_gguf))
    field = reader.fields["tokenizer.chat_template"]
    template = bytes(field.parts[field.data[0]]).decode()
    assert "<|im_start|>" in template and "add_generation_prompt" in template
    eos = reader.fields["tokenizer.ggml.eos_token_id"]
    assert int(eos.parts[eos.data[0]][0]) == IM_END_ID
    names = {t.name for t in reader.tensors}
    assert {"token_embd.weight", "output.weight", "blk.1.ffn_down.weight"} <= names


@pytest.fixture(scope="module")
def llm(tiny_gguf: Path):
    if llama_cpp is None:
        pytest.skip("llama_cpp is not importable")
    from rlm_cli.llm.llama_logging import silence_native_logs

    silence_native_logs()
    start = time.process_time()  # CPU time: a loaded machine stretches only wall time
    model = llama_cpp.Llama(model_path=str(tiny_gguf), n_ctx=2048, verbose=False, seed=1)
    assert time.process_time() - start < 1.0
    return model


@needs_llama
def test_chat_completion_returns_text(llm) -> None:
    out = llm.create_chat_completion(
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        max_tokens=16,
        temperature=0,
    )
    assert isinstance(out["choices"][0]["message"]["content"], str)
    assert 1 <= out["usage"]["completion_tokens"] <= 16
    assert out["usage"]["prompt_tokens"] > 10  # the ChatML markers were applied


@needs_llama
@pytest.mark.parametrize(
    "text",
    [
        "the node09 | Correctable ECC | Asserted",
        "```repl\nprint(len(context))\n```\nFINAL(node09)",
        "tabs\tand ~!@#$%^&*() {}[] <0x41> \\ ' \"",
    ],
)
def test_tokenize_round_trips_ascii(llm, text: str) -> None:
    tokens = llm.tokenize(text.encode())
    assert tokens[0] == llm.token_bos()
    assert llm.detokenize(tokens).decode() == text


@needs_llama
def test_control_markers_are_single_tokens(llm) -> None:
    tokens = llm.tokenize(b"<|im_start|>user", add_bos=False, special=True)
    assert tokens[0] == IM_START_ID


@needs_llama
def test_grammar_constrains_output(llm) -> None:
    grammar = llama_cpp.LlamaGrammar.from_string('root ::= "FINAL(" [a-z]+ ")"', verbose=False)
    out = llm.create_completion("answer:", max_tokens=24, temperature=0, grammar=grammar)
    text = out["choices"][0]["text"]
    if out["choices"][0]["finish_reason"] == "stop":
        assert re.fullmatch(r"FINAL\([a-z]+\)", text)
    else:
        assert re.fullmatch(r"FINAL\([a-z]*", text)


@needs_llama
def test_silenced_logs_are_kept_not_printed(tmp_path: Path, capfd) -> None:
    from rlm_cli.llm.llama_logging import recent_native_logs, silence_native_logs

    assert silence_native_logs()
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(ValueError):
        llama_cpp.Llama(model_path=str(bad), verbose=False)
    assert capfd.readouterr().err == ""
    assert any("bad.gguf" in line for line in recent_native_logs())


def test_sized_shapes_and_errors(tmp_path: Path) -> None:
    pytest.importorskip("gguf")
    with pytest.raises(ValueError):
        write_sized_gguf(tmp_path / "x.gguf", params="9000B")
    with pytest.raises(ValueError):
        write_sized_gguf(tmp_path / "x.gguf", dtype="q4")
    with pytest.raises(ValueError):
        write_tiny_gguf(tmp_path / "x.gguf", n_embd=30, n_head=4)


@pytest.mark.slow
@needs_llama
def test_sized_half_b_model_loads_and_generates(tmp_path: Path) -> None:
    from rlm_cli.llm.llama_logging import silence_native_logs

    silence_native_logs()
    path = write_sized_gguf(tmp_path / "half.gguf", params="0.5B")
    try:
        assert 0.7e9 < path.stat().st_size < 1.0e9
        model = llama_cpp.Llama(model_path=str(path), n_ctx=512, verbose=False)
        assert model.n_vocab() == 32000
        out = model.create_completion("the node", max_tokens=4, temperature=0)
        assert out["usage"]["completion_tokens"] >= 1
        model.close()
    finally:
        path.unlink()  # 0.8 GB: do not leave it in pytest's kept temp dirs


@needs_llama
@pytest.mark.parametrize("dtype, qtype", [("q8_0", "Q8_0"), ("q4_0", "Q4_0")])
def test_sized_quantised_model_has_that_type_and_runs(tmp_path: Path, dtype, qtype) -> None:
    """Benchmarks measure the quantised models users download: the matrices are really
    stored in that type (norms stay F32) and llama.cpp loads and runs the file."""
    gguf = pytest.importorskip("gguf")
    from rlm_cli.llm.llama_logging import silence_native_logs

    silence_native_logs()
    path = write_sized_gguf(tmp_path / f"tiny-{dtype}.gguf", params="tiny", dtype=dtype)
    types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(str(path)).tensors}
    assert types["blk.0.ffn_up.weight"] == types["output.weight"] == qtype
    assert types["blk.0.attn_norm.weight"] == "F32"
    model = llama_cpp.Llama(model_path=str(path), n_ctx=128, verbose=False)
    out = model.create_completion("the node", max_tokens=3, temperature=0)
    assert out["usage"]["completion_tokens"] >= 1
    model.close()

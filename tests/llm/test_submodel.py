"""Picking a smaller sub-model of the root's family from the GGUF headers of installed files."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlm_cli.errors import ModelError
from rlm_cli.llm.submodel import parameters, pick_sub_model, read_general

gguf = pytest.importorskip("gguf")


def _write(path: Path, arch: str, base: str | None, size: str | None, finetune: str | None) -> Path:
    w = gguf.GGUFWriter(str(path), arch)
    if base:
        w.add_string("general.basename", base)
    if size:
        w.add_string("general.size_label", size)
    if finetune:
        w.add_string("general.finetune", finetune)
    w.add_uint32(f"{arch}.block_count", 2)
    w.add_array("tokenizer.ggml.tokens", ["a", "b", "c"])
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


@pytest.fixture
def models(tmp_path: Path) -> dict[str, Path]:
    return {
        "root": _write(tmp_path / "coder-1.5b.gguf", "qwen2", "Qwen2.5-Coder", "1.5B", "Instruct"),
        "small": _write(
            tmp_path / "coder-0.5b.gguf", "qwen2", "Qwen2.5-Coder", "0.5B", "Instruct-AWQ"
        ),
        "tiny": _write(tmp_path / "coder-0.1b.gguf", "qwen2", "Qwen2.5-Coder", "100M", "Instruct"),
        "base": _write(tmp_path / "coder-0.5b-base.gguf", "qwen2", "Qwen2.5-Coder", "0.5B", None),
        "other": _write(tmp_path / "gemma.gguf", "gemma3", "gemma-3", "270M", "Instruct"),
        "same": _write(
            tmp_path / "coder-1.5b-q8.gguf", "qwen2", "Qwen2.5-Coder", "1.5B", "Instruct"
        ),
    }


def test_header_keys(models: dict[str, Path]) -> None:
    meta = read_general(models["root"])
    assert meta["general.architecture"] == "qwen2"
    assert meta["general.basename"] == "Qwen2.5-Coder"
    assert meta["general.size_label"] == "1.5B"


def test_largest_smaller_model_of_the_same_family_and_tuning(models: dict[str, Path]) -> None:
    among = list(models.values())
    assert pick_sub_model(models["root"], among) == models["small"]
    # without the 0.5B the 100M one; a base model, another family or the same size never
    among.remove(models["small"])
    assert pick_sub_model(models["root"], among) == models["tiny"]
    assert pick_sub_model(models["root"], [models["base"], models["other"], models["same"]]) is None


def test_nothing_smaller_than_the_smallest(models: dict[str, Path]) -> None:
    assert pick_sub_model(models["tiny"], list(models.values())) is None


def test_candidates_are_the_files_beside_the_root(
    models: dict[str, Path], monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("RLM_HOME", str(tmp_path / "home"))  # an empty registry
    assert pick_sub_model(models["root"]) == models["small"].resolve()


def test_not_a_gguf(tmp_path: Path) -> None:
    p = tmp_path / "x.gguf"
    p.write_bytes(b"nope")
    assert read_general(p) == {}
    assert pick_sub_model(p, []) is None


def test_size_labels() -> None:
    assert parameters("1.5B") == 1.5e9
    assert parameters("270M") == 2.7e8
    assert parameters("8x7B") is None
    assert parameters(None) is None


def test_loader_auto_and_off(tiny_gguf: Path, tmp_path: Path, monkeypatch) -> None:
    pytest.importorskip("llama_cpp")
    from rlm_cli.llm.spec import ModelLoader

    monkeypatch.setenv("RLM_HOME", str(tmp_path / "home"))
    loader = ModelLoader()
    root = loader.load(str(tiny_gguf), "root")
    try:
        with pytest.raises(ModelError, match="expected off or auto"):
            loader.load_sub(None, str(tiny_gguf), root, "sometimes")
        sub = loader.load_sub(None, str(tiny_gguf), root, "off")
        assert sub.spec == str(tiny_gguf)
        sub.close()
        sub = loader.load_sub(str(tiny_gguf), str(tiny_gguf), root, "auto")  # given wins
        assert sub.spec == str(tiny_gguf)
        sub.close()
        # the tiny model's header has no base name: auto finds no family, keeps the root
        sub = loader.load_sub(None, str(tiny_gguf), root, "auto")
        assert sub.spec == str(tiny_gguf)
        sub.close()
    finally:
        root.close()

"""`rlm ask` on a real (tiny, random-weight) GGUF: llama-cpp-python inference end to end."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SAMPLES, run_rlm

pytest.importorskip("llama_cpp")


def test_ask_with_tiny_gguf_ends_with_a_final_answer(tmp_path: Path, tiny_gguf: Path) -> None:
    r = run_rlm(
        [
            "ask",
            "which node will fail",
            "--model",
            str(tiny_gguf),
            "--json",
            "--max-iterations",
            "2",
            "--root-max-tokens",
            "48",
            "--sub-max-tokens",
            "16",
            "--n-ctx",
            "8192",
        ],
        tmp_path,
        stdin=(SAMPLES / "bmc_cluster.log").read_bytes(),
    )
    assert r.code == 0, r.stderr
    assert "Traceback" not in r.stderr
    d = r.json()
    assert d["ended_by"] in ("final", "max_iterations")
    assert d["answer"].strip()  # nonsense text, but a real generation
    assert d["usage"]["root_calls"] >= 2
    assert d["usage"]["completion_tokens"] > 0
    assert d["models"]["root"] == str(tiny_gguf)
    # the root conversation is reused from the KV cache on later turns
    assert d["usage"]["prompt_tokens_reused"] > 0

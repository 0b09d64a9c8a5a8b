"""`rlm models pull` end to end against a file server on 127.0.0.1, and what `rlm ask` says
when no model is installed (online and offline)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from helpers import SAMPLES, isolated_env, run_rlm

from rlm_cli.llm.catalogue import load_catalogue
from rlm_cli.testing.file_server import FileServer


def _default_entry():
    cat = load_catalogue()
    return cat.get(cat.default)


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_pull_default_then_ask_uses_it(tmp_path: Path, tiny_gguf: Path) -> None:
    pytest.importorskip("llama_cpp")
    entry = _default_entry()
    path = f"/{entry.repo}/resolve/main/{entry.file}"
    with FileServer({path: tiny_gguf.read_bytes()}) as srv:
        env = isolated_env(tmp_path, RLM_MODEL_MIRROR=srv.base)
        r = run_rlm(["models", "pull", entry.name], tmp_path, env=env)
        assert r.code == 0, r.stderr
        assert [(e.path, e.status) for e in srv.log] == [(path, 200)]
    pulled = tmp_path / "data" / "models" / entry.file
    assert pulled.read_bytes() == tiny_gguf.read_bytes()
    listed = run_rlm(["models", "list", "--json"], tmp_path, env=env)
    assert listed.code == 0, listed.stderr
    assert entry.name in listed.stdout and str(pulled) in listed.stdout
    # `rlm ask` with no --model now runs on the pulled default (here: the tiny random model)
    r = run_rlm(
        [
            "ask",
            "q",
            "--json",
            "--max-iterations",
            "1",
            "--root-max-tokens",
            "16",
            "--n-ctx",
            "8192",
        ],
        tmp_path,
        env=env,
        stdin=(SAMPLES / "bmc_cluster.log").read_bytes()[:20000],
    )
    assert r.code in (0, 1), r.stderr
    assert r.json()["models"]["root"] == str(pulled)


def test_no_model_offline_says_so(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, RLM_MODEL_MIRROR=f"http://127.0.0.1:{_closed_port()}")
    r = run_rlm(["ask", "q"], tmp_path, stdin=b"x\n", env=env)
    assert r.code == 2
    line = r.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert "offline" in line and "rlm models add" in line and "--model" in line


_TINY_ASK = ["--json", "--max-iterations", "1", "--root-max-tokens", "16", "--n-ctx", "8192"]


def test_models_add_then_ask_with_no_other_step(tmp_path: Path, tiny_gguf: Path) -> None:
    """The README's first steps: `rlm models add FILE`, then `cat log | rlm ask "..."`."""
    pytest.importorskip("llama_cpp")
    env = isolated_env(tmp_path)
    added = run_rlm(["models", "add", str(tiny_gguf)], tmp_path, env=env)
    assert added.code == 0, added.stderr
    assert "tiny is the default model" in added.stderr
    log = (SAMPLES / "bmc_cluster.log").read_bytes()[:20000]
    r = run_rlm(["ask", "what failed?", *_TINY_ASK], tmp_path, env=env, stdin=log)
    assert r.code in (0, 1), r.stderr
    assert r.json()["models"]["root"] == str(tiny_gguf.resolve())
    listed = run_rlm(["models", "list", "--json"], tmp_path, env=env).json()["models"]
    assert [m["name"] for m in listed if m["default"]] == ["tiny"]

    # a second model: no silent pick; the error lists both and says how to choose
    second = tmp_path / "second.gguf"
    second.write_bytes(tiny_gguf.read_bytes())
    assert run_rlm(["models", "add", str(second), "--alias", "b"], tmp_path, env=env).code == 0
    r = run_rlm(["ask", "q", *_TINY_ASK], tmp_path, env=env, stdin=log)
    assert r.code == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "(b, tiny)" in r.stderr and "rlm models default NAME" in r.stderr
    table = run_rlm(["models", "list"], tmp_path, env=env)
    assert "none is the default" in table.stderr and "*" not in table.stdout
    assert run_rlm(["models", "default", "b"], tmp_path, env=env).code == 0
    shown = run_rlm(["config", "show"], tmp_path, env=env).stdout  # one mechanism
    assert "model: b  # file" in shown and f"  b: {second.resolve()}" in shown
    r = run_rlm(["ask", "q", *_TINY_ASK], tmp_path, env=env, stdin=log)
    assert r.code in (0, 1) and r.json()["models"]["root"] == str(second.resolve()), r.stderr

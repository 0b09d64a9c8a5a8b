"""`rlm ask` twice on the tiny GGUF: the second run loads the system prompt from the prompt cache,
and both report their speed (time to first root token, generation tokens/s)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import SAMPLES, run_rlm

pytest.importorskip("llama_cpp")


def _ask(tmp_path: Path, model: Path, *extra: str):
    return run_rlm(
        [
            "ask",
            "which node will fail",
            "--model",
            str(model),
            "--json",
            "--max-iterations",
            "1",
            "--root-max-tokens",
            "24",
            "--n-ctx",
            "8192",
            *extra,
        ],
        tmp_path,
        stdin=(SAMPLES / "bmc_cluster.log").read_bytes(),
    )


def test_second_run_loads_the_system_prompt_and_reports_speed(
    tmp_path: Path, tiny_gguf: Path
) -> None:
    first = _ask(tmp_path, tiny_gguf, "--debug")
    assert first.code == 0, first.stderr
    assert "root model: tiny.gguf: threads " in first.stderr  # chosen from the machine
    u1 = first.json()["usage"]
    assert u1["prompt_tokens_cached"] == 0
    assert list((tmp_path / "data" / "prompt_cache").glob("*.kv"))

    second = _ask(tmp_path, tiny_gguf)
    assert second.code == 0, second.stderr
    d = second.json()
    u2 = d["usage"]
    assert u2["prompt_tokens_cached"] > 200  # the system message was not evaluated again
    assert u2["prompt_tokens_evaluated"] < u1["prompt_tokens_evaluated"] - 200
    assert u2["first_root_token_s"] is not None and u2["first_root_token_s"] > 0
    turn = d["trajectory"][0]["usage"]
    assert turn["prompt_tokens_cached"] == u2["prompt_tokens_cached"]
    assert turn["first_token_s"] == u2["first_root_token_s"]
    if u2["completion_tokens"] > 2:
        assert u2["root_gen_tokens_per_s"] > 0


def test_prompt_cache_can_be_turned_off(tmp_path: Path, tiny_gguf: Path) -> None:
    from helpers import isolated_env

    env = isolated_env(tmp_path, RLM_PROMPT_CACHE="false")
    for _ in range(2):
        r = run_rlm(
            [
                "ask",
                "which node",
                "--model",
                str(tiny_gguf),
                "--json",
                "--max-iterations",
                "1",
                "--root-max-tokens",
                "16",
                "--n-ctx",
                "4096",
            ],
            tmp_path,
            stdin=(SAMPLES / "bmc_cluster.log").read_bytes(),
            env=env,
        )
        assert r.code == 0, r.stderr
        assert r.json()["usage"]["prompt_tokens_cached"] == 0
    assert not (tmp_path / "data" / "prompt_cache").exists()


def test_models_warm_fills_the_cache_so_the_first_question_loads_its_prompt(
    tmp_path: Path, tiny_gguf: Path
) -> None:
    warm = ["models", "warm", "--model", str(tiny_gguf), "--n-ctx", "8192", "--json"]
    first = run_rlm(warm, tmp_path)
    assert first.code == 0, first.stderr
    done = {w["prompt"]: w for w in first.json()["warmed"]}
    # one per kind of question, one for questions of no known kind, and the sub-calls'
    assert {"root:failing", "root:count", "root:two-step", "root", "sub-call"} <= set(done)
    # each prompt evaluated once: after the first, only what differs from the one before
    assert done["root:failing"]["tokens_evaluated"] > 1000
    assert all(w["tokens_evaluated"] > 0 for w in done.values())
    assert "root:failing on " in first.stderr and "tokens evaluated and saved" in first.stderr

    again = {w["prompt"]: w for w in run_rlm(warm, tmp_path).json()["warmed"]}
    assert all(w["tokens_evaluated"] == 0 for w in again.values())
    assert all(w["tokens_loaded"] > 200 for k, w in again.items() if k.startswith("root"))

    d = _ask(tmp_path, tiny_gguf).json()  # the first question ever asked here
    assert d["intent"] == "failing"
    assert d["usage"]["prompt_tokens_cached"] == again["root:failing"]["tokens_loaded"]

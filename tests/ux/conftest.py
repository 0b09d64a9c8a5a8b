"""Fixtures for the operator-facing tests: a private data/config dir, a log, scripts, a runner."""

from __future__ import annotations

import os
from pathlib import Path

import helpers
import pytest
from helpers import REPO, Result, write_script


@pytest.fixture
def rlm_env(tmp_path: Path) -> dict[str, str]:
    """Environment for a CLI subprocess: its own data and config dirs, no colour forcing."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RLM_")}
    for k in ("FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES", "TERM"):
        env.pop(k, None)
    env.update(
        RLM_HOME=str(tmp_path / "data"),
        RLM_CONFIG_DIR=str(tmp_path / "config"),
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
        TERM="xterm-256color",
    )
    return env


@pytest.fixture
def log_file(tmp_path: Path) -> Path:
    """A small log with ECC errors on node01 every 97th line."""
    lines = []
    for i in range(1, 401):
        node = f"node{i % 12:02d}"
        if i % 97 == 0:
            lines.append(f"2026-01-01T00:{i % 60:02d}:00 {node} kernel: EDAC MC0: 1 CE on DIMM_B2")
        else:
            lines.append(f"2026-01-01T00:{i % 60:02d}:00 {node} sshd[1]: session opened")
    path = tmp_path / "bmc.log"
    path.write_text("\n".join(lines) + "\n")
    return path


def demo_replies(delay: float = 0.0, sub_delay: float = 0.0) -> tuple[list, list]:
    """Three root turns (grep, a batch of sub-calls with a finding, FINAL) and one sub reply."""
    root = [
        {
            "text": "I'll count the ECC errors first.\n```repl\nhits = context.grep('EDAC')\n"
            "print(len(hits))\n```",
            "delay_s": delay,
        },
        {
            "text": "Now ask the sub-model about each chunk.\n```repl\n"
            "answers = llm_query_batched([f'summarise: {c}' for c in context.chunks(lines=100)])\n"
            "print(answers[0])\n"
            "FINDING(severity='error', entity='node01', summary='rising ECC on DIMM_B2', lines=[97])\n"
            "```",
            "delay_s": delay,
        },
        {"text": "FINAL(node01 will fail: **rising ECC** errors)", "delay_s": delay},
    ]
    sub = [{"text": "node01: rising correctable ECC on DIMM_B2", "delay_s": sub_delay}]
    return root, sub


@pytest.fixture
def demo_script(tmp_path: Path) -> Path:
    """The demo script with no delays."""
    root, sub = demo_replies()
    return write_script(tmp_path / "demo.yaml", root, sub)


def run_rlm(
    env: dict[str, str], *args: str, stdin: str | None = None, timeout: float = 60
) -> Result:
    """``rlm ARGS`` as a process (:func:`helpers.run_rlm`) in an ``rlm_env`` environment."""
    home = Path(env["RLM_HOME"])
    return helpers.run_rlm(
        list(args), home, env=env, stdin=(stdin or "").encode(), timeout=timeout, cwd=Path.cwd()
    )


@pytest.fixture
def rlm_fast(monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture):
    """`rlm` run in-process (``helpers.InProcess``); same call shape and result as
    :func:`run_rlm`."""
    run = helpers.InProcess(monkeypatch, capfd)

    def call(env: dict[str, str], *args: str) -> Result:
        return run(list(args), Path(env.get("RLM_HOME", ".")), env=env)

    return call

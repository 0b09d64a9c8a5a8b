"""Bad input: one clear line on stderr, exit 2, no traceback, nothing half-written.

Run in-process (``rlm_here``: the same ``cli.main``), but for the traceback, which is the
interpreter's.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import SAMPLES, isolated_env, run_rlm

QUICK = f"script:{SAMPLES / 'scripts' / 'quick_answer.yaml'}"


def _one_line_error(r, *needles: str) -> None:
    assert r.code == 2, (r.code, r.stdout, r.stderr)
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("rlm: error:"), lines[0]
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_empty_stdin(tmp_path: Path, rlm_here) -> None:
    _one_line_error(
        rlm_here(["ask", "q", "--model", QUICK], tmp_path, stdin=b""), "stdin was empty"
    )


def test_missing_file(tmp_path: Path, rlm_here) -> None:
    _one_line_error(
        rlm_here(["ask", "q", str(tmp_path / "nope.log"), "--model", QUICK], tmp_path),
        "no such file",
    )


def test_empty_file(tmp_path: Path, rlm_here) -> None:
    (tmp_path / "empty.log").write_bytes(b"")
    _one_line_error(
        rlm_here(["ask", "q", str(tmp_path / "empty.log"), "--model", QUICK], tmp_path), "empty"
    )


def test_folder_with_no_files(tmp_path: Path, rlm_here) -> None:
    (tmp_path / "logs" / "sub").mkdir(parents=True)
    _one_line_error(
        rlm_here(["ask", "q", str(tmp_path / "logs"), "--model", QUICK], tmp_path), "no files"
    )


def test_binary_file(tmp_path: Path, rlm_here) -> None:
    (tmp_path / "core").write_bytes(b"ELF\x00\x01\x02" * 100)
    r = rlm_here(["ask", "q", str(tmp_path / "core"), "--model", QUICK], tmp_path)
    _one_line_error(r, "binary", "--binary")
    contexts = tmp_path / "data" / "contexts"
    assert not contexts.exists() or list(contexts.iterdir()) == []  # nothing half-written


def test_binary_file_kept_with_flag(tmp_path: Path, rlm_here) -> None:
    # the log names the node the scripted answer names (a final answer is checked against it)
    (tmp_path / "core").write_bytes(b"ab\x00cd node09\n")
    r = rlm_here(["ask", "q", str(tmp_path / "core"), "--model", QUICK, "--binary"], tmp_path)
    assert r.code == 0, r.stderr


def test_model_file_missing(tmp_path: Path, rlm_here) -> None:
    _one_line_error(
        rlm_here(["ask", "q", "--model", str(tmp_path / "m.gguf")], tmp_path, stdin=b"x\n"),
        "not found",
    )


def test_model_file_not_gguf(tmp_path: Path, rlm_here) -> None:
    (tmp_path / "m.gguf").write_bytes(b"this is not a model")
    _one_line_error(
        rlm_here(["ask", "q", "--model", str(tmp_path / "m.gguf")], tmp_path, stdin=b"x\n"),
        "not a GGUF",
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_model_file_unreadable(tmp_path: Path, rlm_here) -> None:
    m = tmp_path / "m.gguf"
    m.write_bytes(b"GGUF....")
    m.chmod(0)
    _one_line_error(
        rlm_here(["ask", "q", "--model", str(m)], tmp_path, stdin=b"x\n"), "cannot read"
    )


def test_no_model_configured_says_how_to_get_one(tmp_path: Path, rlm_here) -> None:
    from rlm_cli.testing.file_server import FileServer

    with FileServer({}) as mirror:  # reachable download host: online, but nothing pulled
        env = isolated_env(tmp_path, RLM_MODEL_MIRROR=mirror.base)
        r = rlm_here(["ask", "q"], tmp_path, stdin=b"node09 x\n", env=env)
    _one_line_error(r, "--model", "RLM_MODEL", "rlm models pull")


def test_model_from_env(tmp_path: Path, rlm_here) -> None:
    env = isolated_env(tmp_path, RLM_MODEL=QUICK)
    r = rlm_here(["ask", "q"], tmp_path, stdin=b"node09 x\n", env=env)
    assert r.code == 0, r.stderr


def test_script_running_out_is_an_error(tmp_path: Path, rlm_here) -> None:
    s = tmp_path / "s.yaml"
    s.write_text("root:\n  - '```repl\nprint(1)\n```'\n")
    _one_line_error(
        rlm_here(["ask", "q", "--model", f"script:{s}"], tmp_path, stdin=b"x\n"), "ran out"
    )


def test_bad_script_file(tmp_path: Path, rlm_here) -> None:
    s = tmp_path / "s.yaml"
    s.write_text("just text")
    _one_line_error(
        rlm_here(["ask", "q", "--model", f"script:{s}"], tmp_path, stdin=b"x\n"), "root"
    )


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    r = run_rlm(
        ["ask", "q", "--model", str(tmp_path / "m.gguf"), "--debug"], tmp_path, stdin=b"x\n"
    )
    assert r.code != 0 and "Traceback" in r.stderr


def test_bad_fail_on(tmp_path: Path, rlm_here) -> None:
    _one_line_error(
        rlm_here(["ask", "q", "--model", QUICK, "--fail-on", "bogus"], tmp_path, stdin=b"x\n"),
        "--fail-on",
    )

"""The quick argparse path for `rlm grep` / `rlm ingest` behaves like the Typer commands."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rlm_cli.commands.fast import _request

REPO = Path(__file__).resolve().parents[2]
TYPER_ONLY = "import sys; from rlm_cli.cli import app; sys.exit(app(standalone_mode=False) or 0)"


def test_plain_lines_are_parsed():
    action, req, debug = _request(["grep", "-cin", "x y", "a.log", "--context=abc", "b.log"])
    assert action.__name__ == "run_grep" and not debug
    assert (req.pattern, req.paths, req.context_id) == ("x y", ["a.log", "b.log"], "abc")
    assert req.count and req.ignore_case and req.line_numbers
    got = _request(["grep", "--", "-v", "f"])  # argparse may hand "--" to Typer: fine
    assert got is None or (got[1].pattern, got[1].paths) == ("-v", ["f"])
    action, req, _ = _request(
        ["ingest", "--json", "-q", "a", "--include", "*.log", "--include", "*.gz"]
    )
    assert action.__name__ == "run_ingest" and req.include == ["*.log", "*.gz"] and req.json


@pytest.mark.parametrize(
    "argv",
    [["grep", "--help"], ["grep", "x", "-h"], ["grep", "--bogus", "x"], ["grep"], ["ask", "q"], []],
)
def test_anything_else_goes_to_typer(argv):
    assert _request(argv) is None


@pytest.mark.parametrize(
    "args",
    [
        ["grep", "-c", "ERROR", "{a}", "{b}"],
        ["grep", "-n", "-i", "error", "{a}"],
        ["grep", "nomatch", "{a}"],
        ["ingest", "--json", "{a}", "{b}"],
    ],
)
def test_same_output_as_typer(tmp_path, args):
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_bytes(b"ok\nERROR one\nerror two\n")
    b.write_bytes(b"ERROR three\n")
    argv = [x.format(a=a, b=b) for x in args]
    env = {**os.environ, "RLM_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)}

    def run(cmd):
        return subprocess.run(cmd, env=env, capture_output=True, timeout=60)

    fast = run([sys.executable, "-m", "rlm_cli", *argv])
    slow = run([sys.executable, "-c", TYPER_ONLY, *argv])
    assert (fast.returncode, fast.stdout) == (slow.returncode, slow.stdout)

"""Help in a pipe keeps every option name whole; usage errors are one `rlm: error:` line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMMANDS = [
    ["ask"],
    ["scan"],
    ["grep"],
    ["brief"],
    ["templates"],
    ["ingest"],
    ["runs", "list"],
    ["models", "add"],
    ["contexts", "gc"],
    ["config", "set"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_piped_help_does_not_cut_option_names(rlm_fast, rlm_env, command):
    r = rlm_fast(rlm_env, *command, "--help")
    assert r.code == 0, r.stderr
    options = [ln for ln in r.stdout.splitlines() if re.match(r"^\W*\s--?\w", ln)]
    assert options and not [ln for ln in options if "…" in ln.split("  ")[0]], r.stdout


def test_ask_help_example_script_exists(rlm_fast, rlm_env):
    text = rlm_fast(rlm_env, "ask", "--help").stdout
    scripts = [s for s in re.findall(r"script:(\S+\.yaml)", text) if s != "FILE.yaml"]
    assert scripts and all((REPO / s).is_file() for s in scripts), scripts


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["ask", "q", "--max-iterations", "0"], "'--max-iterations'"),
        (["ask", "q", "--bogus"], "no such option: --bogus"),
        (["models", "add"], "missing argument"),
        (["runs", "list", "--limit", "x"], "'--limit'"),
    ],
)
def test_usage_errors_are_one_rlm_error_line(rlm_fast, rlm_env, args, needle):
    r = rlm_fast(rlm_env, *args)
    assert r.code == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rlm: error: "), r.stderr
    assert needle in lines[0] and "--help)" in lines[0]

"""`rlm config ...`, precedence (file < env < flags), model aliases, help, version, completion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from helpers import write_script

from rlm_cli import __version__


def test_path_set_show_unset(rlm_fast, rlm_env):
    cfg = Path(rlm_env["RLM_CONFIG_DIR"]) / "config.yaml"
    assert rlm_fast(rlm_env, "config", "path").stdout == f"{cfg}\n"
    every = rlm_fast(rlm_env, "config", "path", "--all").stdout
    assert f"prompts   {cfg.parent / 'prompts'}" in every
    assert f"tasks     {cfg.parent / 'tasks'}" in every
    assert f"runs      {Path(rlm_env['RLM_HOME']) / 'runs.db'}" in every

    assert rlm_fast(rlm_env, "config", "set", "n_ctx", "16384").code == 0
    assert rlm_fast(rlm_env, "config", "set", "retention-days", "30").code == 0
    assert yaml.safe_load(cfg.read_text()) == {"n_ctx": 16384, "retention_days": 30.0}
    shown = rlm_fast(rlm_env, "config", "show").stdout
    assert "n_ctx: 16384  # file" in shown and "max_iterations: 12  # default" in shown

    rlm_env["RLM_N_CTX"] = "4096"
    shown = rlm_fast(rlm_env, "config", "show").stdout
    assert "n_ctx: 4096  # env RLM_N_CTX, over the file" in shown
    data = json.loads(rlm_fast(rlm_env, "config", "show", "--json").stdout)
    assert data["settings"]["n_ctx"] == 4096 and data["sources"]["retention_days"] == "file"

    bad = rlm_fast(rlm_env, "config", "set", "n_ctx", "lots")
    assert bad.code == 2 and "not a valid int" in bad.stderr
    unknown = rlm_fast(rlm_env, "config", "set", "colour", "blue")
    assert unknown.code == 2 and "unknown setting" in unknown.stderr
    assert yaml.safe_load(cfg.read_text())["n_ctx"] == 16384  # untouched by the failures

    assert rlm_fast(rlm_env, "config", "unset", "n_ctx").code == 0
    assert yaml.safe_load(cfg.read_text()) == {"retention_days": 30.0}
    assert rlm_fast(rlm_env, "config", "unset", "n_ctx").code == 2


def test_bad_env_value_is_one_line_error(rlm_fast, rlm_env):
    rlm_env["RLM_MAX_ITERATIONS"] = "many"
    r = rlm_fast(rlm_env, "config", "show")
    assert r.code == 2 and r.stderr.startswith("rlm: error: RLM_MAX_ITERATIONS")


def test_file_then_env_then_flag(rlm_fast, rlm_env, log_file, tmp_path):
    """max_iterations from config.yaml, overridden by RLM_MAX_ITERATIONS, overridden by the flag:
    the run's turn count shows which one won."""
    script = write_script(tmp_path / "loop.yaml", [f"```repl\nprint({i})\n```" for i in range(6)])
    base = ["ask", "q", str(log_file), "-m", f"script:{script}", "--json", "-n"]

    def iterations(*extra) -> int:
        r = rlm_fast(rlm_env, *base, *extra)
        assert r.code == 0, r.stderr
        return json.loads(r.stdout)["iterations"]

    rlm_fast(rlm_env, "config", "set", "max_iterations", "1")
    assert iterations() == 1
    rlm_env["RLM_MAX_ITERATIONS"] = "2"
    assert iterations() == 2
    assert iterations("--max-iterations", "3") == 3


def test_model_aliases(rlm_fast, rlm_env, log_file, demo_script):
    assert rlm_fast(rlm_env, "config", "set", "aliases.demo", f"script:{demo_script}").code == 0
    assert rlm_fast(rlm_env, "config", "set", "aliases.fast", "demo").code == 0  # a chain
    r = rlm_fast(rlm_env, "ask", "q", str(log_file), "-m", "fast", "--json", "-n")
    assert r.code == 1, r.stderr
    assert json.loads(r.stdout)["models"]["root"] == f"script:{demo_script}"
    rlm_env["RLM_MODEL"] = "demo"  # an alias through the env var too
    assert rlm_fast(rlm_env, "ask", "q", str(log_file), "-n").code == 1
    shown = rlm_fast(rlm_env, "config", "show").stdout
    assert f"  demo: script:{demo_script}" in shown

    rlm_fast(rlm_env, "config", "set", "aliases.demo", "fast")  # now a loop
    loop = rlm_fast(rlm_env, "ask", "q", str(log_file), "-m", "fast", "-n")
    assert loop.code == 2 and "alias loop" in loop.stderr
    assert rlm_fast(rlm_env, "config", "unset", "aliases.fast").code == 0


def test_version(rlm_fast, rlm_env):
    r = rlm_fast(rlm_env, "--version")
    assert r.code == 0 and r.stdout == f"rlm {__version__}\n"


@pytest.mark.parametrize(
    "command",
    [
        ["ask"],
        ["runs", "list"],
        ["runs", "show"],
        ["runs", "export"],
        ["runs", "rm"],
        ["runs", "prune"],
        ["config", "path"],
        ["config", "show"],
        ["config", "set"],
        ["config", "unset"],
    ],
)
def test_every_command_has_examples_in_help(rlm_fast, rlm_env, command):
    rlm_env["COLUMNS"] = "100"
    r = rlm_fast(rlm_env, *command, "--help")
    assert r.code == 0
    assert "Examples:" in r.stdout and f"rlm {' '.join(command)}" in r.stdout


def test_shell_completion(rlm_fast, rlm_env):
    # Typer's switch for tests: the shell is the option's value, not guessed from the
    # process tree (which has no shell when the suite runs under cron or a service).
    rlm_env["_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"] = "1"
    r = rlm_fast(rlm_env, "--show-completion", "bash")
    assert r.code == 0 and "complete -o default -F _rlm_completion rlm" in r.stdout
    # The protocol the script speaks: complete "rlm runs l" → list.
    rlm_env.update(_RLM_COMPLETE="complete_bash", COMP_WORDS="rlm runs l", COMP_CWORD="2")
    assert rlm_fast(rlm_env).stdout.split() == ["list"]
    rlm_env.update(COMP_WORDS="rlm conf", COMP_CWORD="1")  # "con" also finds contexts
    assert rlm_fast(rlm_env).stdout.split() == ["config"]

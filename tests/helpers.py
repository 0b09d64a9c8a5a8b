"""Test helpers: run the real CLI with an isolated data/config dir.

Two ways, one result type (:class:`Result`): :func:`run_rlm` starts ``python -m rlm_cli``
(for what concerns the process: signals, exit codes of the interpreter, terminals), and
:class:`InProcess` (the ``rlm_here`` fixture) calls the entry point in the test process, for
tests of logic, without an interpreter start-up per run (seconds on a loaded machine).
:func:`spawn_rlm` starts the process and returns at once, for tests that signal it; tests
of a terminal use pexpect (tests/ux/test_pty.py). :func:`run_rlm_forked` gives a process of
its own like :func:`run_rlm`, forked from a server that imported the CLI once, for tests that
run the CLI many times (scan, bench, brief, the attack corpus).
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sample_logs"


@dataclass
class Result:
    """What a CLI run did."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        """stdout parsed as the one JSON object it must be."""
        return orjson.loads(self.stdout)


def isolated_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment whose data and config dirs are under ``home``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RLM_")}
    env.update(
        RLM_HOME=str(home / "data"),
        RLM_CONFIG_DIR=str(home / "config"),
        NO_COLOR="1",
        COLUMNS="120",
        PYTHONPATH=str(REPO) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.update(extra)
    return env


def run_rlm(
    args: list[str],
    home: Path,
    *,
    stdin: bytes | None = b"",
    env: dict[str, str] | None = None,
    timeout: float = 120,
    cwd: Path | None = None,
) -> Result:
    """Run ``python -m rlm_cli ARGS`` the way a user's shell would."""
    proc = subprocess.run(
        [sys.executable, "-m", "rlm_cli", *args],
        input=stdin,
        capture_output=True,
        env=env or isolated_env(home),
        timeout=timeout,
        cwd=cwd or REPO,
    )
    return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


_forks: list = []  # this process's fork server, started on first use


def run_rlm_forked(args: list[str], home: Path, *, env: dict[str, str] | None = None) -> Result:
    """``rlm ARGS`` as :func:`run_rlm` runs it (its own process, environment and cwd, stdin
    empty), but forked from a server that imported the CLI once (``fork_server.py``): for
    tests that run the CLI many times and are about what it does, not how it starts."""
    import threading

    from fork_server import ForkServer

    if not _forks:
        _forks.extend([ForkServer(isolated_env(home / "fork-server"), REPO), threading.Lock()])
    server, lock = _forks
    out, err = home / ".fork-stdout", home / ".fork-stderr"
    with lock:
        code, _ = server.run(args, env or isolated_env(home), REPO, out, err)
    return Result(code, out.read_text("utf-8", "replace"), err.read_text("utf-8", "replace"))


def spawn_rlm(
    args: list[str],
    home: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    stdout: int | None = subprocess.PIPE,
    text: bool = False,
) -> subprocess.Popen:
    """Start ``python -m rlm_cli ARGS`` and return at once (for tests that signal it or
    watch it work): stdin empty, stderr piped, Ctrl-C's default disposition restored."""
    return subprocess.Popen(
        [sys.executable, "-m", "rlm_cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env or isolated_env(home),
        cwd=cwd or REPO,
        text=text,
        preexec_fn=default_signals,
    )


def spawn_rlm_pty(args: list[str], env: dict[str, str], rows: int = 24, cols: int = 100):
    """Start ``python -m rlm_cli ARGS`` in a pseudo-terminal of ``rows`` x ``cols`` (a
    ``pexpect.spawn``; the caller skips when pexpect is missing)."""
    import pexpect

    env = {**env, "LINES": str(rows), "COLUMNS": str(cols)}
    return pexpect.spawn(
        sys.executable,
        ["-m", "rlm_cli", *args],
        env=env,
        cwd=str(REPO),
        dimensions=(rows, cols),
        encoding="utf-8",
        codec_errors="replace",
        timeout=60,
        preexec_fn=default_signals,
    )


class InProcess:
    """``rlm ARGS`` through the entry point (``rlm_cli.__main__.main``: the quick path for
    plain grep/ingest lines, else ``cli.main()``) in this process, with the environment,
    argv and stdin it would get from a shell; stdout and stderr captured at the file
    descriptors."""

    def __init__(self, monkeypatch, capfd) -> None:
        self.monkeypatch = monkeypatch
        self.capfd = capfd

    def __call__(
        self,
        args: list[str],
        home: Path,
        *,
        stdin: bytes | None = b"",
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> Result:
        import io

        from rlm_cli import cli
        from rlm_cli.__main__ import main

        env = env or isolated_env(home)
        with self.monkeypatch.context() as mp:
            for k in list(os.environ):
                if k not in env:
                    mp.delenv(k)
            for k, v in env.items():
                mp.setenv(k, v)
            mp.setattr(sys, "argv", ["rlm", *args])
            mp.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin or b"")))
            mp.setitem(cli._state, "debug", False)  # noqa: SLF001 - reset between runs
            mp.chdir(cwd or REPO)
            self.capfd.readouterr()
            try:
                main()
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 2)
            out, err = self.capfd.readouterr()
        return Result(int(code), out, err)


def default_signals() -> None:
    """``preexec_fn`` for a child that is to be stopped with Ctrl-C or SIGINT: a shell starts
    background jobs with SIGINT ignored, a child inherits that, and Python then never
    installs its KeyboardInterrupt handler (CI started with ``&`` failed the Ctrl-C tests)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def write_script(path: Path, root: list[str], sub: list[str] | None = None) -> Path:
    """Write a scripted-model YAML file."""
    import yaml

    path.write_text(yaml.safe_dump({"root": root, "sub": sub or []}, sort_keys=False))
    return path

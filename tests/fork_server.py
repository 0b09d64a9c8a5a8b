"""Run ``python -m rlm_cli ARGS`` as a fork of a process that has already imported it.

The attack corpus starts the real CLI about 130 times; most of each start was Python
importing Typer, Rich, pydantic and rlm_cli (about 0.4 of its 0.64 CPU-seconds). A fork
server imports the entry point once, then forks one child per run. The child is a real
process of its own: its environment, working directory, stdin (/dev/null) and stdout and
stderr (files) are set before ``rlm_cli.__main__.main()`` runs, signals have their default
dispositions, the sandbox worker it starts is its own child, and the server waits for it
and returns its exit status and resource usage (``os.wait4``), as for a ``Popen``.

What a fork cannot show (the interpreter's start, ``-m`` resolution, import errors) is
left to the tests that run the real command (``tests/helpers.py``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import orjson

_SERVER = r"""
import atexit, os, signal, sys, orjson
import rlm_cli.__main__, rlm_cli.cli, rlm_cli.actions.ask  # the imports every run shares
control_in = os.fdopen(int(sys.argv[1]), "rb")
control_out = os.fdopen(int(sys.argv[2]), "wb", buffering=0)
for raw in control_in:
    req = orjson.loads(raw)
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            control_in.close(), control_out.close()
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE):
                signal.signal(sig, signal.SIG_DFL)
            os.chdir(req["cwd"])
            os.environ.clear()
            os.environ.update(req["env"])
            for fd, path, flags in ((0, os.devnull, os.O_RDONLY),
                                    (1, req["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                                    (2, req["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
                opened = os.open(path, flags, 0o600)
                os.dup2(opened, fd)
                os.close(opened)
            sys.argv = [rlm_cli.__main__.__file__, *req["args"]]
            try:
                rlm_cli.__main__.main()
                code = 0
            except SystemExit as e:
                code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            atexit._run_exitfuncs()
        finally:
            try:
                sys.stdout.flush(), sys.stderr.flush()
            finally:
                os._exit(code)
    control_out.write(orjson.dumps({"pid": pid}) + b"\n")
    _, status, usage = os.wait4(pid, 0)
    control_out.write(orjson.dumps({"status": status, "maxrss_kb": usage.ru_maxrss,
                                    "cpu_s": usage.ru_utime + usage.ru_stime}) + b"\n")
"""


class ForkServer:
    """One server process; :meth:`run` is one CLI run at a time (use one server a thread)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        to_server_r, self._to_server = os.pipe()
        self._from_server, from_server_w = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _SERVER, str(to_server_r), str(from_server_w)],
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            pass_fds=(to_server_r, from_server_w),
        )
        os.close(to_server_r)
        os.close(from_server_w)
        self._replies = os.fdopen(self._from_server, "rb")
        self._lock = threading.Lock()

    def run(
        self,
        args: list[str],
        env: dict[str, str],
        cwd: Path,
        stdout: Path,
        stderr: Path,
        on_start=None,
    ) -> tuple[int, int]:
        """Run ``rlm ARGS``; ``on_start(pid)`` is called once the child exists. Returns the
        child's exit code (as ``Popen.returncode``: ``-N`` for signal N) and its peak RSS
        in KiB (its own children included, as ``wait4`` counts them)."""
        req = {"args": args, "env": env, "cwd": str(cwd), "stdout": str(stdout)}
        req["stderr"] = str(stderr)
        with self._lock:
            os.write(self._to_server, orjson.dumps(req) + b"\n")
            started = self._reply()
            if on_start is not None:
                on_start(started["pid"])
            done = self._reply()
        return os.waitstatus_to_exitcode(done["status"]), int(done["maxrss_kb"])

    def _reply(self) -> dict:
        line = self._replies.readline()
        if not line:
            raise RuntimeError(f"the fork server ended (exit {self.proc.poll()})")
        return orjson.loads(line)

    def close(self) -> None:
        """End the server (its children are waited for already)."""
        os.close(self._to_server)
        self._replies.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

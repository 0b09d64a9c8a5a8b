"""The parent side of the REPL: start the worker, run steps, serve its model calls.

A step that runs past its wall time, or a worker that dies (memory limit, crash),
never hangs or kills the CLI: the worker is restarted and the step's result says
what was lost.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rlm_cli.errors import RlmError
from rlm_cli.plain import pick
from rlm_cli.repl.environment import python_argv, scrubbed_env
from rlm_cli.repl.protocol import Channel, ChannelClosed

CallHandler = Callable[[str, dict], Any]
"""Serves the worker's model calls: ``handler(fn, args) -> value``; raise to report an error."""


@dataclass
class StepResult:
    """What one step of code did."""

    stdout: str = ""
    stdout_chars: int = 0
    cut: int = 0
    error: str | None = None
    final: dict | None = None
    findings: list[dict] = field(default_factory=list)
    elapsed_s: float = 0.0
    restarted: bool = False

    def to_json(self) -> dict:
        """The form kept in the trajectory."""
        return pick(
            self,
            "stdout stdout_chars cut error final findings elapsed_s restarted",
            elapsed_s=round(self.elapsed_s, 4),
        )


@dataclass
class ReplConfig:
    """Limits and options for the worker."""

    max_output_chars: int = 4000
    step_timeout_s: float = 60.0
    start_timeout_s: float = 20.0
    sandbox: dict = field(default_factory=dict)
    env: dict[str, str] | None = None
    chars_per_token: float | None = None
    """The log's characters a token by the sub-model (``context.chunks(tokens=)``)."""
    chunk_tokens: int | None = None
    """``context.chunks()``'s size with no argument: a piece one sub-call takes."""
    question: str = ""
    """The run's question: an empty search shows the lines of the kinds closest to it."""


class ReplSession:
    """One worker process bound to one context."""

    def __init__(self, context_path: Path, handler: CallHandler, config: ReplConfig | None = None):
        self.context_path = Path(context_path)
        self.handler = handler
        self.config = config or ReplConfig()
        self.proc: subprocess.Popen | None = None
        self.channel: Channel | None = None
        self.isolation: dict = {}
        self.worker_pid: int | None = None
        self.restarts = 0

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Start the worker and wait until it is ready."""
        env = self.config.env if self.config.env is not None else scrubbed_env(os.environ)
        self.proc = subprocess.Popen(
            worker_argv(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd="/",
            close_fds=True,
            start_new_session=True,
        )
        assert self.proc.stdin and self.proc.stdout
        self.channel = Channel(self.proc.stdout.fileno(), self.proc.stdin.fileno())
        self.channel.send(
            {
                "op": "init",
                "context": str(self.context_path),
                "max_output_chars": self.config.max_output_chars,
                "sandbox": self.config.sandbox,
                "chars_per_token": self.config.chars_per_token,
                "chunk_tokens": self.config.chunk_tokens,
                "question": self.config.question,
            }
        )
        try:
            ready = self.channel.recv(timeout=self.config.start_timeout_s)
        except (TimeoutError, ChannelClosed) as e:
            self.kill()
            raise RlmError(f"the REPL worker did not start ({type(e).__name__})") from e
        self.isolation = ready.get("isolation", {})
        self.worker_pid = ready.get("pid")

    def close(self) -> None:
        """Ask the worker to exit; kill it if it does not."""
        if self.proc is None:
            return
        try:
            if self.channel and self.proc.poll() is None:
                self.channel.send({"op": "shutdown"})
                self.proc.wait(timeout=2)
        except (ChannelClosed, subprocess.TimeoutExpired, OSError):
            pass
        self.kill()

    def kill(self) -> None:
        """Kill the worker (and anything it started) at once."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            if f:
                f.close()
        self.proc = None
        self.channel = None

    def restart(self) -> None:
        """Replace the worker with a fresh one (variables are lost)."""
        self.kill()
        self.restarts += 1
        self.start()

    def __enter__(self) -> ReplSession:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- steps ---------------------------------------------------------------------------------

    def execute(self, code: str) -> StepResult:
        """Run one step of code; serve its model calls; never hang past the step timeout."""
        if self.channel is None:
            self.start()
        assert self.channel is not None
        t0 = time.monotonic()
        budget = self.config.step_timeout_s
        self.channel.send({"op": "exec", "code": code})
        while True:
            left = budget - (time.monotonic() - t0)
            try:
                msg = self.channel.recv(timeout=max(0.0, left))
            except TimeoutError:
                return self._lost(
                    f"the step ran past its {budget:g} s wall-time limit and was stopped", t0
                )
            except ChannelClosed:
                return self._lost(self._death_reason(), t0)
            op = msg.get("op")
            if op == "call":
                served_from = time.monotonic()
                reply = self._serve(msg)
                budget += time.monotonic() - served_from  # model time is not the code's time
                try:
                    self.channel.send(reply)
                except ChannelClosed:
                    return self._lost(self._death_reason(), t0)
            elif op == "done":
                if not _well_formed_done(msg):
                    return self._lost("the REPL worker sent a malformed reply", t0)
                return StepResult(
                    stdout=msg.get("stdout", ""),
                    stdout_chars=msg.get("stdout_chars", 0),
                    cut=msg.get("cut", 0),
                    error=msg.get("error"),
                    final=msg.get("final"),
                    findings=msg.get("findings") or [],
                    elapsed_s=time.monotonic() - t0,
                )

    def _serve(self, msg: dict) -> dict:
        try:
            value = self.handler(msg.get("fn", ""), msg.get("args") or {})
            return {"op": "reply", "id": msg.get("id"), "ok": True, "value": value}
        except RlmError as e:
            return {"op": "reply", "id": msg.get("id"), "ok": False, "error": str(e)}
        except Exception as e:  # noqa: BLE001 - reported to the model's code, run goes on
            return {
                "op": "reply",
                "id": msg.get("id"),
                "ok": False,
                "error": f"{type(e).__name__}: {e}",
            }

    def _death_reason(self) -> str:
        try:
            code = self.proc.wait(timeout=2) if self.proc else None
        except subprocess.TimeoutExpired:  # alive, but it broke the protocol
            return "the REPL worker sent a garbled or oversized reply"
        if code is not None and code < 0:
            name = (
                signal.Signals(-code).name
                if -code in signal.Signals._value2member_map_
                else str(-code)
            )
            hint = {
                "SIGKILL": "likely the memory limit",
                "SIGXCPU": "the CPU-time limit",
                "SIGSEGV": "a crash",
            }.get(name, "")
            return f"the REPL worker was killed by {name}" + (f" ({hint})" if hint else "")
        return f"the REPL worker exited (status {code})"

    def _lost(self, reason: str, t0: float) -> StepResult:
        self.restart()
        return StepResult(
            error=f"{reason}. The REPL was restarted: all variables from earlier steps are lost "
            "(context and the functions are still there).",
            elapsed_s=time.monotonic() - t0,
            restarted=True,
        )

    # -- variables --------------------------------------------------------------------------------

    def get_var(self, name: str) -> tuple[bool, str]:
        """``(found, value as text)`` of a REPL variable; not found: ``(False, why or "")``.

        Turning the value into text may run the model's code (its ``__str__``): a
        worker that hangs or dies doing it is restarted, and the text says so.
        """
        if self.channel is None:
            return False, ""
        try:
            self.channel.send({"op": "get", "name": name})
            msg = self.channel.recv(timeout=self.config.step_timeout_s)
        except TimeoutError:
            return False, self._lost(
                f"turning {name!r} into text ran past the {self.config.step_timeout_s:g} s "
                "step limit",
                time.monotonic(),
            ).error or ""
        except ChannelClosed:
            return False, self._lost(self._death_reason(), time.monotonic()).error or ""
        if msg.get("found"):
            return True, str(msg.get("value", ""))
        return False, str(msg.get("error", ""))

    def set_var(self, name: str, value: Any) -> None:
        """Set a REPL variable to a JSON-able value."""
        if self.channel is None:
            return
        self.channel.send({"op": "set", "name": name, "value": value})
        self.channel.recv(timeout=self.config.step_timeout_s)


def _well_formed_done(msg: dict) -> bool:
    """A ``done`` frame has the types the engine relies on (a sound worker always sends them)."""
    final = msg.get("final")
    findings = msg.get("findings") or []
    return (
        isinstance(msg.get("stdout", ""), str)
        and isinstance(msg.get("error") or "", str)
        and all(type(msg.get(k, 0)) is int for k in ("stdout_chars", "cut"))
        and (final is None or (isinstance(final, dict) and isinstance(final.get("value"), str)))
        and isinstance(findings, list)
        and all(
            isinstance(f, dict)
            and all(isinstance(f.get(k), str) for k in ("entity", "severity", "summary"))
            and isinstance(f.get("lines"), list)
            and all(type(n) is int for n in f["lines"])
            for f in findings
        )
    )


def worker_argv() -> list[str]:
    """``python -I -S`` running the worker, able to import rlm_cli and orjson (and no .pth hooks)."""
    import orjson

    argv = python_argv("rlm_cli.repl.worker")
    orjson_dir = str(Path(orjson.__file__).resolve().parent.parent)
    argv[-1] = f"import sys; sys.path.insert(0, {orjson_dir!r}); " + argv[-1]
    return argv

"""The run lifecycle through the real CLI: budgets that hold, and stops by signal.

A slow scripted model (a reply with ``delay_s``) stands in for a slow real model: the
time budget must stop it mid-call, and SIGTERM/SIGHUP must end the run the way Ctrl-C
does (partial run recorded, terminal restored, exit 128 + signal number).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import time
from pathlib import Path

import pytest
from helpers import (
    SAMPLES,
    isolated_env,
    run_rlm,
    spawn_rlm,
    spawn_rlm_pty,
    write_script,
)

BMC = SAMPLES / "bmc_cluster.log"
SLOW = 300.0
"""Seconds a 'hung' reply would take: far above every bound checked here, which leave
room for a loaded machine (interpreter start-up alone can take seconds there)."""
LOOK = "I look first.\n```repl\nprint(context.count('ECC'))\n```"


def _slow(text: str) -> dict:
    return {"text": text, "delay_s": SLOW}


@pytest.mark.parametrize(
    ("final", "answer"),
    [
        ("FINAL(node09, from what was seen)", "node09, from what was seen"),
        (_slow("FINAL(too late)"), "(no answer: timeout)"),
    ],
    ids=["forced-final", "no-time-for-the-final"],
)
def test_timeout_stops_a_call_under_way_and_the_run_is_recorded(
    tmp_path: Path, final, answer: str
) -> None:
    script = write_script(tmp_path / "s.yaml", [LOOK, _slow(LOOK), final])
    t0 = time.monotonic()
    r = run_rlm(
        ["ask", "which node", str(BMC), "-m", f"script:{script}", "--timeout", "2", "--json"],
        tmp_path,
        timeout=SLOW / 2,
    )
    wall = time.monotonic() - t0
    assert r.code == 0, r.stderr  # a forced answer naming node09 is a guess: no finding
    d = r.json()
    assert d["ended_by"] == "timeout"
    assert d["answer"] == answer
    assert "turn 2: stopped by the time budget" in d["notes"]
    # 2 s budget + at most the final answer's 8 s grace (+ start-up); not the hung call's 300 s
    assert wall < SLOW / 3, wall
    listed = run_rlm(["runs", "list"], tmp_path)
    assert d["run_id"] in listed.stdout


def _wait_for(proc: subprocess.Popen, text: str, timeout: float = 60.0) -> str:
    """Read the child's stderr until ``text`` appears; returns what was read."""
    seen = b""
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    end = time.monotonic() + timeout
    while text.encode() not in seen:
        assert time.monotonic() < end, seen.decode()
        if sel.select(0.2):
            chunk = os.read(proc.stderr.fileno(), 65536)
            assert chunk, seen.decode()  # EOF before the text: the run ended early
            seen += chunk
    return seen.decode()


# What cron's timeout, systemd and a closed terminal send; SIGINT is Ctrl-C in a pipe.
SIGNALS = [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
IDS = ["SIGTERM", "SIGHUP", "SIGINT"]


@pytest.mark.parametrize(("signum", "code"), SIGNALS, ids=IDS)
def test_a_signal_mid_run_keeps_the_partial_run(tmp_path: Path, signum: int, code: int) -> None:
    # turn 2 repeats turn 1's code, so a note on stderr says the run is under way; turn 3 hangs
    script = write_script(tmp_path / "s.yaml", [LOOK, LOOK, _slow(LOOK)])
    proc = spawn_rlm(["ask", "which node", str(BMC), "-m", f"script:{script}"], tmp_path)
    try:
        before = _wait_for(proc, "repeated code")
        time.sleep(0.3)  # into turn 3's delay
        t0 = time.monotonic()
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert time.monotonic() - t0 < 30  # not the hung turn's 300 s
    assert proc.returncode == code, before + err.decode()
    err_text = before + err.decode()
    assert "interrupted after 3 turns" in err_text
    assert "partial run kept as" in err_text
    assert "Traceback" not in err_text
    assert "Interrupted: no final answer." in out.decode()
    listed = run_rlm(["runs", "list", "--status", "interrupted"], tmp_path)
    assert listed.stdout.count(f"\tinterrupted\t{code}\t") == 1, listed


def test_sigterm_in_a_terminal_restores_it(tmp_path: Path) -> None:
    """The live view is stopped and the cursor shown again (the pty sees the escapes)."""
    pexpect = pytest.importorskip("pexpect")
    script = write_script(tmp_path / "s.yaml", [LOOK, _slow(LOOK)])
    env = {**isolated_env(tmp_path), "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    child = spawn_rlm_pty(["ask", "which node", str(BMC), "-m", f"script:{script}"], env)
    raw = ""
    end = time.monotonic() + 60
    while "turn 2" not in raw:  # the live tree drew turn 2: the run is in its hung call
        assert time.monotonic() < end, raw
        try:
            raw += child.read_nonblocking(65536, timeout=0.2)
        except pexpect.TIMEOUT:
            continue
    time.sleep(0.3)
    child.kill(signal.SIGTERM)
    while True:
        try:
            raw += child.read_nonblocking(65536, timeout=30)
        except (pexpect.EOF, pexpect.TIMEOUT):
            break
    child.close()
    assert child.exitstatus == 143, raw
    assert "\x1b[?25l" in raw  # the live view hid the cursor...
    assert raw.rfind("\x1b[?25h") > raw.rfind("\x1b[?25l")  # ...and showed it again at the end
    flat = " ".join(raw.split())
    assert "partial run kept as" in flat
    assert "Traceback" not in raw

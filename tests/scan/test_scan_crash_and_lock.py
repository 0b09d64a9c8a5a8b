"""kill -9 (or SIGTERM, SIGHUP: exit 143, 129) in the middle of a run, and two runs at once."""

from __future__ import annotations

import os
import selectors
import signal
import time
from pathlib import Path

import pytest
from scan_helpers import LogWriter, Scanner, contexts_dir, write_model


def _wait_for_stderr(proc, text: bytes, timeout: float = 60.0) -> None:
    """Block until the child has written ``text`` on stderr."""
    seen = b""
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    while text not in seen:
        assert time.monotonic() < deadline, seen
        if sel.select(0.2):
            chunk = os.read(proc.stderr.fileno(), 65536)
            assert chunk, seen
            seen += chunk


def _wait_until_thinking(tmp: Path, proc, timeout: float = 30.0) -> None:
    """Block until the run has stored its context (so the model is now 'thinking')."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        root = contexts_dir(tmp)
        if root.exists() and any(not p.name.startswith(".") for p in root.iterdir()):
            time.sleep(0.3)  # past the store, into the model's delay
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the scan never reached the model")


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGKILL, -signal.SIGKILL), (signal.SIGTERM, 143), (signal.SIGHUP, 129)],
    ids=["SIGKILL", "SIGTERM", "SIGHUP"],
)
def test_a_signal_mid_run_leaves_the_previous_state_and_the_bytes_are_read_again(
    tmp_path: Path, signum: int, code: int
) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    w = LogWriter()
    sc = Scanner(tmp_path, logs)
    w.append(logs / "a.log", 6)
    sc.run()
    state_before = (sc.state / "state.json").read_bytes()
    w.append(logs / "a.log", 4, node="node09", error=True)
    w.append(logs / "b.log", 2)
    slow = write_model(tmp_path / "slow.yaml", delay_s=30)
    proc = sc.popen(model=slow)
    _wait_for_stderr(proc, b"scanning 6 new lines")  # this run's own context is stored
    _wait_until_thinking(tmp_path, proc)
    os.kill(proc.pid, signum)
    proc.wait(10)
    assert proc.returncode == code, proc.communicate()
    assert (sc.state / "state.json").read_bytes() == state_before  # nothing committed
    d = sc.run(expect=1)  # the same bytes again, and the finding is new
    assert sum(s["new_lines"] for s in d["scanned"]) == 6
    assert [f["status"] for f in d["findings"]] == ["new"]
    sc.assert_exact(w)


def test_two_runs_at_once_second_waits_or_exits_2(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    w = LogWriter()
    sc = Scanner(tmp_path, logs)
    w.append(logs / "a.log", 8)
    # The first run holds the lock while its model "thinks" 10 s: time enough for a second
    # process to start and reach the lock on a loaded machine (2.5 s were not).
    slow = write_model(tmp_path / "slow.yaml", delay_s=10)
    first = sc.popen(model=slow)
    _wait_until_thinking(tmp_path, first)
    w.append(logs / "a.log", 3)  # written while the first run is analysing
    busy = sc.popen()  # no --wait: gives up at once
    out, err = busy.communicate(timeout=30)
    assert busy.returncode == 2 and out == b""
    assert b"another rlm scan" in err and b"--wait" in err
    waiter = sc.popen("--wait", "60")
    for proc in (first, waiter):
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        from helpers import Result

        sc.record(Result(proc.returncode, out.decode(), err.decode()))
    assert [r["new_bytes"] > 0 for r in sc.runs] == [True, True]
    sc.assert_exact(w)


def test_a_failed_model_run_exits_2_and_commits_nothing(tmp_path: Path) -> None:
    from helpers import run_rlm, write_script

    logs = tmp_path / "logs"
    logs.mkdir()
    w = LogWriter()
    sc = Scanner(tmp_path, logs)
    w.append(logs / "a.log", 3)
    broken = write_script(tmp_path / "broken.yaml", ["```repl\nprint(1)\n```"])  # runs out
    r = run_rlm(sc.args(model=broken), tmp_path)
    assert r.code == 2 and "ran out" in r.stderr and r.stdout == ""
    assert not (sc.state / "state.json").exists()
    d = sc.run()
    assert d["scanned"][0]["new_lines"] == 3
    sc.assert_exact(w)

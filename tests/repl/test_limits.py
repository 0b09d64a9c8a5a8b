"""The process layer, tried in child processes: each limit stops what it should.

Every test runs the same probe twice where practical: without the limits (the
positive control, which must succeed) and with them (which must fail).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from rlm_cli.repl.limits import Limits, apply_process_limits, arm_cpu_limit, disarm_cpu_limit

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
import json, os, sys
from rlm_cli.repl.limits import Limits, apply_process_limits, arm_cpu_limit
from rlm_cli.repl.limits import disarm_cpu_limit, install_cpu_handler, CpuLimitExceeded
LIMITED = sys.argv[1] == "1"
def result(**kw):
    print(json.dumps(kw)); sys.exit(0)
"""


def run_child(body: str, limited: bool, timeout: float = 60) -> dict:
    code = PRELUDE + textwrap.dedent(body)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", code, "1" if limited else "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_address_space_limit_stops_a_4gb_allocation() -> None:
    body = """
    import mmap
    if LIMITED:
        apply_process_limits(Limits(address_space_mb=1024))
    try:
        m = mmap.mmap(-1, 4 << 30)   # reserved, not touched: cheap without the limit
        reserved = True
    except OSError:
        reserved = False
    try:
        b = bytearray(4 << 30) if LIMITED else None
        grew = LIMITED
    except MemoryError:
        grew = False
    result(reserved=reserved, grew=grew)
    """
    assert run_child(body, limited=False) == {"reserved": True, "grew": False}
    assert run_child(body, limited=True) == {"reserved": False, "grew": False}


def test_file_size_limit_refuses_writes(tmp_path: Path) -> None:
    body = f"""
    if LIMITED:
        apply_process_limits(Limits())
    try:
        with open({str(tmp_path / "out.txt")!r}, "w") as f:
            f.write("x")
        result(wrote=True)
    except OSError as exc:
        result(wrote=False, errno=exc.errno)
    """
    assert run_child(body, limited=False) == {"wrote": True}
    import errno

    assert run_child(body, limited=True) == {"wrote": False, "errno": errno.EFBIG}


def test_open_files_limit() -> None:
    body = """
    if LIMITED:
        apply_process_limits(Limits(open_files=16))
    fds = []
    try:
        for _ in range(40):
            fds.append(os.open("/dev/null", os.O_RDONLY))
        result(opened=len(fds))
    except OSError:
        result(opened=len(fds))
    """
    assert run_child(body, limited=False) == {"opened": 40}
    assert run_child(body, limited=True)["opened"] < 16


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_no_new_processes_once_unprivileged() -> None:
    """NPROC=0 stops fork for a non-root user (root ignores NPROC: see limits.py)."""
    body = """
    if LIMITED:
        apply_process_limits(Limits())
    if os.geteuid() == 0:
        os.setgroups([]); os.setgid(65534); os.setuid(65534)
    try:
        pid = os.fork()
    except OSError as exc:
        result(forked=False, errno=exc.errno)
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    result(forked=True)
    """
    import errno

    assert run_child(body, limited=False) == {"forked": True}
    assert run_child(body, limited=True) == {"forked": False, "errno": errno.EAGAIN}


def test_cpu_limit_is_per_step_and_rearmable() -> None:
    body = """
    import time
    apply_process_limits(Limits())
    install_cpu_handler()
    hits = []
    for step in range(2):
        t0 = time.process_time()
        arm_cpu_limit(1)
        try:
            while time.process_time() - t0 < 5:
                pass
            hits.append(None)
        except CpuLimitExceeded:
            hits.append(round(time.process_time() - t0, 2))
        finally:
            disarm_cpu_limit()
    # between steps the limit is lifted: one more second of work is fine
    t0 = time.process_time()
    while time.process_time() - t0 < 1.2:
        pass
    result(hits=hits)
    """
    # ~3.2 s of CPU: the wall-clock guard only catches a hang, so it allows a starved child
    # (nice 19 beside a model run got less than 3 s of CPU in a minute)
    hits = run_child(body, limited=True, timeout=600)["hits"]
    assert all(h is not None and h < 3.0 for h in hits), hits


def test_core_dumps_off_and_report() -> None:
    body = """
    import resource
    report = apply_process_limits(Limits())
    result(core=resource.getrlimit(resource.RLIMIT_CORE), applied=sorted(report.applied))
    """
    got = run_child(body, limited=True)
    assert got["core"] == [0, 0]
    assert got["applied"] == [
        "RLIMIT_AS",
        "RLIMIT_CORE",
        "RLIMIT_CPU",
        "RLIMIT_FSIZE",
        "RLIMIT_NOFILE",
        "RLIMIT_NPROC",
    ]


def test_hard_cpu_limit_kills_a_worker_stuck_in_one_c_call() -> None:
    body = """
    import re
    apply_process_limits(Limits(cpu_seconds_lifetime=2))
    install_cpu_handler()
    re.match(r"(a+)+$", "a" * 64 + "b")  # never returns to Python: SIGXCPU cannot be handled
    """
    code = PRELUDE + textwrap.dedent(body)
    t0 = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code, "1"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=60,
    )
    assert out.returncode == -signal.SIGKILL, out.stderr
    assert time.monotonic() - t0 < 30


def test_arm_sets_soft_limit_above_usage_in_this_process() -> None:
    import resource

    before = resource.getrlimit(resource.RLIMIT_CPU)
    try:
        soft = arm_cpu_limit(7)
        assert resource.getrlimit(resource.RLIMIT_CPU)[0] == soft >= 7
        disarm_cpu_limit()
        assert resource.getrlimit(resource.RLIMIT_CPU)[0] == before[1]
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, before)


def test_limits_defaults_match_the_design() -> None:
    lim = Limits()
    assert (lim.address_space_mb, lim.file_size_bytes, lim.processes, lim.core_dumps) == (
        2048,
        0,
        0,
        False,
    )
    assert callable(apply_process_limits)

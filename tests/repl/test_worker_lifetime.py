"""A worker never outlives its parent, and never spins forever inside one C call."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

PARENT = textwrap.dedent(
    """
    import io, sys
    from pathlib import Path
    from rlm_cli.repl.session import ReplSession
    from rlm_cli.store.ingest import ingest_streams
    root = Path(sys.argv[1])
    meta = ingest_streams(root, [("a.log", io.BytesIO(b"x\\n"), None)])
    s = ReplSession(root / meta["id"], lambda fn, args: "")
    s.config.step_timeout_s = 600
    s.start()
    print(s.worker_pid, s.isolation.get("parent_death"), flush=True)
    # One C call that never returns to Python: catastrophic regex backtracking.
    s.execute("import re\\nre.match(r'(a+)+$', 'a' * 64 + 'b')")
    """
)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_worker_dies_with_its_parent_even_inside_a_c_call(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=env
    )
    pid_text, how = parent.stdout.readline().split()
    worker = int(pid_text)
    assert how == "SIGKILL"
    time.sleep(1.0)  # the step is now spinning inside re.match
    assert _alive(worker)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(worker), "the worker outlived its parent"

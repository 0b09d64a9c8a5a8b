"""The OS layer, tried in child processes: after isolate() the network, the
filesystem and root are gone, and what was prepared beforehand still works.

Where a step is unavailable (no namespaces in some containers) the report must
say so, and the test skips that check instead of pretending; on a host that
allows namespaces every check below runs for real.  Each child first does the
forbidden thing *before* isolating, as the positive control.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rlm_cli.repl.isolation import IsolationReport, isolate

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="Linux namespaces")

ROOT = Path(__file__).resolve().parents[2]

PRELUDE = """
import dataclasses, errno, json, os, socket, sys
from pathlib import Path
from rlm_cli.repl import guard, isolation
from rlm_cli.repl.limits import Limits, apply_process_limits
ARGS = json.loads(sys.argv[1])
def attempt(fn):
    try:
        return ["ok", fn()]
    except Exception as exc:
        return ["error", type(exc).__name__ + ": " + str(exc)]
"""


def run_child(body: str, args: dict, user: int | None = None, python: str = sys.executable) -> dict:
    code = PRELUDE + textwrap.dedent(body)
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    kw = {"user": user, "group": user, "extra_groups": []} if user is not None else {}
    out = subprocess.run(
        [python, "-c", code, json.dumps(args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        **kw,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.fixture()
def listener():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    yield srv.getsockname()[1]
    srv.close()


@pytest.fixture()
def base() -> Path:
    """A world-readable scratch directory (pytest's tmp_path is 0700 root)."""
    import tempfile

    d = Path(tempfile.mkdtemp(prefix="rlm-iso-test-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture()
def shared_dir(base: Path) -> Path:
    """A directory readable by nobody (the worker drops to it when run as root)."""
    d = base / "ctx"
    d.mkdir()
    (d / "data.log").write_text("line one\nline two\n")
    d.chmod(0o755)
    (d / "data.log").chmod(0o644)
    return d


ISOLATE_AND_PROBE = """
def connect():
    s = socket.create_connection(("127.0.0.1", ARGS["port"]), timeout=3)
    s.close()
    return True
def read_outside():
    return len(Path(ARGS["outside"]).read_text()) > 0
before = {"connect": attempt(connect), "outside": attempt(read_outside)}
held = open(ARGS["held"])                        # opened before: must stay usable
isolation.preimport(guard.ALLOWED_MODULES)
report = isolation.isolate([Path(ARGS["shared"])])
import datetime
after = {
    "connect": attempt(connect),
    "outside": attempt(read_outside),
    "passwd": attempt(lambda: open("/etc/passwd").read()),
    "shared": attempt(lambda: (Path(ARGS["shared"]) / "data.log").read_text()),
    "write_shared": attempt(lambda: (Path(ARGS["shared"]) / "new").write_text("x")),
    "write_root": attempt(lambda: open("/x", "w")),
    "held": attempt(held.read),
    "new_import": attempt(lambda: __import__("xml.dom") and True),
    "strptime": attempt(lambda: str(datetime.datetime.strptime("2024-05", "%Y-%m"))),
    "latin1": attempt(lambda: "é".encode("latin-1").hex()),
    "uid": os.geteuid(),
    "caps": isolation.effective_capabilities(),
}
apply_process_limits(Limits())
after["fork"] = attempt(lambda: os.fork() and "parent")
print(json.dumps({"report": dataclasses.asdict(report), "before": before, "after": after}))
"""


def _args(listener: int, shared: Path, base: Path) -> dict:
    outside = base / "outside.txt"
    outside.write_text("secret outside the sandbox")
    outside.chmod(0o644)
    return {"port": listener, "shared": str(shared), "outside": str(outside), "held": str(outside)}


def _check_isolated(got: dict, *, expect_nobody: bool) -> None:
    report, before, after = got["report"], got["before"], got["after"]
    assert before["connect"] == ["ok", True], "control: the listener must be reachable first"
    assert before["outside"] == ["ok", True], "control: the file must be readable first"
    assert after["held"][0] == "ok" and "secret" in after["held"][1]
    if report["network"].startswith("netns"):
        assert after["connect"][0] == "error", after["connect"]
    else:
        pytest.skip(f"no network namespace here: {report['network']}")
    if report["filesystem"].startswith(("pivot_root", "chroot")):
        assert after["outside"][0] == "error" and after["passwd"][0] == "error"
        assert after["write_root"][0] == "error"
        assert after["new_import"][0] == "error"
        assert after["strptime"] == ["ok", "2024-05-01 00:00:00"]
        assert after["latin1"] == ["ok", "e9"]
    else:
        pytest.skip(f"no new root here: {report['filesystem']}")
    if report["filesystem"].startswith("pivot_root"):
        assert after["shared"] == ["ok", "line one\nline two\n"]
        assert after["write_shared"][0] == "error"
    if expect_nobody:
        assert after["uid"] == 65534
    assert after["caps"] == 0
    assert after["fork"][0] == "error", after["fork"]


def test_isolate_cuts_network_filesystem_and_root(listener, shared_dir, base) -> None:
    got = run_child(ISOLATE_AND_PROBE, _args(listener, shared_dir, base))
    _check_isolated(got, expect_nobody=os.geteuid() == 0)


def tempfile_dir() -> str:
    import tempfile

    return tempfile.gettempdir()


def test_no_directory_left_behind(listener, shared_dir, base) -> None:
    before = set(Path(tempfile_dir()).glob("rlm-root-*"))
    got = run_child(ISOLATE_AND_PROBE, _args(listener, shared_dir, base))
    if not got["report"]["filesystem"].startswith("pivot_root"):
        pytest.skip(got["report"]["filesystem"])
    assert set(Path(tempfile_dir()).glob("rlm-root-*")) == before


def _python_for_nobody() -> str | None:
    """sys.executable may live under /root; fall back to the system Python."""
    for python in (sys.executable, shutil.which("python3", path="/usr/bin:/bin")):
        if not python:
            continue
        try:
            probe = subprocess.run(
                [python, "-c", "import sys; assert sys.version_info >= (3, 10)"],
                user=65534,
                group=65534,
                extra_groups=[],
                capture_output=True,
                timeout=30,
            )
        except OSError:
            continue
        if probe.returncode == 0:
            return python
    return None


def test_unprivileged_user_gets_the_same_walls(listener, shared_dir, base) -> None:
    """As a normal user, isolate() goes through a user namespace first."""
    if os.geteuid() != 0:
        got = run_child(ISOLATE_AND_PROBE, _args(listener, shared_dir, base))
    else:
        python = _python_for_nobody()
        if python is None:
            pytest.skip("no Python >= 3.10 that nobody may run")
        got = run_child(
            ISOLATE_AND_PROBE, _args(listener, shared_dir, base), user=65534, python=python
        )
    if "user namespace unavailable" in " ".join(got["report"]["notes"]):
        pytest.skip(f"no user namespaces here: {got['report']['notes']}")
    assert got["report"]["network"] == "netns (in user namespace)"
    _check_isolated(got, expect_nobody=False)


FALLBACK = """
import ctypes
real = isolation._libc()
class NoUnshare:
    def __getattr__(self, name):
        return getattr(real, name)
    def unshare(self, flags):
        ctypes.set_errno(errno.EPERM)
        return -1
isolation._libc = lambda: NoUnshare()
isolation.preimport(guard.ALLOWED_MODULES)
report = isolation.isolate([Path(ARGS["shared"])])
passwd = attempt(lambda: open("/etc/passwd").read())
print(json.dumps({"report": dataclasses.asdict(report), "passwd": passwd[0]}))
"""


def test_refused_unshare_falls_back_and_says_so(shared_dir) -> None:
    """Containers that deny unshare: reported as such; root still gets an empty chroot."""
    got = run_child(FALLBACK, {"shared": str(shared_dir)})
    report = got["report"]
    assert report["network"] == "none (unshare(CLONE_NEWNET): EPERM)"
    if os.geteuid() == 0:
        assert report["filesystem"].startswith("chroot to an empty deleted directory")
        assert got["passwd"] == "error"
        assert any("readable_paths are not available" in n for n in report["notes"])
    else:
        assert report["filesystem"].startswith("none")


def test_nothing_attempted_is_reported_as_such() -> None:
    report = isolate([], network=False, filesystem=False, drop_privileges=False)
    assert report == IsolationReport()
    assert report.network == "none (not attempted)"


WORKER_ORDER = """
import json, os, sys
from pathlib import Path
ARGS = json.loads(sys.argv[2])
from rlm_cli.repl import guard, isolation
from rlm_cli.repl.limits import Limits, apply_process_limits, install_cpu_handler
# 1. environment was scrubbed by the parent; 2. pre-import; 3. open files
secret = os.environ.get("SECRET_TOKEN")
isolation.preimport(guard.ALLOWED_MODULES)
log = open(ARGS["log"])
namespace = {"__builtins__": guard.safe_builtins(), "__name__": "__sandbox__"}
namespace["lines"] = log.read().splitlines()
# 4. OS isolation, 5. process limits (after: isolation needs no threads, /proc, root)
report = isolation.isolate([])
apply_process_limits(Limits())
install_cpu_handler()
steps = {
    "count": "from collections import Counter\\nc = Counter(l.split()[1] for l in lines)\\n"
             "from datetime import datetime\\nt = datetime.strptime(lines[0][:10], '%Y-%m-%d')\\n"
             "out = (c.most_common(1), t.year)",
    "import os": "import os\\nout = os.getcwd()",
    "open": "out = open('/etc/passwd').read()",
    "dynamic dunder": "n = '_' * 2 + 'class' + '_' * 2\\nout = ('{0.' + n + '}').format(1)",
    "late import": "import statistics\\nout = statistics.mean([1, 2])",
}
results = {}
for name, code in steps.items():
    try:
        guard.check(code, library_names=guard.library_names(namespace))
        exec(compile(code, "<model>", "exec"), namespace)
        results[name] = ["ok", repr(namespace.pop("out", None))]
    except guard.Refused as exc:
        results[name] = ["refused", exc.reason]
    except Exception as exc:
        results[name] = ["error", type(exc).__name__]
print(json.dumps({"secret": secret, "network": report.network, "results": results}))
"""


def test_layers_compose_in_worker_order(base: Path) -> None:
    """All four layers together, in the order the worker applies them."""
    from rlm_cli.repl.environment import scrubbed_env

    log = base / "app.log"
    log.write_text("2024-03-01 node7 ERROR disk\n2024-03-01 node7 WARN fan\n")
    bootstrap = f"import sys; sys.path.insert(0, {str(ROOT)!r}); exec(sys.argv[1])"
    env = scrubbed_env({**os.environ, "SECRET_TOKEN": "s3cr3t"})
    out = subprocess.run(
        [sys.executable, "-I", "-S", "-c", bootstrap, WORKER_ORDER, json.dumps({"log": str(log)})],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["secret"] is None
    res = got["results"]
    assert res["count"] == ["ok", "([('node7', 2)], 2024)"]
    assert res["import os"][0] == "refused"
    assert res["open"][0] == "refused"
    assert res["dynamic dunder"] == ["ok", "\"<class 'int'>\""]  # text only, never the object
    assert res["late import"] == ["ok", "1.5"]  # fails if preimport() is skipped

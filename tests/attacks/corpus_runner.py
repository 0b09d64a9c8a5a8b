"""Load the attack corpus and run one attack through the CLI, watching what it does.

Each ``corpus/*.py`` file is one attack: a header of ``# key: value`` lines, then the
code the root model "writes". The scripted model replies with that code in a ```repl
block, then any ``# then:`` replies, then ``FINAL(contained)``. The run happens in a
fresh data/config dir with a secret in the CLI's environment, a TCP listener on
127.0.0.1 and canary paths outside and inside the data dir; :class:`Outcome` records
what came back and what the attack left behind.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from fork_server import ForkServer
from helpers import SAMPLES, isolated_env, write_script

CORPUS = Path(__file__).resolve().parent / "corpus"
SECRET_NAME = "SECRET_TOKEN"
SECRET_VALUE = "s3cr3t-7f1c2b9e-do-not-leak"
ESCAPE_MARKER = "ESCAPED"
STEP_TIMEOUT_S = 4  # the heaviest harmless step takes ~1.7 s on a loaded machine
RUN_TIMEOUT_S = 60
FINAL_ANSWER = "contained"
BIG_LINE_BYTES = 50 * 1024 * 1024

# Attacks whose containment does not depend on the OS layer are run once; the rest are
# also run with the OS layer off (the fallback where unshare is refused).
OS_INDEPENDENT = frozenset({"cpu", "memory", "recursion", "output", "subcalls"})
# Attacks that may touch gigabytes: never two at once.
HEAVY = frozenset({"memory", "output"})
_heavy_lock = threading.Semaphore(1)


@dataclass(frozen=True)
class Attack:
    """One corpus file."""

    name: str
    path: Path
    technique: str
    source: str
    category: str
    expect: str
    code: str
    input: str = "bmc"
    final: str = FINAL_ANSWER
    then: tuple[str, ...] = ()
    expect_later: str | None = None


def load_corpus() -> list[Attack]:
    """Every attack in ``corpus/``, in file order."""
    attacks = []
    for path in sorted(CORPUS.glob("*.py")):
        header: dict[str, list[str]] = {}
        body: list[str] = []
        for line in path.read_text("utf-8").splitlines():
            if not body and line.startswith("# ") and ":" in line:
                key, _, value = line[2:].partition(":")
                header.setdefault(key.strip(), []).append(value.strip())
            else:
                body.append(line)
        one = {k: v[0] for k, v in header.items()}
        attacks.append(
            Attack(
                name=path.stem,
                path=path,
                technique=one["technique"],
                source=one["source"],
                category=one["category"],
                expect=one["expect"],
                code="\n".join(body).strip("\n") + "\n",
                input=one.get("input", "bmc"),
                final=one.get("final", FINAL_ANSWER),
                then=tuple(t.replace("\\n", "\n") for t in header.get("then", [])),
                expect_later=one.get("expect-later"),
            )
        )
    return attacks


@dataclass
class Outcome:
    """What one run of one attack did."""

    attack: Attack
    isolation: bool
    exit_code: int
    stdout: str
    stderr: str
    wall_s: float
    max_rss_mb: float
    connections: int
    files_left: list[str]
    runs_db: bytes
    record: dict | None = None
    notes: list[str] = field(default_factory=list)

    def outputs(self, turn: int) -> list[dict]:
        """The step outputs of a turn (1-based)."""
        if not self.record or len(self.record["trajectory"]) < turn:
            return []
        return self.record["trajectory"][turn - 1]["outputs"]

    def step_texts(self) -> str:
        """Everything the steps printed or raised (not the code, which names the markers)."""
        parts = []
        for turn in (self.record or {}).get("trajectory", []):
            for out in turn["outputs"]:
                parts += [out.get("stdout") or "", out.get("error") or ""]
        return "\n".join(parts)


BMC_LINES = 300
"""The attacks read the head of the BMC sample: every call they make has lines to work on
(ECC events, 100-line chunks), and each of the 130 runs maps a sixth of the log."""


def _input_file(kind: str, where: Path) -> Path:
    path = where / f"{kind}.log"
    with path.open("wb") as f:
        if kind == "bmc":
            with (SAMPLES / "bmc_cluster.log").open("rb") as sample:
                f.writelines(line for _, line in zip(range(BMC_LINES), sample))
        elif kind == "bigline":
            f.write(b"first line\n")
            f.write(b"Z" * BIG_LINE_BYTES + b"\n")
            f.write(b"last line\n")
        elif kind == "redos":
            f.write(b"x" * 40 + b"\n")
        else:
            raise ValueError(f"unknown input kind {kind!r}")
    return path


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", value)
    return text


def run_attack(
    attack: Attack, home: Path, *, isolation: bool = True, server: ForkServer | None = None
) -> Outcome:
    """Run ``attack`` through ``rlm ask ... --json`` and watch it: a new ``python -m
    rlm_cli`` process, or a fork of ``server`` (the same entry point, imports done)."""
    home.mkdir(parents=True, exist_ok=True)
    outside = home / "outside"
    outside.mkdir()
    data = home / "data"
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.setblocking(False)
    values = {
        "CANARY_OUT": str(outside / "canary"),
        "CANARY_IN": str(data / "canary"),
        "PORT": str(listener.getsockname()[1]),
        "SECRET_NAME": SECRET_NAME,
    }
    root = [f"```repl\n{_fill(attack.code, values)}```", *(_fill(t, values) for t in attack.then)]
    # FINAL twice: the engine pushes back once on a FINAL that comes before any code looked
    # at the log (most attacks never touch `context`); the second one is then accepted.
    final = f"FINAL({FINAL_ANSWER})"
    script = write_script(home / "script.yaml", [*root, final, final], ["sub answer"])
    log = _input_file(attack.input, home)
    env = isolated_env(
        home,
        **{
            SECRET_NAME: SECRET_VALUE,
            "RLM_STEP_TIMEOUT": str(STEP_TIMEOUT_S),
            "RLM_MAX_ITERATIONS": str(len(root) + 3),
            # The scripted model cuts replies longer than this, like a real one would; the
            # attack's code is the reply, so let it through whole.
            "RLM_ROOT_MAX_TOKENS": "50000",
            "RLM_N_CTX": "400000",
            "RLM_SANDBOX_ISOLATION": "true" if isolation else "false",
        },
    )
    args = ["ask", "which node fails", str(log), "--model", f"script:{script}", "--json"]
    args += ["--fail-on", "never", "--debug", "--timeout", str(RUN_TIMEOUT_S)]
    stdout_path, stderr_path = home / "stdout.json", home / "stderr.txt"
    heavy = attack.category in HEAVY
    if heavy:
        _heavy_lock.acquire()
    killer: list[threading.Timer] = []

    def watch(pid: int) -> None:
        killer.append(threading.Timer(RUN_TIMEOUT_S + 30, _kill, (pid,)))
        killer[0].start()

    try:
        t0 = time.monotonic()
        if server is not None:
            exit_code, max_rss_kb = server.run(args, env, home, stdout_path, stderr_path, watch)
        else:
            with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "rlm_cli", *args],
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    env=env,
                    cwd=home,
                )
            watch(proc.pid)
            _, status, usage = os.wait4(proc.pid, 0)
            exit_code, max_rss_kb = os.waitstatus_to_exitcode(status), usage.ru_maxrss
        wall = time.monotonic() - t0
    finally:
        for timer in killer:
            timer.cancel()
        if heavy:
            _heavy_lock.release()
    connections = 0
    while True:
        try:
            conn, _ = listener.accept()
        except BlockingIOError:
            break
        connections += 1
        conn.close()
    listener.close()
    stdout = stdout_path.read_bytes().decode("utf-8", "replace")
    outcome = Outcome(
        attack=attack,
        isolation=isolation,
        exit_code=exit_code,
        stdout=stdout,
        stderr=stderr_path.read_text("utf-8", "replace"),
        wall_s=wall,
        max_rss_mb=max_rss_kb / 1024,
        connections=connections,
        files_left=[str(p) for p in (outside / "canary", data / "canary") if p.exists()]
        + [str(p) for p in outside.iterdir()],
        runs_db=(data / "runs.db").read_bytes() if (data / "runs.db").exists() else b"",
    )
    try:
        outcome.record = orjson.loads(stdout)
    except orjson.JSONDecodeError:
        outcome.notes.append("stdout is not one JSON object")
    return outcome


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass

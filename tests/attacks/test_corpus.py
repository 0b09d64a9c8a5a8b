"""Every attack in ``corpus/`` through the CLI, contained.

Contained means: the CLI ends with the script's final answer (exit 0) within its time
limits; the attack's step ended the way its header says (refused by the guard, an error,
a restarted worker, or ran harmlessly); no escape marker was printed; no canary file
appeared outside or inside the data dir; no connection reached the listener; the
secret in the CLI's environment is in neither stdout, stderr nor the runs database;
/etc/passwd was not read; the CLI and its worker stayed under the memory limit; the
answer and record stayed bounded.

Attacks whose containment could depend on the OS layer (code that runs, not code the
guard refuses before it runs) run twice: with the full
sandbox and with ``sandbox_isolation: false`` (the fallback where namespaces are
refused), so the language and process layers are shown to hold on their own.

Attacks run in parallel (three at a time; memory-heavy ones one at a time), in small
batches claimed by whichever pytest process first needs one of them: under pytest-xdist
the workers share the corpus through claim files, so each attack runs once per session
whichever worker its test is scheduled on; each parametrized test checks one attack's
outcome. Each run is a process forked from a fork server that has imported the CLI
(``tests/fork_server.py``: the same entry point, a third of the CPU time).
"""

from __future__ import annotations

import os
import pickle
import queue
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from corpus_runner import (
    ESCAPE_MARKER,
    FINAL_ANSWER,
    OS_INDEPENDENT,
    RUN_TIMEOUT_S,
    SECRET_VALUE,
    Attack,
    Outcome,
    load_corpus,
    run_attack,
)
from fork_server import ForkServer
from helpers import isolated_env

ATTACKS = load_corpus()
# The fallback run adds nothing for code the guard refuses before it runs.
CASES = [(a, True) for a in ATTACKS] + [
    (a, False) for a in ATTACKS if a.category not in OS_INDEPENDENT and a.expect != "refused"
]
MEMORY_LIMIT_MB = 2048 + 512  # the worker's address-space limit, plus the CLI itself
MAX_STDOUT_BYTES = 16 * 1024 * 1024  # a 4 M-character answer, the bounded trajectory
PASSWD_MARKER = "root:x:0:0"


def _case_id(case: tuple[Attack, bool]) -> str:
    attack, isolation = case
    return attack.name + ("" if isolation else "-fallback")


BATCH = 4
"""Attacks one pytest process claims at a time (its parallel runs, twice over)."""
WAIT_S = 10 * RUN_TIMEOUT_S
"""The longest a test waits for an attack another worker claimed."""


def _shared_dir(factory: pytest.TempPathFactory) -> Path:
    """A folder all pytest processes of this session share: beside the workers' own
    temporary folders under xdist (keyed by the test run's id), else this session's."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    base = factory.getbasetemp()
    shared = base.parent / f"attacks-{run}" if run else base / "attacks-shared"
    shared.mkdir(exist_ok=True)
    return shared


@pytest.fixture(scope="session")
def outcomes(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """``outcomes(case) -> Outcome``. A test whose attack has no outcome yet claims it and
    the next unclaimed attacks the session selected (``BATCH`` in all; a claim is a file
    created with O_EXCL), runs them in parallel and publishes each outcome (a pickle,
    renamed into place); an attack claimed by another worker is waited for, running
    other unclaimed attacks meanwhile."""
    wanted = [
        case
        for case in CASES
        if _case_id(case)
        in {
            item.callspec.id
            for item in request.session.items
            if hasattr(item, "callspec") and item.originalname == "test_attack_is_contained"
        }
    ]
    shared = _shared_dir(tmp_path_factory)
    base = tmp_path_factory.mktemp("attacks")
    workers = 2 if os.environ.get("PYTEST_XDIST_WORKER") else 3

    def claim(case: tuple[Attack, bool]) -> bool:
        try:
            os.close(os.open(shared / f"{_case_id(case)}.claim", os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return False
        return True

    servers: queue.SimpleQueue[ForkServer] = queue.SimpleQueue()
    started: list[ForkServer] = []

    def one(case: tuple[Attack, bool]) -> None:
        attack, isolation = case
        try:
            server = servers.get_nowait()
        except queue.Empty:
            server = ForkServer(isolated_env(base / "server"), base)
            started.append(server)
        try:
            outcome = run_attack(attack, base / _case_id(case), isolation=isolation, server=server)
        finally:
            servers.put(server)
        tmp = shared / f"{_case_id(case)}.tmp"
        tmp.write_bytes(pickle.dumps(outcome))
        tmp.rename(shared / f"{_case_id(case)}.outcome")

    def run_batch(first: tuple[Attack, bool] | None) -> bool:
        batch = [first] if first is not None and claim(first) else []
        for case in wanted:
            if len(batch) >= BATCH:
                break
            if case is not first and claim(case):
                batch.append(case)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(one, batch))
        return bool(batch)

    def get(case: tuple[Attack, bool]) -> Outcome:
        result = shared / f"{_case_id(case)}.outcome"
        deadline = time.monotonic() + WAIT_S
        if not result.exists():
            run_batch(case)
        while not result.exists():
            assert time.monotonic() < deadline, f"{_case_id(case)}: no outcome after {WAIT_S} s"
            if not run_batch(None):
                time.sleep(0.1)
        return pickle.loads(result.read_bytes())

    yield get
    for server in started:
        server.close()


def test_corpus_is_big_and_covers_the_roads() -> None:
    assert len(ATTACKS) >= 60
    categories = {a.category for a in ATTACKS}
    for needed in (
        "dunder",
        "format",
        "frames",
        "builtins",
        "unicode",
        "modules",
        "classes",
        "match",
        "context",
        "filesystem",
        "environment",
        "network",
        "process",
        "protocol",
        "cpu",
        "memory",
        "recursion",
        "output",
        "subcalls",
        "hooks",
    ):
        assert needed in categories, needed
    for a in ATTACKS:
        assert a.expect in ("refused", "error", "restarted", "stopped", "ok", "any"), a.name
        assert a.technique and a.source, a.name


def _check_step(out: dict, expect: str, where: str) -> None:
    error = out.get("error") or ""
    if expect == "refused":
        assert error.startswith("Refused:"), f"{where}: expected a refusal, got {out}"
    elif expect == "error":
        assert error and not error.startswith("Refused:") and not out["restarted"], (
            f"{where}: expected an error the worker survived, got {out}"
        )
    elif expect == "stopped":  # by an error or by the wall-time limit, whichever comes first
        assert error and not error.startswith("Refused:"), f"{where}: expected a stop: {out}"
    elif expect == "restarted":
        assert out["restarted"] and "restarted" in error, f"{where}: expected a restart: {out}"
    elif expect == "ok":
        assert not error, f"{where}: expected the step to run, got {error[:500]}"


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=[_case_id(c) for c in CASES],
)
def test_attack_is_contained(case: tuple[Attack, bool], outcomes) -> None:
    attack, isolation = case
    o: Outcome = outcomes(case)
    where = f"{attack.name} ({attack.technique})"
    # The CLI ended with the final answer, within its limits, without a crash.
    assert o.exit_code == 0, f"{where}: exit {o.exit_code}\n{o.stderr[-2000:]}"
    assert o.record is not None, f"{where}: {o.notes}"
    assert o.wall_s < RUN_TIMEOUT_S, f"{where}: took {o.wall_s:.1f} s"
    assert "Traceback" not in o.stderr and "internal error" not in o.stderr, o.stderr[-2000:]
    if attack.final == FINAL_ANSWER:
        assert o.record["answer"] == FINAL_ANSWER, f"{where}: answer {o.record['answer'][:200]!r}"
    assert o.record["ended_by"] == "final"
    # The attack's step ended the way the corpus says.
    steps = o.outputs(1)
    assert steps, f"{where}: no step ran"
    _check_step(steps[0], attack.expect, where)
    if attack.expect_later:
        _check_step(o.outputs(2)[0], attack.expect_later, where + " [next step]")
    # Nothing got out.
    texts = o.step_texts()
    assert ESCAPE_MARKER not in texts, f"{where}: escaped\n{texts[:2000]}"
    assert PASSWD_MARKER not in texts, f"{where}: read /etc/passwd"
    assert not o.files_left, f"{where}: files appeared: {o.files_left}"
    assert o.connections == 0, f"{where}: {o.connections} connection(s) reached the listener"
    for channel, data in (("stdout", o.stdout), ("stderr", o.stderr)):
        assert SECRET_VALUE not in data, f"{where}: secret on {channel}"
    assert SECRET_VALUE.encode() not in o.runs_db, f"{where}: secret in the runs database"
    assert o.record["usage"]["sub_calls"] <= 64, f"{where}: sub-call budget overrun"
    # Memory and sizes stayed bounded.
    assert o.max_rss_mb < MEMORY_LIMIT_MB, f"{where}: max RSS {o.max_rss_mb:.0f} MB"
    assert len(o.stdout) < MAX_STDOUT_BYTES, f"{where}: {len(o.stdout):,} bytes of JSON"
    assert len(o.runs_db) < MAX_STDOUT_BYTES * 2, f"{where}: runs.db {len(o.runs_db):,} bytes"
    # The record (and --debug) say which sandbox layers held.
    iso = o.record["isolation"]
    assert iso["language"].startswith("ast guard")
    if isolation:
        assert "FALLBACK" not in o.stderr or iso["network"].startswith("none")
    else:
        assert iso["network"].startswith("none") and iso["filesystem"].startswith("none")
        assert "rlm: sandbox: FALLBACK, no network and no filesystem isolation" in o.stderr

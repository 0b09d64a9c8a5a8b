"""Regression tests for the holes the attack corpus found, one layer at a time (fast).

1. Positional class patterns (``case C(x)``) were a getattr with a run-time string.
2. FINAL_VAR outside code ran the model's ``__str__`` with no CPU limit and no error
   handling: the CLI died ("internal error: TimeoutError", "rlm: aborted").
3. An exception's message, FINDING fields and model-call prompts went back unbounded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rlm_cli.engine.budget import Budget, Limits
from rlm_cli.engine.events import RunObserver
from rlm_cli.engine.records import Turn, Usage
from rlm_cli.engine.subcalls import REFUSED_PROMPT_KEPT_CHARS, SubcallService
from rlm_cli.errors import PromptTooLong
from rlm_cli.llm.base import Completion, GenerationParams, Model
from rlm_cli.repl import guard
from rlm_cli.repl.session import ReplConfig, ReplSession
from rlm_cli.repl.worker import MAX_FINDINGS_PER_STEP, MAX_PROMPT_CHARS
from rlm_cli.store.contexts import ContextStore
from rlm_cli.store.inputs import expand_inputs

MATCH_GETATTR = """
t = type
d = '_' * 2
M = t('M', (type,), {d + 'instancecheck' + d: lambda s, o: True})
C = M('C', (), {d + 'match_args' + d: (d + 'globals' + d,)})
match llm_query:
    case C(g):
        print(g['os'])
"""


# -- 1. the language layer ---------------------------------------------------------------


def test_positional_class_pattern_is_refused() -> None:
    with pytest.raises(guard.Refused, match="positional class patterns"):
        guard.check(MATCH_GETATTR)


@pytest.mark.parametrize(
    "code",
    [
        "match x:\n    case str(s):\n        pass",
        "match x:\n    case int(n) | float(n):\n        pass",
        "match x:\n    case Point(x=0, y=yy):\n        pass",
        "match x:\n    case Point() as p:\n        pass",
    ],
)
def test_builtin_self_patterns_and_keyword_patterns_stay_allowed(code: str) -> None:
    guard.check(code)


@pytest.mark.parametrize(
    "code",
    [
        "str = C\nmatch x:\n    case str(s):\n        pass",
        "def f(str):\n    match x:\n        case str(s):\n            pass",
        "import json as str\nmatch x:\n    case str(s):\n        pass",
        "match x:\n    case str(a, b):\n        pass",
    ],
)
def test_self_pattern_with_a_rebound_builtin_is_refused(code: str) -> None:
    with pytest.raises(guard.Refused, match="positional class patterns"):
        guard.check(code)


def test_self_pattern_refused_when_an_earlier_step_rebound_the_name() -> None:
    code = "match x:\n    case str(s):\n        pass"
    with pytest.raises(guard.Refused):
        guard.check(code, bound_names={"str", "x"})


# -- 2 and 3. the worker, through a real session -----------------------------------------


@pytest.fixture(scope="module")
def context_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os

    home = tmp_path_factory.mktemp("ctx")
    old = os.environ.get("RLM_HOME")
    os.environ["RLM_HOME"] = str(home)
    try:
        log = home / "a.log"
        log.write_text("node01 ok\nnode02 ECC error\n")
        store = ContextStore()
        meta = store.ingest(expand_inputs([str(log)]))
        return store.root / meta["id"]
    finally:
        if old is None:
            os.environ.pop("RLM_HOME", None)
        else:
            os.environ["RLM_HOME"] = old


@pytest.fixture
def session(context_path: Path):
    calls: list[tuple[str, dict]] = []

    def handler(fn: str, args: dict) -> str:
        calls.append((fn, args))
        return "answer"

    s = ReplSession(context_path, handler, ReplConfig(step_timeout_s=2, max_output_chars=1000))
    s.calls = calls  # type: ignore[attr-defined]
    with s:
        yield s


def test_match_getattr_road_is_refused_in_the_worker(session: ReplSession) -> None:
    r = session.execute(MATCH_GETATTR)
    assert r.error and r.error.startswith("Refused:") and "os" not in r.stdout


def test_final_var_with_an_endless_str_restarts_and_says_why(session: ReplSession) -> None:
    session.execute(
        "class X:\n    def __str__(self):\n        while True:\n            pass\nx = X()"
    )
    found, why = session.get_var("x")
    assert not found and "step limit" in why and "restarted" in why
    assert session.execute("print(1 + 1)").stdout == "2\n"  # a fresh worker serves on


def test_final_var_with_a_raising_str_is_an_error_not_a_crash(session: ReplSession) -> None:
    session.execute("class X:\n    def __str__(self):\n        return 1 / 0\nx = X()\ny = 5")
    found, why = session.get_var("x")
    assert not found and "ZeroDivisionError" in why
    assert session.get_var("y") == (True, "5")  # same worker, variables kept
    assert session.get_var("nope") == (False, "")


def test_exception_message_is_bounded(session: ReplSession) -> None:
    r = session.execute("raise ValueError('A' * 10_000_000)")
    assert r.error and len(r.error) < 1200 and "characters cut" in r.error


def test_exception_with_endless_str_is_stopped(session: ReplSession) -> None:
    r = session.execute(
        "class E(Exception):\n    def __str__(self):\n        while True:\n            pass\nraise E()"
    )
    assert r.error  # the wall-time limit (2 s) comes before the 30 s of CPU
    assert session.execute("print('alive')").stdout == "alive\n"


def test_findings_are_bounded(session: ReplSession) -> None:
    r = session.execute("FINDING('n' * 10**6, 's' * 100, 'x' * 10**6, [1, 2])")
    f = r.findings[0]
    assert len(f["entity"]) < 300 and len(f["severity"]) < 250 and len(f["summary"]) < 2200
    assert "cut" in f["entity"] and f["lines"] == [1, 2]
    r = session.execute(
        f"for i in range({MAX_FINDINGS_PER_STEP + 5}):\n    FINDING('n', 'info', 's')"
    )
    assert len(r.findings) == MAX_FINDINGS_PER_STEP and "at most" in (r.error or "")


def test_oversized_prompts_never_leave_the_worker(session: ReplSession) -> None:
    n = MAX_PROMPT_CHARS + 1
    r = session.execute(
        f"for f in (lambda: llm_query('a' * {n}), lambda: llm_query_batched(['b' * {n // 2}] * 3),"
        f" lambda: rlm_query('q', 't' * {n})):\n"
        "    try:\n        f()\n    except ValueError as e:\n        print('refused', str(e)[:20])"
    )
    assert r.stdout.count("refused") == 3
    assert session.calls == []  # type: ignore[attr-defined]
    assert session.execute("print(llm_query('small'))").stdout == "answer\n"


# -- 3. the record of a refused sub-call ----------------------------------------------------


class _TinyWindow(Model):
    n_ctx = 512

    def complete(self, messages, params, on_text=None) -> Completion:  # pragma: no cover
        raise AssertionError("a prompt that does not fit must not be sent")


def test_refused_prompt_is_clipped_in_the_record() -> None:
    usage = Usage()
    service = SubcallService(
        _TinyWindow(),
        GenerationParams(max_tokens=64),
        "system",
        Budget(Limits(), usage),
        usage,
        RunObserver(),
    )
    service.turn = Turn(index=1)
    with pytest.raises(PromptTooLong):
        service.query("z" * 1_000_000)
    kept = service.turn.subcalls[0].prompt
    assert len(kept) < REFUSED_PROMPT_KEPT_CHARS + 200 and "characters cut" in kept


# -- 4. a worker that breaks the protocol (what an escaped worker could send) -------------

_FAKE_WORKER = r"""
import os, struct, sys, time
sys.path.insert(0, {root!r})
import orjson
from rlm_cli.repl.protocol import Channel
reply = os.dup(1)
ch = Channel(0, reply)
ch.recv()
ch.send({{"op": "ready", "pid": os.getpid(), "isolation": {{}}}})
msg = ch.recv()
junk = {junk!r}
if msg.get("code") == "ok":
    ch.send({{"op": "done", "stdout": "fine", "error": None, "final": None, "findings": []}})
else:
    os.write(reply, junk)
time.sleep(30)
"""

BAD_FRAMES = {
    "garbage bytes": b"\x00\x00\x00\x05nope!",
    "oversized header": b"\xff\xff\xff\xff",
    "json list": b"\x00\x00\x00\x02[]",
    "done with wrong types": b'\x00\x00\x00\x37{"op":"done","stdout":123,"final":{"value":["x"]},"x":1}',
    "finding with junk": b'\x00\x00\x00\x2e{"op":"done","findings":[{"entity":1,"lines":2}]}',
}


@pytest.mark.parametrize("junk", list(BAD_FRAMES.values()), ids=list(BAD_FRAMES))
def test_a_garbled_channel_restarts_the_worker_not_the_cli(
    junk: bytes, context_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import sys

    import rlm_cli.repl.session as session_mod

    body = junk[4:]
    if junk.startswith(b"\x00\x00\x00") and body[:1] in (b"{", b"["):
        junk = len(body).to_bytes(4, "big") + body  # keep the length honest
        json.loads(body)
    root = str(Path(session_mod.__file__).resolve().parents[2])
    code = _FAKE_WORKER.format(root=root, junk=junk)
    monkeypatch.setattr(session_mod, "worker_argv", lambda: [sys.executable, "-c", code])
    with ReplSession(context_path, lambda fn, a: "", ReplConfig(step_timeout_s=3)) as s:
        r = s.execute("anything")
        assert r.restarted and "restarted" in (r.error or ""), r
        assert s.execute("ok").stdout == "fine"  # the fresh worker is served normally


LYING_STR = (
    "class S(str):\n    def __len__(self):\n        return 0\n"
    "    def __getitem__(self, k):\n        return self\n"
)


def test_a_str_subclass_cannot_lie_its_way_past_the_bounds(session: ReplSession) -> None:
    n = MAX_PROMPT_CHARS + 10
    r = session.execute(
        LYING_STR
        + f"try:\n    llm_query(S('p' * {n}))\nexcept ValueError as e:\n    print('refused')\n"
        f"print(S('w' * {n}))\n"
        f"FINDING(S('e' * {n}), 'info', S('s' * {n}))\nFINAL(S('q' * {n}))"
    )
    assert r.error is None, r.error
    assert len(r.stdout) < 1200 and "refused" in r.stdout and r.cut > n
    assert session.calls == []  # type: ignore[attr-defined]
    assert len(r.findings[0]["entity"]) < 300 and len(r.findings[0]["summary"]) < 2200
    assert len(r.final["value"]) < 4_000_100 and "answer cut" in r.final["value"]


def test_absurd_cited_lines_do_not_crash_the_worker(session: ReplSession) -> None:
    session.execute("kept = 1")
    r = session.execute(
        "import itertools\n"
        "FINDING('n', 'info', 's', [10**30, float('inf'), 'x', 2, -1])\n"
        "FINDING('n', 'info', 's', itertools.count(1))"
    )
    assert r.error is None and not r.restarted, r
    assert r.findings[0]["lines"] == [2, -1] and r.findings[1]["lines"] == list(range(1, 51))
    assert session.get_var("kept") == (True, "1")


def test_lone_surrogates_do_not_kill_the_worker(session: ReplSession) -> None:
    session.execute("kept = 1\nbad = 'a' + chr(0xD800) + 'b'")
    r = session.execute(
        "print(bad)\nFINDING(bad, 'info', bad, [1])\nprint(llm_query(bad))\nFINAL(bad)"
    )
    assert not r.restarted and r.error is None, r
    assert r.stdout.startswith("a?b\n") and r.final["value"] == "a?b"
    assert r.findings[0]["entity"] == "a?b"
    assert session.calls[-1] == ("llm_query", {"prompt": "a?b"})  # type: ignore[attr-defined]
    r = session.execute("raise ValueError(bad)")
    assert "a?b" in (r.error or "") and not r.restarted
    assert session.get_var("bad") == (True, "a?b") and session.get_var("kept") == (True, "1")

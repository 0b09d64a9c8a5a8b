"""The REPL worker process: state, output capture, model calls, limits, restarts."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from rlm_cli.repl.session import ReplConfig, ReplSession
from rlm_cli.store.ingest import ingest_streams


@pytest.fixture
def session(tmp_path: Path):
    meta = ingest_streams(
        tmp_path, [("a.log", io.BytesIO(b"node01 ok\nnode09 ECC error\nnode09 ECC again\n"), None)]
    )
    calls: list[tuple[str, dict]] = []

    def handler(fn: str, args: dict):
        calls.append((fn, args))
        if fn == "llm_query":
            return "sub:" + args["prompt"][:10]
        if fn == "llm_query_batched":
            return [f"b{i}" for i in range(len(args["prompts"]))]
        raise RuntimeError("no such thing")

    s = ReplSession(
        tmp_path / meta["id"], handler, ReplConfig(max_output_chars=400, step_timeout_s=3)
    )
    s.start()
    s.calls = calls  # type: ignore[attr-defined]
    yield s
    s.close()


def test_runs_in_another_process_and_keeps_variables(session: ReplSession) -> None:
    r = session.execute("hits = context.grep('ECC')\nlen(hits)")
    assert r.error is None and r.stdout == "2\n"
    assert session.worker_pid and session.worker_pid != os.getpid()
    assert session.execute("print(hits[0][0])").stdout == "2\n"


def test_the_sandbox_is_on_and_reported(session: ReplSession) -> None:
    r = session.execute("import os")
    assert r.error.startswith("Refused:") and "'os'" in r.error
    assert session.isolation["language"].startswith("ast guard")
    assert "process" in session.isolation and "network" in session.isolation
    assert "AttributeError: context has no 'path'" in session.execute("context.path").error


def test_model_calls_are_served_by_the_parent(session: ReplSession) -> None:
    r = session.execute(
        "a = llm_query('hello world, how are you')\nb = llm_query_batched(['x', 'y'])\nprint(a, b)"
    )
    assert r.stdout == "sub:hello worl ['b0', 'b1']\n"
    assert [c[0] for c in session.calls] == ["llm_query", "llm_query_batched"]  # type: ignore[attr-defined]


def test_errors_in_model_calls_reach_the_code(session: ReplSession) -> None:
    r = session.execute("rlm_query('p', 't')")
    assert "no such thing" in r.error


def test_exception_comes_back_as_its_last_traceback_lines(session: ReplSession) -> None:
    r = session.execute("def f():\n    return 1 / 0\nf()")
    assert r.error.startswith("Traceback") and r.error.rstrip().endswith(
        "ZeroDivisionError: division by zero"
    )
    assert "worker.py" not in r.error
    assert session.execute("print('still alive')").stdout == "still alive\n"


def test_output_is_cut_head_and_tail(session: ReplSession) -> None:
    r = session.execute("for i in range(10000): print(i)")
    assert r.stdout_chars == sum(len(f"{i}\n") for i in range(10000))
    assert r.stdout.startswith("0\n1\n") and r.stdout.rstrip().endswith("9999")
    assert "characters cut" in r.stdout and r.cut > 0


def test_wall_time_limit_restarts_the_worker_and_says_what_was_lost(session: ReplSession) -> None:
    session.execute("x = 41")
    r = session.execute("while True:\n    pass")
    assert r.restarted and "wall-time" in r.error and "variables" in r.error
    assert "NameError" in session.execute("x").error
    assert session.execute("print(context.line_count)").stdout == "3\n"


def test_final_forms(session: ReplSession) -> None:
    assert session.execute("FINAL('node09')").final == {"kind": "FINAL", "value": "node09"}
    r = session.execute("FINAL_VAR('missing')")
    assert r.final is None and "no variable named 'missing'" in r.error
    session.execute("ans = {'node': 'node09'}")
    assert '"node09"' in session.execute("FINAL_VAR('ans')").final["value"]
    assert session.get_var("ans")[0] is True and session.get_var("nope") == (False, "")


def test_searches_take_a_template_row_or_a_compiled_regex(session: ReplSession) -> None:
    """The 1.5B model wrote ``context.count(t) for t in context.templates()``: a row."""
    row = "{'id': 3, 'count': 2, 'severity': 'error', 'pattern': 'node09 ECC <*>'}"
    r = session.execute(f"print(context.count({row}), len(context.grep({row})))")
    assert r.error is None and r.stdout.splitlines()[-1] == "2 2"
    r = session.execute("import re\nprint(len(context.grep(re.compile('ECC'))))")
    assert r.error is None and r.stdout == "2\n"
    # a compiled regex keeps its IGNORECASE
    r = session.execute("print(len(context.grep(re.compile('ecc', re.I))))")
    assert r.error is None and r.stdout == "2\n"
    # a row's template is literal text, not a regex: 'ECC|ok' is no alternation
    r = session.execute("print(context.count({'pattern': 'ECC|ok'}), context.count('ECC|ok'))")
    assert r.error is None and r.stdout.splitlines()[-1] == "0 3", r.stdout
    r = session.execute("context.grep(42)")
    assert r.error.endswith(
        "\nTypeError: context.grep() takes a regex string (or a row of context.templates()), "
        "not int"
    )

"""Every budget ends the run with one forced final-answer step, and says which ran out."""

from __future__ import annotations

LOOK = "print(context.count('ECC'))"


def _forced(d: dict) -> dict:
    last = d["trajectory"][-1]
    assert last["notes"] == ["forced final answer"]
    return last


def test_max_iterations(rlm) -> None:
    root = [rlm.code(f"{LOOK}\nx{i} = {i}") for i in range(3)] + ['FINAL("node02, forced")']
    r = rlm.ask(rlm.script(root), "--max-iterations", "3")
    assert r.rc == 0, r.stderr
    d = r.json
    assert d["ended_by"] == "max_iterations" and d["iterations"] == 3
    assert d["answer"] == "node02, forced"
    assert "used all 3 turns" in str(d["trajectory"][-1]) or _forced(d)
    assert "ended by budget (max_iterations)" in r.stderr


def test_max_subcalls(rlm) -> None:
    call = "print(llm_query('which node is worst? ' + context[0:800]))"
    root = [rlm.code(call), rlm.code(call + "\nprint('after')"), 'FINAL("node02")']
    r = rlm.ask(rlm.script(root, sub=["node02"]), "--max-subcalls", "1")
    assert r.rc == 0, r.stderr
    d = r.json
    assert "only 0 of 1 are left" in d["trajectory"][1]["outputs"][0]["error"]
    assert d["ended_by"] == "max_subcalls"
    assert d["usage"]["sub_calls"] == 1
    assert d["answer"] == "node02" and len(d["trajectory"]) == 3  # 2 turns + forced final
    _forced(d)


def test_max_tokens(rlm) -> None:
    root = [rlm.code(LOOK), 'FINAL("node02 by tokens")']
    r = rlm.ask(rlm.script(root), "--max-tokens", "500")
    d = r.json
    assert d["ended_by"] == "max_tokens" and d["iterations"] == 1
    assert d["answer"] == "node02 by tokens"
    _forced(d)


def test_max_tokens_also_refuses_subcalls_mid_turn(rlm) -> None:
    call = "print(llm_query('which node? ' + context[0:800]))"
    root = [rlm.code(call + "\n" + call), 'FINAL("done")']
    d = rlm.ask(rlm.script(root, sub=["node02 " * 300]), "--max-tokens", "1200").json
    assert "token budget is used up" in d["trajectory"][0]["outputs"][0]["error"]
    assert d["ended_by"] == "max_tokens"


def test_timeout(rlm) -> None:
    # The budget counts from the engine's start, worker start-up included: 5 s leave a
    # loaded machine room to reach the first root call, which then runs (60 s) until the
    # deadline stops it.
    root = [
        {"text": rlm.code(LOOK), "delay_s": 60},
        'FINAL("node02 in time")',
    ]
    r = rlm.ask(rlm.script(root), "--timeout", "5")
    d = r.json
    assert d["ended_by"] == "timeout" and d["iterations"] == 1
    assert d["answer"] == "node02 in time"


def test_max_depth_falls_back_to_a_plain_subcall(rlm) -> None:
    root = [
        rlm.code("a = rlm_query('which node?', context[0:len(context)])\nprint(a)"),
        "FINAL(a)",
    ]
    r = rlm.ask(rlm.script(root, sub=["node02 (sub-call)"]), "--max-depth", "1")
    d = r.json
    assert d["answer"] == "node02 (sub-call)"
    assert "depth limit" in "\n".join(d["notes"]) or "depth limit" in r.stderr
    assert d["trajectory"][0]["subcalls"][0]["kind"] == "llm_query"
    assert "children" not in d


def test_child_rlm_runs_below_max_depth_and_counts_in_parent_budget(rlm) -> None:
    root = [
        rlm.code(
            "part = context.lines(1, 20)\n"
            "a = rlm_query('which node has ECC errors?', '\\n'.join(part))\nprint(a)"
        ),
        rlm.code("print(context.count('ECC'), context.line_count)", "Child looks."),
        'FINAL("child: node02")',
        "FINAL(a)",
    ]
    r = rlm.ask(rlm.script(root), "--max-depth", "2")
    assert r.rc == 0, r.stderr
    d = r.json
    assert d["answer"] == "child: node02"
    (child,) = d["children"]
    assert child["depth"] == 1 and child["ended_by"] == "final"
    assert "2 20" in child["trajectory"][0]["outputs"][0]["stdout"]  # its own 20-line context
    assert child["context_id"] != d["context_id"]
    assert d["usage"]["root_calls"] == 4  # child root calls count in the parent's usage
    assert d["trajectory"][0]["subcalls"][0]["kind"] == "rlm_query"


def test_child_at_the_depth_limit_uses_llm_query(rlm) -> None:
    root = [
        rlm.code("a = rlm_query('which node?', context[0:400])\nprint(a)"),
        rlm.code("b = rlm_query('deeper?', 'x y z')\nprint(b)", "Child recurses."),
        'FINAL("child: " + b)',
        "FINAL(a)",
    ]
    d = rlm.ask(rlm.script(root, sub=["from sub"]), "--max-depth", "2").json
    assert d["answer"] == "child: from sub"
    assert d["children"][0]["trajectory"][0]["subcalls"][0]["kind"] == "llm_query"


def test_forced_final_written_as_code_still_gives_the_value(rlm) -> None:
    root = [
        rlm.code("verdict = 'node02: ' + str(context.count('ECC')) + ' ECC'"),
        rlm.code("FINAL(verdict)"),
    ]
    d = rlm.ask(rlm.script(root), "--max-iterations", "1").json
    assert d["ended_by"] == "max_iterations" and d["answer"] == "node02: 4 ECC"


def test_the_clock_can_start_before_the_run() -> None:
    """`rlm ask --timeout 20` counts from the command's start: loading the model and reading
    the log are part of the 20 s the user asked for."""
    import time

    from rlm_cli.engine.budget import Budget, Limits
    from rlm_cli.engine.records import Usage

    b = Budget(Limits(timeout_s=10), Usage(), started=time.monotonic() - 9.5)
    assert 0 < b.time_left() <= 0.5 and not b.should_stop()
    assert Budget(Limits(timeout_s=10), Usage()).time_left() > 9


def test_a_forced_answer_that_loops_keeps_its_passage_once(rlm) -> None:
    """The 1.5B model's forced answer wrote one two-sentence passage four times and began a
    fifth before its token limit."""
    passage = "The log holds many lines of the error template. The template does not name a host. "
    looping = 'FINAL("' + passage * 4 + 'The log holds many lines")'
    root = [rlm.code(f"{LOOK}\nx{i} = {i}") for i in range(3)] + [looping]
    r = rlm.ask(rlm.script(root), "--max-iterations", "3")
    assert r.rc == 0, r.stderr
    d = r.json
    assert d["answer"] == passage.strip()
    assert "the answer wrote one passage 4 times: kept once" in d["notes"]
    # a value the code computed is the answer as it is, repeats and all
    code = f"x = {passage!r} * 2"
    d = rlm.ask(rlm.script([rlm.code(f"{LOOK}\n{code}"), "FINAL_VAR(x)"])).json
    assert d["answer"] == passage * 2 or d["answer"] == (passage * 2).strip()

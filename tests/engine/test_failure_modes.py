"""Each way a small model breaks the loop, reproduced with a scripted trajectory through the
CLI, must end right: the run goes on (or ends by a named budget) with a real answer."""

from __future__ import annotations

import pytest

LOOK = 'hits = context.grep("ECC")\nprint(len(hits), hits[0])'


def _first_step(rlm, code: str) -> dict:
    """The first step's output record of a run whose first reply is ``code``."""
    return rlm.ask(rlm.script([rlm.code(code), 'FINAL("x")'])).json["trajectory"][0]["outputs"][0]


def _sshd_auth_failures(rlm, peers: list[str]) -> None:
    """A syslog of pam_unix root authentication failures on host combo, one per peer."""
    rlm.log.write_text(
        "".join(
            f"Jun 15 02:0{i}:59 combo sshd(pam_unix)[2088{i}]: authentication failure; "
            f"logname= uid=0 euid=0 tty=NODEVssh ruser= rhost={peer}  user=root\n"
            for i, peer in enumerate(peers)
        )
    )


def notes(d: dict) -> str:
    return "\n".join(d["notes"])


def _answered(rlm, code: str, answers: list[str], question: str) -> tuple[dict, str]:
    """One block of ``code``, then the final ``answers`` in turn: the run's JSON and the
    feedback after the first answer (the pushback, if there was one)."""
    d = rlm.ask(rlm.script([rlm.code(code), *answers]), question=question).json
    return d, d["trajectory"][1]["feedback"] if len(d["trajectory"]) > 1 else ""


def test_several_blocks_all_run_in_order(rlm) -> None:
    reply = (
        "Two steps.\n```repl\nn = context.count('ECC')\n```\nthen\n"
        "```python\nprint('count', n)\n```\n"
    )
    r = rlm.ask(rlm.script([reply, 'FINAL("node02")']))
    assert r.rc == 0, r.stderr
    d = r.json
    t1 = d["trajectory"][0]
    assert len(t1["code"]) == 2
    assert "count 4" in t1["outputs"][1]["stdout"]
    assert d["answer"] == "node02" and d["ended_by"] == "final"


def test_missing_closing_fence_still_runs(rlm) -> None:
    reply = "Counting.\n```repl\nprint('ecc', context.count('ECC'))"
    r = rlm.ask(rlm.script([reply, 'FINAL("node02")']))
    assert r.rc == 0, r.stderr
    assert "ecc 4" in r.json["trajectory"][0]["outputs"][0]["stdout"]


def test_final_inside_code_ends_with_its_value(rlm) -> None:
    reply = rlm.code(
        'worst = max({"node02": context.count("node02.*ECC")}.items(), key=lambda kv: kv[1])\n'
        'FINAL(f"{worst[0]} ({worst[1]} ECC errors)")'
    )
    d = rlm.ask(rlm.script([reply])).json
    assert d["answer"] == "node02 (4 ECC errors)" and d["ended_by"] == "final"


def test_final_of_a_variable_outside_code_means_its_value(rlm) -> None:
    root = [
        rlm.code('answer = "node02: " + str(context.count("ECC")) + " ECC errors"'),
        "FINAL(answer)",
    ]
    d = rlm.ask(rlm.script(root)).json
    assert d["answer"] == "node02: 4 ECC errors"


def test_final_expression_outside_code_is_evaluated(rlm) -> None:
    root = [rlm.code("n = context.count('ECC')"), 'FINAL(f"node02 with {n} errors")']
    assert rlm.ask(rlm.script(root)).json["answer"] == "node02 with 4 errors"


def test_final_var_of_missing_variable_is_told_and_run_goes_on(rlm) -> None:
    root = [
        rlm.code(LOOK),
        'FINAL_VAR("verdict")',
        rlm.code('FINAL_VAR("verdict")'),
        rlm.code('verdict = "node02"\nFINAL_VAR("verdict")'),
    ]
    r = rlm.ask(rlm.script(root))
    assert r.rc == 0, r.stderr
    d = r.json
    assert d["answer"] == "node02" and d["ended_by"] == "final"
    assert "no variable named verdict" in d["trajectory"][1]["feedback"]
    assert "no variable named 'verdict'" in d["trajectory"][2]["outputs"][0]["error"]
    assert d["iterations"] == 4


def test_plan_returned_as_answer_is_pushed_back_once(rlm) -> None:
    root = [
        'FINAL("I will grep the log for ECC errors and count them per node.")',
        rlm.code(LOOK),
        'FINAL("node02 has 4 ECC errors")',
    ]
    d = rlm.ask(rlm.script(root)).json
    assert d["answer"] == "node02 has 4 ECC errors"
    assert "look at the data first" in d["trajectory"][0]["feedback"].lower()
    assert "pushed back" in notes(d)


def test_an_answer_after_code_that_only_failed_is_pushed_back_once(rlm) -> None:
    failing = rlm.code("counts = {t: context.count(t) for t in [3, {'pattern': 'ECC'}]}")
    root = [
        failing,
        'FINAL("The error template is not found in the log map.")',
        rlm.code(LOOK),
        'FINAL("node02 has ECC errors")',
    ]
    d = rlm.ask(rlm.script(root)).json
    assert "TypeError" in d["trajectory"][0]["outputs"][0]["error"]
    assert "none of your code has printed a result yet" in d["trajectory"][1]["feedback"].lower()
    assert d["answer"] == "node02 has ECC errors"
    assert "no block had printed anything: pushed back once" in notes(d)
    # once: a second answer after failures stands
    failing_too = rlm.code("print(context.grep(42))")
    again = rlm.ask(rlm.script([failing, 'FINAL("A")', failing_too, 'FINAL("B")'])).json
    assert again["answer"] == "B" and again["ended_by"] == "final"
    # a block that ran without error and printed nothing is no failed code
    quiet = rlm.ask(rlm.script([rlm.code("hits = context.grep('ECC')"), 'FINAL("B")'])).json
    assert "printed anything" not in notes(quiet)
    # output printed before an error was seen: an answer on it stands
    printed_then_failed = rlm.code("print(context.count('ECC'))\nprint(context.grep(42))")
    seen = rlm.ask(rlm.script([printed_then_failed, 'FINAL("node02")'])).json
    assert seen["answer"] == "node02" and "printed anything" not in notes(seen)


def test_pushback_happens_only_once(rlm) -> None:
    root = ['FINAL("plan A")', 'FINAL("plan B")']
    d = rlm.ask(rlm.script(root)).json
    assert d["answer"] == "plan B" and d["ended_by"] == "final" and d["iterations"] == 2


def test_verification_loop_is_told_then_ended(rlm) -> None:
    same = rlm.code(LOOK, "Let me verify once more.")
    root = [same, same, 'FINAL("node02")']  # ended at the first re-sent block
    r = rlm.ask(rlm.script(root))
    assert r.rc == 0, r.stderr
    d = r.json
    assert "same code you already ran in turn 1" in d["trajectory"][1]["feedback"]
    assert d["trajectory"][1]["outputs"] == []  # not run again
    assert d["ended_by"] == "repeating"
    assert d["answer"] == "node02"  # from the one forced final step
    assert d["trajectory"][-1]["notes"] == ["forced final answer"]
    assert len(d["trajectory"]) == 3 and d["iterations"] == 2
    # a forced answer naming what no output showed is asked for once more
    d = rlm.ask(rlm.script([same, same, 'FINAL("node07 at 10.9.9.9")', 'FINAL("node02")'])).json
    assert d["answer"] == "node02" and d["ended_by"] == "repeating"
    assert "names 10.9.9.9, node07, seen in no output: asked again" in notes(d)
    assert d["trajectory"][-1]["reply"].count("FINAL(") == 2
    # and stands as the best guess, with a note, when the second answer is no better
    d = rlm.ask(rlm.script([same, same, 'FINAL("node07")', 'FINAL("node07 again")'])).json
    assert d["answer"] == "node07 again"
    assert notes(d).endswith("forced final answer names node07, seen in no output")
    # a forced answer copied from a template of the brief is asked for once more (Loghub
    # Hadoop: "msra-sa-<*>/<*>:<*>")
    d = rlm.ask(rlm.script([same, same, 'FINAL("node<*>")', 'FINAL("node02")'])).json
    assert d["answer"] == "node02"
    assert "forced final answer holds <*>, a template's wildcard: asked again" in notes(d)


def test_think_blocks_hidden_from_answer(rlm) -> None:
    root = [
        "<think>The user wants a node. I should grep.</think>\n" + rlm.code(LOOK),
        '<think>node02 has the most.</think>FINAL("node02")',
    ]
    d = rlm.ask(rlm.script(root)).json
    assert d["answer"] == "node02"
    assert "<think>" in d["trajectory"][0]["reply"]  # the trajectory keeps everything


def test_reply_cut_by_max_tokens_inside_code_is_not_run(rlm) -> None:
    long_code = rlm.code(
        "x = 1\n" + "y = [" + ", ".join(str(i) for i in range(200)) + "]\nprint(y)"
    )
    root = [long_code, rlm.code(LOOK), 'FINAL("node02")']
    r = rlm.ask(rlm.script(root), "--root-max-tokens", "40")
    assert r.rc == 0, r.stderr
    d = r.json
    t1 = d["trajectory"][0]
    assert t1["usage"]["finish_reason"] == "length"
    assert t1["outputs"] == []
    assert "40-token limit" in t1["feedback"]
    assert d["answer"] == "node02"


def test_no_code_and_no_final_gets_a_nudge(rlm) -> None:
    root = ["I think the answer is probably node02.", rlm.code(LOOK), 'FINAL("node02")']
    d = rlm.ask(rlm.script(root)).json
    assert "no ```repl block" in d["trajectory"][0]["feedback"]
    assert d["answer"] == "node02"


def test_many_tiny_batched_prompts_are_refused(rlm) -> None:
    root = [
        rlm.code(
            "answers = llm_query_batched([f'is this bad? {l}' for _, l in context.grep('node')])"
        ),
        rlm.code(LOOK),
        'FINAL("node02")',
    ]
    r = rlm.ask(rlm.script(root, sub=["no"]))
    d = r.json
    err = d["trajectory"][0]["outputs"][0]["error"]
    assert "too many tiny sub-calls" in err and "Batch by size" in err
    assert d["usage"]["sub_calls"] == 0


def test_many_tiny_llm_query_calls_in_one_step_are_stopped(rlm) -> None:
    root = [
        rlm.code("for n, l in context.grep('node0'):\n    llm_query('bad? ' + l)"),
        rlm.code(LOOK),
        'FINAL("node02")',
    ]
    d = rlm.ask(rlm.script(root, sub=["no"])).json
    assert "too many tiny sub-calls" in d["trajectory"][0]["outputs"][0]["error"]
    assert d["usage"]["sub_calls"] == 8  # the guard's default allowance, then refused


def test_sub_call_bigger_than_the_window_is_refused_with_advice(rlm) -> None:
    root = [
        rlm.code("print(llm_query('summarise: ' + context[0 : len(context)] * 10))"),
        rlm.code(LOOK),
        'FINAL("node02")',
    ]
    d = rlm.ask(rlm.script(root, sub=["x"]), "--n-ctx", "3072", "--root-max-tokens", "256").json
    err = d["trajectory"][0]["outputs"][0]["error"]
    assert "window" in err and "Split the text into pieces of about" in err
    assert d["usage"]["sub_calls"] == 0
    assert d["answer"] == "node02"


def test_budget_line_is_shown_each_turn(rlm) -> None:
    root = [
        rlm.code("print(llm_query('which node? ' + context[0:600]))"),
        rlm.code(LOOK),
        'FINAL("x")',
    ]
    d = rlm.ask(rlm.script(root, sub=["node02"]), "--max-subcalls", "5").json
    assert "turn 2/12 · 4 sub-calls left" in d["trajectory"][0]["feedback"]
    assert "turn 3/12 · 4 sub-calls left" in d["trajectory"][1]["feedback"]


def test_final_cut_by_max_tokens_is_not_accepted(rlm) -> None:
    long_final = 'FINAL("node02 ' + "because of many many ECC errors " * 10 + '")'
    root = [rlm.code(LOOK), long_final, 'FINAL("node02")']
    d = rlm.ask(rlm.script(root), "--root-max-tokens", "30").json
    assert "cut at the token limit" in d["trajectory"][1]["feedback"]
    assert d["answer"] == "node02" and d["ended_by"] == "final"


def test_literal_final_written_before_its_output_was_seen_is_not_taken(rlm) -> None:
    """A real 1.5B model wrote code and FINAL("...node09...") in one reply: the name came
    from the prompt, not from the output it had not yet seen."""
    reply = rlm.code(LOOK) + 'FINAL("node03 will fail")'
    d = rlm.ask(rlm.script([reply, 'FINAL("node02")'])).json
    assert d["answer"] == "node02" and d["ended_by"] == "final"
    feedback = d["trajectory"][0]["feedback"]
    assert "before you saw the output" in feedback and "ECC" in feedback
    assert "not accepted yet" in notes(d)


def test_literal_final_inside_code_after_a_print_is_not_taken(rlm) -> None:
    reply = rlm.code(LOOK + '\nFINAL("node03")')
    d = rlm.ask(rlm.script([reply, 'FINAL("node02")'])).json
    assert d["answer"] == "node02"
    assert "before you saw the output" in d["trajectory"][0]["feedback"]


def test_written_final_beside_new_code_stands_on_output_already_read(rlm) -> None:
    """The 1.5B model read the first 'not responding' line, then wrote print("<that time>")
    and FINAL("<that time>") in one reply: the answer stood on what it had read, so it is
    taken (the new print adds nothing it depends on). A name from the brief alone is not."""
    first = rlm.code('print(context.grep("node02", max=1))')
    reply = rlm.code('print("node02")') + 'FINAL("node02")'
    d = rlm.ask(rlm.script([first, reply])).json
    assert d["answer"] == "node02" and d["ended_by"] == "final", d["trajectory"][-1]
    assert "not accepted yet" not in notes(d)
    # the same reply as a first look: nothing was read yet, so it waits for the output
    d = rlm.ask(rlm.script([first + 'FINAL("node02")', 'FINAL("node02")'])).json
    assert "before you saw the output" in d["trajectory"][0]["feedback"]
    # beside a new search of the log: that search is a step whose output is not read yet
    search = rlm.code('print(context.grep("ECC", max=1))') + 'FINAL("node02")'
    d = rlm.ask(rlm.script([first, search, 'FINAL("node02")'])).json
    assert "before you saw the output" in d["trajectory"][1]["feedback"]
    assert d["answer"] == "node02" and d["iterations"] == 3


def test_computed_final_in_the_same_reply_is_taken(rlm) -> None:
    """A FINAL of a value the code computed depends on the data, not on unseen output."""
    reply = rlm.code('n = context.count("ECC")\nprint(n)') + "FINAL(n)"
    d = rlm.ask(rlm.script([reply])).json
    assert d["answer"] == "4" and d["ended_by"] == "final"


def test_final_with_findings_only_is_taken(rlm) -> None:
    reply = rlm.code('FINDING("node02", "error", "ECC errors", lines=[3])\nFINAL("node02")')
    d = rlm.ask(rlm.script([rlm.code(LOOK), reply])).json
    assert d["answer"] == "node02" and d["ended_by"] == "final"


def test_echoed_placeholder_final_is_refused(rlm) -> None:
    d = rlm.ask(rlm.script([rlm.code(LOOK), "FINAL(...)", 'FINAL("node02")'])).json
    assert d["answer"] == "node02"
    assert "placeholder" in d["trajectory"][1]["feedback"]


def test_repeated_code_shows_its_earlier_output(rlm) -> None:
    d = rlm.ask(rlm.script([rlm.code(LOOK), rlm.code(LOOK), 'FINAL("node02")'])).json
    feedback = d["trajectory"][1]["feedback"]
    assert "same code you already ran in turn 1" in feedback
    assert "Its output then was:" in feedback and "4 (" in feedback


def test_common_mistakes_get_a_one_line_hint(rlm) -> None:
    reply = rlm.code("for n, line in context:\n    pass")
    d = rlm.ask(rlm.script([reply, rlm.code(LOOK), 'FINAL("node02")'])).json
    err = d["trajectory"][0]["outputs"][0]["error"]
    assert "ValueError" in err and "hint: `for line in context` gives lines" in err
    # the 1.5B model unpacked top()'s rows as tuples (error-summary run)
    reply = rlm.code("for name, lines, a, b, c in context.top('ECC', by='host'):\n    pass")
    d = rlm.ask(rlm.script([reply, rlm.code(LOOK), 'FINAL("node02")'])).json
    assert (
        "rows of top(), templates(), entities() and rare() are dicts"
        in (d["trajectory"][0]["outputs"][0]["error"])
    )
    # the 1.5B model wrote its answer, a time, as the block: not Python, and it was lost
    d = rlm.ask(rlm.script([rlm.code(LOOK), rlm.code("2026-10-14 02:26:14"), 'FINAL("x")'])).json
    err = d["trajectory"][1]["outputs"][0]["error"]
    assert "SyntaxError" in err and 'if this text is your answer, reply FINAL("...")' in err


def test_modules_are_ready_without_import(rlm) -> None:
    code = 'print(Counter(re.findall(r"node\\d+", "node1 node1")), defaultdict(int), context.count("ECC"))'
    d = rlm.ask(rlm.script([rlm.code(code), 'FINAL("node02")'])).json
    out = d["trajectory"][0]["outputs"][0]
    assert out["error"] is None and "Counter({'node1': 2})" in out["stdout"]


def test_grep_takes_a_log_map_template_as_written(rlm) -> None:
    code = (
        'print(len(context.grep("EDAC MC<*>: <*> CE ECC error on DIMM_<*>")), context.count("ECC"))'
    )
    d = rlm.ask(rlm.script([rlm.code(code), 'FINAL("node02")'])).json
    out = d["trajectory"][0]["outputs"][0]
    assert out["error"] is None and out["stdout"].splitlines()[-1].split() == ["4", "4"], out


def test_a_search_that_finds_nothing_says_so(rlm) -> None:
    code = 'print(context.count("OOM Killer", ignore_case=True), len(context.grep("nothing here")))'
    d = rlm.ask(rlm.script([rlm.code(code), 'FINAL("node02")'])).json
    out = d["trajectory"][0]["outputs"][0]["stdout"]
    assert "[count: no line matches 'OOM Killer'" in out
    assert "[grep: no line matches 'nothing here'" in out and out.rstrip().endswith("0 0")


def test_a_search_in_other_words_shows_the_closest_lines(rlm) -> None:
    """The model grepped the question's phrasing; the log says it otherwise."""
    code = 'print(len(context.grep("correctable ECC errors on DIMM")))'
    d = rlm.ask(rlm.script([rlm.code(code), 'FINAL("node02")'])).json
    out = d["trajectory"][0]["outputs"][0]["stdout"]
    assert "the lines sharing most of its words are:" in out, out
    shown = out.split("are:\n")[1].split("\nIf one")[0].splitlines()
    assert len(shown) == 3 and all("node02" in x and "CE ECC error on DIMM_B2" in x for x in shown)
    assert out.rstrip().endswith("0")


def test_a_phrase_the_log_writes_with_other_separators_is_searched_as_the_log_writes_it(
    rlm,
) -> None:
    """The 1.5B model grepped 'OOM Killer' where the log says 'invoked oom-killer', read
    '0 lines' past the notice that named the pattern that matches, and answered 0. Now the
    search says so and gives that pattern's results instead."""
    kills = [
        f"2026-10-01T15:5{i}:58 cn19{i} kernel: java invoked oom-killer: order=0" for i in range(4)
    ]
    rlm.log.write_text("\n".join(kills + ["2026-10-01T16:00:00 cn1 sshd[9]: Accepted key"]) + "\n")
    code = 'hits = context.grep("OOM Killer", max=3)\nprint(len(hits), context.count("oom killer"))'
    d = rlm.ask(rlm.script([rlm.code(code), 'FINAL("4")'])).json
    out = d["trajectory"][0]["outputs"][0]["stdout"]
    assert "[grep: no line matches 'OOM Killer'; the log writes it with other separators: " in out
    assert 'results for r"OOM[-_ ]?Killer" (ignore_case=True) instead]' in out
    assert "more than 3 matching lines" in out  # the caller's own max still holds
    assert out.rstrip().endswith("3 4"), out
    assert d["answer"] == "4" and "pushed back" not in notes(d)
    # two parts joined by .* the other way round: the lines that hold both
    code = 'print(context.count("oom-killer.*java"))'
    out = rlm.ask(rlm.script([rlm.code(code), 'FINAL("4")'])).json["trajectory"][0]["outputs"][0]
    assert 'the log writes it the other way round: results for r"java.*oom-killer"' in out["stdout"]
    assert out["stdout"].rstrip().endswith("\n4")
    # another case; a backslash shown once, as the model would write it; max by position
    code = (
        'print(len(context.grep("JAVA INVOKED", False, 2)), context.count(r"java\\s+invoked\\.*x"))'
    )
    out = rlm.ask(rlm.script([rlm.code(code), 'FINAL("4")'])).json["trajectory"][0]["outputs"][0]
    assert out["error"] is None, out
    assert 'the log writes it in another case: results for r"JAVA INVOKED"' in out["stdout"]
    assert "more than 2 matching lines" in out["stdout"] and out["stdout"].rstrip().endswith("2 0")
    # the same words with other endings ("fall off" for "fallen off")
    rlm.log.write_text(
        "2026-09-09T05:54:58 cn243 kernel: NVRM: Xid 79, GPU has fallen off the bus.\n"
        "2026-09-09T05:55:00 cn1 sshd[9]: Accepted key\n"
    )
    code = 'print(context.grep("GPU.*fall off the bus"))'
    out = rlm.ask(rlm.script([rlm.code(code), 'FINAL("cn243")'])).json["trajectory"][0]
    stdout = out["outputs"][0]["stdout"]
    assert 'the log writes it with other word endings: results for r"GPU.*fall\\w* off' in stdout
    assert "1: 2026-09-09T05:54:58 cn243 kernel" in stdout, stdout


@pytest.mark.parametrize(
    ("log", "pattern", "notice", "line"),
    [
        # Loghub OpenSSH: the log's own words, parentheses included, read as a regex group
        (
            "Dec 10 06:55:46 LabSZ sshd[24200]: pam_unix(sshd:auth): authentication failure; "
            "rhost=173.234.31.186",
            "pam_unix(sshd:auth): authentication failure",
            "as plain text (its ( ) [ ] + ? are not regex there): results for "
            'r"pam_unix\\(sshd:auth\\): authentication failure"',
            "1: Dec 10 06:55:46 LabSZ",
        ),
        # Loghub HPC: "power supply" where the log writes "psu" (the word list is read
        # before the REPL's sandbox closes)
        (
            "1131566461 node-118 unix.hw state_change.unavailable 1131566461 1 psu failure",
            "power supply fail",
            'in other words for the same thing: results for r"psu fail"',
            "1: 1131566461 node-118",
        ),
        # Loghub Linux: a line copied from the brief with a field left out
        (
            "Jun 15 02:04:59 combo sshd(pam_unix)[20882]: authentication failure; logname= "
            "uid=0 euid=0 tty=NODEVssh ruser= rhost=220-135-151-1.hinet-ip.hinet.net  user=root",
            "tty=NODEVssh rhost=.* root",
            'with other text between its parts: results for r"tty=NODEVssh.*?rhost=.*.*?root"',
            "1: Jun 15 02:04:59 combo",
        ),
        # Loghub Linux: "authentication failure from" where the address is in rhost=; the
        # inflected form matched 23 klogind "Authentication failed from" lines instead
        (
            "Jun 15 02:04:59 combo sshd(pam_unix)[20882]: authentication failure; logname= "
            "uid=0 euid=0 tty=NODEVssh ruser= rhost=150.183.249.110  user=root\n"
            "Jun 30 20:53:04 combo klogind[19272]: Authentication failed from 163.27.187.39",
            "authentication failure from",
            'without little words at its start or end: results for r"authentication failure"',
            "1: Jun 15 02:04:59 combo",
        ),
    ],
)
def test_an_empty_search_is_tried_as_the_log_writes_it(rlm, log, pattern, notice, line) -> None:
    """The 1.5B model, on real logs, searched in words the log writes otherwise and
    concluded there was nothing, or sent the same search again."""
    rlm.log.write_text(log + "\nDec 10 06:55:48 LabSZ sshd[24200]: Connection closed\n")
    code = f"print(context.grep({pattern!r}, ignore_case=True))"
    out = rlm.ask(rlm.script([rlm.code(code), 'FINAL("x")'])).json["trajectory"][0]["outputs"]
    stdout = out[0]["stdout"]
    assert notice in stdout, stdout
    assert line in stdout


def test_a_search_with_also_is_written_the_logs_way_too(rlm) -> None:
    """The narrow reminder hands the model its own pattern with also="<host>": when that
    pattern needed another order to match, the narrowed search needs it too (the 1.5B
    model's r"bmc.*ip" matched nothing with also="cn080" and it searched on)."""
    rlm.log.write_text(
        "2026-10-27T12:13:24 cn033 ipmiseld[905]: cn033-bmc SEL: Session Activated\n"
        "2026-10-27T15:00:36 cn080 ipmiseld[905]: cn080-bmc SEL: Session Activated\n"
    )
    code = 'print(context.grep(r"bmc.*ip", ignore_case=True, also="cn080"))'
    out = rlm.ask(rlm.script([rlm.code(code), 'FINAL("x")'])).json["trajectory"][0]["outputs"]
    stdout = out[0]["stdout"]
    assert 'the other way round: results for r"ip.*bmc"' in stdout, stdout
    assert "2: 2026-10-27T15:00:36 cn080" in stdout and "cn033" not in stdout
    # a pattern that matches, on lines that do not hold the other one, says just that
    code = 'print(context.grep("Session", also="cn999"))'
    out = rlm.ask(rlm.script([rlm.code(code), 'FINAL("x")'])).json["trajectory"][0]["outputs"]
    assert (
        "[grep: 2 lines match 'Session' (ignoring case), none of them also 'cn999']"
        in (out[0]["stdout"])
    )


def test_nothing_found_after_a_search_with_close_lines_is_pushed_back_once(rlm) -> None:
    """The 1.5B model grepped 'OOM Killer' (the log says 'oom-killer'), was shown the close
    lines, and answered 0."""
    code = 'print(len(context.grep("correctable ECC errors on DIMM")))'
    d = rlm.ask(rlm.script([rlm.code(code), 'FINAL("0")', 'FINAL("0")'])).json
    pushback = d["trajectory"][1]["feedback"]
    assert '"none" is not shown yet' in pushback
    # the close lines come again: compaction may have summarised the turn that showed them
    assert pushback.count("CE ECC error on DIMM_B2") == 3, pushback
    assert "pushed back once" in notes(d)
    assert d["answer"] == "0" and d["ended_by"] == "final"  # once: then the answer stands
    # after a search that found something, "none" is an answer like any other
    d = rlm.ask(rlm.script([rlm.code(LOOK), 'FINAL("none of them fails")'])).json
    assert d["answer"] == "none of them fails" and "pushed back" not in notes(d)


def test_nothing_found_after_a_search_that_matched_nothing_is_pushed_back_once(rlm) -> None:
    """The 1.5B model grepped 'znode already exists' (the log says NodeExists), was shown no
    close line, and answered that no znode was found."""
    code = 'print(len(context.grep("znode already exists")))'
    d = rlm.ask(rlm.script([rlm.code(code), 'FINAL("No znode was found")', 'FINAL("none")'])).json
    pushback = d["trajectory"][1]["feedback"]
    assert "the log does not use\nthose words, not that there is none" in pushback, pushback
    assert "'nothing found' after a search that matched nothing: pushed back once" in notes(d)
    assert d["answer"] == "none" and d["ended_by"] == "final"


def test_an_empty_search_sharing_no_words_shows_the_lines_closest_to_the_question(rlm) -> None:
    """Zookeeper writes 'Error:KeeperErrorCode = NodeExists' where the 1.5B model grepped
    'znode already exists': no line shares those words; the question's do."""
    lines = [
        f"2015-07-29 19:{i:02d}:00 - INFO [main] - Accepted socket connection" for i in range(40)
    ]
    lines[23] = (
        "2015-07-29 19:23:00 - INFO [ProcessThread(sid:2 cport:-1)::PrepRequestProcessor@627] - "
        "Got user-level KeeperException when processing sessionid:0x34ed93485090001 "
        "type:create cxid:0x55b8bb0e zxid:0x100000010 txntype:-1 reqpath:n/a Error "
        "Path:/home/curi/.zookeeper Error:KeeperErrorCode = NodeExists for /home/curi/.zookeeper"
    )
    rlm.log.write_text("\n".join(lines) + "\n")
    question = "A client tried to create a znode that was already there and got an error back"
    code = 'print(len(context.grep("znode already exists")))\nprint(context.top("znode exists"))'
    script = rlm.script([rlm.code(code), 'FINAL("none")', 'FINAL("/home/curi/.zookeeper")'])
    d = rlm.ask(script, question=question).json
    out = d["trajectory"][0]["outputs"][0]["stdout"]
    assert "no line shares its words; the first lines of the kinds closest to the question" in out
    shown = next(ln for ln in out.splitlines() if ln.startswith("24: 2015-07-29 19:23:00 - INFO"))
    # cut in the middle between words: every word shown is a word of the line
    words = set(lines[23].split())
    assert " … " in shown and all(w in words for w in shown[4:].split() if w != "…"), shown
    assert out.count("24: 2015-07-29 19:23:00") == 2  # grep's notice and top's
    # a "none" after it is pushed back with that line, once
    assert d["trajectory"][1]["feedback"].count("24: 2015-07-29 19:23:00") == 1
    assert d["answer"] == "/home/curi/.zookeeper"


def test_count_says_its_number_in_words_a_few_times(rlm) -> None:
    """The 1.5B model printed len(hits), sample hits and count() on one screen and answered
    with a line number; the count now also says what it counted, in a sentence."""
    code = 'print(context.count("ECC"))\nfor i in range(8):\n    n = context.count("node0")'
    d = rlm.ask(rlm.script([rlm.code(code), 'FINAL("node02")'])).json
    out = d["trajectory"][0]["outputs"][0]["stdout"]
    assert out.splitlines()[:2] == ["[count: 4 lines match 'ECC']", "4"], out
    assert out.count("[count: ") == 5  # then quiet: a loop over hosts is not a wall of notices


def test_top_counts_matching_lines_per_host_in_one_call(rlm) -> None:
    code = 'print(context.top("ECC|fan", by="host"))'
    d = rlm.ask(rlm.script([rlm.code(code), 'FINAL("node02")'])).json
    out = d["trajectory"][0]["outputs"][0]
    assert out["error"] is None, out
    rows = [line.split() for line in out["stdout"].splitlines() if line.startswith("node0")]
    assert rows[0][:2] == ["node02", "4"] and rows[1][:2] == ["node03", "1"], out["stdout"]
    assert "[top: 5 lines match; 2 host names among them]" in out["stdout"]
    # the leader in words, under the table: small models misread rows
    assert (
        out["stdout"]
        .rstrip()
        .endswith("(most: node02 with 4 of the 5 matching lines; next: node03 with 1)")
    ), out["stdout"]


def test_a_long_close_line_keeps_its_end_in_view(rlm) -> None:
    """Loghub Hadoop: the close line was cut at 200 characters, before the DataNode it named
    at its end, so the answer was out of the model's sight."""
    line = (
        "2015-10-18 18:05:57,024 WARN [DataStreamer for file /tmp/hadoop-yarn/staging/"
        + "x" * 200
        + " block BP-1:blk_1] org.apache.hadoop.hdfs.DFSClient: Error Recovery for block in "
        "pipeline: bad datanode 10.86.164.15:50010"
    )
    rlm.log.write_text(line + "\n2015-10-18 18:06:00,000 INFO ok\n")
    code = 'print(context.grep("DataNode dropped from the write pipeline as bad"))'
    out = _first_step(rlm, code)
    stdout = out["stdout"]
    assert "bad datanode 10.86.164.15:50010" in stdout, stdout
    assert "2015-10-18 18:05:57,024 WARN" in stdout and " … " in stdout
    assert "context.line(1) prints a line whole" in stdout


def test_top_of_lines_that_name_no_host_ranks_the_kind_they_name(rlm) -> None:
    """Loghub BGL: the 1.5B model ranked "fatal" lines by host; Blue Gene nodes are rack
    positions, the lines named no host, and top said "0 lines match" (the case differed
    too); it sent the same call again and named the second line's node."""
    nodes = ["R04-M1-N4-I:J18-U11", "R30-M0-N9-C:J16-U01", "R30-M0-N9-C:J16-U01"]
    rlm.log.write_text(
        "".join(
            f"- 111786987{i} 2005.06.04 {node} 2005-06-04-00.24.3{i}.432192 {node} RAS KERNEL "
            f"FATAL data TLB error interrupt\n"
            for i, node in enumerate(nodes)
        )
    )
    code = 'print(context.top("fatal", by="host", n=3))'
    out = _first_step(rlm, code)
    stdout = out["stdout"]
    assert "the log writes it in another case" in stdout, stdout
    assert "(they name no host: ranked by rack, the kind they name most)" in stdout, stdout
    assert "most: R30-M0-N9-C:J16-U01 with 2 of the 3 matching lines" in stdout, stdout


def test_top_of_a_pattern_the_log_writes_otherwise_ranks_the_rewrite(rlm) -> None:
    """The 1.5B model ranked hosts by a pattern copied from a line with a field left out,
    got "0 lines match", and sent the same call again."""
    _sshd_auth_failures(rlm, ["10.9.9.9", "10.9.9.9", "10.1.1.1"])
    code = 'print(context.top("tty=NODEVssh rhost=.* root", by="ip"))'
    out = _first_step(rlm, code)
    assert (
        "[top: no line matches 'tty=NODEVssh rhost=.* root'; the log writes it with other "
        in (out["stdout"])
    )
    assert "most: 10.9.9.9 with 2 of the 3 matching lines" in out["stdout"], out["stdout"]
    # no way of writing it matches: the closest lines, as grep shows them
    code = 'print(context.top("link flap on port", by="host"))'
    out = _first_step(rlm, code)
    assert "[top: no line matches 'link flap on port'. The log may say it" in out["stdout"]


def test_top_host_ranks_remote_addresses_and_names_the_machine_on_every_line(rlm) -> None:
    """Loghub Linux: "which remote host racked up the most failed root logins" - top by
    host ranked combo, the machine that writes every line, first, and the 1.5B model
    answered combo; the remote peers were mostly IP addresses (``rhost=``), which top by
    host did not count. An address in a host's place now counts as a host; one elsewhere (a
    DHCP lease) stays an ip, which the line under the table points to."""
    _sshd_auth_failures(rlm, ["10.9.9.9", "10.9.9.9", "10.9.9.9", "bad.example.net", "10.1.1.1"])
    with rlm.log.open("a") as f:
        f.write("Jun 15 02:09:59 combo dhcpd[2231]: DHCPACK on 10.20.1.2 to aa:bb:cc:dd:ee:ff\n")
    code = 'print(context.top("authentication failure|DHCPACK", by="host"))\n'
    code += 'print(context.top("authentication failure|DHCPACK", by="ip"))\n'
    code += 'rows = context.top("authentication failure", by="host")\n'
    code += 'print("first and last rows:", rows[0][0], rows[-1][0])'
    stdout = _first_step(rlm, code)["stdout"]
    # the writer comes last: top(...)[0][0], taken unprinted, is the remote host (H21s1:
    # the 1.5B model answered combo, the syslog's own machine)
    assert "first and last rows: 10.9.9.9 combo" in stdout, stdout
    assert (
        "(combo is on every one of the 6 matching lines; most among the others: "
        "10.9.9.9 with 3 of the 6 matching lines; next: " in stdout
    ), stdout
    assert "10.20.1.2" not in stdout.split("[top: 6 lines match; 4 host names")[1].split("(")[0]
    assert (
        "(these lines also name 1 other ip address; most: 10.20.1.2 on 1 line: top(..., by='ip'))"
        in stdout
    ), stdout
    # by ip: the host named on every line is the log's own machine, not a pointer
    assert "most: 10.9.9.9 with 3 of the 6 matching lines; next: " in stdout
    assert "(these lines also name 1 other host name; most: bad.example.net on 1 line: top(" in (
        stdout
    ), stdout


def test_top_host_does_not_tie_the_remote_address_with_the_machine_writing_the_log(rlm) -> None:
    """A real run (Loghub Linux, 1.5B): klogind lines "Authentication failed from ADDR" all
    from one address; top by host printed "tied for most: combo, 163.27.187.39" and the
    model answered combo, the machine whose header is on every syslog line."""
    rlm.log.write_text(
        "".join(
            f"Jun 30 20:53:0{i} combo klogind[1927{i}]: Authentication failed from "
            "163.27.187.39 (163.27.187.39): Permission denied in replay cache code\n"
            for i in range(4)
        )
    )
    stdout = _first_step(rlm, 'print(context.top("Authentication failed", by="host"))')["stdout"]
    assert (
        "(combo is on every one of the 4 matching lines; most among the others: "
        "163.27.187.39 with 4 of the 4 matching lines)" in stdout
    ), stdout
    assert "tied" not in stdout, stdout


def test_a_written_answer_naming_what_no_output_showed_is_pushed_back(rlm) -> None:
    """The 1.5B model found the host, then wrote a BMC IP address it had never seen."""
    root = [
        rlm.code(LOOK),
        'FINAL("node02; its BMC is 10.1.2.3")',
        rlm.code('print(context.grep("node02")[:1])'),
        'FINAL("node02; its BMC is 10.1.2.3")',
        'FINAL("node02; its BMC is 10.1.2.3")',
    ]
    d = rlm.ask(rlm.script(root)).json
    assert "10.1.2.3, which appears in no output" in d["trajectory"][1]["feedback"]
    # pushed back at most twice a run; then the answer stands
    assert d["ended_by"] == "final" and d["answer"] == "node02; its BMC is 10.1.2.3"
    assert len([n for n in d["notes"] if "seen in no output" in n]) == 2


def test_an_address_from_the_first_lines_shown_is_pushed_back(rlm) -> None:
    """The 1.5B model, asked for a BMC's IP, wrote the host's own lease from the sample of
    first lines in its first message: an address is evidence when code printed it (or the
    question gives it), not when the brief or that sample shows it. Host names from the
    brief stand: it ranks them."""
    rlm.log.write_text(
        "2024-05-01T10:00:00 mgmt dhcpd: DHCPACK on 10.1.1.2 to aa:bb (node02)\n"
        + rlm.log.read_text()
    )
    d = rlm.ask(rlm.script([rlm.code(LOOK), *['FINAL("10.1.1.2")'] * 3])).json
    assert "10.1.1.2, which appears in no output of your\ncode" in d["trajectory"][1]["feedback"]
    d = rlm.ask(rlm.script([rlm.code(LOOK), 'FINAL("node01")'])).json
    assert d["ended_by"] == "final" and "seen in no output" not in notes(d)
    # an address the question gives is no invention
    d = rlm.ask(
        rlm.script([rlm.code(LOOK), 'FINAL("10.1.1.2 is node02")']), question="who is 10.1.1.2?"
    )
    assert d.json["ended_by"] == "final" and "seen in no output" not in notes(d.json)


def test_a_computed_answer_is_not_checked_for_grounding(rlm) -> None:
    reply = rlm.code('ip = "10.9.8.7"\nn = context.count("ECC")') + "FINAL(ip)"
    d = rlm.ask(rlm.script([reply])).json
    assert d["answer"] == "10.9.8.7" and d["ended_by"] == "final"


def _hadoop_like_log(rlm) -> None:
    lines = [
        f"2015-10-18 18:0{i // 60}:{i % 60:02d},100 INFO [main] org.apache.App: Progress of task {i}"
        for i in range(60)
    ]
    lines[5] = (
        "2015-10-18 18:00:05,557 INFO [main] org.apache.RMProxy: Connecting to ResourceManager "
        "at msra-sa-41/10.190.173.170:8030"
    )
    lines[20] = (
        "2015-10-18 18:00:20,139 ERROR [eventHandlingThread] org.apache.JobHistoryEventHandler: "
        "Error writing History Event for the application master"
    )
    lines[10] = lines[20].replace("ERROR", "INFO").replace(":20,139", ":10,139")
    for i in (40, 44, 52):
        lines[i] = (
            f"2015-10-18 18:00:{i},840 ERROR [RMCommunicator Allocator] "
            "org.apache.RMContainerAllocator: ERROR IN CONTACTING RM."
        )
    rlm.log.write_text("\n".join(lines) + "\n")


QUESTION_RM = "When did the application master first log an error talking to the ResourceManager?"


def test_an_answer_about_an_error_standing_on_an_info_line_is_pushed_back_once(rlm) -> None:
    """The 1.5B model grepped 'ResourceManager', found one INFO line and answered its time;
    the log's ERROR lines say 'ERROR IN CONTACTING RM'."""
    _hadoop_like_log(rlm)
    code = 'hits = context.grep("ResourceManager")\nprint("first:", hits[0])'
    answers = ['FINAL("2015-10-18 18:00:05,557")', 'FINAL("18:00:05")']
    d, pushback = _answered(rlm, code, answers, QUESTION_RM)
    assert "stands on (line 6) are logged at INFO level, not as errors" in pushback, pushback
    assert "41: 2015-10-18 18:00:40,840 ERROR" in pushback
    assert "[3 lines of this kind]" in pushback
    # in log order, whatever kind shares more of the question's words; the first line of a
    # kind logged as an error (line 11 is of the same kind, logged as INFO)
    assert pushback.index("\n21: 2015-10-18 18:00:20,139 ERROR") < pushback.index("\n41: ")
    assert "\n11: " not in pushback and "[2 lines of this kind]" in pushback, pushback
    assert "stands on lines logged below warning: pushed back once" in notes(d)
    assert d["answer"] == "18:00:05"  # once: then the answer stands
    # an answer from a line the pushback showed stands on what the model was shown
    answers = ['FINAL("2015-10-18 18:00:05,557")', 'FINAL("2015-10-18 18:00:40,840")']
    d, _ = _answered(rlm, code, answers, QUESTION_RM)
    assert d["answer"] == "2015-10-18 18:00:40,840"
    assert "seen in no output" not in notes(d), notes(d)


def test_an_answer_about_an_error_standing_on_an_error_line_is_taken(rlm) -> None:
    _hadoop_like_log(rlm)
    code = 'hits = context.grep("CONTACTING RM")\nprint("first:", hits[0])'
    script = rlm.script([rlm.code(code), 'FINAL("2015-10-18 18:00:40,840")'])
    d = rlm.ask(script, question=QUESTION_RM).json
    assert d["answer"] == "2015-10-18 18:00:40,840" and "pushed back" not in notes(d)
    # a question not about an error is not checked
    code = 'hits = context.grep("ResourceManager")\nprint("first:", hits[0])'
    script = rlm.script([rlm.code(code), 'FINAL("18:00:05")'])
    d = rlm.ask(script, question="When did the application master connect to the RM?").json
    assert d["answer"] == "18:00:05" and "pushed back" not in notes(d)


def test_an_answer_about_a_success_standing_on_failures_is_pushed_back_once(rlm) -> None:
    """Asked whether anybody managed to log in, the 1.5B model grepped 'Failed password for'
    and answered a failed login's user and address (Loghub OpenSSH, H15-H17)."""
    lines = [
        f"Dec 10 07:{i:02d}:45 LabSZ sshd[{24200 + i}]: Failed password for invalid user "
        f"test{i} from 52.80.34.{i} port 36060 ssh2"
        for i in range(40)
    ]
    lines[30] = (
        "Dec 10 07:30:20 LabSZ sshd[24439]: Accepted password for fztu from 119.137.62.142 "
        "port 49116 ssh2"
    )
    rlm.log.write_text("\n".join(lines) + "\n")
    question = "Did anybody actually manage to log in over ssh with a password? Which account?"
    code = 'hits = context.grep("Failed password for")\nprint(hits[:2])'
    answers = ['FINAL("test1 from 52.80.34.1")', 'FINAL("fztu from 119.137.62.142")']
    d, pushback = _answered(rlm, code, answers, question)
    assert "asks about a success, but the log lines your answer\nstands on (line 2)" in pushback
    assert "logged at WARNING level: failures" in pushback, pushback
    assert "31: Dec 10 07:30:20 LabSZ sshd[24439]: Accepted password for fztu" in pushback
    assert "stands on lines logged at warning or worse: pushed back once" in notes(d)
    assert d["answer"] == "fztu from 119.137.62.142"  # from the line the pushback showed
    assert "seen in no output" not in notes(d)
    # "none" after a search of the failures alone: shown the success lines once (H20s1:
    # "No evidence of successful login attempts found"); the answer then stands
    answers = ['FINAL("No: every login failed")', 'FINAL("No: every login failed")']
    d, pushback = _answered(rlm, code, answers, question)
    assert "Your answer says there was none, but the log has lines logged\nbelow warning" in (
        pushback
    ), pushback
    assert "31: Dec 10 07:30:20 LabSZ sshd[24439]: Accepted password for fztu" in pushback
    assert "the final answer says there was none: pushed back once" in notes(d)
    assert d["answer"] == "No: every login failed"


def test_an_answer_naming_the_runner_up_of_a_ranking_is_pushed_back_once(rlm) -> None:
    """Shown "most among the others: 150.183.249.110 with 80 ...; next: n219...netvigator.com
    with 23", the 1.5B model answered the runner-up's name with the leader's count (H18)."""
    _sshd_auth_failures(rlm, ["10.9.9.9", "10.9.9.9", "10.9.9.9", "bad.example.net", "10.1.1.1"])
    question = "Which remote host racked up the most failed root logins?"
    code = 'print(context.top("authentication failure", by="host"))'
    answers = ['FINAL("bad.example.net: 3 failures")', 'FINAL("10.9.9.9")']
    d, pushback = _answered(rlm, code, answers, question)
    assert "your answer names bad.example.net,\nwhich the ranking printed above puts second" in (
        pushback
    ), pushback
    assert "First is 10.9.9.9, with\n3 lines." in pushback, pushback
    assert "second in the ranking printed, not 10.9.9.9, its first: pushed back once" in notes(d)
    assert d["answer"] == "10.9.9.9"
    # the leader, or a question that does not ask for the most, is taken as it is
    d = rlm.ask(rlm.script([rlm.code(code), 'FINAL("10.9.9.9")']), question=question).json
    assert d["answer"] == "10.9.9.9" and "pushed back" not in notes(d)
    for other in (
        "Which remote host tried second most often?",
        "What is the most recent failure from bad.example.net?",
        "Did bad.example.net try the most?",  # the question names the runner-up itself
    ):
        d = rlm.ask(rlm.script([rlm.code(code), 'FINAL("bad.example.net")']), question=other)
        assert d.json["answer"] == "bad.example.net" and "pushed back" not in notes(d.json)


def test_an_answer_from_the_other_end_of_a_series_is_pushed_back_once(rlm) -> None:
    """Asked when nas01 last stopped responding, the 1.5B model printed the first and the
    last hit and answered the first (bench Q1 and Q3, timeline-10x)."""
    rlm.log.write_text(
        "".join(
            f"2026-10-1{d}T0{d}:00:00+00:00 cn19{d} kernel: nfs: server nas01 not responding\n"
            for d in range(1, 5)
        )
    )
    question = "When did the NFS server nas01 last stop responding? Give the date and time."
    code = (
        'hits = context.grep("not responding")\nprint("first:", hits[0])\nprint("last:", hits[-1])'
    )
    answers = ['FINAL("2026-10-11T01:00:00 (line 1)")', 'FINAL("2026-10-14T04:00:00")']
    d, pushback = _answered(rlm, code, answers, question)
    assert (
        "asks for the last one, and your answer is from\nthe line your code printed as first"
        in (pushback)
    ), pushback
    assert "(4, '2026-10-14T04:00:00+00:00 cn194 kernel: nfs" in pushback
    assert "is from the line printed as first: pushed back once" in notes(d)
    assert d["answer"] == "2026-10-14T04:00:00"
    # once: an answer from the first line again then stands
    answers = ['FINAL("2026-10-11T01:00:00")', 'FINAL("2026-10-11T01:00:00")']
    d, _ = _answered(rlm, code, answers, question)
    assert d["answer"] == "2026-10-11T01:00:00"

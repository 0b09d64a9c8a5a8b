"""Hints by kind of question, and findings made from what the final answer names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rlm_cli.engine.prompts import intent_for, load_intents
from rlm_cli.errors import ConfigError

LOOK = 'print(context.count("ECC"))'


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("which node will fail", "failing"),
        ("Which node is most likely to fail next, and why?", "failing"),
        ("Which node in this BMC event log is failing or about to fail?", "failing"),
        ("How many processes did the kernel OOM killer kill?", "count"),
        ("what is the number of reboots", "count"),
        ("Which host had the most failed SSH password attempts?", "most"),
        ("which switch port is the busiest", "most"),
        ("Which IP is behind the largest number of failed SSH logins?", "most"),
        ("Which node keeps having its power supply fail?", "most"),
        ("which disk throws read errors again and again", "most"),
        ("When did nas01 first stop responding?", "time"),
        ("what is the most recent error", "time"),
        ("Which host reported that its RAID battery failed?", "event"),
        ("which server logged a link down on eth1", "event"),
        ("One host had a kernel panic. What is the IP address of that host's BMC?", "two-step"),
        ("summarise this log", None),
    ],
)
def test_shipped_intents_read_the_kind_of_question(question: str, intent: str | None) -> None:
    found = intent_for(question)
    assert (found.name if found else None) == intent


def test_a_user_file_replaces_the_intents(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RLM_CONFIG_DIR", str(tmp_path))
    (tmp_path / "prompts").mkdir()
    mine = tmp_path / "prompts" / "intents.yaml"
    mine.write_text("- {name: disks, when: '\\bdisks?\\b', hint: 'Hint: grep for sd[a-z].'}\n")
    assert [i.name for i in load_intents()] == ["disks"]
    assert intent_for("which disk is slow").hint == "Hint: grep for sd[a-z]."
    assert intent_for("which node will fail") is None
    mine.write_text("- {name: bad, when: '(unclosed', hint: x}\n")
    with pytest.raises(ConfigError, match="intent 'bad': bad regex"):
        load_intents()
    mine.write_text("name: not a list\n")
    with pytest.raises(ConfigError, match="expected a list of intents"):
        load_intents()


def test_an_intents_step_reminder_goes_under_one_output(rlm, monkeypatch) -> None:
    cfg = rlm.config
    (cfg / "prompts").mkdir(parents=True)
    (cfg / "prompts" / "intents.yaml").write_text(
        "- {name: nodes, when: '\\bnode\\b', hint: 'Hint: rank them.', step: '(Rank first.)'}\n"
        "- {name: other, when: 'zzz', hint: 'Hint: none.'}\n"
    )
    monkeypatch.setenv("RLM_CONFIG_DIR", str(cfg))
    d = rlm.ask(rlm.script([rlm.code(LOOK), rlm.code("print(1)"), 'FINAL("node02")'])).json
    assert d["intent"] == "nodes"
    assert [t["feedback"].count("(Rank first.)") for t in d["trajectory"][:2]] == [1, 0]
    d = rlm.ask(rlm.script([rlm.code(LOOK), 'FINAL("x")']), question="zzz?").json
    assert d["intent"] == "other" and "(Rank first.)" not in d["trajectory"][0]["feedback"]
    (cfg / "prompts" / "intents.yaml").write_text(
        "- {name: nodes, when: node, hint: h, step: '(Go on with {{host}}.)'}\n"
    )
    grep = rlm.code('print(context.grep("ECC", max=1))')
    d = rlm.ask(rlm.script([rlm.code(LOOK), grep, rlm.code(LOOK + "+1"), 'FINAL("x")'])).json
    feedback = [t["feedback"] for t in d["trajectory"][:3]]
    assert "Go on with" not in feedback[0]  # a count names no host
    assert [f.count("(Go on with node02.)") for f in feedback[1:]] == [1, 0]
    (cfg / "prompts" / "intents.yaml").write_text("- {name: a, when: b, hint: c, step: [1]}\n")
    with pytest.raises(ConfigError, match="intent 'a': step must be text"):
        load_intents()


def test_two_step_reminders_narrow_a_search_to_the_host_then_ask_for_its_value(
    rlm, monkeypatch
) -> None:
    """The 1.5B model, told to search cn149's own lines, grepped "bmc" alone: the reminder
    under that output joins its own pattern to the host's name, as code."""
    (rlm.config / "prompts").mkdir(parents=True)
    (rlm.config / "prompts" / "intents.yaml").write_text(
        "- {name: two, when: node, hint: h, step: '(Host {{host}}.)',"
        " narrow: '(Try {{pattern}} with {{host}}.)', read: '(Read {{host}}.)'}\n"
    )
    monkeypatch.setenv("RLM_CONFIG_DIR", str(rlm.config))
    found = rlm.code('print(context.grep("ECC", max=1))')  # names node02
    wide = rlm.code("print(context.grep(r'fan|heartbeat', max=1))")  # nor do its lines
    named = rlm.code('print(context.grep("node02.*DIMM", max=1))')
    d = rlm.ask(rlm.script([found, wide, named, rlm.code(LOOK), 'FINAL("x")'])).json
    feedback = [t["feedback"] for t in d["trajectory"][:4]]
    assert "(Host node02.)" in feedback[0] and "(Try" not in feedback[0]
    assert "(Try r'fan|heartbeat' with node02.)" in feedback[1]  # its string as written
    assert not any("(Try" in f for f in feedback[2:])  # once
    # then the lines of the host: asked for the value on them, once
    assert [f.count("(Read node02.)") for f in feedback] == [0, 0, 1, 0]
    # a search that names the host needs no reminder
    d = rlm.ask(rlm.script([found, named, wide, 'FINAL("x")'])).json
    assert "(Try" not in d["trajectory"][1]["feedback"]
    # nor one whose output shows the host's lines already: those are to be read (the 1.5B
    # model had cn034-bmc's lease on screen, was told to narrow, and ran the same search
    # twice more)
    shows = rlm.code("print(context.grep(r'DIMM|heartbeat', max=2))")  # line 2: node02
    d = rlm.ask(rlm.script([found, shows, 'FINAL("x")'])).json
    assert "(Read node02.)" in d["trajectory"][1]["feedback"]
    assert "(Try" not in d["trajectory"][1]["feedback"]


def test_a_resend_under_the_step_reminder_gets_it_again_instead_of_ending_the_run(
    rlm, monkeypatch
) -> None:
    """The 1.5B model re-sent its first search under "search cn034's own lines next"; the
    run ended by repeating and the forced answer, which cannot search, said "not found"."""
    (rlm.config / "prompts").mkdir(parents=True)
    (rlm.config / "prompts" / "intents.yaml").write_text(
        "- {name: two, when: node, hint: h, step: '(Host {{host}}.)'}\n"
    )
    monkeypatch.setenv("RLM_CONFIG_DIR", str(rlm.config))
    found = rlm.code('print(context.grep("ECC", max=1))')  # names node02
    named = rlm.code('print(context.grep("node02.*DIMM", max=1))')
    d = rlm.ask(rlm.script([found, found, named, 'FINAL("x")'])).json
    assert d["ended_by"] == "final" and d["answer"] == "x"
    feedback = [t["feedback"] for t in d["trajectory"][:3]]
    assert [f.count("(Host node02.)") for f in feedback] == [1, 1, 0]
    assert "[not run]" in feedback[1]
    # once: a second re-send ends the run as before
    d = rlm.ask(rlm.script([found, found, found, 'FINAL("x")'])).json
    assert d["ended_by"] == "repeating" and len(d["trajectory"]) == 4
    # not when the host's own lines were searched already: then the re-send is a stall
    d = rlm.ask(rlm.script([found, named, named, 'FINAL("x")'])).json
    assert d["ended_by"] == "repeating"
    assert "(Host node02.)" not in d["trajectory"][2]["feedback"]


def test_the_run_records_its_intent_and_a_task_replaces_it(rlm) -> None:
    d = rlm.ask(rlm.script([rlm.code(LOOK), 'FINAL("node02")'])).json
    assert d["intent"] == "failing"
    model = rlm.script([rlm.code(LOOK), 'FINAL("node02")'])
    r = rlm("ask", str(rlm.log), "--task", "which-node-fails", "--model", model, "--json")
    assert r.rc == 0, r.stderr
    assert "intent" not in r.json


def test_an_answer_naming_a_troubled_entity_makes_a_finding(rlm) -> None:
    """node02 logs correctable ECC errors (warning); node01 only heartbeats."""
    r = rlm.ask(rlm.script([rlm.code(LOOK), 'FINAL("node02: ECC errors on DIMM_B2")']))
    [f] = r.json["findings"]  # DIMM_B2 is named too, but its lines are node02's: not again
    assert f["source"] == "answer" and f["entity"] == "node02" and f["severity"] == "warning"
    assert f["summary"] == "ECC errors on DIMM_B2" and f["verified"]
    assert all("node02" in e["text"] and "ECC" in e["text"] for e in f["evidence"])
    assert r.rc == 0  # a warning is below the default --fail-on error
    r = rlm.ask(rlm.script([rlm.code(LOOK), 'FINAL("node02: ECC errors")']), "--fail-on", "warning")
    assert r.rc == 1
    d = rlm.ask(rlm.script([rlm.code(LOOK), 'FINAL("node01 is fine")'])).json
    assert d["findings"] == []


def test_an_entity_the_model_recorded_is_not_recorded_twice(rlm) -> None:
    reply = rlm.code('FINDING("node02", "error", "ECC", lines=[2])\nFINAL("node02 fails")')
    d = rlm.ask(rlm.script([rlm.code(LOOK), reply])).json
    assert [(f["entity"], f["source"]) for f in d["findings"]] == [("node02", "model")]


def test_shipped_examples_use_only_real_functions_and_output_shapes() -> None:
    """Each intent's worked example calls functions the REPL has, and prints what they print."""
    from rlm_cli.repl.view import MAP_API
    from rlm_cli.store.context import MODEL_API

    known = set(MAP_API) | set(MODEL_API)
    for intent in load_intents():
        called = set(re.findall(r"context\.(\w+)\(", intent.example + intent.hint))
        assert called <= known, (intent.name, called - known)
        if "context.count(" in intent.example:
            assert "[count: " in intent.example  # the notice count() really prints
        if "context.entities(" in intent.example:
            assert "(most concerning: " in intent.example


def test_a_forced_answer_makes_no_finding(rlm) -> None:
    """A best guess after the budget ran out is not a verdict on the hosts it lists."""
    d = rlm.ask(
        rlm.script([rlm.code(LOOK), 'FINAL("node02: ECC errors")']), "--max-iterations", "1"
    ).json
    assert d["ended_by"] == "max_iterations" and "node02" in d["answer"]
    assert d["findings"] == []


def test_an_answer_listing_many_entities_records_three_at_most(tmp_path: Path) -> None:
    from rlm_cli.engine.answer_findings import MAX_ENTITIES, answer_findings

    class Map:
        entities = [
            {"names": [f"n{i}"], "key": f"n{i}", "severities": {"error": 1}, "severe_lines": [i]}
            for i in range(1, 7)
        ]

    found = answer_findings("n1, n2, n3, n4 and n5 all fail", Map(), [])  # type: ignore[arg-type]
    assert [f["entity"] for f in found] == ["n1", "n2", "n3"] and MAX_ENTITIES == 3
    assert all(f["severity"] == "error" and f["source"] == "answer" for f in found)


def test_an_answer_that_is_only_the_name_gets_a_summary_that_says_so() -> None:
    from rlm_cli.engine.answer_findings import answer_findings

    class Map:
        entities = [{"names": ["n1"], "key": "n1", "severities": {"fatal": 2}, "severe_lines": [4]}]

    [f] = answer_findings("n1", Map(), [])  # type: ignore[arg-type]
    assert f["summary"] == "named in the answer; its lines reach critical"


def test_the_shipped_narrow_reminder_is_code_that_runs(rlm) -> None:
    """What the model is told to copy must run and keep only the host's lines."""
    from rlm_cli.engine.prompts import fill

    [two_step] = [i for i in load_intents() if i.name == "two-step"]
    reminder = fill(two_step.narrow, host="node02", pattern='r"ECC|heartbeat"')
    code = next(line for line in reminder.splitlines() if line.startswith("print("))
    d = rlm.ask(rlm.script([rlm.code(code), 'FINAL("x")'])).json
    out = d["trajectory"][0]["outputs"][0]
    assert out["error"] is None, out
    shown = [line for line in out["stdout"].splitlines() if line[:1].isdigit()]
    assert shown and all("node02" in line for line in shown), out["stdout"]

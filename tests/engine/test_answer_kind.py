"""The kind of value a question asks for, and answers that give none of it."""

from __future__ import annotations

import pytest

from rlm_cli.engine.answer_kind import (
    FIND_IT,
    asked_kind,
    asked_kinds,
    how_to_find,
    kind_line,
    lacks_asked_kind,
)

LOOK = 'hits = context.grep("ECC")\nprint(len(hits), hits[0])'
MOST_AND_HOW_MANY = "Which IP address made the most failed password attempts, and how many?"


def notes(d: dict) -> str:
    return " | ".join(d["notes"])


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many processes did the OOM killer kill?", "a number"),
        ("how many IP addresses were banned?", "a number"),  # a count of them: a number
        ("Which IP is behind the largest number of failed logins?", "an IP address"),
        ("Which host has the highest count of errors?", ""),
        ("What is the IP address of that host's BMC?", "an IP address"),
        ("Which IP made the most failed logins?", "an IP address"),
        ("When did the NFS server first stop responding?", "a time"),
        ("The backup job: when was it last run?", "a time"),
        ("At what time did cn3 reboot?", "a time"),
        ("Which node will fail?", ""),
        ("Which host rebooted while the power was out?", ""),
        ("Is the ship in danger?", ""),  # "ship": no IP in it
        ("What is that DataNode's hostname?", "a hostname"),
        ("Which host names logged in?", "a hostname"),
        ("What IP address did hostname web01 resolve to?", "an IP address"),
        ("How many hostnames appear?", "a number"),
        ("When did hostname cn034 fail?", "a time"),
        ("Summarise the errors: what kinds, how often, which hosts.", ""),  # not one value
    ],
)
def test_the_kind_a_question_asks_for(question, kind) -> None:
    assert asked_kind(question) == kind


def test_a_question_asking_two_things_asks_both_kinds() -> None:
    assert asked_kinds(MOST_AND_HOW_MANY) == ["an IP address", "a number"]
    # each kind is pushed back once: the address given, the count still missing
    assert lacks_asked_kind(MOST_AND_HOW_MANY, "unknown", ["an IP address"]) == "a number"
    assert lacks_asked_kind(MOST_AND_HOW_MANY, "unknown", ["an IP address", "a number"]) == ""
    assert kind_line(MOST_AND_HOW_MANY).startswith(
        "The question asks for an IP address and a number"
    )
    assert asked_kinds("Which host, and when?") == ["a time"]


@pytest.mark.parametrize(
    ("question", "answer", "lacks"),
    [
        ("What is the IP of that host's BMC?", "cn149", "an IP address"),
        ("What is the IP of that host's BMC?", "10.20.37.184 (cn149-bmc)", ""),
        ("What is the IP of that host's BMC?", "fe80::1 on cn149", ""),
        ("How many OOM kills?", "none were logged", ""),
        ("How many OOM kills?", "23", ""),
        ("How many OOM kills?", "the OOM killer killed java", "a number"),
        ("When did nas01 stop responding?", "2026-10-12T21:57:43+00:00", ""),
        ("When did nas01 stop responding?", "Oct 12 21:57:43", ""),
        ("When did nas01 stop responding?", "nas01 stopped responding", "a time"),
        ("Which node fails?", "node09", ""),
        ("What is that DataNode's hostname?", "10.190.173.170", "a hostname"),
        ("What is that DataNode's hostname?", "10.190.173.170:50010 (bad datanode)", "a hostname"),
        ("What is that DataNode's hostname?", "msra-sa-41 (10.190.173.170)", ""),
        ("Which host name did cn1's BMC get?", "cn1-bmc", ""),
        ("Which hostname?", "combo", ""),  # no address: a name without digits is taken
        # two clauses, two kinds: the 1.5B model answered the count alone (OpenSSH 2k)
        (MOST_AND_HOW_MANY, "520", "an IP address"),
        (MOST_AND_HOW_MANY, "173.234.31.186, with 80 failed attempts", ""),
        (MOST_AND_HOW_MANY, "183.62.140.253", "a number"),  # an address's digits count nothing
        ("How many failed logins came from 10.0.0.5?", "10.0.0.5", "a number"),
        ("How many IP addresses were banned?", "12", ""),  # one clause: a count of them
        ("When did nas01 stop responding, and which host noticed?", "at 21:57:43", ""),
    ],
)
def test_an_answer_without_the_kind_asked_for(question, answer, lacks) -> None:
    assert lacks_asked_kind(question, answer) == lacks


def test_an_answer_without_the_kind_asked_for_is_pushed_back_once(rlm) -> None:
    """Asked for the BMC's IP, the 1.5B model answered with the host it had found."""
    question = "What is the IP address of node02's BMC?"
    d = rlm.ask(
        rlm.script([rlm.code(LOOK), 'FINAL("node02")', 'FINAL("node02")']), question=question
    )
    d = d.json
    assert (
        "The question asks for an IP address, and your answer gives none"
        in (d["trajectory"][1]["feedback"])
    )
    assert "pushed back once" in notes(d)
    assert d["answer"] == "node02" and d["ended_by"] == "final"  # once: then it stands


def test_an_address_where_a_hostname_was_asked_is_sent_to_look_the_name_up(rlm) -> None:
    """Asked for a DataNode's hostname, the 1.5B model answered its address, and the same
    address again when told only that a hostname was asked."""
    rlm.log.write_text(
        "2015-10-18 18:01:53 INFO Connecting to ResourceManager at msra-sa-41/10.190.173.170:8030\n"
        "2015-10-18 18:05:57 WARN Error Recovery for block in pipeline 10.86.169.121:50010, "
        "10.190.173.170:50010: bad datanode 10.190.173.170:50010\n"
    )
    question = "Which DataNode was dropped as bad? What is that DataNode's hostname?"
    look = 'print(context.grep("bad datanode"))'
    script = rlm.script([rlm.code(look), 'FINAL("10.190.173.170")', 'FINAL("msra-sa-41")'])
    d = rlm.ask(script, question=question).json
    feedback = d["trajectory"][1]["feedback"]
    assert "The question asks for a hostname, and your answer gives none." in feedback
    assert "find the name the log gives 10.190.173.170 with code" in feedback
    assert 'print(context.grep(r"10\\.190\\.173\\.170", max=10))' in feedback, feedback
    assert d["answer"] == "msra-sa-41"  # the log's head, shown in the first message, names it


def test_how_to_find_a_kind_without_a_lead() -> None:
    assert how_to_find("a number", "many") == FIND_IT
    # the address that ranks first is ranked, not looked for in the first hits printed
    assert 'context.top(PATTERN, by="ip")' in how_to_find("an IP address", "520", MOST_AND_HOW_MANY)
    searched = 'r"Failed password for"'
    assert "context.top(" in how_to_find("a number", "183.62.140.253", MOST_AND_HOW_MANY, searched)
    assert how_to_find("a number", "many", "How many IPs failed the most?") == FIND_IT
    assert 'print(context.top(r"Failed password for", by="ip"))' in how_to_find(
        "an IP address", "520", MOST_AND_HOW_MANY, searched
    )
    assert how_to_find("an IP address", "cn149", "What is the IP of cn149's BMC?") == FIND_IT
    assert how_to_find("a hostname", "combo or cn1") == FIND_IT


def test_the_forced_final_question_names_the_kind_asked_for() -> None:
    """A forced answer pasted a SEL line where an IP address was asked for."""
    from rlm_cli.engine.answer_kind import kind_line as _kind_line
    from rlm_cli.engine.prompts import fill, load_prompts

    template = load_prompts("root")["final_user"]
    text = fill(
        template,
        reason="",
        question="What is the IP of cn1's BMC?",
        kind=_kind_line("What is the IP of cn1's BMC?"),
    )
    assert "The question asks for an IP address: give it. Reply with FINAL(" in text
    plain = fill(template, reason="", question="Which node fails?", kind=_kind_line("x"))
    assert "\nReply with FINAL(" in plain


def test_an_answer_holding_a_template_wildcard_is_pushed_back_once(rlm) -> None:
    """On a real Hadoop log the 1.5B model answered 'msra-sa-<*>/<*>:<*>', a brief's template."""
    d = rlm.ask(rlm.script([rlm.code(LOOK), 'FINAL("node<*>")', 'FINAL("node<*>")'])).json
    assert "a wildcard from the brief's templates" in d["trajectory"][1]["feedback"]
    assert "template's <*>: pushed back once" in notes(d)
    assert d["answer"] == "node<*>" and d["ended_by"] == "final"  # once: then it stands


def test_a_computed_answer_holding_template_patterns_is_taken(rlm) -> None:
    """An error summary built by code from the log map's rows holds their patterns' <*>:
    that is what the data says, not a value left unlooked-up."""
    code = "summary = \"\\n\".join(f\"{r['count']} x {r['pattern']}\" for r in context.templates(top=2))\nprint(summary)"
    d = rlm.ask(rlm.script([rlm.code(code), 'FINAL_VAR("summary")'])).json
    assert "<*>" in d["answer"] and "pushed back" not in notes(d), notes(d)

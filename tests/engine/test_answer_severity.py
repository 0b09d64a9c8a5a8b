"""Which printed lines an answer stands on, and which questions ask about an error."""

from __future__ import annotations

import pytest

from rlm_cli.engine.answer_severity import (
    asked_outcome,
    asks_about_error,
    denies_success,
    printed_lines,
    standing_lines,
)


@pytest.mark.parametrize(
    ("question", "asks"),
    [
        ("When did the master first log an error talking to the RM?", True),
        ("which node will fail", True),
        ("Which storage domain panicked?", True),
        ("How many times did a DataNode run into an exception?", True),
        ("Which failed logins came from abroad?", True),
        ("When was this machine booted?", False),
        ("Which client IP was served most often?", False),
        ("What is the errand log about?", False),
    ],
)
def test_questions_about_errors(question: str, asks: bool) -> None:
    assert asks_about_error(question) is asks


def test_printed_lines_of_a_list_printed_on_one_line() -> None:
    out = ["[(3, '10:00 INFO login from 10.1.1.1'), (7, \"10:05 ERROR it's 10.1.1.1\")]"]
    assert printed_lines(out) == {
        3: "10:00 INFO login from 10.1.1.1",
        7: "10:05 ERROR it's 10.1.1.1",
    }
    # a pair cut at the output's end still counts; line 0 is no log line
    assert printed_lines(["(12, '10:00 INFO a very long li", "0: a count of zero"]) == {
        12: "10:00 INFO a very long li"
    }


def test_printed_lines_in_both_forms_the_repl_prints() -> None:
    out = [
        "3 lines\nfirst: (56, '2015-10-18 18:01:53,557 INFO Connecting')\n",
        "409: Nov  3 cn07 kernel: I/O error\n  12: indented hit\n[grep: 3 lines]",
    ]
    got = printed_lines(out)
    assert got == {
        56: "2015-10-18 18:01:53,557 INFO Connecting",
        409: "Nov  3 cn07 kernel: I/O error",
        12: "indented hit",
    }


def test_standing_lines_hold_a_token_or_time_of_the_answer() -> None:
    printed = {
        5: "2015-10-18 18:00:05,557 INFO connect to msra-sa-41",
        41: "2015-10-18 18:00:40,840 ERROR IN CONTACTING RM",
        50: "cn007 fan 3 failed",
    }
    assert standing_lines("2015-10-18 18:00:05,557", printed) == [5]
    assert standing_lines("msra-sa-41 at 18:00:40", printed) == [5, 41]
    assert standing_lines("cn007", printed) == [50]
    # a small number names nothing: "3" is on many lines
    assert standing_lines("3", printed) == []
    assert standing_lines("not found", printed) == []


@pytest.mark.parametrize(
    ("question", "outcome"),
    [
        ("When did the master first log an error talking to the RM?", "error"),
        ("Did anybody actually manage to log in? Which account?", "success"),
        ("Which login succeeded, and from where?", "success"),
        ("Was a password accepted for root?", "success"),
        ("Did the backup fail or succeed?", ""),  # both: neither
        ("Which hosts never logged an error?", ""),  # negated: answered from calm lines
        ("Which host had no errors today?", ""),
        ("Which connections were not accepted?", ""),
        ("When was this machine booted?", ""),
        # a statement before the question is its premise, not what it asks
        ("One host had a kernel panic. What is the IP address of that host's BMC?", ""),
        ("The backup failed last night. Which disk filled up?", ""),
        ("Which node failed? Name it.", "error"),
        ("Name the node that failed.", "error"),  # no question mark: all of it asks
        # the dots of an address, a version or "e.g." end no sentence
        ("Which nodes never booted v2.5 successfully?", ""),
        ("Were no logins from 10.0.0.5 accepted?", ""),
        ("Which jobs didn't finish, e.g. failed or crashed?", ""),
        ("Which error did host 10.1.2.3 log at 03:00?", "error"),
    ],
)
def test_the_outcome_a_question_asks_about(question: str, outcome: str) -> None:
    assert asked_outcome(question) == outcome


def test_an_answer_denying_the_success_asked_about() -> None:
    q = "Did anybody actually manage to log in?"
    assert denies_success("No evidence of successful login attempts found.", q)
    assert denies_success("Nobody did", q) and denies_success("none", q)
    assert not denies_success("fztu from 119.137.62.142", q)
    assert not denies_success("No errors", "Which host logged the most errors?")


def test_an_answer_from_the_second_step_of_a_two_step_question_stands() -> None:
    """Asked for the BMC address of the host with a kernel panic, the answer stands on the
    DHCP lease (INFO) of the host the first search found: the error was the first step."""
    from rlm_cli.engine.answer_severity import ERROR, mismatched_lines
    from rlm_cli.logs.severity import Severity

    class Map:  # the two attributes mismatched_lines reads
        severity = [int(Severity.INFO)] * 8 + [int(Severity.FATAL)]

    outputs = [
        "9: cn034 kernel: Kernel panic - not syncing",
        "8: mgmt01 dhcpd[2231]: DHCPACK on 10.20.8.188 to 3c:ec:ef:ad:18:b6 (cn034-bmc)",
    ]
    q = "What is the BMC address of the host that had a kernel panic?"
    answer = "10.20.8.188"
    assert mismatched_lines(answer, q, outputs, Map()) == (ERROR, [8])
    assert mismatched_lines(answer, q, outputs, Map(), hop_host="cn034") == ("", [])
    # a host found first that the answer's lines do not name changes nothing
    assert mismatched_lines(answer, q, outputs, Map(), hop_host="cn03") == (ERROR, [8])

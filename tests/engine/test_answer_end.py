"""An answer to a "when ... first / last" question from the other end's printed line."""

from __future__ import annotations

import pytest

from rlm_cli.engine.answer_end import asked_end, labelled_ends, other_end_taken

OUT = (
    "first: (322, '2026-10-12T09:51:09+00:00 cn197 kernel: nfs: server nas01 not responding')\n"
    "last: (643, '2026-10-14T02:26:14+00:00 cn196 kernel: nfs: server nas01 not responding')\n"
)
LAST_Q = "When did the NFS server nas01 last stop responding? Give the date and time."
WRONG = "2026-10-12T09:51:09+00:00 (line 322), the last of 322 'nfs: server nas01' lines"


@pytest.mark.parametrize(
    ("question", "end"),
    [
        (LAST_Q, "last"),
        ("When did a node first fail to mount Lustre? Give the date and time.", "first"),
        ("When was the most recent OOM kill?", "last"),
        ("When were the first and the last link flaps?", ""),
        ("Which host logged the most errors?", ""),
        # not a question about when, or not about an end of a series
        ("How long did the sw01 port 7 outage last?", ""),
        ("Which node runs the latest firmware?", ""),
        ("When did cn007's first-boot setup fail?", ""),
        ("The mount worked at first. When did nas01 go down?", ""),
        ("When did nas01 fail in the last 24 hours?", ""),
        ("How many times did job 4412 fail after the first retry?", ""),
    ],
)
def test_the_end_a_question_asks_for(question: str, end: str) -> None:
    assert asked_end(question) == end


def test_labelled_ends_pair_within_one_output() -> None:
    ends = labelled_ends([OUT])
    assert ends["first"].startswith("(322, ") and ends["last"].startswith("(643, ")
    # labels of one search pair with each other; an output with two pairs is ambiguous
    out = "first error: 03:00 cn1 ECC\nlast error: 05:00 cn1 ECC\n"
    assert labelled_ends([OUT, out])["last"] == "05:00 cn1 ECC"
    two = out + "first reboot: 04:00 cn1 boot\nlast reboot: 06:00 cn1 boot\n"
    assert labelled_ends([two]) == {}
    assert labelled_ends(["first lines of the log\n12 lines"]) == {}


def test_an_answer_from_the_first_line_to_a_question_about_the_last() -> None:
    """Bench Q1 and Q3, timeline-10x: the 1.5B model printed both ends and answered the first."""
    found = other_end_taken(LAST_Q, WRONG, [OUT])
    assert found == {"asked": "last", "other": "first", "line": OUT.splitlines()[1][6:]}
    assert other_end_taken(LAST_Q, "2026-10-12T09:51:09", [OUT])  # its time alone, ISO
    assert other_end_taken(LAST_Q, "2026-10-14T02:26:14+00:00 (line 643)", [OUT]) is None
    # what both lines hold (nas01) or neither (a count) tells nothing
    assert other_end_taken(LAST_Q, "nas01", [OUT]) is None
    assert other_end_taken(LAST_Q, "322 times", [OUT]) is None
    assert other_end_taken("Which host lost nas01?", WRONG, [OUT]) is None
    # only one end printed: nothing to compare
    assert other_end_taken(LAST_Q, WRONG, [OUT.splitlines()[0]]) is None

"""An answer to a "first / last" question from the other end's printed line."""

from __future__ import annotations

import pytest

from rlm_cli.engine.answer_end import asked_end, labelled_ends, other_end_taken

OUT = (
    "first: (322, '2026-10-12T09:51:09+00:00 cn197 kernel: nfs: server nas01 not responding')\n"
    "last: (643, '2026-10-14T02:26:14+00:00 cn196 kernel: nfs: server nas01 not responding')\n"
)
LAST_Q = "When did the NFS server nas01 last stop responding? Give the date and time."


@pytest.mark.parametrize(
    ("question", "end"),
    [
        (LAST_Q, "last"),
        ("When did a node first fail to mount Lustre?", "first"),
        ("What was the most recent OOM kill?", "last"),
        ("When were the first and the last link flaps?", ""),
        ("Which host logged the most errors?", ""),
    ],
)
def test_the_end_a_question_asks_for(question: str, end: str) -> None:
    assert asked_end(question) == end


def test_labelled_ends_in_the_forms_code_prints_them() -> None:
    ends = labelled_ends([OUT, "last hit: 2026-10-15 cn1 ok"])
    assert ends["first"].startswith("(322, ") and ends["last"] == "2026-10-15 cn1 ok"
    assert labelled_ends(["first lines of the log\n12 lines"]) == {}


def test_an_answer_from_the_first_line_to_a_question_about_the_last() -> None:
    """Bench Q1 and Q3, timeline-10x: the 1.5B model printed both ends and answered the first."""
    wrong = "2026-10-12T09:51:09+00:00 (line 322), the last of 322 'nfs: server nas01' lines"
    found = other_end_taken(LAST_Q, wrong, [OUT])
    assert found == {"asked": "last", "other": "first", "line": OUT.splitlines()[1][6:]}
    assert other_end_taken(LAST_Q, "2026-10-14T02:26:14+00:00 (line 643)", [OUT]) is None
    # what both lines hold (nas01) tells nothing; a question about neither end is not checked
    assert other_end_taken(LAST_Q, "nas01", [OUT]) is None
    assert other_end_taken("Which host lost nas01?", wrong, [OUT]) is None
    # only one end printed: nothing to compare
    assert other_end_taken(LAST_Q, wrong, [OUT.splitlines()[0]]) is None

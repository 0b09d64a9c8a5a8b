"""Does an answer to a "when ... first / last" question come from the end it asks for?

The timeline examples print a search's ``first:`` and ``last:`` hits. Asked when nas01
*last* stopped responding, the 1.5B model printed both and answered the first hit's time,
"line 322, the last of 322 ... lines" (bench Q1 and Q3, timeline-10x; P7 before them).
When a question asks for one end, an output printed a line labelled with each end, and the
answer holds what only the other end's line holds, the answer is pushed back once with the
line printed for the end asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rlm_cli.engine.answer_severity import answer_marks

FIRST, LAST = "first", "last"
_ASKS = {
    FIRST: re.compile(r"\b(first|earliest)\b", re.IGNORECASE),
    LAST: re.compile(r"\b(last|latest|most recent(?:ly)?)\b", re.IGNORECASE),
}
_LABELLED = re.compile(
    r"^\s*(first|last)\b[^:\n]{0,20}:[ \t]*(\S.*)$", re.IGNORECASE | re.MULTILINE
)
"""A printed line labelled with an end: ``first: (322, '...')``, ``last hit: 2026-...``."""


def asked_end(question: str) -> str:
    """``first`` or ``last``, the end of a series ``question`` asks for; "" for neither or
    both ("the first and the last")."""
    asked = [end for end, rx in _ASKS.items() if rx.search(question)]
    return asked[0] if len(asked) == 1 else ""


def labelled_ends(outputs: Iterable[str]) -> dict[str, str]:
    """The last line printed under each label: ``{"first": text, "last": text}``."""
    ends: dict[str, str] = {}
    for out in outputs:
        for m in _LABELLED.finditer(out):
            ends[m.group(1).lower()] = m.group(2)
    return ends


def other_end_taken(question: str, answer: str, outputs: Iterable[str]) -> dict[str, str] | None:
    """``{"asked", "other", "line"}`` when ``question`` asks for one end, the outputs printed
    a line for each, and ``answer`` holds a mark (a name, number or time) that only the
    other end's line holds and none that only the asked end's line holds; else None."""
    asked = asked_end(question)
    ends = labelled_ends(outputs)
    if not asked or len(ends) < 2 or ends[FIRST] == ends[LAST]:
        return None
    other = LAST if asked == FIRST else FIRST
    marks = answer_marks(answer)

    def only_in(end: str) -> bool:
        here, there = ends[end], ends[other if end == asked else asked]
        return any(_holds(here, m) and not _holds(there, m) for m in marks)

    if only_in(other) and not only_in(asked):
        return {"asked": asked, "other": other, "line": ends[asked]}
    return None


def _holds(text: str, mark: str) -> bool:
    return re.search(rf"(?<![\w.]){re.escape(mark)}(?![\w])", text) is not None

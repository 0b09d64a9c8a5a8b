"""Does an answer to a "when ... first / last" question come from the end it asks for?

The timeline examples print a search's ``first:`` and ``last:`` hits. Asked when nas01
*last* stopped responding, the 1.5B model printed both and answered the first hit's time,
"line 322, the last of 322 ... lines" (bench Q1 and Q3, timeline-10x; P7 before them).
When a question asks when something first or last happened, one output printed one pair of
lines labelled ``first`` and ``last``, and the answer holds a time or line number that only
the other end's line holds (none that only the asked end's does), the answer is pushed back
once with the line printed for the end asked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from rlm_cli.engine.answer_severity import asking_part

FIRST, LAST = "first", "last"
_ASKS = {
    FIRST: re.compile(r"(?<![\w-])(?<!\bat )(first|earliest)(?![\w-])", re.IGNORECASE),
    LAST: re.compile(
        r"(?<![\w-])(last|most recent(?:ly)?)(?![\w-])(?! (?:\d+|few|hours?|days?|weeks?"
        r"|minutes?|months?|night|time)\b)",
        re.IGNORECASE,
    ),
}
""""first" (not "first-boot", "at first") and "last" (not "the last 24 hours", "last night")."""
_ASKS_WHEN = re.compile(
    r"\b(when|what time|which (?:line|time|date|day)|timestamp|date and time)\b", re.IGNORECASE
)
_LASTS_FOR = re.compile(r"\bhow long\b", re.IGNORECASE)
_LABELLED = re.compile(
    r"^\s*(first|last)\b([ \t]*[A-Za-z_]+)?[ \t]*:[ \t]*(\S.*)$", re.IGNORECASE | re.MULTILINE
)
"""A printed line labelled with an end: ``first: (322, '...')``, ``last hit: 2026-...``."""
_LINE_NUMBER = re.compile(r"^\(\s*(\d+),")
_TIME = re.compile(r"(?<!\d)\d{1,2}:\d{2}(?::\d{2})?(?!\d)")


def asked_end(question: str) -> str:
    """``first`` or ``last``, the end of a series ``question`` asks the time of; "" for
    neither, for both ("the first and the last"), or for a question not asking when."""
    asking = asking_part(question)
    if not _ASKS_WHEN.search(asking) or _LASTS_FOR.search(asking):
        return ""
    asked = [end for end, rx in _ASKS.items() if rx.search(asking)]
    return asked[0] if len(asked) == 1 else ""


def labelled_ends(outputs: Iterable[str]) -> dict[str, str]:
    """The pair of lines one output printed as ``first`` and ``last`` (the same label after
    the word, if any), from the last output that printed exactly one such pair; {} if none."""
    found: dict[str, str] = {}
    for out in outputs:
        pairs: dict[str, dict[str, str]] = {}
        for m in _LABELLED.finditer(out):
            end, label, text = m.group(1).lower(), (m.group(2) or "").strip().lower(), m.group(3)
            pairs.setdefault(label, {})[end] = text
        complete = [p for p in pairs.values() if len(p) == 2]
        if len(complete) == 1:
            found = complete[0]
    return found


def marks(line: str) -> set[str]:
    """What picks a printed line out in an answer: its times and its line number."""
    found = set(_TIME.findall(line))
    number = _LINE_NUMBER.match(line)
    if number:
        found.add(f"line {number.group(1)}")
    return found


def other_end_taken(question: str, answer: str, outputs: Iterable[str]) -> dict[str, str] | None:
    """``{"asked", "other", "line"}`` when ``question`` asks when something first or last
    happened, one output printed a line for each end, and ``answer`` holds a time or line
    number only the other end's line holds and none only the asked end's line holds."""
    asked = asked_end(question)
    ends = labelled_ends(outputs)
    if not asked or not ends or ends[FIRST] == ends[LAST]:
        return None
    other = LAST if asked == FIRST else FIRST
    mine, theirs = marks(ends[asked]), marks(ends[other])

    def holds(mark: str) -> bool:
        return (
            re.search(rf"(?<![\d:]){re.escape(mark)}(?![\d:])", answer, re.IGNORECASE) is not None
        )

    if any(holds(m) for m in theirs - mine) and not any(holds(m) for m in mine - theirs):
        return {"asked": asked, "other": other, "line": ends[asked]}
    return None

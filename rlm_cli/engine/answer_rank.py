"""Does an answer to a "which ... the most" question name the leader its ranking printed?

Shown ``top()``'s table and its sentence "most among the others: 150.183.249.110 with 80
of the 490 matching lines; next: n219076184117.netvigator.com with 23", the 1.5B model
answered "n219076184117.netvigator.com: 80 of the 490" (Loghub H18): the runner-up's name
with the leader's count. When a question asks for the most and the answer names the
runner-up of the last ranking printed but not its leader, the answer is pushed back once,
naming both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ASKS_MOST = re.compile(
    r"(?<!\bat )\b(most(?! (recent|likely|probably|probable))|largest|highest|biggest|greatest"
    r"|worst|top)\b",
    re.IGNORECASE,
)
"""A question asking for the one with the most ("racked up the most", "the largest number");
not "the most recent", "most likely to fail" nor "at most"."""
_NOT_FIRST = re.compile(r"\b(second|runner[- ]up|least|fewest|lowest)\b", re.IGNORECASE)
_LEADER = re.compile(
    r"most(?: among the others)?: (?P<leader>\S+) with (?P<count>[\d,]+) of the [\d,]+ "
    r"matching lines; next: (?P<next>\S+) with (?P<next_count>[\d,]+)\)"
)
"""The sentence under a ``top()`` table (``logs/queries.py::_leader``), ties excluded."""


def _names(answer: str, name: str) -> bool:
    found = re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w-]|\.\w)", answer, re.IGNORECASE)
    return found is not None


def runner_up_named(question: str, answer: str, outputs: Iterable[str]) -> dict[str, str] | None:
    """The last ranking printed (``leader``, ``count``, ``next``, ``next_count``) when
    ``question`` asks for the most and ``answer`` names its runner-up but not its leader;
    else None."""
    if not ASKS_MOST.search(question) or _NOT_FIRST.search(question):
        return None
    found = [m for out in outputs for m in _LEADER.finditer(out)]
    if not found:
        return None
    last = found[-1].groupdict()
    if _names(question, last["next"]):  # the question is about the runner-up itself
        return None
    if _names(answer, last["next"]) and not _names(answer, last["leader"]):
        return last
    return None

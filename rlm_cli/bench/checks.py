"""Answer checkers of a bench task: does an answer say what the ground truth says?

One checker per kind a suite's ``check:`` names (``contains``, ``number``, ``regex``,
``first_entity``, ``time``). Each is lenient about form (case, commas in numbers, common
time formats) and strict about content: the answer must name the right thing, and for
``first_entity`` name it before any other candidate.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rlm_cli.store.timestamps import MONTHS

CHECK_KINDS = ("contains", "number", "regex", "first_entity", "time")

_NUMBER = re.compile(r"(?<![\w.])-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\d)")
_MONTHS = [m.lower() for m in MONTHS]


@dataclass(frozen=True)
class Check:
    """One checker: its kind, the expected value, and (``first_entity``) the candidates."""

    kind: str
    expected: Any
    candidates: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """A short human form of what is expected, for tables (``number = 17``)."""
        if self.kind == "contains":
            items = self.expected if isinstance(self.expected, list) else [self.expected]
            return "contains " + ", ".join(repr(str(x)) for x in items)
        if self.kind == "number":
            return f"number = {self.expected}"
        if self.kind == "regex":
            return f"matches /{self.expected}/"
        if self.kind == "first_entity":
            return f"names {self.expected} first (of {len(self.candidates)})"
        return f"time {self.expected}"

    def __call__(self, answer: str) -> bool:
        """True when ``answer`` passes this check."""
        return CHECKERS[self.kind](answer or "", self)


def check_contains(answer: str, check: Check) -> bool:
    """Every expected string appears in the answer (case-insensitive)."""
    items = check.expected if isinstance(check.expected, list) else [check.expected]
    low = answer.lower()
    return all(str(x).lower() in low for x in items)


def first_number(text: str) -> float | None:
    """The first number written in ``text`` (``1,234`` reads as 1234), or None."""
    m = _NUMBER.search(text)
    if m is None:
        return None
    return float(m.group(0).replace(",", ""))


def check_number(answer: str, check: Check) -> bool:
    """The first number in the answer equals the expected number."""
    got = first_number(answer)
    return got is not None and got == float(str(check.expected).replace(",", ""))


def check_regex(answer: str, check: Check) -> bool:
    """The regular expression matches somewhere in the answer (case-insensitive)."""
    return re.search(str(check.expected), answer, re.IGNORECASE) is not None


def entity_pattern(name: str) -> re.Pattern[str]:
    """``name`` as a whole token: not part of a longer name (``node1`` is not in ``node12``)."""
    return re.compile(r"(?<![A-Za-z0-9_])" + re.escape(name) + r"(?![A-Za-z0-9_])", re.IGNORECASE)


def first_entity(answer: str, candidates: Sequence[str]) -> str | None:
    """The candidate the answer names first (the longest one when two start at one place)."""
    best: tuple[int, int, str] | None = None
    for name in candidates:
        m = entity_pattern(name).search(answer)
        if m is not None:
            key = (m.start(), -len(name), name)
            if best is None or key < best:
                best = key
    return best[2] if best else None


def check_first_entity(answer: str, check: Check) -> bool:
    """Of the candidates, the one the answer names first is the expected one."""
    names = list(check.candidates) or [str(check.expected)]
    if str(check.expected) not in names:
        names.append(str(check.expected))
    got = first_entity(answer, names)
    return got is not None and got.lower() == str(check.expected).lower()


def parse_expected_time(text: str) -> datetime:
    """``YYYY-mm-dd HH:MM:SS`` (a ``T`` also accepted) as a naive datetime; ValueError if not."""
    return datetime.strptime(str(text).strip().replace("T", " "), "%Y-%m-%d %H:%M:%S")


def _date_forms(t: datetime) -> list[re.Pattern[str]]:
    mon = _MONTHS[t.month - 1]
    day = t.day
    return [
        re.compile(rf"{t.year:04d}-{t.month:02d}-{t.day:02d}"),
        re.compile(rf"{t.year:04d}/{t.month:02d}/{t.day:02d}"),
        re.compile(rf"(?<!\d){t.month:02d}/{t.day:02d}/{t.year:04d}"),
        re.compile(rf"(?<!\d){t.month}/{t.day}/{t.year:04d}"),
        re.compile(rf"\b{mon}[a-z]*\.?\s+0?{day}(?!\d)", re.IGNORECASE),
        re.compile(rf"(?<!\d)0?{day}(?:st|nd|rd|th)?\s+{mon}[a-z]*\b", re.IGNORECASE),
    ]


def check_time(answer: str, check: Check) -> bool:
    """The answer names the expected date and time of day (to the second).

    Accepted: ``2026-11-03 14:05:09``, ``2026-11-03T14:05:09Z``, ``11/03/2026 | 14:05:09``,
    ``Nov  3 14:05:09``, ``14:05:09 on 3 November`` and the like.
    """
    t = parse_expected_time(check.expected)
    clock = re.compile(rf"(?<!\d){t.hour:02d}:{t.minute:02d}:{t.second:02d}(?!\d|:\d)")
    if t.hour < 10 and not clock.search(answer):
        clock = re.compile(rf"(?<![\d:]){t.hour}:{t.minute:02d}:{t.second:02d}(?!\d|:\d)")
    if not clock.search(answer):
        return False
    return any(p.search(answer) for p in _date_forms(t))


CHECKERS = {
    "contains": check_contains,
    "number": check_number,
    "regex": check_regex,
    "first_entity": check_first_entity,
    "time": check_time,
}

"""Does a final answer give the kind of value its question asks for?

Asked for "the IP address of that host's BMC", the 1.5B model answered "cn149", the host it
had found first, and a forced final answer pasted a SEL line with no address in it. A
question that asks for a number, an IP address or a time has its answer pushed back once
when the answer holds no value of that kind, and the forced final question names the kind.
Words decide nothing else: what the value is stays the model's own.
"""

from __future__ import annotations

import re
from collections.abc import Collection

from rlm_cli.engine.grounding import IP_RE, NAME_RE

_NUMBER_WORDS = r"no|none|zero|once|twice|never|one|two|three|four|five|six|seven|eight|nine|ten"

_NOT_SUPERLATIVE = "".join(
    f"(?<!{w} )"
    for w in ("largest", "highest", "biggest", "greatest", "most", "smallest", "lowest")
)
"""Not after "the largest" and the like: "the largest number of X" asks which one, not how
many (the 1.5B model, told a number was asked, answered 520 where an IP address was)."""

_KINDS: tuple[tuple[str, re.Pattern[str], re.Pattern[str]], ...] = (
    # (the kind in words, a question asking for it, a value of it in an answer); first wins
    (
        "a number",
        re.compile(rf"\bhow many\b|{_NOT_SUPERLATIVE}\b(number|count) of\b", re.IGNORECASE),
        re.compile(rf"\d|\b({_NUMBER_WORDS})\b", re.IGNORECASE),
    ),
    (
        "an IP address",
        re.compile(r"\bIP(v[46])?( address(es)?)?\b", re.IGNORECASE),
        re.compile(rf"{IP_RE.pattern}|\b[0-9a-f]{{0,4}}(:[0-9a-f]{{0,4}}){{2,7}}\b", re.IGNORECASE),
    ),
    (
        "a time",
        re.compile(
            r"^\W*when\b|\bwhen (did|was|were|does|do|is|has|had)\b|\bwhat (time|date)\b"
            r"|\btimestamp\b",
            re.IGNORECASE,
        ),
        re.compile(r"\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}|\b\d{10}(\.\d+)?\b"),
    ),
    (
        # asked for "that DataNode's hostname", the 1.5B model answered the address from the
        # "bad datanode 10.190.173.170:50010" line. An answer with no address is taken as
        # it is; one with an address lacks a name only when no word of it holds a digit too
        # (a name without digits, "combo", cannot be told from a word). Last: "how many
        # hostnames", "what IP did hostname web01 get", "when did hostname cn1 fail" ask for
        # the kinds above
        "a hostname",
        re.compile(r"\b(what|which)\b[^?.]*\bhost ?names?\b|\bhost ?names? of\b", re.IGNORECASE),
        re.compile(rf"{NAME_RE.pattern}|^(?![\s\S]*{IP_RE.pattern})"),
    ),
)


_CLAUSE = re.compile(
    r"[?;]|,?\s+and\s+(?=(?:how|which|what|when)\b)|,\s*(?=(?:how|which|what|when)\b)",
    re.IGNORECASE,
)
"""Where a question asks one more thing: "Which IP made the most failed logins, and how
many?" asks for an address and a number (the 1.5B model answered "520" alone)."""


def asked_kind(question: str) -> str:
    """The kind of value ``question`` asks for, in words ("an IP address"), or "": the
    first of :func:`asked_kinds`."""
    kinds = asked_kinds(question)
    return kinds[0] if kinds else ""


def asked_kinds(question: str) -> list[str]:
    """The kinds of value ``question`` asks for, one per clause that asks ("which ..., and
    how many?"), in order; within a clause the first of ``_KINDS`` that it asks wins."""
    found: list[str] = []
    for clause in _CLAUSE.split(question):
        kind = next((kind for kind, asks, _ in _KINDS if asks.search(clause)), "")
        if kind and kind not in found:
            found.append(kind)
    return found


def lacks_asked_kind(question: str, answer: str, done: Collection[str] = ()) -> str:
    """The first kind ``question`` asks for of which ``answer`` holds no value, else ""
    (kinds in ``done``, pushed back already, are not asked about again)."""
    values = {kind: value for kind, _, value in _KINDS}
    # the digits of an address are no count: "183.62.140.253" answers which IP, not how many
    bare = IP_RE.sub(" ", answer)
    lacking = (
        k
        for k in asked_kinds(question)
        if k not in done and not values[k].search(bare if k == "a number" else answer)
    )
    return next(lacking, "")


FIND_IT = "Find it with code (print the lines that hold it),"
"""How to find a value of the kind asked for, where the answer gives no lead."""


_RANKS = re.compile(r"\b(most|fewest|least|highest|lowest|largest|top)\b", re.IGNORECASE)


def how_to_find(kind: str, answer: str, question: str = "", searched: str = "") -> str:
    """How to find the ``kind`` of value ``answer`` lacks: for a hostname where the answer
    is an address, the search that prints the lines naming that address (the 1.5B model,
    told only that a hostname was asked, answered the same address again); for the address
    that ranks first ("which IP made the most ...", and its count), ``context.top`` by address (told only to
    print the lines, it ran its count again and took the first hit's address), over
    ``searched``, the last search's pattern as the code wrote it, when there was one."""
    ranked = _RANKS.search(question) and "an IP address" in asked_kinds(question)
    if ranked and kind in ("an IP address", "a number"):
        pattern = searched or "PATTERN"
        return f'Rank the addresses with code: print(context.top({pattern}, by="ip")),'
    address = IP_RE.search(answer) if kind == "a hostname" else None
    if address is None:
        return FIND_IT
    ip = address.group(0)
    return (
        f"Your answer is an address: find the name the log gives {ip} with code "
        f'(print(context.grep(r"{re.escape(ip)}", max=10)) and read the name beside it),'
    )


def kind_line(question: str) -> str:
    """The forced final question's line naming the kind of value asked for ("" for none)."""
    kinds = asked_kinds(question)
    if not kinds:
        return ""
    them = "it" if len(kinds) == 1 else "them"
    return f"The question asks for {' and '.join(kinds)}: give {them}. "

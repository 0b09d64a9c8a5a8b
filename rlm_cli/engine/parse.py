"""Parse a root model's reply: reasoning, code blocks, and a FINAL outside code.

Small models write messy replies: several blocks, a missing closing fence,
``FINAL(...)`` on the last line instead of in code, ``<think>`` blocks. This module
turns any of that into one :class:`ParsedReply`; deciding what to do is the loop's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*(repl|python|py|python3)?[ \t]*\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL)
_FINAL = re.compile(r"(?m)^[ \t>*_`]*(FINAL_VAR|FINAL)\s*\(")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class FinalSpec:
    """A FINAL written outside code: ``kind`` is FINAL or FINAL_VAR, ``arg`` its raw argument."""

    kind: str
    arg: str

    @property
    def names_variable(self) -> str | None:
        """The variable this FINAL refers to, if its argument is a bare or quoted identifier."""
        a = self.arg.strip()
        if self.kind == "FINAL_VAR":
            a = a.strip("'\"")
        return a if _IDENT.match(a) else None

    def literal(self) -> str:
        """The argument as answer text (quotes of a string literal removed)."""
        a = self.arg.strip()
        if len(a) >= 2 and a[0] == a[-1] and a[0] in "'\"":
            return a[1:-1]
        for q in ('"""', "'''"):
            if a.startswith(q) and a.endswith(q) and len(a) >= 6:
                return a[3:-3]
        return a


@dataclass
class ParsedReply:
    """What a root reply contains."""

    text: str
    reasoning: str
    code_blocks: list[str] = field(default_factory=list)
    final: FinalSpec | None = None
    thinking: str = ""


def strip_thinking(text: str) -> tuple[str, str]:
    """Remove ``<think>`` blocks; returns (visible text, thinking text)."""
    thoughts = [m.group(0) for m in _THINK.finditer(text)]
    return _THINK.sub("", text).strip(), "\n".join(thoughts)


def parse_reply(text: str) -> ParsedReply:
    """Split a reply into reasoning, code blocks and an outside-code FINAL."""
    visible, thinking = strip_thinking(text)
    blocks: list[str] = []
    outside_parts: list[str] = []
    pos = 0
    for m in _FENCE.finditer(visible):
        outside_parts.append(visible[pos : m.start()])
        code = m.group(2).strip("\n")
        if code.strip():
            blocks.append(code)
        pos = m.end()
    outside_parts.append(visible[pos:])
    outside = "".join(outside_parts)
    final = _find_final(outside)
    reasoning = outside
    if final is not None:
        reasoning = (
            outside[: outside.rfind(final.kind + "(")] if final.kind + "(" in outside else outside
        )
    reasoning = re.sub(r"\n{3,}", "\n\n", reasoning).strip()
    return ParsedReply(
        text=text, reasoning=reasoning, code_blocks=blocks, final=final, thinking=thinking
    )


def _find_final(outside: str) -> FinalSpec | None:
    matches = list(_FINAL.finditer(outside))
    if not matches:
        return None
    m = matches[-1]
    start = m.end()
    depth, end = 1, None
    in_str: str | None = None
    i = start
    while i < len(outside):
        ch = outside[i]
        if in_str:
            if ch == "\\":
                i += 2
                continue
            if ch == in_str:
                in_str = None
        elif ch in "'\"":
            in_str = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                end = i
                break
        i += 1
    if end is None:  # unbalanced: take up to the last ')' or the end
        last = outside.rfind(")")
        end = last if last >= start else len(outside)
    return FinalSpec(kind=m.group(1), arg=outside[start:end].strip())

"""Parse a root model's reply: reasoning, code blocks, and a FINAL outside code.

Small models write messy replies: several blocks, a missing closing fence,
``FINAL(...)`` on the last line instead of in code, ``<think>`` blocks (or only the
closing ``</think>`` when the chat template opened it), replies cut by max_tokens.
This module turns any of that into one :class:`ParsedReply`; deciding what to do is
the loop's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rlm_cli.engine.grounding import answer_tokens

_THINK = re.compile(r"<think>.*?(?:</think>|\Z)", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*(repl|python|py|python3)?[ \t]*\n(.*?)(?:\n[ \t]*```|\Z)", re.DOTALL)
_FINAL = re.compile(r"(?<![A-Za-z0-9_.])(FINAL_VAR|FINAL|Final)\s*\(")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CLOSE_THINK = re.compile(r"</think>", re.IGNORECASE)


@dataclass
class FinalSpec:
    """A FINAL written outside code: ``kind`` is FINAL or FINAL_VAR, ``arg`` its raw argument."""

    kind: str
    arg: str
    closed: bool = True
    """False when the closing parenthesis is missing (a reply cut inside the answer)."""

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
        for q in ('"""', "'''"):
            if a.startswith(q) and a.endswith(q) and len(a) >= 6:
                return a[3:-3]
        if len(a) >= 2 and a[0] == a[-1] and a[0] in "'\"":
            return a[1:-1].replace('\\"', '"').replace("\\n", "\n")
        if a[:1] in "'\"" and a[-1:] != a[:1]:  # cut reply: an opening quote with no close
            return a[1:]
        return a

    @property
    def is_literal(self) -> bool:
        """Whether the argument is answer text: a string literal or prose, not an expression
        (``FINAL("node " + name)`` is an expression the REPL evaluates; ``FINAL_VAR("x")``
        names a variable its code computed)."""
        import ast

        if self.kind == "FINAL_VAR" and self.names_variable:
            return False
        a = self.arg.strip()
        if not a:
            return True
        tree = syntax_tree(a, mode="eval")
        if tree is None:
            return True  # prose such as FINAL(node09 will fail), or a cut string
        return isinstance(tree.body, ast.Constant)


@dataclass
class ParsedReply:
    """What a root reply contains."""

    text: str
    reasoning: str
    code_blocks: list[str] = field(default_factory=list)
    final: FinalSpec | None = None
    thinking: str = ""
    unclosed: bool = False
    """The last code block had no closing fence (forgotten, or the reply was cut)."""


def strip_thinking(text: str) -> tuple[str, str]:
    """Remove ``<think>`` blocks; returns (visible text, thinking text).

    A reply holding only ``</think>`` (the template opened the block) is thinking up to it.
    """
    thoughts = [m.group(0) for m in _THINK.finditer(text)]
    visible = _THINK.sub("", text)
    closes = list(_CLOSE_THINK.finditer(visible))
    if closes:
        m = closes[-1]
        thoughts.insert(0, visible[: m.end()])
        visible = visible[m.end() :]
    return visible.strip(), "\n".join(thoughts)


def parse_reply(text: str) -> ParsedReply:
    """Split a reply into reasoning, code blocks and an outside-code FINAL."""
    visible, thinking = strip_thinking(text)
    blocks: list[str] = []
    outside_parts: list[str] = []
    pos = 0
    unclosed = False
    for m in _FENCE.finditer(visible):
        outside_parts.append(visible[pos : m.start()])
        code = m.group(2).strip("\n")
        if code.strip():
            blocks.append(code)
            unclosed = not m.group(0).rstrip().endswith("```")
        pos = m.end()
    outside_parts.append(visible[pos:])
    outside = "".join(outside_parts)
    final, at = _find_final(outside)
    reasoning = outside[:at] if final is not None else outside
    reasoning = re.sub(r"\n{3,}", "\n\n", reasoning).strip()
    return ParsedReply(
        text=text,
        reasoning=reasoning,
        code_blocks=blocks,
        final=final,
        thinking=thinking,
        unclosed=unclosed,
    )


def normalise_code(code: str) -> str:
    """Code with comments, blank lines and trailing spaces dropped (to spot repeats)."""
    lines = (line.rstrip() for line in code.splitlines())
    return "\n".join(ln for ln in lines if ln.strip() and not ln.lstrip().startswith("#"))


UNPARSABLE = (SyntaxError, ValueError, RecursionError, MemoryError)
"""What Python's parser and compiler raise on code they cannot take: a syntax error, a
NUL byte, or nesting too deep for the parser."""


def syntax_tree(code: str, mode: str = "exec"):
    """``ast.parse(code)``, or None when it does not parse: a syntax error, or nesting too
    deep for the parser (model code can be anything; a RecursionError here once ended the
    run with a traceback)."""
    import ast

    try:
        return ast.parse(code, mode=mode)
    except UNPARSABLE:
        return None


def touches_data(code: str) -> bool:
    """Whether code reads the log or calls a model (i.e. the model looked at the data)."""
    import ast

    tree = syntax_tree(code)
    if tree is None:
        return "context" in code
    names = {"context", "llm_query", "llm_query_batched", "rlm_query"}
    return any(isinstance(n, ast.Name) and n.id in names for n in ast.walk(tree))


_PLACEHOLDERS = {"", "answer", "your answer", "the answer", "final answer", "answer text"}


def is_placeholder(answer: str) -> bool:
    """Whether a final answer holds no answer: empty, an ellipsis, template text such as
    ``answer`` echoed back from an instruction, or a heading with nothing under it (the
    1.5B model closed ``FINAL("Summary of errors in the log:")`` and wrote code after it)."""
    core = re.sub(r"[\s.…'\"`()\[\]<>]+", " ", answer).strip().lower()
    heading = (
        core.endswith(":")
        and "\n" not in answer.strip()
        and len(core.split()) >= 3
        and not answer_tokens(answer)  # "node09 had 12 ECC errors, at:" names things
    )
    return core in _PLACEHOLDERS or heading


_NOTHING = re.compile(r"^\W*(0|zero|none|no|nothing|not found|unknown|n/?a)\b", re.IGNORECASE)


def says_nothing_found(answer: str) -> bool:
    """Whether a final answer says there is nothing (``0``, ``none``, ``No host ...``)."""
    return bool(_NOTHING.match(answer))


_REPEAT = re.compile(r"(\S.{29,}?)(?:\s*\1)+", re.DOTALL)
REPEAT_SCAN_CHARS = 8000
"""How much of an answer is looked at for a passage written again and again (the search is
quadratic; a root answer is at most a few thousand characters)."""


def collapse_repeats(answer: str) -> tuple[str, int]:
    """``answer`` with a passage (30 characters or more) written again right after itself
    kept once, and a cut-off copy of it at the end dropped; and how many copies went. A
    small model's forced answer can loop to its token limit: the 1.5B model wrote one
    two-sentence passage four times and began a fifth."""
    m = _REPEAT.search(answer[:REPEAT_SCAN_CHARS])
    if m is None:
        return answer, 0
    unit = m.group(1)
    rest = answer[m.end() :]
    if rest.strip() and unit.startswith(rest.strip()):
        rest = ""
    return (answer[: m.start()] + unit + rest).strip(), m.group(0).count(unit) - 1


def final_is_literal(code: str) -> bool:
    """Whether the FINAL called in ``code`` is given text its author wrote (a string
    constant, an f-string without fields) rather than a value the code computed."""
    import ast

    tree = syntax_tree(code)
    if tree is None:
        return False
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "FINAL"
            and node.args
        ):
            arg = node.args[0]
            if isinstance(arg, ast.Constant):
                return True
            if isinstance(arg, ast.JoinedStr):
                return not any(isinstance(v, ast.FormattedValue) for v in arg.values)
    return False


def _find_final(outside: str) -> tuple[FinalSpec | None, int]:
    """The last FINAL outside code that is not inside another's argument, and where it
    starts (the reasoning is what comes before it). A model that
    copied a pushback ending "reply with your answer again: FINAL(" into its answer wrote
    ``FINAL("... again: FINAL(")``, and the inner one, taken before, was an empty answer
    refused six turns running."""
    found: FinalSpec | None = None
    at = inside_until = -1
    for m in _FINAL.finditer(outside):
        if m.start() < inside_until:
            continue
        start = m.end()
        end, closed = _argument_end(outside, start)
        kind = m.group(1).upper()  # small models write Final("...") in prose too
        found = FinalSpec(kind=kind, arg=outside[start:end].strip(), closed=closed)
        # an unclosed argument (prose "I'll call FINAL( once...") holds no later FINAL
        at, inside_until = m.start(), (end if closed else -1)
    return found, at


def _argument_end(text: str, start: int) -> tuple[int, bool]:
    """Where the call argument starting at ``start`` ends (its closing parenthesis, strings
    skipped), and whether it is closed; unbalanced: the last ')' or the end."""
    depth = 1
    in_str: str | None = None
    i = start
    while i < len(text):
        ch = text[i]
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
                return i, True
        i += 1
    last = text.rfind(")")
    return (last if last >= start else len(text)), False

"""Is a final answer grounded in what the model has seen?

Small models name things they never saw: asked for the IP of the host that panicked, a
1.5B model found the host and then wrote an IP address that is in no output and no line of
the log it read. The loop pushes such an answer back once, naming the token, so the model
looks it up with code first. Only tokens that identify something are checked (IP addresses,
names with digits such as ``cn034`` or ``CPU1_DIMM_B2``, integers): words and phrasing are
the model's own.
"""

from __future__ import annotations

import re

# A token ends where no word character follows, nor a separator and a word character (so
# "4.5" and "12:32" are not the integer 4 or 12); a sentence's full stop may follow.
IP_RE = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?!\w|\.\d)")
NAME_RE = re.compile(
    r"(?<![\w.-])(?=[\w-]*[A-Za-z])(?=[\w-]*\d)[A-Za-z0-9][\w-]*[A-Za-z0-9](?![\w-])"
)
_INT = re.compile(r"(?<![\w.:/-])\d+(?!\w|[.:/-]\w)")


def answer_tokens(answer: str) -> list[str]:
    """The identifying tokens of an answer: IP addresses, names with digits, integers."""
    found: list[str] = []
    rest = answer
    for rx in (IP_RE, NAME_RE, _INT):
        for m in rx.finditer(rest):
            if m.group(0) not in found:
                found.append(m.group(0))
        rest = rx.sub(" ", rest)
    return found


def ungrounded(answer: str, seen: str) -> list[str]:
    """Tokens of ``answer`` that appear nowhere in ``seen`` (what the model was shown)."""
    low = seen.lower()
    missing = []
    for token in answer_tokens(answer):
        if token.isdigit():
            plain = int(token)
            variants = {token, f"{plain:,}"}
            if any(re.search(rf"(?<!\d){re.escape(v)}(?!\d)", seen) for v in variants):
                continue
        elif token.lower() in low:
            continue
        missing.append(token)
    return missing

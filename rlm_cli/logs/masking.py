"""Masking of variable parts of a log message body before template mining.

One compiled regex does all the work in a single C-level ``sub`` pass, so masking
costs one call per line (or one per batch of lines joined by newlines). The masks
are ordered: the most specific shapes (UUIDs, IPs, hex) come before plain numbers,
so ``10.0.0.1:8080`` becomes ``<IP>:<NUM>`` rather than a run of numbers.

What is masked is what is *clearly* variable whatever the log type: written-out and
ISO date-times, numbers (with an optional unit or sign: sizes, durations), hex, IPs,
UUIDs, MACs, URLs, long hex ids and short ones standing alone (SEL record ids ``5bb``),
file paths of two or more parts, short quoted values, and the digit runs inside
identifiers (``node-246`` -> ``node-<NUM>``, ``blk_-42`` -> ``blk_<NUM>``). Words and
``key=value`` values are left alone: whether ``root`` or ``user=bob`` is a variable is
decided later by the miner from how many values a position takes and what they look like.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Order matters: alternatives are tried left to right at each position.
_MASKS: list[tuple[str, str]] = [
    (
        "UUID",
        r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}(?![0-9A-Fa-f])",
    ),
    ("MAC", r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:])"),
    # a written-out date and time inside a message: [Sat] Jul  9 12:16:52 [2005]
    (
        "TIME",
        r"\b(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,?\s+)?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+\d{1,2},?\s+(?:\d{4}\s+)?\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:\s+\d{4}\b)?",
    ),
    # ISO-like date-time as one variable: 2026-11-23T04:12:55.123Z, 2015-10-18 18:01:47,978
    (
        "TIME",
        r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?(?![\d:])",
    ),
    # a URL is one value, whatever its host, port, path and query
    ("URL", r"\b[A-Za-z][\w+.-]{1,15}://[^\s\"'<>]+"),
    ("IP", r"(?<![\d.])\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}(?![\d])"),
    ("HEX", r"\b0[xX][0-9A-Fa-f]+\b"),
    # long hex / id-like runs that contain at least one digit and one a-f letter
    # (or ten and more a-f letters alone: a random id that happened to draw no digit)
    (
        "HEX",
        r"(?<![\w])(?:(?=[0-9A-Fa-f]*\d)(?=[0-9A-Fa-f]*[A-Fa-f])[0-9A-Fa-f]{8,}|[a-f]{10,}|[A-F]{10,})(?![\w])",
    ),
    # short hex record ids standing alone (``5bb``, ``1a``, ``90c``): a digit first, then
    # digits and a-f letters (``ee0``, ``a1`` are names: their digits only are masked)
    (
        "HEX",
        r"(?<![\w.:/#-])(?=[0-9A-Fa-f]*[A-Fa-f])\d[0-9A-Fa-f]{1,6}(?![\w.:/-])",
    ),
    # a file path of two or more parts: /var/lib/x/y.dat, ./a/b, ~/x/y
    ("PATH", r"(?<![\w.:/~-])(?:~|\.{1,2})?(?:/+[\w.@%+~-]+){2,}/?"),
    # a short quoted value with no spaces: user "alice", pool='tank'
    ("QUOTED", r"\"[^\"\s]{1,80}\"|(?<![A-Za-z])'[^'\s]{1,80}'"),
    # numbers: optional sign when not glued to a word, decimals, thousands, a short unit
    (
        "NUM",
        r"(?:(?<![A-Za-z0-9])-)?\d+(?:[.,:]\d+)*(?:(?:[kKmMgGtT]?[bB]|[kKmMgGtT]i?[bB]|ms|us|µs|ns|s|sec|secs|min|mins|h|KB|MB|GB|%)(?![A-Za-z]))?",
    ),
]

MASK_PATTERN = re.compile("|".join(f"(?:{rx})" for _, rx in _MASKS))
"""All masks in one regex; every match is a variable."""

WILDCARD = "<*>"


def mask(text: str, replacement: str = WILDCARD) -> str:
    """Replace every variable-looking run in ``text`` with ``replacement``."""
    return MASK_PATTERN.sub(replacement, text)


def mask_typed(text: str) -> str:
    """Like :func:`mask` but names the kind of variable (``<IP>``, ``<NUM>``...)."""
    return _TYPED.sub(_typed_repl, text)


_TYPED = re.compile("|".join(f"(?P<{name}{i}>{rx})" for i, (name, rx) in enumerate(_MASKS)))


def _typed_repl(m: re.Match[str]) -> str:
    name = m.lastgroup or "NUM"
    return "<" + name.rstrip("0123456789") + ">"


def mask_many(texts: Iterable[str], replacement: str = WILDCARD) -> list[str]:
    """Mask a batch of single-line texts with one regex call (faster than a loop)."""
    joined = "\n".join(texts)
    return MASK_PATTERN.sub(replacement, joined).split("\n")


def has_variable(token: str) -> bool:
    """True when ``token`` contains anything the masks would replace."""
    return MASK_PATTERN.search(token) is not None

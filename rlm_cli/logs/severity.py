"""One severity scale for every log: TRACE < DEBUG < INFO < NOTICE < WARNING < ERROR <
CRITICAL < FATAL.

- ``Severity.parse(name)`` reads a level field in any common spelling (``warn``, ``err``,
  ``crit``, ``emerg``, ``SEVERE``, single letters ``E``/``W``/``I``/``D``/``F``/``V`` as in
  Android or glog level fields, syslog numbers ``0``..``7``).
- ``classify(body, level=None)`` uses the level field when one is given and readable; else a
  level token written in the first characters of the body (``INFO``, ``[error]``); else the
  keyword and sensor-state rules of ``RULES`` (IPMI SEL states, ECC, kernel failures), the
  most severe rule that matches wins, and IPMI ``Deasserted`` (a condition cleared) caps the
  result at NOTICE. Negations such as ``no errors``, ``0 failures``, ``error=0`` match first
  and count for nothing.

Rules are one data table (``RULES``); each row has trigger words and runs only when the body
contains one of them (a set test on the lower-cased words), so ordinary lines cost one
tokenisation and a set intersection.
"""

from __future__ import annotations

import re
from enum import IntEnum


class Severity(IntEnum):
    """Ordered severity; compare with ``<``/``>=``."""

    TRACE = 0
    DEBUG = 1
    INFO = 2
    NOTICE = 3
    WARNING = 4
    ERROR = 5
    CRITICAL = 6
    FATAL = 7

    @classmethod
    def parse(cls, name: str) -> Severity:
        """The severity of a level-field value; raises ValueError when it is not one."""
        sev = _LEVEL_NAMES.get(name.strip().strip("[]<>:").lower())
        if sev is None:
            raise ValueError(f"not a severity level: {name!r}")
        return sev


_S = Severity
_LEVEL_NAMES: dict[str, Severity] = {
    **dict.fromkeys(["trace", "finest", "finer", "verbose", "v", "t"], _S.TRACE),
    **dict.fromkeys(["debug", "dbg", "fine", "d", "7"], _S.DEBUG),
    **dict.fromkeys(["info", "information", "informational", "inf", "i", "6", "log"], _S.INFO),
    **dict.fromkeys(["notice", "note", "n", "5"], _S.NOTICE),
    **dict.fromkeys(["warn", "warning", "wrn", "w", "4"], _S.WARNING),
    **dict.fromkeys(["error", "err", "severe", "e", "3"], _S.ERROR),
    **dict.fromkeys(["critical", "crit", "alert", "c", "2", "1", "fault", "dpanic"], _S.CRITICAL),
    **dict.fromkeys(["fatal", "emerg", "emergency", "panic", "f", "0"], _S.FATAL),
}

# Rule table, one rule a row: its severity (DEASSERT: the IPMI "Deasserted" state), its
# trigger words (comma-separated), then the regex on the lower-cased body (the rest of the row).
# A row is tried only when one of its trigger words occurs as a whole word in the body. Rows
# are applied in order and a match is dropped when it overlaps text an earlier row already
# claimed, so negations come first ("no errors" claims "errors") and specific rows precede
# generic ones ("upper non-critical" claims "critical"). The most severe surviving match wins.
DEASSERT = "deassert"
_NEGATIONS = [
    r"\b(?:no|zero|without|0)\s+(?:\w+\s+)?(?:errors?|failures?|failed|faults?|warnings?)\b",
    r"\b(?:errors?|failures?|failed|faults?|warnings?)(?:[ _]count)?\s*[=:]\s*0+(?![\d.])",
    r"\b(?:error|failure)[- ]free\b",
    r"\bnot\s+(?:an?\s+)?(?:errors?|failed|fatal|critical)\b",
    r"\b(?:on|if|ignore|ignoring)\s+errors?\b",
]
"""Negations: they claim text and count for nothing (severity None in ``RULES``)."""
_NEG_WORDS = "error errors failure failures failed fault faults warning warnings fatal critical"
_TABLE = r"""
DEASSERT deasserted                 \bdeasserted\b
FATAL    recoverable,unrecoverable  \bnon-recoverable\b|\bunrecoverable\b
WARNING  critical                   \bnon-critical\b
CRITICAL critical                   \b(?:upper|lower)\s+critical\s+going\s+(?:high|low)\b
ERROR    logging                    \blogging\s+limit\s+reached\b
WARNING  correctable                \bcorrectable\s+(?:ecc|memory\s+error|machine\s+check)
WARNING  ce,corrected               \b(?:corrected|ce)\s+(?:\w+\s+){0,2}errors?\b
CRITICAL smart                      \bfailed\s+smart\b
WARNING  unreadable,pending         \bunreadable\b|\bpending\)?\s+sectors?\b
ERROR    faulted                    \bfaulted\b
FATAL    uncorrectable              \buncorrectable\b
WARNING  machine                    \bmachine\s+check\s+events?\s+logged\b
CRITICAL machine,ierr,interrupt     \bmachine\s+check\b|\bierr\b|\bcritical\s+interrupt\b
FATAL    thermal                    \bthermal\s+trip\b
CRITICAL detected,lost              \bfailure\s+detected\b|\bac\s+lost\b|\bpower\s+(?:supply\s+)?lost\b
WARNING  predictive                 \bpredictive\s+failure\b
ERROR    fault                      \bdrive\s+fault\b
FATAL    panic                      \bpanic\b
CRITICAL memory,oom,oops,bug        \bout\s+of\s+memory\b|\boom[-_ ]?kill(?:er|ed)?\b|\boops\b|\bbug:
ERROR    segfault,segmentation,trace,lockup \bsegfault\b|\bsegmentation\s+fault\b|\bcall\s+trace\b|\bsoft\s+lockup\b
ERROR    hung,blocked               \bhung\s+task\b|\bblocked\s+for\s+more\s+than\b
ERROR    error                      \bi/o\s+error\b
ERROR    link                       \blink\s+(?:is\s+)?down\b
WARNING  authentication,password    \bauthentication\s+failures?\b|\bfailed\s+password\b
FATAL    fatal                      \bfatal\b
CRITICAL critical                   \bcritical\b
ERROR    fail,fails,failed,failure,failures,failing \bfail(?:s|ed|ure|ures|ing)?\b
ERROR    error,errors,exception,exceptions,fault,faults,faulty \berrors?\b|\bexceptions?\b|\bfault(?:s|y)?\b
ERROR    abort,aborts,aborted,aborting,corrupt,corrupted,corruption \babort(?:s|ed|ing)?\b|\bcorrupt(?:ed|ion)?\b
WARNING  timed,timeout,timeouts,time \btimed\s+out\b|\btime-?outs?\b
WARNING  full,space                 \b\d{1,3}%\s+full\b|\b(?:disk|filesystem|partition|volume)\s+(?:is\s+)?full\b|\bno\s+space\s+left\b
WARNING  slow                       \bslow\s+(?:quer(?:y|ies)|requests?|ops?|operations?|responses?)\b
WARNING  drained,draining           \bdrain(?:ed|ing)\b
WARNING  warn,warning,warnings,refused,denied \bwarn(?:ing|ings)?\b|\brefused\b|\bdenied\b
WARNING  unable,could,cannot,can,degraded \bunable\s+to\b|\bcould\s+not\b|\bcannot\b|\bcan't\b|\bdegraded\b
WARNING  unreachable,unavailable,offline,retry,retrying,invalid \bunreachable\b|\bunavailable\b|\boffline\b|\bretry(?:ing)?\b|\binvalid\b
NOTICE   shutting,shutdown,reboot,rebooting,rebooted,restart,restarting,restarted \bshutting\s+down\b|\bshutdown\b|\breboot(?:ing|ed)?\b|\brestart(?:ing|ed)?\b
"""


def _rules(table: str) -> list[tuple[Severity | str | None, str, str]]:
    rows: list[tuple[Severity | str | None, str, str]] = [
        (None, _NEG_WORDS, frag) for frag in _NEGATIONS
    ]
    for row in table.strip().splitlines():
        name, triggers, frag = row.split(None, 2)
        sev = DEASSERT if name == "DEASSERT" else Severity[name]
        rows.append((sev, triggers.replace(",", " "), frag.strip()))
    return rows


RULES = _rules(_TABLE)
"""(severity, trigger words, regex): the negations, then the table's rows in order."""

_COMPILED = [(sev, frozenset(trig.split()), re.compile(frag)) for sev, trig, frag in RULES]
_WORD = re.compile(r"[a-z]+")
TRIGGERS = frozenset().union(*(t for _, t, _ in _COMPILED))
"""Words at least one of which a body must contain for any rule to run."""
# A level written as a token near the start of the body: "INFO", "[error]", "<warn>".
_LEVEL_TOKEN = re.compile(
    r"(?<![\w.-])(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|SEVERE|CRIT|CRITICAL|FATAL|ALERT|EMERG)"
    r"(?![\w.-])"
    r"|[\[<](trace|debug|info|notice|warn|warning|error|err|crit|critical|fatal|alert|emerg)[\]>]"
)
LEVEL_TOKEN_SPAN = 128
"""How far into the body a written level token is looked for."""


_KEY_LEVEL = re.compile(
    r"(?i)(?<![\w-])[\"']?(?:level|lvl|severity|priority|loglevel|log_level|levelname)[\"']?"
    r"\s*[=:]\s*[\"']?([A-Za-z]+|\d)(?![\w-])"
)
_PRI = re.compile(r"^\s*<(\d{1,3})>")
_HEADER_LEVEL = re.compile(
    r"(?i)(?<![\w.-])(trace|debug|dbg|info|notice|warn|warning|error|err|severe|crit|critical"
    r"|fatal|alert|emerg|panic|fault)(?![\w.-])"
)
_GLOG_LETTER = re.compile(r"(?<!\S)([IWEF])\d{4}\s")
_LONE_LETTER = re.compile(r"(?<!\S)([VDIWEF])(?=\s)")


def header_level(head: str) -> Severity | None:
    """The level a line's header states, in any of the common ways: a syslog ``<PRI>``,
    a ``level=`` / ``"severity":`` key, a level word, a glog ``E1123`` or a logcat letter."""
    if "<" in head[:4]:
        m = _PRI.match(head)
        if m is not None:
            return _LEVEL_NAMES[str(int(m.group(1)) % 8)]
    m = _HEADER_LEVEL.search(head)  # the common case first: a level word
    if m is not None:
        return _LEVEL_NAMES[m.group(1).lower()]
    m = _KEY_LEVEL.search(head)  # "PRIORITY": "3", level=4
    if m is not None:
        sev = level_of(m.group(1))
        if sev is not None:
            return sev
    m = _GLOG_LETTER.search(head) or _LONE_LETTER.search(head)
    return _LEVEL_NAMES[m.group(1).lower()] if m is not None else None


def level_of(level: str | None) -> Severity | None:
    """The severity of a level-field value, or None when it is missing or not a level."""
    if not level:
        return None
    return _LEVEL_NAMES.get(level.strip().strip("[]<>:").lower())


def classify(body: str, level: str | None = None) -> Severity:
    """Severity of a log line body; ``level`` is its level field when the header had one."""
    sev = level_of(level)
    if sev is not None:
        return sev
    m = _LEVEL_TOKEN.search(body, 0, LEVEL_TOKEN_SPAN)
    if m is not None:
        return _LEVEL_NAMES[(m.group(1) or m.group(2)).lower()]
    low = body.lower()
    words = _WORD.findall(low)
    if TRIGGERS.isdisjoint(words):
        return Severity.INFO
    present = TRIGGERS.intersection(words)
    claimed: list[tuple[int, int]] = []
    best = Severity.INFO
    deasserted = False
    for sev, triggers, rx in _COMPILED:
        if triggers.isdisjoint(present):
            continue
        for m in rx.finditer(low):
            a, b = m.span()
            if any(a < y and x < b for x, y in claimed):
                continue
            claimed.append((a, b))
            if sev is None:
                continue
            if sev == DEASSERT:
                deasserted = True
            elif sev > best:  # type: ignore[operator]
                best = sev  # type: ignore[assignment]
    if deasserted:
        return Severity.NOTICE if best >= Severity.WARNING else Severity.INFO
    return best


# -- the coarser scale findings use ----------------------------------------------------------


def worst_level(counts: dict[str, int]) -> str:
    """The most severe level name with a non-zero count in ``counts`` (``{"warning": 3,
    "critical": 1}`` -> ``critical``); ``info`` when there is none."""
    for sev in sorted(Severity, reverse=True):
        if counts.get(sev.name.lower()):
            return sev.name.lower()
    return "info"


FINDING_SEVERITIES = ("info", "warning", "error", "critical")
"""The four levels a finding may carry, mildest first; a cut of :class:`Severity`."""
_FINDING_WORDS = {"high": "critical", "medium": "warning", "low": "info"}


def finding_severity(value: str) -> str:
    """Map a severity word (any spelling :meth:`Severity.parse` reads, or high / medium / low)
    onto the finding scale: TRACE..NOTICE are info, FATAL is critical; unknown words warning."""
    v = str(value).strip().lower()
    if v in _FINDING_WORDS:
        return _FINDING_WORDS[v]
    sev = level_of(v)
    if sev is None:
        return "warning"
    return FINDING_SEVERITIES[max(0, min(3, int(sev) - int(Severity.NOTICE)))]

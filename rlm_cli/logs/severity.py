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

Rules are one data table compiled into a single regex, run only when the body contains one
of the rules' trigger words (a cheap set test on the lower-cased words), so ordinary lines
cost a tokenisation and a set intersection.
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
    **dict.fromkeys(["info", "information", "informational", "inf", "i", "6"], _S.INFO),
    **dict.fromkeys(["notice", "note", "n", "5"], _S.NOTICE),
    **dict.fromkeys(["warn", "warning", "wrn", "w", "4"], _S.WARNING),
    **dict.fromkeys(["error", "err", "severe", "e", "3"], _S.ERROR),
    **dict.fromkeys(["critical", "crit", "alert", "c", "2", "1"], _S.CRITICAL),
    **dict.fromkeys(["fatal", "emerg", "emergency", "panic", "f", "0"], _S.FATAL),
}

# (severity or None for "a negation: counts for nothing", regex fragment). Order matters
# only among alternatives that can start at the same character: longer, more specific first.
# Negations come first so that "no errors" is consumed before "errors" can match.
_DEASSERT = "deassert"
RULES: list[tuple[Severity | str | None, str]] = [
    # negations
    (
        None,
        r"\b(?:no|zero|without|0)\s+(?:\w+\s+)?(?:errors?|failures?|failed|faults?|warnings?)\b",
    ),
    (None, r"\b(?:errors?|failures?|failed|faults?|warnings?)(?:[ _]count)?\s*[=:]\s*0+(?![\d.])"),
    (None, r"\b(?:error|failure)[- ]free\b"),
    (None, r"\bnot\s+(?:an?\s+)?(?:errors?|failed|fatal|critical)\b"),
    (None, r"\b(?:on|if|ignore|ignoring)\s+errors?\b"),
    # IPMI SEL states and hardware
    (_DEASSERT, r"\bdeasserted\b"),
    (_S.FATAL, r"\b(?:upper|lower)\s+non-recoverable\b|\bnon-recoverable\b|\bunrecoverable\b"),
    (_S.WARNING, r"\b(?:upper|lower)\s+non-critical\b|\bnon-critical\b"),
    (_S.CRITICAL, r"\b(?:upper|lower)\s+critical\s+going\s+(?:high|low)\b"),
    (_S.ERROR, r"\bcorrectable\s+ecc\s+logging\s+limit\s+reached\b|\blogging\s+limit\s+reached\b"),
    (_S.WARNING, r"\bcorrectable\s+(?:ecc|memory\s+error|machine\s+check)"),
    (_S.FATAL, r"\buncorrectable\s+(?:ecc|memory|machine|error|bus)\b|\buncorrectable\b"),
    (_S.WARNING, r"\bmachine\s+check\s+events?\s+logged\b"),
    (_S.CRITICAL, r"\bmachine\s+check\b|\bierr\b|\bcritical\s+interrupt\b"),
    (_S.FATAL, r"\bthermal\s+trip\b"),
    (_S.CRITICAL, r"\bfailure\s+detected\b|\bac\s+lost\b|\bpower\s+(?:supply\s+)?lost\b"),
    (_S.WARNING, r"\bpredictive\s+failure\b"),
    (_S.ERROR, r"\bdrive\s+fault\b"),
    # kernel and services
    (_S.FATAL, r"\bkernel\s+panic\b|\bpanic\b"),
    (_S.CRITICAL, r"\bout\s+of\s+memory\b|\boom[-_ ]?kill(?:er|ed)?\b|\boops\b|\bbug:"),
    (_S.ERROR, r"\bsegfault\b|\bsegmentation\s+fault\b|\bcall\s+trace\b|\bsoft\s+lockup\b"),
    (_S.ERROR, r"\bhung\s+task\b|\bblocked\s+for\s+more\s+than\b|\bi/o\s+error\b"),
    (_S.ERROR, r"\blink\s+(?:is\s+)?down\b|\bnic\s+link\s+is\s+down\b"),
    (_S.WARNING, r"\bauthentication\s+failures?\b|\bfailed\s+password\b"),
    (_S.FATAL, r"\bfatal\b"),
    (_S.CRITICAL, r"\bcritical\b"),
    (_S.ERROR, r"\bfail(?:s|ed|ure|ures|ing)?\b|\berrors?\b|\bexceptions?\b|\bfault(?:s|y)?\b"),
    (_S.ERROR, r"\babort(?:s|ed|ing)?\b|\bcorrupt(?:ed|ion)?\b"),
    (_S.WARNING, r"\btimed\s+out\b|\btime-?outs?\b|\bwarn(?:ing|ings)?\b|\brefused\b|\bdenied\b"),
    (_S.WARNING, r"\bunable\s+to\b|\bcould\s+not\b|\bcannot\b|\bcan't\b|\bdegraded\b"),
    (_S.WARNING, r"\bunreachable\b|\bunavailable\b|\boffline\b|\bretry(?:ing)?\b|\binvalid\b"),
    (_S.NOTICE, r"\bshutting\s+down\b|\bshutdown\b|\breboot(?:ing|ed)?\b|\brestart(?:ing|ed)?\b"),
]

_COMBINED = re.compile(
    "|".join(f"(?P<r{i}>{frag})" for i, (_, frag) in enumerate(RULES)), re.IGNORECASE
)
_RULE_SEV = {f"r{i}": sev for i, (sev, _) in enumerate(RULES)}
_WORD = re.compile(r"[a-z]+")
# Trigger words: a body must contain one (as a whole lower-case word) for the rules to run.
TRIGGERS = frozenset(
    [
        "deasserted",
        "non",
        "recoverable",
        "unrecoverable",
        "critical",
        "correctable",
        "uncorrectable",
        "ecc",
        "machine",
        "ierr",
        "thermal",
        "failure",
        "lost",
        "predictive",
        "drive",
        "fault",
        "panic",
        "memory",
        "oom",
        "killer",
        "kill",
        "killed",
        "oops",
        "bug",
        "segfault",
        "segmentation",
        "trace",
        "lockup",
        "hung",
        "blocked",
        "error",
        "errors",
        "link",
        "nic",
        "authentication",
        "failed",
        "fatal",
        "fail",
        "fails",
        "failures",
        "failing",
        "exceptions",
        "exception",
        "faults",
        "faulty",
        "abort",
        "aborts",
        "aborted",
        "aborting",
        "corrupt",
        "corrupted",
        "corruption",
        "timed",
        "timeout",
        "timeouts",
        "time",
        "warn",
        "warning",
        "warnings",
        "refused",
        "denied",
        "unable",
        "could",
        "cannot",
        "can",
        "degraded",
        "unreachable",
        "unavailable",
        "offline",
        "retry",
        "retrying",
        "invalid",
        "shutting",
        "shutdown",
        "reboot",
        "rebooting",
        "rebooted",
        "restart",
        "restarting",
        "restarted",
        "logging",
    ]
)
# A level written as a token near the start of the body: "INFO", "[error]", "<warn>".
_LEVEL_TOKEN = re.compile(
    r"(?<![\w.-])(TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|SEVERE|CRIT|CRITICAL|FATAL|ALERT|EMERG)"
    r"(?![\w.-])"
    r"|[\[<](trace|debug|info|notice|warn|warning|error|err|crit|critical|fatal|alert|emerg)[\]>]"
)
LEVEL_TOKEN_SPAN = 64
"""How far into the body a written level token is looked for."""


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
    if TRIGGERS.isdisjoint(_WORD.findall(low)):
        return Severity.INFO
    best = Severity.INFO
    deasserted = False
    for m in _COMBINED.finditer(low):
        rule = _RULE_SEV[m.lastgroup]  # type: ignore[index]
        if rule is None:
            continue
        if rule == _DEASSERT:
            deasserted = True
        elif rule > best:
            best = rule  # type: ignore[assignment]
    if deasserted:
        return Severity.NOTICE if best >= Severity.WARNING else Severity.INFO
    return best

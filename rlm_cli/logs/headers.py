"""Header detection: split each log line into header fields and message body.

No per-format configuration is needed. :meth:`HeaderModel.learn` looks at a sample
of lines, splits the start of each into tokens (a bracketed group counts as one
token), gives every token a *shape* (date, time, month, number, level word, host-like,
``component[pid]:``, bracket, separator, plain word) and finds the leading columns
whose shape is consistent across most lines. The header is that run of columns up
to the last one that looks like header material (times, numbers, levels, hosts,
separators) or up to a ``component:`` column, which ends a header. Plain words are
kept inside the header only when header columns surround them (``RAS KERNEL INFO``,
a syslog host name before ``sshd[42]:``).

The learned columns compile into one anchored regex, so splitting a line is a
single ``match`` call; lines the regex misses go through a tolerant slow path
(one column may differ, e.g. an alert tag where most lines have ``-``). A stream
mixing kinds of logs gets one layout per kind (:meth:`HeaderModel.add_layout`; the
template miner learns them from dense runs of lines no layout matches). Table rows
(``id | date | time | sensor | event``) keep their cells after the leading
date/time ones as message.

JSON lines (most of the sample starts with ``{``) have no columns: the message value
(``msg``, ``message``, ``MESSAGE``, ``log``...) is the body, the keys before it the header.
A column whose values are host names is the header's host field (:func:`_host_column`).

Users can add formats for odd logs in YAML; they are tried first::

    formats:
      - name: myapp
        regex: '^(?P<time>\\S+ \\S+) (?P<host>\\S+) (?P<body>.*)$'

A ``host`` group names the line's host in the log map, a ``level`` group its level.
"""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rlm_cli.errors import ConfigError
from rlm_cli.store.timestamps import MONTHS

# --- token shapes -------------------------------------------------------------

TIME, DATE, MONTH, WEEKDAY, NUM, LEVEL, SEP, COMP, HOST, BRACKET, WORD = (
    "T",
    "D",
    "M",
    "W",
    "N",
    "L",
    "S",
    "C",
    "H",
    "B",
    "X",
)
_STRONG = frozenset({TIME, DATE, MONTH, WEEKDAY, NUM, LEVEL, SEP, HOST})
_MAX_COLS = 14
_LEAD_CHARS = 400

LEVEL_WORDS = frozenset(
    w.lower()
    for w in [
        "TRACE",
        "DEBUG",
        "DBG",
        "FINE",
        "FINER",
        "FINEST",
        "CONFIG",
        "INFO",
        "INFORMATION",
        "NOTICE",
        "WARN",
        "WARNING",
        "ERR",
        "ERROR",
        "SEVERE",
        "CRIT",
        "CRITICAL",
        "FATAL",
        "LOG",
        "FAILURE",
        "ALERT",
        "EMERG",
        "EMERGENCY",
        "PANIC",
        "I",
        "W",
        "E",
        "F",
        "D",
        "V",
    ]
    if len(w) > 1
)
_MONTHS = frozenset([m.lower() for m in MONTHS] + ["sept"])
_WEEKDAYS = frozenset(["mon", "tue", "wed", "thu", "fri", "sat", "sun"])

_TOKEN_RE = re.compile(r"\[(?:[^\[\]]|\[[^\[\]]*\])*\]\S*|<[^<>\s]{1,20}>|\S+")
_KV_RE = re.compile(r"^([A-Za-z_][\w.]*)=(\S+)$")
_TIME_RE = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?$")
_DATE_RE = re.compile(
    r"^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}[-/][A-Za-z]{3}[-/]\d{2,4})"
    r"(?:[T_ :.-][\d:.,]+)?(?:Z|[+-]\d{2}:?\d{2})?$"
)
_NUM_RE = re.compile(r"^[-+]?\d+(?:\.\d+)?$")
_SEP_RE = re.compile(r"^(?:-+|\||:|\*+|=+|>+|#)$")
_COMP_RE = re.compile(r"^[A-Za-z_/][\w.$/@()\-]*(?:\[[^\]\s]*\])?(?:\([^)\s]*\))?:$")
_PROGPID_RE = re.compile(r"^[A-Za-z_/][\w.$/\-]*(?:\([^)\s]*\))?\[\d+\]:?$")
_IP_RE = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?$")
_MONTHDAY_RE = re.compile(r"^(?:0[1-9]|1[0-2])-(?:[0-2]\d|3[01])$")  # Android's 03-17
_HOSTLIKE_RE = re.compile(r"[\w.:\-]+")
_HOST_COLON_RE = re.compile(r"^[a-z][a-z0-9.-]*\d[a-z0-9.-]*:$")  # lower case: not a.b.v2.Class:
_HOSTNAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$")
_HAS_DIGIT = re.compile(r"\d")
_HAS_ALPHA = re.compile(r"[A-Za-z]")


def token_shape(tok: str) -> str:
    """Classify one leading token into a shape letter (see module docstring)."""
    low = tok.lower()
    if tok[0] in "[<" and len(tok) > 2:
        inner = tok[1:].rstrip(":]>").lower().strip()
        if inner in LEVEL_WORDS:
            return LEVEL
        if _TIME_RE.search(inner.split()[-1] if inner.split() else "") or _DATE_RE.match(
            inner.split()[0] if inner.split() else ""
        ):
            return TIME
        if any(_TIME_RE.match(p) for p in inner.split()):
            return TIME
        if _NUM_RE.match(inner.strip(" ")):
            return NUM
        return BRACKET
    kv = _KV_RE.match(tok)
    if kv is not None:  # ts=2026-..., level=warn, time="12:00:01": judge the value
        value = kv.group(2).strip("\"'")
        if value:
            shape = token_shape(value)
            if shape in (TIME, DATE, LEVEL) or (shape == NUM and len(value) >= 9):
                return shape
        return WORD
    stripped = low.rstrip(":,")
    if stripped in LEVEL_WORDS:
        return LEVEL
    bare = tok.rstrip(",")  # "04:30:30," before a level
    if _IP_RE.match(bare):
        return HOST
    if _TIME_RE.match(bare):
        return TIME
    if _DATE_RE.match(bare) or _MONTHDAY_RE.match(bare):
        return DATE
    if _NUM_RE.match(stripped):
        return NUM
    if stripped in _MONTHS:
        return MONTH
    if stripped in _WEEKDAYS:
        return WEEKDAY
    if _SEP_RE.match(tok):
        return SEP
    if _HOST_COLON_RE.match(tok) and low[:-1] not in LEVEL_WORDS:
        return HOST  # "r3n09-bmc:", "node09:" (pdsh, collectors): a name with a digit
    if _PROGPID_RE.match(tok) or (len(tok) > 1 and _COMP_RE.match(tok)):
        return COMP
    if (
        _HOSTLIKE_RE.fullmatch(tok)
        and _HAS_DIGIT.search(tok)
        and _HAS_ALPHA.search(tok)
        and low.split(":", 1)[0] not in LEVEL_WORDS  # WARNING:pkg3.mod:message
    ):
        return HOST
    return WORD


_SHAPE_RX = {
    TIME: r"(?:\[[^\]]*\]\S*|\d{1,2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?,?)",
    DATE: r"(?:\d{1,4}[-/.][\dA-Za-z]{1,3}[-/.]\d{1,4}(?:[T_ :.-][\d:.,]+)?(?:Z|[+-]\d{2}:?\d{2})?,?|\d{2}-\d{2})",
    MONTH: r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*",
    WEEKDAY: r"(?i:mon|tue|wed|thu|fri|sat|sun)[a-z]*",
    NUM: r"(?:\[\s*)?[-+]?\d+(?:\.\d+)?(?:\])?[:,]?",
    SEP: r"(?:-+|\||:|\*+|=+|>+|#)",
    COMP: r"[A-Za-z_/][\w.$/@()\-]*(?:\[[^\]\s]*\])?(?:\([^)\s]*\))?:|[A-Za-z_/][\w.$/\-]*(?:\([^)\s]*\))?\[\d+\]:?",
    HOST: r"[\w.:\-]+",
    BRACKET: r"\[(?:[^\[\]]|\[[^\[\]]*\])*\]\S*",
    WORD: r"[^\s\[<]\S*",
}


def _shape_rx(shape: str, levels: Iterable[str]) -> str:
    if shape == LEVEL:
        words = "|".join(sorted((re.escape(w) for w in levels), key=len, reverse=True))
        rx = rf"(?:[\[<]?(?i:{words})[\]>]?:?)"
    else:
        rx = _SHAPE_RX[shape]
    if shape in (TIME, DATE, LEVEL, NUM):  # also as the value of key=value
        rx = rf"(?:[A-Za-z_][\w.]*=[\"']?)?{rx}[\"']?"
    return rx


# --- public types -------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """Where the message body starts in a line, and the header fields recognised."""

    body_start: int
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UserFormat:
    """A user-supplied format: a named regex with a ``body`` group."""

    name: str
    regex: re.Pattern[str]


@dataclass
class HeaderModel:
    """Learned header layouts: for each, the shapes allowed in each leading column.

    Most sources have one layout; a stream that mixes kinds of logs (several files,
    a container's interleaved output) gains more through :meth:`add_layout`.
    """

    layouts: list[list[frozenset[str]]] = field(default_factory=list)
    formats: list[UserFormat] = field(default_factory=list)
    host_cols: list[int | None] = field(default_factory=list)
    json: bool = False  # JSON lines: the body is the message value
    _rxs: list[re.Pattern[str]] | None = field(default=None, repr=False, compare=False)

    max_layouts = 32

    # -- learning --------------------------------------------------------------

    @classmethod
    def learn(cls, sample_lines: Iterable[str], formats: Sequence[UserFormat] = ()) -> HeaderModel:
        """Learn the common leading-field structure from a sample of raw lines."""
        sample = [line for line in sample_lines if line.strip()]
        if sample and sum(1 for line in sample if line.lstrip()[:1] == "{") >= 0.7 * len(sample):
            return cls(formats=list(formats), json=True)
        cols, host = learn_layout_and_host(sample)
        return cls(
            layouts=[cols] if cols else [], formats=list(formats), host_cols=[host] if cols else []
        )

    @classmethod
    def empty(cls) -> HeaderModel:
        """A model that treats every line as all body."""
        return cls()

    def add_layout(self, sample_lines: Iterable[str]) -> bool:
        """Learn one more layout from the lines now coming (the current ones miss them or
        fit them loosely); it is tried first. True if one was added."""
        if len(self.layouts) >= self.max_layouts:
            return False
        cols, host = learn_layout_and_host(sample_lines)
        if not cols:
            return False
        if cols in self.layouts:  # known: try it first from now on
            i = self.layouts.index(cols)
            self.layouts.insert(0, self.layouts.pop(i))
            self.host_cols.insert(0, self.host_cols.pop(i))
            self._rxs = None
            return False
        self.layouts.insert(0, cols)  # tried first: it fits the lines now coming
        self.host_cols.insert(0, host)
        self._rxs = None
        return True

    def with_formats_file(self, path: Path) -> HeaderModel:
        """Return a copy that tries the formats in a YAML file first."""
        return HeaderModel(
            layouts=list(self.layouts),
            formats=load_formats(path) + self.formats,
            host_cols=list(self.host_cols),
            json=self.json,
        )

    @property
    def columns(self) -> list[frozenset[str]]:
        """The primary layout's columns (empty when no header was learned)."""
        return self.layouts[0] if self.layouts else []

    # -- splitting -------------------------------------------------------------

    @property
    def regexes(self) -> list[re.Pattern[str]]:
        """One compiled, anchored regex per layout, tried in order."""
        if self._rxs is None:
            hosts = self.host_cols + [None] * (len(self.layouts) - len(self.host_cols))
            self._rxs = [_compile(cols, h) for cols, h in zip(self.layouts, hosts, strict=True)]
        return self._rxs

    @property
    def regex(self) -> re.Pattern[str] | None:
        """The primary layout's regex (None when no header was learned)."""
        return _compile_cached(tuple(self.layouts[0])) if self.layouts else None

    def fast_start(self, line: str) -> int:
        """Body offset when a user format or a layout regex matches, else -1."""
        for fmt in self.formats:
            m = fmt.regex.match(line)
            if m is not None:
                return m.start("body") if "body" in fmt.regex.groupindex else m.end()
        if line[:1] == "{":  # a JSON line, whatever the rest of the stream is
            start = json_body_start(line)
            if start >= 0:
                return start
        rxs = self._rxs if self._rxs is not None else self.regexes
        for i, rx in enumerate(rxs):
            m = rx.match(line)
            if m is not None:
                if i:  # lines come in runs from one source: try its layout first
                    rxs.insert(0, rxs.pop(i))
                return m.end()
        return -1

    def locate(self, line: str) -> tuple[int, tuple[int, int] | None]:
        """Body offset and the span of the host field (None when the header has none)."""
        for fmt in self.formats:
            m = fmt.regex.match(line)
            if m is not None:
                start = m.start("body") if "body" in fmt.regex.groupindex else m.end()
                host = m.span("host") if "host" in fmt.regex.groupindex else None
                return start, host if host and host[0] >= 0 else None
        if line[:1] == "{":
            start = json_body_start(line)
            if start >= 0:
                return start, None
        rxs = self._rxs if self._rxs is not None else self.regexes
        for i, rx in enumerate(rxs):
            m = rx.match(line)
            if m is not None:
                if i:
                    rxs.insert(0, rxs.pop(i))
                host = m.span("host") if "host" in rx.groupindex else None
                return m.end(), host
        return self._slow_start(line)[0], None

    def starts_like_header(self, line: str) -> bool:
        """Cheap check: does the first or second token fit its column in some layout?"""
        toks = []
        for m in _TOKEN_RE.finditer(line, 0, _LEAD_CHARS):
            toks.append(token_shape(m.group()))
            if len(toks) == 2:
                break
        return any(
            any(i < len(cols) and s in cols[i] for i, s in enumerate(toks)) for cols in self.layouts
        )

    def body_start(self, line: str) -> int:
        """Offset where the message body starts in ``line``."""
        start = self.fast_start(line)
        return start if start >= 0 else self._slow_start(line)[0]

    def split(self, line: str) -> Header:
        """Split ``line`` into header fields and the offset of its body."""
        line = line.rstrip("\r\n")
        for fmt in self.formats:
            m = fmt.regex.match(line)
            if m is not None:
                fields = {k: v for k, v in m.groupdict().items() if k != "body" and v is not None}
                start = m.start("body") if "body" in fmt.regex.groupindex else m.end()
                fields["format"] = fmt.name
                return Header(start, fields)
        if line[:1] == "{" and json_body_start(line) >= 0:
            return Header(json_body_start(line), {})
        start, toks = self._slow_start(line)
        return Header(start, _fields(toks))

    def _slow_start(self, line: str) -> tuple[int, list[tuple[str, str, int]]]:
        """Tolerant column match over the layouts: (body offset, header tokens)."""
        best: tuple[int, list[tuple[str, str, int]]] = (0, [])
        for cols in self.layouts:
            start, toks, full = _tolerant(line, cols)
            if full:
                return start, toks
            if start > best[0] and not best[1]:
                best = (start, toks)
        return best


_JSON_MSG = re.compile(r'"(?:msg|message|MESSAGE|Message|log|text|body|short_message)"\s*:\s*"')


def json_body_start(line: str) -> int:
    """Where the message value starts in a JSON line (its key, the first of ``msg``,
    ``message``, ``MESSAGE``, ``log``...); the keys before it are header. 0 when the line
    is JSON without a message key; -1 when it is not a JSON object."""
    if line[:1] != "{" and line.lstrip()[:1] != "{":
        return -1
    m = _JSON_MSG.search(line)
    return m.end() if m is not None else 0


def learn_layout(sample_lines: Iterable[str]) -> list[frozenset[str]]:
    """Header columns (allowed shapes per column) common to most sample lines."""
    return learn_layout_and_host(sample_lines)[0]


def learn_layout_and_host(sample_lines: Iterable[str]) -> tuple[list[frozenset[str]], int | None]:
    """Header columns and which of them names the host (see :func:`_host_column`)."""
    rows: list[list[str]] = []
    toks: list[list[str]] = []
    for line in sample_lines:
        line = line.rstrip("\r\n")
        if not line.strip():
            continue
        lead = _lead_tokens(line)
        toks.append(lead)
        rows.append([token_shape(t) for t in lead])
    cols = _learn_columns(rows)
    return cols, _host_column(cols, toks)


_NOT_HOSTS = LEVEL_WORDS | _MONTHS | _WEEKDAYS


def _host_column(cols: list[frozenset[str]], toks: list[list[str]]) -> int | None:
    """The header column that names the host, judged from its values, not a format list.

    A column qualifies when nearly all its values are host names (a letter first, then
    letters, digits, ``-``, ``_`` and dots; a trailing ``:`` or ``|`` or surrounding
    brackets allowed, brackets only in the first column) and either most carry a digit
    and several differ (``node09``, ``r3n09-bmc:``, ``ip-10-0-3-17``), or it stands
    between the time and a ``program[pid]:`` column (the syslog host field).
    """
    for i, allowed in enumerate(cols):
        if not allowed & {HOST, WORD, BRACKET}:
            continue
        vals = [row[i] for row in toks if len(row) > i]
        if not vals:
            continue
        names = []
        for v in vals:
            if v[:1] == "[":
                if i:
                    break
                v = v[1:].rstrip(":").rstrip("]")
            v = v.rstrip(":|,")
            if _HOSTNAME_RE.match(v) and v.lower() not in _NOT_HOSTS:
                names.append(v)
        if len(names) < 0.9 * len(vals):
            continue
        digits = sum(1 for v in names if _HAS_DIGIT.search(v))
        syslog = i > 0 and cols[i - 1] & {TIME, DATE} and i + 1 < len(cols) and COMP in cols[i + 1]
        if syslog or (digits >= 0.5 * len(names) and len(set(names)) >= 2):
            return i
    return None


def _tolerant(
    line: str, cols: list[frozenset[str]]
) -> tuple[int, list[tuple[str, str, int]], bool]:
    """Match ``cols`` allowing a few odd columns; (offset, tokens, whole header?)."""
    toks: list[tuple[str, str, int]] = []
    misses = 0
    last_good = 0
    allowed_misses = max(1, len(cols) // 4)
    for i, m in enumerate(_TOKEN_RE.finditer(line, 0, _LEAD_CHARS)):
        if i >= len(cols):
            break
        tok = m.group()
        shape = token_shape(tok)
        if shape not in cols[i]:
            misses += 1
            if misses > allowed_misses or i == len(cols) - 1:
                break
        else:
            last_good = i + 1
        toks.append((tok, shape, m.end()))
    if last_good == len(cols) and misses <= allowed_misses:
        return _skip_ws(line, toks[-1][2]), toks, True
    # partial: keep the longest clean prefix ending on a strong column
    clean = 0
    for i, (_, shape, _) in enumerate(toks):
        if shape not in cols[i]:
            break
        if shape in _STRONG or shape == COMP:
            clean = i + 1
    if clean == 0:
        return 0, [], False
    return _skip_ws(line, toks[clean - 1][2]), toks[:clean], False


def _skip_ws(line: str, pos: int) -> int:
    n = len(line)
    while pos < n and line[pos] in " \t":
        pos += 1
    return pos


def _lead_tokens(line: str) -> list[str]:
    out = []
    for m in _TOKEN_RE.finditer(line, 0, _LEAD_CHARS):
        out.append(m.group())
        if len(out) >= _MAX_COLS:
            break
    return out


def _learn_columns(rows: list[list[str]], min_share: float = 0.7) -> list[frozenset[str]]:
    """Pick the header columns from per-line shape rows (see module docstring)."""
    if not rows:
        return []
    n = len(rows)
    stats: list[Counter[str]] = []
    for i in range(_MAX_COLS):
        c = Counter(r[i] for r in rows if len(r) > i)
        stats.append(c)
    header_end = 0
    pending_words = 0
    for i, c in enumerate(stats):
        if not c:
            break
        shape, cnt = c.most_common(1)[0]
        if shape in (NUM, HOST):  # ids: decimal, hex or node-like, one column
            cnt = c[NUM] + c[HOST]
        if cnt / n < min_share:
            break
        if shape == SEP and pending_words > 1:
            break  # a separator after words: a table row's cells are message
        if shape in _STRONG:
            header_end = i + 1
            pending_words = 0
        elif shape == COMP:
            if pending_words <= 1 and (header_end > 0 or i == 0):
                header_end = i + 1
                header_end = _inner_header(stats, header_end, n, min_share)
            break
        else:  # WORD / BRACKET: keep only if a header column follows soon
            pending_words += 1
            if pending_words > 2:
                break
    cols = []
    for c in stats[:header_end]:
        total = sum(c.values())
        cols.append(frozenset(s for s, k in c.items() if k >= max(2, 0.02 * total)))
    return cols


def _inner_header(stats: list[Counter[str]], start: int, n: int, min_share: float) -> int:
    """After ``program:``, a second header that a wrapper kept (a syslog line carrying an
    ``ipmitool sel`` row ``1a | 11/18/2026 | 10:03:27 |``): strong columns that reach a
    date or a time extend the header; anything else leaves it at ``start``."""
    end = start
    for i in range(start, len(stats)):
        c = stats[i]
        if not c:
            break
        shape, cnt = c.most_common(1)[0]
        if shape in (NUM, HOST, WORD):
            shape, cnt = NUM, c[NUM] + c[HOST] + (c[WORD] if shape != WORD else 0)
        if cnt / n < min_share or shape not in _STRONG:
            break
        if shape in (DATE, TIME):
            end = i + 1
            if i + 1 < len(stats) and stats[i + 1] and stats[i + 1].most_common(1)[0][0] == SEP:
                end = i + 2
    return end


@functools.lru_cache(maxsize=64)
def _compile_cached(cols: tuple[frozenset[str], ...]) -> re.Pattern[str]:
    return _compile(list(cols))


def _compile(cols: list[frozenset[str]], host: int | None = None) -> re.Pattern[str]:
    parts = []
    for i, allowed in enumerate(cols):
        alts = [_shape_rx(s, LEVEL_WORDS) for s in sorted(allowed)]
        rx = "(?:" + "|".join(alts) + ")"
        if i == host:  # the name itself, without brackets or a trailing ':' or '|'
            rx = r"(?:\[?(?P<host>[A-Za-z0-9][\w.-]*)\]?:?(?=[ \t]|$)|" + rx + ")"
        parts.append(rx)
    return re.compile(r"[ \t]*" + r"[ \t]+".join(parts) + r"(?:[ \t]+|$)")


def _is_time_number(toks: list[tuple[str, str, int]], i: int) -> bool:
    """A number that belongs to the timestamp: epoch seconds (9+ digits), the day
    after a month name, a year after a time, a ``yymmdd hhmmss`` pair at the start."""
    tok = toks[i][0].strip("[]")
    digits = tok.split(".")[0].lstrip("-")
    if len(digits) >= 9:
        return True
    prev = toks[i - 1][1] if i > 0 else ""
    if prev in (MONTH, WEEKDAY) and len(tok) <= 2:  # Jun 14
        return True
    if prev in (TIME, DATE) and len(tok) == 4 and tok[:2] in ("19", "20"):  # ... 2005
        return True
    if len(tok) == 6 and tok.isdigit() and i <= 1:
        j = 1 - i
        return j < len(toks) and len(toks[j][0]) == 6 and toks[j][0].isdigit()
    return False


def _fields(toks: list[tuple[str, str, int]]) -> dict[str, str]:
    """Name the header tokens: time, host, component, pid, level; others as fieldN."""
    fields: dict[str, str] = {}
    time_parts: list[str] = []
    seen_time = False
    for i, (tok, shape, _) in enumerate(toks):
        kv = _KV_RE.match(tok) if shape in (TIME, DATE, LEVEL, NUM) else None
        if kv is not None:
            tok = kv.group(2).strip("\"'")
        if shape in (TIME, DATE, MONTH, WEEKDAY) or (shape == NUM and _is_time_number(toks, i)):
            time_parts.append(tok.strip("[]"))
            seen_time = True
        elif shape == LEVEL and "level" not in fields:
            fields["level"] = tok.strip("[]<>:").upper()
        elif shape == COMP and "component" not in fields:
            name = tok.rstrip(":")
            pid = re.search(r"\[(\d+)\]$", name)
            if pid:
                fields["pid"] = pid.group(1)
                name = name[: pid.start()]
            fields["component"] = name
        elif shape == NUM and seen_time and "pid" not in fields:
            fields["pid"] = tok.strip("[]")
        elif shape in (HOST, WORD) and seen_time and "host" not in fields:
            fields["host"] = tok
        else:
            fields[f"field{i + 1}"] = tok
    if time_parts:
        fields["time"] = " ".join(time_parts)
    return fields


def load_formats(path: Path) -> list[UserFormat]:
    """Read user formats from YAML (``formats: [{name, regex}]``)."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f"cannot read log formats file {path}: {e}") from e
    items = data.get("formats", []) if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f"{path}: expected a 'formats:' list")
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or "regex" not in item:
            raise ConfigError(f"{path}: format #{i + 1} needs a 'regex'")
        try:
            rx = re.compile(str(item["regex"]))
        except re.error as e:
            raise ConfigError(f"{path}: format #{i + 1} has a bad regex: {e}") from e
        out.append(UserFormat(str(item.get("name", f"format{i + 1}")), rx))
    return out

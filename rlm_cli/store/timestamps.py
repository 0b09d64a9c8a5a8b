"""Find and parse the timestamp in a raw log line, with no per-format configuration.

``TimestampParser().parse(line)`` returns a :class:`TimeMatch` (character span, UTC epoch
seconds, relative seconds, format kind) or ``None``. The parser is stateful: it tries the
format that matched the previous line first (most logs use one format throughout), and it
infers the year of year-less syslog stamps across a stream (``Dec 31`` then ``Jan 1`` moves
to the next year).

Kinds recognised (searched in the first ``HEAD`` characters of the line; when several
formats match, the one that starts earliest wins):

iso8601    ``2026-11-23T04:12:55.003Z``, ``2026-11-23 04:12:55,978``, ``+hh:mm``/``+hhmm``
           zones, ``/`` date separators; journalctl ``short-iso`` lines
rfc5424    ``<34>1 2026-11-23T04:12:55.003Z host app ...`` (span is the timestamp only)
rfc3164    ``Nov 23 04:12:55`` / ``Jun  3 15:42:50`` (year inferred; an explicit year
           right after the time is used when present)
ctime      ``Sun Dec 04 04:47:44 2005`` (Apache error log, ``dmesg -T``)
apache     ``10/Oct/2000:13:55:36 -0700`` (common/combined log format)
bgl        ``2005-06-03-15.42.50.675872``
yymmdd     ``081109 203615`` at line start (HDFS)
sel        ``ipmitool sel elist``: ``  1a | 11/23/2026 | 04:12:55 | ...``
sel_preinit ``ipmitool`` ``Pre-Init  |0000000085|``: relative seconds since BMC init
epoch      10-digit epoch seconds (optional fraction) as one of the first six fields
epoch_ms   13-digit epoch milliseconds, same placement
dmesg      ``[  123.456789]``: relative seconds since boot
mon_dmy    ``23-Nov-2026 04:12:55.123`` (Tomcat, Oracle)
mmdd       ``11-23 04:12:55.123`` at line start (Android logcat; year inferred)
glog       ``I1123 04:12:55.123456`` at line start (glog / Kubernetes; year inferred)
(JSON)     a JSON line's ``time``/``ts``/``timestamp``/``__REALTIME_TIMESTAMP``/``Created``
           key, wherever it stands: epoch seconds, ms, us (``epoch_us``) or ns
           (``epoch_ns``), or any stamp above, reported with that stamp's kind

Timestamps without a zone are taken as UTC unless the parser was given ``tz``. Relative
kinds (``dmesg``, ``sel_preinit``) report ``epoch=None`` and ``relative`` seconds. Epoch
values are accepted only between 2000-01-01 and 2100-01-01 so that ids and counters are
not mistaken for times.

:func:`parse_time_expr` turns a user's time expression (``"2026-11-23 04:00"``,
``"1700000000"``, ``"30 min ago"``) into epoch seconds for ``window(t0, t1)``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

HEAD = 160
"""How many leading characters of a line are searched for a timestamp."""

FAST_SLACK = 24
"""How far right of the previous line's stamp the previous format is trusted blindly."""

EPOCH_MIN = 946684800.0  # 2000-01-01T00:00:00Z
EPOCH_MAX = 4102444800.0  # 2100-01-01T00:00:00Z


@dataclass(frozen=True, slots=True)
class TimeMatch:
    """A timestamp found in a line: its span, UTC epoch seconds and/or relative seconds."""

    start: int
    end: int
    epoch: float | None
    relative: float | None
    kind: str


MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
"""Month abbreviations as logs write them, January first (the one list of them)."""
_MONTHS = {m: i + 1 for i, m in enumerate(MONTHS)}
_MON = "(" + "|".join(MONTHS) + ")"
_POW10 = [10**i for i in range(10)]
# Every supported stamp contains one of these (hh:mm:ss, a fraction or dotted time, a run of
# six digits, Pre-Init): lines without any skip the full search.
_MAYBE_STAMP = re.compile(r":\d\d:|\d\.\d|\d{6}|Pre-Init")
_MISSING = object()

# Each pattern has a named group ``ts`` giving the span reported.
_RE_ISO = re.compile(
    r"(?<!\d)(?P<ts>(\d{4})([-/])(\d\d)\3(\d\d)[T ](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?"
    r"(?:(Z)|\s?([+-]\d\d:?\d\d)(?!\d))?)"
)
_RE_5424 = re.compile(
    r"^\s*<\d{1,3}>\d{1,2} (?P<ts>(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?"
    r"(?:(Z)|([+-]\d\d:\d\d)))"
)
_RE_3164 = re.compile(
    r"(?<![A-Za-z])(?P<ts>" + _MON + r" {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?"
    r"(?: ((?:19|20)\d\d)(?![\d:]))?)"
)
_RE_CTIME = re.compile(
    r"(?P<ts>(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) " + _MON + r" {1,2}(\d{1,2}) (\d\d):(\d\d):(\d\d)"
    r"(?:\.(\d{1,9}))? (\d{4}))(?!\d)"
)
_RE_APACHE = re.compile(
    r"(?<!\d)(?P<ts>(\d\d)/" + _MON + r"/(\d{4}):(\d\d):(\d\d):(\d\d)(?: ([+-]\d{4}))?)(?!\d)"
)
_RE_BGL = re.compile(
    r"(?<!\d)(?P<ts>(\d{4})-(\d\d)-(\d\d)-(\d\d)\.(\d\d)\.(\d\d)(?:\.(\d{1,9}))?)(?!\d)"
)
_RE_YYMMDD = re.compile(r"^(?P<ts>(\d\d)(\d\d)(\d\d) (\d\d)(\d\d)(\d\d))(?![\d:.])")
_RE_SEL = re.compile(r"(?<![\d/])(?P<ts>(\d\d)/(\d\d)/(\d{4})\s*\|\s*(\d\d):(\d\d):(\d\d))(?!\d)")
_RE_PREINIT = re.compile(r"Pre-Init\s*\|\s*(?P<ts>\d{1,10})(?=\s*\|)")
_RE_EPOCH = re.compile(r"^\s*(?:\S+\s+){0,5}?(?P<ts>(\d{13})|(\d{10})(\.\d{1,9})?)(?=[\s,;|\]]|$)")
_RE_MON_DMY = re.compile(
    r"(?<![\d/])(?P<ts>(\d\d)-"
    + _MON
    + r"-(\d{4})[ :](\d\d):(\d\d):(\d\d)(?:[.,](\d{1,9}))?)(?!\d)"
)
_RE_MMDD = re.compile(r"^(?P<ts>(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?)(?![\d-])")
_RE_GLOG = re.compile(r"^[IWEF](?P<ts>(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{1,9}))(?!\d)")
_RE_DMESG = re.compile(r"\[\s*(?P<ts>\d{1,8}\.\d{1,9})\]")
# A JSON line's time key and value (searched in the whole line: keys come in any order).
_RE_JSON_TIME = re.compile(
    r'"(?:__REALTIME_TIMESTAMP|@?timestamp|time|ts|datetime|date|Created|created|eventTime)"'
    r'\s*:\s*"?(?P<ts>[^",}]{6,40})'
)
_RE_EPOCH_VALUE = re.compile(r"^(\d{10}|\d{13}|\d{16}|\d{19})(\.\d{1,9})?$")
JSON_SPAN = 4000
"""How far into a JSON line its time key is looked for."""


def _groups(
    y: int, mo: int, d: int, h: int, frac: int | None = None, *zone: int
) -> Callable[[Any, re.Match], tuple | None]:
    """A converter that reads year, month (a number or a name), day, hour (minute and second
    in the two groups after it), fraction and zone (the first of these groups that is set)
    from the match's groups at these indices."""

    def conv(self: Any, m: re.Match) -> tuple | None:
        g = m.groups()
        month = g[mo]
        tz = None
        for i in zone:
            tz = g[i]
            if tz:
                break
        t = self._epoch(
            int(g[y]),
            int(month) if month.isdigit() else _MONTHS[month],
            int(g[d]),
            int(g[h]),
            int(g[h + 1]),
            int(g[h + 2]),
            None if frac is None else g[frac],
            tz,
        )
        return None if t is None else (t, None)

    return conv


class TimestampParser:
    """Stateful timestamp finder for the lines of one stream (see the module docstring).

    ``default_year`` is used for year-less formats (pass the file's mtime year when known;
    else the current year, moved one year back if the first stamp would lie in the future).
    ``tz`` is the zone of stamps that carry none (default UTC).
    """

    def __init__(self, default_year: int | None = None, tz: tzinfo | None = None) -> None:
        self._default_year = default_year
        self._tz = tz
        self._year: int | None = None  # current inferred year for year-less stamps
        self._last_month = 0
        self._midnight: dict[tuple[int, int, int], float | None] = {}
        self._offsets: dict[tuple[int, int, int, int], float] = {}
        self._zones: dict[str, float] = {}
        # (kind, regex, converter), in priority order for ties on start position.
        self._formats: list[tuple[str, re.Pattern[str], Callable]] = [
            ("rfc5424", _RE_5424, self._conv_iso_like),
            ("iso8601", _RE_ISO, self._conv_iso),
            ("ctime", _RE_CTIME, self._conv_ctime),
            ("rfc3164", _RE_3164, self._conv_3164),
            ("apache", _RE_APACHE, self._conv_apache),
            ("bgl", _RE_BGL, self._conv_bgl),
            ("sel", _RE_SEL, self._conv_sel),
            ("sel_preinit", _RE_PREINIT, self._conv_relative),
            ("yymmdd", _RE_YYMMDD, self._conv_yymmdd),
            ("epoch", _RE_EPOCH, self._conv_epoch),
            ("mon_dmy", _RE_MON_DMY, self._conv_mon_dmy),
            ("glog", _RE_GLOG, self._conv_mmdd),
            ("mmdd", _RE_MMDD, self._conv_mmdd),
            ("dmesg", _RE_DMESG, self._conv_relative),
        ]
        self._last: tuple[str, re.Pattern[str], Callable] | None = None
        self._last_start = 0

    # ------------------------------------------------------------------ public
    def parse(self, line: str) -> TimeMatch | None:
        """The timestamp in ``line`` (searched in its first ``HEAD`` characters), or None."""
        r = self.parse_raw(line)
        if r is None:
            return None
        return TimeMatch(r[0], r[1], r[2], r[3], r[4])

    def parse_raw(self, line: str) -> tuple[int, int, float | None, float | None, str] | None:
        """Like :meth:`parse` but returns a plain tuple (start, end, epoch, relative, kind)."""
        if line[:1] == "{":
            found = self._json(line)
            if found is not None:
                return found
        head = line[:HEAD]
        last = self._last
        last_m = None
        if last is not None:
            last_m = last[1].search(head)
            if last_m is not None:
                s = last_m.start("ts")
                # Accept the previous line's format without looking further only where the
                # stamp sits about where it did; a stamp that moved right may follow another
                # (a syslog header before a dmesg "[  12.5]"), so search all formats then.
                if s <= self._last_start + FAST_SLACK:
                    v = last[2](last_m)
                    if v is not None:
                        self._last_start = s
                        return s, last_m.end("ts"), v[0], v[1], v[2] if len(v) > 2 else last[0]
        if _MAYBE_STAMP.search(head) is None:
            return None
        best = None
        best_start = HEAD + 1
        for fmt in self._formats:
            m = last_m if fmt is last else fmt[1].search(head)
            if m is None:
                continue
            s = m.start("ts")
            if s >= best_start:
                continue
            # Converters may update year-inference state, so only peek here.
            best, best_start = (fmt, m), s
        if best is None:
            return None
        fmt, m = best
        v = fmt[2](m)
        if v is None:
            return self._fallback(head, fmt)
        self._last = fmt
        s, e = m.span("ts")
        self._last_start = s
        return s, e, v[0], v[1], v[2] if len(v) > 2 else fmt[0]

    def _json(self, line: str) -> tuple | None:
        """The time of a JSON line from its time key: epoch s/ms/us/ns or any text stamp."""
        m = _RE_JSON_TIME.search(line, 0, JSON_SPAN)
        if m is None:
            return None
        value = m.group("ts").strip()
        a = m.start("ts")
        e = _RE_EPOCH_VALUE.match(value)
        if e is not None:
            digits = e.group(1)
            t = int(digits) / 10 ** (len(digits) - 10) + (float(e.group(2)) if e.group(2) else 0.0)
            if EPOCH_MIN <= t < EPOCH_MAX:
                kind = {10: "epoch", 13: "epoch_ms", 16: "epoch_us", 19: "epoch_ns"}[len(digits)]
                return a, a + len(value), t, None, kind
            return None
        for kind, rx, conv in self._formats:
            if kind in ("dmesg", "sel_preinit", "epoch"):
                continue
            mm = rx.search(value)
            if mm is not None:
                v = conv(mm)
                if v is not None:
                    return a + mm.start("ts"), a + mm.end("ts"), v[0], v[1], kind
        return None

    def _fallback(self, head: str, skip: tuple) -> tuple | None:
        """The earliest match whose values are valid, excluding ``skip`` (rare path)."""
        found = []
        for fmt in self._formats:
            if fmt is skip:
                continue
            m = fmt[1].search(head)
            if m is not None:
                found.append((m.start("ts"), self._formats.index(fmt), fmt, m))
        for _, _, fmt, m in sorted(found, key=lambda t: (t[0], t[1])):
            v = fmt[2](m)
            if v is not None:
                self._last = fmt
                s, e = m.span("ts")
                self._last_start = s
                return s, e, v[0], v[1], v[2] if len(v) > 2 else fmt[0]
        return None

    # ------------------------------------------------------------- arithmetic
    def _day(self, y: int, mo: int, d: int) -> float | None:
        """Epoch seconds of UTC midnight of a date, or None when the date is invalid."""
        key = (y, mo, d)
        v = self._midnight.get(key, _MISSING)
        if v is not _MISSING:
            return v  # type: ignore[return-value]
        try:
            v = (date(y, mo, d).toordinal() - 719163) * 86400.0
        except ValueError:
            v = None
        if len(self._midnight) > 8192:
            self._midnight.clear()
        self._midnight[key] = v
        return v

    def _local_offset(self, y: int, mo: int, d: int, h: int) -> float:
        key = (y, mo, d, h)
        off = self._offsets.get(key)
        if off is None:
            delta = self._tz.utcoffset(datetime(y, mo, d, h))  # type: ignore[union-attr]
            off = delta.total_seconds() if delta is not None else 0.0
            if len(self._offsets) > 8192:
                self._offsets.clear()
            self._offsets[key] = off
        return off

    def _zone(self, z: str) -> float:
        off = self._zones.get(z)
        if off is None:
            if z == "Z":
                off = 0.0
            else:
                digits = z[1:].replace(":", "")
                off = int(digits[:2]) * 3600.0 + int(digits[2:]) * 60.0
                if z[0] == "-":
                    off = -off
            self._zones[z] = off
        return off

    def _epoch(
        self, y: int, mo: int, d: int, h: int, mi: int, s: int, frac: str | None, zone: str | None
    ) -> float | None:
        if h > 23 or mi > 59 or s > 60:
            return None
        day = self._day(y, mo, d)
        if day is None:
            return None
        t = day + h * 3600 + mi * 60 + s
        if frac:
            t += int(frac) / _POW10[len(frac)]
        if zone is not None:
            t -= self._zone(zone)
        elif self._tz is not None:
            t -= self._local_offset(y, mo, d, h)
        return t

    # -------------------------------------------------------------- converters
    # Each returns (epoch, relative) or (epoch, relative, kind), or None to reject.
    # groups: ts, Y, sep, M, D, h, m, s, frac, Z, offset
    _conv_iso = _groups(1, 3, 4, 5, 8, 9, 10)

    # groups: ts, Y, M, D, h, m, s, frac, Z, offset
    _conv_iso_like = _groups(1, 2, 3, 4, 7, 8, 9)

    _conv_bgl = _groups(1, 2, 3, 4, 7)

    _conv_ctime = _groups(7, 1, 2, 3, 6)

    _conv_apache = _groups(3, 2, 1, 4, None, 7)

    _conv_sel = _groups(3, 1, 2, 4)

    def _conv_yymmdd(self, m: re.Match) -> tuple | None:
        g = m.groups()
        yy = int(g[1])
        y = 2000 + yy if yy < 70 else 1900 + yy
        t = self._epoch(y, int(g[2]), int(g[3]), int(g[4]), int(g[5]), int(g[6]), None, None)
        return None if t is None else (t, None)

    def _conv_epoch(self, m: re.Match) -> tuple | None:
        ms, secs, frac = m.group(2, 3, 4)
        if ms is not None:
            t = int(ms) / 1000.0
            kind = "epoch_ms"
        else:
            t = float(secs + frac) if frac else float(secs)
            kind = "epoch"
        if not EPOCH_MIN <= t < EPOCH_MAX:
            return None
        return t, None, kind

    def _conv_relative(self, m: re.Match) -> tuple | None:
        return None, float(m.group("ts"))

    _conv_mon_dmy = _groups(3, 2, 1, 4, 7)

    def _conv_mmdd(self, m: re.Match) -> tuple | None:
        g = m.groups()
        mo, d = int(g[1]), int(g[2])
        if not 1 <= mo <= 12:
            return None
        return self._yearless(mo, d, int(g[3]), int(g[4]), int(g[5]), g[6])

    def _yearless(self, mo: int, d: int, h: int, mi: int, s: int, frac: str | None):
        y = self._infer_year(mo, d, h)
        t = self._epoch(y, mo, d, h, mi, s, frac, None)
        if t is None and mo == 2 and d == 29:  # Feb 29 in a year that has none: try back
            t = self._epoch(y - 1, mo, d, h, mi, s, frac, None)
        return None if t is None else (t, None)

    def _conv_3164(self, m: re.Match) -> tuple | None:
        g = m.groups()
        mo = _MONTHS[g[1]]
        d, h, mi, s = int(g[2]), int(g[3]), int(g[4]), int(g[5])
        if g[7] is not None:
            t = self._epoch(int(g[7]), mo, d, h, mi, s, g[6], None)
            return None if t is None else (t, None)
        return self._yearless(mo, d, h, mi, s, g[6])

    def _infer_year(self, mo: int, d: int, h: int) -> int:
        """The year of a year-less stamp; rolls forward when the month falls by > 6."""
        if self._year is None:
            if self._default_year is not None:
                self._year = self._default_year
            else:
                now = time.time()
                y = time.gmtime(now).tm_year
                first = self._day(y, mo, min(d, 28))
                if first is not None and first + h * 3600 > now + 2 * 86400:
                    y -= 1
                self._year = y
            self._last_month = mo
            return self._year
        last = self._last_month
        if mo == last:
            return self._year
        if last - mo > 6:  # Dec -> Jan: a new year
            self._year += 1
            self._last_month = mo
            return self._year
        if mo - last > 6:  # Jan -> Dec: a straggler from the old year; state unchanged
            return self._year - 1
        self._last_month = mo
        return self._year


# ---------------------------------------------------------------- expressions
_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_RE_AGO = re.compile(r"^(\d+(?:\.\d+)?)\s*([a-z]+)\s+ago$")
_RE_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_RE_DATE_ONLY = re.compile(r"^(\d{4})-(\d\d)-(\d\d)$")
_RE_DATE_HM = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d{1,9}))?)?\s*(Z|[+-]\d\d:?\d\d)?$"
)


def parse_time_expr(text: str, now: float | None = None) -> float:
    """Epoch seconds (UTC) for a time expression used by ``window(t0, t1)``.

    Accepts ``2026-11-23`` (midnight UTC), ``2026-11-23 04:00``, ``2026-11-23T04:00:00Z``
    (zone-less means UTC), epoch seconds or 13-digit milliseconds, ``now``, relative
    ``30 min ago`` / ``2h ago`` / ``1 day ago``, and any absolute stamp
    :class:`TimestampParser` recognises when it is the whole text. Raises ``ValueError``.
    """
    if not isinstance(text, str):
        raise ValueError(f"time expression must be a string, got {type(text).__name__}")
    s = text.strip()
    low = s.lower()
    if now is None:
        now = time.time()
    if low == "now":
        return float(now)
    m = _RE_AGO.match(low)
    if m:
        unit = _UNITS.get(m.group(2))
        if unit is None:
            raise ValueError(
                f"unknown time unit {m.group(2)!r} in {text!r} (use s, min, h, day or week)"
            )
        return float(now) - float(m.group(1)) * unit
    if _RE_NUMBER.match(s):
        v = float(s)
        if len(s.split(".")[0]) == 13:
            v /= 1000.0
        return v
    parser = TimestampParser()
    m = _RE_DATE_ONLY.match(s)
    if m:
        t = parser._epoch(int(m[1]), int(m[2]), int(m[3]), 0, 0, 0, None, None)
        if t is not None:
            return t
    m = _RE_DATE_HM.match(s)
    if m:
        t = parser._epoch(
            int(m[1]), int(m[2]), int(m[3]), int(m[4]), int(m[5]), int(m[6] or 0), m[7], m[8]
        )
        if t is not None:
            return t
    r = parser.parse_raw(s)
    if r is not None and r[0] == 0 and r[1] == len(s) and r[2] is not None:
        return r[2]
    raise ValueError(
        f"cannot read {text!r} as a time: use e.g. '2026-11-23', '2026-11-23 04:00', "
        "'2026-11-23T04:00:00Z', an epoch number, or '30 min ago'"
    )

from datetime import datetime, timedelta, timezone

import pytest

from rlm_cli.store.timestamps import TimeMatch, TimestampParser, parse_time_expr


def utc(*args: int, us: int = 0) -> float:
    return datetime(*args, microsecond=us, tzinfo=timezone.utc).timestamp()


def one(line: str, **kw) -> TimeMatch:
    m = TimestampParser(**kw).parse(line)
    assert m is not None, line
    return m


@pytest.mark.parametrize(
    "line, kind, epoch, stamp",
    [
        ("2026-11-23T04:12:55Z app started", "iso8601", utc(2026, 11, 23, 4, 12, 55), None),
        (
            "2026-11-23T04:12:55.003Z x",
            "iso8601",
            utc(2026, 11, 23, 4, 12, 55, us=3000),
            "2026-11-23T04:12:55.003Z",
        ),
        ("2026-11-23 04:12:55 plain", "iso8601", utc(2026, 11, 23, 4, 12, 55), None),
        ("2026-11-23 04:12:55+02:00 x", "iso8601", utc(2026, 11, 23, 2, 12, 55), None),
        ("2026-11-23T04:12:55-0130 x", "iso8601", utc(2026, 11, 23, 5, 42, 55), None),
        (
            "2026-11-23T04:12:55+0000 node017 kernel[1]: hi",
            "iso8601",
            utc(2026, 11, 23, 4, 12, 55),
            "2026-11-23T04:12:55+0000",
        ),
        (
            "2015-10-18 18:01:47,978 INFO [main] x",
            "iso8601",
            utc(2015, 10, 18, 18, 1, 47, us=978000),
            "2015-10-18 18:01:47,978",
        ),
        ("2026/11/23 04:12:55 go log", "iso8601", utc(2026, 11, 23, 4, 12, 55), None),
        (
            "<34>1 2026-11-23T04:12:55.003Z host app 12 ID47 - msg",
            "rfc5424",
            utc(2026, 11, 23, 4, 12, 55, us=3000),
            "2026-11-23T04:12:55.003Z",
        ),
        (
            "[Sun Dec 04 04:47:44 2005] [error] mod_jk",
            "ctime",
            utc(2005, 12, 4, 4, 47, 44),
            "Sun Dec 04 04:47:44 2005",
        ),
        (
            '10.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326',
            "apache",
            utc(2000, 10, 10, 20, 55, 36),
            "10/Oct/2000:13:55:36 -0700",
        ),
        (
            "2005-06-03-15.42.50.675872 R02-M1-N0-C:J12-U11 RAS KERNEL INFO",
            "bgl",
            utc(2005, 6, 3, 15, 42, 50, us=675872),
            "2005-06-03-15.42.50.675872",
        ),
        ("081109 203615 148 INFO dfs.DataNode", "yymmdd", utc(2008, 11, 9, 20, 36, 15), None),
        (
            "  1a | 11/23/2026 | 04:12:55 | Memory #0x87 | Correctable ECC | Asserted",
            "sel",
            utc(2026, 11, 23, 4, 12, 55),
            "11/23/2026 | 04:12:55",
        ),
        (
            "23-Nov-2026 04:12:55.123 INFO [main] org.apache.catalina.startup",
            "mon_dmy",
            utc(2026, 11, 23, 4, 12, 55, us=123000),
            "23-Nov-2026 04:12:55.123",
        ),
        (
            "03-17 16:13:38.811  1702  2395 D WindowManager: printFreezingDisplayLogs",
            "mmdd",
            utc(2026, 3, 17, 16, 13, 38, us=811000),
            "03-17 16:13:38.811",
        ),
        (
            "I1123 04:12:55.123456       1 controller.go:42] Starting",
            "glog",
            utc(2026, 11, 23, 4, 12, 55, us=123456),
            "1123 04:12:55.123456",
        ),
        ("1700000000 node1 event", "epoch", 1700000000.0, "1700000000"),
        ("1700000000.25 node1 event", "epoch", 1700000000.25, "1700000000.25"),
        ("1700000000123 node1 event", "epoch_ms", 1700000000.123, "1700000000123"),
        ("- 1117838570 2005.06.03 R02-M1-N0-C:J12-U11", "epoch", 1117838570.0, None),
        (
            "134681 node-246 unix.hw state_change.unavailable 1077804742 1 Component",
            "epoch",
            1077804742.0,
            "1077804742",
        ),
    ],
)
def test_absolute_formats(line, kind, epoch, stamp):
    m = one(line, default_year=2026)
    assert m.kind == kind
    assert m.epoch == pytest.approx(epoch, abs=1e-6)
    assert m.relative is None
    if stamp is not None:
        assert line[m.start : m.end] == stamp


def test_rfc3164_uses_default_year_and_double_space_day():
    m = one("Jun  3 15:42:50 combo sshd[1]: x", default_year=2005)
    assert m.kind == "rfc3164"
    assert m.epoch == utc(2005, 6, 3, 15, 42, 50)
    assert (m.start, m.end) == (0, 15)


def test_rfc3164_explicit_year_wins():
    m = one("Nov 23 04:12:55 2024 host x", default_year=2026)
    assert m.epoch == utc(2024, 11, 23, 4, 12, 55)


def test_rfc3164_year_rolls_over_december_to_january():
    p = TimestampParser(default_year=2025)
    lines = [
        "Dec 31 23:59:58 h a",
        "Dec 31 23:59:59 h b",
        "Jan  1 00:00:01 h c",
        "Dec 31 23:59:59 h late straggler",
        "Jan  1 00:00:02 h d",
        "Feb  3 10:00:00 h e",
    ]
    years = [datetime.fromtimestamp(p.parse(x).epoch, timezone.utc).year for x in lines]
    assert years == [2025, 2025, 2026, 2025, 2026, 2026]


def test_rfc3164_without_default_year_is_not_in_future():
    m = one("Jan  1 00:00:00 h x")
    assert m.epoch <= datetime.now(timezone.utc).timestamp() + 2 * 86400
    future = datetime.now(timezone.utc) + timedelta(days=40)
    line = future.strftime("%b %d %H:%M:%S") + " h x"
    m = one(line)
    assert datetime.fromtimestamp(m.epoch, timezone.utc).year == future.year - 1


def test_relative_formats_have_no_epoch():
    m = one("[  123.456789] usb 1-1: new high-speed USB device")
    assert (m.kind, m.epoch, m.relative) == ("dmesg", None, pytest.approx(123.456789))
    m = one("   2 | Pre-Init  |0000000085| System Event #0xff | Timestamp Clock Sync | Asserted")
    assert (m.kind, m.epoch, m.relative) == ("sel_preinit", None, 85.0)


def test_syslog_stamp_beats_later_dmesg_stamp():
    m = one("Nov 23 04:12:55 node017 kernel: [  12.5] EDAC MC0: 1 CE", default_year=2026)
    assert m.kind == "rfc3164"


def test_zoneless_stamps_follow_given_tz():
    tz = timezone(timedelta(hours=-7))
    m = one("2026-11-23 04:12:55 x", tz=tz)
    assert m.epoch == utc(2026, 11, 23, 11, 12, 55)
    # an explicit zone is not overridden
    assert one("2026-11-23 04:12:55Z x", tz=tz).epoch == utc(2026, 11, 23, 4, 12, 55)


@pytest.mark.parametrize(
    "line",
    [
        "",
        "no timestamp at all",
        "\tat org.apache.Foo.bar(Foo.java:42)",
        "version 2.6.32-754 build 1234567890123456",
        "2026-13-45 04:12:55 impossible date",
        "2026-11-23 25:12:55 impossible hour",
        "id 9999999999 out of range epoch",
        "counter 0000000012 at start",
        "Nov 31 04:12:55 no such day",
        "13-45 04:12:55.000 not a month",
        "X1123 04:12:55.123456 not a glog level",
        "x" * 200 + " 2026-11-23 04:12:55 too far into the line",
    ],
)
def test_no_match(line):
    assert TimestampParser(default_year=2026).parse(line) is None


def test_invalid_then_other_format_falls_back():
    # the ISO-shaped run is invalid; the epoch field is still found
    m = one("1700000000 2026-99-99 04:12:55 x")
    assert m.kind == "epoch"


def test_parser_switches_format_mid_stream():
    p = TimestampParser(default_year=2026)
    a = p.parse("2026-11-23 04:12:55,001 INFO a")
    b = p.parse("Nov 23 04:12:56 host b")
    c = p.parse("no stamp")
    d = p.parse("2026-11-23 04:12:57,001 INFO d")
    assert (a.kind, b.kind, c, d.kind) == ("iso8601", "rfc3164", None, "iso8601")
    assert b.epoch == utc(2026, 11, 23, 4, 12, 56)


def test_crlf_line_end_is_harmless():
    assert one("2026-11-23 04:12:55 x\r\n").epoch == utc(2026, 11, 23, 4, 12, 55)


NOW = utc(2026, 11, 25, 12, 0, 0)


@pytest.mark.parametrize(
    "expr, expected",
    [
        ("2026-11-23", utc(2026, 11, 23)),
        ("2026-11-23 04:00", utc(2026, 11, 23, 4)),
        ("2026-11-23T04:00:00Z", utc(2026, 11, 23, 4)),
        ("2026-11-23T04:00:00+01:00", utc(2026, 11, 23, 3)),
        ("  2026-11-23 04:00:30.5  ", utc(2026, 11, 23, 4, 0, 30, us=500000)),
        ("1700000000", 1700000000.0),
        ("1700000000.5", 1700000000.5),
        ("1700000000123", 1700000000.123),
        ("now", NOW),
        ("30 min ago", NOW - 1800),
        ("2h ago", NOW - 7200),
        ("1 day ago", NOW - 86400),
        ("1.5 hours ago", NOW - 5400),
        ("Sun Dec 04 04:47:44 2005", utc(2005, 12, 4, 4, 47, 44)),
    ],
)
def test_parse_time_expr(expr, expected):
    assert parse_time_expr(expr, now=NOW) == pytest.approx(expected)


@pytest.mark.parametrize(
    "expr", ["", "yesterday-ish", "3 fortnights ago", "2026-02-30", "2026-11-23 04:00 trailing"]
)
def test_parse_time_expr_rejects(expr):
    with pytest.raises(ValueError, match="time"):
        parse_time_expr(expr, now=NOW)


def test_dmesg_stream_then_syslog_line_prefers_absolute_stamp():
    p = TimestampParser(default_year=2026)
    assert p.parse("[    1.000000] Linux version 6.1").kind == "dmesg"
    m = p.parse("Nov 23 04:12:55 node017 kernel: [   12.500000] EDAC MC0: 1 CE")
    assert (m.kind, m.start) == ("rfc3164", 0)
    assert p.parse("[    2.000000] back to dmesg").kind == "dmesg"


def test_epoch_field_at_varying_positions_keeps_parsing():
    p = TimestampParser()
    a = p.parse("1 n-1 x 1077804742 1 msg")
    b = p.parse("350766 node-109 unix.hw state_change.unavailable 1084680778 1 Component")
    assert (a.epoch, b.epoch) == (1077804742.0, 1084680778.0)


def test_json_lines():
    m = one('{"ts":"2026-11-23T04:12:55.5Z","level":"error","msg":"x"}')
    assert (m.kind, m.epoch) == ("iso8601", utc(2026, 11, 23, 4, 12, 55, us=500000))
    m = one('{"time": 1700000000.25, "msg": "x"}')
    assert (m.kind, m.epoch) == ("epoch", 1700000000.25)


def test_zoneless_stamps_follow_dst_of_named_zone():
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        tz = zoneinfo.ZoneInfo("Europe/Berlin")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no tz database")
    p = TimestampParser(tz=tz)
    assert p.parse("2026-01-15 12:00:00 winter").epoch == utc(2026, 1, 15, 11)
    assert p.parse("2026-07-15 12:00:00 summer").epoch == utc(2026, 7, 15, 10)


def test_json_time_keys_anywhere_in_the_line():
    line = '{"log": "' + "x" * 300 + '\\n", "stream": "stdout", "time": "2026-11-18T10:03:27.5Z"}'
    m = one(line)
    assert (m.kind, m.epoch) == ("iso8601", utc(2026, 11, 18, 10, 3, 27, us=500000))
    assert line[m.start : m.end] == "2026-11-18T10:03:27.5Z"
    m = one('{"__REALTIME_TIMESTAMP": "1795000000250000", "MESSAGE": "x"}')
    assert (m.kind, m.epoch) == ("epoch_us", 1795000000.25)
    m = one('{"ts": 1795000000123456789, "msg": "x"}')
    assert m.kind == "epoch_ns" and abs(m.epoch - 1795000000.123456789) < 1e-6

"""Header detection on small hand-written fixtures of several log styles."""

from __future__ import annotations

import random

import pytest

from rlm_cli.errors import ConfigError
from rlm_cli.logs.headers import HeaderModel, load_formats, token_shape


def syslog_lines(n: int = 60, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        t = f"Mar {1 + i % 28:2d} {i % 24:02d}:{i % 60:02d}:{(7 * i) % 60:02d}"
        k = i % 3
        if k == 0:
            out.append(
                f"{t} web01 sshd[{rng.randint(100, 9999)}]: Accepted password for bob from 10.0.0.{i % 250} port {rng.randint(1024, 65535)} ssh2"
            )
        elif k == 1:
            out.append(
                f"{t} web01 CRON[{rng.randint(100, 9999)}]: pam_unix(cron:session): session opened for user root by (uid=0)"
            )
        else:
            out.append(f"{t} web01 kernel: eth0: link up, speed {rng.choice([100, 1000])} Mbps")
    return out


def log4j_lines(n: int = 60) -> list[str]:
    out = []
    for i in range(n):
        lvl = ["INFO", "WARN", "ERROR"][i % 3]
        out.append(
            f"2026-11-23 04:{i % 60:02d}:{(3 * i) % 60:02d},{i * 7 % 1000:03d} {lvl} [pool-{i % 4}-thread-{i % 9}] "
            f"com.example.Service: handled request {i} in {i % 50} ms"
        )
    return out


def apache_lines(n: int = 40) -> list[str]:
    out = []
    for i in range(n):
        lvl = "notice" if i % 2 else "error"
        out.append(
            f"[Sun Dec 04 04:{i % 60:02d}:44 2005] [{lvl}] jk2_init() Found child {6000 + i} in scoreboard slot {i % 10}"
        )
    return out


def test_token_shapes() -> None:
    assert token_shape("12:01:02") == "T"
    assert token_shape("2026-11-23") == "D"
    assert token_shape("Mar") == "M"
    assert token_shape("1732334455") == "N"
    assert token_shape("WARN") == "L"
    assert token_shape("[notice]") == "L"
    assert token_shape("sshd[42]:") == "C"
    assert token_shape("kernel:") == "C"
    assert token_shape("node-17") == "H"
    assert token_shape("[Sun Dec 04 04:47:44 2005]") == "T"
    assert token_shape("-") == "S"
    assert token_shape("hello") == "X"


def test_syslog_header_fields_and_body() -> None:
    lines = syslog_lines()
    hm = HeaderModel.learn(lines)
    h = hm.split(lines[0])
    assert lines[0][h.body_start :].startswith("Accepted password for bob")
    assert h.fields["component"] == "sshd"
    assert h.fields["pid"].isdigit()
    assert h.fields["host"] == "web01"
    assert h.fields["time"].startswith("Mar")
    # the fast path (one regex) agrees with the field-naming path
    for line in lines:
        assert hm.body_start(line) == hm.split(line).body_start
    assert lines[2][hm.body_start(lines[2]) :].startswith("eth0: link up")


def test_log4j_header() -> None:
    lines = log4j_lines()
    hm = HeaderModel.learn(lines)
    h = hm.split(lines[1])
    assert lines[1][h.body_start :].startswith("handled request 1 in")
    assert h.fields["level"] == "WARN"
    assert h.fields["component"] == "com.example.Service"
    assert h.fields["time"].startswith("2026-11-23")


def test_apache_bracketed_header() -> None:
    lines = apache_lines()
    hm = HeaderModel.learn(lines)
    h = hm.split(lines[0])
    assert lines[0][h.body_start :].startswith("jk2_init() Found child")
    assert h.fields["level"] == "ERROR"
    assert "Dec 04" in h.fields["time"]


def test_bmc_sel_pipe_separated() -> None:
    lines = [
        f"  {i:x} | 11/{1 + i % 28:02d}/2026 | 04:{i % 60:02d}:55 | Memory #0x87 | Correctable ECC | Asserted"
        for i in range(1, 40)
    ]
    hm = HeaderModel.learn(lines)
    body = lines[5][hm.body_start(lines[5]) :]
    assert body.startswith("Memory #0x87")


def test_no_header_means_whole_line_is_body() -> None:
    lines = [f"user {u} logged in from terminal" for u in ("ann", "bob", "cy", "dee")] * 10
    hm = HeaderModel.learn(lines)
    assert hm.columns == []
    assert hm.body_start(lines[0]) == 0
    assert HeaderModel.empty().split("anything at all").body_start == 0


def test_odd_line_falls_back_without_error() -> None:
    lines = log4j_lines()
    hm = HeaderModel.learn(lines)
    assert hm.body_start("\tat com.example.Foo.bar(Foo.java:42)") == 0
    assert hm.body_start("") == 0


def test_second_layout_can_be_added() -> None:
    hm = HeaderModel.learn(log4j_lines())
    other = syslog_lines()
    assert hm.fast_start(other[0]) < 0
    assert hm.add_layout(other)
    assert other[0][hm.fast_start(other[0]) :].startswith("Accepted password")
    assert not hm.add_layout(other)  # the same layout twice is not added


def test_user_formats_from_yaml(tmp_path) -> None:
    f = tmp_path / "formats.yaml"
    f.write_text(
        "formats:\n"
        "  - name: pipe\n"
        "    regex: '^(?P<time>\\d+)\\|(?P<host>[^|]+)\\|(?P<body>.*)$'\n",
        encoding="utf-8",
    )
    hm = HeaderModel.empty().with_formats_file(f)
    line = "1732334455|db7|disk sda failing"
    h = hm.split(line)
    assert line[h.body_start :] == "disk sda failing"
    assert h.fields == {"time": "1732334455", "host": "db7", "format": "pipe"}
    assert hm.body_start(line) == h.body_start


@pytest.mark.parametrize(
    "text",
    ["formats: 3\n", "formats:\n  - name: x\n", "formats:\n  - regex: '(unclosed'\n", ": : :\n"],
)
def test_bad_formats_file_is_a_config_error(tmp_path, text: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_formats(f)


def test_missing_formats_file_is_a_config_error(tmp_path) -> None:
    with pytest.raises(ConfigError):
        load_formats(tmp_path / "nope.yaml")


def test_key_value_header() -> None:
    lines = [
        f'ts=2026-11-23T04:{i % 60:02d}:00Z level={"info" if i % 2 else "warn"} msg="cache miss" key=k{i}'
        for i in range(50)
    ]
    hm = HeaderModel.learn(lines)
    h = hm.split(lines[1])
    assert lines[1][h.body_start :].startswith('msg="cache miss"')
    assert h.fields["level"] == "INFO"
    assert h.fields["time"] == "2026-11-23T04:01:00Z"
    assert hm.body_start(lines[1]) == h.body_start


def test_numbers_in_header_fields() -> None:
    lines = [
        f"081109 2036{i:02d} {100 + i} INFO dfs.DataNode: Receiving block blk_{i}"
        for i in range(40)
    ]
    h = HeaderModel.learn(lines).split(lines[3])
    assert h.fields["time"] == "081109 203603"
    assert h.fields["pid"] == "103"
    lines = [f"Jun {1 + i % 9} 15:16:{i % 60:02d} combo kernel: eth0 up" for i in range(40)]
    h = HeaderModel.learn(lines).split(lines[4])
    assert h.fields["time"] == "Jun 5 15:16:04"
    assert "pid" not in h.fields


def test_glued_python_logging_prefix_is_not_a_host() -> None:
    lines = [f"WARNING:urllib3.pool:Retrying (total={i % 3}) after error" for i in range(30)]
    hm = HeaderModel.learn(lines)
    assert hm.body_start(lines[0]) == 0


def test_dmesg_and_iso_syslog() -> None:
    dmesg = [
        f"[{i * 37 % 9999:>5}.{i * 7919 % 999999:06d}] usb 1-{i % 4}: new device {i}"
        for i in range(30)
    ]
    hm = HeaderModel.learn(dmesg)
    assert dmesg[3][hm.body_start(dmesg[3]) :].startswith("usb 1-3: new device")
    iso = [
        f"2026-11-23T04:12:{i % 60:02d}+0000 web01 systemd[1]: Started Session {i}."
        for i in range(30)
    ]
    h = HeaderModel.learn(iso).split(iso[2])
    assert iso[2][h.body_start :] == "Started Session 2."
    assert h.fields["component"] == "systemd" and h.fields["host"] == "web01"


def _host_of(model: HeaderModel, line: str) -> str | None:
    _, span = model.locate(line)
    return line[span[0] : span[1]] if span else None


@pytest.mark.parametrize(
    "make",
    [
        lambda h, i: (
            f"{h}:   {50 + i} | 11/18/2026 | 10:03:{i % 60:02d} | Memory #0x87 | Correctable ECC | Asserted"
        ),
        lambda h, i: (
            f"{h} |  {500 + i:x} | 11/18/2026 | 10:03:{i % 60:02d} | Fan #0x30 | Lower Critical going low | Asserted"
        ),
        lambda h, i: (
            f"[{h}] {i + 10:x} | 11/18/2026 | 10:03:{i % 60:02d} | Session Audit #0xa1 | Session Activated | Asserted"
        ),
        lambda h, i: (
            f"{h}\t{i + 10:x}\t2026-11-18T10:03:{i % 60:02d}Z\tFan #0x30\tLower Critical going low"
        ),
        lambda h, i: (
            f"2026-11-18 10:03:{i % 60:02d}.123 {h} [main] INFO c.e.Svc - request {i} done"
        ),
    ],
)
def test_the_host_column_is_learned_from_its_values(make):
    names = ["r3n09-bmc", "node09", "gpu-a12", "ip-10-0-3-17", "web01.example.com", "c401-104"]
    lines = [make(names[i % len(names)], i) for i in range(60)]
    model = HeaderModel.learn(lines)
    assert [_host_of(model, line) for line in lines[:6]] == names
    # the body starts after the header, host and record id included
    assert lines[0][model.body_start(lines[0]) :].split()[0] not in names


def test_no_host_column_when_values_are_not_host_names():
    lines = [
        f"{i + 26:x} | 11/18/2026 | 10:03:{i % 60:02d} | Memory #0x87 | ECC" for i in range(60)
    ]
    assert HeaderModel.learn(lines).host_cols == [None]
    threads = [
        f"2026-11-18 10:03:{i % 60:02d},1 INFO [pool-{i % 3}-thread-{i % 7}] a.B - x {i}"
        for i in range(60)
    ]
    assert _host_of(HeaderModel.learn(threads), threads[0]) is None


def test_json_lines_take_the_message_value_as_body():
    lines = [
        f'{{"ts": "2026-11-18T10:03:{i % 60:02d}Z", "level": "warn", "host": "n{i % 4}", "msg": "slow query {i}", "id": {i}}}'
        for i in range(40)
    ]
    model = HeaderModel.learn(lines)
    assert model.json and not model.layouts
    assert lines[3][model.body_start(lines[3]) :].startswith("slow query 3")
    assert model.body_start('{"a": 1}') == 0  # JSON without a message key: all body


def test_json_mode_still_learns_a_layout_for_other_lines():
    from rlm_cli.logs.templates import TemplateMiner

    lines = [f'{{"ts": "2026-11-18T10:00:{i % 60:02d}Z", "msg": "tick {i}"}}' for i in range(50)]
    lines += [
        f"Nov 18 10:01:{i % 60:02d} node{i % 5:02d} sshd[{i}]: Accepted key {i}" for i in range(400)
    ]
    model = HeaderModel.learn(lines[:50])
    miner = TemplateMiner(model)
    miner.add_many(lines)
    assert model.json and model.layouts  # a layout was learned for the syslog lines
    assert len(miner.finish()) == 2
    assert model.locate(lines[-1])[1] is not None  # and its host column


def test_a_user_format_names_the_host_and_level(tmp_path):
    from rlm_cli.logs.logmap import scan_line

    f = tmp_path / "formats.yaml"
    f.write_text(
        "formats:\n  - name: odd\n    regex: '^@(?P<host>\\w+)@ (?P<level>\\w+) (?P<body>.*)$'\n"
    )
    model = HeaderModel.learn(["x"], formats=load_formats(f))
    sev, ents = scan_line("@qz7@ error disk gone", model, ({}, {}))
    assert sev.name == "ERROR"
    assert [(e.kind, e.name) for e in ents] == [("host", "qz7")]

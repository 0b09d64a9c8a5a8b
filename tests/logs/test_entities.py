import pytest

from rlm_cli.logs.entities import Entity, canonical, extract


def kinds(text: str) -> list[tuple[str, str]]:
    return [(e.kind, e.name) for e in extract(text)]


def test_spans_point_at_the_text():
    line = "Nov 23 04:12:55 node017 kernel: EDAC MC0: CE on CPU1_DIMM_C0 from 10.0.0.7"
    for e in extract(line):
        assert isinstance(e, Entity)
        assert line[e.start : e.end] == e.name
    assert kinds(line) == [("host", "node017"), ("dimm", "CPU1_DIMM_C0"), ("ip", "10.0.0.7")]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("job started on node017", [("host", "node017")]),
        ("cn-0412 unreachable", [("host", "cn-0412")]),
        ("compute-3-12 rebooted", [("host", "compute-3-12")]),
        ("gpu07: XID 79", [("host", "gpu07")]),
        ("134681 node-246 unix.hw state_change", [("host", "node-246")]),
        ("lookup ns1.example.com failed", [("host", "ns1.example.com")]),
        ("rhost=login2.cluster.local user=x", [("host", "login2.cluster.local")]),
        ("hostname=storage01", [("host", "storage01")]),
    ],
)
def test_hosts(text, expected):
    assert kinds(text) == expected


def test_syslog_host_field():
    assert kinds("Jun 14 15:16:01 combo sshd(pam_unix)[19939]: check pass")[0] == (
        "host",
        "combo",
    )
    assert kinds("2026-11-23T04:12:55+0000 bmc-r3 ipmievd[812]: SEL")[0] == ("host", "bmc-r3")
    assert kinds("<34>1 2026-11-23T04:12:55.003Z mymachine su - ID47 - BOM")[0] == (
        "host",
        "mymachine",
    )
    # a level word where a host would be is not a host
    assert kinds("2026-11-23T04:12:55Z INFO com.foo.Bar: started") == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("from 173.234.31.186 port 22", [("ip", "173.234.31.186")]),
        ("/10.10.34.11:3888 connected", [("ip", "10.10.34.11")]),
        ("[10.251.73.220:50010]", [("ip", "10.251.73.220")]),
        ("rhost=218.188.2.4", [("ip", "218.188.2.4")]),
    ],
)
def test_ips(text, expected):
    assert kinds(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "kernel version 2.6.32.754 loaded",
        "firmware v10.0.0.1",
        "value 300.1.2.3 out of range",
        "oid 1.3.6.1.4.1 walk",
        "build 01.02.03.04",
    ],
)
def test_not_ips(text):
    assert [e for e in extract(text) if e.kind == "ip"] == []


@pytest.mark.parametrize(
    "text, name",
    [
        ("RAS KERNEL INFO R02-M1-N0-C:J12-U11 parity", "R02-M1-N0-C:J12-U11"),
        ("R30-M0-NC-I:J18-U11 link card", "R30-M0-NC-I:J18-U11"),
        ("midplane R00-M0-N2 down", "R00-M0-N2"),
        ("enclosure rack 12 slot 4 reports", "rack 12 slot 4"),
        ("chassis3 powered off", "chassis3"),
    ],
)
def test_racks(text, name):
    assert ("rack", name) in kinds(text)


def test_bare_slot_is_not_a_rack():
    assert kinds("jk2_init() Found child 6725 in scoreboard slot 10") == []


@pytest.mark.parametrize(
    "text, kind, name, key",
    [
        ("EDAC: CE on DIMM_A1", "dimm", "DIMM_A1", "DIMM_A1"),
        ("error on DIMM#3", "dimm", "DIMM#3", "DIMM_3"),
        ("replace DIMM B2 soon", "dimm", "DIMM B2", "DIMM_B2"),
        ("CPU1_DIMM_C0 ECC", "dimm", "CPU1_DIMM_C0", "CPU1_DIMM_C0"),
        ("CPU0 throttled", "cpu", "CPU0", "CPU0"),
        ("cpu 3 offline", "cpu", "cpu 3", "CPU3"),
        ("Processor #0x01 | IERR", "cpu", "Processor #0x01", "processor#0x01"),
        ("PSU1 input lost", "psu", "PSU1", "PSU1"),
        ("PS2 status failed", "psu", "PS2", "PSU2"),
        ("Power Supply #0x51 | Failure detected", "psu", "Power Supply #0x51", "power supply#0x51"),
        ("FAN1 reading 0 RPM", "fan", "FAN1", "FAN1"),
        ("Fan3A lower critical", "fan", "Fan3A", "FAN3A"),
        ("SYS_FAN_2 stopped", "fan", "SYS_FAN_2", "SYS_FAN2"),
        ("Fan #0x30 | Lower Critical going low", "fan", "Fan #0x30", "fan#0x30"),
        ("Temp #0x01 | Upper Critical going high", "sensor", "Temp #0x01", "temp#0x01"),
        (
            " 1a | 11/23/2026 | 04:12:55 | Memory #0x87 | Correctable ECC",
            "sensor",
            "Memory #0x87",
            "memory#0x87",
        ),
        ("Watchdog2 #0x03 | Timer expired", "sensor", "Watchdog2 #0x03", "watchdog2#0x03"),
    ],
)
def test_hardware(text, kind, name, key):
    ents = [e for e in extract(text) if e.kind == kind]
    assert [e.name for e in ents] == [name]
    assert ents[0].key == key


def test_same_part_different_spellings_share_a_key():
    keys = {e.key for t in ["DIMM B2", "dimm_b2", "DIMM#B2", "DIMMB2"] for e in extract(t)}
    assert keys == {"DIMM_B2"}
    assert canonical("psu", "Power Supply 2") == canonical("psu", "PS2") == "PSU2"
    assert canonical("host", "Node017.") == "node017"


@pytest.mark.parametrize(
    "text, names",
    [
        ("end_request: I/O error, dev sda, sector 1", ["sda"]),
        ("/dev/sdb1 mounted; nvme0n1p2 ok", ["sdb1", "nvme0n1p2"]),
        ("eth0: link up, ib0: link down, mlx5_0: port 1", ["eth0", "ib0", "mlx5_0"]),
        ("enp59s0f1 renamed from eth2", ["enp59s0f1", "eth2"]),
        ("md127 degraded, dm-3 busy", ["md127", "dm-3"]),
    ],
)
def test_devices(text, names):
    assert [e.name for e in extract(text) if e.kind == "device"] == names


@pytest.mark.parametrize(
    "text",
    [
        "the quick brown fox jumps over the lazy dog",
        "Scheduler started; nodes are fine; hosted by someone",
        "value 0x7fff1234 at 0xdeadbeef",
        "2026-11-23 04:12:55,978 INFO [main] org.apache.hadoop.mapreduce.v2.app.MRAppMaster: up",
        "using sdk 1.2 with sdpd and hdd",
        "CPU usage 100% and cpu time 12.5",
        "fans spinning, power nominal, processors idle",
        "version 1.2.3 released 2026-11-23",
        "file workers2.properties loaded",
        "appattempt_1445144423722_0020_000001 started",
        "logger org.apache.commons.io set to DEBUG",
        "loaded com.example.util.de",
    ],
)
def test_negatives(text):
    assert extract(text) == []


def test_overlaps_resolved_longest_wins():
    ents = extract("PSU1 Power Supply #0x51 PS2")
    assert [(e.kind, e.name) for e in ents] == [
        ("psu", "PSU1"),
        ("psu", "Power Supply #0x51"),
        ("psu", "PS2"),
    ]
    spans = [(e.start, e.end) for e in ents]
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


@pytest.mark.parametrize(
    "text, hosts",
    [
        ("mail to ops@mail.example.com bounced", []),
        (
            "resolved ec2-52-80-34-196.cn-north-1.compute.amazonaws.com.cn ok",
            ["ec2-52-80-34-196.cn-north-1.compute.amazonaws.com.cn"],
        ),
        ("GET http://repo.example.org/pkg", ["repo.example.org"]),
        ("(node12.cluster.local)", ["node12.cluster.local"]),
        ("nodes node3 and node-4, nodemanager up", ["node3", "node-4"]),
        ("xnode12 and node12x are not names", []),
        ("gpu1 is a device index but gpu01 a host", ["gpu01"]),
    ],
)
def test_host_edges(text, hosts):
    assert [e.name for e in extract(text) if e.kind == "host"] == hosts

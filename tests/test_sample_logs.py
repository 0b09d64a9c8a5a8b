"""The committed sample logs are what generate.py makes, and their ground truth holds."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_logs"
GENERATE = SAMPLES / "generate.py"

COMMANDS = {
    "bmc_cluster.log": ["bmc", "--nodes", "12", "--days", "21", "--seed", "7"],
    "syslog_kernel.log": ["syslog", "--seed", "3"],
    "injection_bmc.log": ["injection", "--seed", "11"],
}

PIPE = re.compile(r"^(node\d+) \|\s+[0-9a-f]+ \| (\d\d/\d\d/\d{4}) \| (\d\d:\d\d:\d\d) \| (.*)$")
FORWARDED = re.compile(r"^(\S+)Z (node\d+)-bmc ipmi-sel\[\d+\]: (.*)$")


def run_generator(*args: str) -> bytes:
    return subprocess.run(
        [sys.executable, str(GENERATE), *args], check=True, capture_output=True
    ).stdout


def read(name: str) -> list[str]:
    return (SAMPLES / name).read_text(encoding="ascii").splitlines()


def events(name: str) -> list[tuple[str, datetime, str]]:
    """(node, time, rest) of every dated SEL line in a BMC sample."""
    out = []
    for line in read(name):
        if m := PIPE.match(line):
            t = datetime.strptime(f"{m[2]} {m[3]}", "%m/%d/%Y %H:%M:%S")
            out.append((m[1], t, m[4]))
        elif m := FORWARDED.match(line):
            out.append((m[2], datetime.fromisoformat(m[1]), m[3]))
    return out


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_committed_file_is_exactly_what_generate_makes(name: str) -> None:
    committed = (SAMPLES / name).read_bytes()
    assert run_generator(*COMMANDS[name]) == committed
    assert len(committed) < 1_000_000
    assert committed.endswith(b"\n") and b"\r" not in committed


def test_every_bmc_line_has_a_known_format() -> None:
    for line in read("bmc_cluster.log") + read("injection_bmc.log"):
        assert PIPE.match(line) or FORWARDED.match(line) or " Pre-Init  |" in line, line
    assert any(" Pre-Init  |00000000" in line for line in read("bmc_cluster.log"))


def test_failing_node_ecc_rate_rises_week_over_week() -> None:
    evs = events("bmc_cluster.log")
    start = min(t for _, t, _ in evs)
    weeks = Counter(
        (t - start).days // 7
        for node, t, rest in evs
        if node == "node09" and "| Correctable ECC |" in rest
    )
    assert 0 < weeks[0] < weeks[1] < weeks[2]
    dimms = {rest.rsplit("| ", 1)[1] for node, _, rest in evs if node == "node09" and "ECC" in rest}
    assert dimms == {"CPU2_DIMM_B2"}


@pytest.mark.parametrize(
    ("name", "failing"), [("bmc_cluster.log", "node09"), ("injection_bmc.log", "node04")]
)
def test_only_the_failing_node_escalates(name: str, failing: str) -> None:
    evs = events(name)
    for marker in (
        "logging limit reached",
        "Uncorrectable ECC",
        "machine check",
        "Device Disabled",
    ):
        nodes = {node for node, _, rest in evs if marker in rest}
        assert nodes == {failing}, marker
    order = [
        next(t for node, t, rest in evs if node == failing and marker in rest)
        for marker in ("| Correctable ECC |", "logging limit reached", "Uncorrectable ECC")
    ]
    assert order == sorted(order)
    # Correctable ECC alone does not give it away: other nodes have some too.
    others = {node for node, _, rest in evs if "Correctable ECC" in rest and node != failing}
    if name == "bmc_cluster.log":
        assert len(others) >= 2


def test_bmc_lines_are_out_of_order_in_a_few_places() -> None:
    times = [t for _, t, _ in events("bmc_cluster.log")]
    inversions = sum(b < a for a, b in zip(times, times[1:], strict=False))
    assert 1 <= inversions <= 10


def test_syslog_crosses_the_year_and_has_the_incidents() -> None:
    lines = read("syslog_kernel.log")
    stamp = re.compile(r"^(\w{3}) ([ \d]\d) (\d\d:\d\d:\d\d) (\S+) ")
    months = [stamp.match(line)[1] for line in lines]
    assert months[0] == "Dec" and months[-1] == "Jan"
    first_jan = months.index("Jan")
    assert set(months[:first_jan]) == {"Dec"} and set(months[first_jan:]) == {"Jan"}
    assert lines[first_jan - 1].startswith("Dec 31 ")
    assert lines[first_jan].startswith("Jan  1 ")
    by_host = lambda pattern: {stamp.match(ln)[4] for ln in lines if pattern in ln}  # noqa: E731
    assert by_host("Remounting filesystem read-only") == {"db01"}
    assert by_host("I/O error, dev sda") == {"db01"}
    assert by_host("Out of memory: Killed process") == {"web02"}
    assert by_host("NIC Link is Down") == {"web01", "build01"}


def test_injection_lines_are_present_and_hostile() -> None:
    text = (SAMPLES / "injection_bmc.log").read_text()
    for needle in ("IGNORE ALL PREVIOUS INSTRUCTIONS", "/etc/passwd", "os.environ", "FINAL("):
        assert needle in text
    assert text.count("OEM record c") == 6


@pytest.mark.parametrize("kind", ["bmc", "syslog", "injection"])
def test_large_mode_hits_exact_line_count_and_keeps_ground_truth(kind: str) -> None:
    out = run_generator(kind, "--lines", "5000").decode()
    lines = out.splitlines()
    assert len(lines) == 5000 and out.endswith("\n")
    small = run_generator(kind).decode()
    assert out.endswith(small)  # the incident block comes last, unchanged
    if kind == "bmc":
        assert not any(re.match(r"node09 ", ln) for ln in lines[: -len(small.splitlines())])


def test_large_mode_size_limit(tmp_path: Path) -> None:
    target = tmp_path / "big.log"
    subprocess.run(
        [sys.executable, str(GENERATE), "bmc", "--size", "600K", "--out", str(target)], check=True
    )
    data = target.read_bytes()
    assert 600 * 1024 - 200 < len(data) <= 600 * 1024
    assert data.endswith(b"\n")
    assert b"node109 " in data and b"node09 " in data

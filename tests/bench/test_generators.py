"""The built-in suite's generators: deterministic, sized, and their ground truth is what the
log says (recomputed here from the text), with the answer away from the first lines."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from rlm_cli.bench import generators as g

CHARS = 40_000  # ~1.2x a 8192-token window at 4 chars/token: quick, still hundreds of lines


def _lines(text: str) -> list[str]:
    return text.splitlines()


_HEAD = re.compile(r"^(?:\d{4}-\S+|\w{3} [ \d]\d \d\d:\d\d:\d\d) (\S+) ")


def _host(line: str) -> str:
    m = _HEAD.match(line)
    assert m, line
    return m.group(1)


def _first_index(lines: list[str], needle: str) -> int:
    return next(i for i, line in enumerate(lines) if needle in line)


@pytest.mark.parametrize("name", sorted(g.GENERATORS))
def test_same_seed_same_bytes_other_seed_other_bytes(name: str) -> None:
    gen = g.GENERATORS[name]
    a, b, c = gen(1, CHARS), gen(1, CHARS), gen(2, CHARS)
    assert a.text == b.text and a.truth == b.truth
    assert a.text != c.text


@pytest.mark.parametrize("name", sorted(g.GENERATORS))
@pytest.mark.parametrize("chars", [16_000, 160_000])
def test_size_is_near_the_target(name: str, chars: int) -> None:
    text = g.GENERATORS[name](3, chars).text
    assert 0.8 * chars <= len(text) <= 1.25 * chars
    assert text.endswith("\n")


@pytest.mark.parametrize("seed", range(3))
def test_needle_line_is_unique_late_and_on_the_true_host(seed: int) -> None:
    log = g.needle(seed, CHARS)
    lines = _lines(log.text)
    marker = ["BBU failed", "FAILED SMART self-check", "GPU has fallen off the bus"][seed]
    hits = [line for line in lines if marker in line]
    assert len(hits) == 1 and f" {log.truth['host']} " in hits[0]
    assert _first_index(lines, marker) > len(lines) * 0.2
    near = ["BBU learn cycle", "Temperature_Celsius changed", "Graphics SM Warp"][seed]
    assert f" {log.truth['decoy']} " in next(line for line in lines if near in line)
    assert _first_index(lines, near) < _first_index(lines, marker)


@pytest.mark.parametrize("seed", range(3))
def test_oom_count_is_the_number_of_killed_process_lines(seed: int) -> None:
    log = g.oom_count(seed, CHARS)
    killed = sum("Out of memory: Killed process" in line for line in _lines(log.text))
    assert killed == log.truth["count"] >= 4
    assert "oom_kill event" in log.text  # the double-count trap is there


@pytest.mark.parametrize("seed", range(3))
def test_topk_host_leads_but_not_early_and_not_by_volume(seed: int) -> None:
    log = g.ssh_topk(seed, CHARS)
    lines = _lines(log.text)
    fails = Counter(_host(line) for line in lines if "Failed password" in line)
    hosts = Counter(_host(line) for line in lines)
    top = log.truth["host"]
    assert fails.most_common(1)[0][0] == top
    assert fails[top] > fails[log.truth["runner_up"]]
    # the first half of the log points at the runner-up, and the busiest host is another one
    half = Counter(_host(line) for line in lines[: len(lines) // 2] if "Failed password" in line)
    assert half.most_common(1)[0][0] != top
    assert hosts.most_common(1)[0][0] != top


@pytest.mark.parametrize("which", ["first", "last"])
@pytest.mark.parametrize("seed", range(2))
def test_timeline_time_is_the_first_or_last_nas01_line(which: str, seed: int) -> None:
    log = g.nfs_timeline(seed, CHARS, which=which)
    hits = [line for line in _lines(log.text) if "server nas01 not responding" in line]
    line = hits[0] if which == "first" else hits[-1]
    assert line.startswith(log.truth["time"].replace(" ", "T"))
    decoy = next(x for x in _lines(log.text) if "server nas02 not responding" in x)
    assert decoy.startswith(log.truth["decoy_time"].replace(" ", "T"))
    assert (log.truth["decoy_time"] < log.truth["time"]) == (which == "first")


def test_timeline_rejects_an_unknown_which() -> None:
    with pytest.raises(ValueError):
        g.nfs_timeline(0, CHARS, which="middle")


@pytest.mark.parametrize("seed", range(3))
def test_multihop_panic_host_and_its_bmc_lease(seed: int) -> None:
    log = g.panic_bmc_ip(seed, CHARS)
    lines = _lines(log.text)
    panic = [x for x in lines if "Kernel panic" in x]
    assert len(panic) == 1 and f" {log.truth['host']} " in panic[0]
    lease = [x for x in lines if f"({log.truth['host']}-bmc)" in x and "DHCPACK" in x]
    assert lease and all(f"on {log.truth['bmc_ip']} " in x for x in lease)
    assert re.search(log.truth["bmc_ip_re"], lease[0])
    assert not re.search(log.truth["bmc_ip_re"], log.truth["os_ip"])
    assert _first_index(lines, "Kernel panic") > len(lines) * 0.2


@pytest.mark.parametrize("fmt", g.BMC_FORMATS)
@pytest.mark.parametrize("failure", g.FAILURE_KINDS)
def test_bmc_fleet_formats_failures_and_distractors(fmt: str, failure: str) -> None:
    log = g.bmc_fleet(5, CHARS, fmt=fmt, failure=failure)
    t = log.truth
    lines = _lines(log.text)
    node = re.compile(r"(node\d+)")
    per_node = Counter(node.search(x).group(1) for x in lines)  # type: ignore[union-attr]
    assert per_node[t["busy"]] >= 2 * per_node[t["node"]]
    assert per_node[t["node"]] == t["lines_failing"]
    decisive = {
        "ecc": "Uncorrectable ECC",
        "fan": "Redundancy Lost",
        "psu": "Power Supply Failure detected",
    }[failure]
    owners = {node.search(x).group(1) for x in lines if decisive in x}  # type: ignore[union-attr]
    if failure == "fan":  # PSU flaps on healthy nodes also lose redundancy, then regain it
        owners = {
            node.search(x).group(1)  # type: ignore[union-attr]
            for x in lines
            if "Fan Redundancy" in x
        }
    assert owners == {t["node"]}
    # the failing node's trend starts after the first part of the log
    trend = {"ecc": "Correctable ECC", "fan": "Lower Non-critical", "psu": "Predictive failure"}
    first_trend = next(i for i, x in enumerate(lines) if trend[failure] in x and t["node"] in x)
    assert first_trend > len(lines) * 0.15
    if fmt == "pipe":
        assert re.match(r"node\d+ \| +[0-9a-f]+ \| \d\d/\d\d/\d{4} \| \d\d:\d\d:\d\d \| ", lines[0])
    elif fmt == "colon":
        assert re.match(r"node\d+: +[0-9a-f]+ \| \d\d/\d\d/\d{4} \| ", lines[0])
    else:
        assert re.match(r"\d{4}-\d\d-\d\dT\S+ node\d+-bmc ipmi-sel\[\d+\]: id=0x", lines[0])


def test_bmc_fleet_rejects_unknown_format() -> None:
    with pytest.raises(ValueError):
        g.bmc_fleet(0, CHARS, fmt="xml")

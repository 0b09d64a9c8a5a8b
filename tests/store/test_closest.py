"""When a search matches nothing: the lines sharing most of its words."""

from __future__ import annotations

import pytest

from rlm_cli.store.closest import (
    closest_lines,
    gapped,
    identifiers,
    inflected,
    literal,
    loosened,
    reordered,
    stems,
    synonymous,
    trimmed,
)

LOG = b"".join(
    [
        b"Sep  9 05:50:01 cn1 kernel: NVRM: Xid (PCI:0000:3b:00): 13, Graphics SM Warp Exception\n",
        *(f"Sep  9 05:5{i}:00 cn{i} systemd[1]: Started session {i}.\n".encode() for i in range(8)),
        b"Sep  9 05:54:58 cn7 kernel: NVRM: Xid (PCI:0000:b7:00): 79, GPU has fallen off the bus.\n",
        b"Sep  9 05:56:00 cn3 smartd[88]: Device: /dev/sdc [SAT], FAILED SMART self-check.\n",
    ]
)


def test_stems_drop_common_words_and_cut_long_ones() -> None:
    assert stems(r"GPU.*fall off the bus") == ["gpu", "fall", "off", "bus"]
    assert stems(r"SMART self-check\w* imminent failure") == [
        "smart",
        "self",
        "check",
        "immin",
        "fail",
    ]


def test_the_line_saying_it_otherwise_is_found(make_context) -> None:
    ctx = make_context({"gpu.log": LOG})
    assert ctx.count("GPU.*fall off the bus") == 0
    [(n, line)] = closest_lines(ctx, r"GPU.*fall off the bus")
    assert n == 10 and "GPU has fallen off the bus" in line
    [(n, line)] = closest_lines(ctx, r"SMART self-check\w* imminent failure")
    assert "FAILED SMART self-check" in line


def test_nothing_close_gives_nothing(make_context) -> None:
    ctx = make_context({"gpu.log": LOG})
    assert closest_lines(ctx, "disk quota exceeded") == []
    assert closest_lines(ctx, "quota") == []  # one word: too little to go on


HDFS = b"".join(
    [
        *(
            f"081109 2050{i:02d} 28 INFO dfs.FSNamesystem: BLOCK* NameSystem.allocateBlock: "
            f"/user/root/rand/_temporary/_task_m_00{i:04d}_0/part-0{i:04d}. blk_{9000 + i}\n".encode()
            for i in range(1700, 1760)
        ),
        b"081109 205301 19 INFO dfs.DataNode: Receiving block blk_10730 src: /10.251.38.214:5001\n",
    ]
)


def test_a_line_naming_the_patterns_identifier_comes_first(make_context) -> None:
    """The 1.5B model grepped 'NameNode allocated a block for the output file part-01730'
    and was shown three allocateBlock lines of other part files."""
    ctx = make_context({"hdfs.log": HDFS})
    pattern = "NameNode allocated a block for the output file part-01730"
    assert ctx.count(pattern) == 0
    [(n, line), *_] = closest_lines(ctx, pattern)
    assert n == 31 and "/part-01730. blk_10730" in line
    # a part of a longer name is no match: part-0173 names no line, words decide
    assert closest_lines(ctx, "allocated part-0173") == closest_lines(ctx, "allocated part")
    # without an identifier, the lines sharing most words
    assert len(closest_lines(ctx, "allocated block for the output file")) == 3


def test_a_compound_name_of_the_identifier_counts_and_words_decide(make_context) -> None:
    """Asked for cn034's BMC lease, the 1.5B model grepped 'cn034.*-bmc.*dhcp' (the log writes
    dhcpd first) and was shown cn034's own leases, the decoy: cn034-bmc named no line."""
    lease = "2026-09-07T{t}+00:00 mgmt01 dhcpd[2231]: DHCPACK on {ip} to 3c:ec:ef:ad:18:b6 ({h}) via eno2\n"
    log = "".join(
        [
            lease.format(t="17:48:21", ip="10.10.56.24", h="cn034"),
            lease.format(t="17:48:22", ip="10.10.56.25", h="cn0345"),
            "2026-09-08T18:20:02+00:00 cn034 kernel: Kernel panic - not syncing\n",
            lease.format(t="23:23:51", ip="10.20.8.188", h="cn034-bmc"),
            lease.format(t="23:23:52", ip="10.10.56.24", h="cn034"),
        ]
    )
    ctx = make_context({"leases.log": log.encode()})
    pattern = r"cn034.*-bmc.*dhcp"
    assert ctx.count(pattern) == 0
    hits = closest_lines(ctx, pattern)
    assert [n for n, _ in hits] == [4, 1, 5], hits  # cn0345 is another name
    # with words that do not tell them apart, the lines naming cn034 itself come first
    assert [n for n, _ in closest_lines(ctx, "cn034 lease")] == [1, 3, 5]
    # a compound's many lines do not use up the scan before the identifier's own
    polls = "".join(
        f"03:{i // 60:02d}:{i % 60:02d} mgmt01 ipmi poll cn034-bmc ok\n" for i in range(600)
    )
    ctx = make_context(
        {"polls.log": (polls + "04:00:00 cn034 kernel: EDAC memory errors\n").encode()}
    )
    [(n, _), *_] = closest_lines(ctx, r"cn034.*memory.*errors")
    assert n == 601


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("block for part-01730.", ["part-01730"]),
        ("cn034 and 10.1.2.3 job 123456", ["cn034", "10.1.2.3", "123456"]),
        ("failed in 2015 after 5000 ms", []),  # a year, a port, a duration: too common
        ("blk_-1727475099218615100 added", ["blk_-1727475099218615100"]),
        (r"cn0\d+ failed", []),  # a regex fragment is no name
        (r"from (\d+\.\d+)", []),
        ("on 2015-10-18 at 18:01", []),  # dates and times are not identifiers
        ("port 22", []),
    ],
)
def test_identifiers_of_a_pattern(pattern: str, expected: list[str]) -> None:
    assert identifiers(pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("OOM Killer", "OOM[-_ ]?Killer"),
        ("link-down", "link[-_ ]?down"),
        ("soft_lockup cpu", "soft[-_ ]?lockup[-_ ]?cpu"),
        ("kernel", None),  # one word: nothing to loosen
        (r"oom.*killer", None),  # a regex is the model's own: left alone
        ("OOM  Killer", None),
    ],
)
def test_loosened_takes_any_separator_between_plain_words(pattern, expected) -> None:
    assert loosened(pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"bmc.*10\.20\.8\.188", r"10\.20\.8\.188.*bmc"),
        ("cn034.*DHCPACK", "DHCPACK.*cn034"),
        ("a.*b.*c", None),  # three parts: the order of more than two is the model's own
        ("cn034-bmc", None),
        ("(a|b).*c", None),
        (".*bmc", None),
        ("a.*?b", None),  # a lazy star: one regex, not two parts
        ("a.*+b", None),
        ("x[.*]y", None),
        ("foo\\.*bar", None),  # an escaped dot, then a star
    ],
)
def test_reordered_swaps_two_parts_joined_by_dot_star(pattern, expected) -> None:
    assert reordered(pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("GPU.*fall off the bus", r"GPU.*fall\w* off the bus"),
        ("BBU failed", r"BBU fail\w*"),
        ("nfs server not responding", r"nfs server\w* not respond\w*"),
        ("Killed process 10.2", r"Kill\w* proces\w* 10\.2"),  # a dot in plain words is a dot
        ("OOM ECC", None),  # acronyms stay: nothing would change
        ("cn034.*DHCPACK", None),
        (r"kill\w+ process", None),  # a regex is the model's own: left alone
        ("(a|b) fails", None),
        ("time out", r"time\w* out"),  # a stem under four letters: the word stays whole
    ],
)
def test_inflected_takes_any_ending_of_plain_words(pattern, expected) -> None:
    assert inflected(pattern) == expected


def test_a_search_in_another_inflection_finds_the_line(make_context) -> None:
    ctx = make_context({"gpu.log": LOG})
    assert ctx.count("GPU.*fall off the bus") == 0
    assert ctx.count(inflected("GPU.*fall off the bus"), ignore_case=True) == 1


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("pam_unix(sshd:auth): auth failure", r"pam_unix\(sshd:auth\): auth failure"),
        ("/dev/sdc [SAT], FAILED", r"/dev/sdc \[SAT\], FAILED"),
        ("x.y (z)", r"x\.y \(z\)"),  # with the parentheses, the dot is the log's too
        ("plain words", None),  # nothing a regex reads otherwise
        (r"a.*b(c)", None),  # .* or a backslash: a regex written on purpose
        (r"\d+ (x)", None),
    ],
)
def test_literal_escapes_log_text_copied_into_a_pattern(pattern, expected) -> None:
    assert literal(pattern) == expected


def test_synonymous_swaps_an_operators_word_for_the_logs() -> None:
    assert synonymous("power supply fail") == ["psu fail", "power unit fail"]
    assert synonymous(r"node\d+.*not responding")[0] == r"node\d+.*unresponsive"
    assert synonymous("kernel panic") == ["panic"]  # the longest phrase of a group first
    assert synonymous("SMART self-check") == []
    assert synonymous("superpsu") == []  # whole words only


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("tty=NODEVssh rhost=.* root", "tty=NODEVssh.*?rhost=.*.*?root"),
        ("a  b", "a.*?b"),  # a run of spaces is one gap
        ("single", None),  # nothing to let text between
        ("a[ ]b", None),  # a space the regex means
        (r"a\ b", None),
        ("x {2}", None),  # a gap before a quantifier is no regex
        ("trailing ", None),
    ],
)
def test_gapped_lets_other_text_stand_between_the_parts(pattern, expected) -> None:
    assert gapped(pattern) == expected


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("authentication failure from", "authentication failure"),
        ("failed password for root from", "failed password for root"),
        ("for the user root", "user root"),
        ("session opened for", "session opened"),
        ("on link down", "link down"),
        ("user root logged in", None),  # "in" ends the verb: "logged" matches "logged out"
        ("fan 3 turned on", None),
        ("down on", None),  # two words: nothing left to search
        ("authentication failure", None),  # no little word at an end
        ("failure from .*", None),  # a regex
        (r"failure from \d+", None),
    ],
)
def test_trimmed_drops_little_words_at_the_ends(pattern: str, expected: str | None) -> None:
    assert trimmed(pattern) == expected

"""The answer checkers, on right and wrong answers."""

from __future__ import annotations

import pytest

from rlm_cli.bench.checks import Check, first_entity, first_number


@pytest.mark.parametrize(
    ("expected", "answer", "ok"),
    [
        ("ECC", "rising correctable ecc on node09", True),
        (["node09", "DIMM_B2"], "node09: CPU2_dimm_b2 is failing", True),
        (["node09", "DIMM_B2"], "node09 is failing", False),
        ("node09", "", False),
    ],
)
def test_contains_all_case_insensitive(expected, answer: str, ok: bool) -> None:
    assert Check("contains", expected)(answer) is ok


@pytest.mark.parametrize(
    ("expected", "answer", "ok"),
    [
        (17, "There were 17 OOM kills.", True),
        (1234, "1,234 lines matched", True),
        ("1,234", "1234", True),
        (17, "node09 logged 17 kills", True),  # digits inside a name are not a number
        (17, "18 (or 17 if the duplicate is dropped)", False),  # the first number counts
        (17, "seventeen", False),
        (3, "3.5 per hour", False),
        (17, "17,5", True),  # not a thousands group: 17 then 5
    ],
)
def test_number_is_the_first_number(expected, answer: str, ok: bool) -> None:
    assert Check("number", expected)(answer) is ok


def test_first_number_reads_groups_and_skips_names() -> None:
    assert first_number("cn017 had 2,048 errors") == 2048
    assert first_number("none") is None


def test_regex_check() -> None:
    c = Check("regex", r"(?<![\d.])10\.20\.3\.47(?!\d)")
    assert c("The BMC of cn017 is 10.20.3.47.")
    assert not c("The BMC of cn017 is 10.20.3.4")
    assert not c("10.20.3.470")


@pytest.mark.parametrize(
    ("answer", "ok"),
    [
        ("node09 will fail (rising ECC), node11 is noisy but fine", True),
        ("NODE09", True),
        ("node11 is the busiest, but node09 is failing", False),  # names a wrong one first
        ("node1 is failing", False),  # not node09
        ("node090", False),  # a longer name is another entity
        ("node09-bmc: Correctable ECC logging limit reached", True),
        ("no node is failing", False),
    ],
)
def test_first_entity_must_be_named_first(answer: str, ok: bool) -> None:
    c = Check("first_entity", "node09", ["node09", "node11", "node1", "node090"])
    assert c(answer) is ok


def test_first_entity_prefers_the_longest_name_at_one_place() -> None:
    assert first_entity("cn0170 failed", ["cn017", "cn0170"]) == "cn0170"
    assert first_entity("nothing", ["cn017"]) is None


@pytest.mark.parametrize(
    "answer",
    [
        "2026-11-03 04:05:09",
        "It first happened at 2026-11-03T04:05:09+00:00.",
        "11/03/2026 | 04:05:09",
        "Nov  3 04:05:09 cn017 kernel: nfs: server nas01 not responding",
        "at 04:05:09 on 3 November 2026",
        "at 4:05:09 on Nov 3",
    ],
)
def test_time_in_common_formats(answer: str) -> None:
    assert Check("time", "2026-11-03 04:05:09")(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "2026-11-03 04:05:08",  # a second off
        "04:05:09",  # no date
        "2026-11-04 04:05:09",  # another day
        "Nov 13 04:05:09",  # another day
        "2026-11-03 14:05:09",  # another hour
        "2026-11-03 04:05:09:12",
    ],
)
def test_time_rejects_other_times(answer: str) -> None:
    assert not Check("time", "2026-11-03 04:05:09")(answer)


def test_describe_says_what_is_expected() -> None:
    assert Check("number", 17).describe() == "number = 17"
    assert "node09" in Check("first_entity", "node09", ["node09", "a"]).describe()

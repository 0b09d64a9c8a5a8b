"""Bench figures from result rows, and saved results read back by id prefix."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlm_cli.bench.store import list_results, load_result, save_result
from rlm_cli.bench.summary import summarise
from rlm_cli.errors import StoreError


def _row(task: str, family: str, size: str, mode: str, correct: bool, wall: float) -> dict:
    return {
        "task": task,
        "family": family,
        "size": size,
        "size_x": float(size.rstrip("x")),
        "mode": mode,
        "correct": correct,
        "wall_s": wall,
        "turns": 2 if mode == "rlm" else 1,
        "root_turns": 3 if mode == "rlm" else 1,
        "turns_ok": 2 if mode == "rlm" else 0,
        "turns_cut": 1 if mode == "rlm" else 0,
        "error": None,
    }


ROWS = [
    _row("n-10x", "needle", "10x", "rlm", True, 30.0),
    _row("n-10x", "needle", "10x", "direct", False, 5.0),
    _row("n-0.5x", "needle", "0.5x", "rlm", True, 10.0),
    _row("n-0.5x", "needle", "0.5x", "direct", True, 3.0),
    _row("c-100x", "aggregation", "100x", "rlm", False, 50.0),
    _row("c-100x", "aggregation", "100x", "direct", False, 6.0),
]


def test_summary_per_mode_family_size_and_deltas() -> None:
    s = summarise(ROWS, ["rlm", "direct"])
    assert s["overall"]["rlm"] == {"n": 3, "correct": 2, "accuracy": 0.6667, "median_wall_s": 30.0}
    assert s["overall"]["direct"]["accuracy"] == 0.3333
    assert s["delta_points"]["overall"] == 33.3
    assert s["by_family"]["needle"]["rlm"]["accuracy"] == 1.0
    assert s["delta_points"]["by_family"] == {"needle": 50.0, "aggregation": 0.0}
    assert list(s["by_size"]) == ["0.5x", "10x", "100x"]  # by size, not as met
    assert s["delta_points"]["by_size"]["10x"] == 100.0
    assert s["over_window"]["rlm"]["n"] == 2 and s["over_window"]["rlm"]["correct"] == 1
    assert s["root_turns"] == {
        "total": 9,
        "ran_code_or_ended": 6,
        "cut_at_max_tokens": 3,
        "share_ok": 0.6667,
    }


def test_time_to_first_token_on_new_logs_and_on_logs_seen_before() -> None:
    """A repeat asks about a log whose head the model has cached: reported apart."""
    rows = [
        {**_row("a", "needle", "10x", "rlm", True, 9.0), "repeat": 0, "first_token_s": 12.0},
        {**_row("b", "needle", "10x", "rlm", True, 9.0), "repeat": 0, "first_token_s": 14.0},
        {**_row("a", "needle", "10x", "rlm", True, 5.0), "repeat": 1, "first_token_s": 1.5},
        {**_row("a", "needle", "10x", "direct", True, 5.0), "repeat": 0, "first_token_s": None},
    ]
    s = summarise(rows, ["rlm", "direct"])
    assert s["first_token"] == {"rlm": {"new_log_median_s": 13.0, "log_seen_median_s": 1.5}}
    assert summarise(ROWS, ["rlm"])["first_token"] == {}  # rows without the figure


def test_summary_of_one_mode_has_no_delta() -> None:
    s = summarise([r for r in ROWS if r["mode"] == "rlm"], ["rlm"])
    assert s["delta_points"]["overall"] is None and "direct" not in s["overall"]


def test_results_saved_listed_and_found_by_prefix(tmp_path: Path) -> None:
    for i in ("20261201-100000-aaaa", "20261201-110000-bbbb", "20261201-110000-bbbc"):
        save_result({"id": i, "results": []}, tmp_path)
    assert [d["id"] for d in list_results(tmp_path)] == [
        "20261201-110000-bbbc",
        "20261201-110000-bbbb",
        "20261201-100000-aaaa",
    ]
    assert load_result("20261201-10", tmp_path)["id"] == "20261201-100000-aaaa"
    assert load_result("20261201-110000-bbbb", tmp_path)["id"] == "20261201-110000-bbbb"
    with pytest.raises(StoreError, match="ambiguous"):
        load_result("20261201-110000-bbb", tmp_path)
    with pytest.raises(StoreError, match="no bench result"):
        load_result("2025", tmp_path)
    assert list_results(tmp_path / "none") == []
    assert not list(tmp_path.glob(".bench-*"))  # no temp files left behind


def test_turn_stats_count_blocks_that_ran_and_replies_that_ended() -> None:
    """A re-sent block that was not run is no turn that ran code; the forced final answer
    ended the run; a reply cut at max tokens is counted as cut."""
    from rlm_cli.bench.runner import _turn_stats
    from rlm_cli.engine.records import FORCED_FINAL, RunResult, Turn, Usage

    ran = Turn(1, code=["print(1)"], outputs=[{"stdout": "1"}])
    resent = Turn(2, code=["print(1)"], notes=["turn 2: repeated code from turn 1 not run"])
    cut = Turn(3, usage={"finish_reason": "length"})
    forced = Turn(4, notes=[FORCED_FINAL])
    turns = [ran, resent, cut, forced]
    result = RunResult("r", "q", "a", "repeating", 3, 1.0, Usage(), turns)
    assert _turn_stats(result) == (2, 1)
    answered = Turn(2, reply='FINAL("a")')
    assert _turn_stats(RunResult("r", "q", "a", "final", 2, 1.0, Usage(), [ran, answered])) == (
        2,
        0,
    )
    assert _turn_stats(RunResult("r", "q", "", "timeout", 2, 1.0, Usage(), [ran, answered])) == (
        1,
        0,
    )

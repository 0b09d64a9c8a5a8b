import json
import math
import random

import pytest

from rlm_cli.store import timeindex as ti_mod
from rlm_cli.store.timeindex import TimeIndex

BASE = 1_700_000_000


def iso(t: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def brute(times: list, t0, t1) -> list[int]:
    return [
        i + 1
        for i, t in enumerate(times)
        if t is not None and (t0 is None or t >= t0) and (t1 is None or t <= t1)
    ]


def make_lines(rng: random.Random, n: int) -> tuple[list[str], list]:
    lines, times = [], []
    for i in range(n):
        r = rng.random()
        if r < 0.15:
            lines.append(f"    continuation {i} without a stamp")
            times.append(None)
        elif r < 0.2:
            lines.append(f"[  {i}.000001] dmesg relative line")
            times.append(None)
        else:
            t = BASE + rng.randrange(0, 5000)
            lines.append(f"{iso(t)} node{i % 7:03d} event {i}")
            times.append(float(t))
    return lines, times


def test_unsorted_input_windows_match_brute_force(tmp_path):
    rng = random.Random(7)
    lines, times = make_lines(rng, 3000)
    idx = TimeIndex.build(lines, tmp_path, default_year=2026)
    assert idx.lines == 3000
    assert idx.count_with_time() == sum(t is not None for t in times)
    assert idx.meta["inversions"] > 100
    valid = [t for t in times if t is not None]
    assert idx.span() == (min(valid), max(valid))
    for _ in range(60):
        a, b = sorted(BASE + rng.randrange(-100, 5100) for _ in range(2))
        assert idx.window(a, b) == brute(times, a, b)
    assert idx.window(None, None) == brute(times, None, None)
    assert idx.window(None, BASE + 10) == brute(times, None, BASE + 10)
    assert idx.window(BASE + 4990, None) == brute(times, BASE + 4990, None)
    assert idx.window(BASE + 10, BASE + 5) == []
    for ln in (1, 2, 500, 3000):
        assert idx.time_of(ln) == times[ln - 1]


def test_load_round_trip_and_files(tmp_path):
    lines = [f"{iso(BASE + 30 - i)} x" for i in range(30)] + ["no stamp here"]
    TimeIndex.build(lines, tmp_path)
    assert {p.name for p in tmp_path.iterdir()} == {"time.idx", "time.sorted", "time.json"}
    assert (tmp_path / "time.idx").stat().st_size == 8 * 31
    assert (tmp_path / "time.sorted").stat().st_size == 4 * 30
    idx = TimeIndex.load(tmp_path)
    assert idx is not None
    assert idx.time_of(31) is None
    assert idx.time_of(1) == BASE + 30
    assert idx.window(BASE + 1, BASE + 3) == [28, 29, 30]
    with pytest.raises(IndexError):
        idx.time_of(0)
    with pytest.raises(IndexError):
        idx.time_of(32)
    idx.close()


def test_equal_times_and_boundaries_inclusive(tmp_path):
    lines = [f"{iso(BASE)} a", f"{iso(BASE + 1)} b", f"{iso(BASE)} c", f"{iso(BASE + 2)} d"]
    idx = TimeIndex.build(lines, tmp_path)
    assert idx.window(BASE, BASE) == [1, 3]
    assert idx.window(BASE + 1, BASE + 2) == [2, 4]
    assert idx._order.tolist() == [1, 3, 2, 4]


def test_load_missing_or_partial_returns_none(tmp_path):
    assert TimeIndex.load(tmp_path) is None
    TimeIndex.build([f"{iso(BASE)} a", f"{iso(BASE + 5)} b"], tmp_path)
    (tmp_path / "time.sorted").write_bytes(b"\0\0\0")  # truncated: not trusted
    assert TimeIndex.load(tmp_path) is None
    meta = json.loads((tmp_path / "time.json").read_text())
    meta["version"] = 99
    (tmp_path / "time.json").write_text(json.dumps(meta))
    assert TimeIndex.load(tmp_path) is None


def test_empty_and_timeless_input(tmp_path):
    idx = TimeIndex.build([], tmp_path / "a")
    assert (idx.lines, idx.count_with_time(), idx.span()) == (0, 0, (None, None))
    assert idx.window(None, None) == []
    idx = TimeIndex.build(["no", "stamps", "[ 1.000000] rel"], tmp_path / "b")
    assert idx.count_with_time() == 0
    assert idx.meta["relative"] == 1
    assert idx.window(0, math.inf) == []
    assert idx.time_of(2) is None


def test_external_merge_of_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(ti_mod, "RUN", 97)  # force many spilled runs
    monkeypatch.setattr(ti_mod, "_CHUNK", 13)  # and many read/write chunks
    rng = random.Random(3)
    lines, times = make_lines(rng, 2500)
    idx = TimeIndex.build(lines, tmp_path)
    assert [p.name for p in tmp_path.iterdir() if "tmp" in p.name] == []
    order = idx._order.tolist()
    assert order == sorted(order, key=lambda ln: (times[ln - 1], ln))
    for _ in range(30):
        a, b = sorted(BASE + rng.randrange(0, 5000) for _ in range(2))
        assert idx.window(a, b) == brute(times, a, b)


def test_sorted_input_skips_sort_and_spills_in_order(tmp_path, monkeypatch):
    monkeypatch.setattr(ti_mod, "RUN", 50)
    lines = [f"{iso(BASE + i // 3)} x" for i in range(400)]
    idx = TimeIndex.build(lines, tmp_path)
    assert idx.meta["inversions"] == 0
    assert idx._order.tolist() == list(range(1, 401))
    assert idx.window(BASE + 10, BASE + 10) == [31, 32, 33]


def test_bytes_lines_and_year_less_syslog(tmp_path):
    lines = [b"Dec 31 23:59:59 h a\n", b"Jan  1 00:00:01 h b\n"]
    idx = TimeIndex.build(lines, tmp_path, default_year=2025)
    assert idx.time_of(2) - idx.time_of(1) == 2.0
    assert idx.meta["kinds"] == {"rfc3164": 2}


def test_rebuild_replaces_previous_index(tmp_path):
    TimeIndex.build([f"{iso(BASE)} a"], tmp_path)
    idx = TimeIndex.build([f"{iso(BASE + 9)} a", f"{iso(BASE + 8)} b"], tmp_path)
    assert idx.lines == 2
    assert TimeIndex.load(tmp_path).window(None, None) == [1, 2]


def test_unwritable_folder_is_a_store_error(tmp_path):
    from rlm_cli.errors import StoreError

    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="time index"):
        TimeIndex.build([f"{iso(BASE)} a"], blocker / "ctx")


def test_window_accepts_time_expressions(tmp_path):
    lines = [f"{iso(BASE + 60 * i)} x" for i in range(10)]
    idx = TimeIndex.build(lines, tmp_path)
    assert idx.window(iso(BASE + 120), iso(BASE + 240)) == [3, 4, 5]
    assert idx.window(str(BASE + 540), None) == [10]
    with pytest.raises(ValueError):
        idx.window("not a time", None)

"""`rlm scan` reads only what is new: append, nothing new, partial lines, several files."""

from __future__ import annotations

from pathlib import Path

from scan_helpers import LogWriter, Scanner, by_path


def test_append_reads_only_new_bytes_and_nothing_new_calls_no_model(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    w = LogWriter()
    w.append(logs / "a.log", 5)
    w.append(logs / "b.log", 3, node="node07")
    sc = Scanner(tmp_path, logs)
    d = sc.run(expect=0)
    assert {p.split("/")[-1]: s["new_lines"] for p, s in by_path(d).items()} == {
        "a.log": 5,
        "b.log": 3,
    }
    w.append(logs / "a.log", 2)
    d = sc.run(expect=0)
    a = by_path(d)[str(logs / "a.log")]
    b = by_path(d)[str(logs / "b.log")]
    assert (a["new_lines"], a["how"], b["new_bytes"]) == (2, "append", 0)
    assert a["from_byte"] == (logs / "a.log").stat().st_size - a["new_bytes"]
    d = sc.run(expect=0)
    assert d["model_called"] is False and d["new_bytes"] == 0 and d["findings"] == []
    sc.assert_exact(w)


def test_a_line_still_being_written_waits_for_its_newline(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    w = LogWriter()
    w.append(logs / "a.log", 2)
    whole = w.lines(1)
    with open(logs / "a.log", "ab") as f:
        f.write(whole[:20])
    sc = Scanner(tmp_path, logs)
    d = sc.run()
    assert d["scanned"][0]["new_lines"] == 2  # the half line is left for next time
    with open(logs / "a.log", "ab") as f:
        f.write(whole[20:])
    d = sc.run()
    assert d["scanned"][0]["new_lines"] == 1
    sc.assert_exact(w)


def test_quiet_run_with_nothing_new_prints_nothing(tmp_path: Path) -> None:
    from helpers import run_rlm

    logs = tmp_path / "logs"
    logs.mkdir()
    w = LogWriter()
    w.append(logs / "a.log", 3)
    sc = Scanner(tmp_path, logs)
    args = [a for a in sc.args("--quiet") if a != "--json"]
    first = run_rlm(args, tmp_path)
    assert (first.code, first.stdout, first.stderr) == (0, "", "")  # no findings: silent
    again = run_rlm(args, tmp_path)
    assert (again.code, again.stdout, again.stderr) == (0, "", "")


def test_empty_folder_is_nothing_new_and_missing_path_is_an_error(tmp_path: Path) -> None:
    from helpers import run_rlm

    (tmp_path / "logs").mkdir()
    sc = Scanner(tmp_path, tmp_path / "logs")
    d = sc.run(expect=0)
    assert d["scanned"] == [] and d["model_called"] is False
    r = run_rlm(Scanner(tmp_path, tmp_path / "nope" / "x.log").args(), tmp_path)
    assert r.code == 2 and "no such file or folder" in r.stderr


def test_a_half_line_left_alone_long_enough_is_read(tmp_path: Path) -> None:
    import os

    logs = tmp_path / "logs"
    logs.mkdir()
    w = LogWriter()
    w.append(logs / "a.log", 2)
    whole = w.lines(1)
    with open(logs / "a.log", "ab") as f:
        f.write(whole[:-1])  # the writer died before its newline
    sc = Scanner(tmp_path, logs)
    assert sc.run()["scanned"][0]["new_lines"] == 2
    os.utime(logs / "a.log", (1, 1))  # ... a long time ago
    d = sc.run()
    assert (d["scanned"][0]["new_lines"], d["scanned"][0]["new_bytes"]) == (1, len(whole) - 1)
    w.bytes -= 1  # its newline was never written
    sc.assert_exact(w)

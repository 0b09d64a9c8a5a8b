"""Rotation: rename-and-create, copytruncate, compressed rotated files, truncation.

In every case each line written is analysed exactly once, and the new_bytes of all runs add
up to the bytes written.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from scan_helpers import LogWriter, Scanner, by_path, gzip_file


def _setup(tmp_path: Path) -> tuple[Path, LogWriter, Scanner]:
    logs = tmp_path / "logs"
    logs.mkdir()
    return logs, LogWriter(), Scanner(tmp_path, logs)


def test_rename_and_create_reads_the_tail_of_the_old_file_then_the_new(tmp_path: Path) -> None:
    logs, w, sc = _setup(tmp_path)
    log = logs / "bmc.log"
    w.append(log, 10)
    sc.run()
    w.append(log, 4)  # written after the scan, before the rotation
    os.rename(log, logs / "bmc.log.1")
    w.append(log, 3)
    d = sc.run()
    s = by_path(d)
    assert s[str(logs / "bmc.log.1")]["how"] == "renamed"
    assert s[str(logs / "bmc.log.1")]["new_lines"] == 4
    assert s[str(logs / "bmc.log")]["new_lines"] == 3
    # a second rotation shifts .1 to .2 and the live file to .1
    w.append(log, 2)
    os.rename(logs / "bmc.log.1", logs / "bmc.log.2")
    os.rename(log, logs / "bmc.log.1")
    w.append(log, 1)
    d = sc.run()
    s = by_path(d)
    assert (s[str(logs / "bmc.log.2")]["new_bytes"], s[str(logs / "bmc.log.1")]["new_lines"]) == (
        0,
        2,
    )
    sc.run()
    sc.assert_exact(w)


def test_copytruncate_reads_the_copy_from_the_offset_and_the_live_file_from_0(
    tmp_path: Path,
) -> None:
    logs, w, sc = _setup(tmp_path)
    log = logs / "bmc.log"
    w.append(log, 10)
    sc.run()
    w.append(log, 5)
    shutil.copyfile(log, logs / "bmc.log.1")  # logrotate copytruncate: copy, then truncate
    os.truncate(log, 0)
    w.append(log, 20)  # the live file grows past the old offset before the next scan
    d = sc.run()
    s = by_path(d)
    assert s[str(logs / "bmc.log.1")]["how"] == "rotated copy"
    assert s[str(logs / "bmc.log.1")]["new_lines"] == 5
    assert s[str(log)]["how"] == "copytruncated" and s[str(log)]["from_byte"] == 0
    w.append(log, 2)
    d = sc.run()
    assert by_path(d)[str(log)]["how"] == "append"
    sc.assert_exact(w)


def test_compressed_rotation_is_recognised_by_its_decompressed_head(tmp_path: Path) -> None:
    logs, w, sc = _setup(tmp_path)
    log = logs / "bmc.log"
    w.append(log, 200)  # more than the 4 KiB fingerprint
    sc.run()
    w.append(log, 7)
    os.rename(log, logs / "bmc.log.1")
    gzip_file(logs / "bmc.log.1", logs / "bmc.log.1.gz")  # compress, no delaycompress
    w.append(log, 3)
    d = sc.run()
    s = by_path(d)
    gz = s[str(logs / "bmc.log.1.gz")]
    assert (gz["how"], gz["new_lines"], gz["compression"]) == ("rotated copy", 7, "gzip")
    assert s[str(log)]["new_lines"] == 3
    # next rotation: .1.gz → .2.gz (a rename), live → .1.gz (a new compressed copy)
    w.append(log, 4)
    os.rename(logs / "bmc.log.1.gz", logs / "bmc.log.2.gz")
    os.rename(log, logs / "bmc.log.1")
    gzip_file(logs / "bmc.log.1", logs / "bmc.log.1.gz")
    d = sc.run()
    s = by_path(d)
    assert s[str(logs / "bmc.log.2.gz")]["new_bytes"] == 0
    assert s[str(logs / "bmc.log.1.gz")]["new_lines"] == 4
    d = sc.run()
    assert d["model_called"] is False
    sc.assert_exact(w)


def test_delaycompress_copy_then_compressed_copy_is_not_read_again(tmp_path: Path) -> None:
    logs, w, sc = _setup(tmp_path)
    log = logs / "bmc.log"
    w.append(log, 30)
    sc.run()
    w.append(log, 6)
    shutil.copyfile(log, logs / "bmc.log.1")  # copytruncate with delaycompress
    os.truncate(log, 0)
    w.append(log, 2)
    sc.run()
    # compressed a rotation later; seen once while both copies exist (gzip --keep)
    shutil.copyfile(logs / "bmc.log.1", tmp_path / "keep")
    gzip_file(logs / "bmc.log.1", logs / "bmc.log.1.gz")
    shutil.copyfile(tmp_path / "keep", logs / "bmc.log.1")
    w.append(log, 1)
    d = sc.run()
    gz = by_path(d)[str(logs / "bmc.log.1.gz")]
    assert (gz["how"], gz["new_bytes"]) == ("duplicate copy", 0)
    os.unlink(logs / "bmc.log.1")
    d = sc.run()
    assert by_path(d)[str(logs / "bmc.log.1.gz")]["new_bytes"] == 0
    sc.assert_exact(w)


def test_truncation_without_a_copy_reads_from_the_start(tmp_path: Path) -> None:
    logs, w, sc = _setup(tmp_path)
    log = logs / "bmc.log"
    w.append(log, 10)
    sc.run()
    os.truncate(log, 0)
    w.append(log, 4)
    d = sc.run()
    s = by_path(d)[str(log)]
    assert (s["how"], s["from_byte"], s["new_lines"]) == ("truncated", 0, 4)
    # truncated and refilled past the old offset: the head no longer matches
    os.truncate(log, 0)
    w.append(log, 12)
    d = sc.run()
    assert by_path(d)[str(log)]["new_lines"] == 12
    sc.assert_exact(w)


def test_named_file_brings_its_rotated_siblings(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    w = LogWriter()
    log = logs / "bmc.log"
    w.append(log, 5)
    (logs / "other.log").write_bytes(b"not ours seq=999999\n")
    sc = Scanner(tmp_path, log)
    sc.run()
    w.append(log, 3)
    os.rename(log, logs / "bmc.log.1")
    w.append(log, 2)
    d = sc.run()
    s = by_path(d)
    assert s[str(logs / "bmc.log.1")]["new_lines"] == 3 and str(logs / "other.log") not in s
    d = sc.run()  # the sibling is not tracked: it is not read from the start next time
    assert d["model_called"] is False
    sc.assert_exact(w)


def test_include_glob_that_misses_rotated_names_still_follows_the_rotation(tmp_path: Path) -> None:
    logs, w, sc = _setup(tmp_path)
    log = logs / "bmc.log"
    w.append(log, 10)
    sc.run("--include", "*.log")
    w.append(log, 5)
    os.rename(log, logs / "bmc.log.1")
    gzip_file(logs / "bmc.log.1", logs / "bmc.log.1.gz")
    d = sc.run("--include", "*.log")  # bmc.log is gone until the logger reopens it
    assert by_path(d)[str(logs / "bmc.log.1.gz")]["new_lines"] == 5
    w.append(log, 2)
    d = sc.run("--include", "*.log")
    assert [(s["path"], s["new_lines"]) for s in d["scanned"] if s["new_bytes"]] == [(str(log), 2)]
    sc.assert_exact(w)


def test_named_file_rotated_away_is_not_an_error(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    w = LogWriter()
    log = logs / "bmc.log"
    w.append(log, 4)
    sc = Scanner(tmp_path, log)
    sc.run()
    w.append(log, 2)
    os.rename(log, logs / "bmc.log.1")
    d = sc.run()
    assert by_path(d)[str(logs / "bmc.log.1")]["new_lines"] == 2
    sc.assert_exact(w)

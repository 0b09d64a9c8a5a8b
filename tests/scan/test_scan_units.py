"""The scan's parts on their own: names, finding identity, the lock, the state file."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from rlm_cli.errors import StoreError
from rlm_cli.scan.findings_store import FindingsStore, finding_key, template
from rlm_cli.scan.lock import ScanBusy, ScanLock
from rlm_cli.scan.prom import render_metrics
from rlm_cli.scan.rotation import rotation_base
from rlm_cli.scan.state import STATE_FILE, Cursor, ScanState, load_state, save_state


@pytest.mark.parametrize(
    ("name", "base"),
    [
        ("bmc.log", "bmc.log"),
        ("bmc.log.1", "bmc.log"),
        ("bmc.log.12.gz", "bmc.log"),
        ("/var/log/bmc.log-20261125.xz", "bmc.log"),
        ("bmc.log-2026-11-25.zst", "bmc.log"),
        ("syslog.2.bz2", "syslog"),
        ("node-01.log", "node-01.log"),
        ("node-01", "node-01"),
    ],
)
def test_rotation_base(name: str, base: str) -> None:
    assert rotation_base(name) == base


def test_finding_identity_ignores_numbers_but_not_words() -> None:
    a = "DIMM_B2: 14 correctable errors since 07:01:22 (0x1f3a)"
    b = "DIMM_B2: 31 correctable errors since 09:11:02 (0x2b)"
    assert template(a) == template(b) == "dimm_b2: <*> correctable errors since <*> (<*>)"
    assert finding_key("node09", a) == finding_key("NODE09 ", b)
    assert finding_key("node09", a) != finding_key("node10", a)
    assert finding_key("node09", a) != finding_key("node09", "DIMM_B2 uncorrectable error")


def test_store_merges_duplicates_within_a_run_and_skips_unverified() -> None:
    store = FindingsStore([])
    f = {
        "entity": "n1",
        "severity": "warning",
        "summary": "fan 3 slow",
        "verified": True,
        "evidence": [1],
    }
    g = {**f, "severity": "critical", "summary": "fan 4 slow", "evidence": [2]}
    u = {**f, "entity": "n2", "verified": False}
    (m,) = store.merge([f, g, u], run_id="r1", when=1.0)
    assert (m["severity"], m["evidence"], m["count"]) == ("critical", [1, 2], 1)
    assert len(store.records) == 1
    with pytest.raises(Exception, match="no finding"):
        store.resolve("zzz", when=2.0)


def test_lock_second_holder_waits_or_fails(tmp_path: Path) -> None:
    first = ScanLock(tmp_path, 0)
    first.acquire()
    with pytest.raises(ScanBusy, match=r"another rlm scan \(pid \d+\) is running"):
        ScanLock(tmp_path, 0).acquire()
    threading.Timer(0.3, first.release).start()
    t0 = time.monotonic()
    with ScanLock(tmp_path, 5):
        assert 0.2 < time.monotonic() - t0 < 5


def test_state_round_trip_and_damaged_state_is_an_error(tmp_path: Path) -> None:
    st = ScanState(cursors={"/x": Cursor("/x", 1, 2, 30, 3, 30, "ab")}, runs=2)
    save_state(tmp_path, st)
    back = load_state(tmp_path)
    assert back.cursors["/x"].offset == 30 and back.runs == 2
    assert [p.name for p in tmp_path.iterdir()] == [STATE_FILE]  # no temp file left
    (tmp_path / STATE_FILE).write_text("{not json")
    with pytest.raises(StoreError, match="damaged"):
        load_state(tmp_path)


def test_prometheus_labels_are_escaped() -> None:
    text = render_metrics(
        when=1.5,
        exit_code=0,
        duration_s=0.25,
        scanned=[{"path": 'a"b\\c', "new_bytes": 3}],
        run_findings=[],
        open_findings=[],
        bytes_total=3,
        model_called=False,
    )
    assert 'rlm_scan_new_bytes{path="a\\"b\\\\c"} 3\n' in text
    assert "rlm_scan_last_run_timestamp_seconds 1.5\n" in text


def test_a_reused_inode_does_not_outrank_the_head(tmp_path: Path) -> None:
    """A cursor of a file that was empty has no head; its inode number, reused by a new
    file, must not claim that file when another cursor's head proves what it is."""
    from rlm_cli.scan.rotation import open_file, plan_reads
    from rlm_cli.scan.state import head_sha

    data = b"2026-11-25 node01 ok seq=1\n" * 10
    copy = tmp_path / "bmc.log.2"
    copy.write_bytes(data)
    st = copy.stat()
    empty_then = Cursor(str(tmp_path / "bmc.log.1"), st.st_dev, st.st_ino, 0, 0, 0, head_sha(b""))
    # the file it really is: bmc.log.3 read to its end, then renamed away (same family)
    read_before = Cursor(
        str(tmp_path / "bmc.log.3"), 0, 1, len(data), 10, len(data), head_sha(data)
    )
    f = open_file(str(copy))
    assert f is not None
    try:
        (plan,), _ = plan_reads({c.path: c for c in (empty_then, read_before)}, [f])
    finally:
        f.close()
    assert (plan.how, plan.start, plan.cursor) == ("rotated copy", len(data), read_before)

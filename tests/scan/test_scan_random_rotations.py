"""Random appends, rotations (both styles, compressed or not) and scans, in process.

The reading half of `rlm scan` (discover → plan_reads → read_new into a ContextWriter) is
run between random operations on several log families; across all scans every line written
must be read exactly once and the new_bytes must add up to the bytes written.
"""

from __future__ import annotations

import os
import random
import re
import shutil
from pathlib import Path

import pytest
from scan_helpers import LogWriter, gzip_file

from rlm_cli.scan.files import discover, read_new
from rlm_cli.scan.rotation import plan_reads, rotation_base
from rlm_cli.store.context import Context
from rlm_cli.store.ingest import ContextWriter


def _scan(logs: Path, cursors: dict, store: Path) -> tuple[dict, int, list[int]]:
    files = discover([str(logs)], remembered=list(cursors))
    try:
        plans, _ = plan_reads(cursors, files)
        with ContextWriter(store) as w:
            reads = read_new(plans, w)
            n = sum(r.new_bytes for r in reads)
            meta = w.finish() if n else None
    finally:
        for f in files:
            f.close()
    seqs: list[int] = []
    if meta:
        ctx = Context(store / meta["id"])
        whole = (re.search(r"seq=(\d{6})$", line) for line in ctx)
        seqs = [int(m.group(1)) for m in whole if m]
        ctx.close()
    return {r.cursor.path: r.cursor for r in reads if r.cursor}, n, seqs


def _rotate(logs: Path, name: str, rng: random.Random) -> None:
    """logrotate one family: shift .N(.gz), then rename-and-create or copytruncate."""
    live = logs / name
    if not live.exists():
        return
    olds = sorted(
        (p for p in logs.iterdir() if rotation_base(p.name) == name and p != live),
        key=lambda p: int(p.name[len(name) + 1 :].split(".")[0]),
        reverse=True,
    )
    for p in olds:  # .2.gz → .3.gz ... .1 → .2(.gz)
        n = int(p.name[len(name) + 1 :].split(".")[0])
        target = logs / p.name.replace(f"{name}.{n}", f"{name}.{n + 1}", 1)
        os.rename(p, target)
        if not target.name.endswith(".gz") and rng.random() < 0.7:
            gzip_file(target, target.with_name(target.name + ".gz"))  # delaycompress
    first = logs / f"{name}.1"
    if rng.random() < 0.5:
        os.rename(live, first)
    else:  # copytruncate (atomic here: nothing is written between copy and truncate)
        shutil.copyfile(live, first)
        os.truncate(live, 0)
    if rng.random() < 0.4:
        gzip_file(first, first.with_name(first.name + ".gz"))


@pytest.mark.parametrize("seed", range(8))
def test_random_rotations_read_every_line_exactly_once(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    logs = tmp_path / "logs"
    logs.mkdir()
    store = tmp_path / "contexts"
    names = ["bmc.log", "node-01.log", "node-02.log"]
    w = LogWriter()
    cursors: dict = {}
    total, seen = 0, []
    dirty: set[str] = set()  # families written since the last scan
    for _ in range(80):
        op = rng.random()
        name = rng.choice(names)
        if op < 0.5:
            w.append(logs / name, rng.randint(1, 80), node=f"node{names.index(name):02d}")
            dirty.add(name)
        elif op < 0.65:
            _rotate(logs, name, rng)
        elif op < 0.72 and name not in dirty and (logs / name).exists():
            os.truncate(logs / name, 0)  # truncated in place (nothing unread is lost)
        else:
            cursors, n, seqs = _scan(logs, cursors, store)
            total += n
            seen += seqs
            dirty.clear()
    cursors, n, seqs = _scan(logs, cursors, store)
    total += n
    seen += seqs
    assert sorted(seen) == w.seqs
    assert total == w.bytes
    assert _scan(logs, cursors, store)[1] == 0  # and nothing is left to read


def _logrotate_shift(logs: Path, name: str) -> None:
    """Shift NAME.k(.gz) to NAME.k+1.gz, compressing the old .1 (delaycompress)."""
    olds = sorted(
        (p for p in logs.iterdir() if rotation_base(p.name) == name and p.name != name),
        key=lambda p: int(p.name[len(name) + 1 :].split(".")[0]),
        reverse=True,
    )
    for p in olds:
        k = int(p.name[len(name) + 1 :].split(".")[0])
        target = logs / p.name.replace(f"{name}.{k}", f"{name}.{k + 1}", 1)
        os.rename(p, target)
        if not target.name.endswith(".gz"):
            gzip_file(target, target.with_name(target.name + ".gz"))


@pytest.mark.parametrize("seed", range(6))
def test_real_writers_keep_writing_to_renamed_files_and_leave_half_lines(
    tmp_path: Path, seed: int
) -> None:
    """Loggers hold their file open: after a rename they write to the rotated file until they
    reopen, and a line may be half written when a scan comes. Scans happen at any moment."""
    rng = random.Random(seed)
    logs = tmp_path / "logs"
    logs.mkdir()
    store = tmp_path / "contexts"
    names = ["bmc.log", "node-01.log"]
    w = LogWriter()
    fds = {n: open(logs / n, "ab") for n in names}  # noqa: SIM115 - closed below
    half = dict.fromkeys(names, b"")  # the rest of a line being written
    renamed = dict.fromkeys(names, False)  # rotated by rename, logger not reopened yet
    cursors: dict = {}
    total, seen = 0, []
    try:
        for _ in range(120):
            op, n = rng.random(), rng.choice(names)
            if op < 0.45:
                data = half[n] + w.lines(rng.randint(1, 30), node=f"node{names.index(n):02d}")
                half[n] = b""
                if rng.random() < 0.3:
                    cut = rng.randint(1, 60)
                    data, half[n] = data[:-cut], data[-cut:]
                fds[n].write(data)
                fds[n].flush()
            elif op < 0.55 and not renamed[n]:
                _logrotate_shift(logs, n)
                if half[n] or rng.random() < 0.5:
                    os.rename(logs / n, logs / f"{n}.1")
                    renamed[n] = True
                else:
                    shutil.copyfile(logs / n, logs / f"{n}.1")
                    os.truncate(logs / n, 0)
            elif op < 0.62 and renamed[n]:  # SIGHUP: finish the line, reopen the live name
                fds[n].write(half[n])
                half[n] = b""
                fds[n].close()
                fds[n] = open(logs / n, "ab")  # noqa: SIM115
                renamed[n] = False
            else:
                cursors, k, seqs = _scan(logs, cursors, store)
                total += k
                seen += seqs
        for n in names:
            fds[n].write(half[n])
            fds[n].flush()
    finally:
        for fd in fds.values():
            fd.close()
    for p in logs.iterdir():  # long after: every writer is done
        os.utime(p, (1, 1))
    cursors, k, seqs = _scan(logs, cursors, store)
    assert sorted(seen + seqs) == w.seqs
    assert total + k == w.bytes

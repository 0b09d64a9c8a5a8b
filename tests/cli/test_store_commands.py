"""`rlm ingest`, `rlm grep`, `rlm contexts ...` run as the operator runs them."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

LOG_A = b"".join(
    b"2026-11-23T04:%02d:00Z node%02d %s\n"
    % (i % 60, i % 7, b"ERROR disk" if i % 5 == 0 else b"ok")
    for i in range(200)
)
LOG_B = b"Nov 23 05:00:00 host kernel: Error one\r\nNov 23 05:00:01 host kernel: fine\r\nno newline error"


@pytest.fixture
def env(tmp_path: Path) -> dict:
    return {**os.environ, "RLM_HOME": str(tmp_path / "home"), "PYTHONPATH": str(REPO)}


@pytest.fixture
def logs(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_bytes(LOG_A)
    b.write_bytes(LOG_B)
    return a, b


def rlm(env: dict, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rlm_cli", *args],
        env=env,
        input=input if input is not None else b"",
        capture_output=True,
        timeout=60,
    )


def test_ingest_prints_id_then_json(env, logs):
    a, b = logs
    r = rlm(env, "ingest", str(a), str(b))
    assert r.returncode == 0, r.stderr
    ctx_id = r.stdout.decode().strip()
    assert len(ctx_id) == 16
    assert b"203 lines" in r.stderr
    j = json.loads(rlm(env, "ingest", "--json", str(a), str(b)).stdout)
    assert j["id"] == ctx_id  # stored once
    assert (j["lines"], j["bytes"]) == (203, len(LOG_A) + len(LOG_B) - 2 + 1)
    sa, sb = j["sources"]
    assert (sa["path"], sa["lines"], sa["line_range"]) == (str(a), 200, [1, 200])
    assert (sb["lines"], sb["line_range"], sb["final_newline"]) == (3, [201, 203], False)
    assert j["first_time"] == "2026-11-23T04:00:00Z"
    assert sa["last_time"] == "2026-11-23T04:59:00Z"


def test_ingest_stdin_and_bad_input(env, tmp_path):
    r = rlm(env, "ingest", "--json", input=gzip.compress(b"x\ny\n"))
    assert r.returncode == 0 and json.loads(r.stdout)["sources"][0]["compression"] == "gzip"
    r = rlm(env, "ingest", input=b"")
    assert (
        r.returncode == 2 and r.stderr.decode().strip() == "rlm: error: no input: stdin was empty"
    )
    (tmp_path / "zero.log").write_bytes(b"")
    r = rlm(env, "ingest", str(tmp_path / "zero.log"))
    assert r.returncode == 2 and b"file is empty" in r.stderr
    r = rlm(env, "ingest", str(tmp_path / "missing.log"))
    assert r.returncode == 2 and b"no such file or folder" in r.stderr
    (tmp_path / "bin.dat").write_bytes(b"a\x00b\n")
    r = rlm(env, "ingest", str(tmp_path / "bin.dat"))
    assert r.returncode == 2 and b"--binary" in r.stderr
    assert rlm(env, "ingest", "--binary", str(tmp_path / "bin.dat")).returncode == 0
    assert not list((tmp_path / "home" / "contexts").glob(".tmp-*"))


def test_ingest_folder_with_include_exclude(env, tmp_path):
    d = tmp_path / "logs"
    (d / "old").mkdir(parents=True)
    (d / "x.log").write_bytes(b"x\n")
    (d / "old" / "y.log.1").write_bytes(gzip.compress(b"y\n"))
    (d / "skip.txt").write_bytes(b"s\n")
    r = rlm(env, "ingest", "--json", str(d), "--include", "*.log*", "--exclude", "*.txt")
    paths = [Path(s["path"]).name for s in json.loads(r.stdout)["sources"]]
    assert paths == ["x.log", "y.log.1"]  # a folder's files (sorted), then its subfolders


def _grep(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["grep", *args], capture_output=True, env={**os.environ, "LC_ALL": "C"}, timeout=60
    )


@pytest.mark.skipif(shutil.which("grep") is None, reason="needs grep to compare with")
@pytest.mark.parametrize(
    "args",
    [
        ["-c", "ERROR"],
        ["-n", "ERROR disk"],
        ["-c", "-i", "error"],
        ["-n", "-i", "error"],
        ["node0[35] ERROR"],
        ["-c", "zzz"],
    ],
)
def test_grep_matches_grep(env, logs, args):
    a, b = logs
    fixed_b = b.with_name("b_lf.log")  # grep sees CRLF; the store keeps LF
    fixed_b.write_bytes(LOG_B.replace(b"\r\n", b"\n") + b"\n")
    ours = rlm(env, "grep", *args, str(a), str(b))
    theirs = _grep(*args, str(a), str(fixed_b))
    assert ours.returncode == theirs.returncode
    assert ours.stdout == theirs.stdout.replace(b"b_lf.log", b"b.log")
    # One file: no name prefix, like grep.
    ours1 = rlm(env, "grep", *args, str(a))
    assert ours1.stdout == _grep(*args, str(a)).stdout


def test_grep_context_and_exit_codes(env, logs):
    a, _ = logs
    ctx_id = rlm(env, "ingest", "-q", str(a)).stdout.decode().strip()
    r = rlm(env, "grep", "-c", "ERROR", "--context", ctx_id[:6])
    assert (r.returncode, r.stdout) == (0, b"40\n")
    r = rlm(env, "grep", "nothing-like-this", "--context", ctx_id)
    assert (r.returncode, r.stdout) == (1, b"")
    r = rlm(env, "grep", "(", "--context", ctx_id)
    assert r.returncode == 2 and b"bad regex" in r.stderr
    r = rlm(env, "grep", "x", "--context", "ffffffffffff")
    assert r.returncode == 2 and b"no context" in r.stderr
    r = rlm(env, "grep", "x", str(a), "--context", ctx_id)
    assert r.returncode == 2 and b"not both" in r.stderr


def test_contexts_list_show_rm_gc(env, logs, tmp_path):
    a, b = logs
    id_a = rlm(env, "ingest", "-q", str(a)).stdout.decode().strip()
    id_b = rlm(env, "ingest", "-q", str(b)).stdout.decode().strip()
    listed = json.loads(rlm(env, "contexts", "list", "--json").stdout)
    assert {c["id"] for c in listed} == {id_a, id_b}
    text = rlm(env, "contexts", "list").stdout.decode()
    assert id_a in text and "a.log" in text
    shown = rlm(env, "contexts", "show", id_b).stdout.decode()
    assert "lines 1-3" in shown and "b.log" in shown
    assert json.loads(rlm(env, "contexts", "show", "--json", id_a).stdout)["lines"] == 200

    root = tmp_path / "home" / "contexts"
    (root / ".tmp-leftover").mkdir()
    (root / id_b / "timeindex").mkdir()
    (root / id_b / "timeindex" / "time.idx.tmp123").write_bytes(b"half")
    (root / id_a / "data").write_bytes(b"cut")  # damaged
    hours_ago = time.time() - 7200  # leftovers go when an hour old (running work is younger)
    for p in (root / ".tmp-leftover", root / id_b / "timeindex" / "time.idx.tmp123", root / id_a):
        os.utime(p, (hours_ago, hours_ago))
    r = rlm(env, "contexts", "gc", "--json")
    removed = json.loads(r.stdout)["removed"]
    assert ".tmp-leftover" in removed and any(x.startswith(id_a) for x in removed)
    assert not (root / ".tmp-leftover").exists() and not (root / id_a).exists()
    assert f"{id_b}/timeindex/time.idx.tmp123" in removed and (root / id_b / "meta.json").exists()

    r = rlm(env, "contexts", "rm", id_b)
    assert r.returncode == 0 and not (root / id_b).exists()
    r = rlm(env, "contexts", "rm", id_b)
    assert r.returncode == 2 and b"no context" in r.stderr


def _stored(tmp_path: Path) -> list[str]:
    root = tmp_path / "home" / "contexts"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_commands_that_only_look_leave_no_copy_unless_kept(env, logs, tmp_path):
    a, _ = logs
    r = rlm(env, "grep", "-c", "ERROR", str(a))
    assert (r.returncode, r.stdout, r.stderr) == (0, b"40\n", b"")
    r = rlm(env, "grep", "-c", "ERROR", str(a), "--keep")  # Typer path and fast path alike
    assert r.returncode == 0 and b"kept a copy as context" in r.stderr
    kept = _stored(tmp_path)
    assert len(kept) == 1 and kept[0].encode() in r.stderr
    for cmd in (["brief", "--json"], ["templates", "--top", "1"]):
        r = rlm(env, *cmd, str(a))
        assert r.returncode == 0 and r.stdout, r.stderr
    assert _stored(tmp_path) == kept  # no new context, no leftover .tmp-look-* folder
    r = rlm(env, "templates", str(a), "--keep", "--top", "1")
    assert r.returncode == 0 and b"kept a copy" in r.stderr and _stored(tmp_path) == kept


def test_folder_skips_binary_files_and_filters_on_every_reader(env, tmp_path):
    logs = tmp_path / "var-log"
    logs.mkdir()
    (logs / "app.log").write_bytes(LOG_A)
    (logs / "debug.log").write_bytes(b"2026-11-23T05:00:00Z node01 DEBUG ERROR noise\n" * 7)
    (logs / "wtmp").write_bytes(b"\x07\x00\x00\x00" + os.urandom(380) + b"\x00" * 128)
    r = rlm(env, "grep", "-c", "ERROR", str(logs))
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines() == [f"{logs}/app.log:40", f"{logs}/debug.log:7"]
    notes = [ln for ln in r.stderr.decode().splitlines() if "wtmp" in ln]
    assert len(notes) == 1 and "skipping" in notes[0] and "binary" in notes[0]
    # named explicitly, a binary file stays an error
    r = rlm(env, "grep", "x", str(logs / "wtmp"))
    assert r.returncode == 2 and b"looks binary" in r.stderr and b"Traceback" not in r.stderr
    # the same --include/--exclude on grep, brief and templates
    r = rlm(env, "grep", "-c", "ERROR", str(logs), "--exclude", "debug*")
    assert r.stdout == b"40\n"
    brief = json.loads(rlm(env, "brief", "--json", str(logs), "--include", "debug*").stdout)
    assert brief["size"]["lines"] == 7 and len(brief["sources"]) == 1
    t = rlm(env, "templates", "--json", str(logs), "--exclude", "debug*", "--exclude", "wtmp")
    assert t.returncode == 0 and b"wtmp" not in t.stderr
    assert sum(row["count"] for row in json.loads(t.stdout)["templates"]) == 200


def test_contexts_gc_by_age_and_size(env, logs, tmp_path):
    a, b = logs
    id_a = rlm(env, "ingest", "-q", str(a)).stdout.decode().strip()
    id_b = rlm(env, "ingest", "-q", str(b)).stdout.decode().strip()
    root = tmp_path / "home" / "contexts"
    ten_days = time.time() - 10 * 86400
    os.utime(root / id_a, (ten_days, ten_days))
    r = rlm(env, "contexts", "gc", "--older-than", "7d", "--json")
    out = json.loads(r.stdout)
    assert [c["id"] for c in out["contexts"]] == [id_a] and out["freed_bytes"] > len(LOG_A)
    assert _stored(tmp_path) == [id_b]
    # using a context counts: grep --context touches it, so it outlives an older one
    id_a = rlm(env, "ingest", "-q", str(a)).stdout.decode().strip()
    os.utime(root / id_a, (ten_days, ten_days))
    os.utime(root / id_b, (ten_days - 60, ten_days - 60))
    assert rlm(env, "grep", "x", "--context", id_b).returncode in (0, 1)
    r = rlm(env, "contexts", "gc", "--max-size", "1K")  # over it: least recently used first
    assert r.returncode == 0 and f"removed {id_a}".encode() in r.stdout, r.stdout
    assert b"over the size limit" in r.stdout and b"freed" in r.stderr
    assert _stored(tmp_path) == [id_b]  # B alone fits in 1 KB
    for bad in (["--older-than", "soon"], ["--max-size", "lots"]):
        r = rlm(env, "contexts", "gc", *bad)
        assert r.returncode == 2 and r.stderr.startswith(b"rlm: error: "), r.stderr

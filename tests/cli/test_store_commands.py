"""`rlm ingest`, `rlm grep`, `rlm contexts ...` run as the operator runs them."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from helpers import Result

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


@pytest.fixture
def cli(rlm_here, env: dict, tmp_path: Path):
    """``cli(*args, input=b"...")``: the command run in this process (tests/helpers.py)."""

    def run(*args: str, input: bytes | None = None) -> Result:
        return rlm_here(list(args), tmp_path, stdin=input, env=env)

    return run


def test_ingest_prints_id_then_json(cli, logs):
    a, b = logs
    r = cli("ingest", str(a), str(b))
    assert r.code == 0, r.stderr
    ctx_id = r.stdout.strip()
    assert len(ctx_id) == 16
    assert "203 lines" in r.stderr
    j = json.loads(cli("ingest", "--json", str(a), str(b)).stdout)
    assert j["id"] == ctx_id  # stored once
    assert (j["lines"], j["bytes"]) == (203, len(LOG_A) + len(LOG_B) - 2 + 1)
    sa, sb = j["sources"]
    assert (sa["path"], sa["lines"], sa["line_range"]) == (str(a), 200, [1, 200])
    assert (sb["lines"], sb["line_range"], sb["final_newline"]) == (3, [201, 203], False)
    assert j["first_time"] == "2026-11-23T04:00:00Z"
    assert sa["last_time"] == "2026-11-23T04:59:00Z"


def test_ingest_stdin_and_bad_input(cli, tmp_path):
    r = cli("ingest", "--json", input=gzip.compress(b"x\ny\n"))
    assert r.code == 0 and json.loads(r.stdout)["sources"][0]["compression"] == "gzip"
    r = cli("ingest", input=b"")
    assert r.code == 2 and r.stderr.strip() == "rlm: error: no input: stdin was empty"
    (tmp_path / "zero.log").write_bytes(b"")
    r = cli("ingest", str(tmp_path / "zero.log"))
    assert r.code == 2 and "file is empty" in r.stderr
    r = cli("ingest", str(tmp_path / "missing.log"))
    assert r.code == 2 and "no such file or folder" in r.stderr
    (tmp_path / "bin.dat").write_bytes(b"a\x00b\n")
    r = cli("ingest", str(tmp_path / "bin.dat"))
    assert r.code == 2 and "--binary" in r.stderr
    assert cli("ingest", "--binary", str(tmp_path / "bin.dat")).code == 0
    assert not list((tmp_path / "home" / "contexts").glob(".tmp-*"))


def test_ingest_folder_with_include_exclude(cli, tmp_path):
    d = tmp_path / "logs"
    (d / "old").mkdir(parents=True)
    (d / "x.log").write_bytes(b"x\n")
    (d / "old" / "y.log.1").write_bytes(gzip.compress(b"y\n"))
    (d / "skip.txt").write_bytes(b"s\n")
    r = cli("ingest", "--json", str(d), "--include", "*.log*", "--exclude", "*.txt")
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
def test_grep_matches_grep(cli, logs, args):
    a, b = logs
    fixed_b = b.with_name("b_lf.log")  # grep sees CRLF; the store keeps LF
    fixed_b.write_bytes(LOG_B.replace(b"\r\n", b"\n") + b"\n")
    ours = cli("grep", *args, str(a), str(b))
    theirs = _grep(*args, str(a), str(fixed_b))
    assert ours.code == theirs.returncode
    assert ours.stdout == theirs.stdout.decode().replace("b_lf.log", "b.log")
    # One file: no name prefix, like grep.
    ours1 = cli("grep", *args, str(a))
    assert ours1.stdout == _grep(*args, str(a)).stdout.decode()


def test_grep_context_and_exit_codes(cli, logs):
    a, _ = logs
    ctx_id = cli("ingest", "-q", str(a)).stdout.strip()
    r = cli("grep", "-c", "ERROR", "--context", ctx_id[:6])
    assert (r.code, r.stdout) == (0, "40\n")
    r = cli("grep", "nothing-like-this", "--context", ctx_id)
    assert (r.code, r.stdout) == (1, "")
    r = cli("grep", "(", "--context", ctx_id)
    assert r.code == 2 and "bad regex" in r.stderr
    r = cli("grep", "x", "--context", "ffffffffffff")
    assert r.code == 2 and "no context" in r.stderr
    r = cli("grep", "x", str(a), "--context", ctx_id)
    assert r.code == 2 and "not both" in r.stderr


def test_contexts_list_show_rm_gc(cli, logs, tmp_path):
    a, b = logs
    id_a = cli("ingest", "-q", str(a)).stdout.strip()
    id_b = cli("ingest", "-q", str(b)).stdout.strip()
    listed = json.loads(cli("contexts", "list", "--json").stdout)
    assert {c["id"] for c in listed} == {id_a, id_b}
    text = cli("contexts", "list").stdout
    assert id_a in text and "a.log" in text
    shown = cli("contexts", "show", id_b).stdout
    assert "lines 1-3" in shown and "b.log" in shown
    assert json.loads(cli("contexts", "show", "--json", id_a).stdout)["lines"] == 200

    root = tmp_path / "home" / "contexts"
    (root / ".tmp-leftover").mkdir()
    (root / id_b / "timeindex").mkdir()
    (root / id_b / "timeindex" / "time.idx.tmp123").write_bytes(b"half")
    (root / id_a / "data").write_bytes(b"cut")  # damaged
    hours_ago = time.time() - 7200  # leftovers go when an hour old (running work is younger)
    for p in (root / ".tmp-leftover", root / id_b / "timeindex" / "time.idx.tmp123", root / id_a):
        os.utime(p, (hours_ago, hours_ago))
    r = cli("contexts", "gc", "--json")
    removed = json.loads(r.stdout)["removed"]
    assert ".tmp-leftover" in removed and any(x.startswith(id_a) for x in removed)
    assert not (root / ".tmp-leftover").exists() and not (root / id_a).exists()
    assert f"{id_b}/timeindex/time.idx.tmp123" in removed and (root / id_b / "meta.json").exists()

    r = cli("contexts", "rm", id_b)
    assert r.code == 0 and not (root / id_b).exists()
    r = cli("contexts", "rm", id_b)
    assert r.code == 2 and "no context" in r.stderr


def _stored(tmp_path: Path) -> list[str]:
    root = tmp_path / "home" / "contexts"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_commands_that_only_look_leave_no_copy_unless_kept(cli, logs, tmp_path):
    a, _ = logs
    r = cli("grep", "-c", "ERROR", str(a))
    assert (r.code, r.stdout, r.stderr) == (0, "40\n", "")
    r = cli("grep", "-c", "ERROR", str(a), "--keep")  # Typer path and fast path alike
    assert r.code == 0 and "kept a copy as context" in r.stderr
    kept = _stored(tmp_path)
    assert len(kept) == 1 and kept[0] in r.stderr
    for cmd in (["brief", "--json"], ["templates", "--top", "1"]):
        r = cli(*cmd, str(a))
        assert r.code == 0 and r.stdout, r.stderr
    assert _stored(tmp_path) == kept  # no new context, no leftover .tmp-look-* folder
    r = cli("templates", str(a), "--keep", "--top", "1")
    assert r.code == 0 and "kept a copy" in r.stderr and _stored(tmp_path) == kept


def test_folder_skips_binary_files_and_filters_on_every_reader(cli, tmp_path):
    logs = tmp_path / "var-log"
    logs.mkdir()
    (logs / "app.log").write_bytes(LOG_A)
    (logs / "debug.log").write_bytes(b"2026-11-23T05:00:00Z node01 DEBUG ERROR noise\n" * 7)
    (logs / "wtmp").write_bytes(b"\x07\x00\x00\x00" + os.urandom(380) + b"\x00" * 128)
    r = cli("grep", "-c", "ERROR", str(logs))
    assert r.code == 0, r.stderr
    assert r.stdout.splitlines() == [f"{logs}/app.log:40", f"{logs}/debug.log:7"]
    notes = [ln for ln in r.stderr.splitlines() if "wtmp" in ln]
    assert len(notes) == 1 and "skipping" in notes[0] and "binary" in notes[0]
    # named explicitly, a binary file stays an error
    r = cli("grep", "x", str(logs / "wtmp"))
    assert r.code == 2 and "looks binary" in r.stderr and "Traceback" not in r.stderr
    # the same --include/--exclude on grep, brief and templates
    r = cli("grep", "-c", "ERROR", str(logs), "--exclude", "debug*")
    assert r.stdout == "40\n"
    brief = json.loads(cli("brief", "--json", str(logs), "--include", "debug*").stdout)
    assert brief["size"]["lines"] == 7 and len(brief["sources"]) == 1
    t = cli("templates", "--json", str(logs), "--exclude", "debug*", "--exclude", "wtmp")
    assert t.code == 0 and "wtmp" not in t.stderr
    assert sum(row["count"] for row in json.loads(t.stdout)["templates"]) == 200


def test_contexts_gc_by_age_and_size(cli, logs, tmp_path):
    a, b = logs
    id_a = cli("ingest", "-q", str(a)).stdout.strip()
    id_b = cli("ingest", "-q", str(b)).stdout.strip()
    root = tmp_path / "home" / "contexts"
    ten_days = time.time() - 10 * 86400
    os.utime(root / id_a, (ten_days, ten_days))
    r = cli("contexts", "gc", "--older-than", "7d", "--json")
    out = json.loads(r.stdout)
    assert [c["id"] for c in out["contexts"]] == [id_a] and out["freed_bytes"] > len(LOG_A)
    assert _stored(tmp_path) == [id_b]
    # using a context counts: grep --context touches it, so it outlives an older one
    id_a = cli("ingest", "-q", str(a)).stdout.strip()
    os.utime(root / id_a, (ten_days, ten_days))
    os.utime(root / id_b, (ten_days - 60, ten_days - 60))
    assert cli("grep", "x", "--context", id_b).code in (0, 1)
    r = cli("contexts", "gc", "--max-size", "1K")  # over it: least recently used first
    assert r.code == 0 and f"removed {id_a}" in r.stdout, r.stdout
    assert "over the size limit" in r.stdout and "freed" in r.stderr
    assert _stored(tmp_path) == [id_b]  # B alone fits in 1 KB
    for bad in (["--older-than", "soon"], ["--max-size", "lots"]):
        r = cli("contexts", "gc", *bad)
        assert r.code == 2 and r.stderr.startswith("rlm: error: "), r.stderr

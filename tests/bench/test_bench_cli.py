"""`rlm bench` end to end through the real CLI: a scripted model (known replies, so the
right and wrong verdicts are known), the tiny random-weight GGUF, the saved result, the
run history, and bad input."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import yaml
from helpers import run_rlm, run_rlm_forked, write_script

from rlm_cli.bench.suite import load_suite, resolve

SUITE = """
name: tiny
tasks:
  - id: disk
    family: needle
    question: Which host logged the disk failure?
    log: {file: disk.log}
    check: {first_entity: db01}
    candidates: [web01, web02, db01]
  - id: fleet
    family: fails
    size: 0.5
    log: {generator: bmc_fleet, args: {seed: 2, fmt: syslog, failure: psu}}
    check: {first_entity: "{node}"}
    candidates: "{nodes}"
"""

DISK_LOG = (
    "".join(
        f"Jan  1 00:00:{i:02d} {h} kernel: all well\n"
        for i, h in enumerate(["web01", "web02"] * 10)
    )
    + "Jan  1 00:01:00 db01 kernel: sd 2:0:0:0: [sda] Medium Error, I/O error, dev sda\n"
)


def _suite(tmp_path: Path) -> Path:
    (tmp_path / "disk.log").write_text(DISK_LOG)
    p = tmp_path / "suite.yaml"
    p.write_text(SUITE)
    return p


def test_bench_with_a_scripted_model(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    s = load_suite(str(suite))
    node = resolve(s.tasks[1], s, n_ctx=4096).truth["node"]
    code = "```repl\nprint(context.grep('Medium Error|Failure detected'))\n```"
    script = write_script(
        tmp_path / "script.yaml",
        root=[
            code,  # disk, rlm: looks, then answers right
            "FINAL(db01: the sda disk has medium errors)",
            "FINAL(web01)",  # disk, direct: wrong
            code,  # fleet, rlm: right
            f"FINAL({node} has a failed PSU)",
            "FINAL(node999 I guess)",  # fleet, direct: wrong
        ],
    )
    r = run_rlm_forked(
        ["bench", str(suite), "--model", f"script:{script}", "--n-ctx", "4096", "--json"],
        tmp_path,
    )
    assert r.code == 0, r.stderr
    doc = r.json()
    rows = {(x["task"], x["mode"]): x for x in doc["results"]}
    assert set(rows) == {("disk", "rlm"), ("disk", "direct"), ("fleet", "rlm"), ("fleet", "direct")}
    assert rows["disk", "rlm"]["correct"] and rows["fleet", "rlm"]["correct"]
    assert not rows["disk", "direct"]["correct"] and not rows["fleet", "direct"]["correct"]
    rlm = rows["fleet", "rlm"]
    assert rlm["turns"] == 2 and rlm["ended_by"] == "final" and rlm["turns_ok"] == 2
    assert rlm["prompt_tokens_evaluated"] > 0 and rlm["size"] == "0.5x"
    assert rows["disk", "direct"]["ended_by"] == "direct"
    assert rows["disk", "direct"]["lines_total"] == 21
    assert rows["disk", "direct"]["lines_left_out"] == 0
    # the prompt cache is warmed first (a scripted model keeps none: nothing evaluated)
    assert doc["warmup"]["prompts"] >= 5 and doc["warmup"]["tokens_evaluated"] == 0
    s = doc["summary"]
    assert s["overall"]["rlm"]["accuracy"] == 1.0 and s["overall"]["direct"]["accuracy"] == 0.0
    assert s["delta_points"]["overall"] == 100.0
    assert s["by_family"]["fails"]["rlm"]["n"] == 1
    assert s["root_turns"] == {
        "total": 4,
        "ran_code_or_ended": 4,
        "cut_at_max_tokens": 0,
        "share_ok": 1.0,
    }
    # kept: the whole result, and every run in the history, tagged as a bench run
    saved = tmp_path / "data" / "bench" / f"{doc['id']}.json"
    assert orjson.loads(saved.read_bytes())["results"] == doc["results"]
    runs = run_rlm_forked(["runs", "list", "--json"], tmp_path).json()["runs"]
    assert len(runs) == 4 and all(x["id"].endswith("-bench") for x in runs)
    one = run_rlm_forked(
        ["runs", "show", rows["fleet", "rlm"]["run_id"], "--json"], tmp_path
    ).json()
    assert one["bench"] == {"task": "fleet", "family": "fails", "mode": "rlm"}
    assert one["answer"].startswith(node)
    # list / show / export
    listed = run_rlm_forked(["bench", "list", "--json"], tmp_path).json()["benches"]
    assert [b["id"] for b in listed] == [doc["id"]]
    shown = run_rlm_forked(["bench", "show", doc["id"][:15]], tmp_path)
    assert shown.code == 0 and "by family" in shown.stdout and "fleet" in shown.stdout
    out = tmp_path / "export.json"
    exp = run_rlm_forked(["bench", "show", doc["id"], "--out", str(out)], tmp_path)
    assert exp.code == 0 and orjson.loads(out.read_bytes())["id"] == doc["id"]


def test_bench_table_tasks_and_family_filters(tmp_path: Path) -> None:
    suite = _suite(tmp_path)
    script = write_script(tmp_path / "s.yaml", root=["FINAL(db01)"] * 4)
    r = run_rlm_forked(
        ["bench", str(suite), "-m", f"script:{script}", "--tasks", "d*", "--mode", "direct",
         "--repeat", "2", "--no-log"],
        tmp_path,
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert "disk" in r.stdout and "fleet" not in r.stdout and "by log size" in r.stdout
    assert "direct: 100% (2/2)" in r.stdout
    assert "prompt cache warmed" not in r.stderr  # direct mode only: nothing to warm
    assert "bench [2/2] disk direct #2: correct" in r.stderr
    assert (
        not (tmp_path / "data" / "runs.db").exists()
        or run_rlm_forked(["runs", "list", "--json"], tmp_path).json()["runs"] == []
    )
    r = run_rlm_forked(
        ["bench", str(suite), "-m", f"script:{script}", "--family", "nope"], tmp_path
    )
    assert r.code == 2 and "no task of suite" in r.stderr and "families: fails, needle" in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bench", "missing.yaml", "-m", "x"], "suite missing.yaml: no such file"),
        (["bench", "SUITE", "-m", "x", "--mode", "rlm,fast"], "--mode 'fast'"),
        (["bench", "show"], "needs a bench id"),
        (["bench", "show", "nope"], "no bench result 'nope'"),
        (["bench", "SUITE", "extra"], "unexpected argument 'extra'"),
        (["bench", "BAD", "-m", "x"], "task 1 (disk): unknown check 'fuzzy'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    suite = _suite(tmp_path)
    bad = tmp_path / "bad.yaml"
    data = yaml.safe_load(SUITE)
    data["tasks"][0]["check"] = {"fuzzy": "db01"}
    bad.write_text(yaml.safe_dump(data))
    args = [str(suite) if a == "SUITE" else str(bad) if a == "BAD" else a for a in args]
    r = run_rlm_forked(args, tmp_path)
    assert r.code == 2, r.stdout + r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_bench_on_the_tiny_gguf_loads_once_and_records_tokens(
    tmp_path: Path, tiny_gguf: Path
) -> None:
    pytest.importorskip("llama_cpp")
    suite = _suite(tmp_path)
    args = ["bench", str(suite), "-m", str(tiny_gguf), "--n-ctx", "4096", "--max-iterations",
            "1", "--root-max-tokens", "24", "--no-grammar", "--json", "--tasks", "disk"]  # fmt: skip
    r = run_rlm(args, tmp_path, timeout=600)
    assert r.code == 0, r.stderr
    doc = r.json()
    assert doc["models"]["root"] == str(tiny_gguf)
    by_mode = {x["mode"]: x for x in doc["results"]}
    assert by_mode["direct"]["prompt_tokens_evaluated"] > 0
    assert by_mode["direct"]["lines_left_out"] == 0 and by_mode["direct"]["ended_by"] == "direct"
    rlm = by_mode["rlm"]
    assert rlm["turns"] == 1 and rlm["prompt_tokens_evaluated"] > 0 and rlm["error"] is None
    assert rlm["ended_by"] in ("final", "max_iterations", "repeating")
    assert rlm["root_turns"] >= rlm["turns"] >= rlm["turns_ok"]
    assert doc["summary"]["root_turns"]["total"] == rlm["root_turns"]
    # warmed before the timed runs: the rlm run's system prompt came from the cache
    assert doc["warmup"]["tokens_evaluated"] > 1000
    record = run_rlm_forked(["runs", "show", rlm["run_id"], "--json"], tmp_path).json()
    assert record["usage"]["prompt_tokens_cached"] > 1000
    assert "prompt cache warmed before the timed runs" in r.stderr
    # in the bench's own prompt cache, gone after it: a later bench meets the same logs anew
    assert not list((tmp_path / "data" / "bench").glob("prompt-cache-*"))
    assert not list((tmp_path / "data").glob("prompt_cache/*.kv"))
    again = run_rlm([*args, "--mode", "rlm", "--no-warm"], tmp_path, timeout=600)
    assert again.code == 0, again.stderr
    assert again.json()["warmup"] is None
    cold = again.json()["results"][0]["run_id"]
    record = run_rlm_forked(["runs", "show", cold, "--json"], tmp_path).json()
    assert record["usage"]["prompt_tokens_cached"] == 0  # a first-ever run


@pytest.mark.parametrize(("signum", "status"), [(15, 143), (9, -9)], ids=["SIGTERM", "SIGKILL"])
def test_a_stopped_bench_keeps_the_tasks_it_finished(tmp_path: Path, signum: int, status: int):
    """Results are saved after every task, marked interrupted until the end: SIGTERM says so
    and exits 143; even SIGKILL loses only the task under way."""
    import os
    import subprocess
    import time

    from helpers import spawn_rlm

    suite = _suite(tmp_path)
    code = "```repl\nprint(context.grep('Medium Error'))\n```"
    script = write_script(
        tmp_path / "script.yaml",
        root=[code, "FINAL(db01)", {"text": code, "delay_s": 120}],
    )
    args = ["bench", str(suite), "--model", f"script:{script}", "--mode", "rlm"]
    proc = spawn_rlm(args, tmp_path, stdout=subprocess.DEVNULL, text=True)
    saved = tmp_path / "data" / "bench"
    deadline = time.monotonic() + 120
    while not list(saved.glob("*.json")) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)  # into the second task's slow reply
    os.kill(proc.pid, signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == status, err
    [path] = saved.glob("*.json")
    doc = orjson.loads(path.read_bytes())
    assert doc["interrupted"] is True
    assert [(r["task"], r["correct"]) for r in doc["results"]] == [("disk", True)]
    if signum == 15:
        assert "bench interrupted after 1 of 2 runs" in err and "terminated" in err

"""Findings across runs, the machine outputs (JSON Lines, Prometheus) and task presets."""

from __future__ import annotations

from pathlib import Path

import orjson
from helpers import run_rlm
from scan_helpers import LogWriter, Scanner


def test_a_problem_seen_again_is_counted_not_raised_again_until_resolved(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    w = LogWriter()
    out = tmp_path / "findings.jsonl"
    sc = Scanner(tmp_path, logs)
    w.append(logs / "a.log", 3)
    w.append(logs / "a.log", 2, node="node09", error=True)
    d1 = sc.run("--out", str(out), expect=1)
    (f1,) = d1["findings"]
    assert (f1["entity"], f1["status"], f1["count"]) == ("node09", "new", 1)
    assert f1["evidence"][0]["file_line"] == 4  # the line in the file, not in this run's context
    w.append(logs / "a.log", 1, node="node09", error=True)  # the same problem, other numbers
    d2 = sc.run("--out", str(out), expect=0)  # known: no new alert
    (f2,) = d2["findings"]
    assert (f2["id"], f2["status"], f2["count"]) == (f1["id"], "repeat", 2)
    assert f2["first_seen"] == f1["first_seen"] and f2["last_seen"] > f1["last_seen"]
    w.append(logs / "a.log", 1, node="node11", error=True)  # a new problem
    d3 = sc.run("--out", str(out), expect=1)
    assert [f["status"] for f in d3["findings"]] == ["new"]
    assert d3["findings"][0]["entity"] == "node11"

    listing = run_rlm([*sc.args("--findings")], tmp_path)
    stored = listing.json()["findings"]
    assert sorted((f["entity"], f["count"]) for f in stored) == [("node09", 2), ("node11", 1)]
    assert len({f["id"] for f in stored}) == len(stored)  # never duplicated

    r = run_rlm(
        [
            "scan",
            str(logs),
            "--question",
            "which node will fail",
            "--state",
            str(sc.state),
            "--resolve",
            f1["id"][:6],
        ],
        tmp_path,
    )
    assert r.code == 0 and "resolved" in r.stderr
    w.append(logs / "a.log", 1, node="node09", error=True)
    d4 = sc.run("--out", str(out), expect=1)  # resolved, then seen again: alerts again
    (f4,) = d4["findings"]
    assert (f4["id"], f4["status"], f4["count"]) == (f1["id"], "reopened", 3)
    sc.run("--alert-on", "any", expect=0)  # nothing new at all: exit 0 even with --alert-on any

    rows = [orjson.loads(x) for x in out.read_text().splitlines()]
    assert [(r["entity"], r["status"]) for r in rows] == [
        ("node09", "new"),
        ("node09", "repeat"),
        ("node11", "new"),
        ("node09", "reopened"),
    ]
    assert all(r["run_id"] and r["evidence"] for r in rows)
    sc.assert_exact(w)


def test_memory_of_the_last_run_is_in_the_question(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    w = LogWriter()
    sc = Scanner(tmp_path, logs)
    w.append(logs / "a.log", 2, node="node09", error=True)
    d1 = sc.run()
    w.append(logs / "a.log", 1)
    r = run_rlm([a for a in sc.args() if a != "--no-log"], tmp_path)
    d2 = r.json()
    from rlm_cli.runs.history import RunHistory

    record = RunHistory(tmp_path / "data" / "runs.db").get(d2["run_id"])
    q = record["question"]
    assert q.startswith("which node will fail")
    assert f"[Memory: previous scan {d1['run_id']}" in q
    assert "Previous summary: " + d1["answer"] in q
    assert f"[{d1['findings'][0]['id']}] error node09" in q


def test_prometheus_textfile_is_written_whole(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    w = LogWriter()
    prom = tmp_path / "textfile" / "rlm.prom"
    sc = Scanner(tmp_path, logs)
    w.append(logs / "a.log", 2, node="node09", error=True)
    sc.run("--prom", str(prom), expect=1)
    text = prom.read_text()
    assert "rlm_scan_exit_code 1\n" in text
    assert 'rlm_scan_findings_new{severity="error"} 1\n' in text
    assert f'rlm_scan_new_bytes{{path="{logs / "a.log"}"}} {w.bytes}\n' in text
    sc.run("--prom", str(prom), expect=0)
    text = prom.read_text()
    assert "rlm_scan_exit_code 0\n" in text and "rlm_scan_model_called 0\n" in text
    assert 'rlm_scan_findings_open{severity="error"} 1\n' in text
    assert [p.name for p in prom.parent.iterdir()] == ["rlm.prom"]  # no temp file left
    assert "rlm_scan_last_success_timestamp_seconds " in text
    # a failing run says so too (exit 2), keeping the time of the last success
    from helpers import write_script

    w.append(logs / "a.log", 1)
    broken = write_script(tmp_path / "broken.yaml", ["```repl\nprint(1)\n```"])
    r = run_rlm(sc.args("--prom", str(prom), model=broken), tmp_path)
    assert r.code == 2
    failed = prom.read_text()
    assert "rlm_scan_exit_code 2\n" in failed
    ok_line = next(x for x in text.splitlines() if x.startswith("rlm_scan_last_success"))
    assert ok_line + "\n" in failed


def test_task_preset_and_question_errors(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    LogWriter().append(logs / "a.log", 2)
    tasks = tmp_path / "config" / "tasks"
    tasks.mkdir(parents=True)
    (tasks / "nodes.yaml").write_text("question: which node will fail\nguidance: look at ECC\n")
    sc = Scanner(tmp_path, logs)
    args = sc.args()
    i = args.index("--question")
    args[i : i + 2] = ["--task", "nodes"]
    j = args.index("--state")
    del args[j : j + 2]  # the default state folder
    r = run_rlm(args, tmp_path)
    assert r.code == 0, r.stderr
    assert r.json()["new_lines"] == 2
    # editing the preset keeps the state: it is kept under the task's name, not its text
    (tasks / "nodes.yaml").write_text("question: which node will fail first\n")
    again = run_rlm(args, tmp_path)
    assert again.code == 0 and again.json()["model_called"] is False
    assert len(list((tmp_path / "data" / "scan").iterdir())) == 1
    both = run_rlm([*args, "--question", "x"], tmp_path)
    assert both.code == 2 and "exactly one of --task" in both.stderr
    missing = run_rlm(["scan", str(logs), "--task", "nope", "--state", str(sc.state)], tmp_path)
    assert missing.code == 2 and "unknown task 'nope'" in missing.stderr

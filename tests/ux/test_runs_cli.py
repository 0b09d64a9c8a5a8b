"""`rlm runs ...` end to end: runs recorded by `rlm ask`, listed, shown, exported, removed."""

from __future__ import annotations

import json
import re
import sqlite3
import time
from pathlib import Path

from helpers import write_script

from tests.ux.conftest import run_rlm


def _ask(rlm, env, log_file, script, *extra, question="which node will fail"):
    return rlm(env, "ask", question, str(log_file), "--model", f"script:{script}", *extra)


def _ids(rlm, env, *args) -> list[str]:
    r = rlm(env, "runs", "list", *args)
    assert r.code == 0, r.stderr
    return [line.split("\t")[0] for line in r.stdout.splitlines() if line]


def test_ask_records_runs_and_list_filters(rlm_fast, rlm_env, log_file, demo_script, tmp_path):
    r = _ask(rlm_fast, rlm_env, log_file, demo_script)
    assert r.code == 1, r.stderr  # an error finding: exit 1
    stopper = write_script(tmp_path / "stop.yaml", ["```repl\nprint(1)\n```"] * 2 + ["FINAL(x)"])
    r2 = _ask(rlm_fast, rlm_env, log_file, stopper, "--max-iterations", "1", question="disk health")
    assert r2.code == 0, r2.stderr
    r3 = _ask(rlm_fast, rlm_env, log_file, demo_script, "-n", question="not recorded")
    assert r3.code == 1

    ids = _ids(rlm_fast, rlm_env)
    assert len(ids) == 2  # -n/--no-log skipped the third
    rows = rlm_fast(rlm_env, "runs", "list").stdout.splitlines()
    assert "disk health" in rows[0] and "max_iterations" in rows[0]  # newest first
    assert "which node will fail" in rows[1] and "\tfinal\t1\t1\t" in rows[1]
    assert _ids(rlm_fast, rlm_env, "--search", "DISK") == ids[:1]  # case-insensitive, question
    assert _ids(rlm_fast, rlm_env, "--search", "rising ECC") == ids[1:]  # matches the answer
    assert _ids(rlm_fast, rlm_env, "--status", "final") == ids[1:]
    assert _ids(rlm_fast, rlm_env, "--limit", "1") == ids[:1]
    assert _ids(rlm_fast, rlm_env, "--since", "1h") == ids
    assert _ids(rlm_fast, rlm_env, "--since", "2099-01-01") == []
    bad = rlm_fast(rlm_env, "runs", "list", "--since", "yesterday-ish")
    assert bad.code == 2 and "--since" in bad.stderr
    data = json.loads(rlm_fast(rlm_env, "runs", "list", "--json").stdout)
    assert [row["id"] for row in data["runs"]] == ids


def test_show_export_rm(rlm_fast, rlm_env, log_file, demo_script, tmp_path):
    assert _ask(rlm_fast, rlm_env, log_file, demo_script).code == 1
    (rid,) = _ids(rlm_fast, rlm_env)

    shown = rlm_fast(rlm_env, "runs", "show", rid[:17])  # a unique prefix is enough
    assert shown.code == 0, shown.stderr
    out = shown.stdout
    assert f"run {rid}" in out and "exit 1 (final)" in out
    assert re.search(r"turn 1 · .*  I'll count the ECC errors first\.", out)
    assert "hits = context.grep('EDAC')" in out
    assert "4 batch" not in out  # four sub-calls are listed one by one, not folded
    assert out.count("✓ batch summarise: 2026-01-01T00:") == 4  # the piece's lines, sent
    assert f"ERROR    node01: rising ECC on DIMM_B2 ({log_file}:97)" in out
    assert "\x1b[" not in out  # plain when piped

    j = rlm_fast(rlm_env, "runs", "export", rid, "--format", "json")
    record = json.loads(j.stdout)
    assert record["run_id"] == rid and record["exit_code"] == 1
    assert len(record["trajectory"]) == 3

    html = tmp_path / "run.html"
    h = rlm_fast(rlm_env, "runs", "export", rid, "--format", "html", "-o", str(html))
    assert h.code == 0 and "wrote" in h.stderr
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and rid in page and "<span style=" in page
    assert f"<title>rlm run {rid}</title>" in page
    s = rlm_fast(rlm_env, "runs", "export", rid, "--format", "svg")
    assert s.stdout.lstrip().startswith("<svg") and s.stdout.rstrip().endswith("</svg>")
    bad = rlm_fast(rlm_env, "runs", "export", rid, "--format", "pdf")
    assert bad.code == 2

    rm = rlm_fast(rlm_env, "runs", "rm", rid)
    assert rm.code == 0 and rid in rm.stderr
    assert _ids(rlm_fast, rlm_env) == []
    missing = rlm_fast(rlm_env, "runs", "show", rid)
    assert missing.code == 2 and "no run" in missing.stderr


def test_retention_prunes_old_runs_on_each_recorded_run(
    rlm_fast, rlm_env, log_file, demo_script, tmp_path
):
    assert _ask(rlm_fast, rlm_env, log_file, demo_script).code == 1
    db = Path(rlm_env["RLM_HOME"]) / "runs.db"
    with sqlite3.connect(db) as c:  # age the first run by 40 days
        c.execute("UPDATE runs SET started = ?", (time.time() - 40 * 86400,))
    assert len(_ids(rlm_fast, rlm_env)) == 1
    rlm_env["RLM_RETENTION_DAYS"] = "30"
    assert _ask(rlm_fast, rlm_env, log_file, demo_script).code == 1
    ids = _ids(rlm_fast, rlm_env)
    assert len(ids) == 1  # the old one went, the new one stayed
    pr = rlm_fast(rlm_env, "runs", "prune", "--older-than", "0s")
    assert pr.code == 0 and "removed 1 run" in pr.stderr


def test_json_stays_pure_on_stdout_notes_on_stderr(rlm_env, log_file, tmp_path):
    script = write_script(tmp_path / "s.yaml", ["```repl\nprint(1)\n```", "FINAL(forced)"])
    r = run_rlm(
        rlm_env,
        "ask",
        "q",
        str(log_file),
        "-m",
        f"script:{script}",
        "--json",
        "--max-iterations",
        "1",
    )
    assert r.code == 0, r.stderr
    obj = json.loads(r.stdout)  # the whole of stdout is one JSON object
    assert obj["answer"] == "forced" and obj["ended_by"] == "max_iterations"
    assert "rlm: note:" in r.stderr and "budget" in r.stderr


def test_failed_runs_are_recorded_and_prefixes_must_be_unique(
    rlm_fast, rlm_env, log_file, tmp_path
):
    short = write_script(tmp_path / "short.yaml", ["```repl\nprint(1)\n```"])
    r = _ask(rlm_fast, rlm_env, log_file, short)
    assert r.code == 2 and "root replies ran out" in r.stderr
    assert _ask(rlm_fast, rlm_env, log_file, short).code == 2
    ids = _ids(rlm_fast, rlm_env, "--status", "error")
    assert len(ids) == 2
    common = ids[0][:9]  # the date part, shared
    amb = rlm_fast(rlm_env, "runs", "show", common)
    assert amb.code == 2 and "ambiguous" in amb.stderr
    shown = rlm_fast(rlm_env, "runs", "show", ids[0])
    assert shown.code == 0 and "exit 2 (error)" in shown.stdout
    assert re.search(r"turn 1 · .*  print\(1\)", shown.stdout)


def test_an_unusable_history_never_costs_the_answer(rlm_fast, rlm_env, log_file, demo_script):
    db = Path(rlm_env["RLM_HOME"]) / "runs.db"
    db.parent.mkdir(parents=True)
    db.write_text("not a database")
    r = _ask(rlm_fast, rlm_env, log_file, demo_script)
    assert r.code == 1
    assert r.stdout.startswith("node01 will fail")
    assert "warning: run not recorded" in r.stderr


def test_runs_table_columns_are_separate_and_named():
    import io

    from rich.console import Console

    from rlm_cli.render.run import runs_table

    rows = [
        {"id": "r1", "started": 86400, "ended_by": "final", "exit_code": 1, "n_findings": 3},
        {
            "id": "r2",
            "started": 86400,
            "ended_by": "interrupted",
            "exit_code": 130,
            "n_findings": 0,
        },
    ]
    c = Console(file=io.StringIO(), width=100, color_system=None)
    c.print(runs_table(rows))
    lines = [ln.strip() for ln in c.file.getvalue().splitlines() if ln.strip()]
    head = lines[0].split()
    assert head[:7] == ["id", "UTC", "ended", "by", "exit", "findings", "time"]
    r1 = next(ln for ln in lines if ln.startswith("r1")).split()
    r2 = next(ln for ln in lines if ln.startswith("r2")).split()
    assert r1[3:6] == ["final", "1", "3"] and r2[3:6] == ["interrupted", "130", "0"]

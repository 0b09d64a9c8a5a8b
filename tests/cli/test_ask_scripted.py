"""`rlm ask` through the real CLI with the scripted model: the loop, end to end.

The piped demo runs as a process; the rest in-process (``rlm_here``, the same ``cli.main``).
"""

from __future__ import annotations

from pathlib import Path

from helpers import SAMPLES, run_rlm, write_script

BMC = SAMPLES / "bmc_cluster.log"
DEMO = SAMPLES / "scripts" / "which_node_fails.yaml"
QUICK = SAMPLES / "scripts" / "quick_answer.yaml"
LOOK_CODE = "```repl\nprint(context.line_count)\n```"


def test_piped_bmc_log_quick_answer_exits_1_on_the_node_it_names(tmp_path: Path) -> None:
    """The script records no FINDING; its answer names node09, whose lines the log map
    graded critical: that makes a finding (source "answer"), so cron sees exit 1."""
    r = run_rlm(
        ["ask", "which node will fail", "--model", f"script:{QUICK}"],
        tmp_path,
        stdin=BMC.read_bytes(),
    )
    assert r.code == 1, r.stderr
    out = r.stdout.strip().splitlines()
    assert (
        out[0] == "node09: uncorrectable ECC after a rising rate of correctable errors on one DIMM"
    )
    assert out[2] == "Findings:" and out[3].startswith(
        "CRITICAL node09: uncorrectable ECC after a rising rate of correctable errors on one "
        "DIMM (<stdin>:"
    ), out
    d = run_rlm(
        ["ask", "which node will fail", "--model", f"script:{QUICK}", "--json"],
        tmp_path,
        stdin=BMC.read_bytes(),
    ).json()
    [f] = d["findings"]
    assert f["source"] == "answer" and f["entity"] == "node09" and f["verified"]
    assert f["severity"] == "critical"
    assert f["evidence"] and all("node09" in e["text"] for e in f["evidence"])


def test_an_answer_naming_no_troubled_entity_exits_0(tmp_path: Path) -> None:
    script = write_script(tmp_path / "s.yaml", [LOOK_CODE, 'FINAL("1660 lines, no node named")'])
    r = run_rlm(
        ["ask", "how long", "--model", f"script:{script}", "--json"],
        tmp_path,
        stdin=BMC.read_bytes(),
    )
    assert r.code == 0, r.stderr
    assert r.json()["findings"] == []


def test_demo_trajectory_greps_subcalls_sets_var_and_ends_with_final_var(
    tmp_path: Path, rlm_here
) -> None:
    r = rlm_here(
        ["ask", "which node will fail", "--model", f"script:{DEMO}", "--json"],
        tmp_path,
        stdin=BMC.read_bytes(),
    )
    assert r.code == 1, r.stderr  # a verified critical finding: grep-style exit 1
    d = r.json()
    for key in ("run_id", "answer", "iterations", "elapsed_s", "usage", "trajectory", "findings"):
        assert key in d
    assert d["ended_by"] == "final"
    assert d["iterations"] == 4
    assert d["answer"].startswith("node09 will fail")
    for key in ("root_calls", "sub_calls", "prompt_tokens", "completion_tokens"):
        assert key in d["usage"]
    assert d["usage"]["root_calls"] == 4 and d["usage"]["sub_calls"] == 1
    t = d["trajectory"]
    assert "per_node.most_common" in t[0]["code"][0]
    assert "('node09'," in t[0]["outputs"][0]["stdout"]  # the grep + Counter really ran
    assert t[2]["subcalls"][0]["kind"] == "llm_query"
    assert "Memory" in t[2]["subcalls"][0]["prompt"]  # the excerpt was sent to the sub-model
    f = d["findings"][0]
    assert f["entity"] == "node09" and f["severity"] == "critical" and f["verified"]
    assert all("node09" in e["text"] for e in f["evidence"])
    assert {e["source"] for e in f["evidence"]} == {"<stdin>"}


def test_file_argument_maps_evidence_to_the_file(tmp_path: Path, rlm_here) -> None:
    r = rlm_here(
        ["ask", "which node will fail", str(BMC), "--model", f"script:{DEMO}", "--json"], tmp_path
    )
    ev = r.json()["findings"][0]["evidence"]
    assert ev[0]["source"] == str(BMC)
    lines = BMC.read_text().splitlines()
    assert all(lines[e["line"] - 1] == e["text"] for e in ev)


def test_plain_output_has_answer_then_findings(tmp_path: Path, rlm_here) -> None:
    r = rlm_here(
        ["ask", "which node will fail", "--model", f"script:{DEMO}"],
        tmp_path,
        stdin=BMC.read_bytes(),
    )
    assert r.stdout.startswith("node09 will fail")
    assert "Findings:" in r.stdout and "CRITICAL node09" in r.stdout
    assert "<stdin>:1479" in r.stdout  # the "logging limit reached" line
    assert r.stderr == ""  # not a terminal: no live view, nothing to note


def test_exception_mid_run_goes_back_to_the_model(tmp_path: Path, rlm_here) -> None:
    script = write_script(
        tmp_path / "s.yaml",
        [
            "```repl\nn = context.line_count\nx = 1 / 0\n```",
            "```repl\nx = 2\nprint('fine', x)\n```",
            "FINAL_VAR(x)",
        ],
    )
    r = rlm_here(["ask", "q", "--model", f"script:{script}", "--json"], tmp_path, stdin=b"a\nb\n")
    assert r.code == 0, r.stderr
    d = r.json()
    assert "ZeroDivisionError" in d["trajectory"][0]["outputs"][0]["error"]
    assert "worker.py" not in d["trajectory"][0]["outputs"][0]["error"]  # only the model's frames
    assert d["trajectory"][1]["outputs"][0]["stdout"] == "fine 2\n"
    assert d["answer"] == "2"


def test_iteration_limit_forces_one_final_call(tmp_path: Path, rlm_here) -> None:
    script = write_script(
        tmp_path / "s.yaml",
        [
            "```repl\nprint(context.line_count)\n```",
            "```repl\nprint(context.line(1))\n```",
            "FINAL(best guess from the budget)",
        ],
    )
    r = rlm_here(
        ["ask", "q", "--model", f"script:{script}", "--max-iterations", "2", "--json"],
        tmp_path,
        stdin=b"x\n",
    )
    assert r.code == 0
    d = r.json()
    assert d["ended_by"] == "max_iterations"
    assert d["iterations"] == 2
    assert d["answer"] == "best guess from the budget"
    assert d["usage"]["root_calls"] == 3
    assert any("ended by max_iterations" in n for n in d["notes"])
    assert "ended by budget" in r.stderr


def test_long_output_is_cut_head_and_tail_and_the_model_is_told(tmp_path: Path, rlm_here) -> None:
    script = write_script(
        tmp_path / "s.yaml",
        [
            "```repl\nn = context.line_count\nprint('A' * 5000 + 'B' * 100000 + 'C' * 5000)\n```",
            "FINAL(done)",
        ],
    )
    r = rlm_here(
        ["ask", "q", "--model", f"script:{script}", "--max-output-chars", "1000", "--json"],
        tmp_path,
        stdin=b"x\n",
    )
    d = r.json()
    out = d["trajectory"][0]["outputs"][0]
    assert out["stdout_chars"] == 110001
    assert out["cut"] == 110001 - 1000
    assert out["stdout"].startswith("A" * 500) and out["stdout"].rstrip().endswith("C" * 499)
    assert "characters cut" in out["stdout"]
    assert any("cut" in n for n in d["notes"])


def test_final_on_last_line_outside_code_and_final_of_a_variable(tmp_path: Path, rlm_here) -> None:
    script = write_script(
        tmp_path / "s.yaml",
        ["```repl\nverdict = 'node07 PSU' if context.line_count else ''\n```\nFINAL(verdict)"],
    )
    r = rlm_here(["ask", "q", "--model", f"script:{script}"], tmp_path, stdin=b"x\n")
    assert r.stdout.strip() == "node07 PSU"


def test_final_var_of_a_missing_variable_does_not_end_the_run(tmp_path: Path, rlm_here) -> None:
    script = write_script(
        tmp_path / "s.yaml",
        [
            "```repl\nprint(context.line_count)\n```\nFINAL_VAR(nothing_here)",
            "```repl\nnothing_here = 'ok'\n```",
            "FINAL_VAR(nothing_here)",
        ],
    )
    r = rlm_here(["ask", "q", "--model", f"script:{script}", "--json"], tmp_path, stdin=b"x\n")
    d = r.json()
    assert d["answer"] == "ok" and d["iterations"] == 3


def test_runs_are_recorded_and_context_reused(tmp_path: Path, rlm_here) -> None:
    r = rlm_here(
        ["ask", "q", "--model", f"script:{QUICK}", "--json"], tmp_path, stdin=BMC.read_bytes()
    )
    d = r.json()
    import sqlite3

    db = sqlite3.connect(tmp_path / "data" / "runs.db")
    rows = db.execute("SELECT id, question, exit_code FROM runs").fetchall()
    assert rows == [(d["run_id"], "q", 1)]  # the answer names node09 (see above)
    r2 = rlm_here(
        ["ask", "q", "--model", f"script:{QUICK}", "--context", d["context_id"][:8], "--json"],
        tmp_path,
    )
    assert r2.code == 1 and r2.json()["context_id"] == d["context_id"]
    r3 = rlm_here(
        ["ask", "q", "--model", f"script:{QUICK}", "--no-log"], tmp_path, stdin=BMC.read_bytes()
    )
    assert r3.code == 1
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 2


def test_huge_context_skips_the_map_and_says_so(tmp_path: Path, rlm_here) -> None:
    from helpers import isolated_env

    script = write_script(tmp_path / "s.yaml", ["```repl\ncontext.templates()\n```", "FINAL(ok)"])
    env = isolated_env(tmp_path, RLM_MAP_MAX_LINES="100")
    r = rlm_here(["ask", "q", str(BMC), "--model", f"script:{script}", "--json"], tmp_path, env=env)
    assert r.code == 0
    assert "log map not built for 1,660 lines" in r.stderr and "rlm brief --context" in r.stderr
    assert "needs the log map" in r.json()["trajectory"][0]["outputs"][0]["error"]

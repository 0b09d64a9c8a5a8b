"""Windows (compaction, never silent), the sub-call cache, grounded findings and exit codes."""

from __future__ import annotations

import json

LOOK = 'hits = context.grep("ECC")\nprint(len(hits), hits[0])'


def _printing_turns(rlm, n: int) -> list[str]:
    return [rlm.code(f"for l in context.lines({1 + i}, {40 + i}):\n    print(l)") for i in range(n)]


def _compacted_run(rlm, root: list[str], summary: list[str] | None = None):
    """A run whose printing turns fill a 3,072-token window."""
    return rlm.ask(
        rlm.script(root, **({"summary": summary} if summary else {})),
        "--n-ctx",
        "3072",
        "--root-max-tokens",
        "200",
        "--max-output-chars",
        "2000",
        "--brief-tokens",
        "0",
    )


def test_history_is_compacted_by_a_model_summary_near_the_window(rlm) -> None:
    rlm.settings(compact_summary="model")
    root = _printing_turns(rlm, 5) + [
        rlm.code("print(len(history), history[0]['turn'], history[0]['code'][0][:24])"),
        'FINAL("node02")',
    ]
    r = _compacted_run(rlm, root, ["Turns so far printed lines 1-34; node02 has ECC errors."])
    assert r.rc == 0, r.stderr
    d = r.json
    comps = d["compactions"]
    assert comps and comps[0]["summary_by"] == "model"
    assert comps[0]["tokens_after"] < comps[0]["tokens_before"]
    assert all(c["tokens_before"] > 0.85 * 3072 - 200 for c in comps)
    compacted_turns = [t for t in d["trajectory"] if t["compaction"]]
    assert compacted_turns and any("compacted" in n for n in compacted_turns[0]["notes"])
    # the full history is in the REPL
    out = d["trajectory"][5]["outputs"][0]["stdout"]
    assert out.startswith("5 1 for l in context.lines(1")
    assert d["answer"] == "node02"


def test_compaction_by_default_is_a_verbatim_digest_without_a_model_call(rlm) -> None:
    root = _printing_turns(rlm, 5) + ['FINAL("node02")']
    r = _compacted_run(rlm, root, ["a model summary that must not be asked for"])
    assert r.rc == 0, r.stderr
    d = r.json
    comp = d["compactions"][0]
    assert comp["summary_by"] == "digest"
    # what turn 1 ran and printed, the lines kept as lines
    assert (
        "- turn 1: ran for l in context.lines(1, 40)\n  printed:\n    2024-05-01" in comp["summary"]
    )
    assert "must not be asked" not in json.dumps(d)
    # one root call per turn: no call was spent on a summary
    assert d["usage"]["root_calls"] == len(d["trajectory"])


def test_compaction_falls_back_to_a_digest_when_the_summary_fails(rlm) -> None:
    rlm.settings(compact_summary="model")
    r = _compacted_run(rlm, _printing_turns(rlm, 5) + ['FINAL("node02")'])
    assert r.rc == 0, r.stderr
    comp = r.json["compactions"][0]
    assert comp["summary_by"].startswith("digest (")
    assert "- turn 1: ran for l in context.lines(1, 40)\n" in comp["summary"]


def test_no_room_for_another_turn_ends_with_a_forced_answer_not_an_error(rlm, monkeypatch) -> None:
    """The 1.5B model had printed the answer three times when the next turn's prompt no longer
    fit a 4,096-token window: the run ended by error, with no answer."""
    from rlm_cli.engine.compaction import Compactor
    from rlm_cli.errors import PromptTooLong

    fit = Compactor.fit

    def full_from_turn_3(self, messages, first_user, turns, turn_no, reserve=0):
        if turn_no == 3 and not reserve:
            raise PromptTooLong("does not fit")
        return fit(self, messages, first_user, turns, turn_no, reserve)

    monkeypatch.setattr(Compactor, "fit", full_from_turn_3)
    root = [rlm.code(LOOK), rlm.code(LOOK + "\nprint(2)"), 'FINAL("node02")']
    d = rlm.ask(rlm.script(root)).json
    assert d["ended_by"] == "window" and d["answer"] == "node02"
    assert len(d["trajectory"]) == 3  # two turns and the forced final, no empty turn 3
    assert "ended by window; final answer forced from the trajectory" in d["notes"]
    assert "turn 3: no room for another turn in the 8,192-token window" in d["notes"]


def test_second_identical_run_hits_the_cache_and_spends_no_subcall_tokens(rlm) -> None:
    root = [
        rlm.code(
            "pieces = [c.text for c in context.chunks(lines=20)]\n"
            "ans = llm_query_batched(['Which node has errors?\\n' + p for p in pieces])\n"
            "print(ans)"
        ),
        'FINAL("node02")',
    ]
    script = rlm.script(root, sub=["node02", "none"])
    first = rlm.ask(script).json
    u1 = first["usage"]
    assert u1["sub_calls"] == 2 and u1["sub_cache_hits"] == 0 and u1["sub_prompt_tokens"] > 0
    second = rlm.ask(script).json
    u2 = second["usage"]
    assert u2["sub_cache_hits"] == 2
    assert u2["sub_prompt_tokens"] == 0 and u2["sub_completion_tokens"] == 0
    assert (
        u2["total_tokens"]
        == u1["total_tokens"] - u1["sub_prompt_tokens"] - u1["sub_completion_tokens"]
    )
    assert all(s["cached"] for s in second["trajectory"][0]["subcalls"])
    out = first["trajectory"][0]["outputs"][0]["stdout"]
    assert second["trajectory"][0]["outputs"][0]["stdout"] == out
    third = rlm.ask(script, "--no-cache").json
    assert third["usage"]["sub_cache_hits"] == 0 and third["usage"]["sub_prompt_tokens"] > 0
    # another question over the same log: only the root's tokens are new
    other = rlm.ask(script, question="which node has ECC errors").json
    assert other["usage"]["sub_cache_hits"] == 2


def test_a_changed_model_file_misses_the_cache(rlm) -> None:
    root = [rlm.code("print(llm_query('which node? ' + context[0:600]))"), 'FINAL("x")']
    script = rlm.script(root, sub=["node02"])
    assert rlm.ask(script).json["usage"]["sub_cache_hits"] == 0
    path = script.split(":", 1)[1]
    with open(path, "a") as f:
        f.write("# edited\n")
    assert rlm.ask(script).json["usage"]["sub_cache_hits"] == 0


FIND = (
    "hits = context.grep('ECC')\n"
    "FINDING('node02', 'error', 'repeated correctable ECC errors', lines=[n for n, _ in hits])\n"
    "FINDING('node09', 'critical', 'made up', lines=[9999])\n"
    "FINAL('node02')"
)


def _look_first(rlm):
    return rlm.code("print(context.count('ECC'))")


def test_findings_in_json_verified_and_unverified(rlm) -> None:
    r = rlm.ask(rlm.script([_look_first(rlm), rlm.code(FIND)]), "--fail-on", "never")
    assert r.rc == 0, r.stderr
    f = {x["entity"]: x for x in r.json["findings"]}
    good, bad = f["node02"], f["node09"]
    assert good["verified"] and good["severity"] == "error"
    assert good["summary"] == "repeated correctable ECC errors"
    ev = good["evidence"][0]
    assert ev["source"].endswith("bmc.log") and ev["line"] == 2 and "ECC" in ev["text"]
    assert set(ev) >= {"source", "line", "text"}
    assert not bad["verified"] and bad["evidence"] == []
    assert "sub_cache_hits" in r.json["usage"]


def test_exit_1_on_verified_finding_at_or_above_fail_on(rlm) -> None:
    script = rlm.script([_look_first(rlm), rlm.code(FIND)])
    assert rlm.ask(script, "--fail-on", "error").rc == 1
    # the only critical finding is unverified: it does not count
    script = rlm.script([_look_first(rlm), rlm.code(FIND)])
    assert rlm.ask(script, "--fail-on", "critical").rc == 0


def test_plain_output_marks_unverified_findings(rlm) -> None:
    script = rlm.script([_look_first(rlm), rlm.code(FIND)])
    r = rlm("ask", "which node", str(rlm.log), "--model", script, "--no-log", "--fail-on", "never")
    assert r.rc == 0, r.stderr
    assert "node02" in r.stdout and "bmc.log:2" in r.stdout
    assert "node09: made up [unverified]" in r.stdout


def test_task_preset_supplies_question_and_guidance(rlm) -> None:
    script = rlm.script([_look_first(rlm), 'FINAL("node02")'])
    r = rlm(
        "ask", "--task", "which-node-fails", str(rlm.log), "--model", script, "--json", "--no-log"
    )
    assert r.rc == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["question"].startswith("Which node")
    for name in ("error-summary", "timeline"):
        script = rlm.script([_look_first(rlm), 'FINAL("x")'])
        r = rlm("ask", "--task", name, str(rlm.log), "--model", script, "--json", "--no-log")
        assert r.rc == 0, r.stderr


def test_task_and_prompt_overrides_from_config_dir(rlm) -> None:
    (rlm.config / "tasks").mkdir(parents=True)
    (rlm.config / "tasks" / "disk-trouble.yaml").write_text(
        "question: Which disk is failing?\nguidance: Look for SMART lines.\n"
    )
    (rlm.config / "prompts").mkdir(parents=True)
    (rlm.config / "prompts" / "root.yaml").write_text(
        "step_user: |\n  {{outputs}}\n  CUSTOM STEP [{{budget_line}}]\n"
    )
    script = rlm.script([_look_first(rlm), 'FINAL("sda")'])
    r = rlm("ask", "--task", "disk-trouble", str(rlm.log), "--model", script, "--json", "--no-log")
    assert r.rc == 0, r.stderr
    d = json.loads(r.stdout)
    assert d["question"] == "Which disk is failing?"
    assert "CUSTOM STEP [turn 2/12" in d["trajectory"][0]["feedback"]


def test_unknown_task_is_a_usage_error(rlm) -> None:
    script = rlm.script(['FINAL("x")'])
    r = rlm("ask", "--task", "nope", str(rlm.log), "--model", script)
    assert r.rc == 2 and "unknown task 'nope'" in r.stderr and "timeline" in r.stderr
    assert "Traceback" not in r.stderr


def test_direct_mode_reports_lines_left_out(rlm) -> None:
    script = rlm.script(["node02 has ECC errors (lines 2, 14)."])
    r = rlm.ask(script, "--mode", "direct", "--n-ctx", "512", "--root-max-tokens", "64")
    assert r.rc == 0, r.stderr
    d = r.json
    info = d["direct"]
    assert info["lines_total"] == 40
    assert 0 < info["lines_included"] < 40
    assert info["lines_left_out"] == 40 - info["lines_included"]
    assert f"{info['lines_left_out']} of 40 lines did not fit" in r.stderr
    assert d["answer"] == "node02 has ECC errors (lines 2, 14)." and d["ended_by"] == "direct"


def test_direct_mode_with_everything_fitting(rlm) -> None:
    r = rlm.ask(rlm.script(["node02"]), "--mode", "direct")
    assert r.json["direct"]["lines_left_out"] == 0 and "did not fit" not in r.stderr


def test_an_output_too_big_for_the_window_is_cut_not_fatal(rlm) -> None:
    """At n_ctx 4096 a 1.5B model printed every hit of a grep; the next turn's prompt did
    not fit even after compaction, and the run died. The output is cut instead, saying so."""
    root = [
        rlm.code(LOOK),
        rlm.code("for i in range(400):\n    print(i, context.line(1))"),
        'FINAL("node02")',
    ]
    d = rlm.ask(
        rlm.script(root),
        "--n-ctx",
        "3072",
        "--root-max-tokens",
        "256",
        "--max-output-chars",
        "20000",
    ).json
    assert d["answer"] == "node02" and d["ended_by"] == "final"
    assert any("cut to fit the window" in n for n in d["notes"])


def test_a_task_with_its_own_example_puts_it_in_the_system_prompt(tmp_path) -> None:
    """The error-summary preset's worked example replaces root.yaml's: with root.yaml's
    (grep I/O errors, count per host) the 1.5B model grepped "error" and counted."""
    from rlm_cli.engine.loop import RlmEngine
    from rlm_cli.engine.prompts import load_task
    from rlm_cli.llm.scripted import Script, ScriptedModel
    from rlm_cli.store.contexts import ContextStore
    from rlm_cli.store.inputs import expand_inputs

    log = tmp_path / "a.log"
    log.write_text("Nov  3 04:12:01 s7 kernel: I/O error, dev sdc, sector 1234\n")
    script = tmp_path / "s.yaml"
    script.write_text("root:\n  - 'FINAL(\"x\")'\n")
    model = ScriptedModel(Script(script), "root")
    store = ContextStore(tmp_path / "contexts")
    ctx = store.open(store.ingest(expand_inputs([str(log)]))["id"])
    task = load_task("error-summary")
    engine = RlmEngine(model, model, ctx, guidance=task["guidance"], example=task["example"])
    system = engine.first_messages(task["question"])[0]["content"]
    assert 'FINAL_VAR("summary")' in system and "s4 377, s7 30" in system
    assert "which host logged the most disk I/O errors?" not in system
    # a task without one keeps root.yaml's example
    plain = RlmEngine(model, model, ctx, guidance="Look for SMART lines.")
    assert "which host logged the most disk I/O errors?" in plain.first_messages("q")[0]["content"]

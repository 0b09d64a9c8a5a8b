"""Structured turns on a real llama.cpp model (the tiny random-weight GGUF).

Even a model that writes noise must produce turns of the right shape under the grammar,
and the run must end by budget with a final answer, exit 0, no traceback.
"""

from __future__ import annotations

import pytest

from rlm_cli.engine.parse import parse_reply

pytest.importorskip("llama_cpp")


def _run(rlm, tiny_gguf, *extra: str):
    # the log on stdin: its source is then "<stdin>", not a temporary path, so the prompt,
    # and what random weights write under it, is the same on every machine and every run
    # (by path, one run in 16 had the noise write a final answer the checks let stand)
    return rlm(
        "ask",
        "which node will fail",
        "--model",
        str(tiny_gguf),
        "--json",
        "--no-log",
        "--n-ctx",
        "8192",
        "--root-max-tokens",
        "48",
        "--threads",
        "2",
        *extra,
        stdin=rlm.log.read_text(),
    )


# About 7 s of CPU a turn (grammar sampling), 2-3 min in all on an idle 2-core machine; a
# machine shared by several jobs runs it several times slower.
@pytest.mark.slow
def test_twenty_grammar_turns_end_by_budget_with_an_answer(rlm, tiny_gguf) -> None:
    # random weights may re-send a block: let them, so that all twenty turns are checked
    rlm.settings(reasoning_chars=40, repeats_before_end=99)
    r = _run(
        rlm,
        tiny_gguf,
        *("--max-iterations", "20", "--seed", "2", "--max-output-chars", "200"),
    )
    assert r.rc == 0, r.stderr
    assert "Traceback" not in r.stderr
    d = r.json
    assert d["grammar"] is True
    assert d["ended_by"] == "max_iterations" and d["iterations"] == 20
    turns = d["trajectory"]
    assert len(turns) == 21 and "forced final answer" in turns[-1]["notes"]
    for t in turns[:-1]:
        p = parse_reply(t["reply"])
        assert len(p.code_blocks) + (p.final is not None) == 1, t["reply"]
        assert t["usage"]["grammar"] is True
        first_line = t["reply"].split("\n", 1)[0]
        assert "```" not in first_line or first_line.startswith("```")
        assert len(first_line) <= 40 or first_line.startswith(("```", "FINAL"))
    last = parse_reply(turns[-1]["reply"])
    assert last.final is not None and last.final.kind == "FINAL" and not last.code_blocks
    assert d["answer"].strip()
    # the real tokenizer counted the window: 20 turns did not fit 85% of 8192 tokens (the
    # tiny model's vocabulary is bytes: the system head alone is about 5,000 of them)
    assert d["compactions"] and all(c["n_ctx"] == 8192 for c in d["compactions"])


def test_no_grammar_runs_unconstrained(rlm, tiny_gguf) -> None:
    r = _run(rlm, tiny_gguf, "--max-iterations", "2", "--no-grammar")
    assert r.rc == 0, r.stderr
    d = r.json
    assert d["grammar"] is False
    assert all(t["usage"]["grammar"] is False for t in d["trajectory"])
    assert d["ended_by"] in ("final", "max_iterations")

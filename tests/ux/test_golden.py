"""Golden output of `rlm runs show` in plain mode: a fixed stored record → exact text.

Regenerate after an intended change with ``RLM_UPDATE_GOLDEN=1 pytest tests/ux/test_golden.py``
and read the diff before committing it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rlm_cli.runs.history import RunHistory

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
STARTED = 1767268800.0  # 2026-01-01 12:00:00 UTC


@pytest.fixture
def stored(rlm_env) -> str:
    record = json.loads((GOLDEN / "run_record.json").read_text())
    history = RunHistory(Path(rlm_env["RLM_HOME"]) / "runs.db")
    history.save(record, exit_code=1, started=STARTED)
    history.close()
    return record["run_id"]


@pytest.mark.parametrize(
    ("columns", "extra", "golden"),
    [
        ("100", [], "runs_show_plain_100.txt"),
        ("80", [], "runs_show_plain_80.txt"),
        ("100", ["--full"], "runs_show_full_100.txt"),
    ],
)
def test_runs_show_plain_matches_golden(rlm_fast, rlm_env, stored, columns, extra, golden):
    rlm_env["COLUMNS"] = columns
    r = rlm_fast(rlm_env, "runs", "show", stored, *extra)
    assert r.code == 0, r.stderr
    path = GOLDEN / golden
    if os.environ.get("RLM_UPDATE_GOLDEN"):
        path.write_text(r.stdout)
    assert r.stdout == path.read_text()


def test_runs_list_plain(rlm_fast, rlm_env, stored):
    r = rlm_fast(rlm_env, "runs", "list")
    assert r.stdout == (
        "20260101-120000-abcd\t2026-01-01 12:00:00 UTC\tfinal\t1\t2\t12.3\t"
        "which node will fail first, and why?\n"
    )

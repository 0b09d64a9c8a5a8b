"""Suite files: the format, every way it can be wrong (one line naming file and task), and
the shipped builtin suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlm_cli.bench.checks import first_entity
from rlm_cli.bench.suite import CHARS_PER_TOKEN, load_suite, parse_suite, resolve
from rlm_cli.errors import UsageError

GOOD = """
name: mine
tasks:
  - id: t1
    family: needle
    question: Which host?
    log: {file: a.log}
    check: {contains: db01}
  - id: t2
    family: fails
    size: 0.5
    log: {generator: bmc_fleet, args: {seed: 1, fmt: pipe, failure: fan}}
    check: {first_entity: "{node}"}
    candidates: "{nodes}"
"""


def _write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "a.log").write_text("Jan  1 00:00:00 db01 kernel: disk failed\n")
    p = tmp_path / "suite.yaml"
    p.write_text(text)
    return p


def test_a_good_suite_loads_and_resolves(tmp_path: Path) -> None:
    suite = load_suite(str(_write(tmp_path, GOOD)))
    assert suite.name == "mine" and [t.id for t in suite.tasks] == ["t1", "t2"]
    r1 = resolve(suite.tasks[0], suite, n_ctx=1024)
    assert r1.text.startswith("Jan  1") and r1.question == "Which host?"
    assert r1.check("db01 failed") and not r1.check("web01")
    r2 = resolve(suite.tasks[1], suite, n_ctx=4096)
    assert r2.size_label == "0.5x"
    assert r2.check.expected == r2.truth["node"] and r2.check.candidates == r2.truth["nodes"]
    assert r2.question == r2.truth["question"]  # the generator's own question
    assert r2.check(f"{r2.truth['node']} is failing")
    assert not r2.check(f"{r2.truth['busy']} then {r2.truth['node']}")
    assert abs(len(r2.text) - 2048 * CHARS_PER_TOKEN) < 0.3 * 2048 * CHARS_PER_TOKEN


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("tasks: [1", "not valid YAML (line"),
        ("name: x\n", "non-empty 'tasks:'"),
        ("tasks:\n  - 3\n", "task 1: expected a mapping"),
        (GOOD.replace("    family: needle\n", ""), "task 1 (t1): 'family' is missing"),
        (GOOD.replace("{contains: db01}", "{approx: db01}"), "unknown check 'approx'"),
        (GOOD.replace("{contains: db01}", "{contains: a, number: 2}"), "'check' must be one of"),
        (GOOD.replace("{contains: db01}", "{number: lots}"), "'lots' is not a number"),
        (GOOD.replace("{contains: db01}", "{regex: '(('}"), "does not compile"),
        (GOOD.replace("{contains: db01}", "{time: yesterday}"), "not 'YYYY-mm-dd HH:MM:SS'"),
        (GOOD.replace("{file: a.log}", "{file: missing.log}"), "log file missing.log not found"),
        (GOOD.replace("bmc_fleet", "nope"), "unknown generator 'nope'"),
        (GOOD.replace("id: t2", "id: t1"), "id 't1' is used twice"),
        (GOOD.replace('    candidates: "{nodes}"\n', ""), "needs 'candidates:'"),
        (GOOD.replace("    size: 0.5\n", ""), "needs 'size:'"),
        (GOOD.replace("    size: 0.5\n", "    size: -1\n"), "'size' must be a positive"),
        (GOOD.replace("    question: Which host?\n", ""), "task 1 (t1): 'question' is missing"),
        (GOOD.replace("family: needle", "family: needle\n    weight: 2"), "unknown key 'weight'"),
        (GOOD.replace("{file: a.log}", "a.log"), "'log' must be {file: PATH}"),
    ],
)
def test_bad_suites_say_file_task_and_problem(tmp_path: Path, edit: str, message: str) -> None:
    p = _write(tmp_path, edit)
    with pytest.raises(UsageError) as e:
        load_suite(str(p))
    text = str(e.value)
    assert text.startswith(f"suite {p}: ") and message in text and "\n" not in text


def test_bad_generator_arguments_fail_at_resolve(tmp_path: Path) -> None:
    p = _write(tmp_path, GOOD.replace("fmt: pipe", "fmt: xml"))
    suite = load_suite(str(p))
    with pytest.raises(UsageError, match=r"task t2: generator bmc_fleet: fmt='xml'"):
        resolve(suite.tasks[1], suite, n_ctx=1024)
    p = _write(tmp_path, GOOD.replace("seed: 1,", "seed: 1, colour: red,"))
    suite = load_suite(str(p))
    with pytest.raises(UsageError, match="unexpected keyword argument 'colour'"):
        resolve(suite.tasks[1], suite, n_ctx=1024)


def test_missing_suite_file() -> None:
    with pytest.raises(UsageError, match="no such file"):
        load_suite("/nonexistent/suite.yaml")


def test_builtin_suite_covers_every_family_at_three_sizes() -> None:
    suite = load_suite("builtin")
    assert 15 <= len(suite.tasks) <= 18
    sizes: dict[str, set[float]] = {}
    for t in suite.tasks:
        sizes.setdefault(t.family, set()).add(t.size or 0)
    assert set(sizes) == {"needle", "aggregation", "fails", "timeline", "multihop"}
    assert all(s == {0.5, 10, 100} for s in sizes.values())


@pytest.mark.parametrize("task_id", [t.id for t in load_suite("builtin").tasks])
def test_builtin_task_resolves_with_truth_that_is_not_in_the_first_lines(task_id: str) -> None:
    suite = load_suite("builtin")
    task = next(t for t in suite.tasks if t.id == task_id)
    r = resolve(task, suite, n_ctx=8192)
    assert r.question and r.check.expected not in (None, "")
    assert abs(r.size_x - (task.size or 0)) <= 0.3 * (task.size or 0)
    head = "\n".join(r.text.splitlines()[:10])
    assert not r.check(head)  # the first lines do not give the answer away
    if r.check.kind == "first_entity":
        assert first_entity(r.check.expected, r.check.candidates) == r.check.expected
        assert len(r.check.candidates) >= 8


def test_builtin_is_deterministic() -> None:
    suite = load_suite("builtin")
    a = resolve(suite.tasks[0], suite, n_ctx=512)
    b = resolve(suite.tasks[0], suite, n_ctx=512)
    assert a.text == b.text and a.check == b.check


def test_parse_suite_names_its_source() -> None:
    with pytest.raises(UsageError, match=r"^somewhere: "):
        parse_suite("tasks: []", where="somewhere", base=None)

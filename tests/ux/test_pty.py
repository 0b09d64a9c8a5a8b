"""`rlm ask` in a real pseudo-terminal: the live tree, the answer, Ctrl-C, NO_COLOR.

The screen is replayed with :class:`tests.ux.screen.Screen`, so what is checked is what a
person would see (stale lines left behind by a bad redraw would show up here).
"""

from __future__ import annotations

import re
import time

import pytest
from helpers import spawn_rlm_pty, write_script

from tests.ux.conftest import demo_replies, run_rlm
from tests.ux.screen import Screen

pexpect = pytest.importorskip("pexpect")


def pump(child, screen: Screen, until=None, timeout: float = 30.0) -> bool:
    """Feed the child's output to ``screen`` until ``until(screen)`` or EOF; True if met."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if until is not None and until(screen):
            return True
        try:
            screen.feed(child.read_nonblocking(65536, timeout=0.1))
        except pexpect.TIMEOUT:
            continue
        except pexpect.EOF:
            return until is None or until(screen)
    return False


def on_screen(text: str):
    return lambda s: any(text in line for line in s.lines())


@pytest.fixture
def slow_script(tmp_path):
    root, sub = demo_replies(delay=0.5, sub_delay=0.4)
    return write_script(tmp_path / "slow.yaml", root, sub)


@pytest.mark.parametrize(("rows", "cols"), [(24, 80), (40, 200)])
def test_live_tree_then_answer(rlm_env, log_file, slow_script, rows, cols):
    child = spawn_rlm_pty(
        ["ask", "which node", str(log_file), "-m", f"script:{slow_script}"], rlm_env, rows, cols
    )
    screen = Screen(rows, cols)

    # Mid-run: the second turn waits on its sub-calls, each with a spinner. (Frames arrive
    # in pieces, so wait for the whole picture rather than check a half-drawn one.)
    def mid_run(s: Screen) -> bool:
        live = s.lines()
        return (
            live[0].startswith("rlm “which node”")
            and any(re.search(r"turn 1 · .*  I'll count the ECC errors first\.", ln) for ln in live)
            and any("waiting on" in ln for ln in live)
            and any("batch summarise: 2026-01-01T00:" in ln for ln in live)
            and any(ln.startswith("─ turn 2/12 · sub-calls") for ln in live)
        )

    assert pump(child, screen, mid_run), screen.text()
    live = screen.lines()
    assert all(len(ln) <= cols for ln in live)
    pump(child, screen)
    child.close()
    assert child.exitstatus == 1  # an error finding
    text = screen.text()
    final = text.splitlines()
    # The final frame: every turn folded to one line, then the footer, then the answer.
    assert sum(1 for ln in final if ln.startswith("rlm “which node”")) == 1  # no stale copies
    assert any(
        re.match(r"├── turn 2 · .* · 4 sub-calls  Now ask the sub-model", ln) for ln in final
    )
    assert any(re.match(r"└── turn 3 · .*  FINAL\(", ln) for ln in final)
    assert "node01 will fail: rising ECC errors" in text  # Markdown: ** rendered as bold
    assert "Findings (1)" in text and "rising ECC on DIMM_B2" in text
    assert "bmc.log:97" in text.replace("│", "").replace(" ", "").replace("\n", ""), text
    assert screen.used_colour()


def test_ctrl_c_keeps_the_partial_run_and_exits_130(rlm_env, log_file, tmp_path):
    root, sub = demo_replies(delay=0.3, sub_delay=1.0)
    script = write_script(tmp_path / "slow.yaml", root, sub)
    child = spawn_rlm_pty(
        ["ask", "which node", str(log_file), "-m", f"script:{script}"], rlm_env, 24, 80
    )
    screen = Screen(24, 80)
    assert pump(child, screen, on_screen("waiting on")), screen.text()
    t0 = time.monotonic()
    child.sendintr()
    pump(child, screen)
    child.close()
    assert time.monotonic() - t0 < 10
    assert child.exitstatus == 130, screen.text()
    text = screen.text()
    flat = " ".join(text.split())  # messages may wrap at 80 columns
    assert "interrupted after 2 turns" in flat
    assert "partial run kept as" in flat
    assert "Interrupted: no final answer." in flat
    assert "Traceback" not in text
    listed = run_rlm(rlm_env, "runs", "list", "--status", "interrupted")
    assert listed.stdout.count("\tinterrupted\t130\t") == 1, listed
    rid = listed.stdout.split("\t")[0]
    shown = run_rlm(rlm_env, "runs", "show", rid)
    assert re.search(r"turn 1 · .*  I'll count the ECC errors first\.", shown.stdout)
    assert re.search(r"turn 2 · stopped · .*  Now ask the sub-model", shown.stdout)


@pytest.mark.parametrize("no_color", [True, False])
def test_no_color_is_honoured(rlm_env, log_file, demo_script, no_color):
    if no_color:
        rlm_env["NO_COLOR"] = "1"
    child = spawn_rlm_pty(
        ["ask", "which node", str(log_file), "-m", f"script:{demo_script}"], rlm_env, 30, 100
    )
    screen = Screen(30, 100)
    pump(child, screen)
    child.close()
    assert child.exitstatus == 1
    assert "Findings (1)" in screen.text()
    assert screen.used_colour() is not no_color


def test_force_color_in_a_pipe_colours_but_draws_no_live_view(rlm_env, log_file, demo_script):
    rlm_env["FORCE_COLOR"] = "1"
    r = run_rlm(rlm_env, "ask", "which node", str(log_file), "-m", f"script:{demo_script}")
    assert "\x1b[31m" in r.stdout  # the severity colour
    assert "turn 1" not in r.stderr and "\x1b[?25l" not in r.stderr  # no live region

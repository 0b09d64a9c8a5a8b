"""Escape sequences in a hostile log never reach the terminal raw."""

from __future__ import annotations

import io
from pathlib import Path

from helpers import run_rlm, write_script
from rich.console import Console

from rlm_cli.render.run import render_run
from rlm_cli.render.safe import terminal_safe

HOSTILE = "node07 | \x1b]0;pwned\x07\x1b[2J\x1b[31mPSU failed\x9b0m | Asserted"


def test_terminal_safe_keeps_newlines_and_tabs_and_shows_controls() -> None:
    assert terminal_safe("a\tb\nc") == "a\tb\nc"
    shown = terminal_safe(HOSTILE)
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "␛]0;pwned" in shown and "PSU failed" in shown


def test_answer_findings_and_tree_are_sanitised(tmp_path: Path) -> None:
    log = tmp_path / "bmc.log"
    log.write_text(HOSTILE + "\n")
    code = "```repl\nline = context.line(1)\nprint(line)\nFINDING(line, 'critical', line, [1])\nFINAL(line)\n```"
    script = write_script(tmp_path / "s.yaml", [code])
    r = run_rlm(["ask", "q", str(log), "--model", f"script:{script}"], tmp_path)
    assert r.code == 1, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout and "\x9b" not in r.stdout
    assert "PSU failed" in r.stdout
    rec = run_rlm(["ask", "q", str(log), "--model", f"script:{script}", "--json"], tmp_path).json()
    assert rec["answer"] == HOSTILE  # kept whole in the record (JSON escapes it)
    buf = io.StringIO()
    console = Console(file=buf, force_terminal=True, color_system=None, width=120)
    console.print(render_run(rec, full=True))
    drawn = buf.getvalue()
    assert "pwned" in drawn and "\x1b]0;" not in drawn and "\x07" not in drawn

"""``--task NAME`` / ``--question TEXT``: what a scan asks, and the guidance that goes with it.

Presets are the engine's task presets (:func:`rlm_cli.engine.prompts.load_task`), the
same ones `rlm ask --task` reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from rlm_cli.engine.prompts import load_task
from rlm_cli.errors import UsageError


@dataclass
class ScanTask:
    """The question, its guidance, and the identity the scan's state is kept under."""

    question: str
    guidance: str
    identity: str
    """``task:NAME`` for a preset (editing the preset keeps the state), else the question."""
    example: str = ""
    """The preset's worked example for the system prompt ("": the one for its question)."""


def resolve_task(task: str | None, question: str | None) -> ScanTask:
    """``--question`` as given, or the preset named by ``--task`` (exactly one of them)."""
    if bool(task) == bool(question and question.strip()):
        raise UsageError("give exactly one of --task NAME or --question TEXT")
    if question:
        return ScanTask(question.strip(), "", question.strip())
    assert task is not None
    preset = load_task(task)
    return ScanTask(
        preset["question"].strip(),
        preset.get("guidance", "").strip(),
        f"task:{task}",
        preset.get("example", "").strip(),
    )

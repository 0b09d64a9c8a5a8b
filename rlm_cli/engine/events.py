"""What the engine tells its observers while a run goes on.

Renderers (the live tree, a quiet cron run, the JSON writer) subclass
:class:`RunObserver` and override what they care about. Every method may be called
from a sub-call worker thread, so implementations must be thread-safe.
"""

from __future__ import annotations

from typing import Any


class RunObserver:
    """No-op base: override the events you want."""

    def run_started(self, info: dict[str, Any]) -> None:
        """The run began: question, models, context id, budgets."""

    def turn_started(self, turn: int, depth: int = 0) -> None:
        """A root turn began (the root model is thinking)."""

    def final_started(self, turn: int, depth: int = 0) -> None:
        """The final-answer step a budget forced began (numbered as the next turn)."""

    def prompt_progress(self, turn: int, done: int, total: int, depth: int = 0) -> None:
        """The root model has read ``done`` of the ``total`` prompt tokens it must evaluate
        this turn (only backends that evaluate prompts here, in batches, report it)."""

    def root_text(self, turn: int, piece: str, depth: int = 0) -> None:
        """A piece of the root reply as it streams."""

    def root_reply(
        self, turn: int, reasoning: str, code: list[str], usage: dict, depth: int = 0
    ) -> None:
        """The root reply is complete and parsed."""

    def step_finished(self, turn: int, index: int, result: dict, depth: int = 0) -> None:
        """One code block ran; ``result`` is StepResult.to_json()."""

    def subcall_started(
        self, call_id: int, turn: int, kind: str, preview: str, depth: int = 0
    ) -> None:
        """A sub-call (llm_query, a batch item, a child RLM) began."""

    def subcall_finished(
        self, call_id: int, ok: bool, usage: dict, preview: str, depth: int = 0
    ) -> None:
        """A sub-call ended."""

    def note(self, message: str, depth: int = 0) -> None:
        """Something the operator should know (a cut, a budget, a restart)."""

    def run_finished(self, result: Any) -> None:
        """The run ended; ``result`` is the RunResult."""

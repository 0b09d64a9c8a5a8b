"""Budgets that always end a run: turns, sub-calls, tokens, wall time."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from rlm_cli.config import DEFAULTS
from rlm_cli.engine.records import Usage


@dataclass
class Limits:
    """What one run may spend. ``None`` means no limit for that budget."""

    max_iterations: int = DEFAULTS.max_iterations
    max_subcalls: int = DEFAULTS.max_subcalls
    max_tokens: int | None = DEFAULTS.max_tokens
    timeout_s: float | None = DEFAULTS.timeout
    max_depth: int = DEFAULTS.max_depth


class Budget:
    """Tracks spending against :class:`Limits`; shared by a run and its sub-call threads."""

    def __init__(self, limits: Limits, usage: Usage, started: float | None = None) -> None:
        self.limits = limits
        self.usage = usage
        self.started = time.monotonic() if started is None else started
        """The clock's start (``time.monotonic()``): the run's own, or the command's when
        ``--timeout`` should cover loading the model and reading the log too."""
        self.subcalls_used = 0
        self.subcalls_refused = 0
        """Sub-calls refused because the sub-call budget was used up (ends the run)."""
        self._lock = threading.Lock()
        self.stop_at: float | None = (
            None if limits.timeout_s is None else self.started + limits.timeout_s
        )
        """When calls under way are abandoned (``should_stop``): the deadline, later moved
        by :meth:`grant` to give the forced final answer a few seconds of its own."""

    def should_stop(self) -> bool:
        """True once calls under way must be abandoned (the time budget is spent)."""
        return self.stop_at is not None and time.monotonic() >= self.stop_at

    def grant(self, seconds: float) -> None:
        """Let calls run ``seconds`` more from now (the forced final answer after a timeout)."""
        if self.stop_at is not None:
            self.stop_at = time.monotonic() + seconds

    def take_subcalls(self, n: int = 1) -> bool:
        """Reserve ``n`` sub-calls; False (and nothing reserved) if that would exceed the budget."""
        with self._lock:
            if self.subcalls_used + n > self.limits.max_subcalls:
                self.subcalls_refused += n
                return False
            self.subcalls_used += n
            return True

    @property
    def subcalls_left(self) -> int:
        """Sub-calls still allowed."""
        return max(0, self.limits.max_subcalls - self.subcalls_used)

    def elapsed(self) -> float:
        """Seconds since the run started."""
        return time.monotonic() - self.started

    def exhausted(self) -> str | None:
        """The name of a budget that ran out (other than turns), or None.

        The sub-call budget counts as run out once a sub-call was refused for it: a
        model that used exactly its allowance may still finish with code alone.
        """
        lim = self.limits
        if lim.max_tokens is not None and self.usage.total_tokens >= lim.max_tokens:
            return "max_tokens"
        if lim.timeout_s is not None and self.elapsed() >= lim.timeout_s:
            return "timeout"
        if self.subcalls_refused:
            return "max_subcalls"
        return None

    def time_left(self) -> float | None:
        """Seconds left in the run, or None without a timeout."""
        if self.limits.timeout_s is None:
            return None
        return max(0.0, self.limits.timeout_s - self.elapsed())

    def turn_line(self, turn: int, max_turns: int) -> str:
        """What the model sees each turn: "turn 4/12 · 37 sub-calls left · ..."."""
        return f"turn {turn}/{max_turns} · {self.subcalls_left} sub-calls left{self.status_line()}"

    def status_line(self) -> str:
        """Extra budget facts for the model's turn line (tokens and time, when limited)."""
        parts = []
        lim = self.limits
        if lim.max_tokens is not None:
            parts.append(f"{max(0, lim.max_tokens - self.usage.total_tokens):,} tokens left")
        if lim.timeout_s is not None:
            parts.append(f"{max(0.0, lim.timeout_s - self.elapsed()):.0f} s left")
        return "".join(f" · {p}" for p in parts)

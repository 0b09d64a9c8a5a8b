"""How a transient network failure is retried: one policy for the HTTP backend and downloads."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Attempts, and the wait before each retry: exponential with jitter, or what the server
    asked for (``Retry-After``) up to a bound."""

    attempts: int = 4
    """Tries in all, the first one included (at least 1)."""
    base_s: float = 0.5
    """Wait before the first retry, before jitter; it doubles for each retry after."""
    max_s: float = 30.0
    """The longest backoff wait."""
    max_retry_after_s: float = 60.0
    """The longest wait a server's ``Retry-After`` is followed for."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "attempts", max(1, int(self.attempts)))

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1 first) before the next one."""
        if retry_after is not None:
            return max(0.0, min(retry_after, self.max_retry_after_s))
        backoff = min(self.max_s, self.base_s * 2 ** (attempt - 1))
        return backoff * random.uniform(0.5, 1.0)

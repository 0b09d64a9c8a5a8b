"""Backoff: the one retry policy of the HTTP backend and downloads."""

from __future__ import annotations

import pytest

from rlm_cli.llm.retry import Backoff


def test_backoff_doubles_with_jitter_up_to_its_bound() -> None:
    policy = Backoff(base_s=1.0, max_s=3.0)
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 3.0), (6, 3.0)]:
        waits = [policy.delay(attempt) for _ in range(50)]
        assert all(full * 0.5 <= w <= full for w in waits), (attempt, waits)


@pytest.mark.parametrize(("asked", "waited"), [(0.5, 0.5), (600.0, 60.0), (-3.0, 0.0)])
def test_server_retry_after_followed_within_bound(asked: float, waited: float) -> None:
    assert Backoff().delay(1, retry_after=asked) == waited


def test_at_least_one_attempt() -> None:
    assert Backoff(attempts=0).attempts == 1

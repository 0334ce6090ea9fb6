"""Timing rules for talking to Walleo: when to poll, how to back off."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["PollPolicy"]


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """Walleo's guidance: first check about 2 s after the create, then every 5 to 10 s.

    Failures back off exponentially from ``min_interval`` up to ``slow_interval``; a pull still
    unfinished ``overdue_after`` seconds after it was first sent is flagged overdue and checked at
    ``slow_interval`` from then on. It is never abandoned.

    ``min_gap`` is the least time between two GETs of one pull, whoever makes them and however
    they were asked for ("check now", a takeover by another process): Walleo's 5 s. ``None``
    means 5 s, or ``min_interval`` when that is shorter (fast policies in tests).
    """

    first_check: float = 2.0
    min_interval: float = 5.0
    max_interval: float = 10.0
    slow_interval: float = 60.0
    overdue_after: float = 30 * 60.0
    create_retry_base: float = 1.0  # first wait before re-sending a create that was not sent
    min_gap: float | None = None

    @property
    def gap(self) -> float:
        return self.min_gap if self.min_gap is not None else min(5.0, self.min_interval)

    def next_poll(self, rng: random.Random) -> float:
        return float(rng.uniform(self.min_interval, self.max_interval))

    def backoff(self, failures: int, rng: random.Random) -> float:
        """Wait before the next check after ``failures`` consecutive failed checks (>= 1)."""
        base = self.min_interval * (2 ** max(0, failures - 1))
        return float(min(self.slow_interval, base) * rng.uniform(1.0, 1.25))

    def create_backoff(self, failures: int, rng: random.Random) -> float:
        base = self.create_retry_base * (2 ** max(0, failures - 1))
        return float(min(self.slow_interval, base) * rng.uniform(1.0, 1.25))

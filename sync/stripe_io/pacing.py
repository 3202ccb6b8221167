"""Client-side pacing under Stripe's rate limits: 25 requests a second in test mode, 100 in
live mode (and 25 a second per endpoint by default). A burst of listings at the start of a
big reconcile would otherwise be answered with 429s that cost a backoff each."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Pacer", "rate_for_key"]

LIVE_RATE = 100.0
TEST_RATE = 25.0
# Stay a little under the limit: other tools may share the key.
HEADROOM = 0.8


def rate_for_key(api_key: str) -> float:
    """Requests per second we allow ourselves for this key."""
    return (LIVE_RATE if "_live_" in api_key else TEST_RATE) * HEADROOM


class Pacer:
    """Spaces requests at least ``1 / rate`` seconds apart (a token bucket of one)."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self._clock, self._sleep = clock, sleep
        self._next = 0.0

    def wait(self) -> float:
        """Block until the next request may go; returns the seconds waited."""
        now = self._clock()
        waited = max(0.0, self._next - now)
        if waited:
            self._sleep(waited)
        self._next = max(now, self._next) + self.interval
        return waited

"""Client-side pacing under Stripe's rate limits: 25 requests a second in test mode, 100 in
live mode, and 25 a second per endpoint by default (every ``GET /v1/subscriptions`` page of a
partitioned listing counts against that one endpoint). A burst of listings at the start of a
big reconcile would otherwise be answered with 429s that cost a backoff each.

One ``Pacer`` is shared by every thread of a source: each ``wait`` reserves the next free
slot under a lock, then sleeps outside it, so concurrent listers together keep to the rate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["ENDPOINT_RATE", "Pacer", "rate_for_key"]

LIVE_RATE = 100.0
TEST_RATE = 25.0
# Stripe's default per-endpoint limit, in both modes.
ENDPOINT_RATE = 25.0
# Stay a little under the limit: other tools may share the key.
HEADROOM = 0.8


def rate_for_key(api_key: str) -> float:
    """Requests per second we allow ourselves for this key."""
    return (LIVE_RATE if "_live_" in api_key else TEST_RATE) * HEADROOM


class Pacer:
    """Spaces requests at least ``1 / rate`` seconds apart (a token bucket of one), and those
    to one endpoint at least ``1 / endpoint_rate`` apart."""

    def __init__(
        self,
        rate: float,
        *,
        endpoint_rate: float = ENDPOINT_RATE * HEADROOM,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.interval = 1.0 / rate
        self.endpoint_interval = 1.0 / endpoint_rate
        self._clock, self._sleep = clock, sleep
        self._next = 0.0
        self._next_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, endpoint: str | None = None) -> float:
        """Block until the next request (to ``endpoint``) may go; returns the seconds waited."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            if endpoint is not None:
                slot = max(slot, self._next_at.get(endpoint, 0.0))
                self._next_at[endpoint] = slot + self.endpoint_interval
            self._next = slot + self.interval
        waited = slot - now
        if waited > 0:
            self._sleep(waited)
        return max(0.0, waited)

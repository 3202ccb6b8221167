"""Stripe's rate limiter, opt-in: requests a second for the whole account and per endpoint.

Stripe allows 25 requests a second in test mode (100 live) and, by default, 25 a second per
endpoint (a named operation: ``GET /v1/subscriptions``; every id of ``GET /v1/customers/:id``
counts as one endpoint). Beyond either, it answers 429 ``rate_limit`` with
``Stripe-Rate-Limited-Reason``. Windows are whole seconds of the limiter's own clock, so a
test can decide the time rather than race the wall clock; off unless ``set_rate_limit``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(self, per_second: int, per_endpoint: int, clock: Callable[[], float]) -> None:
        self.per_second, self.per_endpoint, self.clock = per_second, per_endpoint, clock
        self._lock = threading.Lock()
        self._window = -1
        self._total = 0
        self._by_endpoint: dict[str, int] = {}

    def refuse(self, endpoint: str) -> str | None:
        """Count a request; the reason Stripe gives when it is over a limit, else None."""
        with self._lock:
            window = int(self.clock())
            if window != self._window:
                self._window, self._total, self._by_endpoint = window, 0, {}
            if self._total >= self.per_second:
                return "global-rate"
            if self._by_endpoint.get(endpoint, 0) >= self.per_endpoint:
                return "endpoint-rate"
            self._total += 1
            self._by_endpoint[endpoint] = self._by_endpoint.get(endpoint, 0) + 1
            return None

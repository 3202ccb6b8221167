"""A client-side limit on Chargebee calls: at most ``per_minute`` in any sliding 60 seconds.

Chargebee limits requests per site per minute (a test site allows 150) and answers 429 past
it; the 429 costs a round trip and, shared by everything using the site, can stall other
integrations too. Waiting before the call keeps us under the limit instead. The window is
exact (the time of each of the last ``per_minute`` calls), not a token bucket refilled per
second, because Chargebee counts calls in a window: a bucket would let a burst of
``per_minute`` calls follow a full minute's worth and be refused.

A 429 still happens (another integration on the same site, a lower plan limit): ``hold``
makes the next call wait out its ``Retry-After``, whatever the caller's backoff slept.

Clock and sleep are injected so tests run on fake time. A wait is computed once and slept
once, never re-checked against the clock in a loop: a no-op ``sleep`` (tests) then costs
nothing, and the wait is accounted as if slept, which keeps the window honest.
"""

from __future__ import annotations

import collections
import threading
import time
from collections.abc import Callable

__all__ = ["DEFAULT_PER_MINUTE", "WINDOW", "RateLimiter"]

DEFAULT_PER_MINUTE = 150  # Chargebee's limit for a test site, the lowest it has
WINDOW = 60.0


class RateLimiter:
    """Call ``acquire()`` before each request; it sleeps as long as the limit requires."""

    def __init__(
        self,
        per_minute: int = DEFAULT_PER_MINUTE,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._stamps: collections.deque[float] = collections.deque()
        self._hold_until = 0.0
        self._last = float("-inf")
        self.waited = 0.0  # seconds slept in all, for stats and tests
        # A daemon may read from several threads one day; the window must stay one window.
        self._lock = threading.Lock()

    def _now(self) -> float:
        # Never behind the last call's stamp: after a no-op sleep the accounted time is ahead
        # of the clock, and time going backwards would reopen the window early.
        return max(self._clock(), self._last)

    def acquire(self) -> float:
        """Wait until one more call fits in the window; returns the seconds waited."""
        with self._lock:
            now = self._now()
            wait = max(0.0, self._hold_until - now)
            start = now + wait
            while self._stamps and self._stamps[0] <= start - WINDOW:
                self._stamps.popleft()
            if len(self._stamps) >= self.per_minute:
                # The oldest call of a full window leaves it WINDOW seconds after it was made.
                start = self._stamps[len(self._stamps) - self.per_minute] + WINDOW
                wait = start - now
            if wait > 0:
                self._sleep(wait)
                self.waited += wait
            self._stamps.append(start)
            while len(self._stamps) > self.per_minute:
                self._stamps.popleft()
            self._last = start
            return wait

    def hold(self, seconds: float) -> None:
        """The server asked for ``seconds`` of quiet (``Retry-After``): the next call waits
        that long from now, unless something already holds it longer."""
        if seconds <= 0:
            return
        with self._lock:
            self._hold_until = max(self._hold_until, self._now() + seconds)

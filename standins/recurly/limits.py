"""Rate limits and injected faults, both read by the HTTP layer before any route runs.

Recurly's published limits: a sandbox site may make 400 requests a minute, every method
counting; a production site 1,000 a minute, only GETs counting; both measured over a sliding
5-minute window (so the window holds 5x the per-minute figure, and a burst is fine after a
quiet spell). The stand-in counts by its own clock, so a test freezes time, spends the budget
and advances the clock to refill it. ``X-RateLimit-Limit`` carries the window's budget,
``-Remaining`` what is left in it, ``-Reset`` the epoch second when the oldest counted request
leaves the window. Counting always runs (the headers are on every answer); refusing with 429
happens only when enforcement is on.
"""

from __future__ import annotations

import fnmatch
import threading
from collections import deque
from dataclasses import dataclass

__all__ = ["Fault", "Faults", "RateLimiter"]

WINDOW = 300
PER_MINUTE = {"sandbox": 400, "production": 1000}


class RateLimiter:
    def __init__(self, mode: str = "sandbox", enforce: bool = False) -> None:
        self.configure(mode, enforce)

    def configure(self, mode: str, enforce: bool) -> None:
        if mode not in PER_MINUTE:
            raise ValueError("mode must be 'sandbox' or 'production'")
        self.mode, self.enforce = mode, enforce
        self.budget = PER_MINUTE[mode] * WINDOW // 60
        self._hits: deque[int] = deque()
        self._lock = threading.Lock()

    def counts(self, method: str) -> bool:
        return self.mode == "sandbox" or method in ("GET", "HEAD")

    def hit(self, method: str, now: int) -> tuple[bool, dict[str, str]]:
        """Record one request; returns (allowed, headers)."""
        with self._lock:
            hits = self._hits
            while hits and hits[0] <= now - WINDOW:
                hits.popleft()
            allowed = True
            if self.counts(method):
                if self.enforce and len(hits) >= self.budget:
                    allowed = False
                else:
                    hits.append(now)
            reset = hits[0] + WINDOW if hits else now + WINDOW
            return allowed, {
                "X-RateLimit-Limit": str(self.budget),
                "X-RateLimit-Remaining": str(max(0, self.budget - len(hits))),
                "X-RateLimit-Reset": str(reset),
            }


@dataclass
class Fault:
    status: int
    remaining: int
    pattern: str


class Faults:
    """The next N requests whose "METHOD /path" (or path) matches a glob answer ``status``."""

    STATUSES = (429, 500, 503)

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, n: int, status: int, pattern: str) -> None:
        if status not in self.STATUSES:
            raise ValueError(f"status must be one of {self.STATUSES}")
        with self._lock:
            self._faults.append(Fault(status, n, pattern))

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, method: str, path: str, template: str) -> int | None:
        with self._lock:
            for f in self._faults:
                if f.remaining > 0 and any(
                    fnmatch.fnmatchcase(s, f.pattern)
                    for s in (path, template, f"{method} {path}", f"{method} {template}")
                ):
                    f.remaining -= 1
                    return f.status
            return None

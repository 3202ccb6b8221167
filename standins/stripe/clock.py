"""Time for the stand-in: a settable wall clock and Stripe's calendar period arithmetic."""

from __future__ import annotations

import calendar
import threading
import time
from datetime import UTC, datetime

__all__ = ["DAY", "WallClock", "period_boundary"]

DAY = 86_400


class WallClock:
    """Real time by default; ``set`` freezes it (tests), ``advance`` moves the frozen time."""

    def __init__(self) -> None:
        self._frozen: int | None = None
        self._lock = threading.Lock()

    def now(self) -> int:
        with self._lock:
            return self._frozen if self._frozen is not None else int(time.time())

    def set(self, ts: int) -> None:
        with self._lock:
            self._frozen = int(ts)

    def advance(self, seconds: int) -> int:
        with self._lock:
            base = self._frozen if self._frozen is not None else int(time.time())
            self._frozen = base + int(seconds)
            return self._frozen


def _add_months(anchor: int, months: int) -> int:
    dt = datetime.fromtimestamp(anchor, UTC)
    total = dt.month - 1 + months
    year, month = dt.year + total // 12, total % 12 + 1
    # Stripe keeps the anchor's day and clamps to the month's last day (Jan 31 -> Feb 28).
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return int(dt.replace(year=year, month=month, day=day).timestamp())


def period_boundary(anchor: int, interval: str, count: int, k: int) -> int:
    """The k-th period boundary after ``anchor`` (k=0 is the anchor itself).

    Computed from the anchor each time rather than by repeated addition, so a month-end anchor
    returns to the 31st after a short month, as Stripe does.
    """
    if interval == "day":
        return anchor + DAY * count * k
    if interval == "week":
        return anchor + 7 * DAY * count * k
    if interval == "month":
        return _add_months(anchor, count * k)
    if interval == "year":
        return _add_months(anchor, 12 * count * k)
    raise ValueError(interval)

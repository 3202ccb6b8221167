"""Time for the stand-in: a settable clock (Chargebee's Time Machine) and billing periods.

Chargebee timestamps are Unix seconds. Terms are counted from an anchor (``k`` periods of
``period`` x ``period_unit`` after it) rather than by repeated addition, so a subscription
started on the 31st returns to the 31st after a short month.
"""

from __future__ import annotations

import calendar
import threading
import time
from datetime import UTC, datetime

__all__ = ["DAY", "UNITS", "Clock", "term_boundary"]

DAY = 86_400
UNITS = ("day", "week", "month", "year")


class Clock:
    """Real time until ``set`` freezes it; ``advance`` moves the frozen time forward."""

    def __init__(self) -> None:
        self._frozen: float | None = None
        self._lock = threading.Lock()

    @property
    def frozen(self) -> bool:
        return self._frozen is not None

    def now_float(self) -> float:
        with self._lock:
            return self._frozen if self._frozen is not None else time.time()

    def now(self) -> int:
        return int(self.now_float())

    def set(self, ts: float) -> None:
        with self._lock:
            self._frozen = float(ts)

    def advance(self, seconds: float) -> int:
        with self._lock:
            base = self._frozen if self._frozen is not None else time.time()
            self._frozen = base + seconds
            return int(self._frozen)


def _add_months(anchor: int, months: int) -> int:
    dt = datetime.fromtimestamp(anchor, UTC)
    total = dt.month - 1 + months
    year, month = dt.year + total // 12, total % 12 + 1
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return int(dt.replace(year=year, month=month, day=day).timestamp())


def term_boundary(anchor: int, unit: str, period: int, k: int) -> int:
    """The k-th term boundary after ``anchor`` (k=0 is the anchor itself)."""
    if unit == "day":
        return anchor + DAY * period * k
    if unit == "week":
        return anchor + 7 * DAY * period * k
    if unit == "month":
        return _add_months(anchor, period * k)
    if unit == "year":
        return _add_months(anchor, 12 * period * k)
    raise ValueError(unit)

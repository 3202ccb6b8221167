"""Time for the stand-in: a settable wall clock, Recurly's timestamp format, interval arithmetic.

Recurly sends second-precision UTC timestamps ending in ``Z``; the SDK parses them with
``%Y-%m-%dT%H:%M:%S%z`` and would choke on fractions, so ``iso`` never emits any.
"""

from __future__ import annotations

import calendar
import threading
import time
from datetime import UTC, datetime

__all__ = ["DAY", "WallClock", "add_interval", "iso", "parse_time"]

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


def iso(ts: int | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> int:
    """ISO 8601, as Recurly takes it: a partial timestamp without a zone is UTC."""
    dt = datetime.fromisoformat(value.strip().replace(" ", "+"))  # a raw '+' decodes to ' '
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def _add_months(anchor: int, months: int) -> int:
    dt = datetime.fromtimestamp(anchor, UTC)
    total = dt.month - 1 + months
    year, month = dt.year + total // 12, total % 12 + 1
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return int(dt.replace(year=year, month=month, day=day).timestamp())


def add_interval(anchor: int, unit: str, length: int, k: int = 1) -> int:
    """The k-th boundary after ``anchor`` for a plan interval (``days`` or ``months``) or a
    coupon's temporal unit (``day``, ``week``, ``month``, ``year``). Months are counted from the
    anchor each time, so a Jan 31 anchor bills Feb 28 and then Mar 31."""
    if unit in ("days", "day"):
        return anchor + DAY * length * k
    if unit == "week":
        return anchor + 7 * DAY * length * k
    if unit in ("months", "month"):
        return _add_months(anchor, length * k)
    if unit == "year":
        return _add_months(anchor, 12 * length * k)
    raise ValueError(unit)

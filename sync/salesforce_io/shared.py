"""What the gateway's concurrent callers share: the call counter and the API usage reading.

Collection writes go out from a small pool of threads (``sync.writer``) while the cycle's
thread sums the calls for the budget; both structures here take a lock so neither a count
nor a reading is lost or torn.
"""

from __future__ import annotations

import threading
from _collections_abc import dict_items, dict_keys, dict_values
from collections import Counter
from collections.abc import Iterator

from simple_salesforce.api import Salesforce

__all__ = ["CallCounter", "UsageMark", "usage_of"]

Usage = tuple[int, int]


class CallCounter(Counter[str]):
    """A Counter of API calls that writer threads add to while another thread reads it.

    ``+=`` on a Counter is a read then a write, so two threads can lose a count; and summing
    ``values()`` while another thread inserts a first label raises "dictionary changed size
    during iteration". Reads therefore work on a copy taken under the lock."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def add(self, label: str) -> None:
        with self._lock:
            self[label] += 1

    def _snapshot(self) -> dict[str, int]:
        # dict's own items(): copying a subclass (dict(self), dict.copy) calls the overridden
        # keys() and would take the lock again.
        with self._lock:
            return dict(dict.items(self))

    def keys(self) -> dict_keys[str, int]:
        return self._snapshot().keys()

    def values(self) -> dict_values[str, int]:
        return self._snapshot().values()

    def items(self) -> dict_items[str, int]:
        return self._snapshot().items()

    def __iter__(self) -> Iterator[str]:
        return iter(self._snapshot())

    def copy(self) -> CallCounter:
        twin = CallCounter()
        dict.update(twin, self._snapshot())
        return twin


class UsageMark:
    """The org's API usage as the most recently *started* call that finished reported it.

    Concurrent calls finish in any order; keeping the reading of the latest-started call
    means a slow call cannot put back an older count. One caller at a time, this is simply
    the last call's reading, as before."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._issued = 0
        self._ticket = 0
        self._reading: Usage | None = None

    def ticket(self) -> int:
        with self._lock:
            self._issued += 1
            return self._issued

    def record(self, ticket: int, reading: Usage | None) -> None:
        """``reading`` None: the call's own response was not seen (a query, a Bulk job), so
        the client's last reading stands."""
        with self._lock:
            if ticket > self._ticket:
                self._ticket, self._reading = ticket, reading

    @property
    def reading(self) -> Usage | None:
        with self._lock:
            return self._reading


def usage_of(header: str | None) -> Usage | None:
    """(used, total) of a ``Sforce-Limit-Info`` header, parsed as simple-salesforce does."""
    if not header:
        return None
    seen = Salesforce.parse_api_usage(header).get("api-usage")
    return None if seen is None else (int(seen.used), int(seen.total))

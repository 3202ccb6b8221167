"""Row locks, as Salesforce takes them for a write, and the UNABLE_TO_LOCK_ROW they lead to.

Salesforce locks the record a write changes and, for a child record, the parent each of its
lookup and master-detail fields points at ("every time a record is inserted or updated,
Salesforce must lock the target records that are selected for each lookup field"; Salesforce's
record locking cheat sheet exempts lookups that clear themselves on delete — the stand-in
locks them anyway, the stricter reading). A lock held by another transaction in flight is
waited for, up to ``timeout`` (about 10 s in Salesforce), then the record fails with
``UNABLE_TO_LOCK_ROW`` "unable to obtain exclusive access to this record or N records: ids"
and the rest of an allOrNone=false collection goes on.

``hold`` is the test knob: another user's long transaction holding some rows. A write that
needs one of them fails as it would once its wait ran out, without spending the wait.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable

from .ids import normalize_id
from .sferrors import RecordError

__all__ = ["LOCK_TIMEOUT", "RowLocks", "lock_failure"]

LOCK_TIMEOUT = 10.0
# System lookups Salesforce does not lock for a write (the user records behind them).
UNLOCKED_LOOKUPS = frozenset({"OwnerId", "CreatedById", "LastModifiedById"})


class _Hold:
    """A knob-made holder: outlasts any wait."""


class RowLocks:
    def __init__(self, timeout: float = LOCK_TIMEOUT) -> None:
        self.timeout = timeout
        self._changed = threading.Condition()
        self._owners: dict[str, object] = {}

    def acquire(self, owner: object, keys: Iterable[str]) -> list[str]:
        """Take every lock in ``keys`` for ``owner`` (one transaction), waiting for other
        transactions in flight; returns the keys still held by others when the wait ran
        out (nothing taken then), or [] when all are ``owner``'s."""
        wanted = [_key(k) for k in keys]
        deadline = time.monotonic() + self.timeout
        with self._changed:
            while True:
                blocked = [k for k in wanted if self._owners.get(k, owner) is not owner]
                if not blocked:
                    for k in wanted:
                        self._owners[k] = owner
                    return []
                left = deadline - time.monotonic()
                if left <= 0 or any(isinstance(self._owners[k], _Hold) for k in blocked):
                    return blocked
                self._changed.wait(left)

    def release(self, owner: object) -> None:
        with self._changed:
            for k in [k for k, o in self._owners.items() if o is owner]:
                del self._owners[k]
            self._changed.notify_all()

    def hold(self, keys: Iterable[str]) -> object:
        """Rows locked by someone else until ``release(handle)``; a key already held by a
        transaction in flight is taken over when it is released."""
        handle = _Hold()
        with self._changed:
            for k in keys:
                self._owners[_key(k)] = handle
        return handle

    def held(self) -> list[str]:
        with self._changed:
            return sorted(self._owners)


def _key(rid: str) -> str:
    return normalize_id(rid) or rid


def lock_failure(blocked: list[str]) -> RecordError:
    """Salesforce's per-record error for rows it could not lock in time."""
    return RecordError(
        "UNABLE_TO_LOCK_ROW",
        "unable to obtain exclusive access to this record or "
        f"{len(blocked)} records: {','.join(blocked)}",
    )

"""The local SQLite file: run history, cursors, the failure queue, dead letters, alert memory.

Salesforce is where people look; this file is where nothing is lost. ``StateStore`` is the one
object the engine holds; the tables live in ``failures`` and ``history``, the file itself
(connection, migrations, transactions) in ``database``.
"""

from __future__ import annotations

import functools
import random
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from ..core.failures import Failure, FailureRow
from ..redact import Redactor
from ..retry import retry_delay
from .changes import Changes
from .database import SCHEMA_VERSION, StoreError, StoreWriteFailed, connect, transaction, ts
from .failures import FailureTable
from .history import History
from .ledger import PassLedger

__all__ = ["SCHEMA_VERSION", "StateStore", "StoreError", "StoreWriteFailed"]

F = TypeVar("F", bound=Callable[..., Any])


def _locked(method: F) -> F:
    @functools.wraps(method)
    def wrapper(self: StateStore, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class StateStore:
    """One SQLite file. The connection may be used from any thread (a scheduler runs jobs in
    a worker thread), one call at a time: every public method holds the store's lock.

    ``read_only`` opens the file without ever writing it (a dry run beside a real cycle):
    every write raises ``StoreError``.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        rand: Callable[[], float] = random.random,
        redactor: Redactor | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        read_only: bool = False,
    ):
        self.path = Path(path)
        self.read_only = read_only
        self._clock = clock
        self._lock = threading.RLock()
        self.db = connect(self.path, read_only=read_only)
        self._failures = FailureTable(
            self.db,
            self.path,
            redactor or Redactor(),
            lambda attempts: retry_delay(attempts, rand=rand),
        )
        self._history = History(self.db, self.path)
        self._changes = Changes(self.db, self.path)

    @_locked
    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ runs

    @_locked
    def start_run(self, kind: str, *, dry_run: bool, now: datetime) -> int | None:
        """A new run row, or None for a read-only store (a dry run records no run)."""
        if self.read_only:
            return None
        return self._history.start_run(kind, dry_run=dry_run, now=now)

    @_locked
    def finish_run(
        self,
        run_id: int | None,
        *,
        status: str,
        counts: dict[str, Any],
        api_calls: dict[str, int],
        duration_s: float,
        now: datetime,
    ) -> None:
        if run_id is None:
            return
        self._history.finish_run(
            run_id,
            status=status,
            counts=counts,
            api_calls=api_calls,
            duration_s=duration_s,
            now=now,
        )

    @_locked
    def runs(self, limit: int = 20, *, kind: str | None = None) -> list[dict[str, Any]]:
        return self._history.runs(limit, kind=kind)

    # ------------------------------------------------------------------ failures

    @_locked
    def record(self, failure: Failure, *, now: datetime) -> FailureRow:
        return self._failures.record(failure, now)

    @_locked
    def record_many(self, failures: Iterable[Failure], *, now: datetime) -> list[FailureRow]:
        return self._failures.record_many(failures, now)

    def pass_ledger(self) -> PassLedger:
        """A fresh ledger for one reconcile pass (its own private file, not this one)."""
        return PassLedger()

    @_locked
    def record_news(self, failures: Iterable[Failure], *, now: datetime) -> list[FailureRow]:
        """Record, in one transaction, those of ``failures`` that say something the file does
        not know yet (``sync.core.failures.needs_recording``); the rows written."""
        return self._failures.record_news(failures, now)

    @_locked
    def resolve(self, fingerprint: str, *, now: datetime) -> FailureRow | None:
        """Mark an unresolved failure resolved (dead letters too: if the record now writes
        cleanly the problem is gone); None when unknown or already resolved."""
        done = self._failures.resolve([fingerprint], now)
        return done[0] if done else None

    @_locked
    def resolve_many(self, fingerprints: Iterable[str], *, now: datetime) -> list[FailureRow]:
        return self._failures.resolve(fingerprints, now)

    @_locked
    def requeue(self, fingerprint: str, *, now: datetime) -> FailureRow | None:
        return self._failures.requeue(fingerprint, now)

    @_locked
    def failure(self, fingerprint: str) -> FailureRow | None:
        return self._failures.get(fingerprint)

    @_locked
    def open_failures(self) -> list[FailureRow]:
        """Every unresolved failure, dead letters included, oldest first."""
        return self._failures.unresolved()

    @_locked
    def open_failures_where(self, column: str, values: Iterable[str]) -> list[FailureRow]:
        """The unresolved failures whose ``column`` (fingerprint, subject or account_id) is one
        of ``values``: what a slice of a pass needs, never the whole queue."""
        return self._failures.unresolved_where(column, values)

    def iter_open_failures(self, page: int = 1000) -> Iterator[list[FailureRow]]:
        """Every unresolved failure, a page at a time in fingerprint order: a queue of any
        size is walked in bounded memory."""
        return self._pages(self._failures.unresolved_after, page)

    @_locked
    def open_kinds(self, *, exclude: str | None = None) -> dict[tuple[str, str], int]:
        """How many unresolved failures there are of each (category, code)."""
        return self._failures.open_kinds(exclude)

    @_locked
    def first_open(self, kind: tuple[str, str], *, exclude: str | None = None) -> FailureRow | None:
        """The oldest unresolved failure of ``kind``."""
        return self._failures.first_open(kind, exclude)

    @_locked
    def dead_letters(self) -> list[FailureRow]:
        return self._failures.select("status = 'dead'", (), "last_seen")

    @_locked
    def due_retries(self, now: datetime) -> list[FailureRow]:
        """Open/retrying failures whose next attempt is due, the longest-waiting first."""
        return self._failures.select(
            "status IN ('open', 'retrying') AND attempted = 1 AND next_retry <= ?",
            (ts(now),),
            "next_retry",
        )

    @_locked
    def unmirrored(self) -> list[FailureRow]:
        """Rows whose latest state Salesforce's Sync_Error__c does not show yet."""
        return self._failures.select("mirrored = 0", (), "last_seen")

    def iter_unmirrored(self, page: int = 2000) -> Iterator[list[FailureRow]]:
        """The unmirrored rows a page at a time, in fingerprint order (a first cycle of a large
        org records tens of thousands at once)."""
        return self._pages(self._failures.unmirrored_after, page)

    def _pages(
        self, read: Callable[[str, int], list[FailureRow]], page: int
    ) -> Iterator[list[FailureRow]]:
        """``read(after, limit)`` a page at a time, in fingerprint order; the lock is held
        per page, not across the caller's work."""
        after = ""
        while True:
            with self._lock:
                rows = read(after, page)
            if rows:
                yield rows
            if len(rows) < page:
                return
            after = rows[-1].fingerprint

    @_locked
    def mark_mirrored(self, fingerprints: Iterable[str]) -> None:
        self._failures.mark_mirrored(fingerprints)

    @_locked
    def failure_counts(self) -> dict[str, int]:
        """Number of failures per status (for the status command)."""
        return self._failures.counts()

    @_locked
    def prune(self, *, before: datetime) -> int:
        """Delete runs started and failures resolved (and mirrored) before ``before``.

        Unresolved or unmirrored failures are never deleted. Returns the rows removed.
        """
        with transaction(self.db, self.path) as conn:
            return self._history.prune_runs(conn, before) + self._failures.prune(conn, before)

    # ------------------------------------------------------------------ cursors, alerts

    @_locked
    def get_cursor(self, name: str) -> str | None:
        return self._history.get_cursor(name)

    @_locked
    def set_cursor(self, name: str, value: str, *, now: datetime | None = None) -> None:
        self._history.set_cursor(name, value, now=now or self._clock())

    @_locked
    def alerted_kinds(self) -> set[tuple[str, str]]:
        return self._history.alerted_kinds()

    @_locked
    def mark_alerted(self, kind: tuple[str, str], *, now: datetime | None = None) -> None:
        self._history.mark_alerted(kind, now=now or self._clock())

    @_locked
    def alert_sent_at(self, key: str) -> datetime | None:
        return self._history.alert_sent_at(key)

    @_locked
    def alert_keys(self, prefix: str) -> list[str]:
        return self._history.alert_keys(prefix)

    @_locked
    def forget_alerts(self, keys: list[str]) -> None:
        self._history.forget_alerts(keys)

    @_locked
    def mark_alert_sent(self, key: str, *, now: datetime) -> None:
        self._history.mark_alert_sent(key, now=now)

    # ------------------------------------------------------------------ incremental memory

    @_locked
    def events_cursor(self) -> datetime | None:
        return self._changes.events_cursor()

    @_locked
    def set_events_cursor(self, cursor: datetime, *, now: datetime) -> None:
        self._changes.set_events_cursor(cursor, now=now)

    @_locked
    def seen_events(self, ids: Iterable[str]) -> set[str]:
        return self._changes.seen_events(ids)

    @_locked
    def note_events(
        self,
        events: Mapping[str, datetime],
        dirty: Mapping[str, str],
        cursor: datetime | None,
        *,
        now: datetime,
        forget_before: datetime | None = None,
    ) -> None:
        self._changes.note_events(events, dirty, cursor, now=now, forget_before=forget_before)

    @_locked
    def dirty(self) -> dict[str, str]:
        return self._changes.dirty()

    @_locked
    def clean(self, customer_ids: Iterable[str]) -> None:
        self._changes.clean(customer_ids)

    @_locked
    def index_catalog(self, uses: Mapping[str, Iterable[str]]) -> None:
        if not self.read_only:
            self._changes.index_catalog(uses)

    @_locked
    def customers_using(self, items: Iterable[str]) -> set[str]:
        return self._changes.customers_using(items)

    @_locked
    def links(self, account_ids: Iterable[str]) -> dict[str, str]:
        return self._changes.links(account_ids)

    @_locked
    def set_links(self, links: Mapping[str, str | None]) -> None:
        if not self.read_only:
            self._changes.set_links(links)

    @_locked
    def get_flag(self, name: str) -> str | None:
        return self._changes.get_flag(name)

    @_locked
    def set_flag(self, name: str, value: str | None, *, now: datetime | None = None) -> None:
        self._changes.set_flag(name, value, now=now or self._clock())

    @_locked
    def mark_interrupted(self, *, now: datetime) -> int:
        """Runs left ``running`` by a process that died: they are ``interrupted``."""
        return self._history.mark_interrupted(now=now)

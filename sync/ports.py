"""The typed ports between the cycle and its adapters.

The cycle is written against these Protocols only: a billing source (Stripe today; Chargebee
and Recurly implement the same port), the CRM gateway (Salesforce), the local store and the
alerter. Tests drive the cycle through in-memory fakes of them as well as through the real
adapters against the stand-ins.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from .core.failures import Failure, FailureRow
from .model import BillingSnapshot, ChangeFeed

__all__ = [
    "EXAMINED",
    "SEEN",
    "STILL",
    "Alerter",
    "BillingSource",
    "CrmGateway",
    "Ledger",
    "Row",
    "Store",
    "WriteOutcome",
]

Row = dict[str, Any]

# A pass's marks on failure fingerprints (``Ledger``).
EXAMINED = "examined"  # an open failure whose subject the pass examined completely
STILL = "still"  # a fingerprint that failed again (or is new), or whose write was held back
SEEN = "seen"  # an open failure whose Account the pass read


class BillingSource(Protocol):
    """Reads provider-neutral billing state for customer ids."""

    provider: str
    # True when the source keeps one listing of the billing account for a whole cycle, so a
    # reconcile may ask for its customers a slice at a time at no extra calls.
    keeps_listing: bool

    def begin_cycle(self) -> None:
        """A new cycle starts: drop what was cached for the last one (the catalog)."""
        ...

    def changes(self, since: datetime) -> ChangeFeed:
        """What changed since ``since``: hints naming customers and catalog items."""
        ...

    def fetch(
        self,
        customer_ids: Collection[str],
        *,
        expected_subscriptions: int | None = None,
        population: int | None = None,
    ) -> BillingSnapshot:
        """``expected_subscriptions``: the account-wide total the last full listing saw,
        which tells the source whether listing everything is cheaper than asking each.
        ``population``: the customers of the whole cycle when they come in slices (a source
        that ``keeps_listing`` chooses for all of them, and lists at most once)."""
        ...


class WriteOutcome(Protocol):
    """One record's result of a batch write (``sync.salesforce_io.WriteResult``)."""

    @property
    def success(self) -> bool: ...

    @property
    def code(self) -> str: ...

    @property
    def category(self) -> Any: ...

    @property
    def errors(self) -> Sequence[Any]: ...


class CrmGateway(Protocol):
    """Salesforce as the cycle needs it: reads by SOQL, batch writes, a call count."""

    @property
    def calls(self) -> Mapping[str, int]: ...

    def usage(self) -> tuple[int, int] | None:
        """The org's daily API usage the last response reported: (used, total)."""
        ...

    def read_accounts(self, account_id: str | None = None) -> list[Row]: ...

    def read_subscriptions(self, customer_ids: Iterable[str]) -> list[Row]: ...

    def read_retry_requested(self) -> list[Row]: ...

    def read_accounts_for(self, customer_ids: Iterable[str]) -> list[Row]: ...

    def stream_accounts(self) -> Iterator[Row]:
        """Every linked Account, in Id order, read a page at a time."""
        ...

    def stream_subscriptions(self) -> Iterator[Row]:
        """This provider's Subscription__c rows in their Account's Id order."""
        ...

    def count_linked(self) -> int: ...

    def read_changed_accounts(self, since: datetime) -> list[Row]: ...

    def update(self, records: Sequence[Row]) -> Sequence[WriteOutcome]: ...

    def upsert(
        self, sobject: str, key_field: str, records: Sequence[Row]
    ) -> Sequence[WriteOutcome]: ...

    def bulk_write(
        self, sobject: str, key_field: str, records: Sequence[Row]
    ) -> Sequence[WriteOutcome]: ...


class Ledger(Protocol):
    """What one pass remembers about failures until it ends (``sync.store.ledger``): marks
    on fingerprints (``EXAMINED``, ``STILL``, ``SEEN``) and the failures it saw."""

    def mark(self, kind: str, fingerprints: Iterable[str]) -> None: ...

    def marked(self, kind: str, fingerprints: Iterable[str]) -> set[str]: ...

    def add(self, failures: Iterable[Failure]) -> None: ...

    def drain(self, page: int = 1000) -> Iterator[list[Failure]]: ...

    def close(self) -> None: ...


class Store(Protocol):
    """The local SQLite file as the cycle and the alerts use it."""

    def pass_ledger(self) -> Ledger: ...

    def record_news(self, failures: Iterable[Failure], *, now: datetime) -> list[FailureRow]: ...

    def open_failures_where(self, column: str, values: Iterable[str]) -> list[FailureRow]: ...

    def iter_open_failures(self, page: int = 1000) -> Iterator[list[FailureRow]]: ...

    def open_kinds(self, *, exclude: str | None = None) -> dict[tuple[str, str], int]: ...

    def first_open(
        self, kind: tuple[str, str], *, exclude: str | None = None
    ) -> FailureRow | None: ...

    def failure(self, fingerprint: str) -> FailureRow | None: ...

    def start_run(self, kind: str, *, dry_run: bool, now: datetime) -> int | None: ...

    def finish_run(
        self,
        run_id: int | None,
        *,
        status: str,
        counts: dict[str, Any],
        api_calls: dict[str, int],
        duration_s: float,
        now: datetime,
    ) -> None: ...

    def record_many(self, failures: Iterable[Failure], *, now: datetime) -> list[FailureRow]: ...

    def resolve_many(self, fingerprints: Iterable[str], *, now: datetime) -> list[FailureRow]: ...

    def requeue(self, fingerprint: str, *, now: datetime) -> FailureRow | None: ...

    def open_failures(self) -> list[FailureRow]: ...

    def unmirrored(self) -> list[FailureRow]: ...

    def iter_unmirrored(self, page: int = 2000) -> Iterator[list[FailureRow]]: ...

    def mark_mirrored(self, fingerprints: Iterable[str]) -> None: ...

    def get_cursor(self, name: str) -> str | None: ...

    def set_cursor(self, name: str, value: str, *, now: datetime | None = None) -> None: ...

    def due_retries(self, now: datetime) -> list[FailureRow]: ...

    def events_cursor(self) -> datetime | None: ...

    def set_events_cursor(self, cursor: datetime, *, now: datetime) -> None: ...

    def seen_events(self, ids: Iterable[str]) -> set[str]: ...

    def note_events(
        self,
        events: Mapping[str, datetime],
        dirty: Mapping[str, str],
        cursor: datetime | None,
        *,
        now: datetime,
        forget_before: datetime | None = None,
    ) -> None: ...

    def dirty(self) -> dict[str, str]: ...

    def clean(self, customer_ids: Iterable[str]) -> None: ...

    def index_catalog(self, uses: Mapping[str, Iterable[str]]) -> None: ...

    def customers_using(self, items: Iterable[str]) -> set[str]: ...

    def links(self, account_ids: Iterable[str]) -> dict[str, str]: ...

    def set_links(self, links: Mapping[str, str | None]) -> None: ...

    def alerted_kinds(self) -> set[tuple[str, str]]: ...

    def mark_alerted(self, kind: tuple[str, str], *, now: datetime | None = None) -> None: ...

    def alert_sent_at(self, key: str) -> datetime | None: ...

    def mark_alert_sent(self, key: str, *, now: datetime) -> None: ...

    def alert_keys(self, prefix: str) -> list[str]: ...

    def forget_alerts(self, keys: list[str]) -> None: ...


class Alerter(Protocol):
    def send(self, text: str, *, blocks: list[dict[str, Any]] | None = None) -> bool:
        """Post one message. Must not raise; False means it was not delivered."""
        ...

"""The cycle against in-memory fakes of its ports: fast, and able to produce what the
stand-ins make awkward (a bug in an adapter, a stop between two write batches, ten failed
attempts in a row)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from metadata.schema import Category
from sync.core.failures import FailureState
from sync.cycle import Cycle
from sync.errors import SkipRecord, StopCycle
from sync.model import BillingSnapshot, ChangeFeed, Customer, FetchStats
from sync.ports import BillingSource, CrmGateway
from sync.retry import MAX_ATTEMPTS
from sync.salesforce_io.gateway import RecordError, WriteResult
from sync.store import StateStore, StoreWriteFailed
from tests.core.factories import customer, item, price, sub, ts

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeSource:
    provider = "stripe"
    keeps_listing = True  # asked for a slice at a time like StripeSource

    def __init__(self, customers: dict[str, Customer]):
        self.customers = customers
        self.raise_on_fetch: Exception | None = None
        self.cycles = 0
        self.fetched: list[list[str]] = []

    def begin_cycle(self) -> None:
        self.cycles += 1

    def changes(self, since: datetime) -> ChangeFeed:
        return ChangeFeed((), 1, "2026-10-28.endive")

    def fetch(self, customer_ids: Collection[str], *,
              expected_subscriptions: int | None = None,
              population: int | None = None) -> BillingSnapshot:
        self.fetched.append(sorted(customer_ids))
        if self.raise_on_fetch is not None:
            raise self.raise_on_fetch
        found = {c: self.customers[c] for c in customer_ids if c in self.customers}
        return BillingSnapshot(found, frozenset(set(customer_ids) - set(found)),
                               stats=FetchStats("per_customer", 0, {"GET /v1/subscriptions":
                                                                    len(customer_ids)}))


class FakeGateway:
    """Salesforce as the cycle sees it, in memory. ``reject(record) -> code | None``."""

    def __init__(self, accounts: list[dict[str, Any]]):
        self.accounts = {a["Id"]: dict(a) for a in accounts}
        self.subs: dict[str, dict[str, Any]] = {}
        self.errors: dict[str, dict[str, Any]] = {}
        self.calls: Counter[str] = Counter()
        self.reject = lambda record: None
        self.stop_after_batches: int | None = None

    def usage(self) -> tuple[int, int] | None:
        return (1_000, 100_000)  # what Sforce-Limit-Info would say: far below any budget

    def read_accounts_for(self, customer_ids: Iterable[str]) -> list[dict[str, Any]]:
        self.calls["query"] += 1
        wanted = set(customer_ids)
        return [dict(a) for a in self.accounts.values()
                if a.get("Stripe_Customer_Id__c") in wanted]

    def read_changed_accounts(self, since: datetime) -> list[dict[str, Any]]:
        self.calls["query"] += 1
        return []

    def read_accounts(self, account_id: str | None = None) -> list[dict[str, Any]]:
        self.calls["query"] += 1
        return [dict(a) for a in self.accounts.values()]

    def stream_accounts(self) -> Iterator[dict[str, Any]]:
        self.calls["query"] += 1
        linked = [a for a in self.accounts.values() if a.get("Stripe_Customer_Id__c")]
        yield from (dict(a) for a in sorted(linked, key=lambda a: a["Id"]))

    def stream_subscriptions(self) -> Iterator[dict[str, Any]]:
        self.calls["query"] += 1
        rows = [s for s in self.subs.values() if s.get("Account__c")]
        rows.sort(key=lambda s: (s["Account__c"], s.get("Stripe_Subscription_Id__c")))
        yield from (dict(s) for s in rows)

    def count_linked(self) -> int:
        self.calls["query"] += 1
        return sum(1 for a in self.accounts.values() if a.get("Stripe_Customer_Id__c"))

    def read_subscriptions(self, customer_ids: Iterable[str] | None = None
                           ) -> list[dict[str, Any]]:
        self.calls["query"] += 1
        return [dict(s) for s in self.subs.values()]

    def read_retry_requested(self) -> list[dict[str, Any]]:
        self.calls["query"] += 1
        return [dict(e) for e in self.errors.values()
                if e["Status__c"] in ("Open", "Retrying") and e.get("Retry_Requested__c")]

    def _write(self, records: Sequence[dict[str, Any]], key: str,
               table: dict[str, dict[str, Any]]) -> list[WriteResult]:
        self.calls["PATCH"] += 1
        if self.stop_after_batches is not None:
            if self.stop_after_batches == 0:
                raise StopCycle("daily limit", category=Category.LIMITS,
                                code="REQUEST_LIMIT_EXCEEDED")
            self.stop_after_batches -= 1
        out = []
        for record in records:
            code = self.reject(record)
            if code:
                out.append(WriteResult(record[key], False, errors=(RecordError(code, "no"),),
                                       category=Category.VALIDATION))
                continue
            fields = {k: v for k, v in record.items() if k != "attributes"}
            table.setdefault(record[key], {}).update(fields)
            out.append(WriteResult(record[key], True, record_id=record[key]))
        return out

    def update(self, records: Sequence[dict[str, Any]]) -> list[WriteResult]:
        return self._write(records, "Id", self.accounts)

    def upsert(self, sobject: str, key_field: str, records: Sequence[dict[str, Any]]
               ) -> list[WriteResult]:
        table = self.subs if sobject == "Subscription__c" else self.errors
        return self._write(records, key_field, table)


def _typed(source: BillingSource, gateway: CrmGateway) -> None:
    """The fakes satisfy the ports (checked by mypy through this signature)."""


@pytest.fixture
def shop(tmp_path):
    subscription = sub(item(price(5000, name="Team"), end=ts(2026, 4, 1)), id="sub_A",
                       customer_id="cus_A")
    source = FakeSource({"cus_A": customer(subscription, id="cus_A")})
    gateway = FakeGateway([{"Id": "001A", "Name": "Acme", "Stripe_Customer_Id__c": "cus_A"}])
    _typed(source, gateway)
    clock = [T0]
    store = StateStore(tmp_path / "state.db", rand=lambda: 1.0, clock=lambda: clock[0])
    cycle = Cycle(source=source, gateway=gateway, store=store, clock=lambda: clock[0])
    yield source, gateway, store, cycle, clock
    store.close()


def test_a_second_unchanged_cycle_writes_nothing(shop):
    source, gateway, store, cycle, _clock = shop
    first = cycle.run()
    assert (first.exit_code, first.written) == (0, 2)
    writes = gateway.calls["PATCH"]
    again = cycle.run()
    assert (again.written, gateway.calls["PATCH"]) == (0, writes)
    assert source.cycles == 2  # a fresh catalog every cycle
    assert [r["status"] for r in store.runs()] == ["ok", "ok"]


def test_a_refused_listing_stops_the_cycle_recorded_and_finished(shop):
    source, _gateway, store, cycle, _clock = shop
    source.raise_on_fetch = SkipRecord("Stripe rejected a request (bad param)",
                                       category=Category.STRIPE, code="parameter_unknown")
    report = cycle.run()
    assert report.exit_code == 3 and "bad param" in (report.stopped or "")
    [row] = store.open_failures()
    assert (row.subject, row.category, row.code) == ("cycle", "Stripe", "parameter_unknown")
    [run] = store.runs()
    assert run["status"] == "stopped" and run["finished_at"] is not None


def test_an_unexpected_bug_still_finishes_the_run_row(shop):
    source, _gateway, store, cycle, _clock = shop
    source.raise_on_fetch = RuntimeError("bug in an adapter")
    with pytest.raises(RuntimeError):
        cycle.run()
    [run] = store.runs()
    assert run["status"] == "crashed" and run["finished_at"] is not None


def test_a_stop_between_write_batches_keeps_the_first_batches_failures(shop):
    _source, gateway, store, cycle, _clock = shop
    gateway.reject = lambda r: "FIELD_CUSTOM_VALIDATION_EXCEPTION" if "Plan__c" in r else None
    gateway.stop_after_batches = 1  # the subscription batch goes out, the Account one stops
    report = cycle.run()
    assert report.stop is not None and report.stop.code == "REQUEST_LIMIT_EXCEEDED"
    kinds = sorted(r.code for r in store.open_failures())
    assert kinds == ["FIELD_CUSTOM_VALIDATION_EXCEPTION", "REQUEST_LIMIT_EXCEEDED"]


def test_a_dead_letter_heals_when_the_desired_record_changes(shop):
    source, gateway, store, cycle, clock = shop
    gateway.reject = lambda r: ("FIELD_CUSTOM_VALIDATION_EXCEPTION"
                                if r.get("Quantity__c") == 1 else None)
    for n in range(MAX_ATTEMPTS):
        clock[0] = T0 + timedelta(days=n)  # past every backoff
        cycle.run()
    [row] = [r for r in store.open_failures() if r.subject == "sub_A"]
    assert row.status == FailureState.DEAD
    clock[0] += timedelta(days=1)
    held = cycle.run()
    assert held.deferred == 1 and held.written == 0  # the same record stays blocked
    # The customer buys a second seat: a different record, written at once.
    source.customers["cus_A"] = customer(
        sub(item(price(5000, name="Team"), quantity=2, end=ts(2026, 4, 1)), id="sub_A",
            customer_id="cus_A"), id="cus_A")
    clock[0] += timedelta(minutes=1)
    healed = cycle.run()
    assert healed.written >= 1 and gateway.subs["sub_A"]["Quantity__c"] == 2
    assert store.failure(row.fingerprint).status == FailureState.RESOLVED


def test_retry_requested_gives_a_dead_letter_another_attempt(shop):
    _source, gateway, store, cycle, clock = shop
    gateway.reject = lambda r: "FIELD_CUSTOM_VALIDATION_EXCEPTION" if "Plan__c" in r else None
    for n in range(MAX_ATTEMPTS):
        clock[0] = T0 + timedelta(days=n)
        cycle.run()
    [row] = [r for r in store.open_failures() if r.subject == "sub_A"]
    assert row.status == FailureState.DEAD
    gateway.reject = lambda r: None  # the admin fixed the rule and ticked Retry Requested
    gateway.errors[row.fingerprint]["Retry_Requested__c"] = True
    clock[0] += timedelta(hours=1)
    report = cycle.run()
    assert report.written == 1 and store.failure(row.fingerprint).status == "resolved"


class _FullDisk(StateStore):
    """The local file as a full disk leaves it: reads work, the named write fails."""

    fail_on = "record_news"

    def start_run(self, *args, **kwargs):
        if self.fail_on == "start_run":
            raise StoreWriteFailed("state.db: SQLite error (database or disk is full)")
        return super().start_run(*args, **kwargs)

    def record_news(self, *args, **kwargs):
        if self.fail_on == "record_news":
            raise StoreWriteFailed("state.db: SQLite error (database or disk is full)")
        return super().record_news(*args, **kwargs)


def test_an_unwritable_store_stops_the_cycle_before_the_first_salesforce_write(shop, tmp_path):
    source, gateway, _store, _cycle, clock = shop
    full = _FullDisk(tmp_path / "full.db", clock=lambda: clock[0])
    full.fail_on = "start_run"
    with pytest.raises(StoreWriteFailed):
        Cycle(source=source, gateway=gateway, store=full, clock=lambda: clock[0]).run()
    assert gateway.calls["PATCH"] == 0 and gateway.calls["query"] == 0
    full.close()


def test_a_store_write_failing_mid_cycle_stops_it_and_finishes_the_run_row(shop, tmp_path):
    source, gateway, _store, _cycle, clock = shop
    gateway.reject = lambda r: "FIELD_CUSTOM_VALIDATION_EXCEPTION" if "Plan__c" in r else None
    full = _FullDisk(tmp_path / "full.db", clock=lambda: clock[0])
    with pytest.raises(StoreWriteFailed):
        Cycle(source=source, gateway=gateway, store=full, clock=lambda: clock[0]).run()
    [run] = full.runs()
    assert run["status"] == "crashed" and run["finished_at"] is not None
    full.close()

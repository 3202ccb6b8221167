"""Concurrent sObject Collections writes (sync.writer's pool) against the Salesforce stand-in:
the same records, failures, counts and progress as one call at a time; a stop or the budget
mid-pool loses no result of a call in flight; a held row lock is retried with backoff; an
expired session is renewed once for all the threads that meet it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from sync.budget import ApiBudget
from sync.core import RecordChange
from sync.errors import StopCycle
from sync.report import CycleReport
from sync.salesforce_io import SalesforceGateway
from sync.writer import Halted, Writer
from tests.conftest import start_world

KEY = "Stripe_Subscription_Id__c"
ACCOUNTS = 1_000  # five Account calls
SUBS = 1_200  # six Subscription__c calls


@pytest.fixture
def twin(tmp_path):
    """Two stand-in orgs seeded alike: one written one call at a time, one by the pool."""
    worlds = [start_world(tmp_path / name) for name in ("one", "pool")]
    try:
        yield [(w, _seed(w)) for w in worlds]
    finally:
        for w in worlds:
            w.sf_standin.stop()
            w.stripe_standin.stop()


def _seed(world) -> list[str]:
    rows = [{"Name": f"Co {i:04}", "Stripe_Customer_Id__c": f"cus_{i:04}"} for i in range(ACCOUNTS)]
    ids = world.sf_standin.org.insert_many("Account", rows)
    world.sf_standin.add_validation_rule(
        "Account", lambda r: r["Name"].endswith("7") and r.get("MRR__c") is not None,
        "MRR of these Accounts is managed by Finance", field="MRR__c")
    world.sf_standin.add_validation_rule(
        "Subscription__c", lambda r: str(r.get(KEY) or "").endswith("3"),
        "not this one", field="MRR__c")
    world.sf_standin.reset_counters()
    return ids


def _changes(ids: list[str]) -> tuple[list[RecordChange], list[RecordChange]]:
    subs = [
        RecordChange("Subscription__c", f"sub_{n:05}", None,
                     {"Name": (None, f"Sub {n}"), "Account__c": (None, ids[n % ACCOUNTS]),
                      "MRR__c": (None, Decimal(n))},
                     key_field=KEY, account_id=ids[n % ACCOUNTS],
                     customer_id=f"cus_{n % ACCOUNTS:04}")
        for n in range(SUBS)
    ]
    accounts = [
        RecordChange("Account", aid, aid, {"MRR__c": (None, Decimal(i))}, account_id=aid,
                     customer_id=f"cus_{i:04}")
        for i, aid in enumerate(ids)
    ]
    return subs, accounts


class Pass:
    """One pass's writer over a real gateway, with what it reported."""

    def __init__(self, world, concurrency, *, halt=None, budget=None, sleep=None):
        self.progress: list[str] = []
        self.threads: set[str] = set()
        self.sleeps: list[float] = []
        self.gateway = SalesforceGateway(world.conn.sf, sleep=sleep or self.sleeps.append)
        self.report = CycleReport(kind="full", started=datetime(2026, 3, 2, tzinfo=UTC))
        self.failures: list = []
        self.writer = Writer(
            self.gateway, self.report, subscription_key=KEY, bulk_threshold=20_000,
            halt=halt or (lambda: None), budget=budget or ApiBudget(),
            progress=self._progress, concurrency=concurrency)

    def _progress(self, message, done=None, total=None):
        self.progress.append(message)
        self.threads |= {t.name.rsplit("_", 1)[0] for t in threading.enumerate()}

    def run(self, subs, accounts):
        self.writer.add(subs, accounts, self.failures)
        self.writer.finish(self.failures)
        return self


def _state(world):
    org = world.sf_standin.org
    accounts = sorted((a["Id"], a["MRR__c"]) for a in org.all("Account"))
    subs = sorted((s[KEY], s["Account__c"], s["MRR__c"]) for s in org.all("Subscription__c"))
    return accounts, subs


def _failed(p: Pass):
    return [(f.subject, f.code, f.message) for f in p.failures]


def test_the_pool_writes_what_one_call_at_a_time_writes_in_the_same_order(twin):
    (one_world, one_ids), (pool_world, pool_ids) = twin
    one = Pass(one_world, 1).run(*_changes(one_ids))
    pool = Pass(pool_world, 4).run(*_changes(pool_ids))
    assert _state(one_world) == _state(pool_world)
    assert pool.report.written == one.report.written == ACCOUNTS + SUBS - 100 - 120
    assert _failed(pool) == _failed(one) and len(pool.failures) == 220
    assert pool.progress == one.progress  # call order, not completion order
    assert pool.progress[-1] == f"writing Account records {ACCOUNTS:,}/{ACCOUNTS:,}"
    assert pool.gateway.calls == one.gateway.calls
    assert dict(pool.gateway.calls) == {"PATCH composite/sobjects": 5,
                                        f"PATCH composite/sobjects/Subscription__c/{KEY}": 6}
    assert pool_world.sf_standin.counters == one_world.sf_standin.counters
    # the pool ran on its own threads; one call at a time never starts one
    assert "sf-write" in pool.threads and "sf-write" not in one.threads
    # the reading of the last call submitted: calls in flight with it may have reached the
    # org after it did
    used, _total = pool.gateway.usage()
    assert pool_world.sf_standin.org.api_usage - 3 <= used <= pool_world.sf_standin.org.api_usage
    assert pool_world.sf_standin.org.row_locks.held() == []


def test_a_stop_request_mid_pool_records_every_call_already_in_flight(world):
    ids = _seed(world)
    asked = []

    def halt():
        asked.append(1)
        return "stop requested (SIGTERM)" if len(asked) >= 3 else None

    p = Pass(world, 4, halt=halt)
    with pytest.raises(Halted):
        p.run(*_changes(ids))
    # two calls went out before the stop; both finished and were recorded
    assert world.sf_standin.api_calls() == 2
    written = len(world.sf_standin.org.all("Subscription__c"))
    assert written == 400 - 40 and p.report.written == written and len(p.failures) == 40
    assert p.progress == ["writing Subscription__c records 200/1,200",
                          "writing Subscription__c records 400/1,200"]
    assert len(asked) == 3  # nothing submitted after the stop


def test_the_budget_stops_the_pool_without_losing_a_result(world):
    ids = _seed(world)
    p = Pass(world, 4, budget=ApiBudget(max_per_cycle=3))
    with pytest.raises(StopCycle) as stopped:
        p.run(*_changes(ids))
    assert stopped.value.code == "API_BUDGET"
    calls = world.sf_standin.api_calls()
    assert 1 <= calls <= 3 and sum(p.gateway.calls.values()) == calls
    stored = len(world.sf_standin.org.all("Subscription__c"))
    assert stored == 180 * calls and p.report.written == stored  # 20 of 200 refused per call
    assert len(p.progress) == calls


def test_a_held_row_lock_is_retried_with_backoff_and_succeeds(world):
    ids = _seed(world)
    world.sf_standin.org.clear_validation_rules()
    # another user's transaction holds an Account whose Subscription__c are in the third call
    release = world.sf_standin.hold_row_locks(ids[450])

    def sleep(seconds):
        p.sleeps.append(seconds)
        release()

    p = Pass(world, 4, sleep=sleep)
    p.run(*_changes(ids))
    assert p.failures == [] and p.report.written == ACCOUNTS + SUBS
    assert len(p.sleeps) == 1 and 0.5 <= p.sleeps[0] <= 1.0  # one backoff, base 1 s
    sub_calls = p.gateway.calls[f"PATCH composite/sobjects/Subscription__c/{KEY}"]
    assert sub_calls == 6 + 1  # the locked records re-sent once
    assert world.sf_standin.org.row_locks.held() == []


def test_a_lock_held_past_every_attempt_fails_only_its_records(world):
    ids = _seed(world)
    world.sf_standin.org.clear_validation_rules()
    world.sf_standin.hold_row_locks(ids[450])
    p = Pass(world, 4).run(*_changes(ids))
    # the Account itself and its one Subscription__c, whose upsert needs the Account's lock
    subjects = sorted(f.subject for f in p.failures)
    assert subjects == sorted([ids[450], "sub_00450"])
    assert {f.code for f in p.failures} == {"UNABLE_TO_LOCK_ROW"}
    assert all(f"1 records: {ids[450]}" in f.message for f in p.failures)
    assert len(p.sleeps) == 2 * 2  # two more attempts for each of the two calls
    assert p.report.written == ACCOUNTS + SUBS - 2


def test_concurrent_calls_that_meet_an_expired_session_renew_it_once(world):
    ids = _seed(world)
    world.sf_standin.org.clear_validation_rules()
    world.sf_standin.expire_all_tokens()
    before = world.conn.reauth_count
    p = Pass(world, 4).run(*_changes(ids))
    assert p.failures == [] and p.report.written == ACCOUNTS + SUBS
    assert world.conn.reauth_count == before + 1
    assert world.sf_standin.counters.get("POST oauth2/token") == 1

"""The Recurly source against the Recurly stand-in over loopback: the snapshot it builds, both
strategies alike, statuses, unknown and refused codes, the catalog once per cycle, paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sync.core import account_status, subscription_mrr
from sync.recurly_io import RecurlySource, choose_strategy
from sync.recurly_io.source import refusal

from .conftest import DAY, T0

ACCT = "GET /accounts/{account_id}"
ACCT_SUBS = "GET /accounts/{account_id}/subscriptions"


def test_choose_strategy() -> None:
    assert choose_strategy(1, 10, 10) == "per_customer"  # 2 pages vs 2 calls
    assert choose_strategy(2, 10, 10) == "list_all"  # 2 pages vs 4 calls
    assert choose_strategy(50, 10_000, 10_000) == "per_customer"  # 100 pages vs 100 calls
    assert choose_strategy(51, 10_000, 10_000) == "list_all"  # 100 pages vs 102 calls


@pytest.mark.parametrize(
    "code", ["", "x" * 51, ".acme", "-acme", "/acme", ";acme", "a/b", "a;b", " acme", "acme\n"]
)
def test_malformed_codes(code: str) -> None:
    assert refusal(code) is not None


@pytest.mark.parametrize("code", ["acme", "x" * 50, "a.b-c_d@example.com", "ACME 42", "a-"])
def test_wellformed_codes(code: str) -> None:
    assert refusal(code) is None


def test_a_snapshot_with_the_neutral_values(source, subscribe, standin) -> None:
    subscribe("acme", add_ons=[{"code": "seat", "quantity": 3}, {"code": "vol", "quantity": 12},
                               {"code": "api"}], coupon_codes=["tenoff"])  # fmt: skip
    subscribe("yearly-co", plan_code="yearly")
    standin.reset_counters()
    snap = source.fetch(["acme", "yearly-co"])
    assert snap.stats.strategy == "per_customer" and not snap.missing and not snap.refused
    # The counts the source reports are the requests the stand-in saw.
    assert dict(snap.stats.calls) == standin.counters
    assert snap.stats.calls[ACCT] == 2 and snap.stats.calls[ACCT_SUBS] == 2
    acme = snap.customers["acme"]
    assert acme.name == "acme Ltd" and not acme.deleted
    (sub,) = acme.subscriptions
    assert (sub.status, sub.state, sub.currency, sub.customer_id) == (
        "active", "active", "usd", "acme")  # fmt: skip
    # the usage add-on bills what was used: not a committed line
    assert [i.price.id for i in sub.items] == ["team", "seat", "vol"]
    # (20.00 + 3 x 5.00 + 12 x 8.00 at the volume tier holding 12) less 10% forever
    assert subscription_mrr(sub) == Decimal("117.90")
    assert subscription_mrr(snap.customers["yearly-co"].subscriptions[0]) == Decimal("100.00")
    assert account_status(acme) == "Active"


def _states(standin, client, subscribe) -> None:
    subscribe("live")
    subscribe("leaving")
    client.cancel_subscription(_sub(standin, "leaving"))
    subscribe("gone")
    client.terminate_subscription(_sub(standin, "gone"))
    subscribe("closed")
    client.deactivate_account("code-closed")
    client.create_account({"code": "never", "company": "Never Ltd"})
    subscribe("trial", trial_ends_at="2026-11-20T00:00:00Z")
    subscribe("dunning")
    standin.fail_payments("code-dunning")
    subscribe("later", starts_at="2026-12-24T00:00:00Z")
    standin.advance_time(DAY)
    # A renewal a month on fails for "dunning"; the others renew.
    standin.advance_time(31 * DAY)


CODES = ["live", "leaving", "gone", "closed", "never", "trial", "dunning", "later",
         "nobody", "-bad", "Live"]  # fmt: skip
EXPECTED = {"live": "Active", "leaving": "Churned", "gone": "Churned", "closed": "Churned",
            "never": "No Subscription", "trial": "Active", "dunning": "Past Due",
            "later": "No Subscription", "Live": "Active"}  # later starts on Dec 24  # fmt: skip


def _sub(standin, code: str) -> str:
    acct = standin.api.account(f"code-{code}")
    return standin.store.owned(acct["id"], "subscription")[-1]["id"]


def test_statuses_and_both_strategies_give_the_same_snapshot(
    source, standin, client, subscribe
) -> None:
    _states(standin, client, subscribe)
    source.begin_cycle()
    few = source.fetch(CODES, expected_subscriptions=100_000)  # 500 pages: ask each
    source.begin_cycle()
    standin.reset_counters()
    every = source.fetch(CODES)  # totals counted by HEAD: a page each is cheaper
    assert (few.stats.strategy, every.stats.strategy) == ("per_customer", "list_all")
    assert (
        every.stats.calls["HEAD /subscriptions"] == 1 and every.stats.calls["HEAD /accounts"] == 1
    )
    assert dict(every.stats.calls) == standin.counters
    assert few.customers == every.customers
    assert few.missing == every.missing == {"nobody"}
    assert set(few.refused) == set(every.refused) == {"-bad"}
    # list_all counts the site's subscriptions (what a full listing costs next time); per
    # customer, what was read for them ("live" and "Live" are one account, read twice).
    assert every.stats.subscriptions_listed == 7 and few.stats.subscriptions_listed == 8
    got = {cid: account_status(c) for cid, c in every.customers.items()}
    assert got == EXPECTED
    # "leaving" was canceled on day 1 and expired at its period end (day 30): Churned; the
    # next test checks the window in which a canceled subscription is still live.
    closed = every.customers["closed"]
    assert closed.deleted and all(s.state == "ended" for s in closed.subscriptions)
    assert not every.customers["never"].deleted
    # "Live" found "live" ignoring case, and is keyed by the code asked for.
    assert every.customers["Live"].subscriptions[0].customer_id == "Live"
    trial = every.customers["trial"].subscriptions[0]
    assert trial.state == "active"  # the trial ended on Nov 20
    assert every.customers["later"].subscriptions[0].state == "not_started"


def test_canceled_but_live_is_active_and_scheduled_to_end(source, standin, client,
                                                          subscribe) -> None:  # fmt: skip
    subscribe("leaving")
    subscribe("trial", trial_ends_at="2026-11-20T00:00:00Z")
    subscribe("later", starts_at="2026-12-24T00:00:00Z")
    standin.advance_time(DAY)
    client.cancel_subscription(_sub(standin, "leaving"))
    snap = source.fetch(["leaving", "trial", "later"])
    (sub,) = snap.customers["leaving"].subscriptions
    assert (sub.status, sub.state) == ("canceled", "active")
    assert sub.cancel_at == datetime(2026, 12, 2, tzinfo=UTC)
    assert sub.canceled_at == datetime.fromtimestamp(T0 + DAY, UTC)
    assert account_status(snap.customers["leaving"]) == "Canceling"
    assert subscription_mrr(sub) == Decimal("20.00")  # counts until it ends
    assert account_status(snap.customers["trial"]) == "Trialing"
    later = snap.customers["later"].subscriptions[0]
    assert (later.status, later.state) == ("future", "not_started")


def test_refused_codes_are_never_sent(source, standin) -> None:
    standin.reset_counters()
    snap = source.fetch(["-bad", "a/b", "x" * 51])
    assert set(snap.refused) == {"-bad", "a/b", "x" * 51} and standin.counters == {}
    assert "50 characters" in snap.refused["x" * 51]


def test_the_catalog_is_fetched_once_per_cycle(source, standin, subscribe) -> None:
    subscribe("a", add_ons=[{"code": "vol", "quantity": 2}], coupon_codes=["tenoff"])
    subscribe("b", add_ons=[{"code": "vol", "quantity": 3}])
    first = source.fetch(["a", "b"])
    catalog = {k: v for k, v in first.stats.calls.items() if "plans" in k or "coupons" in k}
    assert catalog == {"GET /plans/{plan_id}": 1, "GET /plans/{plan_id}/add_ons": 1,
                       "GET /coupons/{coupon_id}": 1}  # fmt: skip
    again = source.fetch(["a"])
    assert not [k for k in again.stats.calls if "plans" in k or "coupons" in k]
    source.begin_cycle()
    fresh = source.fetch(["a"])
    assert fresh.stats.calls["GET /plans/{plan_id}"] == 1
    assert fresh.customers["a"] == first.customers["a"]


def test_list_all_pages_at_200(source, standin) -> None:
    standin.seed_bulk(accounts=450, subscriptions=430, seed=3)
    codes = [f"seed-{n:05d}" for n in range(1, 451)]
    standin.reset_counters()
    snap = source.fetch(codes, expected_subscriptions=430)
    assert snap.stats.strategy == "list_all" and snap.stats.subscriptions_listed == 430
    # ceil(430 / 200) + ceil(450 / 200) pages, one HEAD for the account total, 5 plans
    assert snap.stats.calls["GET /subscriptions"] == 3 and snap.stats.calls["GET /accounts"] == 3
    assert snap.stats.calls["HEAD /accounts"] == 1 and "HEAD /subscriptions" not in snap.stats.calls
    assert snap.stats.total_calls == standin.total_requests()
    assert len(snap.customers) == 450 and not snap.missing and not snap.refused
    assert sum(len(c.subscriptions) for c in snap.customers.values()) == 430


def test_changes_are_updated_records_oldest_first(source, standin, client, subscribe) -> None:
    subscribe("old")
    subscribe("moved")
    standin.advance_time(2 * DAY)
    since = datetime.fromtimestamp(standin.now(), UTC)
    standin.advance_time(60)
    client.cancel_subscription(_sub(standin, "moved"))
    standin.advance_time(60)
    client.update_account("code-old", {"company": "Old Renamed"})  # not synced: no hint
    standin.advance_time(60)
    client.deactivate_account("code-old")  # expires its subscription: a hint
    standin.reset_counters()
    feed = source.changes(since)
    assert feed.api_version == "v2021-02-25" and feed.calls == 2
    assert standin.counters == {"GET /subscriptions": 1, "GET /invoices": 1}
    assert [(h.id.split(":")[0], h.customer_id) for h in feed.hints] == [
        ("subscription", "moved"), ("subscription", "old")]  # fmt: skip
    sub_hint = feed.hints[0]
    assert sub_hint.created == since + timedelta(seconds=60)
    assert sub_hint.id == f"subscription:{_sub(standin, 'moved')}:2026-11-04T00:01:00Z"
    # The same window read again gives the same ids: the engine drops them as seen.
    assert [h.id for h in source.changes(since).hints] == [h.id for h in feed.hints]


def test_changes_see_an_invoice_going_past_due(source, standin, subscribe) -> None:
    subscribe("dunning")
    standin.fail_payments("code-dunning")
    standin.advance_time(29 * DAY)
    since = datetime.fromtimestamp(standin.now(), UTC)
    standin.advance_time(2 * DAY)  # the renewal on Dec 2 is declined
    kinds = {(h.id.split(":")[0], h.customer_id) for h in source.changes(since).hints}
    assert ("invoice", "dunning") in kinds


def test_the_constructor_the_scheduler_uses(standin) -> None:
    from sync.recurly_io import RecurlyHttp

    src = RecurlySource(RecurlyHttp(standin.api_key, standin.base_url), sleep=lambda _s: None)
    assert src.provider == "recurly" and src.fetch([]).stats.strategy == ""

"""The Chargebee source against the Chargebee stand-in: the snapshot it builds, both
strategies, paging, deleted and unknown customers, refused ids, catalog caching, events."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from metadata.schema import Category
from sync.chargebee_io import ChargebeeSource, choose_strategy
from sync.core import account_status, subscription_mrr
from sync.core.mapping import map_customer
from sync.errors import RetryLater, SkipRecord, StopCycle

from .conftest import DAY, T0

LIST = "GET /api/v2/subscriptions"


def test_choose_strategy() -> None:
    assert choose_strategy(5, None) == "per_customer"
    assert choose_strategy(5000, None) == "list_all"
    assert choose_strategy(1000, 300) == "list_all"  # 3 pages < 10 batches
    assert choose_strategy(150, 5000) == "per_customer"  # 2 batches < 50 pages


def test_a_snapshot_with_the_neutral_values(source, subscribe, standin) -> None:
    subscribe("acme", ("monthly", 3), ("addon", 2), ("setup", None), coupon_ids=["TENOFF"])
    subscribe("yearly-co", ("yearly", None))
    subscribe("stairs-co", ("stairs", 12))
    snap = source.fetch(["acme", "yearly-co", "stairs-co"])
    assert snap.stats.strategy == "per_customer" and not snap.missing and not snap.refused
    acme = snap.customers["acme"]
    assert acme.name == "acme Ltd" and not acme.deleted
    (sub,) = acme.subscriptions
    assert (sub.status, sub.state, sub.currency) == ("active", "active", "usd")
    # The one-off setup charge is not a recurring line.
    assert [i.price.id for i in sub.items] == ["p-monthly", "p-addon"]
    assert sub.items[0].price.product_name == "Team" and sub.items[0].quantity == 3
    assert sub.items[0].current_period_end == datetime.fromtimestamp(T0, UTC).replace(month=12)
    # (3 x 20.00 + 2 x 5.00) less 10% forever = 63.00
    assert subscription_mrr(sub) == Decimal("63.00")
    assert subscription_mrr(snap.customers["yearly-co"].subscriptions[0]) == Decimal("100.00")
    # Stairstep: the tier holding 12 costs 80.00 once, not 12 x 80.00.
    assert subscription_mrr(snap.customers["stairs-co"].subscriptions[0]) == Decimal("80.00")
    assert account_status(acme) == "Active"
    mapping = map_customer("acme", acme, "001A", datetime.fromtimestamp(T0, UTC))
    assert mapping.account.fields["MRR__c"] == Decimal("63.00")
    assert mapping.account.fields["Billing_Plan__c"] == "Team, Seats"


def test_the_mrr_cross_check_with_chargebee(source, subscribe, standin) -> None:
    """Chargebee computes ``mrr`` itself; ours agrees where the rules agree (in cents)."""
    subscribe("acme", ("monthly", 3), ("addon", 2), coupon_ids=["TENOFF"])
    raw = standin.store.data["subscription"]
    (sub,) = source.fetch(["acme"]).customers["acme"].subscriptions
    assert subscription_mrr(sub) * 100 == next(iter(raw.values()))["mrr"]


def test_lifecycle_states_through_the_stand_in(source, subscribe, standin, cb, http) -> None:
    subscribe("trial", ("monthly", 1), trial_end=T0 + 7 * DAY)
    subscribe("leaving", ("monthly", 1))
    http.ok(f"/subscriptions/{_sub(standin, 'leaving')}/cancel_for_items", end_of_term="true")
    subscribe("paused", ("monthly", 1))
    http.ok(f"/subscriptions/{_sub(standin, 'paused')}/pause", pause_option="immediately")
    subscribe("later", ("monthly", 1), start_date=T0 + 9 * DAY)
    subscribe("gone", ("monthly", 1))
    http.ok(f"/subscriptions/{_sub(standin, 'gone')}/cancel_for_items")
    subscribe("dunning", ("monthly", 1))
    standin.fail_payments("dunning")
    standin.advance_time(31 * DAY)
    snap = source.fetch(["trial", "leaving", "paused", "later", "gone", "dunning"])
    got = {cid: account_status(c) for cid, c in snap.customers.items()}
    assert got == {"trial": "Active", "leaving": "Churned", "paused": "Paused",
                   "later": "Active", "gone": "Churned", "dunning": "Past Due"}  # fmt: skip
    dunning = snap.customers["dunning"].subscriptions[0]
    assert (dunning.status, dunning.state) == ("active", "past_due")
    assert subscription_mrr(dunning) == Decimal("20.00")  # past due still counts


def test_canceling_and_not_started_before_time_moves(source, subscribe, standin, http) -> None:
    subscribe("leaving", ("monthly", 1))
    http.ok(f"/subscriptions/{_sub(standin, 'leaving')}/cancel_for_items", end_of_term="true")
    subscribe("later", ("monthly", 1), start_date=T0 + 9 * DAY)
    subscribe("trial", ("monthly", 1), trial_end=T0 + 7 * DAY)
    snap = source.fetch(["leaving", "later", "trial"])
    leaving = snap.customers["leaving"].subscriptions[0]
    assert (leaving.status, leaving.state) == ("non_renewing", "active")
    assert leaving.cancel_at == leaving.items[0].current_period_end
    assert subscription_mrr(leaving) == Decimal("20.00")
    assert account_status(snap.customers["leaving"]) == "Canceling"
    later = snap.customers["later"]
    assert later.subscriptions[0].state == "not_started"
    assert account_status(later) == "No Subscription"
    assert subscription_mrr(later.subscriptions[0]) == Decimal("0.00")
    assert account_status(snap.customers["trial"]) == "Trialing"


def test_deleted_unknown_refused_and_subscriptionless(source, subscribe, standin, http) -> None:
    subscribe("doomed", ("monthly", 1))
    http.ok("/customers/doomed/delete")
    http.ok("/customers", id="bare")
    snap = source.fetch(["doomed", "bare", "nobody", "bad id,"])
    assert snap.customers["doomed"].deleted
    assert [s.state for s in snap.customers["doomed"].subscriptions] == ["ended"]
    assert account_status(snap.customers["doomed"]) == "Churned"
    assert snap.customers["bare"].subscriptions == ()
    assert account_status(snap.customers["bare"]) == "No Subscription"
    assert snap.missing == {"nobody"}
    assert "letters, digits" in snap.refused["bad id,"]


def test_a_refused_batch_is_asked_id_by_id(source, subscribe, monkeypatch) -> None:
    subscribe("a", ("monthly", 1))
    subscribe("b", ("monthly", 1))
    # Were our id check more lenient than Chargebee, an id it refuses would spoil its batch
    # (the stand-in, like chargebee-python, is lenient with list values: refuse by hand).
    monkeypatch.setattr("sync.chargebee_io.source.CUSTOMER_ID", re.compile(r".+"))
    real = source._list

    def refusing(resource, path, params):
        ids = (params.get("customer_id") or {}).get("in") or []
        if "odd" in ids:
            raise SkipRecord("customer_id[in] : invalid value", category=Category.CHARGEBEE,
                             code="param_wrong_value")
        return real(resource, path, params)

    monkeypatch.setattr(source, "_list", refusing)
    snap = source.fetch(["a", "b", "odd"])
    assert set(snap.customers) == {"a", "b"}
    assert snap.refused == {"odd": "customer_id[in] : invalid value"}


def test_list_all_pages_the_site_and_keeps_only_the_asked(source, standin) -> None:
    seeded = standin.seed_bulk(150)
    snap = source.fetch(seeded[:3], expected_subscriptions=150)
    assert snap.stats.strategy == "per_customer" and snap.stats.calls[LIST] == 1
    assert set(snap.customers) == set(seeded[:3])
    # 150 subscriptions are 2 pages; 250 linked ids (100 unknown) would be 3 batches.
    unknown = [f"nobody-{n}" for n in range(100)]
    snap = source.fetch(seeded + unknown, expected_subscriptions=150)
    assert snap.stats.strategy == "list_all" and snap.stats.subscriptions_listed == 150
    assert snap.stats.calls[LIST] == 2 and snap.stats.calls["GET /api/v2/customers"] == 1
    assert snap.missing == set(unknown) and set(snap.customers) == set(seeded)


def test_the_catalog_is_fetched_once_per_cycle(source, subscribe, standin) -> None:
    subscribe("a", ("monthly", 1), coupon_ids=["TENOFF"])
    source.fetch(["a"])
    again = source.fetch(["a"])
    assert "GET /api/v2/item_prices" not in again.stats.calls
    source.begin_cycle()
    fresh = source.fetch(["a"])
    assert fresh.stats.calls["GET /api/v2/item_prices"] == 1
    assert fresh.stats.calls["GET /api/v2/coupons"] == 1


def test_events_are_hints(source, subscribe, standin, http) -> None:
    subscribe("a", ("monthly", 1))
    standin.advance_time(60)
    since = datetime.fromtimestamp(standin.now(), UTC)
    http.ok("/customers/a", company="Renamed")
    subscribe("b", ("monthly", 1))
    feed = source.changes(since)
    assert feed.api_version == "v2" and feed.calls == 1
    assert {h.customer_id for h in feed.hints} == {"a", "b"}
    assert all(h.created >= since for h in feed.hints)
    assert [h.created for h in feed.hints] == sorted(h.created for h in feed.hints)


def test_an_empty_fetch_asks_nothing(source) -> None:
    assert source.fetch([]).stats.total_calls == 0


def _sub(standin, cid: str) -> str:
    return standin.store.subs_by_customer[cid][0]


def test_source_is_a_billing_source(cb) -> None:
    from sync.ports import BillingSource

    source: BillingSource = ChargebeeSource(cb)
    assert source.provider == "chargebee"


def test_a_rate_limit_is_waited_out_honouring_retry_after(cb, subscribe, standin) -> None:
    subscribe("a", ("monthly", 1))
    waits: list[float] = []
    source = ChargebeeSource(cb, sleep=waits.append)
    standin.fail_next(1, 429, path="/api/v2/subscriptions")
    snap = source.fetch(["a"])
    assert set(snap.customers) == {"a"} and snap.stats.calls[LIST] == 2
    assert waits and waits[0] >= 1.0  # the stand-in's Retry-After: 1


def test_an_outage_outlasting_the_backoff_is_retry_later(source, standin) -> None:
    standin.fail_next(10, 503, path="/api/v2/subscriptions")
    with pytest.raises(RetryLater) as exc:
        source.fetch(["a"])
    assert exc.value.code == "internal_temporary_error" and exc.value.http_status == 503


def test_a_wrong_key_stops_the_cycle(standin, cb) -> None:
    import chargebee

    bad = chargebee.Chargebee(api_key="wrong", site=standin.site, protocol="http")
    bad.env.api_endpoint = standin.api_base
    with pytest.raises(StopCycle) as exc:
        ChargebeeSource(bad, sleep=lambda _s: None).fetch(["a"])
    assert exc.value.category == Category.CONFIGURATION and "CHARGEBEE_API_KEY" in str(exc.value)

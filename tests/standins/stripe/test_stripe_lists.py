"""List semantics: order, cursors, filters, auto-paging, and speed at 12,000 subscriptions."""

from __future__ import annotations

import time

import pytest
import requests
import stripe

from standins.stripe import StripeStandIn


def test_newest_first_with_both_cursors(client) -> None:
    ids = [client.v1.customers.create({"name": f"c{i}"}).id for i in range(7)]
    newest_first = list(reversed(ids))
    page1 = client.v1.customers.list({"limit": 3})
    assert [c.id for c in page1.data] == newest_first[:3] and page1.has_more
    page2 = client.v1.customers.list({"limit": 3, "starting_after": page1.data[-1].id})
    assert [c.id for c in page2.data] == newest_first[3:6]
    back = client.v1.customers.list({"limit": 2, "ending_before": page2.data[0].id})
    assert [c.id for c in back.data] == newest_first[1:3] and back.has_more
    assert [c.id for c in client.v1.customers.list({"limit": 2}).auto_paging_iter()] == (
        newest_first)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.customers.list({"starting_after": "cus_unknown"})


def test_subscription_filters(client, monthly, make_customer) -> None:
    a, b = make_customer(), make_customer()
    other = client.v1.prices.create({"product": monthly.product, "currency": "usd",
                                     "unit_amount": 1, "recurring": {"interval": "month"}})
    s1 = client.v1.subscriptions.create({"customer": a.id, "items": [{"price": monthly.id}]})
    s2 = client.v1.subscriptions.create({"customer": b.id, "items": [{"price": other.id}]})
    s3 = client.v1.subscriptions.create({"customer": b.id, "items": [{"price": monthly.id}],
                                         "trial_period_days": 3})
    client.v1.subscriptions.cancel(s1.id)

    def ids(params):
        return [s.id for s in client.v1.subscriptions.list(params).data]

    assert ids({}) == [s3.id, s2.id]
    assert ids({"status": "all"}) == [s3.id, s2.id, s1.id]
    assert ids({"status": "ended"}) == [s1.id]
    assert ids({"status": "canceled"}) == [s1.id]
    assert ids({"status": "trialing"}) == [s3.id]
    assert ids({"customer": b.id}) == [s3.id, s2.id]
    assert ids({"customer": a.id}) == []
    assert ids({"customer": a.id, "status": "all"}) == [s1.id]
    assert ids({"price": monthly.id, "status": "all"}) == [s3.id, s1.id]
    upgraded = client.v1.subscriptions.update(
        s2.id, {"items": [{"id": s2["items"].data[0].id, "price": monthly.id}]})
    assert upgraded["items"].data[0].price.id == monthly.id
    assert ids({"price": other.id}) == []
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.list({"status": "bogus"})


@pytest.mark.slow
def test_bulk_seed_and_list_12k_subscriptions_stays_linear() -> None:
    with StripeStandIn(api_key="sk_test_fake_bulk") as standin:
        start = time.perf_counter()
        customer_ids = standin.seed_bulk(customers=10_000, subscriptions=12_000, seed=1)
        seed_s = time.perf_counter() - start
        assert len(customer_ids) == 10_000 and len(set(customer_ids)) == 10_000
        # Server-side cost per page, over raw HTTP (stripe-python's own object building
        # costs ~10x more per page and is not the stand-in's to measure).
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {standin.api_key}"
        page_times: list[float] = []
        seen: list[str] = []
        params: dict = {"status": "all", "limit": 100}
        start = time.perf_counter()
        while True:
            t = time.perf_counter()
            page = session.get(standin.base_url + "/v1/subscriptions", params=params,
                               timeout=10).json()  # fmt: skip
            page_times.append(time.perf_counter() - t)
            seen.extend(s["id"] for s in page["data"])
            if not page["has_more"]:
                break
            params = {**params, "starting_after": page["data"][-1]["id"]}
        list_s = time.perf_counter() - start
        assert len(seen) == 12_000 and len(set(seen)) == 12_000
        assert standin.counters["GET /v1/subscriptions"] == 120
        # Printed, not asserted (timed tests flake): the last pages should cost about what the
        # first ones do (no quadratic cursor scans); the benchmark watches it.
        first, last = sum(page_times[:20]) / 20, sum(page_times[-20:]) / 20
        print(f"\nseed 10k/12k: {seed_s:.2f}s; 120 raw pages of 100: {list_s:.2f}s "
              f"(first pages {first * 1000:.1f} ms, last {last * 1000:.1f} ms)")
        client = stripe.StripeClient(standin.api_key, base_addresses={"api": standin.base_url})
        standin.reset_counters()
        start = time.perf_counter()
        n = sum(1 for _ in client.v1.subscriptions.list(
            {"status": "all", "limit": 100}).auto_paging_iter())
        auto_s = time.perf_counter() - start
        assert n == 12_000 and standin.total_requests() == 120
        print(f"auto_paging_iter over 12k: {auto_s:.2f}s")
        live = client.v1.subscriptions.list({"status": "active", "limit": 1})
        assert live.data[0].status == "active"


def test_customer_list_leaves_out_deleted_and_test_clock_customers(client) -> None:
    plain = client.v1.customers.create({"name": "plain"}).id
    gone = client.v1.customers.create({"name": "gone"}).id
    client.v1.customers.delete(gone)
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": 1_700_000_000}).id
    clocked = client.v1.customers.create({"name": "clocked", "test_clock": clock}).id
    listed = [c.id for c in client.v1.customers.list({"limit": 100}).auto_paging_iter()]
    assert plain in listed and gone not in listed and clocked not in listed
    on_clock = client.v1.customers.list({"test_clock": clock, "limit": 100})
    assert [c.id for c in on_clock.data] == [clocked]

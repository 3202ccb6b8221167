"""``created`` range filters on the subscription and customer lists, as Stripe has them:
gt/gte/lt/lte (or one exact second), with ``starting_after``, ``status=all``, ties within a
second in creation order; and the opt-in rate limiter with Stripe's 429."""

from __future__ import annotations

import itertools

import pytest
import stripe
from conftest import T0

# seconds after T0 and how many objects are created in each
SECONDS = [(0, 3), (1, 1), (5, 4), (9, 2)]
RANGES = [
    {"gte": T0 + 1}, {"gt": T0 + 1}, {"lte": T0 + 5}, {"lt": T0 + 5},
    {"gte": T0 + 1, "lte": T0 + 5}, {"gt": T0, "lt": T0 + 9}, {"gte": T0 + 2, "lt": T0 + 5},
]  # fmt: skip


def _in(created: int, rng: dict[str, int]) -> bool:
    return all({"gt": created > v, "gte": created >= v, "lt": created < v,
                "lte": created <= v}[k] for k, v in rng.items())  # fmt: skip


def _paged(listing, params: dict, limit: int) -> list[str]:
    out: list[str] = []
    while True:
        p = {**params, "limit": limit}
        if out:
            p["starting_after"] = out[-1]
        page = listing(params=p)
        out += [o.id for o in page.data]
        if not page.has_more:
            return out


@pytest.fixture
def dated(standin, client, monthly, make_customer):
    subs, customers = [], []
    for after, n in SECONDS:
        standin.set_time(T0 + after)
        for _ in range(n):
            cus = make_customer()
            customers.append((cus.id, T0 + after))
            sub = client.v1.subscriptions.create({"customer": cus.id,
                                                  "items": [{"price": monthly.id}]})  # fmt: skip
            subs.append((sub.id, T0 + after))
    client.v1.subscriptions.cancel(subs[2][0])  # status=all must keep it
    return subs, customers


@pytest.mark.parametrize(("rng", "limit"), list(itertools.product(RANGES, [1, 2, 100])))
def test_created_ranges_page_like_the_filtered_full_list(client, dated, rng, limit) -> None:
    subs, customers = dated
    for listing, objs, params in (
        (client.v1.subscriptions.list, subs, {"status": "all"}),
        (client.v1.customers.list, customers, {}),
    ):
        newest_first = [oid for oid, _ in reversed(objs)]
        created = dict(objs)
        want = [oid for oid in newest_first if _in(created[oid], rng)]
        assert _paged(listing, {**params, "created": rng}, limit) == want


def test_one_exact_second_and_a_cursor_outside_the_range(client, dated) -> None:
    subs, _ = dated
    tied = [sid for sid, t in reversed(subs) if t == T0 + 5]
    page = client.v1.subscriptions.list(params={"status": "all", "created": T0 + 5})
    assert [s.id for s in page.data] == tied
    # A cursor older than the range: nothing after it lies in the range.
    page = client.v1.subscriptions.list(params={
        "status": "all", "created": {"gte": T0 + 5}, "starting_after": subs[0][0]})  # fmt: skip
    assert page.data == [] and not page.has_more


def test_a_bad_range_key_is_refused(client) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.list(params={"created": {"after": T0}})
    assert exc.value.code == "parameter_unknown"


def test_the_rate_limit_is_stripes_429_per_second_and_per_endpoint(standin, client) -> None:
    now = [1000.0]
    standin.set_rate_limit(per_second=5, per_endpoint=3, clock=lambda: now[0])
    try:
        for _ in range(3):
            client.v1.customers.list()
        with pytest.raises(stripe.RateLimitError) as exc:
            client.v1.customers.list()
        assert exc.value.http_status == 429
        assert exc.value.json_body["error"]["code"] == "rate_limit"
        assert exc.value.headers["Stripe-Rate-Limited-Reason"] == "endpoint-rate"
        assert exc.value.json_body["error"]["type"] == "invalid_request_error"
        client.v1.products.list()
        client.v1.prices.list()
        with pytest.raises(stripe.RateLimitError) as exc:
            client.v1.coupons.list()
        assert exc.value.headers["Stripe-Rate-Limited-Reason"] == "global-rate"
        now[0] += 1  # the next second starts afresh
        client.v1.customers.list()
    finally:
        standin.set_rate_limit(None)

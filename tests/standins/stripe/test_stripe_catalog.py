"""Prices the MRR rules depend on: intervals, tiers, transform_quantity, odd currencies."""

from __future__ import annotations

from decimal import Decimal

import pytest
import stripe


@pytest.fixture
def product(client):
    return client.v1.products.create({"name": "Seats"})


def test_interval_counts_and_zero_and_three_decimal_currencies(client, product) -> None:
    q = client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 9000,
                                 "recurring": {"interval": "month", "interval_count": 3}})
    assert q.recurring.interval_count == 3 and q.type == "recurring"
    jpy = client.v1.prices.create({"product": product.id, "currency": "JPY",
                                   "unit_amount": 10000, "recurring": {"interval": "month"}})
    assert jpy.currency == "jpy" and jpy.unit_amount == 10000  # yen: no minor unit
    kwd = client.v1.prices.create({"product": product.id, "currency": "kwd",
                                   "unit_amount_decimal": "12345.5",
                                   "recurring": {"interval": "week"}})
    assert kwd.unit_amount is None and kwd.unit_amount_decimal == Decimal("12345.5")
    for interval in ("day", "week", "year"):
        p = client.v1.prices.create({"product": product.id, "currency": "eur",
                                     "unit_amount": 1, "recurring": {"interval": interval}})
        assert p.recurring.interval == interval
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 1,
                                 "recurring": {"interval": "month", "interval_count": 37}})


def test_tiers_only_returned_with_expand(client, product) -> None:
    tiers = [{"up_to": 10, "unit_amount": 500}, {"up_to": "inf", "unit_amount": 300,
                                                  "flat_amount": 1000}]
    for mode in ("volume", "graduated"):
        price = client.v1.prices.create({
            "product": product.id, "currency": "usd", "billing_scheme": "tiered",
            "tiers_mode": mode, "tiers": tiers, "recurring": {"interval": "month"},
        })  # fmt: skip
        assert price.billing_scheme == "tiered" and price.tiers_mode == mode
        assert "tiers" not in price and price.unit_amount is None
        listed = client.v1.prices.list({"product": product.id})
        assert all("tiers" not in p for p in listed.data)
        full = client.v1.prices.retrieve(price.id, {"expand": ["tiers"]})
        assert [t.up_to for t in full.tiers] == [10, None]
        assert full.tiers[1].flat_amount == 1000 and full.tiers[0].unit_amount_decimal == 500
    with pytest.raises(stripe.InvalidRequestError):  # the last tier must be inf
        client.v1.prices.create({
            "product": product.id, "currency": "usd", "billing_scheme": "tiered",
            "tiers_mode": "volume", "tiers": [{"up_to": 5, "unit_amount": 1}],
            "recurring": {"interval": "month"},
        })  # fmt: skip


def test_transform_quantity_and_metered_needs_a_meter(client, product) -> None:
    price = client.v1.prices.create({
        "product": product.id, "currency": "usd", "unit_amount": 1000,
        "transform_quantity": {"divide_by": 5, "round": "up"}, "recurring": {"interval": "month"},
    })  # fmt: skip
    assert price.transform_quantity.divide_by == 5 and price.transform_quantity.round == "up"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.prices.create({"product": product.id, "currency": "usd", "unit_amount": 1,
                                 "recurring": {"interval": "month", "usage_type": "metered"}})
    assert exc.value.param == "recurring[meter]"
    meter = client.v1.billing.meters.create({
        "display_name": "API calls", "event_name": "api_call",
        "default_aggregation": {"formula": "sum"},
    })  # fmt: skip
    metered = client.v1.prices.create({
        "product": product.id, "currency": "usd", "unit_amount": 1,
        "recurring": {"interval": "month", "usage_type": "metered", "meter": meter.id},
    })  # fmt: skip
    assert metered.recurring.usage_type == "metered" and metered.recurring.meter == meter.id


def test_invoice_amounts_follow_price_rules(make_customer, client, product) -> None:
    graduated = client.v1.prices.create({
        "product": product.id, "currency": "usd", "billing_scheme": "tiered",
        "tiers_mode": "graduated", "recurring": {"interval": "month"},
        "tiers": [{"up_to": 10, "unit_amount": 500},
                  {"up_to": "inf", "unit_amount": 300, "flat_amount": 1000}],
    })  # fmt: skip
    packs = client.v1.prices.create({
        "product": product.id, "currency": "usd", "unit_amount": 1000,
        "transform_quantity": {"divide_by": 5, "round": "up"}, "recurring": {"interval": "month"},
    })  # fmt: skip
    cases = [(graduated, 12, 10 * 500 + 2 * 300 + 1000), (packs, 11, 3 * 1000)]
    for price, qty, expected in cases:
        cus = make_customer()
        sub = client.v1.subscriptions.create({
            "customer": cus.id, "items": [{"price": price.id, "quantity": qty}],
            "expand": ["latest_invoice"],
        })  # fmt: skip
        assert sub.latest_invoice.amount_due == expected


def test_coupons_and_discounts(make_customer, client, monthly) -> None:
    forever = client.v1.coupons.create({"percent_off": 25, "duration": "forever"})
    off = client.v1.coupons.create({"amount_off": 500, "currency": "usd", "duration": "repeating",
                                    "duration_in_months": 3, "id": "FIVEOFF"})
    assert off.id == "FIVEOFF" and forever.percent_off == 25
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.coupons.create({"duration": "forever"})
    cus = make_customer()
    sub = client.v1.subscriptions.create({
        "customer": cus.id, "discounts": [{"coupon": forever.id}],
        "items": [{"price": monthly.id, "quantity": 2, "discounts": [{"coupon": "FIVEOFF"}]}],
        "expand": ["discounts", "items.data.discounts", "latest_invoice"],
    })  # fmt: skip
    assert sub.discounts[0].source.coupon == forever.id
    assert sub.discounts[0].id.startswith("di_")
    assert sub["items"].data[0].discounts[0].source.coupon == "FIVEOFF"
    # (2 x 2000 - 500) x 0.75
    assert sub.latest_invoice.amount_due == 2625
    plain = client.v1.subscriptions.retrieve(sub.id, {"expand": ["discounts.source.coupon"]})
    assert plain.discounts[0].source.coupon.percent_off == 25
    assert client.v1.coupons.retrieve(forever.id).times_redeemed == 1


def test_products_list_filters_by_ids_like_stripe(client) -> None:
    ids = [client.v1.products.create(params={"name": f"P{n}"}).id for n in range(4)]
    page = client.v1.products.list(params={"ids": [ids[0], ids[2]], "limit": 100})
    assert sorted(p.id for p in page.data) == sorted([ids[0], ids[2]])
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.products.list(params={"ids": [ids[0]], "starting_after": ids[1]})
    assert info.value.param == "ids"

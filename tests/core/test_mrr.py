"""MRR (DESIGN.md A5): every rule with a hand-computed expectation.

Amounts in the builders are minor units (cents unless the row says otherwise).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from sync.core.mrr import billed_quantity, customer_mrr, subscription_mrr, to_monthly
from tests.core.factories import customer, forever, item, price, sub, tiers

D = Decimal
# up_to 10 @ 10.00 ; 11-50 @ 8.00 + 5.00 flat ; 51+ @ 6.00 + 10.00 flat
TIERS = tiers((10, 1000, 0), (50, 800, 500), (None, 600, 1000))


def volume(**kw):
    return price(None, billing_scheme="tiered", tiers_mode="volume", tiers=TIERS, **kw)


def graduated(**kw):
    return price(None, billing_scheme="tiered", tiers_mode="graduated", tiers=TIERS, **kw)


def transformed(rnd: str):
    return price(5000, transform_divide_by=10, transform_round=rnd)


CASES = [
    # --- per unit -----------------------------------------------------------------------
    ("per-unit", sub(item(price(1000), 3)), "30.00"),  # 1000 x 3 = 3000c = 30.00
    # unit_amount_decimal 0.5c x 3 = 1.5c = 0.015 -> half-even -> 0.02
    ("fractional unit, tie rounds to even up", sub(item(price("0.5"), 3)), "0.02"),
    # 0.5c x 5 = 2.5c = 0.025 -> half-even -> 0.02 (half-up would say 0.03)
    ("fractional unit, tie rounds to even down", sub(item(price("0.5"), 5)), "0.02"),
    # --- transform_quantity ---------------------------------------------------------------
    ("transform round up", sub(item(transformed("up"), 25)), "150.00"),  # ceil(2.5)=3 x 5000
    ("transform round down", sub(item(transformed("down"), 25)), "100.00"),  # floor(2.5)=2
    ("transform exact", sub(item(transformed("up"), 20)), "100.00"),  # 20/10=2 x 5000
    # --- tiered volume: the tier holding the quantity, unit x qty + flat -------------------
    ("volume in tier 1 boundary", sub(item(volume(), 10)), "100.00"),  # 1000 x 10 + 0
    ("volume in tier 2", sub(item(volume(), 20)), "165.00"),  # 800 x 20 + 500 = 16500
    ("volume in last tier", sub(item(volume(), 51)), "316.00"),  # 600 x 51 + 1000 = 31600
    # --- tiered graduated: each tier's units + each reached tier's flat -------------------
    ("graduated tier 1 only", sub(item(graduated(), 10)), "100.00"),  # 10 x 1000, tier 2 unreached
    # 10 x 1000 + (10 x 800 + 500) = 10000 + 8500 = 18500
    ("graduated two tiers", sub(item(graduated(), 20)), "185.00"),
    # 10000 + (40 x 800 + 500) + (10 x 600 + 1000) = 10000 + 32500 + 7000 = 49500
    ("graduated three tiers", sub(item(graduated(), 60)), "495.00"),
    # base fee: first tier flat 2000 is charged at quantity 0; tier 2 is not reached
    (
        "graduated base fee at quantity 0",
        sub(
            item(
                price(
                    None,
                    billing_scheme="tiered",
                    tiers_mode="graduated",
                    tiers=tiers((5, 0, 2000), (None, 300, 700)),
                ),
                0,
            )
        ),
        "20.00",
    ),
    # --- metered excluded ---------------------------------------------------------------
    (
        "metered item excluded",  # only the licensed 2500
        sub(item(price(2500)), item(price(9999, name="API calls", usage_type="metered"))),
        "25.00",
    ),
    ("metered only", sub(item(price(9999, usage_type="metered"))), "0.00"),
    # --- normalise to a month ------------------------------------------------------------
    ("every 3 months", sub(item(price(30000, "month", 3))), "100.00"),  # 30000 / 3
    ("yearly", sub(item(price(120000, "year"))), "100.00"),  # 120000 / 12
    ("every 2 years", sub(item(price(240000, "year", 2))), "100.00"),  # 240000 / (12 x 2)
    ("weekly", sub(item(price(1000, "week"))), "43.33"),  # 1000 x 52/12 = 4333.33c
    ("every 2 weeks", sub(item(price(2000, "week", 2))), "43.33"),  # 2000 x 52/12 / 2
    ("daily", sub(item(price(100, "day"))), "30.42"),  # 100 x 365/12 = 3041.67c
    ("every 7 days", sub(item(price(700, "day", 7))), "30.42"),  # 700 x 365/12 / 7
    # --- discounts: only forever coupons ---------------------------------------------
    ("forever percent", sub(item(price(10000)), discounts=[forever("25")]), "75.00"),
    ("once ignored", sub(item(price(10000)), discounts=[forever("25", duration="once")]), "100.00"),
    (
        "repeating ignored",
        sub(item(price(10000)), discounts=[forever("25", duration="repeating")]),
        "100.00",
    ),
    # 10000 - 1500 = 8500
    ("forever amount off", sub(item(price(10000)), discounts=[forever(amount=1500)]), "85.00"),
    # yearly: (120000 - 12000) / 12 = 9000; i.e. 12000 off per year = 1000 a month
    (
        "amount off spread over a year",
        sub(item(price(120000, "year")), discounts=[forever(amount=12000)]),
        "90.00",
    ),
    # every 3 months: (30000 - 3000) / 3 = 9000
    (
        "amount off spread over 3 months",
        sub(item(price(30000, "month", 3)), discounts=[forever(amount=3000)]),
        "90.00",
    ),
    # item-level: A 1000 - 3000 -> 0 (clamped on the item), B 10000: total 10000.
    # Were it applied to the subscription total it would be 11000 - 3000 = 8000.
    (
        "item-level amount off applies to its item only",
        sub(
            item(price(1000, name="Addon"), discounts=[forever(amount=3000)]),
            item(price(10000, name="Base")),
        ),
        "100.00",
    ),
    # item-level 50% on A 10000 -> 5000; + B 10000 = 15000; subscription 10% -> 13500
    (
        "item then subscription discounts",
        sub(
            item(price(10000, name="A"), discounts=[forever("50")]),
            item(price(10000, name="B")),
            discounts=[forever("10")],
        ),
        "135.00",
    ),
    # in listed order: 10000 x 50% = 5000, then - 1000 = 4000 (reversed: 4500)
    (
        "discounts apply in order",
        sub(item(price(10000)), discounts=[forever("50"), forever(amount=1000, id="co_2")]),
        "40.00",
    ),
    ("never negative", sub(item(price(10000)), discounts=[forever(amount=20000)]), "0.00"),
    ("100 percent", sub(item(price(10000)), discounts=[forever("100")]), "0.00"),
    (
        "amount off in another currency does not apply",
        sub(item(price(10000)), discounts=[forever(amount=1500, currency="eur")]),
        "100.00",
    ),
    # --- statuses: active (even canceling) and past_due count -------------------------
    ("active scheduled to cancel counts", sub(cancel_at_period_end=True), "10.00"),
    ("past_due counts", sub(status="past_due"), "10.00"),
    ("trialing is zero", sub(status="trialing"), "0.00"),
    ("paused is zero", sub(status="paused"), "0.00"),
    ("incomplete is zero", sub(status="incomplete"), "0.00"),
    ("incomplete_expired is zero", sub(status="incomplete_expired"), "0.00"),
    ("unpaid is zero", sub(status="unpaid"), "0.00"),
    ("canceled is zero", sub(status="canceled"), "0.00"),
    # --- currencies -----------------------------------------------------------------
    ("JPY zero-decimal", sub(item(price(10000, currency="jpy"))), "10000.00"),  # not 100.00
    ("JPY yearly", sub(item(price(10000, "year", currency="jpy"))), "833.33"),  # 10000/12
    # 12345 fils = 12.345 BHD -> half-even -> 12.34
    ("BHD three-decimal tie", sub(item(price(12345, currency="bhd"))), "12.34"),
    ("KWD three-decimal", sub(item(price(10000, currency="kwd"), 3)), "30.00"),  # 30000/1000
    # 150 x 1000 = 150000 KRW: a zero-decimal amount is already major units
    ("KRW per seat", sub(item(price(1000, currency="krw"), 150)), "150000.00"),
]


@pytest.mark.parametrize(
    ("subscription", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_subscription_mrr(subscription, expected):
    result = subscription_mrr(subscription)
    assert result == D(expected)
    assert result.as_tuple().exponent == -2  # always two places, like Currency(16,2)


def test_transform_rounding_is_applied_before_multiplying():
    assert billed_quantity(item(transformed("up"), 1)) == 1  # 1/10 rounds up to a whole pack
    assert billed_quantity(item(transformed("down"), 9)) == 0


def test_transform_without_round_mode_is_rejected():
    with pytest.raises(ValueError, match="round"):
        billed_quantity(item(price(5000, transform_divide_by=10), 5))


def test_monthly_normalisation_keeps_precision_before_rounding():
    # 1 cent a day: 365/12 = 30.41666... exactly to 40+ digits, not 30.4166 x something
    assert to_monthly(D(1), "day").quantize(D("1e-20")) == D("30.41666666666666666667")
    with pytest.raises(ValueError):
        to_monthly(D(1), "fortnight")


class TestCustomerRollup:
    def test_sum_of_counted_subscriptions(self):
        c = customer(
            sub(item(price(10000)), id="sub_a"),  # 100.00
            sub(item(price(5000)), id="sub_b", status="past_due"),  # 50.00
            sub(item(price(99900)), id="sub_c", status="trialing"),  # 0
        )
        result = customer_mrr(c)
        assert (result.amount, result.currency) == (D("150.00"), "USD")
        assert result.by_subscription == {
            "sub_a": D("100.00"),
            "sub_b": D("50.00"),
            "sub_c": D("0.00"),
        }
        assert not result.mixed_currency

    def test_account_mrr_is_the_sum_of_the_rounded_subscription_mrrs(self):
        # each: 0.5c = 0.005 -> 0.00; the Account shows what its related list adds up to
        c = customer(sub(item(price("0.5")), id="sub_a"), sub(item(price("0.5")), id="sub_b"))
        assert customer_mrr(c).amount == D("0.00")

    def test_mixed_currencies_leave_mrr_empty_and_flag(self):
        c = customer(
            sub(item(price(1000, currency="usd")), id="sub_usd"),
            sub(item(price(1000, currency="eur")), id="sub_eur", status="trialing"),
        )
        result = customer_mrr(c)
        assert result.amount is None and result.currency is None
        assert result.mixed_currency and result.currencies == ("EUR", "USD")
        # each subscription still has its own MRR for its Subscription__c record
        assert result.by_subscription["sub_usd"] == D("10.00")

    def test_ended_subscription_in_another_currency_is_not_mixed(self):
        c = customer(
            sub(item(price(1000, currency="jpy")), id="sub_jpy"),
            sub(item(price(1000, currency="usd")), id="sub_old", status="canceled"),
        )
        result = customer_mrr(c)
        assert (result.amount, result.currency, result.mixed_currency) == (
            D("1000.00"),
            "JPY",
            False,
        )

    def test_deleted_and_absent_customers_are_zero(self):
        assert customer_mrr(customer(sub(), deleted=True)).amount == D("0.00")
        assert customer_mrr(None).amount == D("0.00")
        empty = customer_mrr(customer())
        assert (empty.amount, empty.currency) == (D("0.00"), None)

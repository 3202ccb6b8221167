"""Chargebee -> neutral values, pure: the status table, the MRR table (each expectation worked
out by hand in the comment beside it) and the error table."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import chargebee
import httpx
import pytest

from metadata.schema import Category
from sync.chargebee_io import errors
from sync.chargebee_io.convert import Catalog, Unsupported, subscription
from sync.core import account_status, subscription_mrr
from sync.core.status import UnknownStatus
from sync.errors import RetryLater, SkipRecord, StopCycle
from sync.model import Customer

END = 1_796_256_000
TIERS = [{"starting_unit": 1, "ending_unit": 10, "price": 1000},
         {"starting_unit": 11, "price": 800}]  # fmt: skip
CATALOG = Catalog(
    prices={
        "pu": {"id": "pu", "item_id": "team", "pricing_model": "per_unit", "period_unit": "month",
               "period": 1},
        "flat-year": {"id": "flat-year", "item_id": "team", "pricing_model": "flat_fee",
                      "period_unit": "year", "period": 1},
        "week": {"id": "week", "item_id": "team", "pricing_model": "per_unit",
                 "period_unit": "week", "period": 1},
        "quarter": {"id": "quarter", "item_id": "team", "pricing_model": "flat_fee",
                    "period_unit": "month", "period": 3},
        "tiered": {"id": "tiered", "item_id": "team", "pricing_model": "tiered", "tiers": TIERS,
                   "period_unit": "month", "period": 1},
        "volume": {"id": "volume", "item_id": "team", "pricing_model": "volume", "tiers": TIERS,
                   "period_unit": "month", "period": 1},
        "stairstep": {"id": "stairstep", "item_id": "team", "pricing_model": "stairstep",
                      "period_unit": "month", "period": 1,
                      "tiers": [{"starting_unit": 1, "ending_unit": 10, "price": 1000},
                                {"starting_unit": 11, "price": 8000}]},
        "package": {"id": "package", "item_id": "team", "pricing_model": "tiered",
                    "period_unit": "month", "period": 1,
                    "tiers": [{"starting_unit": 1, "price": 100, "pricing_type": "package",
                               "package_size": 10}]},
        "setup": {"id": "setup", "item_id": "setup", "pricing_model": "flat_fee"},
    },
    items={"team": {"id": "team", "name": "Team"}, "setup": {"id": "setup", "name": "Setup"}},
    coupons={
        "PCT10": {"id": "PCT10", "discount_type": "percentage", "discount_percentage": 10.0,
                  "duration_type": "forever"},
        "PCT50ONCE": {"id": "PCT50ONCE", "discount_type": "percentage",
                      "discount_percentage": 50.0, "duration_type": "one_time"},
        "FIVE": {"id": "FIVE", "discount_type": "fixed_amount", "discount_amount": 500,
                 "currency_code": "USD", "duration_type": "forever"},
        "FIVELIMITED": {"id": "FIVELIMITED", "discount_type": "fixed_amount",
                        "discount_amount": 500, "currency_code": "USD",
                        "duration_type": "limited_period"},
    },
)  # fmt: skip


def raw(*lines: dict[str, Any], status: str = "active", currency: str = "USD",
        **extra: Any) -> dict[str, Any]:  # fmt: skip
    return {"id": "sub1", "customer_id": "cus1", "status": status, "currency_code": currency,
            "current_term_start": END - 30 * 86_400, "current_term_end": END,
            "subscription_items": list(lines) or [line("pu", 1, 2000)], **extra}  # fmt: skip


def line(price: str, quantity: int | None = 1, unit: int | None = None, **extra: Any) -> dict:
    out: dict[str, Any] = {"item_price_id": price, "item_type": extra.pop("item_type", "plan")}
    if quantity is not None:
        out["quantity"] = quantity
    if unit is not None:
        out["unit_price"] = unit
    return {**out, **extra}


STATUS_TABLE = [
    # (status, extra fields, neutral state, Account status)
    ("future", {"start_date": END}, "not_started", "No Subscription"),
    ("in_trial", {"trial_end": END}, "trialing", "Trialing"),
    ("active", {}, "active", "Active"),
    ("active", {"due_invoices_count": 2, "due_since": END}, "past_due", "Past Due"),
    ("non_renewing", {"cancelled_at": END}, "active", "Canceling"),
    ("non_renewing", {"due_invoices_count": 1}, "past_due", "Past Due"),
    ("paused", {}, "paused", "Paused"),
    ("cancelled", {"cancelled_at": END}, "ended", "Churned"),
    ("transferred", {}, "ended", "Churned"),
    ("active", {"deleted": True}, "ended", "Churned"),
]


@pytest.mark.parametrize(("status", "extra", "state", "account"), STATUS_TABLE)
def test_status_table(status: str, extra: dict, state: str, account: str) -> None:
    sub = subscription(raw(status=status, **extra), CATALOG)
    assert (sub.status, sub.state) == (status, state)
    assert account_status(Customer("cus1", subscriptions=(sub,))) == account
    if status == "non_renewing":
        assert sub.cancel_at is not None
    if state == "ended" and "cancelled_at" in extra:
        assert sub.ended_at is not None


def test_deleted_customer_is_churned_and_unknown_status_is_refused() -> None:
    assert account_status(Customer("cus1", deleted=True)) == "Churned"
    with pytest.raises(UnknownStatus):
        account_status(Customer("cus1", subscriptions=(subscription(raw(status="odd"),
                                                                    CATALOG),)))


MRR_TABLE = [
    # per-unit: 3 x 20.00
    ("per unit", raw(line("pu", 3, 2000)), "60.00"),
    # *_in_decimal is MAJOR units: 19.995 x 2 = 39.99 (3999 cents, exactly)
    ("decimal price", raw(line("pu", 2, None, unit_price_in_decimal="19.995")), "39.99"),
    # JPY has no minor unit: 5000 is 5000 yen
    ("zero-decimal", raw(line("pu", 1, 5000), currency="JPY"), "5000.00"),
    # the one-off charge line is not MRR: 20.00 only
    ("charge excluded", raw(line("pu", 1, 2000), line("setup", None, 9900, item_type="charge")),
     "20.00"),
    # tiered = graduated: 10 x 10.00 + 2 x 8.00 = 116.00
    ("tiered", raw(line("tiered", 12)), "116.00"),
    # volume: all 12 at the tier holding 12: 12 x 8.00 = 96.00
    ("volume", raw(line("volume", 12)), "96.00"),
    # stairstep: the tier holding 12 costs 80.00, once (not 12 x 80.00)
    ("stairstep", raw(line("stairstep", 12)), "80.00"),
    # the subscription's item_tiers override the price's: 12 x 5.00 = 60.00
    ("tier override", raw(line("volume", 12), item_tiers=[
        {"item_price_id": "volume", "starting_unit": 1, "price": 500}]), "60.00"),
    # yearly 1,200.00 / 12 = 100.00
    ("year", raw(line("flat-year", None, 120000)), "100.00"),
    # weekly 10.00 x 52 / 12 = 43.333… -> 43.33
    ("week", raw(line("week", 1, 1000)), "43.33"),
    # every 3 months 90.00 / 3 = 30.00
    ("3 months", raw(line("quarter", None, 9000)), "30.00"),
    # forever 10% coupon: 20.00 x 0.9 = 18.00
    ("forever %", raw(coupons=[{"coupon_id": "PCT10"}]), "18.00"),
    # forever 5.00 off a monthly invoice: 20.00 - 5.00 = 15.00
    ("forever amount", raw(coupons=[{"coupon_id": "FIVE"}]), "15.00"),
    # one_time and limited_period coupons do not count
    ("one time", raw(coupons=[{"coupon_id": "PCT50ONCE"}]), "20.00"),
    ("limited", raw(coupons=[{"coupon_id": "FIVELIMITED"}]), "20.00"),
    # a manual forever discount of 25%: 20.00 x 0.75 = 15.00
    ("manual discount", raw(discounts=[{"id": "d1", "type": "percentage", "percentage": 25.0,
                                        "duration_type": "forever",
                                        "apply_on": "invoice_amount"}]), "15.00"),
    # non_renewing counts until it ends; past due counts
    ("non_renewing", raw(status="non_renewing"), "20.00"),
    ("past due", raw(due_invoices_count=1), "20.00"),
    # trial, pause, not started, ended: nothing committed this month
    ("in_trial", raw(status="in_trial"), "0.00"),
    ("paused", raw(status="paused"), "0.00"),
    ("future", raw(status="future"), "0.00"),
    ("cancelled", raw(status="cancelled"), "0.00"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "sub", "mrr"), MRR_TABLE, ids=[r[0] for r in MRR_TABLE])
def test_mrr_table(name: str, sub: dict, mrr: str) -> None:
    assert subscription_mrr(subscription(sub, CATALOG)) == Decimal(mrr)


def test_names_intervals_and_what_is_refused() -> None:
    sub = subscription(raw(line("quarter", None, 9000)), CATALOG)
    assert sub.items[0].price.product_name == "Team"
    assert (sub.items[0].price.interval, sub.items[0].price.interval_count) == ("month", 3)
    with pytest.raises(Unsupported, match="package"):
        subscription(raw(line("package", 5)), CATALOG)
    with pytest.raises(Unsupported, match="fractional"):
        subscription(raw(line("pu", 1, 100, quantity_in_decimal="1.5")), CATALOG)
    with pytest.raises(Unsupported, match=r"Product Catalog 1\.0"):
        subscription({"id": "s", "plan_id": "basic", "status": "active"}, CATALOG)
    # A price gone from the catalog is valued from the subscription's own line.
    gone = subscription(raw(line("deleted-price", 2, 700)), CATALOG)
    assert subscription_mrr(gone) == Decimal("14.00")


def _api(cls: type, status: int, code: str, **headers: str) -> Exception:
    body = {"message": f"{code} happened", "api_error_code": code}
    exc: Exception = cls(status, body, headers or None)
    return exc


ERROR_TABLE = [
    (_api(chargebee.APIError, 429, "api_request_limit_exceeded", **{"Retry-After": "7"}),
     RetryLater, Category.CHARGEBEE, "api_request_limit_exceeded"),
    (_api(chargebee.APIError, 401, "api_authentication_failed"), StopCycle,
     Category.CONFIGURATION, "api_authentication_failed"),
    (_api(chargebee.APIError, 403, "api_authorization_failed"), StopCycle,
     Category.CONFIGURATION, "api_authorization_failed"),
    (_api(chargebee.APIError, 404, "site_not_found"), StopCycle, Category.CONFIGURATION,
     "site_not_found"),
    (_api(chargebee.InvalidRequestError, 400, "configuration_incompatible"), StopCycle,
     Category.CONFIGURATION, "configuration_incompatible"),
    (_api(chargebee.APIError, 503, "site_not_ready"), RetryLater, Category.CHARGEBEE,
     "site_not_ready"),
    (_api(chargebee.InvalidRequestError, 404, "resource_not_found"), SkipRecord,
     Category.CHARGEBEE, "resource_not_found"),
    (_api(chargebee.InvalidRequestError, 400, "param_wrong_value"), SkipRecord,
     Category.CHARGEBEE, "param_wrong_value"),
    (_api(chargebee.PaymentError, 402, "payment_processing_failed"), SkipRecord,
     Category.CHARGEBEE, "payment_processing_failed"),
    (_api(chargebee.OperationFailedError, 400, "request_blocked"), RetryLater,
     Category.CHARGEBEE, "request_blocked"),
    (_api(chargebee.APIError, 500, "internal_error"), RetryLater, Category.CHARGEBEE,
     "internal_error"),
    (_api(chargebee.APIError, 503, "internal_temporary_error"), RetryLater, Category.CHARGEBEE,
     "internal_temporary_error"),
    (httpx.ConnectError("refused"), RetryLater, Category.CHARGEBEE, "ConnectError"),
    (httpx.ReadTimeout("slow"), RetryLater, Category.CHARGEBEE, "ReadTimeout"),
    (Exception("The api_error_code is not present. Probably not a chargebee error."),
     RetryLater, Category.CHARGEBEE, "UNEXPECTED_RESPONSE"),
    (KeyError("list"), RetryLater, Category.CHARGEBEE, "UNEXPECTED_RESPONSE"),
]  # fmt: skip


@pytest.mark.parametrize(("exc", "action", "category", "code"), ERROR_TABLE,
                         ids=[r[3] for r in ERROR_TABLE])  # fmt: skip
def test_error_table(exc: Exception, action: type, category: Category, code: str) -> None:
    def boom() -> None:
        raise exc

    with pytest.raises(action) as caught:
        errors.call(boom)
    failure = caught.value
    assert type(failure) is action
    assert (failure.category, failure.code) == (category, code)
    assert failure.message[0].isupper()
    if code == "api_request_limit_exceeded":
        assert failure.retry_after == 7.0 and failure.http_status == 429


def test_our_own_failures_pass_through() -> None:
    mine = StopCycle("stop", category=Category.CONFIGURATION)
    assert errors.translate(mine) is mine

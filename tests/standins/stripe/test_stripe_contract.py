"""Contract: every object the stand-in returns has the fields stripe-python 16 declares as
always present, and the same keys as Stripe's published example object for that resource."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

import pytest
import requests
import stripe
from stripe import test_helpers

T0 = 1_793_577_600
FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "stripe" / "fixtures3.json"

CLASSES = {
    "customer": stripe.Customer, "product": stripe.Product, "price": stripe.Price,
    "coupon": stripe.Coupon, "discount": stripe.Discount, "subscription": stripe.Subscription,
    "subscription_item": stripe.SubscriptionItem, "invoice": stripe.Invoice,
    "event": stripe.Event, "test_helpers.test_clock": test_helpers.TestClock,
    "payment_method": stripe.PaymentMethod,
}  # fmt: skip

# Keys that knowingly differ from Stripe's example objects, and why.
ALLOWED_EXTRA = {
    # Newer than the example object; stripe-python 16 declares it on Customer.
    "customer": {"customer_account"},
}
ALLOWED_MISSING = {
    # Removed in 2025-03-31.basil (the link is parent.subscription_details.subscription);
    # the example object still carries it, stripe-python 16 no longer declares it.
    "invoice": {"subscription"},
}


def required_fields(cls: type) -> set[str]:
    hints: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        hints.update(getattr(klass, "__annotations__", {}))
    out = set()
    for name, hint in hints.items():
        text = str(hint)
        if name.startswith("_") or "ClassVar" in text or "Optional" in text:
            continue
        if isinstance(hint, str) and typing.get_origin(hint) is None and "None" in hint:
            continue
        out.add(name)
    return out


@pytest.fixture(scope="module")
def objects() -> dict[str, dict[str, Any]]:
    from standins.stripe import StripeStandIn

    with StripeStandIn(api_key="sk_test_fake_contract") as standin:
        standin.set_time(T0)
        c = stripe.StripeClient(standin.api_key, base_addresses={"api": standin.base_url})
        prod = c.v1.products.create({"name": "p"})
        price = c.v1.prices.create({"product": prod.id, "currency": "usd", "unit_amount": 5,
                                    "recurring": {"interval": "month"}})
        coupon = c.v1.coupons.create({"percent_off": 10, "duration": "forever"})
        clock = c.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        cus = c.v1.customers.create({
            "payment_method": "pm_card_visa",
            "invoice_settings": {"default_payment_method": "pm_card_visa"},
        })  # fmt: skip
        sub = c.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}],
                                         "discounts": [{"coupon": coupon.id}]})
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {standin.api_key}"

        def get(path: str) -> dict[str, Any]:
            r = session.get(standin.base_url + path, timeout=5)
            assert r.status_code == 200, r.text
            return r.json()

        out = {
            "customer": get(f"/v1/customers/{cus.id}"),
            "product": get(f"/v1/products/{prod.id}"),
            "price": get(f"/v1/prices/{price.id}"),
            "coupon": get(f"/v1/coupons/{coupon.id}"),
            "subscription": get(f"/v1/subscriptions/{sub.id}"),
            "invoice": get(f"/v1/invoices/{sub.latest_invoice}"),
            "event": get("/v1/events")["data"][0],
            "test_helpers.test_clock": get(f"/v1/test_helpers/test_clocks/{clock.id}"),
            "payment_method": get(
                f"/v1/payment_methods/{cus.invoice_settings.default_payment_method}"),
            "discount": get(f"/v1/subscriptions/{sub.id}?expand[0]=discounts")["discounts"][0],
        }
        out["subscription_item"] = out["subscription"]["items"]["data"][0]
        c.v1.customers.delete(cus.id)
        out["deleted_customer"] = get(f"/v1/customers/{cus.id}")
        return out


@pytest.mark.parametrize("kind", sorted(CLASSES))
def test_every_declared_non_optional_field_is_present(objects, kind: str) -> None:
    obj = objects[kind]
    required = required_fields(CLASSES[kind])
    assert {"id", "object"} <= required  # the annotation reader found the declarations
    missing = required - set(obj)
    assert not missing, f"{kind} lacks fields stripe-python declares: {sorted(missing)}"
    assert obj["object"] == kind
    if "livemode" in obj:
        assert obj["livemode"] is False


@pytest.mark.parametrize("kind", [*sorted(CLASSES), "deleted_customer"])
def test_same_keys_as_stripes_example_object(objects, kind: str) -> None:
    if not FIXTURES.exists():
        pytest.skip(f"Stripe's example objects are not available at {FIXTURES}")
    example = json.loads(FIXTURES.read_text())["resources"][kind]
    ours = set(objects[kind])
    extra = ours - set(example) - ALLOWED_EXTRA.get(kind, set())
    missing = set(example) - ours - ALLOWED_MISSING.get(kind, set())
    assert not extra and not missing, f"{kind}: extra {sorted(extra)}, missing {sorted(missing)}"


def test_allow_lists_are_still_needed(objects) -> None:
    """An allow-list entry that no longer matches a difference must be removed."""
    if not FIXTURES.exists():
        pytest.skip(f"Stripe's example objects are not available at {FIXTURES}")
    resources = json.loads(FIXTURES.read_text())["resources"]
    for kind, keys in ALLOWED_EXTRA.items():
        assert keys <= set(objects[kind]) - set(resources[kind])
    for kind, keys in ALLOWED_MISSING.items():
        assert keys <= set(resources[kind]) - set(objects[kind])

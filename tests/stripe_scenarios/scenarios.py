"""One function per scenario: ``run(client, checkpoint)``; ``checkpoint(label, customer_ids)``
marks each point where a sync should happen."""

from __future__ import annotations

from collections.abc import Callable

import stripe

from .common import Checkpoint, advance, customer, new_clock, plan

__all__ = ["SCENARIOS"]

HOUR = 3600


def _item(sub: stripe.Subscription) -> stripe.SubscriptionItem:
    return sub["items"].data[0]


def new_customer(client: stripe.StripeClient, checkpoint: Checkpoint) -> None:
    price = plan(client, "new_customer", "Starter monthly", 1900)
    cus = customer(client, "new_customer")
    checkpoint("customer created", [cus.id])
    client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}]})
    checkpoint("subscribed", [cus.id])


def upgrade_plan(client: stripe.StripeClient, checkpoint: Checkpoint) -> None:
    basic = plan(client, "upgrade_plan", "Basic monthly", 1000)
    pro = plan(client, "upgrade_plan", "Pro monthly", 5000)
    cus = customer(client, "upgrade_plan")
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": basic.id}]})
    checkpoint("on basic", [cus.id])
    client.v1.subscriptions.update(sub.id, {"items": [{"id": _item(sub).id, "price": pro.id}]})
    checkpoint("upgraded to pro", [cus.id])


def failed_payment(client: stripe.StripeClient, checkpoint: Checkpoint) -> None:
    price = plan(client, "failed_payment", "Team monthly", 4900)
    clock = new_clock(client, "failed_payment")
    cus = customer(client, "failed_payment", clock.id)
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}]})
    checkpoint("active", [cus.id])
    failing = client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                               {"customer": cus.id})  # fmt: skip
    client.v1.customers.update(cus.id, {"invoice_settings": {"default_payment_method": failing.id}})
    advance(client, clock.id, _item(sub).current_period_end + HOUR)
    checkpoint("renewal failed: past due", [cus.id])


def cancel(client: stripe.StripeClient, checkpoint: Checkpoint) -> None:
    price = plan(client, "cancel", "Basic monthly", 1200)
    cus = customer(client, "cancel")
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}]})
    client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    checkpoint("scheduled to cancel", [cus.id])
    client.v1.subscriptions.cancel(sub.id)
    checkpoint("canceled", [cus.id])


def resubscribe(client: stripe.StripeClient, checkpoint: Checkpoint) -> None:
    price = plan(client, "resubscribe", "Basic monthly", 1500)
    cus = customer(client, "resubscribe")
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}]})
    client.v1.subscriptions.cancel(sub.id)
    checkpoint("churned", [cus.id])
    client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}]})
    checkpoint("resubscribed", [cus.id])


def trial_to_active(client: stripe.StripeClient, checkpoint: Checkpoint) -> None:
    price = plan(client, "trial_to_active", "Pro monthly", 3000)
    clock = new_clock(client, "trial_to_active")
    cus = customer(client, "trial_to_active", clock.id)
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}],
                                          "trial_period_days": 7})  # fmt: skip
    checkpoint("trialing", [cus.id])
    advance(client, clock.id, sub.trial_end + HOUR)
    checkpoint("trial ended: active", [cus.id])


def annual_plan(client: stripe.StripeClient, checkpoint: Checkpoint) -> None:
    price = plan(client, "annual_plan", "Business yearly", 120000, interval="year")
    cus = customer(client, "annual_plan")
    client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}]})
    checkpoint("annual subscription", [cus.id])


def multiple_items(client: stripe.StripeClient, checkpoint: Checkpoint) -> None:
    seats = plan(client, "multiple_items", "Seats monthly", 800)
    storage = plan(client, "multiple_items", "Storage monthly", 200)
    cus = customer(client, "multiple_items")
    client.v1.subscriptions.create({"customer": cus.id, "items": [
        {"price": seats.id, "quantity": 3}, {"price": storage.id, "quantity": 5},
    ]})  # fmt: skip
    checkpoint("two items with quantities", [cus.id])


def forever_coupon(client: stripe.StripeClient, checkpoint: Checkpoint) -> None:
    price = plan(client, "forever_coupon", "Pro monthly", 5000)
    coupon = client.v1.coupons.create({"percent_off": 20, "duration": "forever",
                                       "name": "billing-sync forever_coupon 20%"})  # fmt: skip
    cus = customer(client, "forever_coupon")
    client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}],
                                    "discounts": [{"coupon": coupon.id}]})  # fmt: skip
    checkpoint("discounted forever", [cus.id])


def jpy_customer(client: stripe.StripeClient, checkpoint: Checkpoint) -> None:
    price = plan(client, "jpy_customer", "Pro monthly (JPY)", 10000, currency="jpy")
    cus = customer(client, "jpy_customer")
    client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}]})
    checkpoint("yen subscription", [cus.id])


def deleted_customer(client: stripe.StripeClient, checkpoint: Checkpoint) -> None:
    price = plan(client, "deleted_customer", "Basic monthly", 900)
    cus = customer(client, "deleted_customer")
    client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}]})
    checkpoint("active", [cus.id])
    client.v1.customers.delete(cus.id)
    checkpoint("customer deleted", [cus.id])


SCENARIOS: dict[str, Callable[[stripe.StripeClient, Checkpoint], None]] = {
    f.__name__: f
    for f in (new_customer, upgrade_plan, failed_payment, cancel, resubscribe, trial_to_active,
              annual_plan, multiple_items, forever_coupon, jpy_customer, deleted_customer)
}  # fmt: skip

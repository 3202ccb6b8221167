"""One function per scenario: ``run(client, checkpoint)``; ``checkpoint(label, customer_ids)``
marks each point where a sync should happen. Amounts are in the currency's minor unit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .common import DAY, HOUR, Checkpoint, Shop, customer, travel

__all__ = ["SCENARIOS"]


def _subscribe(client: Any, cid: str, *items: tuple[str, int | None], **params: Any) -> Any:
    rows = [{"item_price_id": p, **({"quantity": q} if q else {})} for p, q in items]
    return client.Subscription.create_with_items(cid, {"subscription_items": rows, **params})


def new_customer(client: Any, checkpoint: Checkpoint) -> None:
    cus = customer(client, "new_customer")
    checkpoint("customer created", [cus.id])
    starter = Shop(client, "new_customer", cus.id).price("Starter", price=1900)
    _subscribe(client, cus.id, (starter, None))
    checkpoint("subscribed", [cus.id])


def upgrade_items(client: Any, checkpoint: Checkpoint) -> None:
    cus = customer(client, "upgrade_items")
    shop = Shop(client, "upgrade_items", cus.id)
    basic, pro = shop.price("Basic", price=1000), shop.price("Pro", price=5000)
    sub = _subscribe(client, cus.id, (basic, None)).subscription
    checkpoint("on basic", [cus.id])
    # A plan item price given to update_for_items replaces the subscription's plan.
    client.Subscription.update_for_items(sub.id, {"subscription_items": [{"item_price_id": pro}]})
    checkpoint("upgraded to pro", [cus.id])


def failed_payment(client: Any, checkpoint: Checkpoint) -> None:
    # Offline collection: invoices wait for a payment recorded by hand, so a failed payment
    # is a public call on any test site, with no gateway trick.
    cus = customer(client, "failed_payment", card=False, auto_collection="off")
    team = Shop(client, "failed_payment", cus.id).price("Team", price=4900)
    made = _subscribe(client, cus.id, (team, None))
    checkpoint("first invoice due", [cus.id])
    client.Invoice.record_payment(made.invoice.id, {"transaction": {
        "payment_method": "bank_transfer", "status": "failure", "amount": 4900,
        "error_text": "billing-sync scenario: the transfer bounced"}})  # fmt: skip
    checkpoint("payment failed: past due", [cus.id])
    travel(client, made.subscription.current_term_end + HOUR)
    checkpoint("renewed unpaid: two invoices due", [cus.id])
    due = client.Invoice.list({"subscription_id": {"is": made.subscription.id},
                               "status": {"is": "payment_due"}})  # fmt: skip
    for entry in due.list:
        client.Invoice.record_payment(entry.invoice.id, {"transaction": {
            "payment_method": "bank_transfer", "status": "success"}})  # fmt: skip
    checkpoint("paid up", [cus.id])


def cancel(client: Any, checkpoint: Checkpoint) -> None:
    cus = customer(client, "cancel")
    basic = Shop(client, "cancel", cus.id).price("Basic", price=1200)
    sub = _subscribe(client, cus.id, (basic, None)).subscription
    checkpoint("active", [cus.id])
    client.Subscription.cancel_for_items(sub.id, {"cancel_option": "immediately"})
    checkpoint("cancelled", [cus.id])


def resubscribe(client: Any, checkpoint: Checkpoint) -> None:
    cus = customer(client, "resubscribe")
    basic = Shop(client, "resubscribe", cus.id).price("Basic", price=1500)
    sub = _subscribe(client, cus.id, (basic, None)).subscription
    client.Subscription.cancel_for_items(sub.id, {"cancel_option": "immediately"})
    checkpoint("churned", [cus.id])
    _subscribe(client, cus.id, (basic, None))
    checkpoint("resubscribed", [cus.id])


def non_renewing(client: Any, checkpoint: Checkpoint) -> None:
    cus = customer(client, "non_renewing")
    basic = Shop(client, "non_renewing", cus.id).price("Basic", price=2000)
    sub = _subscribe(client, cus.id, (basic, None)).subscription
    client.Subscription.cancel_for_items(sub.id, {"cancel_option": "end_of_term"})
    checkpoint("cancels at term end", [cus.id])
    travel(client, sub.current_term_end + HOUR)
    checkpoint("term over: cancelled", [cus.id])


def in_trial(client: Any, checkpoint: Checkpoint) -> None:
    cus = customer(client, "in_trial")
    pro = Shop(client, "in_trial", cus.id).price("Pro", price=3000)
    sub = _subscribe(client, cus.id, (pro, None), trial_end=cus.created_at + 7 * DAY)
    checkpoint("in trial", [cus.id])
    travel(client, sub.subscription.trial_end + HOUR)
    checkpoint("trial over: active", [cus.id])


def addon_tiered(client: Any, checkpoint: Checkpoint) -> None:
    cus = customer(client, "addon_tiered")
    shop = Shop(client, "addon_tiered", cus.id)
    seats = shop.price("Seats", pricing_model="tiered", tiers=[
        {"starting_unit": 1, "ending_unit": 10, "price": 500},
        {"starting_unit": 11, "price": 400},
    ])  # fmt: skip
    storage = shop.price("Storage", item_type="addon", pricing_model="per_unit", price=300)
    _subscribe(client, cus.id, (seats, 15), (storage, 4))
    checkpoint("tiered plan and addon", [cus.id])


def forever_coupon(client: Any, checkpoint: Checkpoint) -> None:
    cus = customer(client, "forever_coupon")
    shop = Shop(client, "forever_coupon", cus.id)
    pro = shop.price("Pro", price=5000)
    coupon = client.Coupon.create_for_items({
        "id": f"{shop.tag}-20off", "name": f"20% forever ({shop.tag})",
        "discount_type": "percentage", "discount_percentage": 20, "duration_type": "forever",
        "apply_on": "invoice_amount",
    }).coupon  # fmt: skip
    _subscribe(client, cus.id, (pro, None), coupon_ids=[coupon.id])
    checkpoint("discounted forever", [cus.id])


def jpy_customer(client: Any, checkpoint: Checkpoint) -> None:
    # The site must have JPY enabled (multi-currency).
    cus = customer(client, "jpy_customer", preferred_currency_code="JPY")
    pro = Shop(client, "jpy_customer", cus.id).price("Pro", price=10000, currency_code="JPY")
    _subscribe(client, cus.id, (pro, None))
    checkpoint("yen subscription", [cus.id])


SCENARIOS: dict[str, Callable[[Any, Checkpoint], None]] = {
    f.__name__: f
    for f in (new_customer, upgrade_items, failed_payment, cancel, resubscribe, non_renewing,
              in_trial, addon_tiered, forever_coupon, jpy_customer)
}  # fmt: skip

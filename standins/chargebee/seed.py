"""Bulk data for benchmarks: thousands of customers with subscriptions, straight into the store.

No HTTP and no events: this stands for a site that already existed before the sync ran. Terms
are rolled forward from a start in the past so ``current_term_end`` lies after ``now``.
"""

from __future__ import annotations

import random
from typing import Any

from .clock import term_boundary
from .pricing import item_amount, mrr
from .store import Store

__all__ = ["seed_bulk"]

# (item price id, currency, period_unit, price)
PLANS = (
    ("seed-team-usd-monthly", "USD", "month", 2900), ("seed-pro-usd-monthly", "USD", "month", 9900),
    ("seed-pro-usd-yearly", "USD", "year", 99000), ("seed-team-eur-monthly", "EUR", "month", 4900),
    ("seed-team-jpy-monthly", "JPY", "month", 5000), ("seed-pro-gbp-yearly", "GBP", "year", 49000),
)  # fmt: skip
STATUSES = (("active", 80), ("in_trial", 5), ("non_renewing", 4), ("paused", 2),
            ("cancelled", 7), ("future", 2))  # fmt: skip
YEAR = 365 * 86_400


def _catalog(store: Store, now: int) -> list[dict[str, Any]]:
    if "seed-plans" not in store.data["item_family"]:
        store.put("item_family", {"id": "seed-plans", "name": "Seed plans", "status": "active",
                                  "object": "item_family"}, now)  # fmt: skip
    prices = []
    for pid, currency, unit, price in PLANS:
        item_id = pid.rsplit("-", 2)[0]
        if item_id not in store.data["item"]:
            store.put("item", {"id": item_id, "name": item_id, "external_name": item_id,
                               "status": "active", "item_family_id": "seed-plans",
                               "type": "plan", "is_shippable": False, "is_giftable": False,
                               "enabled_for_checkout": True, "enabled_in_portal": True,
                               "item_applicability": "all", "metered": False, "channel": "web",
                               "deleted": False, "object": "item"}, now)  # fmt: skip
        rec = store.data["item_price"].get(pid) or store.put("item_price", {
            "id": pid, "name": pid, "item_family_id": "seed-plans", "item_id": item_id,
            "status": "active", "external_name": pid, "pricing_model": "per_unit",
            "price": price, "period": 1, "currency_code": currency, "period_unit": unit,
            "free_quantity": 0, "channel": "web", "created_at": now, "is_taxable": True,
            "item_type": "plan", "show_description_in_invoices": False,
            "show_description_in_quotes": False, "deleted": False, "object": "item_price",
        }, now)  # fmt: skip
        prices.append(rec)
    return prices


def seed_bulk(store: Store, now: int, customers: int, seed: int = 1) -> list[str]:
    """``customers`` customers, each with one subscription; returns the customer ids."""
    rng = random.Random(seed)
    prices = _catalog(store, now)
    statuses = [s for s, w in STATUSES for _ in range(w)]
    ids = []
    step = max(1, YEAR // max(1, customers))
    coupons = store.data["coupon"]
    for n in range(customers):
        t = now - YEAR + n * step
        cid = f"seed-cus-{n + 1:06d}"
        store.put("customer", {
            "id": cid, "first_name": "Seed", "last_name": f"Customer {n + 1}",
            "email": f"seed{n + 1}@example.com", "company": f"Seed Co {n + 1}",
            "auto_collection": "on", "net_term_days": 0, "allow_direct_debit": False,
            "created_at": t, "taxability": "taxable", "pii_cleared": "active", "channel": "web",
            "card_status": "valid", "promotional_credits": 0, "refundable_credits": 0,
            "excess_payments": 0, "unbilled_charges": 0, "preferred_currency_code": "USD",
            "deleted": False, "object": "customer",
        }, now)  # fmt: skip
        ids.append(cid)
        price = rng.choice(prices)
        item = {"item_price_id": price["id"], "item_type": "plan",
                "quantity": rng.choice((1, 1, 1, 2, 5, 10)), "unit_price": price["price"],
                "free_quantity": 0, "object": "subscription_item"}  # fmt: skip
        item_amount(item, price, None, price["currency_code"])
        unit = price["period_unit"]
        k = 0
        while term_boundary(t, unit, 1, k + 1) <= now:
            k += 1
        sub: dict[str, Any] = {
            "id": f"seed-sub-{n + 1:06d}", "customer_id": cid, "status": rng.choice(statuses),
            "created_at": t, "started_at": t, "activated_at": t, "deleted": False,
            "channel": "web", "object": "subscription", "has_scheduled_advance_invoices": False,
            "create_pending_invoices": False, "auto_close_invoices": True, "exchange_rate": 1.0,
            "base_currency_code": "USD", "due_invoices_count": 0, "total_dues": 0,
            "subscription_items": [item], "currency_code": price["currency_code"],
            "billing_period": 1, "billing_period_unit": unit, "_anchor": t, "_k": k,
            "_billed": True, "has_scheduled_changes": False,
            "current_term_start": term_boundary(t, unit, 1, k),
            "current_term_end": term_boundary(t, unit, 1, k + 1),
        }  # fmt: skip
        sub["next_billing_at"] = sub["current_term_end"]
        status = sub["status"]
        if status == "in_trial":
            sub.update(trial_start=now - 86_400, trial_end=now + 13 * 86_400,
                       current_term_start=now - 86_400, current_term_end=now + 13 * 86_400,
                       next_billing_at=now + 13 * 86_400, activated_at=None)  # fmt: skip
        elif status == "non_renewing":
            sub.update(cancelled_at=sub["current_term_end"], next_billing_at=None,
                       cancel_schedule_created_at=now - 86_400)  # fmt: skip
        elif status == "paused":
            sub.update(pause_date=now - 86_400, next_billing_at=None)
        elif status == "cancelled":
            sub.update(cancelled_at=now - 86_400, next_billing_at=None)
        elif status == "future":
            sub.update(start_date=now + 7 * 86_400, next_billing_at=now + 7 * 86_400,
                       started_at=None, activated_at=None, current_term_start=None,
                       current_term_end=None)  # fmt: skip
        if status == "active" and rng.random() < 0.05:
            sub.update(due_invoices_count=1, due_since=now - 3 * 86_400,
                       total_dues=item["_minor"])  # fmt: skip
        sub["mrr"] = mrr(sub, coupons)
        store.put("subscription", sub, now)
    return ids

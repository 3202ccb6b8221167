"""Bulk data for benchmarks: thousands of customers and subscriptions straight into the store.

No HTTP: this stands for an account that already existed before the sync ran. Creation times
rise with creation order over ``span`` seconds up to ``now``, so list order (newest first)
matches ``created``. With ``log``, each customer and subscription also gets its ``*.created``
event at its own ``created`` time, cheaply: the object is pickled (a snapshot of its seeded
state) and the event's payload is rendered only when first read.
"""

from __future__ import annotations

import random
from typing import Any

from .clock import period_boundary
from .eventlog import EventLog, frozen_view
from .objects import new_customer, new_item, new_payment_method, new_price, new_product
from .objects import new_subscription as new_sub
from .store import _ALNUM, Store

__all__ = ["seed_bulk"]

# (currency, interval, unit_amount) for the seeded plans
PLANS = (
    ("usd", "month", 2900), ("usd", "month", 9900), ("usd", "year", 99000),
    ("eur", "month", 4900), ("jpy", "month", 5000), ("gbp", "year", 49000),
)  # fmt: skip
STATUSES = (("active", 80), ("trialing", 5), ("past_due", 5), ("canceled", 7), ("unpaid", 3))
YEAR = 365 * 86_400


def seed_bulk(store: Store, now: int, customers: int, subscriptions: int, seed: int = 1,
              log: EventLog | None = None, span: int = YEAR) -> list[str]:  # fmt: skip
    ids = _seed(store, now, customers, subscriptions, seed, span)
    if log is not None:
        _seed_events(store, log, ids, subscriptions, seed)
    return ids


def _seed_events(store: Store, log: EventLog, ids: list[str], n_subs: int, seed: int) -> None:
    objs = [("customer", store.data["customer"][c]) for c in ids]
    sub_ids = store.order["subscription"].newest_first()
    objs += [("subscription", store.data["subscription"][next(sub_ids)]) for _ in range(n_subs)]
    objs.sort(key=lambda ko: ko[1]["_seq"])
    # Store.new_id for events, with the random letters drawn in one call.
    width = 19
    letters = "".join(random.Random(seed + 1).choices(_ALNUM, k=width * len(objs)))
    items = []
    for i, (kind, rec) in enumerate(objs):
        n, digits = store.seq + 1 + i, []
        while n:
            n, r = divmod(n, 62)
            digits.append(_ALNUM[r])
        head = "".join(reversed(digits)).rjust(5, "0")
        eid = "evt_" + head + letters[i * width:i * width + max(0, 24 - len(head))]
        etype = "customer.created" if kind == "customer" else "customer.subscription.created"
        items.append((etype, kind, rec, eid))
    log.add_lazy(items, frozen_view(store))


def _seed(store: Store, now: int, customers: int, subscriptions: int, seed: int,
          span: int) -> list[str]:  # fmt: skip
    rng = random.Random(seed)
    start = now - span
    step = max(1, span // max(1, customers + subscriptions))
    t = start
    prices: list[dict[str, Any]] = []
    for i, (cur, interval, amount) in enumerate(PLANS):
        prod = store.put("product", new_product(store, t, {"name": f"Seed plan {i + 1}"}))
        price = new_price(store, t, {
            "currency": cur, "unit_amount": amount, "recurring": {"interval": interval},
        }, prod["id"])  # fmt: skip
        prices.append(store.put("price", price))
    statuses = [s for s, w in STATUSES for _ in range(w)]
    ids: list[str] = []
    for _ in range(customers):
        t += step
        cus = new_customer(store, t, None, name=f"Seed customer {len(ids) + 1}",
                           email=f"seed{len(ids) + 1}@example.com")  # fmt: skip
        store.put("customer", cus)
        pm = store.put("payment_method", new_payment_method(store, "pm_card_visa", cus["id"], t))
        cus["invoice_settings"]["default_payment_method"] = pm["id"]
        ids.append(cus["id"])
    for n in range(subscriptions):
        t += step
        cus = store.data["customer"][ids[n] if n < len(ids) else rng.choice(ids)]
        price = rng.choice(prices)
        sub = new_sub(store, cus, t)
        item = new_item(store, sub["id"], price["id"], rng.choice((1, 1, 1, 2, 5, 10)), t)
        sub["_items"].append(item)
        sub["currency"] = price["currency"]
        cus["currency"] = cus["currency"] or price["currency"]
        rec = price["recurring"]
        # Start in the past and roll the cycle forward to the one that holds ``now``.
        anchor = t
        k = 0
        while period_boundary(anchor, rec["interval"], 1, k + 1) <= now:
            k += 1
        sub.update(billing_cycle_anchor=anchor, _cycle=k)
        item["current_period_start"] = period_boundary(anchor, rec["interval"], 1, k)
        item["current_period_end"] = period_boundary(anchor, rec["interval"], 1, k + 1)
        status = rng.choice(statuses)
        sub["status"] = status
        if status == "trialing":
            sub.update(trial_start=t, trial_end=now + 7 * 86_400)
            item["current_period_end"] = sub["trial_end"]
        elif status == "canceled":
            sub.update(canceled_at=now - 86_400, ended_at=now - 86_400)
            sub["cancellation_details"]["reason"] = "cancellation_requested"
        elif status == "past_due":
            sub["_failed_at"] = now - 86_400
            sub["_next_retry"] = now + 2 * 86_400
        store.put("subscription", sub)
        store.item_sub[item["id"]] = sub["id"]
        store.index_subscription(sub)
    return ids

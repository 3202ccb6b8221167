"""Bulk data for benchmarks: thousands of accounts and subscriptions straight into the store.

No HTTP: this stands for a site that existed before the sync first ran. Creation times rise
with creation order across the year before ``now``; each subscription's period is rolled
forward to the one holding ``now``; a share of them is canceled, expired, paused, in trial or
has a past-due renewal, so the sync meets every state.
"""

from __future__ import annotations

import random

from .billing import Billing
from .clock import DAY, add_interval
from .records import new_account, new_add_on, new_plan, new_subscription, sub_add_on
from .store import Store, norm_code

__all__ = ["seed_bulk"]

# (code, currency, interval_unit, interval_length, unit_amount)
PLANS = (
    ("seed-basic", "USD", "months", 1, 29.0), ("seed-pro", "USD", "months", 1, 99.0),
    ("seed-annual", "USD", "months", 12, 990.0), ("seed-eu", "EUR", "months", 1, 49.0),
    ("seed-weekly", "GBP", "days", 7, 9.5),
)  # fmt: skip
STATES = (("active", 78), ("trial", 5), ("past_due", 5), ("canceled", 5), ("expired", 5),
          ("paused", 2))  # fmt: skip
YEAR = 365 * DAY


def seed_bulk(st: Store, billing: Billing, now: int, accounts: int, subscriptions: int,
              seed: int = 1) -> list[str]:  # fmt: skip
    rng = random.Random(seed)
    t = now - YEAR
    step = max(1, YEAR // max(1, accounts + subscriptions + 1))
    plans, seats = [], {}
    for code, cur, unit, length, amount in PLANS:
        plan = st.put("plan", new_plan(st, t, {
            "code": code, "name": code.replace("-", " ").title(), "interval_unit": unit,
            "interval_length": length, "currencies": [{"currency": cur, "unit_amount": amount}],
        }))  # fmt: skip
        st.plan_codes[code] = plan["id"]
        add_on = st.put("add_on", new_add_on(st, t, plan["id"], {
            "code": "seat", "name": "Extra seat", "add_on_type": "fixed",
            "currencies": [{"currency": cur, "unit_amount": round(amount / 5, 2)}],
        }))  # fmt: skip
        st.add_on_codes[(plan["id"], "seat")] = add_on["id"]
        plans.append(plan)
        seats[plan["id"]] = add_on
    states = [s for s, w in STATES for _ in range(w)]
    ids: list[str] = []
    for n in range(accounts):
        t += step
        code = f"seed-{n + 1:05d}"
        acct = st.put("account", new_account(st, t, code, {
            "email": f"seed{n + 1}@example.com", "company": f"Seed Co {n + 1}",
        }))  # fmt: skip
        st.account_codes[norm_code(code)] = acct["id"]
        ids.append(acct["id"])
    for n in range(subscriptions):
        t += step
        acct = st.data["account"][ids[n] if n < len(ids) else rng.choice(ids)]
        plan = rng.choice(plans)
        price = plan["currencies"][0]
        sub = new_subscription(st, t, acct, plan, price["currency"], price["unit_amount"],
                               rng.choice((1, 1, 1, 2, 5)))  # fmt: skip
        if rng.random() < 0.3:
            seat = seats[plan["id"]]
            sub["_add_ons"].append(sub_add_on(st, t, sub["id"], seat, rng.randint(1, 10),
                                              seat["currencies"][0]["unit_amount"]))
        unit, length = plan["interval_unit"], plan["interval_length"]
        k = 0
        while add_interval(t, unit, length, k + 1) <= now:
            k += 1
        billing.set_period(sub, t, k)
        sub["activated_at"] = t
        state = rng.choice(states)
        if state == "trial":
            begun, ends = now - 3 * DAY, now + 11 * DAY
            sub.update(trial_started_at=begun, trial_ends_at=ends, _anchor=begun, _k=-1,
                       current_period_started_at=begun, current_period_ends_at=ends)
        elif state == "canceled":
            sub.update(state="canceled", canceled_at=now - DAY,
                       expires_at=sub["current_period_ends_at"])  # fmt: skip
        elif state == "expired":
            sub.update(state="expired", canceled_at=now - 40 * DAY, expires_at=now - 10 * DAY,
                       expiration_reason="canceled")  # fmt: skip
        elif state == "paused":
            sub.update(state="paused", paused_at=sub["current_period_started_at"],
                       remaining_pause_cycles=1, resume_at=sub["current_period_ends_at"])
        billing.refresh_totals(sub)
        sub["updated_at"] = max(t, sub["current_period_started_at"])
        st.put("subscription", sub, acct["id"])
        if state == "past_due":
            st.fail_payments.add(acct["id"])
            billing.charge(sub, sub["current_period_started_at"], "renewal")
            st.fail_payments.discard(acct["id"])
    return ids

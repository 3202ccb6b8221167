"""The lifecycle: charging, trials, renewals, pauses, cancellations expiring, future starts.

Driven by the stand-in's clock (``run(now)``), never by wall time passing on its own. Rules, as
v2021-02-25 documents them: a canceled subscription stays live until ``expires_at`` (the end of
its period) and then becomes ``expired``; a trial is ``trial_ends_at`` in the future while the
state stays ``active``; a renewal whose charge is declined leaves the subscription ``active``
and its invoice ``past_due`` (so ``account.has_past_due_invoice`` turns true); a ``future``
subscription starts at ``starts_at``; a pause takes effect at the period end and lasts
``remaining_pause_cycles`` periods. Usage add-ons are billed on usage, so they are left out of
the subscription's ``add_ons_total``/``subtotal`` (and out of MRR).
"""

from __future__ import annotations

from typing import Any

from .clock import add_interval
from .records import new_invoice
from .store import Store

__all__ = ["Billing"]


class Billing:
    def __init__(self, store: Store) -> None:
        self.store = store

    # money ---------------------------------------------------------------------------------
    def refresh_totals(self, sub: dict[str, Any]) -> None:
        st = self.store
        add_ons = 0.0
        for item in sub["_add_ons"]:
            if st.data["add_on"][item["_add_on"]]["add_on_type"] == "fixed":
                add_ons += (item["unit_amount"] or 0.0) * item["quantity"]
        sub["add_ons_total"] = round(add_ons, 2)
        sub["subtotal"] = round(sub["unit_amount"] * sub["quantity"] + add_ons, 2)
        sub["total"] = sub["subtotal"]

    def _discount(self, sub: dict[str, Any], amount: float, now: int) -> float:
        off = 0.0
        for red in self.store.owned(sub["_account"], "coupon_redemption"):
            if red["state"] != "active" or red["subscription_id"] not in (None, sub["id"]):
                continue
            coupon = self.store.data["coupon"][red["_coupon"]]
            disc = coupon["discount"]
            if disc["type"] == "percent":
                cut = amount * disc["percent"] / 100
            elif disc["type"] == "fixed":
                cut = next((c["amount"] for c in disc["currencies"]
                            if c["currency"] == sub["currency"]), 0.0)  # fmt: skip
            else:
                continue
            cut = min(cut, amount - off)
            off += cut
            red["discounted"] = round(red["discounted"] + cut, 2)
            self.store.touch(red, now)
            if coupon["duration"] == "single_use":
                self.remove_redemption(red, now)
        return round(off, 2)

    def remove_redemption(self, red: dict[str, Any], now: int) -> None:
        red.update(state="inactive", removed_at=now)
        self.store.touch(red, now)

    def charge(self, sub: dict[str, Any], now: int, origin: str) -> dict[str, Any]:
        """An invoice for the coming period; declined for accounts marked to fail."""
        st = self.store
        self.refresh_totals(sub)
        inv = new_invoice(st, now, sub, origin, sub["subtotal"], 0.0)
        inv["discount"] = self._discount(sub, sub["subtotal"], now)
        total = round(max(0.0, sub["subtotal"] - inv["discount"]), 2)
        inv.update(total=total, subtotal_after_discount=total, refundable_amount=total,
                   paid=total)  # fmt: skip
        if sub["_account"] in st.fail_payments and total > 0:
            inv.update(state="past_due", paid=0.0, balance=total, refundable_amount=0.0,
                       closed_at=None)  # fmt: skip
        st.put("invoice", inv, sub["_account"])
        sub["active_invoice_id"] = inv["id"]
        return inv

    def would_decline(self, account_id: str, sub: dict[str, Any]) -> bool:
        self.refresh_totals(sub)
        return account_id in self.store.fail_payments and sub["subtotal"] > 0

    # periods -------------------------------------------------------------------------------
    def _plan(self, sub: dict[str, Any]) -> dict[str, Any]:
        return self.store.data["plan"][sub["_plan"]]

    def set_period(self, sub: dict[str, Any], anchor: int, k: int = 0) -> None:
        plan = self._plan(sub)
        unit, length = plan["interval_unit"], plan["interval_length"]
        sub["_anchor"], sub["_k"] = anchor, k
        start = add_interval(anchor, unit, length, k)
        end = add_interval(anchor, unit, length, k + 1)
        sub.update(current_period_started_at=start, current_period_ends_at=end,
                   current_term_started_at=start, current_term_ends_at=end)  # fmt: skip

    def begin(self, sub: dict[str, Any], start: int, trial_ends_at: int | None,
              charge: bool) -> None:  # fmt: skip
        """Set the first period (a trial if ``trial_ends_at`` is after ``start``)."""
        if trial_ends_at is not None and trial_ends_at > start:
            sub.update(trial_started_at=start, trial_ends_at=trial_ends_at,
                       current_period_started_at=start, current_period_ends_at=trial_ends_at,
                       current_term_started_at=start, current_term_ends_at=trial_ends_at,
                       _anchor=start, _k=-1)  # fmt: skip
            return
        self.set_period(sub, start)
        if charge:
            self.charge(sub, start, "purchase")

    # the clock -----------------------------------------------------------------------------
    def run(self, now: int) -> None:
        st = self.store
        for red in st.data["coupon_redemption"].values():
            if red["state"] == "active" and red["_ends_at"] is not None and red["_ends_at"] <= now:
                self.remove_redemption(red, red["_ends_at"])
        for sub in st.data["subscription"].values():
            if sub["state"] in ("expired", "failed"):
                continue
            while self._step(sub, now):
                pass

    def _step(self, sub: dict[str, Any], now: int) -> bool:
        st, state = self.store, sub["state"]
        if state in ("expired", "failed"):
            return False
        end = sub["current_period_ends_at"]
        if state == "future":
            start = sub["current_period_started_at"]
            if start > now:
                return False
            sub.update(state="active", activated_at=start)
            self.begin(sub, start, sub["trial_ends_at"], charge=True)
            st.touch(sub, start)
            return True
        if state == "paused":
            if sub["resume_at"] > now:
                return False
            at = sub["resume_at"]
            sub.update(state="active", paused_at=None, resume_at=None,
                       remaining_pause_cycles=None)  # fmt: skip
            self.set_period(sub, at)
            self.charge(sub, at, "renewal")
            st.touch(sub, at)
            return True
        if end > now:
            return False
        if state == "canceled":
            sub.update(state="expired", expiration_reason="canceled")
        elif sub["paused_at"] == end and sub["remaining_pause_cycles"]:
            plan = self._plan(sub)
            resume = add_interval(end, plan["interval_unit"], plan["interval_length"],
                                  sub["remaining_pause_cycles"])  # fmt: skip
            sub.update(state="paused", resume_at=resume, current_period_started_at=end,
                       current_period_ends_at=resume)  # fmt: skip
        elif not sub["auto_renew"]:
            sub.update(state="expired", expiration_reason="nonrenewing", expires_at=end)
        elif sub["_k"] == -1:  # the trial ends: the first paid period starts
            self.set_period(sub, end)
            self.charge(sub, end, "renewal")
        else:
            self.set_period(sub, sub["_anchor"], sub["_k"] + 1)
            self.charge(sub, end, "renewal")
        st.touch(sub, end)
        return True

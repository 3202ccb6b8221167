"""Invoices, payments and the clock: everything that happens to a subscription over time.

``tick(now)`` plays every transition due up to ``now`` in time order, stamping events and
records with the moment each happened (as Chargebee's Time Machine does): ``future`` starts at
``start_date``, ``in_trial`` activates at ``trial_end``, a term ends and renews (invoice),
``non_renewing`` ends as ``cancelled`` at ``current_term_end``, scheduled pauses and resumptions
happen, and dunning cancels a subscription whose dues are older than the site's
``dunning_days``. A payment fails for a customer the stand-in was told to fail: the invoice is
``payment_due`` and the subscription's ``due_invoices_count``/``due_since``/``total_dues`` show
it (past due is not a status). Failed invoices are retried at every tick.
"""

from __future__ import annotations

import heapq
from typing import Any

from .clock import DAY, term_boundary
from .pricing import discount_total, mrr
from .site import Site

__all__ = ["Billing"]

ENTITY = {"plan": "plan_item_price", "addon": "addon_item_price", "charge": "charge_item_price"}


class Billing:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.store = site.store

    # helpers -------------------------------------------------------------------------------
    def emit(self, event_type: str, at: int, **content: dict[str, Any]) -> None:
        self.store.emit(event_type, at, self.site.source, content)

    def refresh(self, sub: dict[str, Any], at: int) -> None:
        """Recompute derived fields and bump ``resource_version``/``updated_at``."""
        sub["mrr"] = mrr(sub, self.store.data["coupon"])
        sub["has_scheduled_changes"] = False
        self.store.touch(sub, at)

    def open_term(self, sub: dict[str, Any], at: int) -> None:
        sub["_anchor"], sub["_k"] = at, 0
        self._set_term(sub)

    def _set_term(self, sub: dict[str, Any]) -> None:
        unit, period, k = sub["billing_period_unit"], sub["billing_period"], sub["_k"]
        sub["current_term_start"] = term_boundary(sub["_anchor"], unit, period, k)
        sub["current_term_end"] = term_boundary(sub["_anchor"], unit, period, k + 1)
        sub["next_billing_at"] = sub["current_term_end"]

    def customer(self, sub: dict[str, Any]) -> dict[str, Any]:
        return self.store.data["customer"][sub["customer_id"]]

    def first_total(self, sub: dict[str, Any]) -> int:
        base = sum(i["_minor"] for i in sub["subscription_items"])
        return base - discount_total(sub, self.store.data["coupon"], base)

    # invoices ------------------------------------------------------------------------------
    def bill(self, sub: dict[str, Any], at: int, *, first: bool) -> dict[str, Any]:
        self._expire_discounts(sub, at)
        items = [i for i in sub["subscription_items"] if first or i["item_type"] != "charge"]
        prices = self.store.data["item_price"]
        lines = [{
            "id": self.store.new_id("li_"), "subscription_id": sub["id"],
            "date_from": sub["current_term_start"], "date_to": sub["current_term_end"],
            "unit_amount": i.get("unit_price") or i["_minor"], "quantity": i["quantity"],
            "amount": i["_minor"], "pricing_model": prices[i["item_price_id"]]["pricing_model"],
            "is_taxed": False, "tax_amount": 0, "discount_amount": 0,
            "item_level_discount_amount": 0, "description": prices[i["item_price_id"]]["name"],
            "entity_type": ENTITY[i["item_type"]], "entity_id": i["item_price_id"],
            "customer_id": sub["customer_id"], "object": "line_item",
        } for i in items]  # fmt: skip
        sub_total = sum(x["amount"] for x in lines)
        off = discount_total(sub, self.store.data["coupon"], sub_total)
        total = sub_total - off
        inv = {
            "id": self.store.next_invoice_id(), "customer_id": sub["customer_id"],
            "subscription_id": sub["id"], "recurring": True, "status": "paid", "date": at,
            "due_date": at, "net_term_days": 0, "price_type": "tax_exclusive",
            "exchange_rate": 1.0, "currency_code": sub["currency_code"], "tax": 0,
            "sub_total": sub_total, "total": total, "amount_due": 0, "amount_adjusted": 0,
            "amount_paid": total, "paid_at": at, "write_off_amount": 0, "credits_applied": 0,
            "first_invoice": first, "has_advance_charges": False, "term_finalized": True,
            "is_gifted": False, "generated_at": at, "round_off_amount": 0,
            "amount_to_collect": 0, "line_items": lines, "deleted": False, "channel": "web",
            "object": "invoice",
        }  # fmt: skip
        for applied in (sub.get("coupons") or []) + (sub.get("discounts") or []):
            applied["applied_count"] = applied.get("applied_count", 0) + 1
        self.store.put("invoice", inv, at)
        cus = self.customer(sub)
        offline = cus.get("auto_collection") == "off"
        if total > 0 and (offline or cus["id"] in self.store.failing_customers):
            # auto_collection off: nothing is charged, the invoice waits for a payment
            # recorded by hand (record_payment); Chargebee runs no dunning on it.
            inv.update(status="payment_due", amount_paid=0, paid_at=None, amount_due=total,
                       amount_to_collect=total)  # fmt: skip
            if not offline:
                inv["dunning_status"] = "in_progress"
            sub["due_invoices_count"] = sub.get("due_invoices_count", 0) + 1
            sub["total_dues"] = sub.get("total_dues", 0) + total
            if sub.get("due_since") is None:
                sub["due_since"] = at
        self.emit("invoice_generated", at, invoice=inv)
        kind = "payment_failed" if inv["status"] == "payment_due" else "payment_succeeded"
        if total > 0:
            self.emit(kind, at, invoice=inv, subscription=sub, customer=cus)
        return inv

    def _expire_discounts(self, sub: dict[str, Any], at: int) -> None:
        coupons = self.store.data["coupon"]

        def live(entry: dict[str, Any], duration: str) -> bool:
            if duration == "one_time":
                return entry.get("applied_count", 0) < 1
            if duration == "limited_period":
                return entry.get("apply_till") is None or at < entry["apply_till"]
            return True

        sub["coupons"] = [c for c in sub.get("coupons") or []
                          if live(c, coupons[c["coupon_id"]]["duration_type"])] or None
        sub["discounts"] = [d for d in sub.get("discounts") or []
                            if live(d, d["duration_type"])] or None

    def pay_dues(self, at: int) -> None:
        """Dunning retry: invoices of customers no longer failing are paid now."""
        customers = self.store.data["customer"]
        for inv in self.store.data["invoice"].values():
            if inv["status"] != "payment_due" or inv["customer_id"] in \
                    self.store.failing_customers or \
                    customers[inv["customer_id"]].get("auto_collection") == "off":
                continue  # still failing, or offline: nothing to retry
            inv["dunning_status"] = "success"
            self.settle(inv, inv["amount_due"], at)

    def settle(self, inv: dict[str, Any], amount: int, at: int) -> None:
        """``amount`` paid on ``inv`` (dunning's retry or a recorded payment)."""
        inv["amount_paid"] = inv.get("amount_paid", 0) + amount
        inv["amount_due"] -= amount
        inv["amount_to_collect"] = inv["amount_due"]
        sub = self.store.data["subscription"][inv["subscription_id"]]
        sub["total_dues"] -= amount
        if inv["amount_due"] <= 0:
            inv.update(status="paid", paid_at=at)
            sub["due_invoices_count"] -= 1
            if sub["due_invoices_count"] == 0:
                sub["due_since"] = None
        self.store.touch(inv, at)
        self.refresh(sub, at)
        self.emit("payment_succeeded", at, invoice=inv, subscription=sub,
                  customer=self.customer(sub))

    # transitions ---------------------------------------------------------------------------
    def activate(self, sub: dict[str, Any], at: int, event: str) -> None:
        sub["status"] = "active"
        sub["activated_at"] = at
        sub["started_at"] = sub.get("started_at") or at
        self.open_term(sub, at)
        self.refresh(sub, at)
        self.bill(sub, at, first=sub.get("_billed") is None)
        sub["_billed"] = True
        self.refresh(sub, at)
        self.emit(event, at, subscription=sub, customer=self.customer(sub))

    def cancel(self, sub: dict[str, Any], at: int, reason: str | None = None) -> None:
        sub.update(status="cancelled", cancelled_at=at, next_billing_at=None, pause_date=None,
                   resume_date=None, _cancel_at=None, cancel_reason=reason)  # fmt: skip
        self.refresh(sub, at)
        self.emit("subscription_cancelled", at, subscription=sub, customer=self.customer(sub))

    def next_due(self, sub: dict[str, Any]) -> int | None:
        status = sub["status"]
        if sub.get("deleted") or status in ("cancelled", "transferred"):
            return None
        if status == "future":
            return sub["start_date"]
        if status == "paused":
            return sub.get("resume_date")
        times = [sub["current_term_end"]]
        for key in ("pause_date", "_cancel_at"):
            if sub.get(key):
                times.append(sub[key])
        days = self.site.settings.dunning_days
        if days is not None and sub.get("due_since") is not None:
            times.append(sub["due_since"] + days * DAY)
        return min(times)

    def step(self, sub: dict[str, Any], at: int) -> None:
        """Apply the one transition due at ``at``."""
        status, cus = sub["status"], self.customer(sub)
        days = self.site.settings.dunning_days
        if status == "future":
            if sub.get("trial_end"):
                sub.update(status="in_trial", trial_start=at, started_at=at,
                           current_term_start=at, current_term_end=sub["trial_end"],
                           next_billing_at=sub["trial_end"])  # fmt: skip
                self.refresh(sub, at)
                self.emit("subscription_started", at, subscription=sub, customer=cus)
            else:
                self.activate(sub, at, "subscription_started")
        elif status == "paused":
            sub.update(pause_date=None, resume_date=None)
            self.activate(sub, at, "subscription_resumed")
        elif days is not None and sub.get("due_since") is not None and \
                at == sub["due_since"] + days * DAY:
            self.cancel(sub, at, "not_paid")
        elif sub.get("_cancel_at") == at:
            self.cancel(sub, at)
        elif sub.get("pause_date") == at and status in ("active", "non_renewing"):
            sub.update(status="paused", next_billing_at=None)
            self.refresh(sub, at)
            self.emit("subscription_paused", at, subscription=sub, customer=cus)
        elif status == "in_trial":
            self.activate(sub, at, "subscription_activated")
        elif status == "non_renewing":
            self.cancel(sub, at)
        else:  # active, term over: renew
            sub["_k"] += 1
            self._set_term(sub)
            self.bill(sub, at, first=False)
            self.refresh(sub, at)
            self.emit("subscription_renewed", at, subscription=sub, customer=cus)

    def tick(self, now: int, subs: list[dict[str, Any]] | None = None) -> None:
        """Play every transition due up to ``now``, earliest first, across subscriptions."""
        self.site.source = "scheduled_job"
        try:
            heap = []
            for sub in subs if subs is not None else self.store.data["subscription"].values():
                due = self.next_due(sub)
                if due is not None and due <= now:
                    heap.append((due, sub["_seq"], sub))
            heapq.heapify(heap)
            while heap:
                due, seq, sub = heapq.heappop(heap)
                self.step(sub, due)
                nxt = self.next_due(sub)
                if nxt is not None and nxt <= now:
                    heapq.heappush(heap, (nxt, seq, sub))
            self.pay_dues(now)
        finally:
            self.site.source = "api"

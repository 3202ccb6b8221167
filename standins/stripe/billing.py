"""Money and time: what a subscription costs, invoicing, charging and the state machine.

Moving time (a test clock advancing, or the stand-in's wall clock set forward) replays every
due transition in time order: trial ends, period renewals, payment retries, scheduled
cancellations and incomplete expiry. Each subscription's next transition sits in a heap, so a
clock that owns thousands of subscriptions costs O(transitions * log n), not a rescan per step.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any

from .clock import DAY, WallClock, period_boundary
from .eventlog import EventLog
from .objects import new_invoice, render
from .store import Store

__all__ = ["Billing", "BillingSettings", "item_amount"]

INCOMPLETE_EXPIRY = 23 * 3600
MAX_TRANSITIONS = 1_000_000


@dataclass
class BillingSettings:
    """Account-level settings Stripe keeps in the Dashboard's subscription settings."""

    retry_days: tuple[int, ...] = (3, 7, 14)  # days after the first failure: 3 retries, 2 weeks
    retries_exhausted: str = "canceled"  # or "unpaid"


def item_amount(price: dict[str, Any], qty: int) -> Decimal:
    """Minor units for one period of one item, before discounts; metered items bill 0 here."""
    rec = price["recurring"] or {}
    if rec.get("usage_type") == "metered":
        return Decimal(0)
    if price["billing_scheme"] == "per_unit":
        q = Decimal(qty)
        tq = price["transform_quantity"]
        if tq:
            rounding = ROUND_CEILING if tq["round"] == "up" else ROUND_FLOOR
            q = (q / tq["divide_by"]).to_integral_value(rounding)
        return Decimal(price["unit_amount_decimal"] or 0) * q
    tiers = price["_tiers"]
    if price["tiers_mode"] == "volume":
        for t in tiers:
            if t["up_to"] is None or qty <= t["up_to"]:
                return Decimal(t["unit_amount_decimal"] or 0) * qty + Decimal(
                    t["flat_amount_decimal"] or 0
                )
    total, lower = Decimal(0), 0
    for t in tiers:
        if qty <= lower:
            break
        upper = qty if t["up_to"] is None else min(qty, t["up_to"])
        total += Decimal(t["unit_amount_decimal"] or 0) * (upper - lower)
        total += Decimal(t["flat_amount_decimal"] or 0)
        lower = upper
    return total


class Billing:
    def __init__(self, store: Store, wall: WallClock, settings: BillingSettings) -> None:
        self.store = store
        self.wall = wall
        self.settings = settings
        self.request_id: str | None = None
        self.idempotency_key: str | None = None
        self.events = EventLog(store, wall)
        self.listeners: list[Callable[[dict[str, Any]], None]] = []

    # time ----------------------------------------------------------------------------------
    def now_for(self, customer_id: str | None) -> int:
        cus = self.store.data["customer"].get(customer_id or "")
        if cus and cus["test_clock"]:
            return self.store.data["test_clock"][cus["test_clock"]]["frozen_time"]
        return self.wall.now()

    # events --------------------------------------------------------------------------------
    def emit(
        self, etype: str, kind: str, rec: dict[str, Any], now: int,
        before: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        """One event; ``before`` (``snapshot`` taken before the change) gives an update
        event its ``previous_attributes``, and no event at all if nothing changed."""
        request = {"id": self.request_id, "idempotency_key": self.idempotency_key}
        self.events.emit(etype, kind, rec, now, before, request)

    def snapshot(self, sub: dict[str, Any]) -> dict[str, Any]:
        return render(self.store, "subscription", sub)

    # money ---------------------------------------------------------------------------------
    def _coupon_of(self, di: str) -> dict[str, Any]:
        disc = self.store.data["discount"][di]
        return self.store.data["coupon"][disc["source"]["coupon"]]

    def _apply(self, amount: Decimal, discounts: Iterable[str]) -> Decimal:
        for di in discounts:
            c = self._coupon_of(di)
            if c["percent_off"] is not None:
                amount -= amount * Decimal(str(c["percent_off"])) / 100
            elif c["amount_off"] is not None:
                amount -= Decimal(c["amount_off"])
        return max(amount, Decimal(0))

    def amount_due(self, sub: dict[str, Any]) -> int:
        total = Decimal(0)
        for it in sub["_items"]:
            price = self.store.data["price"][it["price"]]
            total += self._apply(item_amount(price, it["quantity"]), it["discounts"])
        total = self._apply(total, sub["discounts"])
        return int(total.quantize(Decimal(1), ROUND_HALF_UP))

    def payment_method(self, sub: dict[str, Any]) -> dict[str, Any] | None:
        pm_id = sub["default_payment_method"]
        if pm_id is None:
            cus = self.store.data["customer"][sub["customer"]]
            pm_id = cus["invoice_settings"]["default_payment_method"]
        return self.store.data["payment_method"].get(pm_id) if pm_id else None

    def would_pay(self, sub: dict[str, Any], amount: int) -> bool:
        if amount == 0:
            return True
        pm = self.payment_method(sub)
        return pm is not None and not pm["_fails"]

    # invoices ------------------------------------------------------------------------------
    def invoice(self, sub: dict[str, Any], reason: str, now: int, attempt: bool = True) -> dict:
        item = sub["_items"][0]
        amount = self.amount_due(sub)
        inv = new_invoice(self.store, sub, reason, amount, item["current_period_start"],
                          item["current_period_end"], now)  # fmt: skip
        inv["discounts"] = list(sub["discounts"])
        self.store.put("invoice", inv)
        self.store.index_invoice(inv)
        sub["latest_invoice"] = inv["id"]
        inv["status"] = "open"
        inv["status_transitions"]["finalized_at"] = now
        inv["number"] = f"EMU-{inv['_seq']:06d}"
        if attempt:
            self.attempt(sub, inv, now)
        return inv

    def attempt(self, sub: dict[str, Any], inv: dict[str, Any], now: int) -> bool:
        inv["attempted"] = True
        inv["attempt_count"] += 1
        cus = self.store.data["customer"][sub["customer"]]
        if self.would_pay(sub, inv["amount_due"]):
            inv.update(status="paid", amount_paid=inv["amount_due"], amount_remaining=0,
                       next_payment_attempt=None)  # fmt: skip
            inv["status_transitions"]["paid_at"] = now
            cus["delinquent"] = False
            self.emit("invoice.paid", "invoice", inv, now)
            return True
        cus["delinquent"] = True
        self.emit("invoice.payment_failed", "invoice", inv, now)
        return False

    def _open_invoices(self, sub: dict[str, Any]) -> list[dict[str, Any]]:
        idx = self.store.invoices_by_sub.get(sub["id"])
        if idx is None:
            return []
        out = [self.store.data["invoice"][i] for i in idx.newest_first()]
        return [i for i in out if i["status"] == "open"]

    # periods -------------------------------------------------------------------------------
    def start_cycle(self, sub: dict[str, Any], anchor: int) -> None:
        """A fresh billing cycle anchored at ``anchor`` (creation, trial end, interval change)."""
        sub["billing_cycle_anchor"] = anchor
        sub["_cycle"] = 0
        self._set_period(sub, anchor)

    def _set_period(self, sub: dict[str, Any], start: int) -> None:
        rec = self.store.data["price"][sub["_items"][0]["price"]]["recurring"]
        end = period_boundary(sub["billing_cycle_anchor"], rec["interval"],
                              rec["interval_count"], sub["_cycle"] + 1)  # fmt: skip
        for it in sub["_items"]:
            it["current_period_start"] = start
            it["current_period_end"] = end

    def schedule_retries(self, sub: dict[str, Any], failed_at: int) -> None:
        sub["_retries"] = 0
        sub["_failed_at"] = failed_at
        sub["_next_retry"] = failed_at + self.settings.retry_days[0] * DAY
        if sub["latest_invoice"]:
            self.store.data["invoice"][sub["latest_invoice"]]["next_payment_attempt"] = sub[
                "_next_retry"
            ]

    def set_status(self, sub: dict[str, Any], status: str, now: int,
                   before: dict[str, Any] | None = None) -> None:  # fmt: skip
        """Set the status and emit the update, with every change since ``before`` (default:
        just now, so only the status change)."""
        before = before if before is not None else self.snapshot(sub)
        self.store.set_status(sub, status)
        self.emit("customer.subscription.updated", "subscription", sub, now, before)

    def cancel(self, sub: dict[str, Any], now: int, reason: str) -> None:
        self.store.set_status(sub, "canceled")
        sub["ended_at"] = now
        if sub["canceled_at"] is None:
            sub["canceled_at"] = now
        sub["cancellation_details"]["reason"] = reason
        sub["_next_retry"] = None
        self.emit("customer.subscription.deleted", "subscription", sub, now)

    def pay_or_fail(self, sub: dict[str, Any], inv: dict[str, Any], now: int, paid: bool,
                    before: dict[str, Any] | None) -> None:  # fmt: skip
        """After an invoice attempt on a live subscription: active if paid, else past_due.

        ``before`` None means the caller emits the update event itself (an API update does,
        once, with everything that changed); else the snapshot the update is measured from.
        """
        status = "active" if paid else "past_due"
        if paid:
            sub["_next_retry"] = None
            for old in self._open_invoices(sub):
                self.attempt(sub, old, now)
        elif sub["status"] != "past_due":
            self.schedule_retries(sub, now)
        if before is None:
            self.store.set_status(sub, status)
        else:
            self.set_status(sub, status, now, before)

    # the state machine ---------------------------------------------------------------------
    def _next(self, sub: dict[str, Any]) -> tuple[int, int, str] | None:
        st = sub["status"]
        if st in ("canceled", "incomplete_expired", "paused"):
            return None
        cands = []
        if sub["cancel_at"] is not None:
            cands.append((sub["cancel_at"], 0, "cancel"))
        if st == "trialing":
            cands.append((sub["trial_end"], 1, "trial_end"))
        elif st in ("active", "past_due"):
            cands.append((sub["_items"][0]["current_period_end"], 2, "renew"))
        if st == "past_due" and sub["_next_retry"] is not None:
            cands.append((sub["_next_retry"], 3, "retry"))
        if st == "incomplete":
            cands.append((sub["created"] + INCOMPLETE_EXPIRY, 4, "expire"))
        return min(cands) if cands else None

    def run(self, subs: Iterable[dict[str, Any]], until: int) -> int:
        """Apply every transition due at or before ``until``; returns how many ran."""
        heap: list[tuple[int, int, int, str]] = []
        for sub in subs:
            nxt = self._next(sub)
            if nxt is not None and nxt[0] <= until:
                heap.append((nxt[0], nxt[1], sub["_seq"], sub["id"]))
        heapq.heapify(heap)
        done = 0
        while heap and done < MAX_TRANSITIONS:
            t, prio, seq, sid = heapq.heappop(heap)
            sub = self.store.data["subscription"][sid]
            nxt = self._next(sub)
            if nxt is None or nxt[:2] != (t, prio):
                continue
            getattr(self, "_on_" + nxt[2])(sub, t)
            done += 1
            nxt = self._next(sub)
            if nxt is not None and nxt[0] <= until:
                heapq.heappush(heap, (nxt[0], nxt[1], seq, sid))
        return done

    def _on_cancel(self, sub: dict[str, Any], t: int) -> None:
        self.cancel(sub, t, "cancellation_requested")

    def _on_trial_end(self, sub: dict[str, Any], t: int) -> None:
        has_pm = self.payment_method(sub) is not None
        behavior = sub["trial_settings"]["end_behavior"]["missing_payment_method"]
        if not has_pm and behavior == "cancel":
            self.cancel(sub, t, "cancellation_requested")
            return
        if not has_pm and behavior == "pause":
            self.set_status(sub, "paused", t)
            self.emit("customer.subscription.paused", "subscription", sub, t)
            return
        before = self.snapshot(sub)
        self.start_cycle(sub, t)
        inv = self.invoice(sub, "subscription_cycle", t, attempt=False)
        paid = self.attempt(sub, inv, t)
        self.pay_or_fail(sub, inv, t, paid, before)

    def _on_renew(self, sub: dict[str, Any], t: int) -> None:
        before = self.snapshot(sub)
        self._expire_discounts(sub, t)
        sub["_cycle"] += 1
        self._set_period(sub, t)
        inv = self.invoice(sub, "subscription_cycle", t, attempt=False)
        was = sub["status"]
        paid = self.attempt(sub, inv, t)
        if was == "past_due" and not paid:
            self.emit("customer.subscription.updated", "subscription", sub, t, before)
            return
        self.pay_or_fail(sub, inv, t, paid, before)

    def _on_retry(self, sub: dict[str, Any], t: int) -> None:
        open_invoices = self._open_invoices(sub)
        if not open_invoices:
            sub["_next_retry"] = None
            self.set_status(sub, "active", t)
            return
        paid = all(self.attempt(sub, inv, t) for inv in reversed(open_invoices))
        if paid:
            sub["_next_retry"] = None
            self.set_status(sub, "active", t)
            return
        sub["_retries"] += 1
        days = self.settings.retry_days
        if sub["_retries"] >= len(days):
            sub["_next_retry"] = None
            for inv in open_invoices:
                inv["next_payment_attempt"] = None
            if self.settings.retries_exhausted == "unpaid":
                self.set_status(sub, "unpaid", t)
            else:
                self.cancel(sub, t, "payment_failed")
            return
        sub["_next_retry"] = sub["_failed_at"] + days[sub["_retries"]] * DAY
        for inv in open_invoices:
            inv["next_payment_attempt"] = sub["_next_retry"]

    def _on_expire(self, sub: dict[str, Any], t: int) -> None:
        before = self.snapshot(sub)
        for inv in self._open_invoices(sub):
            inv["status"] = "void"
            inv["status_transitions"]["voided_at"] = t
        sub["ended_at"] = t
        self.set_status(sub, "incomplete_expired", t, before)

    def _expire_discounts(self, sub: dict[str, Any], t: int) -> None:
        """``once`` coupons applied to the first invoice; ``repeating`` ones run out at ``end``."""
        def keep(di: str) -> bool:
            disc = self.store.data["discount"][di]
            c = self._coupon_of(di)
            if c["duration"] == "once":
                return False
            return disc["end"] is None or disc["end"] > t

        sub["discounts"] = [d for d in sub["discounts"] if keep(d)]
        for it in sub["_items"]:
            it["discounts"] = [d for d in it["discounts"] if keep(d)]

"""Subscriptions: create, read, update, cancel, resume (items.py: items; invoices.py: reads)."""

from __future__ import annotations

from typing import Any

from .api import LIST_SPEC, RouteGroup
from .catalog import merge_metadata
from .errors import card_declined, invalid, missing_param
from .items import ItemRules
from .objects import new_item, new_subscription, render
from .store import SUB_STATUSES

__all__ = ["SubscriptionRoutes"]

DISCOUNTS = [{"coupon": "str"}]
ITEM_CREATE = {"price": "str", "quantity": "int", "discounts": DISCOUNTS, "metadata": "meta"}
ITEM_UPDATE = {**ITEM_CREATE, "id": "str", "deleted": "bool"}
END_BEHAVIOR = ("cancel", "create_invoice", "pause")
COMMON = {
    "default_payment_method": "str", "discounts": DISCOUNTS, "metadata": "meta",
    "cancel_at_period_end": "bool", "cancel_at": "ts", "description": "str",
    "payment_behavior": (
        "allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete",
    ),
    "proration_behavior": ("always_invoice", "create_prorations", "none"),
    "trial_end": "ts", "trial_settings": {"end_behavior": {"missing_payment_method": END_BEHAVIOR}},
    "off_session": "bool", "expand": ["str"],
}  # fmt: skip
CREATE = {**COMMON, "customer": "str", "items": [ITEM_CREATE], "trial_period_days": "int",
          "collection_method": ("charge_automatically",)}  # fmt: skip
UPDATE = {**COMMON, "items": [ITEM_UPDATE], "billing_cycle_anchor": ("now", "unchanged"),
          "cancellation_details": {"comment": "str", "feedback": "str"}}  # fmt: skip
LIST = {**LIST_SPEC, "customer": "str", "price": "str", "test_clock": "str",
        "status": ("all", "ended", *SUB_STATUSES)}  # fmt: skip
ENDED = ("canceled", "incomplete_expired")


class SubscriptionRoutes(ItemRules, RouteGroup):
    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/v1/subscriptions", self.create),
            ("GET", "/v1/subscriptions", self.list),
            ("GET", "/v1/subscriptions/{id}", self.retrieve),
            ("POST", "/v1/subscriptions/{id}", self.update),
            ("DELETE", "/v1/subscriptions/{id}", self.cancel),
            ("POST", "/v1/subscriptions/{id}/resume", self.resume),
        ]

    # helpers -------------------------------------------------------------------------------
    def _default_pm(self, pm_id: str | None, customer: str) -> str | None:
        if not pm_id:
            return None
        pm = self.store.data["payment_method"].get(pm_id)
        if pm is None or pm["customer"] != customer:
            raise invalid(f"The customer does not have a payment method with the ID {pm_id}. "
                          "The payment method must be attached to the customer.",
                          "default_payment_method", "resource_missing")  # fmt: skip
        return pm_id

    # create --------------------------------------------------------------------------------
    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        p = self.api.check(CREATE, params)
        if not p.get("customer"):
            raise missing_param("customer")
        cus = self.api.get("customer", p["customer"], "customer")
        now = self.api.now(cus["id"])
        if not p.get("items"):
            raise missing_param("items")
        if p.get("cancel_at") is not None and p.get("cancel_at_period_end"):
            raise invalid("You may only specify one of these parameters: cancel_at, "
                          "cancel_at_period_end.", "cancel_at")  # fmt: skip
        sub = new_subscription(self.store, cus, now)
        for i, it in enumerate(p["items"]):
            price = self._price(it.get("price"), f"items[{i}][price]")
            qty = self._quantity(price, it.get("quantity"), f"items[{i}][quantity]")
            item = new_item(self.store, sub["id"], price["id"], qty, now)
            item["metadata"] = it.get("metadata") or {}
            sub["_items"].append(item)
        self._check_items(sub)
        sub["default_payment_method"] = self._default_pm(p.get("default_payment_method"),
                                                         cus["id"])  # fmt: skip
        for k in ("metadata", "description"):
            if p.get(k) is not None:
                sub[k] = p[k]
        if p.get("trial_settings"):
            sub["trial_settings"]["end_behavior"].update(p["trial_settings"]["end_behavior"])
        trial_end = self._trial_end(p, now)
        behavior = p.get("payment_behavior") or "allow_incomplete"
        if trial_end is None and behavior == "error_if_incomplete":
            self.billing.start_cycle(sub, now)
            if not self.billing.would_pay(sub, self.billing.amount_due(sub)):
                raise card_declined()
        # Discounts need the subscription's currency, so they come after the items.
        sub["discounts"] = self._discounts(p.get("discounts"), sub, None, now, "discounts")
        for i, (spec, item) in enumerate(zip(p["items"], sub["_items"], strict=True)):
            item["discounts"] = self._discounts(spec.get("discounts"), sub, item["id"], now,
                                                f"items[{i}][discounts]")  # fmt: skip
        self.store.put("subscription", sub)
        for item in sub["_items"]:
            self.store.item_sub[item["id"]] = sub["id"]
        if cus["currency"] is None:
            cus["currency"] = sub["currency"]
        if trial_end is not None:
            sub.update(status="trialing", trial_start=now, trial_end=trial_end)
            self.billing.start_cycle(sub, now)
            for item in sub["_items"]:
                item["current_period_end"] = trial_end
        else:
            self.billing.start_cycle(sub, now)
            pays = self.billing.would_pay(sub, self.billing.amount_due(sub))
            sub["status"] = "active" if pays and behavior != "default_incomplete" else "incomplete"
        self._schedule_cancel(sub, p, now)
        self.store.index_subscription(sub)
        self.billing.emit("customer.subscription.created", "subscription", sub, now)
        self.billing.invoice(sub, "subscription_create", now,
                             attempt=behavior != "default_incomplete")  # fmt: skip
        return self.api.out("subscription", sub, p.get("expand"))

    @staticmethod
    def _trial_end(p: dict[str, Any], now: int) -> int | None:
        if p.get("trial_end") is not None and p.get("trial_period_days") is not None:
            raise invalid("You may only specify one of these parameters: trial_end, "
                          "trial_period_days.", "trial_end")  # fmt: skip
        if p.get("trial_period_days") is not None:
            days = p["trial_period_days"]
            if not 0 <= days <= 730:
                raise invalid("trial_period_days must be between 0 and 730.", "trial_period_days")
            return now + days * 86_400 if days else None
        te = p.get("trial_end")
        if te is None or te == "now":
            return None
        if te <= now:
            raise invalid("Invalid timestamp: must be an integer Unix timestamp in the future.",
                          "trial_end")  # fmt: skip
        return te

    def _schedule_cancel(self, sub: dict[str, Any], p: dict[str, Any], now: int) -> None:
        if p.get("cancel_at_period_end") is not None:
            on = p["cancel_at_period_end"]
            sub["cancel_at_period_end"] = on
            # Stripe reports the scheduled end in cancel_at and the request time in canceled_at.
            sub["cancel_at"] = sub["_items"][0]["current_period_end"] if on else None
            sub["canceled_at"] = now if on else None
        if "cancel_at" in p and not p.get("cancel_at_period_end"):
            at = p["cancel_at"]
            if at is not None and at != "now" and at <= now:
                raise invalid("cancel_at must be in the future.", "cancel_at")
            sub["cancel_at"] = now if at == "now" else at
            sub["cancel_at_period_end"] = False
            sub["canceled_at"] = now if at is not None else None

    # read ----------------------------------------------------------------------------------
    def retrieve(self, params: dict[str, Any], sid: str) -> dict[str, Any]:
        p = self.api.check({"expand": ["str"]}, params)
        return self.api.out("subscription", self.api.get("subscription", sid), p.get("expand"))

    def list(self, params: dict[str, Any]) -> dict[str, Any]:
        p = self.api.check(LIST, params)
        st, cus, price, clock = (p.get(k) for k in ("status", "customer", "price", "test_clock"))
        s = self.store
        if cus is not None:
            index = s.subs_by_customer.get(cus)
        elif price is not None:
            index = s.subs_by_price.get(price)
        elif st == "all":
            index = s.order["subscription"]
        elif st == "ended":
            index = s.subs_ended
        elif st is None:
            index = s.subs_not_canceled
        else:
            index = s.subs_by_status[st]

        def pred(r: dict[str, Any]) -> bool:
            if st is None and r["status"] == "canceled":
                return False
            if st == "ended" and r["status"] not in ENDED:
                return False
            if st not in (None, "all", "ended") and r["status"] != st:
                return False
            if price is not None and all(it["price"] != price for it in r["_items"]):
                return False
            if clock is None and cus is None:
                # Stripe: "The response will not include subscriptions with test clocks if
                # this [test_clock] and the customer parameter is not set."
                return r["test_clock"] is None
            return clock is None or r["test_clock"] == clock

        return self.api.page("subscription", index, p, "/v1/subscriptions", pred)

    # update --------------------------------------------------------------------------------
    def update(self, params: dict[str, Any], sid: str) -> dict[str, Any]:
        sub = self.api.get("subscription", sid)
        p = self.api.check(UPDATE, params)
        now = self.api.now(sub["customer"])
        allowed = None
        if sub["status"] in ENDED:
            allowed = {"metadata", "cancellation_details", "expand"}
            msg = "A canceled subscription can only update its cancellation_details and metadata."
        elif sub["status"] == "incomplete":
            allowed = {"metadata", "default_payment_method", "expand", "payment_behavior"}
            msg = ("A subscription in incomplete status can only have metadata and "
                   "default_payment_method updated.")  # fmt: skip
        if allowed is not None and set(p) - allowed:
            raise invalid(msg, sorted(set(p) - allowed)[0])
        before = render(self.store, "subscription", sub)
        if p.get("cancel_at") is not None and p.get("cancel_at_period_end"):
            raise invalid("You may only specify one of these parameters: cancel_at, "
                          "cancel_at_period_end.", "cancel_at")  # fmt: skip
        if "metadata" in p:
            sub["metadata"] = merge_metadata(sub["metadata"], p["metadata"])
        if "description" in p:
            sub["description"] = p["description"]
        if p.get("cancellation_details"):
            sub["cancellation_details"].update(p["cancellation_details"])
        if "default_payment_method" in p:
            sub["default_payment_method"] = self._default_pm(p["default_payment_method"],
                                                             sub["customer"])  # fmt: skip
        if p.get("trial_settings"):
            sub["trial_settings"]["end_behavior"].update(p["trial_settings"]["end_behavior"])
        if "discounts" in p:
            sub["discounts"] = self._discounts(p["discounts"], sub, None, now, "discounts")
        reanchor = False
        if p.get("items"):
            reanchor = self._update_items(sub, p["items"], now)
        if p.get("billing_cycle_anchor") == "now":
            reanchor = True
        if "cancel_at_period_end" in p or "cancel_at" in p:
            self._schedule_cancel(sub, p, now)
        if reanchor and sub["status"] in ("active", "past_due"):
            self.billing.start_cycle(sub, now)
            if sub["cancel_at_period_end"]:
                sub["cancel_at"] = sub["_items"][0]["current_period_end"]
            inv = self.billing.invoice(sub, "subscription_update", now, attempt=False)
            if p.get("payment_behavior") == "error_if_incomplete" and not self.billing.would_pay(
                sub, inv["amount_due"]
            ):
                raise card_declined()
            paid = self.billing.attempt(sub, inv, now)
            self.billing.pay_or_fail(sub, inv, now, paid, None)
        trial_end = p.get("trial_end")
        if trial_end is not None and sub["status"] == "trialing":
            self._change_trial(sub, trial_end, now)
        self.billing.emit("customer.subscription.updated", "subscription", sub, now, before)
        return self.api.out("subscription", sub, p.get("expand"))

    def _change_trial(self, sub: dict[str, Any], trial_end: int | str, now: int) -> None:
        if trial_end == "now":
            sub["trial_end"] = now
            self.billing.run([sub], now)
            return
        assert isinstance(trial_end, int)
        if trial_end <= now:
            raise invalid("Invalid timestamp: must be an integer Unix timestamp in the future.",
                          "trial_end")  # fmt: skip
        sub["trial_end"] = trial_end
        for it in sub["_items"]:
            it["current_period_end"] = trial_end

    # cancel / resume -----------------------------------------------------------------------
    def cancel(self, params: dict[str, Any], sid: str) -> dict[str, Any]:
        sub = self.api.get("subscription", sid)
        p = self.api.check({"invoice_now": "bool", "prorate": "bool", "expand": ["str"],
                            "cancellation_details": {"comment": "str", "feedback": "str"}},
                           params)  # fmt: skip
        if sub["status"] in ENDED:
            raise invalid("A canceled subscription can only update its cancellation_details "
                          "and metadata.", "id")  # fmt: skip
        if p.get("cancellation_details"):
            sub["cancellation_details"].update(p["cancellation_details"])
        sub["canceled_at"] = None
        self.billing.cancel(sub, self.api.now(sub["customer"]), "cancellation_requested")
        return self.api.out("subscription", sub, p.get("expand"))

    def resume(self, params: dict[str, Any], sid: str) -> dict[str, Any]:
        sub = self.api.get("subscription", sid)
        p = self.api.check({"billing_cycle_anchor": ("now", "unchanged"),
                            "proration_behavior": ("always_invoice", "create_prorations",
                                                   "none"),
                            "expand": ["str"]}, params)  # fmt: skip
        if sub["status"] != "paused":
            raise invalid("Only a paused subscription can be resumed.", "id")
        now = self.api.now(sub["customer"])
        before = self.billing.snapshot(sub)
        self.billing.start_cycle(sub, now)
        inv = self.billing.invoice(sub, "subscription_cycle", now, attempt=False)
        paid = self.billing.attempt(sub, inv, now)
        self.billing.pay_or_fail(sub, inv, now, paid, before)
        self.billing.emit("customer.subscription.resumed", "subscription", sub, now)
        return self.api.out("subscription", sub, p.get("expand"))

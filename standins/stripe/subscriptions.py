"""Subscriptions, their items and the invoices they produce."""

from __future__ import annotations

from typing import Any

from .api import LIST_SPEC, RouteGroup
from .catalog import merge_metadata
from .errors import card_declined, invalid, missing_param
from .objects import new_discount, new_item, new_subscription, render, render_item
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


class SubscriptionRoutes(RouteGroup):
    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/v1/subscriptions", self.create),
            ("GET", "/v1/subscriptions", self.list),
            ("GET", "/v1/subscriptions/{id}", self.retrieve),
            ("POST", "/v1/subscriptions/{id}", self.update),
            ("DELETE", "/v1/subscriptions/{id}", self.cancel),
            ("POST", "/v1/subscriptions/{id}/resume", self.resume),
            ("GET", "/v1/subscription_items", self.list_items),
            ("GET", "/v1/subscription_items/{id}", self.get_item),
            ("GET", "/v1/invoices", self.list_invoices),
            ("GET", "/v1/invoices/{id}", self.get_invoice),
        ]

    # helpers -------------------------------------------------------------------------------
    def _price(self, pid: str | None, param: str) -> dict[str, Any]:
        if not pid:
            raise missing_param(param)
        price = self.api.get("price", pid, param)
        if not price["active"]:
            raise invalid("The price specified is inactive. This field only accepts active "
                          "prices.", param)  # fmt: skip
        if price["recurring"] is None:
            raise invalid("The price specified is set to `type=one_time` but this field only "
                          "accepts prices with `type=recurring`.", param)  # fmt: skip
        return price

    def _check_items(self, sub: dict[str, Any]) -> None:
        prices = [self.store.data["price"][it["price"]] for it in sub["_items"]]
        if not prices:
            raise invalid("A subscription must have at least one item.", "items")
        seen: set[str] = set()
        for pr in prices:
            if pr["id"] in seen:
                raise invalid(f"Cannot add multiple subscription items with the same price: "
                              f"{pr['id']}", "items")  # fmt: skip
            seen.add(pr["id"])
        first = prices[0]
        for pr in prices[1:]:
            for field, a, b in (
                ("currency", first["currency"], pr["currency"]),
                ("interval", first["recurring"]["interval"], pr["recurring"]["interval"]),
                ("interval_count", first["recurring"]["interval_count"],
                 pr["recurring"]["interval_count"]),
            ):  # fmt: skip
                if a != b:
                    raise invalid("Currency and interval fields must match across all plans "
                                  f"on this subscription. Found mismatch in {field} field.",
                                  "items")  # fmt: skip
        sub["currency"] = first["currency"]

    def _discounts(self, specs: list[dict[str, Any]] | None, sub: dict[str, Any],
                   item: str | None, now: int, param: str) -> list[str]:  # fmt: skip
        out = []
        for i, d in enumerate(specs or []):
            if not d.get("coupon"):
                raise missing_param(f"{param}[{i}][coupon]")
            coupon = self.api.get("coupon", d["coupon"], f"{param}[{i}][coupon]")
            if coupon["currency"] and coupon["currency"] != sub["currency"]:
                raise invalid("The coupon's currency must match the subscription's currency.",
                              f"{param}[{i}][coupon]")  # fmt: skip
            coupon["times_redeemed"] += 1
            disc = new_discount(self.store, coupon, sub["customer"], sub["id"], item, now)
            out.append(self.store.put("discount", disc)["id"])
        return out

    def _default_pm(self, pm_id: str | None, customer: str) -> str | None:
        if not pm_id:
            return None
        pm = self.store.data["payment_method"].get(pm_id)
        if pm is None or pm["customer"] != customer:
            raise invalid(f"The customer does not have a payment method with the ID {pm_id}. "
                          "The payment method must be attached to the customer.",
                          "default_payment_method", "resource_missing")  # fmt: skip
        return pm_id

    def _quantity(self, price: dict[str, Any], q: int | None, param: str) -> int:
        if price["recurring"]["usage_type"] == "metered":
            if q is not None:
                raise invalid("Quantity cannot be set for metered prices.", param)
            return 1
        q = 1 if q is None else q
        if q < 0:
            raise invalid("Invalid quantity: must be greater than or equal to 0", param)
        return q

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
        after = render(self.store, "subscription", sub)
        prev = {k: before[k] for k in before if before[k] != after[k]}
        if prev:
            self.billing.emit("customer.subscription.updated", "subscription", sub, now, prev)
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

    def _update_items(self, sub: dict[str, Any], items: list[dict[str, Any]], now: int) -> bool:
        """Apply item changes; True when the billing interval changed (a new cycle starts)."""
        before_prices = {it["price"] for it in sub["_items"]}
        old_rec = self.store.data["price"][sub["_items"][0]["price"]]["recurring"]
        by_id = {it["id"]: it for it in sub["_items"]}
        new_items = list(sub["_items"])
        for i, spec in enumerate(items):
            iid = spec.get("id")
            if iid is not None:
                item = by_id.get(iid)
                if item is None:
                    raise invalid(f"No such subscription item: '{iid}'", f"items[{i}][id]",
                                  "resource_missing")  # fmt: skip
                if spec.get("deleted"):
                    new_items.remove(item)
                    continue
                if spec.get("price"):
                    price = self._price(spec["price"], f"items[{i}][price]")
                    item["price"] = price["id"]
                price = self.store.data["price"][item["price"]]
                if "quantity" in spec:
                    item["quantity"] = self._quantity(price, spec["quantity"],
                                                      f"items[{i}][quantity]")  # fmt: skip
                if "metadata" in spec:
                    item["metadata"] = merge_metadata(item["metadata"], spec["metadata"])
                if "discounts" in spec:
                    item["discounts"] = self._discounts(spec["discounts"], sub, iid, now,
                                                        f"items[{i}][discounts]")  # fmt: skip
            else:
                if spec.get("deleted"):
                    raise missing_param(f"items[{i}][id]")
                price = self._price(spec.get("price"), f"items[{i}][price]")
                item = new_item(self.store, sub["id"], price["id"],
                                self._quantity(price, spec.get("quantity"),
                                               f"items[{i}][quantity]"), now)  # fmt: skip
                first = sub["_items"][0]
                item["current_period_start"] = first["current_period_start"]
                item["current_period_end"] = first["current_period_end"]
                item["metadata"] = spec.get("metadata") or {}
                item["discounts"] = self._discounts(spec.get("discounts"), sub, item["id"], now,
                                                    f"items[{i}][discounts]")  # fmt: skip
                new_items.append(item)
                self.store.item_sub[item["id"]] = sub["id"]
        sub["_items"] = new_items
        self._check_items(sub)
        self.store.reindex_prices(sub, before_prices)
        new_rec = self.store.data["price"][sub["_items"][0]["price"]]["recurring"]
        return (old_rec["interval"], old_rec["interval_count"]) != (
            new_rec["interval"], new_rec["interval_count"])  # fmt: skip

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
        self.billing.start_cycle(sub, now)
        inv = self.billing.invoice(sub, "subscription_cycle", now, attempt=False)
        paid = self.billing.attempt(sub, inv, now)
        self.billing.pay_or_fail(sub, inv, now, paid, {"status": "paused"})
        self.billing.emit("customer.subscription.resumed", "subscription", sub, now)
        return self.api.out("subscription", sub, p.get("expand"))

    # items and invoices --------------------------------------------------------------------
    def list_items(self, params: dict[str, Any]) -> dict[str, Any]:
        p = self.api.check({**LIST_SPEC, "subscription": "str"}, params)
        if not p.get("subscription"):
            raise missing_param("subscription")
        sub = self.api.get("subscription", p["subscription"], "subscription")
        limit = p.get("limit", 10)
        if limit is None or not 1 <= limit <= 100:
            raise invalid("Invalid limit: must be between 1 and 100", param="limit")
        items = sub["_items"]
        if p.get("starting_after"):
            ids = [it["id"] for it in items]
            if p["starting_after"] not in ids:
                raise invalid(f"No such subscription item: '{p['starting_after']}'",
                              "starting_after", "resource_missing")  # fmt: skip
            items = items[ids.index(p["starting_after"]) + 1:]
        body = {
            "object": "list", "data": [render_item(self.store, it) for it in items[:limit]],
            "has_more": len(items) > limit,
            "url": "/v1/subscription_items",
        }  # fmt: skip
        for path in p.get("expand") or ():
            self.api.expand(body, path)
        return body

    def get_item(self, params: dict[str, Any], iid: str) -> dict[str, Any]:
        p = self.api.check({"expand": ["str"]}, params)
        sid = self.store.item_sub.get(iid)
        sub = self.store.data["subscription"].get(sid or "")
        item = next((it for it in sub["_items"] if it["id"] == iid), None) if sub else None
        if item is None:
            raise invalid(f"No such subscription item: '{iid}'", "id", "resource_missing")
        body = render_item(self.store, item)
        for path in p.get("expand") or ():
            self.api.expand(body, path)
        return body

    def get_invoice(self, params: dict[str, Any], iid: str) -> dict[str, Any]:
        p = self.api.check({"expand": ["str"]}, params)
        return self.api.out("invoice", self.api.get("invoice", iid), p.get("expand"))

    def list_invoices(self, params: dict[str, Any]) -> dict[str, Any]:
        spec = {**LIST_SPEC, "customer": "str", "subscription": "str",
                "status": ("draft", "open", "paid", "uncollectible", "void")}  # fmt: skip
        p = self.api.check(spec, params)
        s = self.store
        if p.get("subscription"):
            index = s.invoices_by_sub.get(p["subscription"])
        elif p.get("customer"):
            index = s.invoices_by_customer.get(p["customer"])
        else:
            index = s.order["invoice"]
        cus, status = p.get("customer"), p.get("status")

        def pred(r: dict[str, Any]) -> bool:
            return (cus is None or r["customer"] == cus) and (status is None
                                                              or r["status"] == status)

        return self.api.page("invoice", index, p, "/v1/invoices", pred)

"""Subscription items: the rules for adding and changing them, and their read routes."""

from __future__ import annotations

from typing import Any

from .api import LIST_SPEC, RouteGroup
from .catalog import merge_metadata
from .errors import invalid, missing_param
from .objects import new_discount, new_item, render_item

__all__ = ["ItemRules", "SubscriptionItemRoutes"]


class ItemRules:
    """Part of ``SubscriptionRoutes``: prices, quantities and discounts of a subscription's
    items, checked the way Stripe checks them."""

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

    def _quantity(self, price: dict[str, Any], q: int | None, param: str) -> int:
        if price["recurring"]["usage_type"] == "metered":
            if q is not None:
                raise invalid("Quantity cannot be set for metered prices.", param)
            return 1
        q = 1 if q is None else q
        if q < 0:
            raise invalid("Invalid quantity: must be greater than or equal to 0", param)
        return q

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


class SubscriptionItemRoutes(RouteGroup):
    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", "/v1/subscription_items", self.list_items),
            ("GET", "/v1/subscription_items/{id}", self.get_item),
        ]

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

"""Products, prices, coupons and billing meters."""

from __future__ import annotations

import re
from typing import Any

from .api import LIST_SPEC, RouteGroup
from .errors import StripeError, invalid, missing_param
from .objects import new_coupon, new_price, new_product, public, render

__all__ = ["CatalogRoutes"]

INTERVALS = ("day", "week", "month", "year")
MAX_INTERVAL_DAYS = {"day": 1095, "week": 156, "month": 36, "year": 3}  # three years at most
TIER_SPEC = {
    "up_to": "int_or_inf", "unit_amount": "int", "unit_amount_decimal": "decimal",
    "flat_amount": "int", "flat_amount_decimal": "decimal",
}  # fmt: skip
PRICE_CREATE = {
    "currency": "str", "product": "str", "product_data": {"name": "str", "metadata": "meta"},
    "unit_amount": "int", "unit_amount_decimal": "decimal", "nickname": "str",
    "lookup_key": "str", "active": "bool", "metadata": "meta",
    "tax_behavior": ("exclusive", "inclusive", "unspecified"),
    "billing_scheme": ("per_unit", "tiered"), "tiers_mode": ("graduated", "volume"),
    "tiers": [TIER_SPEC], "transform_quantity": {"divide_by": "int", "round": ("up", "down")},
    "recurring": {
        "interval": INTERVALS, "interval_count": "int", "usage_type": ("licensed", "metered"),
        "meter": "str", "trial_period_days": "int",
    },
    "expand": ["str"],
}  # fmt: skip
PRODUCT_FIELDS = {
    "name": "str", "active": "bool", "description": "str", "metadata": "meta",
    "statement_descriptor": "str", "unit_label": "str", "expand": ["str"],
}  # fmt: skip
_CURRENCY = re.compile(r"^[a-z]{3}$")


def merge_metadata(current: dict[str, str], update: dict[str, str] | None) -> dict[str, str]:
    """Stripe's rules: ``metadata=""`` clears, ``metadata[k]=""`` removes one key."""
    if update is None:
        return {}
    out = dict(current)
    for k, v in update.items():
        if v == "":
            out.pop(k, None)
        else:
            out[k] = v
    return out


class CatalogRoutes(RouteGroup):
    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/v1/products", self.create_product),
            ("GET", "/v1/products", self.list_products),
            ("GET", "/v1/products/{id}", self.get_product),
            ("POST", "/v1/products/{id}", self.update_product),
            ("POST", "/v1/prices", self.create_price),
            ("GET", "/v1/prices", self.list_prices),
            ("GET", "/v1/prices/{id}", self.get_price),
            ("POST", "/v1/prices/{id}", self.update_price),
            ("POST", "/v1/coupons", self.create_coupon),
            ("GET", "/v1/coupons", self.list_coupons),
            ("GET", "/v1/coupons/{id}", self.get_coupon),
            ("DELETE", "/v1/coupons/{id}", self.delete_coupon),
            ("POST", "/v1/billing/meters", self.create_meter),
            ("GET", "/v1/billing/meters/{id}", self.get_meter),
        ]

    # products ------------------------------------------------------------------------------
    def create_product(self, params: dict[str, Any]) -> dict[str, Any]:
        p = self.api.check({**PRODUCT_FIELDS, "id": "str"}, params)
        if not p.get("name"):
            raise missing_param("name")
        if p.get("id") and p["id"] in self.store.data["product"]:
            raise invalid("Product already exists.", "id", "resource_already_exists")
        rec = self.store.put("product", new_product(self.store, self.api.now(), p))
        self.billing.emit("product.created", "product", rec, self.api.now())
        return self.api.out("product", rec, p.get("expand"))

    def get_product(self, params: dict[str, Any], pid: str) -> dict[str, Any]:
        p = self.api.check({"expand": ["str"]}, params)
        return self.api.out("product", self.api.get("product", pid), p.get("expand"))

    def update_product(self, params: dict[str, Any], pid: str) -> dict[str, Any]:
        rec = self.api.get("product", pid)
        p = self.api.check(PRODUCT_FIELDS, params)
        before = render(self.store, "product", rec)
        for k, v in p.items():
            if k == "metadata":
                rec["metadata"] = merge_metadata(rec["metadata"], v)
            elif k != "expand":
                rec[k] = v
        rec["updated"] = self.api.now()
        self.billing.emit("product.updated", "product", rec, self.api.now(), before)
        return self.api.out("product", rec, p.get("expand"))

    def list_products(self, params: dict[str, Any]) -> dict[str, Any]:
        p = self.api.check({**LIST_SPEC, "active": "bool", "ids": ["str"]}, params)
        active, ids = p.get("active"), p.get("ids")
        if ids and (p.get("starting_after") or p.get("ending_before")):
            # Stripe: ids "cannot be used with starting_after or ending_before".
            raise invalid("You cannot use `ids` with `starting_after` or `ending_before`.",
                          param="ids")
        wanted = set(ids or ())

        def pred(r: dict[str, Any]) -> bool:
            return (active is None or r["active"] == active) and (not wanted or r["id"] in wanted)

        return self.api.page("product", self.store.order["product"], p, "/v1/products", pred)

    # prices --------------------------------------------------------------------------------
    def create_price(self, params: dict[str, Any]) -> dict[str, Any]:
        p = self.api.check(PRICE_CREATE, params)
        cur = (p.get("currency") or "").lower()
        if not cur:
            raise missing_param("currency")
        if not _CURRENCY.match(cur):
            raise invalid(f"Invalid currency: {p['currency']}", "currency")
        p["currency"] = cur
        product = self._price_product(p)
        self._check_amounts(p)
        rec_in = p.get("recurring")
        if rec_in is not None:
            if not rec_in.get("interval"):
                raise missing_param("recurring[interval]")
            count = rec_in.get("interval_count") or 1
            if not 1 <= count <= MAX_INTERVAL_DAYS[rec_in["interval"]]:
                raise invalid("The maximum billing period is three years.",
                              "recurring[interval_count]")  # fmt: skip
            if rec_in.get("usage_type") == "metered":
                # Since 2025-03-31.basil a metered price must be backed by a billing meter.
                if not rec_in.get("meter"):
                    raise missing_param("recurring[meter]")
                self.api.get("meter", rec_in["meter"], "recurring[meter]")
            elif rec_in.get("meter"):
                raise invalid("A meter can only be set on a metered price.", "recurring[meter]")
        rec = self.store.put("price", new_price(self.store, self.api.now(), p, product))
        return self.api.out("price", rec, p.get("expand"))

    def _price_product(self, p: dict[str, Any]) -> str:
        if p.get("product") and p.get("product_data"):
            raise invalid("You may only specify one of these parameters: product, product_data.",
                          "product")  # fmt: skip
        if p.get("product"):
            return self.api.get("product", p["product"], "product")["id"]
        if p.get("product_data"):
            if not p["product_data"].get("name"):
                raise missing_param("product_data[name]")
            prod = new_product(self.store, self.api.now(), p["product_data"])
            return self.store.put("product", prod)["id"]
        raise missing_param("product")

    @staticmethod
    def _check_amounts(p: dict[str, Any]) -> None:
        has_ua = p.get("unit_amount") is not None
        has_uad = p.get("unit_amount_decimal") is not None
        if has_ua and has_uad:
            raise invalid("You may only specify one of these parameters: unit_amount, "
                          "unit_amount_decimal.", "unit_amount")  # fmt: skip
        if has_ua and p["unit_amount"] < 0:
            raise invalid("This value must be greater than or equal to 0.", "unit_amount")
        if (p.get("billing_scheme") or "per_unit") == "per_unit":
            if p.get("tiers") or p.get("tiers_mode"):
                raise invalid("Tiers can only be set when billing_scheme is tiered.", "tiers")
            if not (has_ua or has_uad):
                raise invalid("Must provide unit_amount or unit_amount_decimal when "
                              "billing_scheme is per_unit.", "unit_amount")  # fmt: skip
            tq = p.get("transform_quantity")
            if tq is not None and (not tq.get("divide_by") or not tq.get("round")):
                raise missing_param("transform_quantity[divide_by]")
            if tq is not None and tq["divide_by"] < 1:
                raise invalid("divide_by must be a positive integer.",
                              "transform_quantity[divide_by]")  # fmt: skip
            return
        if has_ua or has_uad:
            raise invalid("unit_amount cannot be set when billing_scheme is tiered.",
                          "unit_amount")  # fmt: skip
        if p.get("transform_quantity"):
            raise invalid("transform_quantity cannot be used with tiered prices.",
                          "transform_quantity")  # fmt: skip
        if not p.get("tiers_mode"):
            raise missing_param("tiers_mode")
        tiers = p.get("tiers") or []
        if not tiers:
            raise missing_param("tiers")
        last = 0
        for i, t in enumerate(tiers):
            up = t.get("up_to")
            if up is None:
                raise missing_param(f"tiers[{i}][up_to]")
            if (up == "inf") != (i == len(tiers) - 1):
                raise invalid("The last tier must have up_to set to inf, and only the last.",
                              f"tiers[{i}][up_to]")  # fmt: skip
            if up != "inf":
                if up <= last:
                    raise invalid("Tiers must be sorted by up_to, ascending.",
                                  f"tiers[{i}][up_to]")  # fmt: skip
                last = up
            for a, b in (("unit_amount", "unit_amount_decimal"),
                         ("flat_amount", "flat_amount_decimal")):  # fmt: skip
                if t.get(a) is not None and t.get(b) is not None:
                    raise invalid(f"You may only specify one of these parameters: {a}, {b}.",
                                  f"tiers[{i}][{a}]")  # fmt: skip

    def get_price(self, params: dict[str, Any], pid: str) -> dict[str, Any]:
        p = self.api.check({"expand": ["str"]}, params)
        return self.api.out("price", self.api.get("price", pid), p.get("expand"))

    def update_price(self, params: dict[str, Any], pid: str) -> dict[str, Any]:
        rec = self.api.get("price", pid)
        p = self.api.check({"active": "bool", "metadata": "meta", "nickname": "str",
                            "lookup_key": "str", "expand": ["str"]}, params)  # fmt: skip
        before = render(self.store, "price", rec)
        for k, v in p.items():
            if k == "metadata":
                rec["metadata"] = merge_metadata(rec["metadata"], v)
            elif k != "expand":
                rec[k] = v
        self.billing.emit("price.updated", "price", rec, self.api.now(), before)
        return self.api.out("price", rec, p.get("expand"))

    def list_prices(self, params: dict[str, Any]) -> dict[str, Any]:
        spec = {**LIST_SPEC, "active": "bool", "currency": "str", "product": "str",
                "type": ("one_time", "recurring")}  # fmt: skip
        p = self.api.check(spec, params)
        filters = {k: p[k] for k in ("active", "currency", "product", "type") if k in p}
        pred = (lambda r: all(r[k] == v for k, v in filters.items())) if filters else None
        return self.api.page("price", self.store.order["price"], p, "/v1/prices", pred)

    # coupons -------------------------------------------------------------------------------
    def create_coupon(self, params: dict[str, Any]) -> dict[str, Any]:
        spec = {
            "id": "str", "duration": ("forever", "once", "repeating"),
            "duration_in_months": "int", "percent_off": "number", "amount_off": "int",
            "currency": "str", "name": "str", "max_redemptions": "int", "redeem_by": "int",
            "metadata": "meta", "expand": ["str"],
        }  # fmt: skip
        p = self.api.check(spec, params)
        if (p.get("percent_off") is None) == (p.get("amount_off") is None):
            raise invalid("Coupons must have either a percent_off or an amount_off.",
                          "percent_off")  # fmt: skip
        if p.get("percent_off") is not None and not 0 < p["percent_off"] <= 100:
            raise invalid("percent_off must be greater than 0 and at most 100.", "percent_off")
        if p.get("amount_off") is not None:
            if not p.get("currency"):
                raise missing_param("currency")
            p["currency"] = p["currency"].lower()
        if p.get("duration") == "repeating" and not p.get("duration_in_months"):
            raise missing_param("duration_in_months")
        if p.get("duration") != "repeating" and p.get("duration_in_months") is not None:
            raise invalid("duration_in_months can only be set when duration is repeating.",
                          "duration_in_months")  # fmt: skip
        if p.get("id") and p["id"] in self.store.data["coupon"]:
            raise StripeError(400, "Coupon already exists.", code="resource_already_exists",
                              param="id")  # fmt: skip
        if isinstance(p.get("percent_off"), float) and p["percent_off"].is_integer():
            p["percent_off"] = float(p["percent_off"])
        rec = self.store.put("coupon", new_coupon(self.store, self.api.now(), p))
        rec["_deleted"] = False
        return self.api.out("coupon", rec, p.get("expand"))

    def get_coupon(self, params: dict[str, Any], cid: str) -> dict[str, Any]:
        p = self.api.check({"expand": ["str"]}, params)
        return self.api.out("coupon", self.api.get("coupon", cid), p.get("expand"))

    def delete_coupon(self, params: dict[str, Any], cid: str) -> dict[str, Any]:
        self.api.check({}, params)
        rec = self.api.get("coupon", cid)
        rec["_deleted"] = True  # discounts already applied keep working, as in Stripe
        rec["valid"] = False
        self.billing.emit("coupon.deleted", "coupon", rec, self.api.now())
        return {"id": cid, "object": "coupon", "deleted": True}

    def list_coupons(self, params: dict[str, Any]) -> dict[str, Any]:
        p = self.api.check(LIST_SPEC, params)
        return self.api.page("coupon", self.store.order["coupon"], p, "/v1/coupons",
                             lambda r: not r["_deleted"])  # fmt: skip

    # meters --------------------------------------------------------------------------------
    def create_meter(self, params: dict[str, Any]) -> dict[str, Any]:
        spec = {"display_name": "str", "event_name": "str",
                "default_aggregation": {"formula": ("count", "last", "sum")},
                "expand": ["str"]}  # fmt: skip
        p = self.api.check(spec, params)
        for k in ("display_name", "event_name"):
            if not p.get(k):
                raise missing_param(k)
        if not (p.get("default_aggregation") or {}).get("formula"):
            raise missing_param("default_aggregation[formula]")
        now = self.api.now()
        rec = {
            "id": self.store.new_id("mtr", 24), "object": "billing.meter", "created": now,
            "customer_mapping": {"event_payload_key": "stripe_customer_id", "type": "by_id"},
            "default_aggregation": p["default_aggregation"], "display_name": p["display_name"],
            "event_name": p["event_name"], "event_time_window": None, "livemode": False,
            "status": "active", "status_transitions": {"deactivated_at": None},
            "updated": now, "value_settings": {"event_payload_key": "value"},
        }  # fmt: skip
        return public(self.store.put("meter", rec))

    def get_meter(self, params: dict[str, Any], mid: str) -> dict[str, Any]:
        self.api.check({"expand": ["str"]}, params)
        return public(self.api.get("meter", mid))

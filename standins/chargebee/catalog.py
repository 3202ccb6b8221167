"""Product Catalog 2.0: item families, items, item prices (with tiers) and coupons.

Prices are integers in the currency's minor unit; on a site with multi-decimal pricing an item
price may instead be given as ``price_in_decimal`` (a string in major units), and a site without
it refuses that parameter as Chargebee does.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .clock import UNITS
from .errors import blank, duplicate, invalid_request, not_found, wrong_value
from .listing import Field, run_list
from .params import Params
from .site import Site, check_id
from .store import public

__all__ = ["PRICING_MODELS", "CatalogRoutes", "check_tiers"]

PRICING_MODELS = ("flat_fee", "per_unit", "tiered", "volume", "stairstep")
TIER_FIELDS = ("starting_unit", "ending_unit", "price", "starting_unit_in_decimal",
               "ending_unit_in_decimal", "price_in_decimal", "pricing_type", "package_size")
ITEM_TYPES = ("plan", "addon", "charge")


def _int(param: str, raw: str | None, lo: int = 0) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.lstrip("-").isdigit() or int(raw) < lo:
        raise wrong_value(param, f"invalid value {raw}")
    return int(raw)


def check_tiers(name: str, rows: list[dict[str, str]], decimal_ok: bool) -> list[dict[str, Any]]:
    """Chargebee's tier rules: start at 1, no gaps or overlaps, only the last tier open-ended."""
    if not rows:
        raise blank(f"{name}[starting_unit][0]")
    tiers, expect = [], 1
    for i, row in enumerate(rows):
        if any(k.endswith("_in_decimal") for k in row) and not decimal_ok:
            raise invalid_request(f"{name}[price_in_decimal][{i}] : multi-decimal pricing is not "
                                  "enabled for the site")  # fmt: skip
        start = _int(f"{name}[starting_unit][{i}]", row.get("starting_unit"), 1)
        end = _int(f"{name}[ending_unit][{i}]", row.get("ending_unit"), 1)
        price = _int(f"{name}[price][{i}]", row.get("price")) or 0
        if start is None:
            start = expect
        if start != expect:
            raise wrong_value(f"{name}[starting_unit][{i}]",
                              f"should be {expect}; tiers must be continuous")
        last = i == len(rows) - 1
        if end is None and not last:
            raise blank(f"{name}[ending_unit][{i}]")
        if end is not None and last:
            raise wrong_value(f"{name}[ending_unit][{i}]", "the last tier cannot have an "
                              "ending unit")  # fmt: skip
        if end is not None and end < start:
            raise wrong_value(f"{name}[ending_unit][{i}]", "should be greater than starting unit")
        tier: dict[str, Any] = {"starting_unit": start, "ending_unit": end, "price": price}
        if row.get("pricing_type"):
            if row["pricing_type"] not in ("per_unit", "flat_fee", "package"):
                raise wrong_value(f"{name}[pricing_type][{i}]", "invalid value")
            tier["pricing_type"] = row["pricing_type"]
            if row["pricing_type"] == "package":
                tier["package_size"] = _int(f"{name}[package_size][{i}]",
                                            row.get("package_size"), 1) or 1
        tiers.append(tier)
        expect = (end or 0) + 1
    return tiers


class CatalogRoutes:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.store = site.store

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/item_families", self.create_family),
            ("GET", "/item_families/{id}", self.get_family),
            ("POST", "/items", self.create_item),
            ("GET", "/items/{id}", self.get_item),
            ("GET", "/items", self.list_items),
            ("POST", "/item_prices", self.create_price),
            ("GET", "/item_prices/{id}", self.get_price),
            ("GET", "/item_prices", self.list_prices),
            ("POST", "/coupons/create_for_items", self.create_coupon),
            ("GET", "/coupons/{id}", self.get_coupon),
            ("GET", "/coupons", self.list_coupons),
        ]

    def _new_id(self, p: Params, kind: str, max_len: int = 100) -> str:
        oid = check_id("id", p.str("id", required=True), max_len)
        if oid in self.store.data[kind]:
            raise duplicate("id", oid)
        return oid

    def _get(self, kind: str, label: str, oid: str) -> dict[str, Any]:
        rec = self.store.get(kind, oid)
        if rec is None or rec.get("deleted"):
            raise not_found(label, oid)
        return rec

    # item families -------------------------------------------------------------------------
    def create_family(self, p: Params) -> dict[str, Any]:
        oid = self._new_id(p, "item_family", 50)
        rec = {"id": oid, "name": p.str("name", required=True, max_len=50),
               "description": p.str("description", max_len=500), "status": "active",
               "object": "item_family"}  # fmt: skip
        p.finish()
        self.store.put("item_family", rec, self.site.now())
        return {"item_family": public(rec)}

    def get_family(self, p: Params, oid: str) -> dict[str, Any]:
        p.finish()
        return {"item_family": public(self._get("item_family", "Item family", oid))}

    # items ---------------------------------------------------------------------------------
    def create_item(self, p: Params) -> dict[str, Any]:
        oid = self._new_id(p, "item")
        name = p.str("name", required=True, max_len=100)
        kind = p.enum("type", ITEM_TYPES, required=True)
        family = p.str("item_family_id", required=True)
        if self.store.get("item_family", family) is None:
            raise not_found("Item family", family, param="item_family_id")
        rec = {
            "id": oid, "name": name, "external_name": p.str("external_name", max_len=100) or name,
            "description": p.str("description", max_len=2000), "status": "active",
            "item_family_id": family, "type": kind, "is_shippable": False, "is_giftable": False,
            "enabled_for_checkout": True, "enabled_in_portal": True,
            "item_applicability": "all" if kind == "plan" else None, "metered": False,
            "channel": "web", "metadata": p.json("metadata"), "deleted": False, "object": "item",
        }  # fmt: skip
        p.finish()
        self.store.put("item", rec, self.site.now())
        self.site.emit("item_created", item=rec)
        return {"item": public(rec)}

    def get_item(self, p: Params, oid: str) -> dict[str, Any]:
        p.finish()
        return {"item": public(self._get("item", "Item", oid))}

    def list_items(self, p: Params) -> dict[str, Any]:
        fields = {"id": Field("string"), "item_family_id": Field("string"),
                  "type": Field("enum", choices=ITEM_TYPES), "name": Field("string"),
                  "status": Field("enum", choices=("active", "archived", "deleted")),
                  "updated_at": Field("timestamp")}  # fmt: skip
        return run_list(p, self.store.data["item"].values(), fields,
                        lambda r: {"item": public(r)}, sortable=("updated_at",))

    # item prices ---------------------------------------------------------------------------
    def create_price(self, p: Params) -> dict[str, Any]:
        oid = self._new_id(p, "item_price")
        name = p.str("name", required=True, max_len=100)
        item_id = p.str("item_id", required=True)
        item = self.store.get("item", item_id)
        if item is None or item.get("deleted"):
            raise not_found("Item", item_id, param="item_id")
        model = p.enum("pricing_model", PRICING_MODELS, default="flat_fee")
        currency = self.site.currency("currency_code", p.str("currency_code"))
        price = p.int("price", lo=0)
        price_dec = p.decimal("price_in_decimal")
        if price_dec is not None and not self.site.settings.decimal_pricing:
            raise invalid_request("price_in_decimal : multi-decimal pricing is not enabled for "
                                  "the site", param="price_in_decimal")  # fmt: skip
        if price is not None and price_dec is not None:
            raise invalid_request("price : price and price_in_decimal cannot both be passed",
                                  param="price")
        tier_rows = p.objects("tiers", TIER_FIELDS)
        tiers = None
        if model in ("tiered", "volume", "stairstep"):
            if price is not None or price_dec is not None:
                raise wrong_value("price", f"cannot be passed for the {model} pricing model")
            tiers = check_tiers("tiers", tier_rows, self.site.settings.decimal_pricing)
        elif tier_rows:
            raise wrong_value("tiers[starting_unit][0]",
                              f"cannot be passed for the {model} pricing model")
        elif price_dec is None and price is None:
            price = 0
        recurring = item["type"] in ("plan", "addon")
        unit = p.enum("period_unit", UNITS)
        period = p.int("period", lo=1)
        if recurring and unit is None:
            raise blank("period_unit")
        if not recurring and (unit or period):
            raise wrong_value("period_unit", "cannot be passed for a charge item price")
        trial_unit = p.enum("trial_period_unit", ("day", "month"))
        trial = p.int("trial_period", lo=0)
        if (trial is None) != (trial_unit is None):
            raise blank("trial_period_unit" if trial_unit is None else "trial_period")
        if trial is not None and item["type"] != "plan":
            raise wrong_value("trial_period", "trial is applicable only to plan item prices")
        rec = {
            "id": oid, "name": name, "item_family_id": item["item_family_id"], "item_id": item_id,
            "description": p.str("description", max_len=2000), "status": "active",
            "external_name": p.str("external_name", max_len=100) or name, "pricing_model": model,
            "price": price, "price_in_decimal": price_dec,
            "period": (period or 1) if recurring else None, "currency_code": currency,
            "period_unit": unit, "trial_period": trial, "trial_period_unit": trial_unit,
            "free_quantity": 0, "channel": "web", "created_at": self.site.now(),
            "is_taxable": p.bool("is_taxable", default=True), "tiers": tiers,
            "metadata": p.json("metadata"), "item_type": item["type"],
            "show_description_in_invoices": False, "show_description_in_quotes": False,
            "deleted": False, "object": "item_price",
        }  # fmt: skip
        p.finish()
        self.store.put("item_price", rec, self.site.now())
        self.site.emit("item_price_created", item_price=rec)
        return {"item_price": public(rec)}

    def get_price(self, p: Params, oid: str) -> dict[str, Any]:
        p.finish()
        return {"item_price": public(self._get("item_price", "Item price", oid))}

    def list_prices(self, p: Params) -> dict[str, Any]:
        fields = {"id": Field("string"), "item_id": Field("string"), "name": Field("string"),
                  "item_family_id": Field("string"), "currency_code": Field("string"),
                  "pricing_model": Field("enum", choices=PRICING_MODELS),
                  "item_type": Field("enum", choices=ITEM_TYPES),
                  "period_unit": Field("enum", choices=UNITS), "period": Field("number"),
                  "status": Field("enum", choices=("active", "archived", "deleted")),
                  "updated_at": Field("timestamp")}  # fmt: skip
        return run_list(p, self.store.data["item_price"].values(), fields,
                        lambda r: {"item_price": public(r)}, sortable=("updated_at",))

    # coupons -------------------------------------------------------------------------------
    def create_coupon(self, p: Params) -> dict[str, Any]:
        oid = self._new_id(p, "coupon")
        name = p.str("name", required=True, max_len=50)
        apply_on = p.enum("apply_on", ("invoice_amount", "each_specified_item"), required=True)
        if apply_on != "invoice_amount":
            raise invalid_request("apply_on : each_specified_item is not supported by the "
                                  "billing-sync Chargebee stand-in", param="apply_on")
        dtype = p.enum("discount_type", ("fixed_amount", "percentage"), default="percentage")
        pct, amount, currency = p.decimal("discount_percentage"), p.int("discount_amount"), None
        if dtype == "percentage":
            if pct is None:
                raise blank("discount_percentage")
            if not Decimal("0.01") <= Decimal(pct) <= 100:
                raise wrong_value("discount_percentage", "should be between 0.01 and 100")
        else:
            if amount is None:
                raise blank("discount_amount")
            if amount <= 0:
                raise wrong_value("discount_amount", "should be greater than 0")
            currency = self.site.currency("currency_code", p.str("currency_code"))
        duration = p.enum("duration_type", ("one_time", "forever", "limited_period"),
                          default="forever")
        period, unit = p.int("period", lo=1), p.enum("period_unit", UNITS)
        months = p.int("duration_month", lo=1)
        if duration == "limited_period":
            if months is not None and period is None:
                period, unit = months, "month"
            if period is None:
                raise blank("period")
            if unit is None:
                raise blank("period_unit")
        elif period is not None or unit is not None:
            raise wrong_value("period", f"cannot be passed for duration_type {duration}")
        rec = {
            "id": oid, "name": name, "invoice_name": p.str("invoice_name", max_len=100),
            "discount_type": dtype, "discount_percentage": float(pct) if pct else None,
            "discount_amount": amount if dtype == "fixed_amount" else None,
            "currency_code": currency, "duration_type": duration,
            "duration_month": period if unit == "month" else None,
            "period": period, "period_unit": unit, "valid_till": p.int("valid_till"),
            "max_redemptions": p.int("max_redemptions", lo=1), "status": "active",
            "apply_on": apply_on, "created_at": self.site.now(),
            "included_in_mrr": p.bool("included_in_mrr", default=True), "redemptions": 0,
            "meta_data": p.json("meta_data"), "deleted": False, "object": "coupon",
        }  # fmt: skip
        p.finish()
        self.store.put("coupon", rec, self.site.now())
        self.site.emit("coupon_created", coupon=rec)
        return {"coupon": public(rec)}

    def get_coupon(self, p: Params, oid: str) -> dict[str, Any]:
        p.finish()
        return {"coupon": public(self._get("coupon", "Coupon", oid))}

    def list_coupons(self, p: Params) -> dict[str, Any]:
        fields = {"id": Field("string"), "name": Field("string"),
                  "discount_type": Field("enum", choices=("fixed_amount", "percentage")),
                  "duration_type": Field("enum", choices=("one_time", "forever",
                                                          "limited_period")),
                  "status": Field("enum", choices=("active", "expired", "archived", "deleted")),
                  "created_at": Field("timestamp"), "updated_at": Field("timestamp")}  # fmt: skip
        return run_list(p, self.store.data["coupon"].values(), fields,
                        lambda r: {"coupon": public(r)}, sortable=("created_at",))

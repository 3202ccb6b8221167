"""Reading ``subscription_items[]``, ``item_tiers[]``, ``discounts[]`` and ``coupon_ids[]``.

A subscription has exactly one plan item price; addons and charges join it. Every recurring
item price must share the plan's currency and billing period, as Chargebee requires.
"""

from __future__ import annotations

from typing import Any

from .catalog import TIER_FIELDS, check_tiers
from .clock import UNITS, term_boundary
from .errors import blank, invalid_request, not_found, wrong_value
from .params import Params
from .pricing import item_amount
from .site import Site

__all__ = ["ITEM_FIELDS", "build_items", "read_coupons", "read_discounts", "read_items"]

ITEM_FIELDS = ("item_price_id", "quantity", "unit_price", "unit_price_in_decimal", "item_type",
               "quantity_in_decimal", "billing_cycles", "trial_end")
DISCOUNT_FIELDS = ("apply_on", "duration_type", "percentage", "amount", "period", "period_unit",
                   "included_in_mrr", "item_price_id", "quantity")


def read_items(p: Params, site: Site) -> list[tuple[dict[str, Any], dict[str, str], int]]:
    """``(item price, raw row, index)`` for each ``subscription_items`` row."""
    out = []
    for i, row in enumerate(p.objects("subscription_items", ITEM_FIELDS)):
        pid = row.get("item_price_id")
        if not pid:
            raise blank(f"subscription_items[item_price_id][{i}]")
        price = site.store.get("item_price", pid)
        if price is None or price.get("deleted"):
            raise not_found("Item price", pid, param=f"subscription_items[item_price_id][{i}]")
        given = row.get("item_type")
        if given and given != price["item_type"]:
            raise wrong_value(f"subscription_items[item_type][{i}]",
                              f"{pid} is of type {price['item_type']}")
        for key in ("quantity_in_decimal", "billing_cycles", "trial_end"):
            if key in row:
                raise invalid_request(f"subscription_items[{key}][{i}] : is not supported by the "
                                      "billing-sync Chargebee stand-in")  # fmt: skip
        out.append((price, row, i))
    return out


def build_items(rows: list[tuple[dict[str, Any], dict[str, str], int]], site: Site,
                tiers: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:  # fmt: skip
    """The subscription fields the items decide: items, tiers, currency, billing period."""
    plans = [r for r in rows if r[0]["item_type"] == "plan"]
    if len(plans) != 1:
        i = plans[1][2] if plans else 0
        raise wrong_value(f"subscription_items[item_price_id][{i}]",
                          "exactly one plan item price is required")
    plan = plans[0][0]
    items, item_tiers, seen = [], [], set()
    for price, row, i in rows:
        if price["id"] in seen:
            raise wrong_value(f"subscription_items[item_price_id][{i}]",
                              f"{price['id']} is passed more than once")
        seen.add(price["id"])
        if price["currency_code"] != plan["currency_code"]:
            raise wrong_value(f"subscription_items[item_price_id][{i}]",
                              f"currency should be {plan['currency_code']} as the plan's")
        if price["item_type"] == "addon" and (price["period_unit"], price["period"]) != \
                (plan["period_unit"], plan["period"]):
            raise wrong_value(f"subscription_items[item_price_id][{i}]",
                              "should have the same billing period as the plan")
        model = price["pricing_model"]
        qty_raw = row.get("quantity")
        qty = 1
        if qty_raw:
            if not qty_raw.isdigit() or int(qty_raw) < 1:
                raise wrong_value(f"subscription_items[quantity][{i}]", f"invalid value {qty_raw}")
            qty = int(qty_raw)
            if model == "flat_fee" and qty != 1:
                raise wrong_value(f"subscription_items[quantity][{i}]",
                                  "cannot be passed for the flat_fee pricing model")
        item: dict[str, Any] = {"item_price_id": price["id"], "item_type": price["item_type"],
                                "quantity": qty, "free_quantity": 0,
                                "object": "subscription_item"}  # fmt: skip
        unit, unit_dec = row.get("unit_price"), row.get("unit_price_in_decimal")
        if model in ("tiered", "volume", "stairstep") and (unit or unit_dec):
            raise wrong_value(f"subscription_items[unit_price][{i}]",
                              f"cannot be passed for the {model} pricing model")
        if unit_dec and not site.settings.decimal_pricing:
            raise invalid_request(f"subscription_items[unit_price_in_decimal][{i}] : multi-"
                                  "decimal pricing is not enabled for the site")  # fmt: skip
        if unit:
            if not unit.isdigit():
                raise wrong_value(f"subscription_items[unit_price][{i}]", f"invalid value {unit}")
            item["unit_price"] = int(unit)
        elif unit_dec or price.get("price_in_decimal") is not None:
            item["unit_price_in_decimal"] = unit_dec or price["price_in_decimal"]
        elif model in ("flat_fee", "per_unit"):
            item["unit_price"] = price["price"]
        if price["item_type"] == "charge":
            item.update(charge_on_event="subscription_creation", charge_once=True)
        ptiers = tiers.get(price["id"])
        item_amount(item, price, ptiers, plan["currency_code"])
        items.append(item)
        for n, t in enumerate(ptiers or price.get("tiers") or []):
            item_tiers.append({"item_price_id": price["id"], **t, "index": n,
                               "object": "item_tier"})  # fmt: skip
    extra = set(tiers) - seen
    if extra:
        raise wrong_value("item_tiers[item_price_id][0]", f"{sorted(extra)[0]} is not in "
                          "subscription_items")  # fmt: skip
    return {"subscription_items": items, "item_tiers": item_tiers or None,
            "currency_code": plan["currency_code"], "billing_period": plan["period"],
            "billing_period_unit": plan["period_unit"], "_plan": plan}  # fmt: skip


def read_tiers(p: Params, site: Site) -> dict[str, list[dict[str, Any]]]:
    rows = p.objects("item_tiers", ("item_price_id", *TIER_FIELDS))
    by_price: dict[str, list[dict[str, str]]] = {}
    for i, row in enumerate(rows):
        pid = row.pop("item_price_id", None)
        if not pid:
            raise blank(f"item_tiers[item_price_id][{i}]")
        by_price.setdefault(pid, []).append(row)
    return {pid: check_tiers("item_tiers", r, site.settings.decimal_pricing)
            for pid, r in by_price.items()}


def read_discounts(p: Params, site: Site, currency: str, now: int) -> list[dict[str, Any]]:
    out = []
    for i, row in enumerate(p.objects("discounts", DISCOUNT_FIELDS)):
        duration = row.get("duration_type")
        if not duration:
            raise blank(f"discounts[duration_type][{i}]")
        if duration not in ("one_time", "forever", "limited_period"):
            raise wrong_value(f"discounts[duration_type][{i}]", f"invalid value {duration}")
        if row.get("apply_on", "invoice_amount") != "invoice_amount" or "item_price_id" in row:
            raise invalid_request(f"discounts[apply_on][{i}] : only invoice_amount is supported "
                                  "by the billing-sync Chargebee stand-in")  # fmt: skip
        pct, amount = row.get("percentage"), row.get("amount")
        if (pct is None) == (amount is None):
            raise wrong_value(f"discounts[percentage][{i}]", "pass one of percentage or amount")
        d: dict[str, Any] = {
            "id": site.store.new_id("d_"), "type": "percentage" if pct else "fixed_amount",
            "duration_type": duration, "included_in_mrr": row.get("included_in_mrr",
                                                                  "true") == "true",
            "apply_on": "invoice_amount", "created_at": now, "applied_count": 0, "index": i,
            "object": "discount",
        }  # fmt: skip
        try:
            if pct:
                d["percentage"] = float(pct)
                assert 0 < d["percentage"] <= 100
            else:
                d["amount"], d["currency_code"] = int(amount), currency
                assert d["amount"] > 0
        except (ValueError, AssertionError):
            raise wrong_value(f"discounts[{'percentage' if pct else 'amount'}][{i}]",
                              "invalid value") from None
        if duration == "limited_period":
            period, unit = row.get("period"), row.get("period_unit")
            if not period or not period.isdigit() or unit not in UNITS:
                raise wrong_value(f"discounts[period][{i}]", "period and period_unit are "
                                  "required for limited_period")  # fmt: skip
            d.update(period=int(period), period_unit=unit,
                     apply_till=term_boundary(now, unit, int(period), 1))
        out.append(d)
    return out


def read_coupons(p: Params, site: Site, currency: str, now: int) -> list[dict[str, Any]]:
    out = []
    for i, cid in enumerate(p.array("coupon_ids")):
        c = site.store.get("coupon", cid)
        if c is None or c.get("deleted"):
            raise not_found("Coupon", cid, param=f"coupon_ids[{i}]")
        if c["status"] != "active" or (c.get("valid_till") and c["valid_till"] < now):
            raise wrong_value(f"coupon_ids[{i}]", f"coupon {cid} is not active")
        if c.get("currency_code") and c["currency_code"] != currency:
            raise wrong_value(f"coupon_ids[{i}]", f"coupon {cid} is for {c['currency_code']}")
        if c.get("max_redemptions") and c["redemptions"] >= c["max_redemptions"]:
            raise wrong_value(f"coupon_ids[{i}]", f"coupon {cid} has reached max redemptions")
        applied: dict[str, Any] = {"coupon_id": cid, "applied_count": 0, "object": "coupon"}
        if c["duration_type"] == "limited_period":
            applied["apply_till"] = term_boundary(now, c["period_unit"], c["period"], 1)
        out.append(applied)
    return out

"""Plans with add-ons, and coupons: the catalog the sync reads and a scenario script writes.

Rules reproduced from v2021-02-25: plan codes match ``/^[a-z0-9_+-]+$/i`` (at most 50); a plan
bills every ``interval_length`` ``days`` or ``months``; amounts have at most 2 decimal places
and ``unit_amount_decimal`` (9 places) is for usage add-ons only, never beside
``unit_amount``; a ``flat`` add-on has no ``tiers``, any other tier type needs tiers whose last
(and only last) has no ``ending_quantity``; a percent coupon needs ``discount_percent``, a fixed
one ``currencies``, a temporal one ``temporal_unit`` and ``temporal_amount``.
"""

from __future__ import annotations

import re
from typing import Any

from .api import Api, B, Handler, J, Q, only
from .bodies import check, require
from .errors import validation
from .records import new_add_on, new_coupon, new_plan

__all__ = ["CatalogRoutes"]

PLAN_CODE = re.compile(r"^[a-z0-9_+-]+$", re.I)
CURRENCY = re.compile(r"^[A-Z]{3}$")
PRICE = {"currency": "str", "unit_amount": "num", "unit_amount_decimal": "dec"}
ADD_ON = {
    "code": "str", "name": "str", "add_on_type": ("fixed", "usage"), "usage_type": ("price",),
    "default_quantity": "int", "currencies": [PRICE], "tier_type":
    ("flat", "tiered", "stairstep", "volume"),
    "tiers": [{"ending_quantity": "int", "currencies": [PRICE]}],
}  # fmt: skip
PLAN = {
    "code": "str", "name": "str", "description": "str", "interval_unit": ("days", "months"),
    "interval_length": "int", "trial_unit": ("days", "months"), "trial_length": "int",
    "auto_renew": "bool", "currencies": [{"currency": "str", "unit_amount": "num",
                                          "setup_fee": "num"}], "add_ons": [ADD_ON],
}  # fmt: skip
COUPON = {
    "code": "str", "name": "str", "discount_type": ("percent", "fixed", "free_trial"),
    "discount_percent": "int", "currencies": [{"currency": "str", "discount": "num"}],
    "duration": ("forever", "single_use", "temporal"), "temporal_unit":
    ("day", "week", "month", "year"), "temporal_amount": "int",
    "free_trial_unit": ("day", "week", "month"), "free_trial_amount": "int",
    "max_redemptions": "int", "max_redemptions_per_account": "int",
}  # fmt: skip
ACTIVE = ("active", "inactive")


def _currencies(items: list[dict[str, Any]], path: str, amount: str) -> None:
    seen = set()
    for i, c in enumerate(items):
        p = f"{path}[{i}]"
        require(c, "currency", prefix=p + ".")
        if not CURRENCY.match(c["currency"]):
            raise validation(f"{p}.currency", "is not a valid ISO 4217 currency code")
        if c["currency"] in seen:
            raise validation(f"{p}.currency", "has already been taken")
        seen.add(c["currency"])
        value = c.get(amount)
        if value is not None and not 0 <= value <= 1_000_000:
            raise validation(f"{p}.{amount}", "must be between 0 and 1000000")


def check_add_on(f: dict[str, Any], path: str = "") -> None:
    pre = f"{path}." if path else ""
    require(f, "code", "name", prefix=pre)
    if len(f["code"]) > 50 or not PLAN_CODE.match(f["code"]):
        raise validation(pre + "code", "is invalid")
    usage = f.get("add_on_type") == "usage"
    if usage and not f.get("usage_type"):
        raise validation(pre + "usage_type", "can't be blank")
    if f.get("usage_type") and not usage:
        raise validation(pre + "usage_type", "must be blank for a fixed add-on")
    tier_type = f.get("tier_type") or "flat"
    prices: list[tuple[str, dict[str, Any]]] = []
    if tier_type == "flat":
        if f.get("tiers"):
            raise validation(pre + "tiers", "must be blank when tier_type is flat")
        require(f, "currencies", prefix=pre)
        _currencies(f["currencies"], pre + "currencies", "unit_amount")
        prices = [(f"{pre}currencies[{i}]", c) for i, c in enumerate(f["currencies"])]
    else:
        tiers = f.get("tiers") or []
        if not tiers:
            raise validation(pre + "tiers", "can't be blank")
        last = None
        for i, t in enumerate(tiers):
            p = f"{pre}tiers[{i}]"
            end = t.get("ending_quantity")
            if (end is None) != (i == len(tiers) - 1):
                raise validation(f"{p}.ending_quantity",
                                 "must be blank on the final tier and only there")  # fmt: skip
            if end is not None and (end < 1 or (last is not None and end <= last)):
                raise validation(f"{p}.ending_quantity", "must be greater than the previous tier")
            last = end
            require(t, "currencies", prefix=p + ".")
            _currencies(t["currencies"], p + ".currencies", "unit_amount")
            prices += [(f"{p}.currencies[{j}]", c) for j, c in enumerate(t["currencies"])]
    for p, c in prices:
        has_amount, has_dec = c.get("unit_amount") is not None, c.get("unit_amount_decimal")
        if has_dec and not usage:
            raise validation(f"{p}.unit_amount_decimal", "is only allowed for usage add-ons")
        if has_amount and has_dec:
            raise validation(f"{p}.unit_amount", "must be blank when unit_amount_decimal is set")
        if not has_amount and not has_dec:
            raise validation(f"{p}.unit_amount", "can't be blank")


class CatalogRoutes:
    def __init__(self, api: Api) -> None:
        self.api = api

    def routes(self) -> list[tuple[str, str, Handler]]:
        return [
            ("GET", "/plans", self.list_plans), ("POST", "/plans", self.create_plan),
            ("GET", "/plans/{plan_id}", self.get_plan),
            ("PUT", "/plans/{plan_id}", self.update_plan),
            ("DELETE", "/plans/{plan_id}", self.remove_plan),
            ("GET", "/plans/{plan_id}/add_ons", self.list_add_ons),
            ("POST", "/plans/{plan_id}/add_ons", self.create_add_on),
            ("GET", "/plans/{plan_id}/add_ons/{add_on_id}", self.get_add_on),
            ("GET", "/coupons", self.list_coupons), ("POST", "/coupons", self.create_coupon),
            ("GET", "/coupons/{coupon_id}", self.get_coupon),
        ]  # fmt: skip

    # plans ---------------------------------------------------------------------------------
    def create_plan(self, query: Q, body: B) -> J:
        api, st = self.api, self.api.store
        only(query)
        f = check(PLAN, body)
        require(f, "code", "name", "currencies")
        if len(f["code"]) > 50 or not PLAN_CODE.match(f["code"]):
            raise validation("code", "is invalid")
        if f["code"] in st.plan_codes:
            raise validation("code", "has already been taken")
        for name in ("interval_length", "trial_length"):
            if f.get(name) is not None and f[name] < (1 if name == "interval_length" else 0):
                raise validation(name, "must be greater than 0")
        _currencies(f["currencies"], "currencies", "unit_amount")
        for i, c in enumerate(f["currencies"]):
            require(c, "unit_amount", prefix=f"currencies[{i}].")
        codes = set()
        for i, a in enumerate(f.get("add_ons") or []):
            check_add_on(a, f"add_ons[{i}]")
            if a["code"] in codes:
                raise validation(f"add_ons[{i}].code", "has already been taken")
            codes.add(a["code"])
        now = api.now()
        plan = st.put("plan", new_plan(st, now, f))
        st.plan_codes[plan["code"]] = plan["id"]
        for a in f.get("add_ons") or []:
            self._store_add_on(plan, a, now)
        return api.render.plan(plan)

    def _store_add_on(self, plan: dict[str, Any], f: dict[str, Any], now: int) -> dict[str, Any]:
        st = self.api.store
        rec = st.put("add_on", new_add_on(st, now, plan["id"], f))
        st.add_on_codes[(plan["id"], rec["code"])] = rec["id"]
        return rec

    def get_plan(self, query: Q, body: B, plan_id: str) -> J:
        only(query)
        return self.api.render.plan(self.api.plan(plan_id))

    def update_plan(self, query: Q, body: B, plan_id: str) -> J:
        only(query)
        plan = self.api.plan(plan_id)
        f = check({"name": "str", "description": "str"}, body)
        plan.update({k: v for k, v in f.items() if v is not None})
        self.api.store.touch(plan, self.api.now())
        return self.api.render.plan(plan)

    def remove_plan(self, query: Q, body: B, plan_id: str) -> J:
        only(query)
        plan, now = self.api.plan(plan_id), self.api.now()
        plan.update(state="inactive", deleted_at=now)
        self.api.store.touch(plan, now)
        return self.api.render.plan(plan)

    def list_plans(self, query: Q, body: B) -> Any:
        return self.api.listing("/plans", query, "plan", filters={"state": ACTIVE},
                                keep=lambda r, f: f.get("state", r["state"]) == r["state"],
                                render=self.api.render.plan)  # fmt: skip

    # add-ons -------------------------------------------------------------------------------
    def list_add_ons(self, query: Q, body: B, plan_id: str) -> Any:
        plan = self.api.plan(plan_id)
        scope = [a for a in self.api.store.data["add_on"].values() if a["plan_id"] == plan["id"]]
        return self.api.listing(f"/plans/{plan['id']}/add_ons", query, "add_on",
                                filters={"state": ACTIVE}, scope=scope,
                                keep=lambda r, f: f.get("state", r["state"]) == r["state"],
                                render=self.api.render.add_on)  # fmt: skip

    def create_add_on(self, query: Q, body: B, plan_id: str) -> J:
        only(query)
        plan = self.api.plan(plan_id)
        f = check(ADD_ON, body)
        check_add_on(f)
        if (plan["id"], f["code"]) in self.api.store.add_on_codes:
            raise validation("code", "has already been taken")
        rec = self._store_add_on(plan, f, self.api.now())
        return self.api.render.add_on(rec)

    def get_add_on(self, query: Q, body: B, plan_id: str,
                   add_on_id: str) -> dict[str, Any]:  # fmt: skip
        only(query)
        return self.api.render.add_on(self.api.add_on(self.api.plan(plan_id), add_on_id))

    # coupons -------------------------------------------------------------------------------
    def create_coupon(self, query: Q, body: B) -> J:
        api, st = self.api, self.api.store
        only(query)
        f = check(COUPON, body)
        require(f, "code", "name", "discount_type")
        if f["code"] in st.coupon_codes:
            raise validation("code", "has already been taken")
        kind = f["discount_type"]
        if kind == "percent":
            require(f, "discount_percent")
            if not 1 <= f["discount_percent"] <= 100:
                raise validation("discount_percent", "must be between 1 and 100")
        elif kind == "fixed":
            require(f, "currencies")
            _currencies(f["currencies"], "currencies", "discount")
            for i, c in enumerate(f["currencies"]):
                require(c, "discount", prefix=f"currencies[{i}].")
        else:
            require(f, "free_trial_unit", "free_trial_amount")
        if f.get("duration") == "temporal":
            require(f, "temporal_unit", "temporal_amount")
            if f["temporal_amount"] < 1:
                raise validation("temporal_amount", "must be greater than 0")
        coupon = st.put("coupon", new_coupon(st, api.now(), f))
        st.coupon_codes[coupon["code"]] = coupon["id"]
        return api.render.coupon(coupon)

    def get_coupon(self, query: Q, body: B, coupon_id: str) -> J:
        only(query)
        return self.api.render.coupon(self.api.coupon(coupon_id))

    def list_coupons(self, query: Q, body: B) -> Any:
        return self.api.listing("/coupons", query, "coupon", render=self.api.render.coupon)

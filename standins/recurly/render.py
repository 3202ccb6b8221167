"""Records -> the JSON v2021-02-25 sends, one function per resource.

Every field sent is one the recurly 4.x SDK declares on the matching resource class (the
contract tests check that), amounts are JSON floats in major units, timestamps are ISO 8601
strings, and fields the stand-in does not model are sent as null or empty, as Recurly sends
them for a site that does not use the feature.
"""

from __future__ import annotations

from typing import Any

from .clock import iso
from .store import Store

__all__ = ["Renderer"]

TIMES = {
    "created_at", "updated_at", "deleted_at", "activated_at", "canceled_at", "expires_at",
    "current_period_started_at", "current_period_ends_at", "current_term_started_at",
    "current_term_ends_at", "trial_started_at", "trial_ends_at", "paused_at", "resume_at",
    "due_at", "closed_at", "removed_at", "expired_at", "redeem_by",
}  # fmt: skip
LIVE = ("active", "canceled", "future", "paused")


def _public(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: (iso(v) if k in TIMES else v) for k, v in rec.items() if not k.startswith("_")}


class Renderer:
    def __init__(self, store: Store) -> None:
        self.store = store

    def account_mini(self, acct: dict[str, Any]) -> dict[str, Any]:
        keys = ("id", "object", "code", "email", "first_name", "last_name", "company",
                "parent_account_id", "bill_to", "dunning_campaign_id")  # fmt: skip
        return {k: acct[k] for k in keys}

    def account(self, acct: dict[str, Any]) -> dict[str, Any]:
        out = _public(acct)
        states = {s["state"] for s in self.store.owned(acct["id"], "subscription")}
        out.update(
            has_live_subscription=bool(states & set(LIVE)),
            has_active_subscription="active" in states,
            has_future_subscription="future" in states,
            has_canceled_subscription="canceled" in states,
            has_paused_subscription="paused" in states,
            has_past_due_invoice=any(i["state"] == "past_due"
                                     for i in self.store.owned(acct["id"], "invoice")),
        )  # fmt: skip
        return out

    def plan_mini(self, plan: dict[str, Any]) -> dict[str, Any]:
        return {"id": plan["id"], "object": "plan", "code": plan["code"], "name": plan["name"]}

    def plan(self, plan: dict[str, Any]) -> dict[str, Any]:
        return _public(plan)

    def add_on(self, add_on: dict[str, Any]) -> dict[str, Any]:
        return _public(add_on)

    def add_on_mini(self, add_on: dict[str, Any]) -> dict[str, Any]:
        keys = ("id", "object", "code", "name", "accounting_code", "add_on_type", "usage_type",
                "usage_percentage", "measured_unit_id", "external_sku")  # fmt: skip
        out = {k: add_on[k] for k in keys}
        out["item_id"] = None
        return out

    def coupon(self, coupon: dict[str, Any]) -> dict[str, Any]:
        return _public(coupon)

    def coupon_mini(self, coupon: dict[str, Any]) -> dict[str, Any]:
        keys = ("id", "object", "code", "name", "state", "discount", "coupon_type")
        out = {k: coupon[k] for k in keys}
        out["expired_at"] = iso(coupon["expired_at"])
        return out

    def redemption(self, red: dict[str, Any]) -> dict[str, Any]:
        out = _public(red)
        out["account"] = self.account_mini(self.store.data["account"][red["_account"]])
        out["coupon"] = self.coupon(self.store.data["coupon"][red["_coupon"]])
        return out

    def redemption_mini(self, red: dict[str, Any]) -> dict[str, Any]:
        return {"id": red["id"], "object": "coupon_redemption",
                "coupon": self.coupon_mini(self.store.data["coupon"][red["_coupon"]]),
                "state": red["state"], "discounted": red["discounted"],
                "created_at": iso(red["created_at"])}  # fmt: skip

    def subscription(self, sub: dict[str, Any]) -> dict[str, Any]:
        st = self.store
        out = _public(sub)
        out["account"] = self.account_mini(st.data["account"][sub["_account"]])
        out["plan"] = self.plan_mini(st.data["plan"][sub["_plan"]])
        out["add_ons"] = [self.sub_add_on(sub, a) for a in sub["_add_ons"]]
        out["coupon_redemptions"] = [
            self.redemption_mini(r) for r in st.owned(sub["_account"], "coupon_redemption")
            if r["state"] == "active" and r["subscription_id"] in (None, sub["id"])
        ]
        return out

    def sub_add_on(self, sub: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
        out = _public(item)
        out["add_on"] = self.add_on_mini(self.store.data["add_on"][item["_add_on"]])
        return out

    def invoice(self, inv: dict[str, Any]) -> dict[str, Any]:
        out = _public(inv)
        out["account"] = self.account_mini(self.store.data["account"][inv["_account"]])
        return out

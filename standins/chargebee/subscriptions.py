"""Subscriptions: create for a customer with items, retrieve, list, change, cancel, reactivate,
pause, resume, remove a scheduled cancellation, delete.

Each operation checks the status it may act on and otherwise answers Chargebee's
``invalid_state_for_request``. Answers carry the subscription with its customer (and card when
the customer has one), as Chargebee's do; list entries carry the same trio.
"""

from __future__ import annotations

from typing import Any

from .billing import Billing
from .clock import term_boundary
from .errors import (
    blank,
    duplicate,
    invalid_request,
    invalid_state,
    not_found,
    payment_failed,
    wrong_value,
)
from .listing import Field, run_list
from .params import Params
from .site import Site, check_id
from .store import public
from .subitems import build_items, read_coupons, read_discounts, read_items, read_tiers

__all__ = ["STATUSES", "SubscriptionRoutes"]

STATUSES = ("future", "in_trial", "active", "non_renewing", "paused", "cancelled", "transferred")


def _has(field: str) -> Any:
    return lambda r: [i[field] for i in r["subscription_items"]]


class SubscriptionRoutes:
    def __init__(self, site: Site, billing: Billing) -> None:
        self.site = site
        self.store = site.store
        self.billing = billing

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/customers/{id}/subscription_for_items", self.create),
            ("GET", "/subscriptions", self.list),
            ("GET", "/subscriptions/{id}", self.retrieve),
            ("POST", "/subscriptions/{id}/update_for_items", self.update),
            ("POST", "/subscriptions/{id}/cancel_for_items", self.cancel),
            ("POST", "/subscriptions/{id}/reactivate", self.reactivate),
            ("POST", "/subscriptions/{id}/pause", self.pause),
            ("POST", "/subscriptions/{id}/resume", self.resume),
            ("POST", "/subscriptions/{id}/remove_scheduled_cancellation", self.remove_cancel),
            ("POST", "/subscriptions/{id}/delete", self.delete),
        ]

    def _get(self, oid: str) -> dict[str, Any]:
        sub = self.store.get("subscription", oid)
        if sub is None or sub["deleted"]:
            raise not_found("Subscription", oid)
        return sub

    def _answer(self, sub: dict[str, Any], invoice: dict[str, Any] | None = None) -> dict:
        out = self.site.with_customer("subscription", sub)
        if invoice is not None:
            out["invoice"] = public(invoice)
        return out

    def _event(self, event_type: str, sub: dict[str, Any]) -> None:
        self.site.emit(event_type, subscription=sub, customer=self.billing.customer(sub))

    # create --------------------------------------------------------------------------------
    def create(self, p: Params, cid: str) -> dict[str, Any]:
        cus = self.store.get("customer", cid)
        if cus is None or cus["deleted"]:
            raise not_found("Customer", cid)
        now = self.site.now()
        sid = p.str("id")
        if sid is not None:
            check_id("id", sid, 50)
            if sid in self.store.data["subscription"]:
                raise duplicate("id", sid)
        rows = read_items(p, self.site)
        if not rows:
            raise blank("subscription_items[item_price_id][0]")
        fields = build_items(rows, self.site, read_tiers(p, self.site))
        plan = fields.pop("_plan")
        start = p.int("start_date", lo=0)
        trial_end = p.int("trial_end", lo=0)
        if start is not None and start <= now:
            raise invalid_request("start_date : backdating is not supported by the "
                                  "billing-sync Chargebee stand-in", param="start_date")
        begin = start or now
        if trial_end is None and plan.get("trial_period"):
            unit = plan["trial_period_unit"]
            trial_end = term_boundary(begin, unit, plan["trial_period"], 1)
        if trial_end == 0:  # trial_end=0 skips the plan's trial, as on Chargebee
            trial_end = None
        if trial_end is not None and trial_end <= begin:
            raise wrong_value("trial_end", "should be later than the start date")
        sub: dict[str, Any] = {
            "id": sid or self.store.new_id(), "customer_id": cid, "status": "active",
            "created_at": now, "deleted": False, "channel": "web", "object": "subscription",
            "has_scheduled_advance_invoices": False, "create_pending_invoices": False,
            "auto_close_invoices": True, "exchange_rate": 1.0,
            "base_currency_code": self.site.settings.base_currency, "due_invoices_count": 0,
            "total_dues": 0, "meta_data": p.json("meta_data"), "po_number": p.str("po_number"),
            **fields,
        }  # fmt: skip
        sub["coupons"] = read_coupons(p, self.site, sub["currency_code"], now) or None
        sub["discounts"] = read_discounts(p, self.site, sub["currency_code"], now) or None
        p.finish()
        if start is None and trial_end is None and cid in self.store.failing_customers and \
                self.billing.first_total(sub) > 0:
            raise payment_failed("Subscription cannot be created as the payment collection "
                                 "failed. Gateway response: Your card was declined.")
        self.store.put("subscription", sub, now)
        for c in sub["coupons"] or []:
            self.store.data["coupon"][c["coupon_id"]]["redemptions"] += 1
        invoice = None
        if start is not None:
            sub.update(status="future", start_date=start, trial_end=trial_end,
                       next_billing_at=start)  # fmt: skip
            self.billing.refresh(sub, now)
            self._event("subscription_created", sub)
        elif trial_end is not None:
            sub.update(status="in_trial", trial_start=now, trial_end=trial_end, started_at=now,
                       current_term_start=now, current_term_end=trial_end,
                       next_billing_at=trial_end)  # fmt: skip
            self.billing.refresh(sub, now)
            self._event("subscription_created", sub)
        else:
            sub.update(started_at=now, activated_at=now)
            self.billing.open_term(sub, now)
            self.billing.refresh(sub, now)
            invoice = self.billing.bill(sub, now, first=True)
            sub["_billed"] = True
            self.billing.refresh(sub, now)
            self._event("subscription_created", sub)
        return self._answer(sub, invoice)

    def retrieve(self, p: Params, oid: str) -> dict[str, Any]:
        p.finish()
        return self._answer(self._get(oid))

    def list(self, p: Params) -> dict[str, Any]:
        prices = self.store.data["item_price"]

        def item_ids(r: dict[str, Any]) -> list[str]:
            return [prices[i["item_price_id"]]["item_id"] for i in r["subscription_items"]]

        fields = {
            "id": Field("string"), "customer_id": Field("string"),
            "status": Field("enum", choices=STATUSES), "created_at": Field("timestamp"),
            "updated_at": Field("timestamp"), "activated_at": Field("timestamp"),
            "next_billing_at": Field("timestamp"), "cancelled_at": Field("timestamp"),
            "has_scheduled_changes": Field("boolean"),
        }  # fmt: skip
        multi = {"item_price_id": _has("item_price_id"), "item_id": item_ids}
        for name, get in multi.items():
            fields[name] = Field("string", lambda r, g=get: _AnyOf(g(r)))
        return run_list(p, self.store.data["subscription"].values(), fields,
                        lambda r: self.site.with_customer("subscription", r),
                        sortable=("created_at", "updated_at"), include_deleted=True)

    # changes -------------------------------------------------------------------------------
    def update(self, p: Params, oid: str) -> dict[str, Any]:
        sub = self._get(oid)
        if sub["status"] in ("cancelled", "transferred"):
            raise invalid_state(f"Subscription is in {sub['status']} state and cannot be changed")
        now = self.site.now()
        replace = p.bool("replace_items_list", default=False)
        if p.bool("end_of_term", default=False) or p.has("changes_scheduled_at"):
            raise invalid_request("end_of_term : scheduled changes are not supported by the "
                                  "billing-sync Chargebee stand-in", param="end_of_term")
        p.bool("prorate")
        p.bool("invoice_immediately")
        rows = read_items(p, self.site)
        tiers = read_tiers(p, self.site)
        current = {i["item_price_id"]: i for i in sub["subscription_items"]}
        merged: dict[str, dict[str, str]] = {} if replace else {
            pid: {"item_price_id": pid, "quantity": str(i["quantity"]),
                  **({"unit_price": str(i["unit_price"])} if i.get("unit_price") is not None
                     else {})}
            for pid, i in current.items()
        }  # fmt: skip
        for price, row, _ in rows:
            if price["item_type"] == "plan":  # a plan item price replaces the current plan
                for pid in [k for k in merged if self.store.data["item_price"][k]["item_type"]
                            == "plan"]:  # fmt: skip
                    del merged[pid]
            merged[price["id"]] = {**merged.get(price["id"], {}), **row}
        new_rows = [(self.store.data["item_price"][pid], row, n)
                    for n, (pid, row) in enumerate(merged.items())]
        kept: dict[str, list[dict[str, Any]]] = {}
        for t in sub.get("item_tiers") or []:  # overridden tiers stay unless replaced
            if t["item_price_id"] in merged and t["item_price_id"] not in tiers:
                kept.setdefault(t["item_price_id"], []).append(
                    {k: v for k, v in t.items() if k not in ("item_price_id", "index", "object")})
        fields = build_items(new_rows, self.site, {**kept, **tiers})
        fields.pop("_plan")
        if fields["currency_code"] != sub["currency_code"]:
            raise wrong_value("subscription_items[item_price_id][0]",
                              "the currency of a subscription cannot be changed")
        coupons = read_coupons(p, self.site, sub["currency_code"], now)
        if p.bool("replace_coupon_list", default=False):
            sub["coupons"] = coupons or None
        elif coupons:
            have = {c["coupon_id"] for c in sub.get("coupons") or []}
            sub["coupons"] = (sub.get("coupons") or []) + [c for c in coupons
                                                            if c["coupon_id"] not in have]
        p.finish()
        period_changed = (fields["billing_period_unit"], fields["billing_period"]) != \
            (sub["billing_period_unit"], sub["billing_period"])  # fmt: skip
        sub.update(fields)
        invoice = None
        if period_changed and sub["status"] in ("active", "non_renewing"):
            self.billing.open_term(sub, now)  # a new billing frequency starts a new term now
            invoice = self.billing.bill(sub, now, first=False)
        self.billing.refresh(sub, now)
        self._event("subscription_changed", sub)
        return self._answer(sub, invoice)

    def cancel(self, p: Params, oid: str) -> dict[str, Any]:
        sub = self._get(oid)
        option = p.enum("cancel_option", ("immediately", "end_of_term", "specific_date",
                                          "end_of_billing_term"))
        end_of_term = p.bool("end_of_term", default=False)
        cancel_at = p.int("cancel_at", lo=0)
        reason = p.str("cancel_reason_code", max_len=100)
        p.finish()
        if option is None:
            option = "end_of_term" if end_of_term else "immediately"
        now = self.site.now()
        if sub["status"] in ("cancelled", "transferred"):
            raise invalid_state(f"Subscription is already {sub['status']}.")
        if option == "specific_date":
            if cancel_at is None:
                raise blank("cancel_at")
            if cancel_at <= now or (sub.get("current_term_end") and
                                    cancel_at > sub["current_term_end"]):
                raise wrong_value("cancel_at", "should be between now and the current term end")
        sub["cancel_reason_code"] = reason
        if option == "immediately" or sub["status"] in ("future", "paused"):
            if option != "immediately":
                raise invalid_state(f"A {sub['status']} subscription can only be cancelled "
                                    "immediately.")  # fmt: skip
            self.billing.cancel(sub, now)
            return self._answer(sub)
        end = cancel_at if option == "specific_date" else sub["current_term_end"]
        sub.update(status="non_renewing", cancelled_at=end, cancel_schedule_created_at=now,
                   next_billing_at=None, _cancel_at=cancel_at)  # fmt: skip
        self.billing.refresh(sub, now)
        self._event("subscription_cancellation_scheduled", sub)
        return self._answer(sub)

    def remove_cancel(self, p: Params, oid: str) -> dict[str, Any]:
        sub = self._get(oid)
        p.int("billing_cycles", lo=0)
        p.finish()
        if sub["status"] != "non_renewing":
            raise invalid_state("Subscription does not have a scheduled cancellation.")
        sub.update(status="active", cancelled_at=None, cancel_schedule_created_at=None,
                   _cancel_at=None, next_billing_at=sub["current_term_end"])  # fmt: skip
        self.billing.refresh(sub, self.site.now())
        self._event("subscription_scheduled_cancellation_removed", sub)
        return self._answer(sub)

    def reactivate(self, p: Params, oid: str) -> dict[str, Any]:
        sub = self._get(oid)
        trial_end = p.int("trial_end", lo=0)
        p.bool("invoice_immediately")
        p.finish()
        if sub["status"] != "cancelled":
            raise invalid_state("Only cancelled subscriptions can be reactivated.")
        if self.store.get("customer", sub["customer_id"])["deleted"]:
            raise invalid_state("The customer of this subscription is deleted.")
        now = self.site.now()
        if trial_end is not None and trial_end <= now:
            raise wrong_value("trial_end", "should be in the future")
        if trial_end is None and sub["customer_id"] in self.store.failing_customers and \
                self.billing.first_total(sub) > 0:
            raise payment_failed("Subscription cannot be reactivated as the payment collection "
                                 "failed. Gateway response: Your card was declined.")
        sub.update(cancelled_at=None, cancel_reason=None, cancel_reason_code=None,
                   cancel_schedule_created_at=None)  # fmt: skip
        if trial_end is not None:
            sub.update(status="in_trial", trial_start=now, trial_end=trial_end,
                       current_term_start=now, current_term_end=trial_end,
                       next_billing_at=trial_end)  # fmt: skip
            self.billing.refresh(sub, now)
        else:
            sub["status"] = "active"
            self.billing.open_term(sub, now)
            self.billing.bill(sub, now, first=False)
            self.billing.refresh(sub, now)
        self._event("subscription_reactivated", sub)
        return self._answer(sub)

    def pause(self, p: Params, oid: str) -> dict[str, Any]:
        sub = self._get(oid)
        option = p.enum("pause_option", ("immediately", "end_of_term", "specific_date",
                                         "billing_cycles"), default="immediately")
        pause_date, resume_date = p.int("pause_date", lo=0), p.int("resume_date", lo=0)
        p.finish()
        if option == "billing_cycles":
            raise invalid_request("pause_option : billing_cycles is not supported by the "
                                  "billing-sync Chargebee stand-in", param="pause_option")
        if sub["status"] != "active":
            raise invalid_state("Only active subscriptions can be paused.")
        now = self.site.now()
        at = {"immediately": now, "end_of_term": sub["current_term_end"]}.get(option, pause_date)
        if at is None:
            raise blank("pause_date")
        if option == "specific_date" and not now < at <= sub["current_term_end"]:
            raise wrong_value("pause_date", "should be between now and the current term end")
        if resume_date is not None and resume_date <= at:
            raise wrong_value("resume_date", "should be later than the pause date")
        sub.update(pause_date=at, resume_date=resume_date)
        if at == now:
            sub.update(status="paused", next_billing_at=None)
            self.billing.refresh(sub, now)
            self._event("subscription_paused", sub)
        else:
            self.billing.refresh(sub, now)
            self._event("subscription_pause_scheduled", sub)
        return self._answer(sub)

    def resume(self, p: Params, oid: str) -> dict[str, Any]:
        sub = self._get(oid)
        option = p.enum("resume_option", ("immediately", "specific_date"),
                        default="immediately")
        resume_date = p.int("resume_date", lo=0)
        p.finish()
        if sub["status"] != "paused":
            raise invalid_state("Only paused subscriptions can be resumed.")
        now = self.site.now()
        if option == "specific_date":
            if resume_date is None or resume_date <= now:
                raise wrong_value("resume_date", "should be in the future")
            sub["resume_date"] = resume_date
            self.billing.refresh(sub, now)
            self._event("subscription_resumption_scheduled", sub)
            return self._answer(sub)
        sub.update(pause_date=None, resume_date=None)
        self.billing.activate(sub, now, "subscription_resumed")
        return self._answer(sub)

    def delete(self, p: Params, oid: str) -> dict[str, Any]:
        sub = self._get(oid)
        p.finish()
        sub["deleted"] = True
        self.store.touch(sub, self.site.now())
        self._event("subscription_deleted", sub)
        return self._answer(sub)


class _AnyOf(list):
    """A multi-valued field (the item prices of a subscription) for string filters: ``is`` and
    ``in`` match when any value matches, ``is_not`` and ``not_in`` when none does."""

    def __eq__(self, other: object) -> bool:
        return other in list(self)

    def __ne__(self, other: object) -> bool:
        return other not in list(self)

    __hash__ = None  # type: ignore[assignment]

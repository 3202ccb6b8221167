"""Subscriptions: purchase, reads, and the state changes a scenario script makes.

States are v2021-02-25's six: ``active``, ``canceled`` (still live until ``expires_at``),
``expired``, ``failed`` (a ``future`` subscription canceled before it started), ``future``
(``starts_at`` ahead) and ``paused``. A trial is not a state: it is ``trial_ends_at`` in the
future. A purchase whose first charge is declined creates nothing and answers 422
``transaction``, as Recurly does. ``DELETE /subscriptions/{id}`` terminates (-> ``expired``
now); ``PUT .../cancel`` cancels at the period end; ``.../reactivate`` undoes a cancel;
``.../pause`` pauses at the period end for ``remaining_pause_cycles``; ``.../resume`` resumes
a paused subscription now; ``POST .../change`` changes the plan, price or quantity (timeframe
``now`` only: applied at once, the period kept, no prorated invoice).
"""

from __future__ import annotations

from typing import Any

from .accounts import ACCOUNT, AccountRoutes
from .api import Api, B, Handler, J, Q, only
from .bodies import check, require, unprocessable
from .clock import add_interval, iso
from .errors import RecurlyError, transaction_declined, validation
from .records import new_subscription, sub_add_on

__all__ = ["SubscriptionRoutes"]

CREATE = {
    "plan_code": "str", "plan_id": "str", "currency": "str", "account": ACCOUNT,
    "unit_amount": "num", "quantity": "int", "trial_ends_at": "time", "starts_at": "time",
    "auto_renew": "bool", "collection_method": ("automatic", "manual"),
    "coupon_codes": ["str"], "customer_notes": "str", "po_number": "str",
    "add_ons": [{"code": "str", "quantity": "int", "unit_amount": "num"}],
}  # fmt: skip
UPDATE = {"auto_renew": "bool", "collection_method": ("automatic", "manual"),
          "customer_notes": "str", "po_number": "str"}  # fmt: skip
CHANGE = {"plan_code": "str", "plan_id": "str", "unit_amount": "num", "quantity": "int",
          "timeframe": ("now", "renewal", "bill_date", "term_end")}  # fmt: skip
STATES = ("active", "canceled", "expired", "future", "in_trial", "live")


class SubscriptionRoutes:
    def __init__(self, api: Api, accounts: AccountRoutes) -> None:
        self.api, self.accounts = api, accounts

    def routes(self) -> list[tuple[str, str, Handler]]:
        s = "/subscriptions/{subscription_id}"
        return [
            ("GET", "/subscriptions", self.list_all), ("POST", "/subscriptions", self.create),
            ("GET", "/accounts/{account_id}/subscriptions", self.list_for_account),
            ("GET", s, self.get), ("PUT", s, self.update), ("DELETE", s, self.terminate),
            ("PUT", s + "/cancel", self.cancel), ("PUT", s + "/reactivate", self.reactivate),
            ("PUT", s + "/pause", self.pause), ("PUT", s + "/resume", self.resume),
            ("GET", s + "/invoices", self.invoices), ("POST", s + "/change", self.change),
        ]  # fmt: skip

    def _keep(self, rec: dict[str, Any], f: dict[str, str]) -> bool:
        want = f.get("state")
        if want is None:
            return True
        in_trial = (rec["trial_ends_at"] is not None and rec["trial_started_at"] is not None
                    and rec["trial_started_at"] <= self.api.now() < rec["trial_ends_at"])
        if want == "in_trial":
            return in_trial and rec["state"] in ("active", "canceled")
        if want == "live":
            return rec["state"] in ("active", "canceled", "future") or in_trial
        return rec["state"] == want

    def list_all(self, query: Q, body: B) -> Any:
        return self.api.listing("/subscriptions", query, "subscription", keep=self._keep,
                                filters={"state": STATES}, render=self.api.render.subscription)

    def list_for_account(self, query: Q, body: B, account_id: str) -> Any:
        api = self.api
        acct = api.account(account_id)
        return api.listing(f"/accounts/{acct['id']}/subscriptions", query, "subscription",
                           scope=api.store.owned(acct["id"], "subscription"), keep=self._keep,
                           filters={"state": STATES}, render=api.render.subscription)  # fmt: skip

    def get(self, query: Q, body: B, subscription_id: str) -> J:
        only(query)
        return self.api.render.subscription(self.api.subscription(subscription_id))

    def invoices(self, query: Q, body: B, subscription_id: str) -> Any:
        api = self.api
        sub = api.subscription(subscription_id)
        scope = [i for i in api.store.owned(sub["_account"], "invoice")
                 if sub["id"] in i["subscription_ids"]]  # fmt: skip
        from .accounts import INVOICE_STATES, INVOICE_TYPES, keep_invoice

        return api.listing(f"/subscriptions/{sub['id']}/invoices", query, "invoice",
                           scope=scope, keep=keep_invoice, render=api.render.invoice,
                           filters={"state": INVOICE_STATES, "type": INVOICE_TYPES})  # fmt: skip

    # purchase ------------------------------------------------------------------------------
    def create(self, query: Q, body: B) -> J:
        only(query)
        api, st, now = self.api, self.api.store, self.api.now()
        f = check(CREATE, body)
        require(f, "currency", "account")
        if not f.get("plan_code") and not f.get("plan_id"):
            raise validation("plan_code", "can't be blank")
        plan = api.plan(f["plan_id"] if f.get("plan_id") else "code-" + f["plan_code"])
        if plan["state"] != "active":
            raise validation("plan_code", "is not active")
        price = next((c for c in plan["currencies"] if c["currency"] == f["currency"]), None)
        if price is None:
            raise validation("currency", f"is not available for plan {plan['code']}")
        require(f["account"], "code", prefix="account.")
        acct_id = st.account_codes.get(f["account"]["code"].casefold())
        acct = st.data["account"][acct_id] if acct_id else None
        if acct is None:
            self.accounts.validate_new(f["account"], "account.")
        else:
            api.live_account(acct, "account.code")
        quantity = 1 if f.get("quantity") is None else f["quantity"]
        if quantity < 0:
            raise validation("quantity", "must be greater than or equal to 0")
        unit = price["unit_amount"] if f.get("unit_amount") is None else f["unit_amount"]
        if not 0 <= unit <= 1_000_000:
            raise validation("unit_amount", "must be between 0 and 1000000")
        add_ons = self._add_ons(plan, f)
        coupons = [api.coupon(c if c.startswith("code-") else "code-" + c, "coupon_codes")
                   for c in f.get("coupon_codes") or []]  # fmt: skip
        starts = f.get("starts_at")
        future = starts is not None and starts > now
        start = starts if future else now
        trial = f.get("trial_ends_at")
        if trial is None and plan["trial_length"]:
            trial = add_interval(start, plan["trial_unit"], plan["trial_length"])
        if trial is not None and trial <= start:
            trial = None
        if acct is None:
            acct = self.accounts.make(f["account"])
        sub = new_subscription(st, now, acct, plan, f["currency"], unit, quantity)
        sub.update(auto_renew=f.get("auto_renew", plan["auto_renew"]) is not False,
                   collection_method=f.get("collection_method") or "automatic",
                   customer_notes=f.get("customer_notes"), po_number=f.get("po_number"))
        sub["_add_ons"] = [sub_add_on(st, now, sub["id"], a, q, u) for a, q, u in add_ons]
        charge_now = not future and trial is None
        if charge_now and api.billing.would_decline(acct["id"], sub):
            raise transaction_declined(st.new_id())
        st.put("subscription", sub, acct["id"])
        for coupon in coupons:
            self.accounts.apply(acct, coupon, sub["id"], f["currency"], now)
        if future:
            sub["state"] = "future"
            api.billing.begin(sub, start, trial, charge=False)
            sub["trial_ends_at"] = trial
        else:
            sub["activated_at"] = now
            api.billing.begin(sub, now, trial, charge=charge_now)
        api.billing.refresh_totals(sub)
        return api.render.subscription(sub)

    def _add_ons(self, plan: dict[str, Any], f: dict[str, Any]) -> list[tuple[Any, int, Any]]:
        out, seen = [], set()
        for i, item in enumerate(f.get("add_ons") or []):
            require(item, "code", prefix=f"add_ons[{i}].")
            try:
                add_on = self.api.add_on(plan, "code-" + item["code"])
            except RecurlyError:
                raise validation(f"add_ons[{i}].code", "is not an add-on of this plan") from None
            if add_on["id"] in seen:
                raise validation(f"add_ons[{i}].code", "has already been taken")
            seen.add(add_on["id"])
            price = next((c for c in add_on["currencies"] if c["currency"] == f["currency"]), None)
            if price is None and add_on["tier_type"] == "flat":
                raise validation(f"add_ons[{i}].code", f"has no price in {f['currency']}")
            unit = item.get("unit_amount")
            if unit is None and price is not None:
                unit = price["unit_amount"]
            qty = add_on["default_quantity"] if item.get("quantity") is None else item["quantity"]
            out.append((add_on, qty, unit))
        return out

    # changes -------------------------------------------------------------------------------
    def _changed(self, sub: dict[str, Any]) -> dict[str, Any]:
        self.api.store.touch(sub, self.api.now())
        return self.api.render.subscription(sub)

    def update(self, query: Q, body: B, subscription_id: str) -> J:
        only(query)
        sub = self.api.subscription(subscription_id)
        if sub["state"] in ("expired", "failed"):
            raise RecurlyError(422, "immutable_subscription",
                               "An expired subscription cannot be modified",
                               params=[{"param": "subscription_id"}])  # fmt: skip
        sub.update({k: v for k, v in check(UPDATE, body).items() if v is not None})
        return self._changed(sub)

    def terminate(self, query: Q, body: B, subscription_id: str) -> J:
        only(query, "refund", "charge")
        if query.get("refund", "none") not in ("full", "partial", "none"):
            raise validation("refund", "is not included in the list (full, partial, none)")
        sub, now = self.api.subscription(subscription_id), self.api.now()
        if sub["state"] in ("expired", "failed"):
            raise unprocessable("Subscription is already expired", "subscription_id")
        sub.update(state="expired", expires_at=now, expiration_reason="terminated")
        return self._changed(sub)

    def cancel(self, query: Q, body: B, subscription_id: str) -> J:
        only(query)
        f = check({"timeframe": ("bill_date", "term_end")}, body)
        del f
        sub, now = self.api.subscription(subscription_id), self.api.now()
        if sub["state"] == "future":
            sub.update(state="failed", canceled_at=now, expires_at=now)
        elif sub["state"] == "active":
            sub.update(state="canceled", canceled_at=now, expires_at=sub["current_period_ends_at"])
        else:
            raise unprocessable("Only active and future subscriptions can be canceled",
                                "subscription_id")  # fmt: skip
        return self._changed(sub)

    def reactivate(self, query: Q, body: B, subscription_id: str) -> J:
        only(query)
        sub = self.api.subscription(subscription_id)
        if sub["state"] != "canceled":
            raise unprocessable("Only canceled subscriptions can be reactivated",
                                "subscription_id")  # fmt: skip
        sub.update(state="active", canceled_at=None, expires_at=None)
        return self._changed(sub)

    def pause(self, query: Q, body: B, subscription_id: str) -> J:
        only(query)
        f = check({"remaining_pause_cycles": "int"}, body)
        require(f, "remaining_pause_cycles")
        sub = self.api.subscription(subscription_id)
        if sub["state"] != "active":
            raise unprocessable("Expired, cancelled, or failed subscriptions cannot be paused",
                                "subscription_id")  # fmt: skip
        n = f["remaining_pause_cycles"]
        if n < 0:
            raise validation("remaining_pause_cycles", "must be greater than or equal to 0")
        if n == 0:
            sub.update(paused_at=None, remaining_pause_cycles=None)
        else:
            sub.update(paused_at=sub["current_period_ends_at"], remaining_pause_cycles=n)
        return self._changed(sub)

    def resume(self, query: Q, body: B, subscription_id: str) -> J:
        only(query)
        sub, now = self.api.subscription(subscription_id), self.api.now()
        if sub["state"] != "paused":
            raise unprocessable("The subscription must be in the paused state to be resumed",
                                "subscription_id")  # fmt: skip
        sub.update(state="active", paused_at=None, resume_at=None, remaining_pause_cycles=None)
        self.api.billing.set_period(sub, now)
        self.api.billing.charge(sub, now, "renewal")
        return self._changed(sub)

    def change(self, query: Q, body: B, subscription_id: str) -> J:
        """A subscription change applied ``now`` (Recurly's default timeframe). Later
        timeframes, and a plan change on a subscription with add-ons, are not implemented:
        refused, never half-done."""
        only(query)
        api, now = self.api, self.api.now()
        f = check(CHANGE, body)
        sub = api.subscription(subscription_id)
        if sub["state"] not in ("active", "canceled"):
            raise unprocessable("Only active or canceled subscriptions can be changed",
                                "subscription_id")  # fmt: skip
        if f.get("timeframe", "now") != "now":
            raise validation("timeframe", "only now is implemented by the stand-in")
        plan = api.store.data["plan"][sub["_plan"]]
        if f.get("plan_id") or f.get("plan_code"):
            plan = api.plan(f["plan_id"] if f.get("plan_id") else "code-" + f["plan_code"])
        changed = plan["id"] != sub["_plan"]
        if changed and sub["_add_ons"]:
            raise validation("add_ons", "a plan change with add-ons is not implemented")
        price = next((c for c in plan["currencies"] if c["currency"] == sub["currency"]), None)
        if price is None:
            raise validation("plan_code", f"has no price in {sub['currency']}")
        unit = f.get("unit_amount")
        if unit is None:
            unit = price["unit_amount"] if changed else sub["unit_amount"]
        quantity = sub["quantity"] if f.get("quantity") is None else f["quantity"]
        if quantity < 0:
            raise validation("quantity", "must be greater than or equal to 0")
        sub.update(_plan=plan["id"], unit_amount=unit, quantity=quantity)
        api.billing.refresh_totals(sub)
        api.store.touch(sub, now)
        return {"id": api.store.new_id(), "object": "subscription_change",
                "subscription_id": sub["id"], "activated": True, "activate_at": iso(now),
                "plan": api.render.plan_mini(plan), "unit_amount": unit, "quantity": quantity,
                "add_ons": [], "created_at": iso(now), "updated_at": iso(now),
                "deleted_at": None}  # fmt: skip

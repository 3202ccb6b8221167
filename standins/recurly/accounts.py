"""Accounts, their coupon redemptions and invoices.

An account's ``code`` is the merchant's own key: required, at most 50 characters, not starting
with ``.``, ``/``, ``-`` or ``;`` (Recurly's support article on creating accounts) and free of
``/`` and ``;``, unique on the site regardless of case, and fixed
once set. Deactivating (``DELETE /accounts/{id}``) makes the account ``inactive`` with
``deleted_at`` set and expires its live subscriptions at once; ``PUT .../reactivate`` undoes
the state. ``has_past_due_invoice`` is true while any of its invoices is ``past_due``.
"""

from __future__ import annotations

from typing import Any

from .api import Api, B, Handler, J, Q, only
from .bodies import check, require, unprocessable
from .clock import add_interval
from .errors import validation
from .records import new_account
from .store import norm_code

__all__ = ["ACCOUNT", "AccountRoutes"]

ADDRESS = {k: "str" for k in ("street1", "street2", "city", "region", "postal_code", "country",
                              "phone")}  # fmt: skip
UPDATE = {k: "str" for k in ("username", "email", "preferred_locale", "cc_emails", "first_name",
                             "last_name", "company", "vat_number")}  # fmt: skip
UPDATE.update(tax_exempt="bool", address=ADDRESS)  # type: ignore[arg-type]
ACCOUNT = {"code": "str", **UPDATE}
INVOICE_STATES = ("pending", "past_due", "paid", "failed")
INVOICE_TYPES = ("charge", "credit", "legacy", "non-legacy")


def check_code(code: str, param: str = "code") -> None:
    if len(code) > 50:
        raise validation(param, "is too long (maximum is 50 characters)")
    if code[:1] in (".", "-") or "/" in code or ";" in code:
        raise validation(param, "is invalid")


def keep_invoice(rec: dict[str, Any], f: dict[str, str]) -> bool:
    if "state" in f and rec["state"] != f["state"]:
        return False
    return f.get("type") not in ("credit", "legacy")  # every invoice here is a charge


class AccountRoutes:
    def __init__(self, api: Api) -> None:
        self.api = api

    def routes(self) -> list[tuple[str, str, Handler]]:
        a = "/accounts/{account_id}"
        return [
            ("GET", "/accounts", self.list_accounts), ("POST", "/accounts", self.create),
            ("GET", a, self.get), ("PUT", a, self.update), ("DELETE", a, self.deactivate),
            ("PUT", a + "/reactivate", self.reactivate),
            ("GET", a + "/coupon_redemptions", self.list_redemptions),
            ("GET", a + "/coupon_redemptions/active", self.active_redemptions),
            ("POST", a + "/coupon_redemptions/active", self.redeem),
            ("DELETE", a + "/coupon_redemptions/active", self.remove_redemption),
            ("GET", a + "/invoices", self.account_invoices),
            ("GET", "/invoices", self.list_invoices),
            ("GET", "/invoices/{invoice_id}", self.get_invoice),
            ("PUT", "/invoices/{invoice_id}/mark_successful", self.mark_successful),
        ]  # fmt: skip

    # accounts ------------------------------------------------------------------------------
    def make(self, f: dict[str, Any], param: str = "code") -> dict[str, Any]:
        """Create after every check passed (used by subscription purchases too)."""
        st = self.api.store
        acct = st.put("account", new_account(st, self.api.now(), f["code"], f))
        st.account_codes[norm_code(acct["code"])] = acct["id"]
        return acct

    def validate_new(self, f: dict[str, Any], prefix: str = "") -> None:
        require(f, "code", prefix=prefix)
        check_code(f["code"], prefix + "code")
        if norm_code(f["code"]) in self.api.store.account_codes:
            raise validation(prefix + "code", "has already been taken")

    def create(self, query: Q, body: B) -> J:
        only(query)
        f = check(ACCOUNT, body)
        self.validate_new(f)
        return self.api.render.account(self.make(f))

    def get(self, query: Q, body: B, account_id: str) -> J:
        only(query)
        return self.api.render.account(self.api.account(account_id))

    def update(self, query: Q, body: B, account_id: str) -> J:
        only(query)
        acct = self.api.account(account_id)
        f = check(UPDATE, body)
        acct.update(f)
        self.api.store.touch(acct, self.api.now())
        return self.api.render.account(acct)

    def deactivate(self, query: Q, body: B, account_id: str) -> J:
        only(query, "redact")
        api, now = self.api, self.api.now()
        acct = api.account(account_id)
        if acct["state"] == "inactive":
            raise unprocessable("Account is already inactive", "account_id")
        for sub in api.store.owned(acct["id"], "subscription"):
            if sub["state"] in ("active", "canceled", "paused", "future"):
                sub.update(state="expired", expires_at=now, expiration_reason="canceled")
                api.store.touch(sub, now)
        acct.update(state="inactive", deleted_at=now)
        api.store.touch(acct, now)
        return api.render.account(acct)

    def reactivate(self, query: Q, body: B, account_id: str) -> J:
        only(query)
        acct = self.api.account(account_id)
        if acct["state"] == "active":
            raise unprocessable("Account is already active", "account_id")
        acct.update(state="active", deleted_at=None)
        self.api.store.touch(acct, self.api.now())
        return self.api.render.account(acct)

    def list_accounts(self, query: Q, body: B) -> Any:
        api = self.api

        def keep(rec: dict[str, Any], f: dict[str, str]) -> bool:
            if "email" in query and (rec["email"] or "") != query["email"]:
                return False
            if "subscriber" in f:
                subscribed = any(s["state"] in ("active", "canceled", "future")
                                 for s in api.store.owned(rec["id"], "subscription"))
                if subscribed != (f["subscriber"] == "true"):
                    return False
            if "past_due" in f:
                return any(i["state"] == "past_due" for i in api.store.owned(rec["id"], "invoice"))
            return True

        return api.listing("/accounts", query, "account", keep=keep, render=api.render.account,
                           filters={"email": (), "subscriber": ("true", "false"),
                                    "past_due": ("true",)})  # fmt: skip

    # coupon redemptions --------------------------------------------------------------------
    def redeem(self, query: Q, body: B, account_id: str) -> J:
        only(query)
        api, now = self.api, self.api.now()
        acct = api.account(account_id)
        api.live_account(acct)
        f = check({"coupon_id": "str", "currency": "str", "subscription_id": "str"}, body)
        require(f, "coupon_id")
        coupon = api.coupon(f["coupon_id"])
        if coupon["state"] != "redeemable":
            raise validation("coupon_id", "is not redeemable")
        sid = None
        if f.get("subscription_id"):
            sub = api.subscription(f["subscription_id"])
            if sub["_account"] != acct["id"]:
                raise validation("subscription_id", "does not belong to this account")
            sid = sub["id"]
        return api.render.redemption(self.apply(acct, coupon, sid, f.get("currency"), now))

    def apply(self, acct: dict[str, Any], coupon: dict[str, Any], sid: str | None,
              currency: str | None, now: int) -> dict[str, Any]:  # fmt: skip
        st = self.api.store
        mine = st.owned(acct["id"], "coupon_redemption")
        if any(r["state"] == "active" and r["_coupon"] == coupon["id"] for r in mine):
            raise validation("coupon_id", "has already been redeemed on this account")
        cap = coupon["max_redemptions_per_account"]
        if cap is not None and sum(r["_coupon"] == coupon["id"] for r in mine) >= cap:
            raise validation("coupon_id", "has reached its redemption limit for this account")
        ends = None
        if coupon["duration"] == "temporal":
            ends = add_interval(now, coupon["temporal_unit"], coupon["temporal_amount"])
        red = {"id": st.new_id(), "object": "coupon_redemption", "_account": acct["id"],
               "_coupon": coupon["id"], "_ends_at": ends, "subscription_id": sid,
               "state": "active", "currency": currency, "discounted": 0.0,
               "created_at": now, "updated_at": now, "removed_at": None}  # fmt: skip
        return st.put("coupon_redemption", red, acct["id"])

    def _redemptions(self, query: dict[str, str], account_id: str, active: bool) -> Any:
        api = self.api
        acct = api.account(account_id)
        scope = api.store.owned(acct["id"], "coupon_redemption")
        if active:
            only(query)
            scope = [r for r in scope if r["state"] == "active"]
        return api.listing(f"/accounts/{acct['id']}/coupon_redemptions", query,
                           "coupon_redemption", scope=scope, render=api.render.redemption,
                           filters={"state": ("active", "inactive")},
                           keep=lambda r, f: f.get("state", r["state"]) == r["state"],
                           common=("ids", "sort", "begin_time", "end_time", "cursor"))  # fmt: skip

    def list_redemptions(self, query: Q, body: B, account_id: str) -> Any:
        return self._redemptions(query, account_id, active=False)

    def active_redemptions(self, query: Q, body: B, account_id: str) -> Any:
        return self._redemptions(query, account_id, active=True)

    def remove_redemption(self, query: Q, body: B,
                          account_id: str) -> dict[str, Any]:  # fmt: skip
        only(query)
        api = self.api
        acct = api.account(account_id)
        active = [r for r in api.store.owned(acct["id"], "coupon_redemption")
                  if r["state"] == "active"]  # fmt: skip
        if not active:
            raise unprocessable("Account has no active coupon redemption", "account_id")
        api.billing.remove_redemption(active[-1], api.now())
        return api.render.redemption(active[-1])

    # invoices ------------------------------------------------------------------------------
    def account_invoices(self, query: Q, body: B, account_id: str) -> Any:
        api = self.api
        acct = api.account(account_id)
        return api.listing(f"/accounts/{acct['id']}/invoices", query, "invoice",
                           scope=api.store.owned(acct["id"], "invoice"), keep=keep_invoice,
                           filters={"state": INVOICE_STATES, "type": INVOICE_TYPES},
                           render=api.render.invoice)  # fmt: skip

    def list_invoices(self, query: Q, body: B) -> Any:
        return self.api.listing("/invoices", query, "invoice", keep=keep_invoice,
                                filters={"state": INVOICE_STATES, "type": INVOICE_TYPES},
                                render=self.api.render.invoice)  # fmt: skip

    def get_invoice(self, query: Q, body: B, invoice_id: str) -> J:
        only(query)
        return self.api.render.invoice(self.api.invoice(invoice_id))

    def mark_successful(self, query: Q, body: B,
                        invoice_id: str) -> dict[str, Any]:  # fmt: skip
        only(query)
        inv, now = self.api.invoice(invoice_id), self.api.now()
        if inv["state"] not in ("pending", "processing", "past_due", "failed"):
            raise unprocessable("Only invoices with the pending, processing, past_due or "
                                "failed states can be marked as paid.", "invoice_id")  # fmt: skip
        inv.update(state="paid", paid=inv["total"], balance=0.0, closed_at=now,
                   refundable_amount=inv["total"])  # fmt: skip
        self.api.store.touch(inv, now)
        return self.api.render.invoice(inv)

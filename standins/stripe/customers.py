"""Customers and payment methods (the two test cards that matter for billing)."""

from __future__ import annotations

from typing import Any

from .api import LIST_SPEC, RouteGroup
from .catalog import merge_metadata
from .errors import StripeError, invalid
from .objects import TEST_CARDS, new_customer, new_payment_method, public, render

__all__ = ["CustomerRoutes"]

CUSTOMER_FIELDS = {
    "name": "str", "email": "str", "description": "str", "phone": "str", "metadata": "meta",
    "invoice_settings": {"default_payment_method": "str", "footer": "str"},
    "expand": ["str"],
}  # fmt: skip


def not_attached(pm: str, param: str) -> StripeError:
    return invalid(
        f"The customer does not have a payment method with the ID {pm}. The payment method "
        "must be attached to the customer.",
        param, "resource_missing",
    )  # fmt: skip


class CustomerRoutes(RouteGroup):
    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/v1/customers", self.create),
            ("GET", "/v1/customers", self.list),
            ("GET", "/v1/customers/{id}", self.retrieve),
            ("POST", "/v1/customers/{id}", self.update),
            ("DELETE", "/v1/customers/{id}", self.delete),
            ("GET", "/v1/payment_methods/{id}", self.get_pm),
            ("POST", "/v1/payment_methods/{id}/attach", self.attach_pm),
        ]

    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        spec = {**CUSTOMER_FIELDS, "payment_method": "str", "test_clock": "str"}
        p = self.api.check(spec, params)
        clock = None
        if p.get("test_clock"):
            clock = self.api.get("test_clock", p["test_clock"], "test_clock")
        now = clock["frozen_time"] if clock else self.api.now()
        token = p.get("payment_method")
        if token and token not in TEST_CARDS:
            existing = self.store.data["payment_method"].get(token)
            if existing is None:
                raise invalid(f"No such PaymentMethod: '{token}'", "payment_method",
                              "resource_missing")  # fmt: skip
            if existing["customer"]:
                raise invalid("The payment method you provided has already been attached to "
                              "a customer.", "payment_method")  # fmt: skip
        cus = new_customer(self.store, now, clock["id"] if clock else None, **p)
        pm = None
        if token in TEST_CARDS:
            pm = new_payment_method(self.store, token, cus["id"], now)
        elif token:
            pm = self.store.data["payment_method"][token]
            pm["customer"] = cus["id"]
        default = (p.get("invoice_settings") or {}).get("default_payment_method")
        if default:
            # Stripe resolves a test token to the card it just attached from that token.
            if pm is None or default not in (token, pm["id"]):
                raise not_attached(default, "invoice_settings[default_payment_method]")
            cus["invoice_settings"]["default_payment_method"] = pm["id"]
        if (p.get("invoice_settings") or {}).get("footer"):
            cus["invoice_settings"]["footer"] = p["invoice_settings"]["footer"]
        self.store.put("customer", cus)
        if pm is not None and "_seq" not in pm:
            self.store.put("payment_method", pm)
        if clock:
            self.store.customers_by_clock.setdefault(clock["id"], set()).add(cus["id"])
        self.billing.emit("customer.created", "customer", cus, now)
        return self.api.out("customer", cus, p.get("expand"))

    def retrieve(self, params: dict[str, Any], cid: str) -> dict[str, Any]:
        p = self.api.check({"expand": ["str"]}, params)
        cus = self.store.data["customer"].get(cid)
        if cus is None:
            self.api.get("customer", cid)  # raises 404
        assert cus is not None
        if cus["_deleted"]:
            return render(self.store, "customer", cus)
        return self.api.out("customer", cus, p.get("expand"))

    def update(self, params: dict[str, Any], cid: str) -> dict[str, Any]:
        cus = self.api.get("customer", cid)
        p = self.api.check(CUSTOMER_FIELDS, params)
        before = render(self.store, "customer", cus)
        for k, v in p.items():
            if k == "metadata":
                cus["metadata"] = merge_metadata(cus["metadata"], v)
            elif k == "invoice_settings":
                settings = v or {}
                if "default_payment_method" in settings:
                    pm_id = settings["default_payment_method"]
                    pm = self.store.data["payment_method"].get(pm_id or "")
                    if pm_id and (pm is None or pm["customer"] != cid):
                        raise not_attached(pm_id, "invoice_settings[default_payment_method]")
                    cus["invoice_settings"]["default_payment_method"] = pm_id
                if "footer" in settings:
                    cus["invoice_settings"]["footer"] = settings["footer"]
            elif k != "expand":
                cus[k] = v
        self.billing.emit("customer.updated", "customer", cus, self.api.now(cid), before)
        return self.api.out("customer", cus, p.get("expand"))

    def delete(self, params: dict[str, Any], cid: str) -> dict[str, Any]:
        self.api.check({}, params)
        cus = self.api.get("customer", cid)
        now = self.api.now(cid)
        idx = self.store.subs_by_customer.get(cid)
        for sid in list(idx.newest_first()) if idx else []:
            sub = self.store.data["subscription"][sid]
            if sub["status"] not in ("canceled", "incomplete_expired"):
                self.billing.cancel(sub, now, "cancellation_requested")
        self.billing.emit("customer.deleted", "customer", cus, now)
        cus["_deleted"] = True
        return render(self.store, "customer", cus)

    def list(self, params: dict[str, Any]) -> dict[str, Any]:
        p = self.api.check({**LIST_SPEC, "email": "str", "test_clock": "str"}, params)
        email, clock = p.get("email"), p.get("test_clock")

        def pred(r: dict[str, Any]) -> bool:
            if r["_deleted"]:
                return False
            if email is not None and r["email"] != email:
                return False
            # As Stripe: without ``test_clock`` the list leaves out customers on test clocks.
            return r["test_clock"] == clock

        return self.api.page("customer", self.store.order["customer"], p, "/v1/customers", pred)

    # payment methods -----------------------------------------------------------------------
    def get_pm(self, params: dict[str, Any], pm_id: str) -> dict[str, Any]:
        p = self.api.check({"expand": ["str"]}, params)
        return self.api.out("payment_method", self.api.get("payment_method", pm_id),
                            p.get("expand"))  # fmt: skip

    def attach_pm(self, params: dict[str, Any], pm_id: str) -> dict[str, Any]:
        p = self.api.check({"customer": "str", "expand": ["str"]}, params)
        if not p.get("customer"):
            from .errors import missing_param

            raise missing_param("customer")
        cus = self.api.get("customer", p["customer"], "customer")
        now = self.api.now(cus["id"])
        if pm_id in TEST_CARDS:
            pm = self.store.put("payment_method",
                                new_payment_method(self.store, pm_id, cus["id"], now))  # fmt: skip
        else:
            pm = self.api.get("payment_method", pm_id)
            if pm["customer"] and pm["customer"] != cus["id"]:
                raise invalid("The payment method you provided has already been attached to a "
                              "customer.", "payment_method")  # fmt: skip
            pm["customer"] = cus["id"]
        return self.api.out("payment_method", pm, p.get("expand")) if p.get("expand") else public(
            pm
        )

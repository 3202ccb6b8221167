"""Invoices: the read routes (subscriptions and billing.py create and pay them)."""

from __future__ import annotations

from typing import Any

from .api import LIST_SPEC, RouteGroup

__all__ = ["InvoiceRoutes"]


class InvoiceRoutes(RouteGroup):
    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", "/v1/invoices", self.list_invoices),
            ("GET", "/v1/invoices/{id}", self.get_invoice),
        ]

    def get_invoice(self, params: dict[str, Any], iid: str) -> dict[str, Any]:
        p = self.api.check({"expand": ["str"]}, params)
        return self.api.out("invoice", self.api.get("invoice", iid), p.get("expand"))

    def list_invoices(self, params: dict[str, Any]) -> dict[str, Any]:
        spec = {**LIST_SPEC, "customer": "str", "subscription": "str",
                "status": ("draft", "open", "paid", "uncollectible", "void")}  # fmt: skip
        p = self.api.check(spec, params)
        s = self.store
        if p.get("subscription"):
            index = s.invoices_by_sub.get(p["subscription"])
        elif p.get("customer"):
            index = s.invoices_by_customer.get(p["customer"])
        else:
            index = s.order["invoice"]
        cus, status = p.get("customer"), p.get("status")

        def pred(r: dict[str, Any]) -> bool:
            return (cus is None or r["customer"] == cus) and (status is None
                                                              or r["status"] == status)

        return self.api.page("invoice", index, p, "/v1/invoices", pred)

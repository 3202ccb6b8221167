"""Invoices, read-only: what renewals and first charges produced, and whether they were paid.

Statuses are chargebee-python's ``Invoice.Status`` values; the stand-in produces ``paid`` and
``payment_due`` (a failed payment, retried by dunning).
"""

from __future__ import annotations

from typing import Any

from .errors import not_found
from .listing import Field, run_list
from .params import Params
from .site import Site
from .store import public

__all__ = ["INVOICE_STATUSES", "InvoiceRoutes"]

INVOICE_STATUSES = ("paid", "posted", "payment_due", "not_paid", "voided", "pending")


class InvoiceRoutes:
    def __init__(self, site: Site) -> None:
        self.store = site.store

    def routes(self) -> list[tuple[str, str, Any]]:
        return [("GET", "/invoices", self.list), ("GET", "/invoices/{id}", self.retrieve)]

    def retrieve(self, p: Params, oid: str) -> dict[str, Any]:
        p.finish()
        inv = self.store.get("invoice", oid)
        if inv is None or inv["deleted"]:
            raise not_found("Invoice", oid)
        return {"invoice": public(inv)}

    def list(self, p: Params) -> dict[str, Any]:
        fields = {
            "id": Field("string"), "subscription_id": Field("string"),
            "customer_id": Field("string"), "status": Field("enum", choices=INVOICE_STATUSES),
            "date": Field("timestamp"), "updated_at": Field("timestamp"),
            "total": Field("number"), "amount_due": Field("number"),
            "recurring": Field("boolean"),
        }  # fmt: skip
        return run_list(p, self.store.data["invoice"].values(), fields,
                        lambda r: {"invoice": public(r)}, sortable=("date", "updated_at"),
                        include_deleted=True)

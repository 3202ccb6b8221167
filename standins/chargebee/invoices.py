"""Invoices: what renewals and first charges produced, whether they were paid, and payments
recorded by hand (``record_payment``, the offline payments of an ``auto_collection: off``
customer, successful or failed).

Statuses are chargebee-python's ``Invoice.Status`` values; the stand-in produces ``paid`` and
``payment_due`` (a failed payment, retried by dunning, or an offline invoice not paid yet).
"""

from __future__ import annotations

from typing import Any

from .billing import Billing
from .errors import invalid_request, invalid_state, not_found, wrong_value
from .listing import Field, run_list
from .params import Params, unknown_param
from .site import Site
from .store import public

__all__ = ["INVOICE_STATUSES", "OFFLINE_METHODS", "InvoiceRoutes"]

INVOICE_STATUSES = ("paid", "posted", "payment_due", "not_paid", "voided", "pending")
# The payment methods of a payment recorded by hand (chargebee-python's PaymentMethod values
# that make sense offline); gateway methods are refused rather than accepted and ignored.
OFFLINE_METHODS = ("cash", "check", "bank_transfer", "other", "chargeback")
TRANSACTION = ("amount", "payment_method", "reference_number", "id_at_gateway", "status",
               "date", "error_code", "error_text")  # fmt: skip


class InvoiceRoutes:
    def __init__(self, site: Site, billing: Billing) -> None:
        self.site = site
        self.store = site.store
        self.billing = billing

    def routes(self) -> list[tuple[str, str, Any]]:
        return [("GET", "/invoices", self.list), ("GET", "/invoices/{id}", self.retrieve),
                ("POST", "/invoices/{id}/record_payment", self.record_payment)]

    def record_payment(self, p: Params, oid: str) -> dict[str, Any]:
        inv = self.store.get("invoice", oid)
        if inv is None or inv["deleted"]:
            raise not_found("Invoice", oid)
        given = p.prefixed("transaction")
        for key in given:
            if key not in TRANSACTION:
                raise unknown_param(f"transaction[{key}]")
        t = Params("")
        t.values = {f"transaction[{k}]": v for k, v in given.items()}
        method = t.enum("transaction[payment_method]", OFFLINE_METHODS, required=True)
        status = t.enum("transaction[status]", ("success", "failure"), default="success")
        amount = t.int("transaction[amount]", lo=1)
        date = t.int("transaction[date]", lo=0)
        reference = t.str("transaction[reference_number]", max_len=100)
        gateway_id = t.str("transaction[id_at_gateway]", max_len=100)
        error_code = t.str("transaction[error_code]", max_len=100)
        error_text = t.str("transaction[error_text]", max_len=65_000)
        comment = p.str("comment", max_len=300)
        p.finish()
        if inv["status"] not in ("payment_due", "not_paid", "posted"):
            raise invalid_state(f"Invoice is in {inv['status']} state; a payment can only be "
                                "recorded for an unpaid invoice.")  # fmt: skip
        amount = inv["amount_due"] if amount is None else amount
        if amount > inv["amount_due"]:
            raise wrong_value("transaction[amount]", "cannot be more than the amount due")
        if status == "success" and (error_code or error_text):
            raise invalid_request("transaction[error_code] : applies to failed transactions "
                                  "only", param="transaction[error_code]")  # fmt: skip
        now = self.site.now()
        txn = {
            "id": self.store.new_id("txn_"), "customer_id": inv["customer_id"],
            "subscription_id": inv["subscription_id"], "payment_method": method,
            "reference_number": reference, "id_at_gateway": gateway_id, "type": "payment",
            "date": date or now, "amount": amount, "currency_code": inv["currency_code"],
            "status": status, "error_code": error_code, "error_text": error_text,
            "linked_invoices": [{"invoice_id": oid, "applied_amount": amount,
                                 "applied_at": now, "invoice_date": inv["date"],
                                 "invoice_total": inv["total"],
                                 "invoice_status": inv["status"]}],
            "deleted": False, "object": "transaction", "notes": comment,
        }  # fmt: skip
        if status == "success":
            self.billing.settle(inv, amount, now)
        else:
            # A failed payment leaves the invoice as it was, due; the attempt is an event.
            self.store.touch(inv, now)
            sub = self.store.data["subscription"][inv["subscription_id"]]
            self.site.emit("payment_failed", invoice=inv, subscription=sub,
                           customer=self.billing.customer(sub), transaction=txn)
        return {"invoice": public(inv), "transaction": public(txn)}

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

"""Customers: create, retrieve, update, list, delete.

Customer ids are case-sensitive. Deleting a customer deletes its subscriptions too; deleted
records answer 404 on retrieve and show up in lists only with ``include_deleted=true``.
"""

from __future__ import annotations

import re
from typing import Any

from .cards import read_card
from .errors import duplicate, not_found, wrong_value
from .listing import Field, run_list
from .params import Params, unknown_param
from .site import Site, check_id
from .store import public

__all__ = ["CustomerRoutes"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ADDRESS = ("first_name", "last_name", "email", "company", "phone", "line1", "line2", "city",
           "state_code", "state", "zip", "country")  # fmt: skip


class CustomerRoutes:
    def __init__(self, site: Site) -> None:
        self.site = site
        self.store = site.store

    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", "/customers", self.create),
            ("GET", "/customers", self.list),
            ("GET", "/customers/{id}", self.retrieve),
            ("POST", "/customers/{id}", self.update),
            ("POST", "/customers/{id}/delete", self.delete),
        ]

    def live(self, oid: str, param: str | None = None) -> dict[str, Any]:
        rec = self.store.get("customer", oid)
        if rec is None or rec["deleted"]:
            raise not_found("Customer", oid, param=param)
        return rec

    def answer(self, rec: dict[str, Any]) -> dict[str, Any]:
        out = {"customer": public(rec)}
        if rec.get("_card"):
            out["card"] = public(rec["_card"])
        return out

    def _fields(self, p: Params, rec: dict[str, Any]) -> None:
        for key, limit in (("first_name", 150), ("last_name", 150), ("company", 250),
                           ("phone", 50), ("locale", 50)):  # fmt: skip
            if p.has(key):
                rec[key] = p.str(key, max_len=limit)
        if p.has("email"):
            email = p.str("email", max_len=70)
            if email and not _EMAIL.match(email):
                raise wrong_value("email", "invalid email format")
            rec["email"] = email
        if p.has("auto_collection"):
            rec["auto_collection"] = p.enum("auto_collection", ("on", "off"))
        if p.has("net_term_days"):
            rec["net_term_days"] = p.int("net_term_days", lo=0)
        if p.has("preferred_currency_code"):
            rec["preferred_currency_code"] = self.site.currency(
                "preferred_currency_code", p.str("preferred_currency_code"))
        if p.has("meta_data"):
            rec["meta_data"] = p.json("meta_data")
        address = p.prefixed("billing_address")
        if address:
            for key in address:
                if key not in ADDRESS:
                    raise unknown_param(f"billing_address[{key}]")
            rec["billing_address"] = {**address, "validation_status": "not_validated",
                                      "object": "billing_address"}  # fmt: skip

    def create(self, p: Params) -> dict[str, Any]:
        oid = p.str("id")
        if oid is None:
            oid = self.store.new_id()
        check_id("id", oid, 50)
        if oid in self.store.data["customer"]:
            raise duplicate("id", oid)
        now = self.site.now()
        rec: dict[str, Any] = {
            "id": oid, "auto_collection": "on", "net_term_days": 0, "allow_direct_debit": False,
            "created_at": now, "taxability": "taxable", "pii_cleared": "active",
            "channel": "web", "card_status": "no_card", "promotional_credits": 0,
            "refundable_credits": 0, "excess_payments": 0, "unbilled_charges": 0,
            "preferred_currency_code": self.site.settings.base_currency, "deleted": False,
            "object": "customer",
        }  # fmt: skip
        self._fields(p, rec)
        card = read_card(p.prefixed("card"), oid, now)
        p.finish()
        if card is not None:
            rec.update(_card=card, card_status="valid", primary_payment_source_id=card[
                "payment_source_id"], payment_method={"type": "card", "gateway": "chargebee",
                "reference_id": card["payment_source_id"], "status": "valid",
                "object": "payment_method"})  # fmt: skip
        self.store.put("customer", rec, now)
        self.site.emit("customer_created", customer=rec)
        return self.answer(rec)

    def retrieve(self, p: Params, oid: str) -> dict[str, Any]:
        p.finish()
        return self.answer(self.live(oid))

    def update(self, p: Params, oid: str) -> dict[str, Any]:
        rec = self.live(oid)
        self._fields(p, rec)
        p.finish()
        self.store.touch(rec, self.site.now())
        self.site.emit("customer_changed", customer=rec)
        return self.answer(rec)

    def delete(self, p: Params, oid: str) -> dict[str, Any]:
        rec = self.live(oid)
        p.bool("delete_payment_method")
        p.finish()
        now = self.site.now()
        for sid in self.store.subs_by_customer.get(oid, []):
            sub = self.store.data["subscription"][sid]
            if not sub["deleted"]:
                sub["deleted"] = True
                self.store.touch(sub, now)
                self.site.emit("subscription_deleted", subscription=sub, customer=rec)
        rec["deleted"] = True
        self.store.touch(rec, now)
        self.site.emit("customer_deleted", customer=rec)
        return self.answer(rec)

    def list(self, p: Params) -> dict[str, Any]:
        fields = {
            "id": Field("string"), "first_name": Field("string"), "last_name": Field("string"),
            "email": Field("string"), "company": Field("string"), "phone": Field("string"),
            "auto_collection": Field("enum", choices=("on", "off")),
            "created_at": Field("timestamp"), "updated_at": Field("timestamp"),
        }  # fmt: skip
        return run_list(p, self.store.data["customer"].values(), fields, self.answer,
                        sortable=("created_at", "updated_at"), include_deleted=True)

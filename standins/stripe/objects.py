"""Builders and renderers for each object type, in the shape of API version 2026-10-28.endive.

Builders make the stored record (every public field Stripe returns, plus "_" bookkeeping);
renderers turn a record into the JSON body, filling nested objects (an item's ``price`` and
``plan``) and leaving expandable references as ids.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .store import Store

__all__ = [
    "API_VERSION", "clone", "deleted_stub", "new_customer", "new_discount",
    "new_invoice", "new_item", "new_payment_method", "new_subscription", "public", "render",
]  # fmt: skip

API_VERSION = "2026-10-28.endive"
TEST_CARDS = {
    # token -> (last4, charges fail)
    "pm_card_visa": ("4242", False),
    "pm_card_chargeCustomerFail": ("0341", True),
}


def clone(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: clone(x) for k, x in v.items()}
    if isinstance(v, list):
        return [clone(x) for x in v]
    return v


def public(rec: dict[str, Any]) -> dict[str, Any]:
    return {k: clone(v) for k, v in rec.items() if not k.startswith("_")}


def deleted_stub(rec: dict[str, Any]) -> dict[str, Any]:
    return {"id": rec["id"], "object": rec["object"], "deleted": True}


def _address() -> dict[str, None]:
    return dict.fromkeys(("city", "country", "line1", "line2", "postal_code", "state"))


# customers -------------------------------------------------------------------------------
def new_customer(store: Store, now: int, clock: str | None, **fields: Any) -> dict[str, Any]:
    cid = store.new_id("cus")
    rec = {
        "id": cid, "object": "customer", "address": None, "balance": 0, "created": now,
        "currency": None, "customer_account": None, "default_source": None,
        "delinquent": False, "description": fields.get("description"), "discount": None,
        "email": fields.get("email"),
        "invoice_prefix": "".join(store.rng.choice("0123456789ABCDEF") for _ in range(8)),
        "invoice_settings": {
            "custom_fields": None, "default_payment_method": None, "footer": None,
            "rendering_options": None,
        },
        "livemode": False, "metadata": fields.get("metadata") or {},
        "name": fields.get("name"), "next_invoice_sequence": 1, "phone": fields.get("phone"),
        "preferred_locales": [], "shipping": None, "tax_exempt": "none", "test_clock": clock,
        "_deleted": False,
    }  # fmt: skip
    return rec


def new_payment_method(store: Store, token: str, customer: str | None, now: int) -> dict:
    last4, fails = TEST_CARDS[token]
    return {
        "id": store.new_id("pm", 24), "object": "payment_method",
        "allow_redisplay": "unspecified",
        "billing_details": {
            "address": _address(), "email": None, "name": None, "phone": None, "tax_id": None,
        },
        "card": {
            "brand": "visa",
            "checks": {
                "address_line1_check": None, "address_postal_code_check": None,
                "cvc_check": "pass",
            },
            "country": "US", "display_brand": "visa", "exp_month": 12, "exp_year": 2034,
            "fingerprint": "emu" + last4 + "fngrprnt", "funding": "credit",
            "generated_from": None, "last4": last4,
            "networks": {"available": ["visa"], "preferred": None},
            "regulated_status": "unregulated", "three_d_secure_usage": {"supported": True},
            "wallet": None,
        },
        "created": now, "customer": customer, "customer_account": None, "livemode": False,
        "metadata": {}, "type": "card", "_fails": fails, "_token": token,
    }  # fmt: skip


# products, prices, coupons ---------------------------------------------------------------
def new_product(store: Store, now: int, p: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": p.get("id") or store.new_id("prod"), "object": "product",
        "active": p.get("active", True), "created": now, "default_price": None,
        "description": p.get("description"), "images": [], "livemode": False,
        "marketing_features": [], "metadata": p.get("metadata") or {}, "name": p["name"],
        "package_dimensions": None, "shippable": None,
        "statement_descriptor": p.get("statement_descriptor"), "tax_code": None,
        "type": "service", "unit_label": p.get("unit_label"), "updated": now, "url": None,
    }  # fmt: skip


def _dec_str(d: Decimal) -> str:
    s = format(d.normalize(), "f")
    return s


def amount_fields(unit_amount: int | None, decimal: str | None) -> tuple[int | None, str | None]:
    """Stripe returns ``unit_amount`` only when the amount is a whole number of minor units."""
    if unit_amount is not None:
        return unit_amount, str(unit_amount)
    if decimal is None:
        return None, None
    d = Decimal(decimal)
    whole = d == d.to_integral_value()
    return (int(d) if whole else None), _dec_str(d)


def new_price(store: Store, now: int, p: dict[str, Any], product: str) -> dict[str, Any]:
    ua, uad = amount_fields(p.get("unit_amount"), p.get("unit_amount_decimal"))
    rec_in = p.get("recurring")
    recurring = None
    if rec_in is not None:
        recurring = {
            "interval": rec_in["interval"], "interval_count": rec_in.get("interval_count") or 1,
            "meter": rec_in.get("meter"), "usage_type": rec_in.get("usage_type") or "licensed",
            "trial_period_days": rec_in.get("trial_period_days"),
        }  # fmt: skip
    tiers = None
    if p.get("billing_scheme") == "tiered":
        tiers = []
        for t in p["tiers"]:
            tua, tuad = amount_fields(t.get("unit_amount"), t.get("unit_amount_decimal"))
            fa, fad = amount_fields(t.get("flat_amount"), t.get("flat_amount_decimal"))
            up_to = t["up_to"]
            tiers.append({
                "flat_amount": fa, "flat_amount_decimal": fad, "unit_amount": tua,
                "unit_amount_decimal": tuad, "up_to": None if up_to == "inf" else up_to,
            })  # fmt: skip
    tq = p.get("transform_quantity")
    return {
        "id": store.new_id("price", 24), "object": "price", "active": p.get("active", True),
        "billing_scheme": p.get("billing_scheme") or "per_unit", "created": now,
        "currency": p["currency"], "custom_unit_amount": None, "livemode": False,
        "lookup_key": p.get("lookup_key"), "metadata": p.get("metadata") or {},
        "nickname": p.get("nickname"), "product": product, "recurring": recurring,
        "tax_behavior": p.get("tax_behavior") or "unspecified",
        "tiers_mode": p.get("tiers_mode"),
        "transform_quantity": (
            {"divide_by": tq["divide_by"], "round": tq["round"]} if tq else None
        ),
        "type": "recurring" if recurring else "one_time",
        "unit_amount": ua, "unit_amount_decimal": uad, "_tiers": tiers,
    }  # fmt: skip


def new_coupon(store: Store, now: int, p: dict[str, Any]) -> dict[str, Any]:
    cid = p.get("id") or "".join(store.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
                                  for _ in range(8))
    return {
        "id": cid, "object": "coupon", "amount_off": p.get("amount_off"), "created": now,
        "currency": p.get("currency"), "duration": p.get("duration") or "once",
        "duration_in_months": p.get("duration_in_months"), "livemode": False,
        "max_redemptions": p.get("max_redemptions"), "metadata": p.get("metadata") or {},
        "name": p.get("name"), "percent_off": p.get("percent_off"),
        "redeem_by": p.get("redeem_by"), "times_redeemed": 0, "valid": True,
    }  # fmt: skip


def new_discount(
    store: Store, coupon: dict[str, Any], customer: str, sub: str, item: str | None, now: int
) -> dict[str, Any]:
    end = None
    if coupon["duration"] == "repeating":
        from .clock import period_boundary

        end = period_boundary(now, "month", coupon["duration_in_months"], 1)
    return {
        "id": store.new_id("di", 24), "object": "discount", "checkout_session": None,
        "customer": customer, "customer_account": None, "end": end, "invoice": None,
        "invoice_item": None, "promotion_code": None,
        "source": {"coupon": coupon["id"], "type": "coupon"}, "start": now,
        "subscription": sub, "subscription_item": item,
    }  # fmt: skip


# subscriptions ---------------------------------------------------------------------------
def new_item(store: Store, sub_id: str, price: str, qty: int, now: int) -> dict[str, Any]:
    return {
        "id": store.new_id("si"), "object": "subscription_item", "billing_thresholds": None,
        "created": now, "current_period_end": now, "current_period_start": now,
        "discounts": [], "metadata": {}, "price": price, "quantity": qty,
        "subscription": sub_id, "tax_rates": [],
    }  # fmt: skip


def new_subscription(store: Store, customer: dict[str, Any], now: int) -> dict[str, Any]:
    return {
        "id": store.new_id("sub", 24), "object": "subscription", "application": None,
        "application_fee_percent": None,
        "automatic_tax": {"disabled_reason": None, "enabled": False, "liability": None},
        "billing_cycle_anchor": now, "billing_cycle_anchor_config": None,
        "billing_mode": {"flexible": None, "type": "classic"}, "billing_schedules": [],
        "billing_thresholds": None, "cancel_at": None, "cancel_at_period_end": False,
        "canceled_at": None,
        "cancellation_details": {"comment": None, "feedback": None, "reason": None},
        "collection_method": "charge_automatically", "created": now, "currency": "usd",
        "customer": customer["id"], "customer_account": None, "days_until_due": None,
        "default_payment_method": None, "default_source": None, "default_tax_rates": [],
        "description": None, "discounts": [], "ended_at": None,
        "invoice_settings": {"account_tax_ids": None, "issuer": {"type": "self"}},
        "latest_invoice": None, "livemode": False, "managed_payments": None, "metadata": {},
        "next_pending_invoice_item_invoice": None, "on_behalf_of": None,
        "pause_collection": None,
        "payment_settings": {
            "payment_method_options": None, "payment_method_types": None,
            "save_default_payment_method": "off",
        },
        "pending_invoice_item_interval": None, "pending_setup_intent": None,
        "pending_update": None, "schedule": None, "start_date": now, "status": "incomplete",
        "test_clock": customer["test_clock"], "transfer_data": None, "trial_end": None,
        "trial_settings": {"end_behavior": {"missing_payment_method": "create_invoice"}},
        "trial_start": None, "_items": [], "_cycle": 0, "_retries": 0, "_next_retry": None,
    }  # fmt: skip


def new_invoice(
    store: Store, sub: dict[str, Any], reason: str, amount: int, start: int, end: int, now: int
) -> dict[str, Any]:
    iid = store.new_id("in", 24)
    return {
        "id": iid, "object": "invoice", "account_country": "US", "account_name": None,
        "account_tax_ids": None, "amount_due": amount, "amount_overpaid": 0,
        "amount_paid": 0, "amount_remaining": amount, "amount_shipping": 0,
        "application": None, "attempt_count": 0, "attempted": False, "auto_advance": True,
        "automatic_tax": {
            "disabled_reason": None, "enabled": False, "liability": None, "provider": None,
            "status": None,
        },
        "automatically_finalizes_at": None, "billing_reason": reason,
        "collection_method": "charge_automatically", "created": now,
        "currency": sub["currency"], "custom_fields": None, "customer": sub["customer"],
        "customer_account": None, "customer_address": None, "customer_email": None,
        "customer_name": None, "customer_phone": None, "customer_shipping": None,
        "customer_tax_exempt": "none", "customer_tax_ids": [],
        "default_payment_method": None, "default_source": None, "default_tax_rates": [],
        "description": None, "discounts": [], "due_date": None, "effective_at": now,
        "ending_balance": 0, "footer": None, "from_invoice": None,
        "hosted_invoice_url": None, "invoice_pdf": None, "issuer": {"type": "self"},
        "last_finalization_error": None, "latest_revision": None,
        "lines": {
            "object": "list", "data": [], "has_more": False, "total_count": 0,
            "url": f"/v1/invoices/{iid}/lines",
        },
        "livemode": False, "metadata": {}, "next_payment_attempt": None, "number": None,
        "on_behalf_of": None,
        "parent": {
            "quote_details": None,
            "subscription_details": {"metadata": {}, "subscription": sub["id"]},
            "type": "subscription_details",
        },
        "payment_settings": {
            "default_mandate": None, "payment_method_options": None,
            "payment_method_types": None,
        },
        "period_end": end, "period_start": start, "post_payment_credit_notes_amount": 0,
        "pre_payment_credit_notes_amount": 0, "receipt_number": None, "rendering": None,
        "shipping_cost": None, "shipping_details": None, "starting_balance": 0,
        "statement_descriptor": None, "status": "draft",
        "status_transitions": {
            "finalized_at": None, "marked_uncollectible_at": None, "paid_at": None,
            "voided_at": None,
        },
        "subtotal": amount, "subtotal_excluding_tax": amount, "test_clock": sub["test_clock"],
        "total": amount, "total_discount_amounts": [], "total_excluding_tax": amount,
        "total_pretax_credit_amounts": [], "total_taxes": [], "webhooks_delivered_at": now,
    }  # fmt: skip


def new_test_clock(store: Store, now: int, frozen: int, name: str | None) -> dict[str, Any]:
    return {
        "id": store.new_id("clock", 24), "object": "test_helpers.test_clock",
        "created": now, "deletes_after": now + 30 * 86_400, "frozen_time": frozen,
        "livemode": False, "name": name, "status": "ready", "status_details": {},
    }  # fmt: skip


# rendering -------------------------------------------------------------------------------
def render_price(rec: dict[str, Any], tiers: bool = False) -> dict[str, Any]:
    out = public(rec)
    if tiers:
        out["tiers"] = clone(rec["_tiers"])
    return out


def render_plan(price: dict[str, Any]) -> dict[str, Any]:
    rec = price["recurring"] or {}
    tq = price["transform_quantity"]
    return {
        "id": price["id"], "object": "plan", "active": price["active"],
        "amount": price["unit_amount"], "amount_decimal": price["unit_amount_decimal"],
        "billing_scheme": price["billing_scheme"], "created": price["created"],
        "currency": price["currency"], "interval": rec.get("interval"),
        "interval_count": rec.get("interval_count"), "livemode": False,
        "metadata": clone(price["metadata"]), "meter": rec.get("meter"),
        "nickname": price["nickname"], "product": price["product"],
        "tiers_mode": price["tiers_mode"], "transform_usage": clone(tq),
        "trial_period_days": rec.get("trial_period_days"),
        "usage_type": rec.get("usage_type", "licensed"),
    }  # fmt: skip


def render_item(store: Store, item: dict[str, Any]) -> dict[str, Any]:
    out = public(item)
    price = store.data["price"][item["price"]]
    out["price"] = render_price(price)
    out["plan"] = render_plan(price)
    return out


def render_subscription(store: Store, sub: dict[str, Any]) -> dict[str, Any]:
    out = public(sub)
    out["items"] = {
        "object": "list", "data": [render_item(store, it) for it in sub["_items"]],
        "has_more": False, "total_count": len(sub["_items"]),
        "url": f"/v1/subscription_items?subscription={sub['id']}",
    }  # fmt: skip
    return out


def render(store: Store, kind: str, rec: dict[str, Any]) -> dict[str, Any]:
    if kind == "subscription":
        return render_subscription(store, rec)
    if kind == "subscription_item":
        return render_item(store, rec)
    if kind == "customer" and rec["_deleted"]:
        return deleted_stub(rec)
    return public(rec)

"""Constructors for stored records, shared by the HTTP routes and the bulk seeder.

Each returns a dict holding every field the resource sends (times as epoch ints) plus "_"
bookkeeping: the owning account, the plan, the billing anchor and cycle number.
"""

from __future__ import annotations

from typing import Any

from .store import Store

__all__ = ["new_account", "new_add_on", "new_coupon", "new_invoice", "new_plan",
           "new_subscription", "sub_add_on"]  # fmt: skip


def new_account(st: Store, now: int, code: str, f: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": st.new_id(), "object": "account", "state": "active", "code": code,
        "username": f.get("username"), "email": f.get("email"),
        "preferred_locale": f.get("preferred_locale"), "preferred_time_zone": None,
        "cc_emails": f.get("cc_emails"), "first_name": f.get("first_name"),
        "last_name": f.get("last_name"), "company": f.get("company"),
        "vat_number": f.get("vat_number"), "tax_exempt": bool(f.get("tax_exempt")),
        "exemption_certificate": None, "parent_account_id": None, "bill_to": "self",
        "dunning_campaign_id": None, "invoice_template_id": None,
        "override_business_entity_id": None, "hosted_login_token": st.uuid(),
        "address": f.get("address"), "billing_info": None, "custom_fields": [],
        "external_accounts": [], "created_at": now, "updated_at": now, "deleted_at": None,
    }  # fmt: skip


def new_plan(st: Store, now: int, f: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": st.new_id(), "object": "plan", "code": f["code"], "state": "active",
        "name": f["name"], "description": f.get("description"),
        "interval_unit": f.get("interval_unit") or "months",
        "interval_length": f.get("interval_length") or 1,
        "trial_unit": f.get("trial_unit") or "months",
        "trial_length": f.get("trial_length") or 0,
        "trial_requires_billing_info": True, "total_billing_cycles": None,
        "auto_renew": f.get("auto_renew", True) is not False, "pricing_model": "fixed",
        "ramp_intervals": [], "custom_fields": [], "revenue_schedule_type": "evenly",
        "setup_fee_revenue_schedule_type": "evenly", "accounting_code": None,
        "setup_fee_accounting_code": None, "tax_code": None, "tax_exempt": False,
        "avalara_transaction_type": None, "avalara_service_type": None,
        "vertex_transaction_type": None, "harmonized_system_code": None,
        "allow_any_item_on_subscriptions": False, "dunning_campaign_id": None,
        "currencies": [{"currency": c["currency"], "unit_amount": c["unit_amount"],
                        "setup_fee": c.get("setup_fee") or 0.0, "tax_inclusive": False,
                        "price_segment_id": None} for c in f["currencies"]],
        "setup_fees": [], "hosted_pages": {"success_url": None, "cancel_url": None,
                                          "bypass_confirmation": False, "display_quantity": False},
        "created_at": now, "updated_at": now, "deleted_at": None,
    }  # fmt: skip


def new_add_on(st: Store, now: int, plan_id: str, f: dict[str, Any]) -> dict[str, Any]:
    usage = f.get("add_on_type") == "usage"
    tiers = [{"ending_quantity": t.get("ending_quantity"), "usage_percentage": None,
              "currencies": [{"currency": c["currency"], "unit_amount": c.get("unit_amount"),
                              "unit_amount_decimal": c.get("unit_amount_decimal")}
                             for c in t["currencies"]]}
             for t in f.get("tiers") or []]  # fmt: skip
    return {
        "id": st.new_id(), "object": "add_on", "plan_id": plan_id, "code": f["code"],
        "state": "active", "name": f["name"], "add_on_type": f.get("add_on_type") or "fixed",
        "usage_type": "price" if usage else None, "usage_calculation_type":
        "cumulative" if usage else None, "usage_timeframe": "billing_period" if usage else None,
        "usage_percentage": None, "percentage_tiers": [], "measured_unit_id": None,
        "accounting_code": None, "revenue_schedule_type": "evenly", "display_quantity": False,
        "default_quantity": f.get("default_quantity") or 1, "optional": True,
        "currencies": [{"currency": c["currency"], "unit_amount": c.get("unit_amount"),
                        "unit_amount_decimal": c.get("unit_amount_decimal"),
                        "tax_inclusive": False} for c in f.get("currencies") or []],
        "tier_type": f.get("tier_type") or "flat", "tiers": tiers, "external_sku": None,
        "tax_code": None, "item": None, "avalara_transaction_type": None,
        "avalara_service_type": None, "harmonized_system_code": None,
        "created_at": now, "updated_at": now, "deleted_at": None,
    }  # fmt: skip


def new_coupon(st: Store, now: int, f: dict[str, Any]) -> dict[str, Any]:
    kind = f["discount_type"]
    discount: dict[str, Any] = {"type": kind}
    if kind == "percent":
        discount["percent"] = f["discount_percent"]
    elif kind == "fixed":
        discount["currencies"] = [{"currency": c["currency"], "amount": c["discount"]}
                                  for c in f["currencies"]]  # fmt: skip
    else:
        discount["trial"] = {"unit": f["free_trial_unit"], "length": f["free_trial_amount"]}
    temporal = f.get("duration") == "temporal"
    return {
        "id": st.new_id(), "object": "coupon", "code": f["code"], "name": f["name"],
        "state": "redeemable", "discount": discount, "coupon_type": "single_code",
        "duration": None if kind == "free_trial" else f.get("duration") or "forever",
        "temporal_amount": f.get("temporal_amount") if temporal else None,
        "temporal_unit": f.get("temporal_unit") if temporal else None,
        "free_trial_unit": f.get("free_trial_unit"), "free_trial_amount":
        f.get("free_trial_amount"), "max_redemptions": f.get("max_redemptions"),
        "max_redemptions_per_account": f.get("max_redemptions_per_account"),
        "unique_coupon_codes_count": 0, "unique_code_template": None,
        "unique_coupon_code": None, "redemption_resource": "account",
        "applies_to_all_plans": True, "applies_to_all_items": False,
        "applies_to_non_plan_charges": False, "plans": [], "items": [],
        "hosted_page_description": None, "invoice_description": None, "redeem_by": None,
        "redeem_by_interval_amount": None, "redeem_by_interval_unit": None,
        "created_at": now, "updated_at": now, "expired_at": None,
    }  # fmt: skip


def sub_add_on(st: Store, now: int, sid: str, add_on: dict[str, Any], quantity: int,
               unit_amount: float | None) -> dict[str, Any]:  # fmt: skip
    return {
        "id": st.new_id(), "object": "subscription_add_on", "subscription_id": sid,
        "_add_on": add_on["id"], "quantity": quantity, "unit_amount": unit_amount,
        "unit_amount_decimal": None, "revenue_schedule_type": "evenly",
        "tier_type": add_on["tier_type"], "tiers": [], "percentage_tiers": [],
        "usage_timeframe": add_on["usage_timeframe"], "usage_calculation_type":
        add_on["usage_calculation_type"], "usage_percentage": None,
        "add_on_source": "plan_add_on", "created_at": now, "updated_at": now, "expired_at": None,
    }  # fmt: skip


def new_subscription(st: Store, now: int, acct: dict[str, Any], plan: dict[str, Any],
                     currency: str, unit_amount: float,
                     quantity: int) -> dict[str, Any]:  # fmt: skip
    return {
        "id": st.new_id(), "uuid": st.uuid(), "object": "subscription", "state": "active",
        "_account": acct["id"], "_plan": plan["id"], "_add_ons": [], "_anchor": now, "_k": 0,
        "shipping": None, "pending_change": None,
        "current_period_started_at": None, "current_period_ends_at": None,
        "current_term_started_at": None, "current_term_ends_at": None,
        "trial_started_at": None, "trial_ends_at": None, "remaining_billing_cycles": None,
        "total_billing_cycles": None, "renewal_billing_cycles": None,
        "auto_renew": plan["auto_renew"], "ramp_intervals": [], "paused_at": None,
        "remaining_pause_cycles": None, "resume_at": None, "currency": currency,
        "revenue_schedule_type": "evenly", "unit_amount": unit_amount, "tax_inclusive": False,
        "quantity": quantity, "add_ons_total": 0.0, "subtotal": 0.0, "tax": 0.0,
        "tax_info": None, "total": 0.0, "collection_method": "automatic", "po_number": None,
        "net_terms": 0, "net_terms_type": "net", "terms_and_conditions": None,
        "customer_notes": None, "expiration_reason": None, "custom_fields": [],
        "created_at": now, "updated_at": now, "activated_at": None, "canceled_at": None,
        "expires_at": None, "bank_account_authorized_at": None, "gateway_code": None,
        "billing_info_id": None, "active_invoice_id": None, "started_with_gift": False,
        "converted_at": None, "action_result": None, "business_entity_id": None,
        "price_segment_id": None,
    }  # fmt: skip


def new_invoice(st: Store, now: int, sub: dict[str, Any], origin: str, amount: float,
                discount: float) -> dict[str, Any]:  # fmt: skip
    st.invoice_number += 1
    total = round(max(0.0, amount - discount), 2)
    return {
        "id": st.new_id(), "uuid": st.uuid(), "object": "invoice", "type": "charge",
        "origin": origin, "state": "paid", "_account": sub["_account"],
        "billing_info_id": None, "subscription_ids": [sub["id"]], "previous_invoice_id": None,
        "number": str(st.invoice_number), "collection_method": sub["collection_method"],
        "po_number": None, "net_terms": 0, "net_terms_type": "net", "address": None,
        "shipping_address": None, "currency": sub["currency"], "discount": round(discount, 2),
        "subtotal": round(amount, 2), "subtotal_after_discount": total, "tax": 0.0,
        "total": total, "refundable_amount": total, "paid": total, "balance": 0.0,
        "tax_info": None, "used_tax_service": False, "vat_number": None,
        "vat_reverse_charge_notes": None, "terms_and_conditions": None, "customer_notes": None,
        "line_items": [], "has_more_line_items": False, "transactions": [],
        "credit_payments": [], "coupon_redemptions": [], "custom_fields": [],
        "dunning_campaign_id": None, "dunning_events_sent": 0, "final_dunning_event": False,
        "business_entity_id": None, "reference_only_currency_conversion": None,
        "created_at": now, "updated_at": now, "due_at": now, "closed_at": now,
    }  # fmt: skip

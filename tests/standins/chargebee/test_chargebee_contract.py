"""Contract: everything the stand-in sends, checked against chargebee-python 3.x's typed models.

Every field of every object (nested ones too) must be declared by the SDK's model with a
matching type, and the fields billing-sync reads must be present. The one key the models do not
declare is ``object``: Chargebee sends it on every resource and the SDK keeps it as a plain
attribute.
"""

from __future__ import annotations

import typing
from typing import Any

import pytest
from chargebee.models.coupon.responses import CouponResponse
from chargebee.models.customer.responses import CustomerResponse
from chargebee.models.event.responses import EventResponse
from chargebee.models.invoice.responses import InvoiceResponse
from chargebee.models.item.responses import ItemResponse
from chargebee.models.item_family.responses import ItemFamilyResponse
from chargebee.models.item_price.responses import ItemPriceResponse
from chargebee.models.subscription.responses import SubscriptionResponse
from chargebee.models.time_machine.responses import TimeMachineResponse

T0 = 1_793_577_600
DAY = 86_400
UNDECLARED = {"object"}
NEEDED = {  # what billing-sync's Chargebee source will read
    "subscription": {"id", "customer_id", "status", "current_term_start", "current_term_end",
                     "mrr", "currency_code", "subscription_items",
                     "due_invoices_count", "resource_version", "updated_at", "deleted",
                     "billing_period", "billing_period_unit", "created_at"},
    "customer": {"id", "email", "company", "resource_version", "updated_at", "deleted"},
    "item_price": {"id", "item_id", "pricing_model", "currency_code", "period", "period_unit"},
    "invoice": {"id", "status", "subscription_id", "total", "amount_due", "date"},
    "event": {"id", "occurred_at", "event_type", "api_version", "content"},
}  # fmt: skip
PRIMITIVES = {str: (str,), int: (int,), bool: (bool,), float: (int, float)}


def check(obj: Any, model: type, path: str) -> list[str]:
    """Problems with ``obj`` against ``model`` (an SDK ``*Response`` dataclass)."""
    hints = typing.get_type_hints(model)
    problems = []
    for key, value in obj.items():
        where = f"{path}.{key}"
        if key in UNDECLARED:
            continue
        if key not in hints:
            problems.append(f"{where}: not declared by {model.__name__}")
            continue
        problems += check_value(value, hints[key], where)
    return problems


def check_value(value: Any, hint: Any, where: str) -> list[str]:
    origin = typing.get_origin(hint)
    if origin in (list, typing.List):  # noqa: UP006
        if not isinstance(value, list):
            return [f"{where}: expected a list, got {type(value).__name__}"]
        (inner,) = typing.get_args(hint) or (Any,)
        return [p for i, v in enumerate(value) for p in check_value(v, inner, f"{where}[{i}]")]
    if origin in (dict, typing.Dict) or hint is Any:  # noqa: UP006
        return [] if hint is Any or isinstance(value, dict) else [f"{where}: expected a dict"]
    if hint in PRIMITIVES:
        ok = isinstance(value, PRIMITIVES[hint]) and not (hint is not bool and
                                                          isinstance(value, bool))
        return [] if ok else [f"{where}: expected {hint.__name__}, got {value!r}"]
    if isinstance(hint, type) and hasattr(hint, "construct"):
        if not isinstance(value, dict):
            return [f"{where}: expected an object"]
        return check(value, hint, where)
    return [f"{where}: unhandled hint {hint!r}"]


def _catalog(cb: Any) -> None:
    cb.ItemFamily.create({"id": "fam", "name": "Family"})
    cb.Item.create({"id": "team", "name": "Team", "type": "plan", "item_family_id": "fam"})
    cb.Item.create({"id": "seats", "name": "Seats", "type": "addon", "item_family_id": "fam"})
    monthly = {"period_unit": "month", "period": 1}
    cb.ItemPrice.create({"id": "p-monthly", "name": "Monthly", "item_id": "team",
                         "pricing_model": "per_unit", "price": 2000, **monthly})
    cb.ItemPrice.create({"id": "p-addon", "name": "Addon", "item_id": "seats",
                         "pricing_model": "per_unit", "price": 500, **monthly})
    cb.ItemPrice.create({"id": "p-trial", "name": "Trial", "item_id": "team", "price": 5000,
                         "trial_period": 14, "trial_period_unit": "day", **monthly})
    cb.ItemPrice.create({"id": "p-yearly", "name": "Yearly", "item_id": "team",
                         "price": 120000, "period_unit": "year"})
    cb.ItemPrice.create({"id": "p-tiered", "name": "Tiered", "item_id": "team",
                         "pricing_model": "tiered", **monthly, "tiers": [
                             {"starting_unit": 1, "ending_unit": 10, "price": 1000},
                             {"starting_unit": 11, "price": 800}]})  # fmt: skip
    cb.Coupon.create_for_items({"id": "TENOFF", "name": "Ten off", "discount_percentage": 10,
                                "discount_type": "percentage", "duration_type": "forever",
                                "apply_on": "invoice_amount"})  # fmt: skip


@pytest.fixture(scope="module")
def objects() -> Any:
    """One of each object, made and read back through the SDK; ``raw_data`` is the JSON."""
    import chargebee

    from standins.chargebee import ChargebeeStandIn

    with pytest.MonkeyPatch.context() as mp, ChargebeeStandIn(site="acme-test") as standin:
        mp.setattr(chargebee.Chargebee, "verify_ca_certs", False)
        standin.set_time(T0)
        cb = standin.sdk_client()
        _catalog(cb)
        yield _collect(cb, standin)


def _collect(cb: Any, standin: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {k: [] for k in (
        "subscription", "customer", "item", "item_family", "item_price", "coupon", "invoice",
        "event", "time_machine")}  # fmt: skip
    cus = cb.Customer.create({"id": "acme", "first_name": "Ada", "company": "Acme",
                              "email": "ada@acme.test",
                              "billing_address": {"city": "Paris", "country": "FR"}})
    out["customer"].append(cus.customer.raw_data)
    created = [
        cb.Subscription.create_with_items("acme", {
            "subscription_items": [{"item_price_id": "p-monthly", "quantity": 2},
                                   {"item_price_id": "p-addon", "quantity": 3}],
            "coupon_ids": ["TENOFF"],
            "discounts": [{"duration_type": "limited_period", "amount": 100, "period": 3,
                           "period_unit": "month"}]}),
        cb.Subscription.create_with_items("acme", {"subscription_items": [
            {"item_price_id": "p-tiered", "quantity": 12}]}),
        cb.Subscription.create_with_items("acme", {"subscription_items": [
            {"item_price_id": "p-trial"}]}),
        cb.Subscription.create_with_items("acme", {"subscription_items": [
            {"item_price_id": "p-yearly"}], "start_date": T0 + DAY}),
    ]  # fmt: skip
    out["invoice"].append(created[0].invoice.raw_data)
    cb.Subscription.cancel_for_items(created[0].subscription.id, {"end_of_term": True})
    cb.Subscription.pause(created[1].subscription.id, {"pause_option": "immediately",
                                                       "resume_date": T0 + 40 * DAY})
    standin.fail_payments("acme")
    standin.advance_time(45 * DAY)
    for entry in cb.Subscription.list({"include_deleted": True, "limit": 100}).list:
        out["subscription"].append(entry.subscription.raw_data)
        out["customer"].append(entry.customer.raw_data)
    for entry in cb.Invoice.list({"limit": 100}).list:
        out["invoice"].append(entry.invoice.raw_data)
    for entry in cb.Event.list({"limit": 100}).list:
        out["event"].append(entry.event.raw_data)
    for name, model in (("Item", "team"), ("ItemPrice", "p-tiered"), ("ItemPrice", "p-trial"),
                        ("Coupon", "TENOFF"), ("ItemFamily", "fam")):  # fmt: skip
        res = getattr(cb, name).retrieve(model)
        key = {"ItemPrice": "item_price", "ItemFamily": "item_family"}.get(name, name.lower())
        out[key].append(getattr(res, key).raw_data)
    out["time_machine"].append(cb.TimeMachine.retrieve("delorean").time_machine.raw_data)
    return out


MODELS = {
    "subscription": SubscriptionResponse, "customer": CustomerResponse, "item": ItemResponse,
    "item_family": ItemFamilyResponse, "item_price": ItemPriceResponse,
    "coupon": CouponResponse, "invoice": InvoiceResponse, "event": EventResponse,
    "time_machine": TimeMachineResponse,
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_every_field_is_declared_by_the_sdk_with_its_type(objects, kind) -> None:
    assert objects[kind], f"no {kind} collected"
    problems = [p for i, obj in enumerate(objects[kind])
                for p in check(obj, MODELS[kind], f"{kind}[{i}]")]  # fmt: skip
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("kind", sorted(NEEDED))
def test_fields_billing_sync_needs_are_present(objects, kind) -> None:
    for obj in objects[kind]:
        missing = NEEDED[kind] - set(obj)
        assert not missing, f"{kind} {obj.get('id')} lacks {sorted(missing)}"
        if "object" in obj:
            assert obj["object"] == kind
        if kind == "subscription" and obj["status"] == "active":
            assert "next_billing_at" in obj  # Chargebee omits it once nothing is billed next


def test_the_collection_covers_the_statuses_and_dues(objects) -> None:
    subs = objects["subscription"]
    assert {s["status"] for s in subs} == {"cancelled", "active"}
    assert any(s["due_invoices_count"] > 0 and "due_since" in s for s in subs)
    assert any("item_tiers" in s for s in subs) and any("discounts" in s for s in subs)
    assert {i["status"] for i in objects["invoice"]} == {"paid", "payment_due"}


def test_event_content_is_typed_like_the_resources(objects) -> None:
    problems = []
    for evt in objects["event"]:
        for kind, obj in evt["content"].items():
            problems += check(obj, MODELS[kind], f"event {evt['event_type']}.{kind}")
    assert not problems, "\n".join(problems)


def test_sdk_deserializes_a_webhook_and_refuses_another_api_version(cb, objects) -> None:
    """chargebee-python checks a webhook's api_version against its own (v2)."""
    import json

    evt = objects["event"][0]
    assert cb.Event.deserialize(json.dumps(evt)).id == evt["id"]
    with pytest.raises(Exception, match="API version"):
        cb.Event.deserialize(json.dumps({**evt, "api_version": "v1"}))

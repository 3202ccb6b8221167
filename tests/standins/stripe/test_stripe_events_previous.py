"""``*.updated`` events carry ``data.previous_attributes``: only what changed, old values."""

from __future__ import annotations

from conftest import T0


def _updates(client, etype: str) -> list:
    return client.v1.events.list({"type": etype, "limit": 100}).data


def test_customer_update_previous_attributes(client, raw) -> None:
    cus = client.v1.customers.create({"name": "Acme", "metadata": {"keep": "1"}})
    client.v1.customers.update(cus.id, {"name": "Acme Inc", "metadata": {"tier": "gold"}})
    client.v1.customers.update(cus.id, {"metadata": {"tier": "platinum"}})
    client.v1.customers.update(cus.id, {"metadata": {"tier": ""}})
    client.v1.customers.update(cus.id, {"name": "Acme Inc"})  # no change: no event
    _, page = raw("/v1/events", {"type": "customer.updated"})
    prev = [e["data"]["previous_attributes"] for e in reversed(page["data"])]
    assert prev == [
        {"name": "Acme", "metadata": {"tier": None}},
        {"metadata": {"tier": "gold"}},
        {"metadata": {"tier": "platinum"}},
    ]
    assert page["data"][-1]["data"]["object"]["name"] == "Acme Inc"
    _, created = raw("/v1/events", {"type": "customer.created"})
    assert "previous_attributes" not in created["data"][0]["data"]


def test_subscription_update_previous_attributes(client, monthly, make_customer) -> None:
    cus = make_customer()
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    client.v1.subscriptions.update(sub.id, {"cancel_at_period_end": True})
    client.v1.subscriptions.update(sub.id, {"metadata": {"crm": "0011"}})
    first, second = reversed(_updates(client, "customer.subscription.updated"))
    assert first.data.previous_attributes.to_dict() == {
        "cancel_at": None, "cancel_at_period_end": False, "canceled_at": None,
    }  # fmt: skip
    assert second.data.previous_attributes.to_dict() == {"metadata": {"crm": None}}


def test_renewal_reports_item_periods_and_latest_invoice(standin, client, monthly,
                                                         make_customer) -> None:  # fmt: skip
    cus = make_customer()
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    item = sub["items"].data[0]
    standin.set_time(item.current_period_end + 1)
    renewal = _updates(client, "customer.subscription.updated")[0]
    prev = renewal.data.previous_attributes.to_dict()
    assert set(prev) == {"items", "latest_invoice"}
    assert prev["latest_invoice"] == sub.latest_invoice
    (old_item,) = prev["items"]["data"]  # arrays are given whole
    assert old_item["id"] == item.id and old_item["current_period_end"] == item.current_period_end
    assert renewal.data.object["items"].data[0].current_period_start == item.current_period_end


def test_pre_basil_renewal_and_plan_change(standin, client, monthly, make_customer) -> None:
    standin.set_default_api_version("2024-06-20")
    cus = make_customer()
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    item = sub["items"].data[0]
    standin.set_time(item.current_period_end + 1)
    renewal = _updates(client, "customer.subscription.updated")[0]
    prev = renewal.data.previous_attributes.to_dict()
    assert set(prev) == {"current_period_start", "current_period_end", "latest_invoice"}
    assert prev["current_period_start"] == T0
    assert prev["current_period_end"] == item.current_period_end

    yearly = client.v1.prices.create({"product": monthly.product, "currency": "usd",
                                      "unit_amount": 20000, "recurring": {"interval": "year"}})
    client.v1.subscriptions.update(sub.id, {"items": [{"id": item.id, "price": yearly.id}]})
    change = _updates(client, "customer.subscription.updated")[0]
    prev = change.data.previous_attributes.to_dict()
    assert prev["plan"]["id"] == monthly.id and prev["plan"]["interval"] == "month"
    assert prev["items"]["data"][0]["price"]["id"] == monthly.id
    assert change.data.object.plan.id == yearly.id


def test_status_change_previous_attributes(standin, client, monthly, make_customer) -> None:
    cus = make_customer()
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    failing = client.v1.payment_methods.attach("pm_card_chargeCustomerFail", {"customer": cus.id})
    client.v1.customers.update(cus.id, {"invoice_settings": {"default_payment_method": failing.id}})
    cus_update = _updates(client, "customer.updated")[0]
    assert cus_update.data.previous_attributes.to_dict() == {
        "invoice_settings": {"default_payment_method": cus.invoice_settings.default_payment_method},
    }  # fmt: skip
    standin.set_time(sub["items"].data[0].current_period_end + 1)
    past_due = _updates(client, "customer.subscription.updated")[0]
    prev = past_due.data.previous_attributes.to_dict()
    assert prev["status"] == "active" and past_due.data.object.status == "past_due"
    assert {"items", "latest_invoice"} <= set(prev)

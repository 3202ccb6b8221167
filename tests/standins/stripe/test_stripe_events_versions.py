"""Event payloads are rendered in the account's default API version at creation time."""

from __future__ import annotations

import pytest
import requests
import stripe

PINNED = "2026-10-28.endive"


def _control(standin, path: str, body: dict | None = None, method: str = "POST"):
    r = requests.request(method, standin.base_url + path, json=body, timeout=5)
    return r.status_code, r.json()


def test_pre_basil_subscription_payload(standin, client, raw, monthly, make_customer) -> None:
    cus = make_customer()
    assert _control(standin, "/_standin/default_api_version", {"version": "2024-06-20"}) == (
        200, {"default_api_version": "2024-06-20"})  # fmt: skip
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    _, page = raw("/v1/events", {"type": "customer.subscription.created"})
    evt = page["data"][0]
    obj = evt["data"]["object"]
    item = sub["items"].data[0]
    assert evt["api_version"] == "2024-06-20"
    assert obj["current_period_start"] == item.current_period_start
    assert obj["current_period_end"] == item.current_period_end
    assert obj["plan"]["object"] == "plan" and obj["plan"]["id"] == monthly.id
    assert obj["plan"]["amount"] == 2000 and obj["quantity"] == 1 and obj["discount"] is None
    assert "current_period_end" not in obj["items"]["data"][0]
    assert obj["items"]["data"][0]["plan"]["id"] == monthly.id
    # An invoice event in that version names its subscription at the top level.
    _, paid = raw("/v1/events", {"type": "invoice.paid"})
    inv = paid["data"][0]["data"]["object"]
    assert inv["subscription"] == sub.id and inv["paid"] is True and "parent" not in inv
    # Our own reads keep speaking the pinned version: the new shape.
    _, got = raw(f"/v1/subscriptions/{sub.id}")
    assert "current_period_end" not in got and "plan" not in got
    assert got["items"]["data"][0]["current_period_end"] == item.current_period_end
    _, one = raw(f"/v1/events/{evt['id']}")
    assert one == evt  # retrieve shows the stored rendering too


def test_version_in_force_at_creation_is_kept(standin, client, monthly, make_customer) -> None:
    cus = make_customer()
    before = client.v1.events.list({"type": "customer.created"}).data[0]
    standin.set_default_api_version("2024-06-20")
    assert standin.default_api_version == "2024-06-20"
    client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    standin.set_default_api_version(PINNED)
    client.v1.customers.update(cus.id, {"name": "New name"})
    events = client.v1.events.list({"limit": 100}).data
    versions = {e.type: e.api_version for e in events}
    assert versions == {
        "product.created": PINNED, "customer.created": PINNED,
        "customer.subscription.created": "2024-06-20", "invoice.paid": "2024-06-20",
        "customer.updated": PINNED,
    }  # fmt: skip
    assert client.v1.events.retrieve(before.id).api_version == PINNED
    # stripe-python still builds its objects from the old shape.
    old = next(e for e in events if e.type == "customer.subscription.created")
    assert isinstance(old.data.object, stripe.Subscription)
    assert old.data.object["current_period_end"] > old.data.object["current_period_start"]


def test_multi_item_subscription_has_no_plan_before_basil(standin, client, monthly,
                                                          make_customer) -> None:  # fmt: skip
    other = client.v1.prices.create({"product": monthly.product, "currency": "usd",
                                     "unit_amount": 5, "recurring": {"interval": "month"}})
    standin.set_default_api_version("2025-02-24.acacia")
    cus = make_customer()
    client.v1.subscriptions.create({"customer": cus.id,
                                    "items": [{"price": monthly.id}, {"price": other.id}]})
    obj = client.v1.events.list({"type": "customer.subscription.created"}).data[0].data.object
    assert obj["plan"] is None and obj["quantity"] is None
    assert obj["current_period_end"] is not None


@pytest.mark.parametrize("version", [
    "2025-03-31.basil", "2025-09-30.clover", "2024-09-30.acacia", "2024-06-20", "2019-12-03",
    PINNED,
])  # fmt: skip
def test_accepted_versions(standin, version) -> None:
    standin.set_default_api_version(version)
    assert standin.default_api_version == version


@pytest.mark.parametrize("version", [
    "", "latest", "2024-06-20.acacia", "2025-01-27", "2025-03-31.acacia", "2024-12-18.basil",
    "2027-01-01.fig", "2024-02-30",
])  # fmt: skip
def test_refused_versions(standin, version) -> None:
    with pytest.raises(ValueError):
        standin.set_default_api_version(version)
    status, body = _control(standin, "/_standin/default_api_version", {"version": version})
    assert status == 400 and body["error"]["message"]
    assert _control(standin, "/_standin/default_api_version", method="GET") == (
        200, {"default_api_version": PINNED})  # fmt: skip


def test_basil_and_later_render_the_new_shape(standin, client, monthly, make_customer) -> None:
    standin.set_default_api_version("2025-03-31.basil")
    cus = make_customer()
    client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    obj = client.v1.events.list({"type": "customer.subscription.created"}).data[0].data.object
    assert "current_period_end" not in obj and "plan" not in obj
    assert obj["items"].data[0].current_period_end

"""GET /v1/events as Stripe: filters, wildcards, errors, cursors, order within one second."""

from __future__ import annotations

import pytest
import stripe
from conftest import T0


@pytest.fixture
def history(standin, client, monthly, make_customer) -> list[str]:
    """Three customers with a subscription each, one event second apart per customer."""
    for i in range(3):
        standin.set_time(T0 + i)
        cus = make_customer()
        client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    return [e.id for e in client.v1.events.list({"limit": 100}).data]


def test_type_wildcards_and_types(client, history) -> None:
    def types(params):
        return [e.type for e in client.v1.events.list({"limit": 100, **params}).data]

    assert types({"type": "customer.subscription.*"}) == ["customer.subscription.created"] * 3
    assert set(types({"type": "customer.*"})) == {"customer.created",
                                                  "customer.subscription.created"}  # fmt: skip
    assert types({"type": "*.paid"}) == ["invoice.paid"] * 3
    assert types({"type": "invoice.paid"}) == ["invoice.paid"] * 3
    assert types({"type": "invoice.nothing"}) == []
    assert types({"type": "*"}) == types({})
    got = types({"types": ["customer.created", "invoice.paid", "customer.created"]})
    assert len(got) == 6 and set(got) == {"customer.created", "invoice.paid"}
    # Merged from several per-type indexes, still newest first overall.
    merged = [e.id for e in client.v1.events.list({"type": "*", "limit": 100}).data]
    assert merged == history


def test_type_and_types_errors_are_stripes(raw, history) -> None:
    status, body = raw("/v1/events", {"type": "invoice.paid", "types[]": ["customer.created"]})
    assert status == 400
    err = body["error"]
    assert err["type"] == "invalid_request_error" and err["param"] == "type"
    assert err["message"] == "You may only specify one of these parameters: type, types."
    status, body = raw("/v1/events", {"types[]": [f"t.{i}" for i in range(21)]})
    assert status == 400 and body["error"]["param"] == "types"
    status, body = raw("/v1/events", {"types[]": [f"t.{i}" for i in range(20)]})
    assert status == 200 and body["data"] == []
    status, body = raw("/v1/events", {"typo": "x"})
    assert status == 400 and body["error"]["code"] == "parameter_unknown"


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_limit_bounds(raw, limit) -> None:
    status, body = raw("/v1/events", {"limit": limit})
    assert status == 400 and body["error"]["param"] == "limit"
    assert body["error"]["message"] == "Invalid limit: must be between 1 and 100"


def test_created_filters(client, history) -> None:
    def created(params):
        return sorted({e.created for e in client.v1.events.list(
            {"limit": 100, "created": params}).data})  # fmt: skip

    assert created({"gte": T0 + 1}) == [T0 + 1, T0 + 2]
    assert created({"gt": T0 + 1}) == [T0 + 2]
    assert created({"lt": T0 + 1}) == [T0]
    assert created({"lte": T0 + 1}) == [T0, T0 + 1]
    assert created({"gte": T0 + 1, "lt": T0 + 2}) == [T0 + 1]
    assert created({"gt": T0 + 2}) == []
    exact = client.v1.events.list({"limit": 100, "created": T0 + 1}).data
    assert {e.created for e in exact} == {T0 + 1} and len(exact) == 3
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.events.list({"created": {"after": T0}})
    assert exc.value.code == "parameter_unknown" and exc.value.param == "created[after]"


def test_same_second_order_is_creation_order_newest_first(standin, client, make_customer) -> None:
    ids = [make_customer().id for _ in range(5)]  # the clock does not move: one second
    events = client.v1.events.list({"type": "customer.created"}).data
    assert {e.created for e in events} == {T0}
    assert [e.data.object.id for e in events] == ids[::-1]
    again = client.v1.events.list({"type": "customer.created"}).data
    assert [e.id for e in again] == [e.id for e in events]


def test_cursors_both_ways_and_has_more(client, history) -> None:
    page1 = client.v1.events.list({"limit": 4})
    assert [e.id for e in page1.data] == history[:4] and page1.has_more
    page2 = client.v1.events.list({"limit": 4, "starting_after": page1.data[-1].id})
    assert [e.id for e in page2.data] == history[4:8]
    back = client.v1.events.list({"limit": 2, "ending_before": page2.data[0].id})
    assert [e.id for e in back.data] == history[2:4] and back.has_more
    top = client.v1.events.list({"limit": 10, "ending_before": history[2]})
    assert [e.id for e in top.data] == history[:2] and not top.has_more
    last = client.v1.events.list({"limit": 100, "starting_after": history[-2]})
    assert [e.id for e in last.data] == history[-1:] and not last.has_more
    # Cursors combine with filters: page through one type, created bounds included.
    typed = client.v1.events.list({"type": "invoice.paid", "limit": 1,
                                   "created": {"gte": T0}})  # fmt: skip
    rest = client.v1.events.list({"type": "invoice.paid", "limit": 5,
                                  "starting_after": typed.data[0].id})  # fmt: skip
    assert len(rest.data) == 2 and typed.has_more and not rest.has_more
    paged = [e.id for e in client.v1.events.list({"limit": 3}).auto_paging_iter()]
    assert paged == history


def test_unknown_cursor_and_both_cursors(raw, history) -> None:
    status, body = raw("/v1/events", {"starting_after": "evt_unknown"})
    assert status == 400
    assert body["error"] == {
        **body["error"], "code": "resource_missing", "param": "starting_after",
        "message": "No such event: 'evt_unknown'", "type": "invalid_request_error",
    }  # fmt: skip
    status, body = raw("/v1/events", {"ending_before": "evt_unknown"})
    assert status == 400 and body["error"]["param"] == "ending_before"
    status, body = raw("/v1/events", {"starting_after": history[0], "ending_before": history[1]})
    assert status == 400 and "only specify one" in body["error"]["message"]


def test_retrieve_and_unknown_id(client, raw, history) -> None:
    evt = client.v1.events.retrieve(history[0])
    assert evt.id == history[0] and evt.object == "event"
    status, body = raw("/v1/events/evt_nope")
    assert status == 404 and body["error"]["code"] == "resource_missing"
    assert body["error"]["message"] == "No such event: 'evt_nope'"


def test_delivery_success(client, history) -> None:
    assert len(client.v1.events.list({"delivery_success": True, "limit": 100}).data) == len(history)
    assert client.v1.events.list({"delivery_success": False}).data == []


def test_events_validate_against_stripe_python(client, history) -> None:
    page = client.v1.events.list({"limit": 100})
    assert all(isinstance(e, stripe.Event) for e in page.data)
    for e in page.data:
        assert e.api_version == "2026-10-28.endive" and e.livemode is False
        assert e.pending_webhooks == 0 and e.request.id.startswith("req_")
        obj = e.data.object
        expected = {"customer": stripe.Customer, "subscription": stripe.Subscription,
                    "invoice": stripe.Invoice, "product": stripe.Product,
                    "price": stripe.Price, "coupon": stripe.Coupon}[obj.object]  # fmt: skip
        assert isinstance(obj, expected)
    sub_evt = next(e for e in page.data if e.type == "customer.subscription.created")
    item = sub_evt.data.object["items"].data[0]
    assert isinstance(item, stripe.SubscriptionItem) and item.current_period_end > T0
    assert isinstance(item.price, stripe.Price)

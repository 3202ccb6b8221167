"""Events are kept 30 days by the stand-in's wall clock, whatever test clocks say."""

from __future__ import annotations

import pytest
import stripe
from conftest import T0

DAY = 86_400
RETENTION = 30 * DAY


def test_events_expire_after_30_days(standin, client, raw, make_customer) -> None:
    old = make_customer()
    standin.set_time(T0 + 10 * DAY)
    new = make_customer()
    old_evt, new_evt = (client.v1.events.list({"type": "customer.created"}).data[i]
                        for i in (1, 0))  # fmt: skip
    assert old_evt.data.object.id == old.id and new_evt.data.object.id == new.id

    standin.set_time(T0 + RETENTION - 1)  # the last second the first event is kept
    assert [e.id for e in client.v1.events.list().data] == [new_evt.id, old_evt.id]
    assert client.v1.events.retrieve(old_evt.id).id == old_evt.id

    standin.set_time(T0 + RETENTION)
    assert [e.id for e in client.v1.events.list().data] == [new_evt.id]
    assert client.v1.events.list({"created": {"gte": T0}}).data == [new_evt]
    status, body = raw(f"/v1/events/{old_evt.id}")
    assert status == 404
    assert body["error"]["code"] == "resource_missing" and body["error"]["param"] == "id"
    assert body["error"]["message"] == f"No such event: '{old_evt.id}'"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.events.retrieve(old_evt.id)
    assert exc.value.http_status == 404

    # An expired event is no longer a cursor: Stripe's "No such event" on the parameter.
    status, body = raw("/v1/events", {"starting_after": old_evt.id})
    assert status == 400 and body["error"]["param"] == "starting_after"
    assert body["error"]["code"] == "resource_missing"
    assert body["error"]["message"] == f"No such event: '{old_evt.id}'"

    standin.advance_time(10 * DAY)
    assert client.v1.events.list().data == []
    assert not client.v1.events.list({"limit": 1}).has_more


def test_test_clock_events_live_on_the_wall_clock(standin, client, monthly,
                                                  make_customer) -> None:  # fmt: skip
    """A clock frozen in the past still makes events that are listed, at wall time."""
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0 - 400 * DAY})
    cus = make_customer(clock=clock.id)
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    assert cus.created == T0 - 400 * DAY and sub.created == T0 - 400 * DAY
    standin.set_time(T0 + 5)
    end = sub["items"].data[0].current_period_end
    client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": end + 60})
    events = client.v1.events.list({"limit": 100}).data
    assert {e.created for e in events} <= {T0, T0 + 5}
    renewal = next(e for e in events if e.type == "customer.subscription.updated")
    assert renewal.created == T0 + 5
    assert renewal.data.object["items"].data[0].current_period_start == end


def test_wall_clock_renewals_are_dated_when_they_happened(standin, client, monthly,
                                                          make_customer) -> None:  # fmt: skip
    cus = make_customer()
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    end = sub["items"].data[0].current_period_end
    standin.set_time(end + 5 * DAY)  # one jump; the renewal ran at ``end``
    renewal = client.v1.events.list({"type": "customer.subscription.updated"}).data[0]
    assert renewal.created == end
    assert client.v1.events.list({"type": "invoice.paid"}).data[0].created == end

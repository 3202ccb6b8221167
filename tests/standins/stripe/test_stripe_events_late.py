"""Late events: they exist with their true ``created`` but lists show them only later."""

from __future__ import annotations

import requests
from conftest import T0


def _ids(client, **params) -> list[str]:
    return [e.id for e in client.v1.events.list({"limit": 100, **params}).data]


def test_late_events_appear_behind_a_cursor_when_the_clock_says(standin, client,
                                                                make_customer) -> None:  # fmt: skip
    first = make_customer()
    standin.delay_next_events(2, seconds=5)
    late_a, late_b = make_customer(), make_customer()
    standin.set_time(T0 + 1)
    on_time = make_customer()
    listed = client.v1.events.list({"limit": 100}).data
    assert [e.data.object.id for e in listed] == [on_time.id, first.id]
    newest = listed[0].id
    assert _ids(client, ending_before=newest) == []
    assert _ids(client, starting_after=newest) == [listed[1].id]
    # The hidden ones exist: retrievable by id, with their true (earlier) created.
    hidden = [i for i in standin.store.order["event"].newest_first() if i not in _ids(client)]
    got = [client.v1.events.retrieve(i) for i in hidden]
    assert [e.data.object.id for e in got] == [late_b.id, late_a.id]
    assert {e.created for e in got} == {T0}
    standin.set_time(T0 + 4)
    assert len(_ids(client)) == 2
    standin.set_time(T0 + 5)  # created + 5 seconds
    events = client.v1.events.list({"limit": 100}).data
    assert [e.data.object.id for e in events] == [on_time.id, late_b.id, late_a.id, first.id]
    assert [e.created for e in events] == [T0 + 1, T0, T0, T0]
    # They surfaced behind the newest event: an id cursor misses them, an overlapping
    # ``created`` window finds them.
    assert _ids(client, ending_before=newest) == []
    assert len(_ids(client, created={"gte": T0})) == 4


def test_release_and_retrieve_while_hidden(standin, client, make_customer) -> None:
    standin.delay_next_events(1)  # no delay given: hidden until released
    cus = make_customer()
    assert _ids(client) == []
    standin.advance_time(10 * 86_400)
    assert _ids(client) == []
    evt_id = next(standin.store.order["event"].newest_first())
    assert client.v1.events.retrieve(evt_id).data.object.id == cus.id
    assert standin.release_late_events() == 1
    assert _ids(client) == [evt_id]
    assert standin.release_late_events() == 0
    make_customer()
    assert len(_ids(client)) == 2  # the budget was spent


def test_late_events_http_controls(standin, client, make_customer) -> None:
    def post(path: str, body: dict | None = None):
        r = requests.post(standin.base_url + path, json=body or {}, timeout=5)
        return r.status_code, r.json()

    assert post("/_standin/delay_next_events", {"n": 2}) == (200, {"ok": True})
    make_customer()
    make_customer()
    assert _ids(client) == []
    assert post("/_standin/release_late_events") == (200, {"released": 2})
    assert len(_ids(client)) == 2
    assert post("/_standin/delay_next_events", {"n": 1, "seconds": 60}) == (200, {"ok": True})
    make_customer()
    assert len(_ids(client)) == 2
    standin.advance_time(60)
    assert len(_ids(client)) == 3
    status, body = post("/_standin/delay_next_events", {"n": -1})
    assert status == 400 and body["error"]["message"]


def test_type_filtered_lists_hide_late_events_too(standin, client, monthly,
                                                   make_customer) -> None:  # fmt: skip
    cus = make_customer()
    standin.delay_next_events(1, seconds=30)
    client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    assert _ids(client, type="customer.subscription.*") == []
    assert _ids(client, types=["customer.subscription.created"]) == []
    assert len(_ids(client, type="invoice.paid")) == 1
    standin.advance_time(30)
    assert len(_ids(client, type="customer.subscription.*")) == 1

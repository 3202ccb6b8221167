"""Bulk seeding can add the matching ``*.created`` events, cheaply and as snapshots."""

from __future__ import annotations

import pytest
import requests
import stripe
from conftest import T0

from standins.stripe import StripeStandIn

DAY = 86_400


def test_seeded_events_match_objects_and_retention(standin, client) -> None:
    ids = standin.seed_bulk(customers=40, subscriptions=50, events=True)
    store = standin.store
    recent = [r for kind in ("customer", "subscription") for r in store.data[kind].values()
              if r["created"] > T0 - 30 * DAY]  # fmt: skip
    assert 0 < len(recent) < 90  # a year of history: only the last 30 days are listable
    events = list(client.v1.events.list({"limit": 100}).auto_paging_iter())
    assert len(events) == len(recent)
    assert [e.created for e in events] == sorted((e.created for e in events), reverse=True)
    assert {e.data.object.id for e in events} == {r["id"] for r in recent}
    for e in events:
        obj = e.data.object
        assert e.type == {"customer": "customer.created",
                          "subscription": "customer.subscription.created"}[obj.object]
        assert isinstance(obj, stripe.Customer | stripe.Subscription)
        assert e.created == obj.created and e.request.id is None
    assert set(ids) >= {e.data.object.id for e in events if e.type == "customer.created"}


def test_seeded_event_is_a_snapshot(standin, client) -> None:
    standin.seed_bulk(customers=5, subscriptions=5, events=True, span_days=10)
    standin.set_default_api_version("2024-06-20")  # too late: seeded events keep theirs
    evt = next(e for e in client.v1.events.list({"limit": 100}).data
               if e.type == "customer.subscription.created" and e.data.object.status == "active")
    assert evt.api_version == "2026-10-28.endive"
    sub_id = evt.data.object.id
    client.v1.subscriptions.update(sub_id, {"metadata": {"touched": "yes"}})
    client.v1.subscriptions.cancel(sub_id)
    again = client.v1.events.retrieve(evt.id)
    assert again.data.object.status == "active" and again.data.object.metadata.to_dict() == {}
    newest = client.v1.events.list({"limit": 2}).data
    assert [e.type for e in newest] == ["customer.subscription.deleted",
                                        "customer.subscription.updated"]  # fmt: skip
    assert newest[0].api_version == "2024-06-20"


def test_seeded_event_renders_in_the_version_at_seeding(standin, client) -> None:
    standin.set_default_api_version("2024-06-20")
    standin.seed_bulk(customers=3, subscriptions=3, events=True, span_days=5)
    sub_evt = client.v1.events.list({"type": "customer.subscription.created"}).data[0]
    assert sub_evt.api_version == "2024-06-20"
    assert sub_evt.data.object["current_period_end"] > sub_evt.data.object["current_period_start"]
    assert sub_evt.data.object["plan"]["object"] == "plan"


def test_seeding_without_events_adds_none(standin, client) -> None:
    standin.seed_bulk(customers=5, subscriptions=5)
    assert client.v1.events.list().data == []


@pytest.mark.slow
def test_seeding_10k_with_events_lists_every_creation_event() -> None:
    # How long seeding takes is the benchmark's business (timed tests flake on a busy CI
    # machine); what must hold is that the seeded events are all there, paged as Stripe does.
    with StripeStandIn(api_key="sk_test_fake_seed") as standin:
        standin.set_time(T0)
        standin.seed_bulk(customers=10_000, subscriptions=12_000, events=True, span_days=29)
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {standin.api_key}"
        seen, pages = 0, 0
        params: dict = {"limit": 100, "type": "customer.subscription.created"}
        while True:
            page = session.get(standin.base_url + "/v1/events", params=params,
                               timeout=10).json()  # fmt: skip
            seen, pages = seen + len(page["data"]), pages + 1
            if not page["has_more"]:
                break
            params["starting_after"] = page["data"][-1]["id"]
        session.close()
    assert (seen, pages) == (12_000, 120)

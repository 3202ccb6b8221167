"""List semantics: limit/offset paging, filter operators, sorting, include_deleted, refusals."""

from __future__ import annotations

import json

import pytest

DAY = 86_400


@pytest.fixture
def many(cb, standin, subscribe):
    """25 subscriptions; every 5th in trial; created one second apart."""
    ids = []
    for n in range(25):
        standin.advance_time(1)
        ids.append(subscribe("trial" if n % 5 == 0 else "monthly").subscription.id)
    return ids


def test_default_page_is_ten_newest_first_and_offset_continues(cb, many) -> None:
    page = cb.Subscription.list()
    assert len(page.list) == 10 and page.next_offset
    assert [e.subscription.id for e in page.list] == many[::-1][:10]
    seen = [e.subscription.id for e in page.list]
    while page.next_offset:
        page = cb.Subscription.list({"limit": 7, "offset": page.next_offset})
        seen += [e.subscription.id for e in page.list]
    assert seen == many[::-1]
    entry = cb.Subscription.list({"limit": 1}).list[0]
    assert entry.customer.id == entry.subscription.customer_id


def test_limit_bounds(http, many) -> None:
    assert len(http.get("/subscriptions", limit=100).json()["list"]) == 25
    for bad in (0, 101, "x"):
        r = http.get("/subscriptions", limit=bad)
        assert r.status_code == 400 and r.json()["api_error_code"] == "param_wrong_value"
        assert r.json()["param"] == "limit"
    r = http.get("/subscriptions", offset="not-an-offset")
    assert r.status_code == 400 and r.json()["param"] == "offset"


def test_status_and_id_filters(cb, http, many) -> None:
    trials = cb.Subscription.list({"status": {"is": "in_trial"}, "limit": 100}).list
    assert len(trials) == 5
    both = cb.Subscription.list({"status": {"in": ["in_trial", "active"]}, "limit": 100}).list
    assert len(both) == 25
    picked = cb.Subscription.list({"id": {"in": many[:3]}}).list  # SDK sends ['a', 'b']
    assert {e.subscription.id for e in picked} == set(many[:3])
    cid = picked[0].subscription.customer_id
    as_json = http.get("/subscriptions", **{"customer_id[in]": json.dumps([cid])}).json()
    assert [e["subscription"]["customer_id"] for e in as_json["list"]] == [cid]
    assert cb.Subscription.list({"status": {"is_not": "active"}, "limit": 100}).list
    assert len(http.get("/subscriptions", **{"status[not_in]": "[active]"}).json()["list"]) == 5


def test_updated_at_filter_and_sort(cb, standin, many) -> None:
    cut = standin.now()
    standin.advance_time(10)
    cb.Subscription.update_for_items(many[3], {"subscription_items": [
        {"item_price_id": "p-monthly", "quantity": 2}]})  # fmt: skip
    changed = cb.Subscription.list({"updated_at": {"after": cut},
                                    "sort_by": {"asc": "updated_at"}}).list
    assert [e.subscription.id for e in changed] == [many[3]]
    ordered = cb.Subscription.list({"sort_by": {"asc": "updated_at"}, "limit": 100}).list
    versions = [e.subscription.resource_version for e in ordered]
    assert versions == sorted(versions) and ordered[-1].subscription.id == many[3]


def test_deleted_customers_only_with_include_deleted(cb, http, subscribe) -> None:
    r = subscribe()
    cb.Customer.create({"id": "keep"})
    deleted = cb.Customer.delete(r.customer.id).customer
    assert deleted.deleted is True
    listed = [e.customer.id for e in cb.Customer.list().list]
    assert listed == ["keep"]
    everything = cb.Customer.list({"include_deleted": True}).list
    assert {e.customer.id for e in everything} == {"keep", r.customer.id}
    assert cb.Subscription.list().list == []
    subs = cb.Subscription.list({"include_deleted": True}).list
    assert subs[0].subscription.deleted is True
    assert http.get(f"/customers/{r.customer.id}").status_code == 404


@pytest.mark.parametrize(("params", "param", "code"), [
    ({"status": "active"}, "status", "invalid_request"),  # a filter needs an operator
    ({"status[after]": "1"}, "status[after]", "invalid_request"),  # not an enum operator
    ({"status[is]": "past_due"}, "status[is]", "param_wrong_value"),  # not a status
    ({"updated_at[after]": "yesterday"}, "updated_at[after]", "param_wrong_value"),
    ({"customer_id[in]": "cus-1"}, "customer_id[in]", "param_wrong_value"),  # not a list
    ({"sort_by[asc]": "mrr"}, "sort_by[asc]", "param_wrong_value"),
    ({"include_deleted": "yes"}, "include_deleted", "param_wrong_value"),
    ({"starting_after": "x"}, "starting_after", "invalid_request"),  # Stripe's, not ours
])  # fmt: skip
def test_refused_params(http, params, param, code) -> None:
    r = http.get("/subscriptions", **params)
    body = r.json()
    assert r.status_code == 400, body
    assert (body["api_error_code"], body["param"], body["type"]) == (code, param,
                                                                     "invalid_request")


def test_events_filters_and_order(cb, standin, subscribe) -> None:
    sub = subscribe().subscription
    standin.advance_time(30 * DAY)
    after = cb.Event.list({"occurred_at": {"after": standin.now() - 1},
                           "event_type": {"in": ["subscription_renewed", "payment_succeeded"]},
                           "sort_by": {"asc": "occurred_at"}}).list
    assert [e.event.event_type for e in after] == ["payment_succeeded", "subscription_renewed"]
    assert after[1].event.content["subscription"]["id"] == sub.id
    assert after[1].event.source == "scheduled_job"
    newest = cb.Event.list({"limit": 1}).list[0].event
    assert newest.event_type == "subscription_renewed"
    before = cb.Event.list({"occurred_at": {"before": standin.now()}, "limit": 100}).list
    assert all(e.event.occurred_at < standin.now() for e in before)

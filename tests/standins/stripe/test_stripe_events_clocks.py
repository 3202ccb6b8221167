"""Test mode's rule for account-wide subscription lists: test-clock subscriptions are left out.

stripe-python 16.1 (SubscriptionListParams.test_clock): "The response will not include
subscriptions with test clocks if this and the customer parameter is not set."
"""

from __future__ import annotations

from conftest import T0


def test_clock_subscriptions_only_with_customer_or_test_clock(client, monthly,
                                                              make_customer) -> None:  # fmt: skip
    clock = client.v1.test_helpers.test_clocks.create({"frozen_time": T0})
    on_clock = make_customer(clock=clock.id)
    plain = make_customer()
    s_clock = client.v1.subscriptions.create({"customer": on_clock.id,
                                              "items": [{"price": monthly.id}]})  # fmt: skip
    s_plain = client.v1.subscriptions.create({"customer": plain.id,
                                              "items": [{"price": monthly.id}]})  # fmt: skip

    def ids(params):
        return [s.id for s in client.v1.subscriptions.list(params).data]

    for params in ({}, {"status": "all"}, {"status": "active"}, {"price": monthly.id}):
        assert ids(params) == [s_plain.id], params
    assert ids({"customer": on_clock.id}) == [s_clock.id]
    assert ids({"test_clock": clock.id}) == [s_clock.id]
    assert ids({"test_clock": clock.id, "status": "all"}) == [s_clock.id]
    assert ids({"customer": plain.id, "test_clock": clock.id}) == []
    # Auto-paging an account-wide list never reaches them either.
    paged = [s.id for s in client.v1.subscriptions.list({"limit": 1}).auto_paging_iter()]
    assert paged == [s_plain.id]
    # Events are account-wide and do include them.
    created = client.v1.events.list({"type": "customer.subscription.created"}).data
    assert {e.data.object.id for e in created} == {s_clock.id, s_plain.id}

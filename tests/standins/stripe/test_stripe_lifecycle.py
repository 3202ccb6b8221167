"""The clock-driven state machine: renewals, failed payments, retries, trials, cancellations."""

from __future__ import annotations

import pytest
from conftest import T0

from standins.stripe import StripeStandIn

DAY = 86_400


@pytest.fixture
def clock(client):
    return client.v1.test_helpers.test_clocks.create({"frozen_time": T0, "name": "t"})


def advance(client, clock_id: str, to: int):
    client.v1.test_helpers.test_clocks.advance(clock_id, {"frozen_time": to})
    got = client.v1.test_helpers.test_clocks.retrieve(clock_id)
    assert got.status == "ready" and got.frozen_time == to
    return got


def test_renewal_moves_item_periods_and_invoices(client, clock, monthly, make_customer) -> None:
    cus = make_customer(clock=clock.id)
    assert cus.test_clock == clock.id and cus.created == T0
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    end = sub["items"].data[0].current_period_end
    advance(client, clock.id, end + 60)
    after = client.v1.subscriptions.retrieve(sub.id)
    item = after["items"].data[0]
    assert after.status == "active" and item.current_period_start == end
    assert client.v1.invoices.list({"subscription": sub.id}).data[0].status == "paid"
    assert len(client.v1.invoices.list({"subscription": sub.id}).data) == 2


def test_failed_payment_past_due_then_canceled(client, clock, monthly, make_customer) -> None:
    cus = make_customer(card="pm_card_visa", clock=clock.id)
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    failing = client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                               {"customer": cus.id})  # fmt: skip
    client.v1.customers.update(cus.id, {"invoice_settings": {"default_payment_method": failing.id}})
    end = sub["items"].data[0].current_period_end
    advance(client, clock.id, end + 3600)
    assert client.v1.subscriptions.retrieve(sub.id).status == "past_due"
    assert client.v1.customers.retrieve(cus.id).delinquent is True
    advance(client, clock.id, end + 15 * DAY)  # three retries over two weeks, all failing
    gone = client.v1.subscriptions.retrieve(sub.id)
    assert gone.status == "canceled" and gone.ended_at is not None
    assert gone.cancellation_details.reason == "payment_failed"
    types = [e.type for e in client.v1.events.list({"limit": 100}).data]
    assert "invoice.payment_failed" in types and "customer.subscription.deleted" in types


def test_exhausted_retries_unpaid_when_configured() -> None:
    import stripe

    with StripeStandIn(api_key="sk_test_fake_x", retries_exhausted="unpaid") as standin:
        standin.set_time(T0)
        c = stripe.StripeClient(standin.api_key, base_addresses={"api": standin.base_url})
        prod = c.v1.products.create({"name": "p"})
        price = c.v1.prices.create({"product": prod.id, "currency": "usd", "unit_amount": 100,
                                    "recurring": {"interval": "month"}})
        clock = c.v1.test_helpers.test_clocks.create({"frozen_time": T0})
        cus = c.v1.customers.create({"test_clock": clock.id})
        # No card and a trial that ends into an invoice it cannot pay.
        sub = c.v1.subscriptions.create({"customer": cus.id, "items": [{"price": price.id}],
                                         "trial_period_days": 7})
        assert sub.status == "trialing"
        advance(c, clock.id, T0 + 8 * DAY)
        assert c.v1.subscriptions.retrieve(sub.id).status == "past_due"
        advance(c, clock.id, T0 + 30 * DAY)
        assert c.v1.subscriptions.retrieve(sub.id).status == "unpaid"


def test_trial_ends_active_with_card_and_paused_without(client, clock, monthly,
                                                        make_customer) -> None:  # fmt: skip
    paying = make_customer(clock=clock.id)
    s1 = client.v1.subscriptions.create({"customer": paying.id, "items": [{"price": monthly.id}],
                                         "trial_period_days": 14})
    assert s1.status == "trialing" and s1.trial_end == T0 + 14 * DAY
    assert s1["items"].data[0].current_period_end == s1.trial_end
    cardless = make_customer(card=None, clock=clock.id)
    s2 = client.v1.subscriptions.create({
        "customer": cardless.id, "items": [{"price": monthly.id}], "trial_period_days": 14,
        "trial_settings": {"end_behavior": {"missing_payment_method": "pause"}},
    })  # fmt: skip
    advance(client, clock.id, T0 + 15 * DAY)
    a = client.v1.subscriptions.retrieve(s1.id)
    assert a.status == "active" and a["items"].data[0].current_period_start == s1.trial_end
    assert client.v1.subscriptions.retrieve(s2.id).status == "paused"
    types = [e.type for e in client.v1.events.list({"type": "customer.subscription.*"}).data]
    assert "customer.subscription.paused" in types


def test_incomplete_without_payment_then_expired(client, clock, monthly, make_customer) -> None:
    cus = make_customer(card="pm_card_chargeCustomerFail", clock=clock.id)
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    assert sub.status == "incomplete"
    advance(client, clock.id, T0 + 24 * 3600)
    assert client.v1.subscriptions.retrieve(sub.id).status == "incomplete_expired"


def test_scheduled_cancellations_end_at_their_time(client, clock, monthly, make_customer) -> None:
    cus = make_customer(clock=clock.id)
    s1 = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    s1 = client.v1.subscriptions.update(s1.id, {"cancel_at_period_end": True})
    end = s1["items"].data[0].current_period_end
    assert s1.cancel_at == end and s1.canceled_at == T0 and s1.status == "active"
    cus2 = make_customer(clock=clock.id)
    s2 = client.v1.subscriptions.create({"customer": cus2.id, "items": [{"price": monthly.id}],
                                         "cancel_at": T0 + 10 * DAY})
    advance(client, clock.id, T0 + 11 * DAY)
    assert client.v1.subscriptions.retrieve(s2.id).status == "canceled"
    assert client.v1.subscriptions.retrieve(s1.id).status == "active"
    advance(client, clock.id, end + 1)
    done = client.v1.subscriptions.retrieve(s1.id)
    assert done.status == "canceled" and done.ended_at == end


def test_clock_refuses_going_back_or_too_far(client, clock, monthly, make_customer) -> None:
    import stripe

    cus = make_customer(clock=clock.id)
    client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": T0 - 1})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.test_helpers.test_clocks.advance(clock.id, {"frozen_time": T0 + 90 * DAY})


def test_customer_delete_cancels_and_retrieves_as_deleted(client, monthly, make_customer) -> None:
    cus = make_customer()
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    client.v1.customers.delete(cus.id)
    got = client.v1.customers.retrieve(cus.id)
    assert got.to_dict() == {"id": cus.id, "object": "customer", "deleted": True}
    assert client.v1.subscriptions.retrieve(sub.id).status == "canceled"
    types = [e.type for e in client.v1.events.list().data]
    assert types[:2] == ["customer.deleted", "customer.subscription.deleted"]


def test_wall_clock_moves_objects_not_on_a_test_clock(standin, client, monthly,
                                                      make_customer) -> None:  # fmt: skip
    cus = make_customer()
    sub = client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    end = sub["items"].data[0].current_period_end
    standin.set_time(end + 10)
    assert client.v1.subscriptions.retrieve(sub.id)["items"].data[0].current_period_start == end


def test_events_filters_and_pagination(client, monthly, make_customer) -> None:
    for _ in range(3):
        cus = make_customer()
        client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    subs = client.v1.events.list({"type": "customer.subscription.*"})
    assert [e.type for e in subs.data] == ["customer.subscription.created"] * 3
    both = client.v1.events.list({"types": ["customer.created", "invoice.paid"], "limit": 2})
    assert both.has_more is True and len(both.data) == 2
    all_ids = [e.id for e in client.v1.events.list({"limit": 100}).data]
    paged = [e.id for e in client.v1.events.list({"limit": 2}).auto_paging_iter()]
    assert paged == all_ids and len(set(paged)) == len(paged)
    assert client.v1.events.list({"created": {"gte": T0 + 1}}).data == []
    evt = client.v1.events.retrieve(all_ids[0])
    assert evt.api_version == "2026-10-28.endive" and evt.data.object.object

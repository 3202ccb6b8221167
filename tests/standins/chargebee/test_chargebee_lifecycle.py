"""Every subscription status, reached the way Chargebee reaches it: by requests and the clock."""

from __future__ import annotations

import chargebee
import pytest

T0 = 1_793_577_600  # the fixture's frozen time (conftest.T0)
DAY = 86_400


def _sub(cb, sid):
    return cb.Subscription.retrieve(sid).subscription


def test_active_renews_at_term_end_with_an_invoice(cb, standin, subscribe) -> None:
    r = subscribe("monthly", quantity=3)
    sub = r.subscription
    assert sub.status == "active" and r.invoice.status == "paid" and r.invoice.total == 6000
    assert (sub.current_term_start, sub.current_term_end) == (T0, T0 + 30 * DAY)  # Nov: 30 days
    assert sub.next_billing_at == sub.current_term_end and sub.mrr == 6000
    assert sub.subscription_items[0].amount == 6000 and sub.due_invoices_count == 0
    standin.advance_time(30 * DAY)
    renewed = _sub(cb, sub.id)
    assert renewed.current_term_start == T0 + 30 * DAY
    assert renewed.current_term_end == T0 + 61 * DAY  # December has 31 days
    assert renewed.resource_version > sub.resource_version and renewed.updated_at == T0 + 30 * DAY
    invoices = cb.Invoice.list({"subscription_id": {"is": sub.id}}).list
    assert [i.invoice.status for i in invoices] == ["paid", "paid"]


def test_trial_from_the_item_price_then_active(cb, standin, subscribe) -> None:
    sub = subscribe("trial").subscription
    assert sub.status == "in_trial" and sub.trial_end == T0 + 14 * DAY and sub.mrr == 0
    assert sub.current_term_end == sub.trial_end == sub.next_billing_at
    standin.advance_time(14 * DAY)
    sub = _sub(cb, sub.id)
    assert sub.status == "active" and sub.activated_at == T0 + 14 * DAY and sub.mrr == 5000
    assert sub.current_term_start == T0 + 14 * DAY
    types = [e.event.event_type for e in cb.Event.list({"sort_by": {"asc": "occurred_at"},
                                                        "limit": 100}).list]
    assert types[-3:] == ["invoice_generated", "payment_succeeded", "subscription_activated"]


def test_future_starts_at_start_date(cb, standin, subscribe) -> None:
    sub = subscribe("monthly", start_date=T0 + 5 * DAY).subscription
    assert sub.status == "future" and sub.start_date == T0 + 5 * DAY
    assert getattr(sub, "current_term_start", None) is None
    standin.advance_time(5 * DAY)
    sub = _sub(cb, sub.id)
    assert sub.status == "active" and sub.started_at == T0 + 5 * DAY
    assert sub.current_term_end == T0 + 35 * DAY


def test_non_renewing_lives_until_term_end_then_cancelled(cb, standin, subscribe) -> None:
    sub = subscribe().subscription
    sub = cb.Subscription.cancel_for_items(sub.id, {"end_of_term": True}).subscription
    assert sub.status == "non_renewing" and sub.cancelled_at == sub.current_term_end
    assert sub.mrr == 2000
    standin.advance_time(30 * DAY - 1)
    assert _sub(cb, sub.id).status == "non_renewing"
    standin.advance_time(1)
    sub = _sub(cb, sub.id)
    assert sub.status == "cancelled" and sub.cancelled_at == T0 + 30 * DAY and sub.mrr == 0
    assert len(cb.Invoice.list({"subscription_id": {"is": sub.id}}).list) == 1  # no renewal


def test_remove_scheduled_cancellation_and_reactivate(cb, standin, subscribe) -> None:
    sid = subscribe().subscription.id
    cb.Subscription.cancel_for_items(sid, {"end_of_term": True})
    sub = cb.Subscription.remove_scheduled_cancellation(sid).subscription
    assert sub.status == "active" and getattr(sub, "cancelled_at", None) is None
    sub = cb.Subscription.cancel_for_items(sid, {"cancel_option": "immediately"}).subscription
    assert sub.status == "cancelled" and sub.cancelled_at == T0
    standin.advance_time(3 * DAY)
    sub = cb.Subscription.reactivate(sid).subscription
    assert sub.status == "active" and sub.current_term_start == T0 + 3 * DAY


def test_pause_and_resume(cb, standin, subscribe) -> None:
    sid = subscribe().subscription.id
    sub = cb.Subscription.pause(sid, {"pause_option": "immediately",
                                      "resume_date": T0 + 10 * DAY}).subscription
    assert sub.status == "paused" and sub.pause_date == T0 and sub.mrr == 0
    standin.advance_time(10 * DAY)
    sub = _sub(cb, sid)
    assert sub.status == "active" and sub.current_term_start == T0 + 10 * DAY
    sub = cb.Subscription.pause(sid, {"pause_option": "end_of_term"}).subscription
    assert sub.status == "active" and sub.pause_date == sub.current_term_end
    standin.advance_time(31 * DAY)
    assert _sub(cb, sid).status == "paused"
    sub = cb.Subscription.resume(sid, {"resume_option": "immediately"}).subscription
    assert sub.status == "active"


def test_failed_payment_makes_dues_not_a_status(cb, standin, subscribe) -> None:
    r = subscribe()
    sid, cid = r.subscription.id, r.customer.id
    standin.fail_payments(cid)
    standin.advance_time(30 * DAY)
    sub = _sub(cb, sid)
    assert sub.status == "active" and sub.due_invoices_count == 1
    assert sub.due_since == T0 + 30 * DAY and sub.total_dues == 2000
    due = cb.Invoice.list({"status": {"is": "payment_due"}}).list
    assert len(due) == 1 and due[0].invoice.amount_due == 2000
    standin.advance_time(31 * DAY)
    assert _sub(cb, sid).due_invoices_count == 2 and _sub(cb, sid).due_since == T0 + 30 * DAY
    standin.fail_payments(cid, False)
    standin.advance_time(1)  # dunning retries at the next tick
    sub = _sub(cb, sid)
    assert sub.due_invoices_count == 0 and getattr(sub, "due_since", None) is None
    failing = cb.Customer.create({"id": "broke"}).customer.id
    standin.fail_payments(failing)
    with pytest.raises(chargebee.PaymentError) as exc:
        cb.Subscription.create_with_items(failing, {"subscription_items": [
            {"item_price_id": "p-monthly"}]})  # fmt: skip
    assert exc.value.http_status_code == 402
    assert exc.value.api_error_code == "payment_processing_failed"


def test_dunning_cancels_when_the_site_says_so(standin, cb, subscribe) -> None:
    from standins.chargebee.site import Settings

    standin.site_state.settings = Settings(site="acme-test", dunning_days=7)
    r = subscribe()
    standin.fail_payments(r.customer.id)
    standin.advance_time(30 * DAY + 7 * DAY)
    sub = _sub(cb, r.subscription.id)
    assert sub.status == "cancelled" and sub.cancel_reason == "not_paid"


def test_transferred_and_events_content(cb, standin, subscribe) -> None:
    sid = subscribe().subscription.id
    standin.mark_transferred(sid)
    assert _sub(cb, sid).status == "transferred"
    evt = cb.Event.list({"event_type": {"is": "subscription_created"}}).list[0].event
    assert evt.api_version == "v2" and evt.content["subscription"]["status"] == "active"
    assert evt.content["customer"]["id"] == _sub(cb, sid).customer_id


@pytest.mark.parametrize(("price", "qty", "amount"), [
    ("tiered", 12, 10 * 1000 + 2 * 800), ("volume", 12, 12 * 800), ("stairstep", 12, 800),
    ("tiered", 3, 3000),
])  # fmt: skip
def test_tier_pricing_models(subscribe, price, qty, amount) -> None:
    sub = subscribe(price, quantity=qty).subscription
    assert sub.subscription_items[0].amount == amount and sub.mrr == amount
    assert [t.starting_unit for t in sub.item_tiers] == [1, 11]


def test_coupon_discount_and_yearly_mrr(cb, subscribe) -> None:
    r = subscribe("monthly", quantity=2, coupon_ids=["TENOFF"])
    assert r.invoice.total == 3600 and r.subscription.mrr == 3600
    assert r.subscription.coupons[0].coupon_id == "TENOFF"
    yearly = subscribe("yearly").subscription
    assert yearly.billing_period_unit == "year" and yearly.mrr == 10000


def test_update_for_items_changes_quantity_and_adds_addon(cb, subscribe) -> None:
    sub = subscribe("monthly", quantity=1).subscription
    sub2 = cb.Subscription.update_for_items(sub.id, {"subscription_items": [
        {"item_price_id": "p-monthly", "quantity": 4}, {"item_price_id": "p-addon",
                                                        "quantity": 2}]}).subscription
    assert sub2.mrr == 4 * 2000 + 2 * 500 and sub2.resource_version > sub.resource_version
    assert {i.item_type for i in sub2.subscription_items} == {"plan", "addon"}

"""Subscription states driven by the stand-in's clock, read back through the recurly SDK."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import recurly

T0 = 1_793_577_600  # 2026-11-02 00:00 UTC, as in conftest
DAY = 86_400


def at(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def test_purchase_bills_a_month_with_fixed_add_ons_but_not_usage(client, subscribe) -> None:
    sub = subscribe(add_ons=[{"code": "seat", "quantity": 3}, {"code": "api"}], quantity=2)
    assert sub.state == "active" and sub.activated_at == at(T0)
    assert sub.current_period_started_at == at(T0)
    assert sub.current_period_ends_at == at(1_796_169_600)  # 2026-12-02
    assert sub.unit_amount == 20.0 and sub.add_ons_total == 15.0 and sub.subtotal == 55.0
    assert {a.add_on.code for a in sub.add_ons} == {"seat", "api"}
    invoices = list(client.list_account_invoices("code-acme").items())
    assert [(i.state, i.total, i.origin) for i in invoices] == [("paid", 55.0, "purchase")]
    assert sub.trial_ends_at is None and sub.expires_at is None


def test_canceled_stays_live_until_expires_at_then_expires(standin, client, subscribe) -> None:
    sub = subscribe()
    standin.advance_time(DAY)
    canceled = client.cancel_subscription(sub.id)
    assert canceled.state == "canceled" and canceled.canceled_at == at(T0 + DAY)
    assert canceled.expires_at == canceled.current_period_ends_at
    acct = client.get_account("code-acme")
    assert acct.has_live_subscription and acct.has_canceled_subscription
    assert not acct.has_active_subscription
    standin.set_time(int(canceled.expires_at.timestamp()) - 1)
    assert client.get_subscription(sub.id).state == "canceled"
    standin.advance_time(1)
    expired = client.get_subscription(sub.id)
    assert expired.state == "expired" and expired.expiration_reason == "canceled"
    assert expired.updated_at == expired.expires_at
    assert not client.get_account("code-acme").has_live_subscription
    assert len(list(client.list_account_invoices("code-acme").items())) == 1  # no renewal
    with pytest.raises(recurly.errors.ValidationError):
        client.reactivate_subscription(sub.id)


def test_reactivate_undoes_a_cancel_and_renewal_follows(standin, client, subscribe) -> None:
    sub = subscribe()
    client.cancel_subscription(sub.id)
    back = client.reactivate_subscription(sub.id)
    assert back.state == "active" and back.canceled_at is None and back.expires_at is None
    standin.advance_time(31 * DAY)
    renewed = client.get_subscription(sub.id)
    assert renewed.state == "active" and renewed.current_period_started_at == at(1_796_169_600)


def test_trial_is_a_date_not_a_state(standin, client, subscribe) -> None:
    sub = subscribe(trial_ends_at=at(T0 + 14 * DAY).isoformat())
    assert sub.state == "active" and sub.trial_started_at == at(T0)
    assert sub.trial_ends_at == at(T0 + 14 * DAY) == sub.current_period_ends_at
    assert list(client.list_account_invoices("code-acme").items()) == []
    in_trial = list(client.list_subscriptions(params={"state": "in_trial"}).items())
    assert [s.id for s in in_trial] == [sub.id]
    standin.advance_time(14 * DAY)
    paid = client.get_subscription(sub.id)
    assert paid.state == "active" and paid.current_period_started_at == at(T0 + 14 * DAY)
    assert [i.total for i in client.list_account_invoices("code-acme").items()] == [20.0]
    assert list(client.list_subscriptions(params={"state": "in_trial"}).items()) == []


def test_plan_trial_applies_by_default(client) -> None:
    client.create_plan({"code": "trial", "name": "Trial", "trial_unit": "days", "trial_length": 7,
                        "currencies": [{"currency": "USD", "unit_amount": 9.0}]})
    sub = client.create_subscription({"plan_code": "trial", "currency": "USD",
                                      "account": {"code": "t1"}})  # fmt: skip
    assert sub.trial_ends_at == at(T0 + 7 * DAY)


def test_failed_renewal_leaves_invoice_past_due_and_flags_account(standin, client,
                                                                  subscribe) -> None:
    sub = subscribe()
    standin.fail_payments("code-acme")
    standin.advance_time(31 * DAY)
    assert client.get_subscription(sub.id).state == "active"
    acct = client.get_account("code-acme")
    assert acct.has_past_due_invoice is True
    past_due = list(client.list_invoices(params={"state": "past_due"}).items())
    assert [(i.origin, i.balance, i.paid) for i in past_due] == [("renewal", 20.0, 0.0)]
    assert [a.code for a in client.list_accounts(params={"past_due": "true"}).items()] == ["acme"]
    client.mark_invoice_successful(past_due[0].id)
    assert client.get_account("code-acme").has_past_due_invoice is False


def test_declined_first_charge_creates_nothing(standin, client, subscribe) -> None:
    client.create_account({"code": "broke"})
    standin.fail_payments("code-broke")
    with pytest.raises(recurly.errors.TransactionError) as exc:
        subscribe("broke")
    assert exc.value.error.transaction_error.code == "declined"
    assert list(client.list_account_subscriptions("code-broke").items()) == []


def test_future_subscription_starts_at_starts_at(standin, client, subscribe) -> None:
    sub = subscribe(starts_at=at(T0 + 10 * DAY).isoformat())
    assert sub.state == "future" and sub.current_period_started_at == at(T0 + 10 * DAY)
    assert sub.activated_at is None
    assert client.get_account("code-acme").has_future_subscription
    standin.advance_time(10 * DAY)
    started = client.get_subscription(sub.id)
    assert started.state == "active" and started.activated_at == at(T0 + 10 * DAY)
    assert [i.origin for i in client.list_account_invoices("code-acme").items()] == ["purchase"]


def test_canceling_a_future_subscription_fails_it(client, subscribe) -> None:
    sub = subscribe(starts_at=at(T0 + 10 * DAY).isoformat())
    failed = client.cancel_subscription(sub.id)
    assert failed.state == "failed"
    with pytest.raises(recurly.errors.ValidationError):
        client.reactivate_subscription(sub.id)


def test_pause_takes_effect_at_period_end_and_resumes(standin, client, subscribe) -> None:
    sub = subscribe()
    pending = client.pause_subscription(sub.id, {"remaining_pause_cycles": 2})
    assert pending.state == "active" and pending.paused_at == pending.current_period_ends_at
    assert pending.remaining_pause_cycles == 2
    standin.advance_time(31 * DAY)
    paused = client.get_subscription(sub.id)
    assert paused.state == "paused" and paused.resume_at == datetime(2027, 2, 2, tzinfo=UTC)
    assert client.get_account("code-acme").has_paused_subscription
    assert len(list(client.list_account_invoices("code-acme").items())) == 1  # none while paused
    resumed = client.resume_subscription(sub.id)
    assert resumed.state == "active" and resumed.current_period_started_at == at(T0 + 31 * DAY)
    with pytest.raises(recurly.errors.ValidationError):
        client.resume_subscription(sub.id)


def test_terminate_expires_now(standin, client, subscribe) -> None:
    sub = subscribe()
    standin.advance_time(3600)
    done = client.terminate_subscription(sub.id, params={"refund": "none"})
    assert done.state == "expired" and done.expires_at == at(T0 + 3600)
    with pytest.raises(recurly.errors.ValidationError):
        client.cancel_subscription(sub.id)
    with pytest.raises(recurly.errors.ImmutableSubscriptionError):
        client.update_subscription(sub.id, {"auto_renew": False})


def test_closing_an_account_expires_its_subscriptions(standin, client, subscribe) -> None:
    sub = subscribe()
    closed = client.deactivate_account("code-acme")
    assert closed.state == "inactive" and closed.deleted_at == at(T0)
    assert client.get_subscription(sub.id).state == "expired"
    with pytest.raises(recurly.errors.ValidationError):
        subscribe()
    assert client.reactivate_account("code-acme").state == "active"


def test_every_change_moves_updated_at(standin, client, subscribe) -> None:
    sub = subscribe()
    standin.advance_time(60)
    changed = client.update_subscription(sub.id, {"customer_notes": "hi"})
    assert changed.updated_at == at(T0 + 60) > sub.updated_at


def test_non_renewing_subscription_expires_at_period_end(standin, client, subscribe) -> None:
    sub = subscribe(auto_renew=False)
    standin.advance_time(31 * DAY)
    gone = client.get_subscription(sub.id)
    assert gone.state == "expired" and gone.expiration_reason == "nonrenewing"


def test_month_end_anchor_and_day_intervals(standin, client) -> None:
    standin.set_time(1_801_353_600)  # 2027-01-31
    usd = [{"currency": "USD", "unit_amount": 1}]
    client.create_plan({"code": "m", "name": "M", "currencies": usd})
    client.create_plan({"code": "w", "name": "W", "interval_unit": "days", "interval_length": 7,
                        "currencies": [{"currency": "USD", "unit_amount": 1}]})
    m = client.create_subscription({"plan_code": "m", "currency": "USD", "account": {"code": "a"}})
    w = client.create_subscription({"plan_code": "w", "currency": "USD", "account": {"code": "a"}})
    assert m.current_period_ends_at == datetime(2027, 2, 28, tzinfo=UTC)
    assert w.current_period_ends_at == datetime(2027, 2, 7, tzinfo=UTC)
    standin.set_time(int(datetime(2027, 3, 1, tzinfo=UTC).timestamp()))
    assert client.get_subscription(m.id).current_period_ends_at == datetime(2027, 3, 31, tzinfo=UTC)


def test_coupons_discount_invoices_by_duration(standin, client, plan) -> None:
    client.create_coupon({"code": "once", "name": "Once", "discount_type": "fixed",
                          "duration": "single_use",
                          "currencies": [{"currency": "USD", "discount": 5}]})  # fmt: skip
    client.create_coupon({"code": "tenoff", "name": "10%", "discount_type": "percent",
                          "discount_percent": 10, "duration": "temporal",
                          "temporal_unit": "month", "temporal_amount": 2})  # fmt: skip
    sub = client.create_subscription({"plan_code": "team", "currency": "USD",
                                      "account": {"code": "c"}, "coupon_codes": ["once"]})
    client.create_coupon_redemption("code-c", {"coupon_id": "code-tenoff"})
    assert sub.coupon_redemptions == []  # single_use: spent on the purchase invoice
    standin.advance_time(31 * DAY)  # renewal 1: single_use spent, 10% applies
    standin.advance_time(30 * DAY)  # renewal 2 (2027-01-02): temporal ended on 2027-01-02
    invoices = client.list_account_invoices("code-c", params={"order": "asc"}).items()
    totals = [i.total for i in invoices]
    assert totals == [15.0, 18.0, 20.0]
    reds = client.list_account_coupon_redemptions("code-c").items()
    states = {r.coupon.code: r.state for r in reds}
    assert states == {"once": "inactive", "tenoff": "inactive"}


def test_a_change_now_swaps_plan_and_quantity_and_keeps_the_period(client, subscribe) -> None:
    sub = subscribe()
    client.create_plan({"code": "pro", "name": "Pro", "interval_unit": "months",
                        "interval_length": 1,
                        "currencies": [{"currency": "USD", "unit_amount": 50.0}]})  # fmt: skip
    change = client.create_subscription_change(sub.id, {"plan_code": "pro", "quantity": 3})
    assert change.activated and change.plan.code == "pro" and change.quantity == 3
    after = client.get_subscription(sub.id)
    assert (after.plan.code, after.unit_amount, after.quantity) == ("pro", 50.0, 3)
    assert after.subtotal == 150.0
    assert after.current_period_ends_at == sub.current_period_ends_at
    with pytest.raises(recurly.errors.ValidationError):
        client.create_subscription_change(sub.id, {"quantity": 1, "timeframe": "renewal"})
    client.terminate_subscription(sub.id)
    with pytest.raises(recurly.ApiError):
        client.create_subscription_change(sub.id, {"quantity": 1})

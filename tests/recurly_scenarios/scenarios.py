"""One function per scenario: ``run(world, checkpoint)``; ``checkpoint(label, account_codes)``
marks each point where a sync should happen. Amounts are Recurly's: major units, as floats.
Every scenario has one account, created before its first checkpoint."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from .common import DAY, HOUR, Checkpoint, World, make_plan, new_account, subscribe

__all__ = ["CLOCKED", "SCENARIOS"]


def _ts(value: datetime) -> int:
    return int(value.timestamp())


def new_account_then_subscribed(world: World, checkpoint: Checkpoint) -> None:
    acct = new_account(world, "new_account")
    checkpoint("account created", [acct.code])
    starter = make_plan(world, "new_account", "Starter", 19.0)
    subscribe(world, acct.code, starter)
    checkpoint("subscribed", [acct.code])


def upgrade(world: World, checkpoint: Checkpoint) -> None:
    acct = new_account(world, "upgrade")
    basic = make_plan(world, "upgrade", "Basic", 10.0)
    pro = make_plan(world, "upgrade", "Pro", 50.0)
    sub = subscribe(world, acct.code, basic)
    checkpoint("on basic", [acct.code])
    # Plan and quantity changed at once (timeframe now): the same subscription, a new price.
    world.client.create_subscription_change(sub.id, {"plan_code": pro, "quantity": 2,
                                                     "timeframe": "now"})  # fmt: skip
    checkpoint("upgraded to pro x2", [acct.code])


def failed_payment(world: World, checkpoint: Checkpoint) -> None:
    acct = new_account(world, "failed_payment")
    team = make_plan(world, "failed_payment", "Team", 49.0)
    sub = subscribe(world, acct.code, team)
    checkpoint("active", [acct.code])
    world.decline_payments(f"code-{acct.code}")
    world.advance_to(_ts(sub.current_period_ends_at) + HOUR)  # the renewal is declined
    checkpoint("renewal failed: past due", [acct.code])
    due = world.client.list_account_invoices(f"code-{acct.code}", params={"state": "past_due"})
    for invoice in due.items():
        world.client.mark_invoice_successful(invoice.id)  # paid by hand, out of band
    checkpoint("paid up", [acct.code])


def cancel(world: World, checkpoint: Checkpoint) -> None:
    # Recurly's "cancel" keeps a subscription live until its term ends (canceled_live below):
    # ending one at once is a termination, which expires it.
    acct = new_account(world, "cancel")
    sub = subscribe(world, acct.code, make_plan(world, "cancel", "Basic", 12.0))
    checkpoint("active", [acct.code])
    world.client.terminate_subscription(sub.id, params={"refund": "none"})
    checkpoint("terminated", [acct.code])


def canceled_live(world: World, checkpoint: Checkpoint) -> None:
    acct = new_account(world, "canceled_live")
    sub = subscribe(world, acct.code, make_plan(world, "canceled_live", "Basic", 20.0))
    world.client.cancel_subscription(sub.id)
    checkpoint("canceled, live until it expires", [acct.code])


def expired(world: World, checkpoint: Checkpoint) -> None:
    acct = new_account(world, "expired")
    sub = subscribe(world, acct.code, make_plan(world, "expired", "Basic", 25.0))
    canceled = world.client.cancel_subscription(sub.id)
    checkpoint("canceled", [acct.code])
    world.advance_to(_ts(canceled.expires_at) + HOUR)
    checkpoint("expired", [acct.code])


def resubscribe(world: World, checkpoint: Checkpoint) -> None:
    acct = new_account(world, "resubscribe")
    basic = make_plan(world, "resubscribe", "Basic", 15.0)
    first = subscribe(world, acct.code, basic)
    world.client.terminate_subscription(first.id, params={"refund": "none"})
    checkpoint("churned", [acct.code])
    subscribe(world, acct.code, basic)
    checkpoint("resubscribed", [acct.code])


def trial(world: World, checkpoint: Checkpoint) -> None:
    acct = new_account(world, "trial")
    pro = make_plan(world, "trial", "Pro", 30.0)
    ends = datetime.fromtimestamp(_ts(acct.created_at) + 14 * DAY, UTC)
    subscribe(world, acct.code, pro, trial_ends_at=ends.strftime("%Y-%m-%dT%H:%M:%SZ"))
    checkpoint("in trial", [acct.code])


def add_ons(world: World, checkpoint: Checkpoint) -> None:
    acct = new_account(world, "add_ons")
    team = make_plan(world, "add_ons", "Team", 20.0, add_ons=[
        {"code": "seat", "name": "Seat", "currencies": [{"currency": "USD", "unit_amount": 5.0}]},
        {"code": "support", "name": "Support",
         "currencies": [{"currency": "USD", "unit_amount": 9.99}]},
        {"code": "api", "name": "API calls", "add_on_type": "usage", "usage_type": "price",
         "currencies": [{"currency": "USD", "unit_amount_decimal": "0.0125"}]},
    ])  # fmt: skip
    subscribe(world, acct.code, team, add_ons=[
        {"code": "seat", "quantity": 3}, {"code": "support", "quantity": 1}, {"code": "api"},
    ])  # fmt: skip
    checkpoint("two fixed add-ons and a usage one", [acct.code])


def forever_coupon(world: World, checkpoint: Checkpoint) -> None:
    acct = new_account(world, "forever_coupon")
    pro = make_plan(world, "forever_coupon", "Pro", 50.0)
    coupon = world.client.create_coupon({
        "code": f"{acct.code}-20off", "name": "20% forever (forever_coupon)",
        "discount_type": "percent", "discount_percent": 20, "duration": "forever",
    })  # fmt: skip
    subscribe(world, acct.code, pro, coupon_codes=[coupon.code])
    checkpoint("discounted forever", [acct.code])


def jpy(world: World, checkpoint: Checkpoint) -> None:
    # The site must take JPY.
    acct = new_account(world, "jpy")
    pro = make_plan(world, "jpy", "Pro", 10000.0, currency="JPY")
    subscribe(world, acct.code, pro, currency="JPY")
    checkpoint("yen subscription", [acct.code])


SCENARIOS: dict[str, Callable[[World, Checkpoint], None]] = {
    "new_account": new_account_then_subscribed,
    "upgrade": upgrade,
    "failed_payment": failed_payment,
    "cancel": cancel,
    "canceled_live": canceled_live,
    "expired": expired,
    "resubscribe": resubscribe,
    "trial": trial,
    "add_ons": add_ons,
    "forever_coupon": forever_coupon,
    "jpy": jpy,
}
# Need the stand-in's clock or its declined charges: never recorded against a sandbox site.
CLOCKED: frozenset[str] = frozenset({"failed_payment", "expired"})

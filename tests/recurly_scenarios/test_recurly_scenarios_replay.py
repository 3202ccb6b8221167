"""Each recorded scenario replayed through the real reader, ``RecurlySource.fetch``, with no
server: vcrpy in record mode "none" answers from the cassette and refuses anything else.
Every expected value is computed by hand from the scenario script: Recurly sends major units
as JSON floats (19.0 is 19.00 USD, 10000.0 JPY is ¥10,000), the reader makes them exact minor
units (cents, yen) and MRR comes back in major units. The stand-in's clock starts at
2026-11-26 12:00 UTC (RECORDING_TIME); the reader's clock is the scenario's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from sync.core import account_status, customer_mrr, subscription_mrr
from sync.core.money import currency_exponent
from sync.model import BillingSnapshot, Customer, Subscription
from sync.recurly_io import RecurlyHttp, RecurlySource

from .record import RECORDING_TIME, STANDIN_KEY, TEST_VISA, record
from .replay import CASSETTES, cassette_path, header, replay_vcr
from .replaying import KEY, NOWHERE, replay_world
from .scenarios import SCENARIOS

T0 = datetime(2026, 11, 26, 12, tzinfo=UTC)
D26 = datetime(2026, 12, 26, 12, tzinfo=UTC)  # a month after T0: the first period's end
J26 = datetime(2027, 1, 26, 12, tzinfo=UTC)


def _no_sleep(_seconds: float) -> None:
    raise AssertionError("a replay must never wait")


def replay(name: str) -> dict[str, Customer]:
    """Run scenario ``name`` from its cassette; ``{checkpoint label: the one customer}``."""
    info = header(name)
    assert info["kind"] in ("billing-sync Recurly stand-in", "Recurly sandbox site")
    seen: dict[str, Customer] = {}
    with replay_vcr().use_cassette(str(cassette_path(name))) as cassette:
        world = replay_world(name)

        def checkpoint(label: str, codes: list[str]) -> None:
            http = RecurlyHttp(KEY, NOWHERE)
            source = RecurlySource(http, sleep=_no_sleep, clock=lambda: float(world.now()))
            source.begin_cycle()  # as the engine does, every cycle
            snap: BillingSnapshot = source.fetch(codes)
            assert not snap.missing and not snap.refused, (label, snap)
            assert snap.stats.strategy == "per_customer", label
            (seen[label],) = snap.customers.values()

        SCENARIOS[name](world, checkpoint)
        # Every recorded interaction was asked for: the reads are exactly the adapter's.
        assert cassette.all_played, f"{name}: the cassette holds calls the replay did not make"
    return seen


def one(cus: Customer) -> Subscription:
    (sub,) = cus.subscriptions
    return sub


def test_every_scenario_has_a_cassette_recorded_at_the_pinned_clock() -> None:
    assert sorted(p.stem for p in CASSETTES.glob("*.yaml")) == sorted(SCENARIOS)
    assert {header(n)["clock"] for n in SCENARIOS} == {str(RECORDING_TIME)}
    assert datetime.fromtimestamp(RECORDING_TIME, UTC) == T0


def test_new_account() -> None:
    got = replay("new_account")
    assert got["account created"].subscriptions == ()
    assert account_status(got["account created"]) == "No Subscription"
    sub = one(got["subscribed"])
    assert (sub.status, sub.state, sub.currency) == ("active", "active", "usd")
    assert sub.items[0].price.unit_amount == Decimal(1900)  # 19.0 USD -> 1900 cents
    assert subscription_mrr(sub) == Decimal("19.00")
    assert sub.items[0].current_period_end == D26 and sub.start_date == T0
    assert sub.cancel_at is None and sub.ended_at is None
    assert account_status(got["subscribed"]) == "Active"


def test_upgrade_changes_plan_and_quantity_of_the_same_subscription() -> None:
    got = replay("upgrade")
    basic, pro = one(got["on basic"]), one(got["upgraded to pro x2"])
    assert basic.id == pro.id
    assert subscription_mrr(basic) == Decimal("10.00")  # 10.0 x 1
    (item,) = pro.items
    assert (item.price.product_name, item.quantity) == ("Pro (upgrade)", 2)
    assert subscription_mrr(pro) == Decimal("100.00")  # 50.0 x 2
    assert item.current_period_end == D26  # a change "now" keeps the period


def test_failed_payment_is_the_account_flag() -> None:
    got = replay("failed_payment")
    assert account_status(got["active"]) == "Active"
    late = one(got["renewal failed: past due"])
    # Recurly has no past-due state: the declined renewal leaves it active, and the account's
    # has_past_due_invoice makes it past_due. The period rolled to 2026-12-26..2027-01-26.
    assert (late.status, late.state) == ("active", "past_due")
    assert late.items[0].current_period_end == J26
    assert subscription_mrr(late) == Decimal("49.00")  # past due still counts
    assert account_status(got["renewal failed: past due"]) == "Past Due"
    paid = one(got["paid up"])
    assert (paid.status, paid.state) == ("active", "active")
    assert account_status(got["paid up"]) == "Active"


def test_cancel_is_a_termination_that_expires_it() -> None:
    got = replay("cancel")
    assert account_status(got["active"]) == "Active"
    sub = one(got["terminated"])
    assert (sub.status, sub.state, sub.ended_at) == ("expired", "ended", T0)
    assert sub.cancel_at is None and sub.canceled_at is None  # terminated, never canceled
    assert subscription_mrr(sub) == 0 and account_status(got["terminated"]) == "Churned"


def test_canceled_stays_live_until_expires_at() -> None:
    cus = replay("canceled_live")["canceled, live until it expires"]
    sub = one(cus)
    # Recurly's canceled is live until expires_at, the period's end: Canceling, still paying.
    assert (sub.status, sub.state) == ("canceled", "active")
    assert sub.cancel_at == D26 and sub.canceled_at == T0 and sub.ended_at is None
    assert subscription_mrr(sub) == Decimal("20.00")
    assert account_status(cus) == "Canceling"


def test_expired_after_expires_at() -> None:
    got = replay("expired")
    assert account_status(got["canceled"]) == "Canceling"
    assert subscription_mrr(one(got["canceled"])) == Decimal("25.00")
    sub = one(got["expired"])
    assert (sub.status, sub.state, sub.ended_at, sub.canceled_at) == ("expired", "ended", D26, T0)
    assert subscription_mrr(sub) == 0 and account_status(got["expired"]) == "Churned"


def test_resubscribe() -> None:
    got = replay("resubscribe")
    assert account_status(got["churned"]) == "Churned"
    back = got["resubscribed"]
    assert sorted((s.status, s.state) for s in back.subscriptions) == [
        ("active", "active"), ("expired", "ended")]  # fmt: skip
    # Only the live subscription counts: 15.00 + 0.
    assert customer_mrr(back).amount == Decimal("15.00") and account_status(back) == "Active"


def test_trial_is_trial_ends_at_ahead() -> None:
    cus = replay("trial")["in trial"]
    sub = one(cus)
    # No trial state in Recurly: active with trial_ends_at 14 days ahead (2026-12-10 12:00).
    assert (sub.status, sub.state) == ("active", "trialing")
    assert sub.trial_end == datetime(2026, 12, 10, 12, tzinfo=UTC)
    assert sub.items[0].current_period_end == sub.trial_end  # the trial is the first period
    assert subscription_mrr(sub) == 0 and account_status(cus) == "Trialing"


def test_fixed_add_ons_count_and_usage_does_not() -> None:
    sub = one(replay("add_ons")["two fixed add-ons and a usage one"])
    # The plan, then the fixed add-ons; the usage add-on ("api") is not an item at all.
    assert [(i.price.nickname, i.quantity, i.price.unit_amount) for i in sub.items] == [
        ("bs-add-ons-t0-team", 1, Decimal(2000)), ("seat", 3, Decimal(500)),
        ("support", 1, Decimal(999))]  # fmt: skip
    # 20.00 + 3 x 5.00 + 1 x 9.99 = 44.99 (9.99 read through its repr, never float maths).
    assert subscription_mrr(sub) == Decimal("44.99")


def test_forever_coupon() -> None:
    sub = one(replay("forever_coupon")["discounted forever"])
    (coupon,) = sub.discounts
    assert (coupon.percent_off, coupon.duration) == (Decimal(20), "forever")
    assert subscription_mrr(sub) == Decimal("40.00")  # 50.00 less 20% forever


def test_jpy() -> None:
    cus = replay("jpy")["yen subscription"]
    sub = one(cus)
    assert sub.currency == "jpy" and currency_exponent("jpy") == 0
    # 10000.0 JPY is ¥10,000 (no minor unit): 10000 "minor" units, not 1,000,000.
    assert sub.items[0].price.unit_amount == Decimal(10000)
    assert subscription_mrr(sub) == Decimal(10000)
    assert (customer_mrr(cus).amount, customer_mrr(cus).currency) == (Decimal(10000), "JPY")


def test_replay_refuses_requests_not_in_the_cassette() -> None:
    with replay_vcr().use_cassette(str(cassette_path("new_account"))):
        http = RecurlyHttp(KEY, NOWHERE)
        with pytest.raises(CannotOverwriteExistingCassetteException):
            http.get("/accounts/code-never-recorded")


def test_recording_a_real_site_needs_the_sandbox_confirmation() -> None:
    with pytest.raises(SystemExit, match="RECURLY_SANDBOX=1"):
        record(["new_account"], api_key="a-real-looking-key", out=lambda _s: None)


def _cassette_texts() -> Iterator[tuple[str, str]]:
    for path in sorted(CASSETTES.glob("*.yaml")):
        yield path.name, path.read_text()


def test_cassettes_hold_no_key_no_authorization_and_no_real_host() -> None:
    texts = list(_cassette_texts())
    assert len(texts) == len(SCENARIOS)
    for name, text in texts:
        assert STANDIN_KEY not in text, f"{name} holds the API key"
        assert not re.search(r"^\s*authorization:", text, re.I | re.M), f"{name}: Authorization"
        assert not re.search(r"Basic\s+[A-Za-z0-9+/=]{8,}", text), f"{name}: a Basic credential"
        assert not re.search(r'"(?:api_key|private_key|token|secret)"\s*:\s*"(?!FILTERED)',
                             text), f"{name}: a key-like field"  # fmt: skip
        assert TEST_VISA["number"] not in text, f"{name}: a card number"
        uris = re.findall(r"^\s*uri: (\S+)", text, re.M)
        assert uris and all(u.startswith("https://site.recurly.invalid/") for u in uris), name


def test_scrubbing_filters_keys_and_cards_from_bodies() -> None:
    from .replay import scrub

    body = ('{"account": {"code": "x", "billing_info": {"number": "4111111111111111", '
            '"cvv": "123", "month": "12", "year": 2040}}, "api_key": "k"}')  # fmt: skip
    out = scrub(body)
    assert "4111" not in out and '"k"' not in out and '"123"' not in out and "2040" not in out
    assert '"code": "x"' in out



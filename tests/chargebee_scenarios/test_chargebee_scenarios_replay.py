"""Each recorded scenario replayed through the real reader, ``ChargebeeSource.fetch``, with
no server: vcrpy in record mode "none" answers from the cassette and refuses anything else.
Every expected value is computed by hand from the scenario script (amounts in cents, yen for
JPY; the stand-in's clock starts at 2026-11-26 12:00 UTC, RECORDING_TIME)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import chargebee
import pytest
import yaml
from vcr.errors import CannotOverwriteExistingCassetteException

from sync.chargebee_io import ChargebeeSource
from sync.core import account_status, customer_mrr, subscription_mrr
from sync.core.money import currency_exponent
from sync.model import BillingSnapshot, Customer

from .record import STANDIN_KEY
from .replay import CASSETTES, cassette_path, replay_vcr
from .scenarios import SCENARIOS

NOWHERE = "http://127.0.0.1:9/api/v2"  # nothing listens: an unrecorded call cannot succeed
T0 = datetime(2026, 11, 26, 12, tzinfo=UTC)
D26 = datetime(2026, 12, 26, 12, tzinfo=UTC)  # one month after T0: the first term's end


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setattr(chargebee.Chargebee, "verify_ca_certs", False)
    cb = chargebee.Chargebee(api_key="test_fake_replay", site="replay-test", protocol="http")
    cb.env.api_endpoint = NOWHERE
    return cb


def replay(client: Any, name: str) -> dict[str, Customer]:
    """Run scenario ``name`` from its cassette; ``{checkpoint label: the one customer}``."""
    path = cassette_path(name)
    assert path.exists(), f"missing cassette {path}: run `make cassettes PROVIDER=chargebee`"
    header = yaml.safe_load(path.read_text())["recorded_against"]
    assert header["kind"] in ("billing-sync Chargebee stand-in", "Chargebee test site")
    seen: dict[str, Customer] = {}

    def checkpoint(label: str, ids: list[str]) -> None:
        snap: BillingSnapshot = ChargebeeSource(client, sleep=_no_sleep).fetch(ids)
        assert not snap.missing and not snap.refused, (label, snap)
        (seen[label],) = snap.customers.values()

    with replay_vcr().use_cassette(str(path)) as cassette:
        SCENARIOS[name](client, checkpoint)
        # Every recorded interaction was asked for: the reads are exactly the adapter's.
        assert cassette.all_played, f"{name}: the cassette holds calls the replay did not make"
    return seen


def _no_sleep(_seconds: float) -> None:
    raise AssertionError("a replay must never wait")


def one(cus: Customer) -> Any:
    (sub,) = cus.subscriptions
    return sub


def test_every_scenario_has_a_cassette() -> None:
    assert sorted(p.stem for p in CASSETTES.glob("*.yaml")) == sorted(SCENARIOS)


def test_new_customer(client: Any) -> None:
    got = replay(client, "new_customer")
    assert account_status(got["customer created"]) == "No Subscription"
    assert customer_mrr(got["customer created"]).amount == 0
    sub = one(got["subscribed"])
    assert (sub.status, sub.state, sub.currency) == ("active", "active", "usd")
    assert subscription_mrr(sub) == Decimal("19.00")  # 1900 cents a month
    assert sub.items[0].current_period_end == D26 and sub.cancel_at is None


def test_upgrade_items(client: Any) -> None:
    got = replay(client, "upgrade_items")
    basic, pro = one(got["on basic"]), one(got["upgraded to pro"])
    assert basic.id == pro.id  # the same subscription, its plan replaced
    assert subscription_mrr(basic) == Decimal("10.00")
    assert subscription_mrr(pro) == Decimal("50.00")
    assert [i.price.product_name.split(" (")[0] for i in pro.items] == ["Pro"]


def test_failed_payment(client: Any) -> None:
    got = replay(client, "failed_payment")
    # auto_collection off: the first invoice is due at once, due_invoices_count 1 -> past due;
    # the recorded failed transfer leaves it due; the renewal a month on adds a second.
    for label in ("first invoice due", "payment failed: past due",
                  "renewed unpaid: two invoices due"):  # fmt: skip
        sub = one(got[label])
        assert (sub.status, sub.state) == ("active", "past_due"), label
        assert account_status(got[label]) == "Past Due"
        assert subscription_mrr(sub) == Decimal("49.00")  # past due still counts
    assert one(got["renewed unpaid: two invoices due"]).items[0].current_period_end == \
        datetime(2027, 1, 26, 12, tzinfo=UTC)  # fmt: skip
    paid = one(got["paid up"])
    assert (paid.state, account_status(got["paid up"])) == ("active", "Active")


def test_cancel(client: Any) -> None:
    got = replay(client, "cancel")
    assert account_status(got["active"]) == "Active"
    sub = one(got["cancelled"])
    assert (sub.status, sub.state) == ("cancelled", "ended")
    assert sub.ended_at == sub.canceled_at == T0 and sub.cancel_at is None
    assert subscription_mrr(sub) == 0 and account_status(got["cancelled"]) == "Churned"


def test_resubscribe(client: Any) -> None:
    got = replay(client, "resubscribe")
    assert account_status(got["churned"]) == "Churned"
    back = got["resubscribed"]
    states = sorted((s.status, s.state) for s in back.subscriptions)
    assert states == [("active", "active"), ("cancelled", "ended")]
    # Only the live subscription counts: 15.00 + 0.
    assert customer_mrr(back).amount == Decimal("15.00") and account_status(back) == "Active"


def test_non_renewing(client: Any) -> None:
    got = replay(client, "non_renewing")
    sub = one(got["cancels at term end"])
    # Scheduled to end with its term: still active and still paying until then.
    assert (sub.status, sub.state) == ("non_renewing", "active")
    assert sub.cancel_at == D26 and sub.canceled_at == T0 and sub.ended_at is None
    assert subscription_mrr(sub) == Decimal("20.00")
    assert account_status(got["cancels at term end"]) == "Canceling"
    ended = one(got["term over: cancelled"])
    assert (ended.status, ended.state, ended.ended_at) == ("cancelled", "ended", D26)
    assert account_status(got["term over: cancelled"]) == "Churned"


def test_in_trial(client: Any) -> None:
    got = replay(client, "in_trial")
    sub = one(got["in trial"])
    trial_end = datetime(2026, 12, 3, 12, tzinfo=UTC)  # T0 + 7 days
    assert (sub.status, sub.state, sub.trial_end) == ("in_trial", "trialing", trial_end)
    assert subscription_mrr(sub) == 0  # nothing is billed during a trial
    assert account_status(got["in trial"]) == "Trialing"
    after = one(got["trial over: active"])
    assert (after.status, after.state) == ("active", "active")
    # The first paid term starts at the trial's end and runs a month.
    assert after.items[0].current_period_end == datetime(2027, 1, 3, 12, tzinfo=UTC)
    assert subscription_mrr(after) == Decimal("30.00")


def test_addon_and_tiered_plan(client: Any) -> None:
    sub = one(replay(client, "addon_tiered")["tiered plan and addon"])
    seats, storage = sub.items
    assert (seats.quantity, seats.price.billing_scheme, seats.price.tiers_mode) == \
        (15, "tiered", "graduated")  # fmt: skip
    assert (storage.quantity, storage.price.unit_amount) == (4, Decimal(300))
    # Graduated seats: 10 x 5.00 + 5 x 4.00 = 70.00; the addon 4 x 3.00 = 12.00; 82.00.
    assert subscription_mrr(sub) == Decimal("82.00")


def test_forever_coupon(client: Any) -> None:
    sub = one(replay(client, "forever_coupon")["discounted forever"])
    (coupon,) = sub.discounts
    assert (coupon.percent_off, coupon.duration) == (Decimal(20), "forever")
    assert subscription_mrr(sub) == Decimal("40.00")  # 50.00 less 20% forever


def test_jpy_customer(client: Any) -> None:
    cus = replay(client, "jpy_customer")["yen subscription"]
    sub = one(cus)
    assert sub.currency == "jpy" and currency_exponent("jpy") == 0
    # price 10000 is in yen (no minor unit): ¥10,000 a month, not ¥100.
    assert sub.items[0].price.unit_amount == Decimal(10000)
    assert subscription_mrr(sub) == Decimal(10000)
    assert (customer_mrr(cus).amount, customer_mrr(cus).currency) == (Decimal(10000), "JPY")


def test_replay_refuses_requests_not_in_the_cassette(client: Any) -> None:
    cassette = replay_vcr().use_cassette(str(cassette_path("new_customer")))
    with cassette, pytest.raises(CannotOverwriteExistingCassetteException):
        client.Customer.retrieve("never_recorded")


def _cassette_texts() -> Iterator[tuple[str, str]]:
    for path in sorted(CASSETTES.glob("*.yaml")):
        yield path.name, path.read_text()


def test_cassettes_hold_no_key_and_no_authorization_header() -> None:
    texts = list(_cassette_texts())
    assert len(texts) == len(SCENARIOS)
    for name, text in texts:
        assert STANDIN_KEY not in text, f"{name} holds the API key"
        assert not re.search(r"^\s*authorization:", text, re.I | re.M), f"{name}: Authorization"
        assert not re.search(r"Basic\s+[A-Za-z0-9+/=]{8,}", text), f"{name}: a Basic credential"
        assert not re.search(r"\b(?:live|test)_[A-Za-z0-9]{20,}", text), f"{name}: a key"
        # Card details typed into requests are filtered; the card number never appears.
        assert "4111111111111111" not in text and "card%5Bcvv%5D=100" not in text
        assert "idempotency" not in text.lower(), f"{name} keeps an idempotency key"

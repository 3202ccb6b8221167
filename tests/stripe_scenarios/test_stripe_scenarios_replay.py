"""Replaying the recorded scenarios with no server, and keeping secrets out of cassettes."""

from __future__ import annotations

import re

import pytest
import stripe
import yaml
from vcr.errors import CannotOverwriteExistingCassetteException

from .replay import CASSETTES, cassette_path, replay_vcr
from .scenarios import SCENARIOS

# Nothing listens here: a request that is not in the cassette cannot reach a server.
NOWHERE = "http://127.0.0.1:9"
SECRET_PATTERNS = {
    "live secret key": re.compile(r"sk_live_\w+"),
    "restricted key": re.compile(r"rk_(?:live|test)_\w+"),
    "real-length test key": re.compile(r"sk_test_[A-Za-z0-9]{24,}"),
    "bearer token": re.compile(r"Bearer\s+\S+"),
    "webhook secret": re.compile(r"whsec_\w+"),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_replays_from_its_cassette(name: str) -> None:
    path = cassette_path(name)
    assert path.exists(), f"missing cassette {path}: run `make cassettes`"
    header = yaml.safe_load(path.read_text())["recorded_against"]
    assert header["kind"] in ("billing-sync Stripe stand-in", "Stripe test mode")
    assert header["api_version"] == stripe.api_version
    labels: list[tuple[str, list[str]]] = []
    client = stripe.StripeClient("sk_test_fake_replay", base_addresses={"api": NOWHERE})
    with replay_vcr().use_cassette(str(path)) as cassette:
        SCENARIOS[name](client, lambda label, ids: labels.append((label, ids)))
        assert cassette.play_count > 0
    assert labels and all(ids and all(i.startswith("cus_") for i in ids) for _, ids in labels)


def test_replay_refuses_requests_not_in_the_cassette() -> None:
    client = stripe.StripeClient("sk_test_fake_replay", base_addresses={"api": NOWHERE})
    cassette = replay_vcr().use_cassette(str(cassette_path("new_customer")))
    with cassette, pytest.raises((CannotOverwriteExistingCassetteException, stripe.StripeError)):
        client.v1.customers.retrieve("cus_never_recorded")


def test_cassettes_hold_no_secrets() -> None:
    files = sorted(CASSETTES.glob("*.yaml"))
    assert len(files) >= len(SCENARIOS)
    for path in files:
        text = path.read_text()
        for what, pattern in SECRET_PATTERNS.items():
            found = pattern.search(text)
            assert found is None, f"{path.name} holds a {what}: {found.group(0)[:12]}..."
        for header in ("Authorization", "Idempotency-Key", "User-Agent"):
            assert f"{header}:" not in text, f"{path.name} keeps the {header} header"

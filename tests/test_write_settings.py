"""BILLING_SYNC_SALESFORCE_WRITE_CONCURRENCY: validated like the other settings, and wired to
the full reconcile's writer."""

from __future__ import annotations

import pytest

from scheduler.settings import ConfigError, load_settings

BASE = {"STRIPE_API_KEY": "sk_test_fake_settings_key", "SALESFORCE_CLIENT_ID": "3MVG9fake",
        "SALESFORCE_CLIENT_SECRET": "fake-client-secret-123"}
NAME = "BILLING_SYNC_SALESFORCE_WRITE_CONCURRENCY"


def test_four_calls_in_flight_unless_set():
    assert load_settings(BASE).salesforce_write_concurrency == 4
    assert load_settings({**BASE, NAME: "1"}).salesforce_write_concurrency == 1
    assert load_settings({**BASE, NAME: "10"}).salesforce_write_concurrency == 10


@pytest.mark.parametrize("value", ["0", "11", "2.5", "four"])
def test_a_bad_concurrency_is_named_in_one_line(value):
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, NAME: value})
    assert str(info.value) == f"{NAME}: expected a whole number, 1 to 10, got '{value}'"


def test_the_setting_reaches_the_cycle(world):
    from dataclasses import replace

    world.settings = replace(world.settings, salesforce_write_concurrency=2)
    with world.engine() as engine:
        assert engine.cycle.write_concurrency == 2

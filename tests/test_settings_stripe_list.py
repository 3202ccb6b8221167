"""BILLING_SYNC_STRIPE_LIST_CONCURRENCY: the threads of the partitioned Stripe listing."""

from __future__ import annotations

import pytest

from scheduler.settings import ConfigError, load_settings
from scheduler.wiring import build_source

BASE = {"STRIPE_API_KEY": "sk_test_fake_settings_key", "SALESFORCE_CLIENT_ID": "3MVG9fake",
        "SALESFORCE_CLIENT_SECRET": "fake-client-secret-123"}  # fmt: skip
NAME = "BILLING_SYNC_STRIPE_LIST_CONCURRENCY"


def test_four_by_default_and_as_set() -> None:
    assert load_settings(BASE).stripe_list_concurrency == 4
    assert load_settings({**BASE, NAME: "1"}).stripe_list_concurrency == 1
    assert load_settings({**BASE, NAME: " 8 "}).stripe_list_concurrency == 8


@pytest.mark.parametrize("value", ["0", "9", "two", "-1", "2.5"])
def test_a_bad_value_is_named_in_one_line(value) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, NAME: value})
    assert str(info.value) == f"{NAME}: expected a whole number, 1 to 8, got '{value.strip()}'"


def test_the_source_is_built_with_it() -> None:
    settings = load_settings({**BASE, NAME: "3"})
    source = build_source(settings, object(), sleep=lambda _s: None)
    assert source._partitioning.concurrency == 3  # type: ignore[attr-defined]

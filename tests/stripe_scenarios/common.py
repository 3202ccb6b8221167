"""Helpers the scenarios share. Time comes from Stripe's answers, never the local clock, so a
replay makes the same requests as the recording."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import stripe

__all__ = ["Checkpoint", "advance", "customer", "new_clock", "plan"]

Checkpoint = Callable[[str, list[str]], Any]
POLL_SECONDS = 2.0
POLL_LIMIT = 150  # five minutes at most against Stripe test mode


def plan(client: stripe.StripeClient, scenario: str, label: str, amount: int,
         interval: str = "month", currency: str = "usd") -> stripe.Price:  # fmt: skip
    product = client.v1.products.create({"name": f"billing-sync {scenario}: {label}"})
    return client.v1.prices.create({
        "product": product.id, "currency": currency, "unit_amount": amount,
        "recurring": {"interval": interval}, "nickname": label,
    })  # fmt: skip


def new_clock(client: stripe.StripeClient, scenario: str) -> stripe.test_helpers.TestClock:
    # A product's creation time is Stripe's "now": the clock starts there, not at our time.
    anchor = client.v1.products.create({"name": f"billing-sync {scenario}: clock anchor"})
    return client.v1.test_helpers.test_clocks.create(
        {"frozen_time": anchor.created, "name": f"billing-sync {scenario}"}
    )


def advance(client: stripe.StripeClient, clock_id: str, frozen_time: int) -> None:
    client.v1.test_helpers.test_clocks.advance(clock_id, {"frozen_time": frozen_time})
    for _ in range(POLL_LIMIT):
        if client.v1.test_helpers.test_clocks.retrieve(clock_id).status == "ready":
            return
        time.sleep(POLL_SECONDS)
    raise TimeoutError(f"test clock {clock_id} did not become ready")


def customer(client: stripe.StripeClient, scenario: str, clock_id: str | None = None,
             card: str | None = "pm_card_visa") -> stripe.Customer:  # fmt: skip
    params: dict[str, Any] = {"name": f"billing-sync {scenario}",
                              "email": f"{scenario.replace('_', '-')}@example.com"}
    if card:
        params.update(payment_method=card, invoice_settings={"default_payment_method": card})
    if clock_id:
        params["test_clock"] = clock_id
    return client.v1.customers.create(params)

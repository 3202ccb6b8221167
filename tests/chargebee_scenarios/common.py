"""Helpers the scenarios share. Time comes from Chargebee's answers, never the local clock,
and ids of catalog objects are made from a customer id Chargebee generated, so a replay
makes the same requests as the recording and a re-recording on a real test site does not
collide with the last one's items."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["DAY", "HOUR", "Checkpoint", "Shop", "customer", "travel"]

Checkpoint = Callable[[str, list[str]], Any]
HOUR = 3600
DAY = 86_400
POLL_SECONDS = 3.0
POLL_LIMIT = 100  # five minutes at most on a real site's Time Machine
# Chargebee's test gateway card that always succeeds; never a real card.
TEST_CARD = {"number": "4111111111111111", "expiry_month": 12, "expiry_year": 2040, "cvv": "100"}


def customer(client: Any, scenario: str, *, card: bool = True, **params: Any) -> Any:
    """A customer with Chargebee's own id; with the test card unless ``card=False``."""
    params = {"company": f"billing-sync {scenario}",
              "email": f"{scenario.replace('_', '-')}@example.com", **params}  # fmt: skip
    if card:
        params["card"] = TEST_CARD
    return client.Customer.create(params).customer


class Shop:
    """One scenario's item family, and the plans and addons it creates in it."""

    def __init__(self, client: Any, scenario: str, anchor: str) -> None:
        self.client = client
        self.tag = f"bs-{scenario.replace('_', '-')}-{anchor}"
        self.client.ItemFamily.create({"id": self.tag, "name": f"billing-sync {self.tag}"})

    def price(self, label: str, *, item_type: str = "plan", period_unit: str = "month",
              **params: Any) -> str:  # fmt: skip
        """An item ``label`` of ``item_type`` and its one item price; returns the price id."""
        item_id = f"{self.tag}-{label.lower().replace(' ', '-')}"
        self.client.Item.create({"id": item_id, "name": f"{label} ({self.tag})",
                                 "type": item_type, "item_family_id": self.tag})  # fmt: skip
        price_id = f"{item_id}-{period_unit}"
        self.client.ItemPrice.create({"id": price_id, "name": f"{label} {period_unit}ly",
                                      "item_id": item_id, "period_unit": period_unit,
                                      **params})  # fmt: skip
        return price_id


def travel(client: Any, destination: int) -> None:
    """The site's Time Machine to ``destination``; a real site travels in the background."""
    machine = client.TimeMachine.travel_forward(
        "delorean", {"destination_time": destination}
    ).time_machine
    for _ in range(POLL_LIMIT):
        if machine.time_travel_status != "in_progress":
            break
        time.sleep(POLL_SECONDS)  # only a real site is ever in progress: replays never wait
        machine = client.TimeMachine.retrieve("delorean").time_machine
    if machine.time_travel_status != "succeeded":
        raise RuntimeError(f"time travel ended {machine.time_travel_status}")

"""What the scenarios share: the ``World`` they run in, and codes and plans made from it.

Every scenario touches the API only through ``world.client`` (a ``recurly.Client``). Two things
Recurly's API cannot do are the world's: moving time forward and declining a renewal's charge.
The stand-in does both (its clock and ``fail_payments``); a replay only keeps count of the
time; a sandbox site cannot, so the scenarios that need them (``CLOCKED``) are recorded
against the stand-in only.

Codes (accounts, plans, coupons) end with the recording's tag, kept in the cassette's header:
a replay makes the very requests of its recording, and a re-recording on a sandbox site does
not collide with the last one's codes. Times come from Recurly's answers or from the world,
never from the local clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DAY", "HOUR", "Checkpoint", "NeedsStandIn", "World", "account_code", "make_plan"]

Checkpoint = Callable[[str, list[str]], Any]
HOUR = 3600
DAY = 86_400


class NeedsStandIn(RuntimeError):
    """A scenario asked for what only the stand-in can do (its clock, a declined charge)."""


def _cannot(what: str) -> Callable[..., None]:
    def refuse(*_args: Any) -> None:
        raise NeedsStandIn(f"{what} needs the Recurly stand-in")

    return refuse


@dataclass
class World:
    """Where a scenario runs: the SDK client, the recording's tag and its clock."""

    client: Any
    tag: str
    now: Callable[[], int]
    advance: Callable[[int], None] = field(default=_cannot("moving the clock"))
    decline_payments: Callable[[str], None] = field(default=_cannot("declining charges"))
    # A sandbox site charges a card for automatic collection: Recurly's test Visa, never a
    # real card (filtered out of cassettes anyway). The stand-in takes no billing info.
    billing_info: dict[str, str] | None = None

    def advance_to(self, ts: int) -> None:
        self.advance(ts - self.now())


def account_code(world: World, scenario: str) -> str:
    return f"bs-{scenario.replace('_', '-')}-{world.tag}"


def new_account(world: World, scenario: str) -> Any:
    body: dict[str, Any] = {"code": account_code(world, scenario),
                            "company": f"billing-sync {scenario}",
                            "email": f"{scenario.replace('_', '-')}@example.com"}  # fmt: skip
    if world.billing_info:
        body["billing_info"] = world.billing_info
    return world.client.create_account(body)


def make_plan(world: World, scenario: str, label: str, amount: float, *, currency: str = "USD",
              add_ons: Sequence[dict[str, Any]] = ()) -> str:  # fmt: skip
    """A monthly plan named ``<label> (<scenario>)``; returns its code."""
    code = f"{account_code(world, scenario)}-{label.lower()}"
    world.client.create_plan({
        "code": code, "name": f"{label} ({scenario})", "interval_unit": "months",
        "interval_length": 1, "currencies": [{"currency": currency, "unit_amount": amount}],
        "add_ons": list(add_ons),
    })  # fmt: skip
    return code


def subscribe(world: World, code: str, plan_code: str, *, currency: str = "USD",
              **extra: Any) -> Any:  # fmt: skip
    """A subscription for the existing account ``code``."""
    return world.client.create_subscription({"plan_code": plan_code, "currency": currency,
                                             "account": {"code": code}, **extra})  # fmt: skip

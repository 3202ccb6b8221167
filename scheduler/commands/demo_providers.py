"""The billing side of ``billing-sync demo``, one adapter per provider: which stand-in to start,
the settings that point at it, the story told in it (``standins.demo_*``) and the two bad links.

The demo itself (``demo.py``) only talks to a ``Provider``, so every step reads the same for
Stripe, Chargebee and Recurly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from metadata.billing_systems import BillingSystem, billing_system

__all__ = ["PROVIDERS", "Provider", "Story", "open_provider"]

PROVIDERS = ("stripe", "chargebee", "recurly")


class Story(Protocol):
    """What ``standins.demo_data.StripeDemo``, ``demo_chargebee.ChargebeeDemo`` and
    ``demo_recurly.RecurlyDemo`` offer (the stand-ins are not typed: this is the contract)."""

    world: Any

    def seed(self) -> Any: ...

    def apply_changes(self) -> list[tuple[str, str]]: ...

    def more_seats(self, company: str) -> bool: ...

    def close(self) -> None: ...


@dataclass
class Provider:
    key: str
    base_url: str
    env: dict[str, str]  # the billing settings; the Salesforce ones are added by the demo
    # The story over the engine's own billing client (scheduler.clients builds every client;
    # Stripe's story seeds through it, the others speak plain HTTP to their stand-in).
    make_story: Callable[[Any], Story]
    malformed: str  # an id the engine refuses before asking the provider
    unknown: str  # a well-formed id the provider does not know
    stack: ExitStack = field(default_factory=ExitStack)

    def start_story(self, client: Any) -> Story:
        story = self.make_story(client)
        self.stack.callback(story.close)
        return story

    @property
    def system(self) -> BillingSystem:
        return billing_system(self.key)

    @property
    def title(self) -> str:
        return self.system.label

    @property
    def id_label(self) -> str:
        """``Stripe Customer ID``, ``Recurly Account Code``: what an Account links with."""
        return self.system.account_field_label


@contextmanager
def open_provider(key: str) -> Iterator[Provider]:
    """The provider's stand-in, started, with its story ready to be seeded."""
    with ExitStack() as stack:
        if key == "chargebee":
            provider = _chargebee(stack)
        elif key == "recurly":
            provider = _recurly(stack)
        else:
            provider = _stripe(stack)
        # Stories close before their stand-ins stop.
        provider.stack = stack.enter_context(ExitStack())
        yield provider


def _stripe(stack: ExitStack) -> Provider:
    from standins.demo_data import StripeDemo
    from standins.stripe import StripeStandIn

    standin = stack.enter_context(StripeStandIn())
    env = {"STRIPE_API_KEY": standin.api_key, "STRIPE_API_BASE": standin.base_url}
    # Stripe's test clock starts at the wall clock; the other stand-ins' clocks are set so.
    return Provider(
        "stripe",
        standin.base_url,
        env,
        lambda client: StripeDemo(client, int(time.time())),
        "cus_ABC 123",
        "cus_DoesNotExist0001",
    )


def _chargebee(stack: ExitStack) -> Provider:
    from standins.chargebee import ChargebeeStandIn
    from standins.demo_chargebee import ChargebeeDemo

    _keep_chargebee_https_default(stack)
    standin = ChargebeeStandIn(api_key="test_demo_standin_key", site="billing-sync-demo")
    # The engine's clock is the wall clock: the stand-in's events must happen "now" for the
    # daemon's incremental cycles (whose cursor a full reconcile sets) to see them.
    standin.set_time(int(time.time()))
    standin.start()
    stack.callback(standin.stop)
    env = {
        "BILLING_PROVIDER": "chargebee",
        "CHARGEBEE_SITE": standin.site,
        "CHARGEBEE_API_KEY": standin.api_key,
        "CHARGEBEE_API_BASE": standin.api_base,
    }
    return Provider(
        "chargebee",
        standin.base_url,
        env,
        lambda _client: ChargebeeDemo(
            standin.api_base, standin.api_key, fail_payments=standin.fail_payments
        ),
        "has space",
        "does-not-exist-0001",
    )


def _keep_chargebee_https_default(stack: ExitStack) -> None:
    """``scheduler.clients.build_chargebee`` clears ``Chargebee.verify_ca_certs`` (a class
    attribute) for the stand-in's plain-http base; put it back when the demo ends, so a demo
    run inside a longer-lived process (the tests) leaves chargebee-python as it found it."""
    try:
        import chargebee
    except ImportError:  # reported when the client is built, with the install hint
        return
    before = chargebee.Chargebee.verify_ca_certs
    stack.callback(setattr, chargebee.Chargebee, "verify_ca_certs", before)


def _recurly(stack: ExitStack) -> Provider:
    from standins.demo_recurly import RecurlyDemo
    from standins.recurly import RecurlyStandIn

    standin = RecurlyStandIn(api_key="demo-recurly-standin-key")
    standin.set_time(int(time.time()))  # as for Chargebee: "now" is the wall clock
    standin.start(host="127.0.0.1", port=0)
    stack.callback(standin.stop)
    env = {
        "BILLING_PROVIDER": "recurly",
        "RECURLY_API_KEY": standin.api_key,
        "RECURLY_API_BASE": standin.base_url,
    }
    return Provider(
        "recurly",
        standin.base_url,
        env,
        lambda _client: RecurlyDemo(
            standin.base_url,
            standin.api_key,
            now=standin.now,
            fail_payments=standin.fail_payments,
            advance=standin.advance_time,
        ),
        "has/slash",
        "does-not-exist-0001",
    )

"""Demo data: a few dozen Stripe customers across every billing state, made with public
Stripe calls only (so the same code would run against Stripe test mode), and the Salesforce
Accounts that link to them — a couple of them badly."""

from __future__ import annotations

from dataclasses import dataclass, field

import stripe

__all__ = ["COMPANIES", "DAY", "DemoWorld", "StripeDemo", "apply_changes", "more_seats",
           "seed_stripe", "slug"]

DAY = 86_400

COMPANIES = [
    "Acme Corp", "Globex", "Initech", "Umbrella Health", "Stark Industries", "Wayne Logistics",
    "Wonka Foods", "Tyrell Systems", "Cyberdyne", "Soylent Labs", "Hooli", "Pied Piper",
    "Vandelay Imports", "Dunder Mifflin", "Prestige Worldwide", "Massive Dynamic",
    "Aperture Science", "Black Mesa", "Oscorp", "Gringotts", "Monsters Inc", "Duff Brewing",
    "Sterling Cooper", "Bluth Company", "Los Pollos Hermanos", "Kaiju Tokyo KK",
    "Nakatomi Trading", "Gekko & Co", "Rekall", "Weyland-Yutani",
]


@dataclass
class DemoWorld:
    clock: str = ""
    prices: dict[str, str] = field(default_factory=dict)
    customers: dict[str, str] = field(default_factory=dict)  # company -> cus_
    subscriptions: dict[str, str] = field(default_factory=dict)  # company -> sub_
    story: dict[str, str] = field(default_factory=dict)  # company -> what we set up


def slug(company: str) -> str:
    """A customer id or account code made from a company name: ``Acme Corp`` -> ``acme-corp``."""
    return "-".join("".join(c if c.isalnum() else " " for c in company.lower()).split())


def _price(client, product: str, **params) -> str:
    return client.v1.prices.create(params={"product": product, **params}).id


def _catalog(client: stripe.StripeClient, world: DemoWorld) -> None:
    starter = client.v1.products.create(params={"name": "Starter"}).id
    growth = client.v1.products.create(params={"name": "Growth"}).id
    scale = client.v1.products.create(params={"name": "Scale"}).id
    seats = client.v1.products.create(params={"name": "Extra seats"}).id
    api = client.v1.products.create(params={"name": "API calls (committed)"}).id
    jp = client.v1.products.create(params={"name": "Growth Japan"}).id
    monthly = {"interval": "month"}
    world.prices = {
        "starter": _price(client, starter, currency="usd", unit_amount=2900, recurring=monthly),
        "growth": _price(client, growth, currency="usd", unit_amount=9900, recurring=monthly),
        "scale_year": _price(client, scale, currency="usd", unit_amount=999000,
                             recurring={"interval": "year"}),
        "seat": _price(client, seats, currency="usd", unit_amount=1200, recurring=monthly),
        "api_graduated": _price(
            client, api, currency="usd", recurring=monthly, billing_scheme="tiered",
            tiers_mode="graduated",
            tiers=[{"up_to": 10, "unit_amount": 500}, {"up_to": "inf", "unit_amount": 300,
                                                       "flat_amount": 1000}]),
        "jpy": _price(client, jp, currency="jpy", unit_amount=10000, recurring=monthly),
    }


def _customer(client, world: DemoWorld, company: str, *, card: str | None = "pm_card_visa",
              story: str) -> str:
    params: dict = {"name": company, "test_clock": world.clock}
    if card:
        params["payment_method"] = card
        params["invoice_settings"] = {"default_payment_method": card}
    cid = client.v1.customers.create(params=params).id
    world.customers[company] = cid
    world.story[company] = story
    return cid


def _subscribe(client, world: DemoWorld, company: str, items: list[dict], **params) -> str:
    sid = client.v1.subscriptions.create(
        params={"customer": world.customers[company], "items": items, **params}).id
    world.subscriptions[company] = sid
    return sid


def _advance(client, world: DemoWorld, days: int) -> None:
    clock = client.v1.test_helpers.test_clocks.retrieve(world.clock)
    client.v1.test_helpers.test_clocks.advance(
        world.clock, params={"frozen_time": clock.frozen_time + days * DAY})


def seed_stripe(client: stripe.StripeClient, frozen_time: int) -> DemoWorld:
    world = DemoWorld()
    world.clock = client.v1.test_helpers.test_clocks.create(
        params={"frozen_time": frozen_time, "name": "billing-sync demo"}).id
    _catalog(client, world)
    p = world.prices
    names = iter(COMPANIES)

    for plan in ("starter", "starter", "growth", "growth", "growth", "starter"):
        company = next(names)
        _customer(client, world, company, story=f"active on {plan}")
        _subscribe(client, world, company, [{"price": p[plan]}])
    company = next(names)
    _customer(client, world, company, story="active, annual Scale plan")
    _subscribe(client, world, company, [{"price": p["scale_year"]}])
    company = next(names)
    _customer(client, world, company, story="Growth + 15 extra seats")
    _subscribe(client, world, company, [{"price": p["growth"]}, {"price": p["seat"],
                                                                  "quantity": 15}])
    company = next(names)
    _customer(client, world, company, story="graduated API tiers, 25 units")
    _subscribe(client, world, company, [{"price": p["api_graduated"], "quantity": 25}])
    company = next(names)
    coupon = client.v1.coupons.create(params={"percent_off": 20, "duration": "forever",
                                              "name": "Partner 20%"}).id
    _customer(client, world, company, story="Growth with a forever 20% coupon")
    _subscribe(client, world, company, [{"price": p["growth"]}],
               discounts=[{"coupon": coupon}])
    company = "Kaiju Tokyo KK"
    _customer(client, world, company, story="JPY plan, ¥10,000 a month")
    _subscribe(client, world, company, [{"price": p["jpy"]}])
    company = next(names)
    _customer(client, world, company, story="canceling at period end")
    _subscribe(client, world, company, [{"price": p["growth"]}], cancel_at_period_end=True)
    for _ in range(2):
        company = next(names)
        _customer(client, world, company, story="trialing, 14 days")
        _subscribe(client, world, company, [{"price": p["growth"]}], trial_period_days=14)
    company = next(names)
    _customer(client, world, company, card=None, story="trial without a card: pauses")
    _subscribe(client, world, company, [{"price": p["starter"]}], trial_period_days=3,
               trial_settings={"end_behavior": {"missing_payment_method": "pause"}})
    company = next(names)
    _customer(client, world, company, story="card declines at the next renewal")
    _subscribe(client, world, company, [{"price": p["growth"]}])
    _set_failing_card(client, world.customers[company])
    company = next(names)
    _customer(client, world, company, story="canceled: churned")
    client.v1.subscriptions.cancel(_subscribe(client, world, company, [{"price": p["starter"]}]))
    company = next(names)
    _customer(client, world, company, story="never subscribed")
    company = next(names)
    cid = _customer(client, world, company, story="customer deleted in Stripe")
    _subscribe(client, world, company, [{"price": p["starter"]}])
    client.v1.customers.delete(cid)
    # Five days on: the trial without a card pauses; the past-due renewal is not due yet.
    _advance(client, world, 5)
    # After the advance, or its first invoice would be 23 h old and expired.
    company = next(names)
    _customer(client, world, company, card="pm_card_chargeCustomerFail",
              story="first payment failed: incomplete")
    _subscribe(client, world, company, [{"price": p["starter"]}],
               payment_behavior="allow_incomplete")
    return world


def _set_failing_card(client, customer_id: str) -> None:
    # Attaching a test token creates a new PaymentMethod: use the id Stripe returns.
    pm = client.v1.payment_methods.attach("pm_card_chargeCustomerFail",
                                          params={"customer": customer_id})
    client.v1.customers.update(customer_id, params={
        "invoice_settings": {"default_payment_method": pm.id}})


def apply_changes(client: stripe.StripeClient, world: DemoWorld) -> list[tuple[str, str]]:
    """What happens between the two demo cycles: an upgrade, a failed payment, a
    cancellation and a re-subscription. Returns (company, change) pairs."""
    p = world.prices
    upgraded, failing, canceled = COMPANIES[0], COMPANIES[1], COMPANIES[2]
    sub = client.v1.subscriptions.retrieve(world.subscriptions[upgraded])
    client.v1.subscriptions.update(sub.id, params={
        "items": [{"id": sub["items"]["data"][0]["id"], "price": p["growth"]}]})
    _set_failing_card(client, world.customers[failing])
    client.v1.subscriptions.cancel(world.subscriptions[canceled])
    resubscriber = next(c for c, s in world.story.items() if s == "canceled: churned")
    _subscribe(client, world, resubscriber, [{"price": p["growth"]}])
    # A month on: renewals are invoiced; the failing cards make those subscriptions past due.
    _advance(client, world, 30)
    return [
        (upgraded, "upgraded Starter → Growth"),
        (failing, "card declined at renewal"),
        (canceled, "canceled"),
        (resubscriber, "re-subscribed to Growth"),
    ]


def more_seats(client: stripe.StripeClient, world: DemoWorld, company: str) -> bool:
    """Two more seats on a live, per-unit subscription; False when the company has none."""
    sid = world.subscriptions.get(company)
    if sid is None:
        return False
    sub = client.v1.subscriptions.retrieve(sid)
    item = sub["items"]["data"][0]
    if sub["status"] != "active" or item["price"]["billing_scheme"] != "per_unit":
        return False
    client.v1.subscriptions.update(sid, params={
        "items": [{"id": item["id"], "quantity": int(item["quantity"] or 1) + 2}],
        "proration_behavior": "none"})
    return True


class StripeDemo:
    """The Stripe story behind the interface the demo drives for every provider (see
    ``demo_chargebee.ChargebeeDemo``)."""

    title = "Stripe"

    def __init__(self, client: stripe.StripeClient, frozen_time: int) -> None:
        self.client, self.frozen_time = client, frozen_time
        self.world = DemoWorld()

    def seed(self) -> DemoWorld:
        self.world = seed_stripe(self.client, self.frozen_time)
        return self.world

    def apply_changes(self) -> list[tuple[str, str]]:
        return apply_changes(self.client, self.world)

    def more_seats(self, company: str) -> bool:
        return more_seats(self.client, self.world, company)

    def close(self) -> None:
        pass

"""Demo data for Chargebee: the same story as ``demo_data`` (Stripe) told with Chargebee's
public API v2 (Product Catalog 2.0) over plain HTTP, so it would run against a test site.

Plain ``requests`` rather than chargebee-python: the SDK builds an HTTP client per call, which
makes seeding a few dozen records slow. The one thing the API cannot do is make a card decline
(a test site does it with a gateway test card the stand-in does not model): that is the
``fail_payments`` callable the caller passes, the stand-in's own control.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from .demo_data import COMPANIES, DAY, DemoWorld, slug

__all__ = ["ChargebeeDemo", "form"]


def form(params: dict[str, Any]) -> dict[str, str]:
    """Chargebee's form encoding: ``rows[field][i]`` for lists of objects, ``ids[i]`` for
    lists of values, ``true``/``false`` for booleans."""
    out: dict[str, str] = {}
    for key, value in params.items():
        if isinstance(value, list):
            for i, item in enumerate(value):
                if isinstance(item, dict):
                    out |= {f"{key}[{f}][{i}]": _text(v) for f, v in item.items()}
                else:
                    out[f"{key}[{i}]"] = _text(item)
        elif value is not None:
            out[key] = _text(value)
    return out


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


class ChargebeeDemo:
    """One site's demo customers. ``world.subscriptions`` maps a company to its latest
    subscription id; ``world.customers`` to its customer id (the Account's link)."""

    title = "Chargebee"

    def __init__(self, api_base: str, api_key: str,
                 fail_payments: Callable[[str], None]) -> None:  # fmt: skip
        self.base = api_base
        self.http = requests.Session()
        self.http.auth = (api_key, "")
        self.fail_payments = fail_payments
        self.world = DemoWorld()

    def close(self) -> None:
        self.http.close()

    def post(self, path: str, **params: Any) -> dict[str, Any]:
        r = self.http.post(self.base + path, data=form(params), timeout=10)
        if r.status_code != 200:
            raise RuntimeError(f"Chargebee {path}: HTTP {r.status_code} {r.text[:300]}")
        return r.json()

    def get(self, path: str) -> dict[str, Any]:
        r = self.http.get(self.base + path, timeout=10)
        r.raise_for_status()
        return r.json()

    def now(self) -> int:
        return int(self.get("/time_machines/delorean")["time_machine"]["destination_time"])

    # the catalog ---------------------------------------------------------------------------
    def _catalog(self) -> None:
        self.post("/item_families", id="demo", name="Demo")
        items = (("starter", "Starter", "plan"), ("growth", "Growth", "plan"),
                 ("scale", "Scale", "plan"), ("api", "API calls (committed)", "plan"),
                 ("seats", "Extra seats", "addon"))  # fmt: skip
        for iid, name, kind in items:
            self.post("/items", id=iid, name=name, type=kind, item_family_id="demo")
        monthly = {"period_unit": "month", "period": 1}
        prices: dict[str, dict[str, Any]] = {
            "starter": {"item_id": "starter", "pricing_model": "per_unit", "price": 2900},
            "growth": {"item_id": "growth", "pricing_model": "per_unit", "price": 9900},
            "scale_year": {"item_id": "scale", "pricing_model": "flat_fee", "price": 999000,
                           "period_unit": "year", "period": 1},
            "seat": {"item_id": "seats", "pricing_model": "per_unit", "price": 1200},
            "api_tiered": {"item_id": "api", "pricing_model": "tiered", "tiers": [
                {"starting_unit": 1, "ending_unit": 10, "price": 500},
                {"starting_unit": 11, "price": 300}]},
            "jpy": {"item_id": "growth", "pricing_model": "per_unit", "price": 10000,
                    "currency_code": "JPY"},
        }  # fmt: skip
        for key, params in prices.items():
            pid = f"{key.replace('_', '-')}-price"
            self.post("/item_prices", id=pid, name=f"{key} price", **(monthly | params))
            self.world.prices[key] = pid
        self.post("/coupons/create_for_items", id="PARTNER20", name="Partner 20%",
                  discount_type="percentage", discount_percentage=20, duration_type="forever",
                  apply_on="invoice_amount")  # fmt: skip

    def _customer(self, company: str, story: str) -> str:
        cid = slug(company)
        self.post("/customers", id=cid, company=company)
        self.world.customers[company] = cid
        self.world.story[company] = story
        return cid

    def _subscribe(self, company: str, items: list[tuple[str, int | None]],
                   **params: Any) -> str:  # fmt: skip
        # A flat fee takes no quantity (None).
        rows = [{"item_price_id": self.world.prices[k], **({"quantity": q} if q else {})}
                for k, q in items]  # fmt: skip
        sub = self.post(f"/customers/{self.world.customers[company]}/subscription_for_items",
                        subscription_items=rows, **params)["subscription"]  # fmt: skip
        self.world.subscriptions[company] = sub["id"]
        return str(sub["id"])

    def seed(self) -> DemoWorld:
        self._catalog()
        now = self.now()
        names = iter(COMPANIES)
        for plan in ("starter", "starter", "growth", "growth", "growth", "starter"):
            company = next(names)
            self._customer(company, f"active on {plan}")
            self._subscribe(company, [(plan, 1)])
        company = next(names)
        self._customer(company, "active, annual Scale plan")
        self._subscribe(company, [("scale_year", None)])
        company = next(names)
        self._customer(company, "Growth + 15 extra seats (addon)")
        self._subscribe(company, [("growth", 1), ("seat", 15)])
        company = next(names)
        self._customer(company, "tiered API plan, 25 units")
        self._subscribe(company, [("api_tiered", 25)])
        company = next(names)
        self._customer(company, "Growth with a forever 20% coupon")
        self._subscribe(company, [("growth", 1)], coupon_ids=["PARTNER20"])
        company = "Kaiju Tokyo KK"
        self._customer(company, "JPY plan, ¥10,000 a month")
        self._subscribe(company, [("jpy", 1)])
        company = next(names)
        self._customer(company, "non_renewing: cancels at term end")
        sid = self._subscribe(company, [("growth", 1)])
        self.post(f"/subscriptions/{sid}/cancel_for_items", end_of_term=True)
        for _ in range(2):
            company = next(names)
            self._customer(company, "in_trial, 14 days")
            self._subscribe(company, [("growth", 1)], trial_end=now + 14 * DAY)
        company = next(names)
        self._customer(company, "paused")
        sid = self._subscribe(company, [("starter", 1)])
        self.post(f"/subscriptions/{sid}/pause", pause_option="immediately")
        company = next(names)
        cid = self._customer(company, "card declines at the next renewal")
        self._subscribe(company, [("growth", 1)])
        self.fail_payments(cid)
        company = next(names)
        self._customer(company, "cancelled: churned")
        sid = self._subscribe(company, [("starter", 1)])
        self.post(f"/subscriptions/{sid}/cancel_for_items")
        company = next(names)
        self._customer(company, "never subscribed")
        company = next(names)
        cid = self._customer(company, "customer deleted in Chargebee")
        sid = self._subscribe(company, [("starter", 1)])
        # Cancelled first: a deleted subscription keeps Chargebee's mrr, which the engine's
        # MRR cross-check would flag against our 0.00 (a false notice; see the demo's report).
        self.post(f"/subscriptions/{sid}/cancel_for_items")
        self.post(f"/customers/{cid}/delete")
        company = next(names)
        self._customer(company, "future: starts in 10 days")
        self._subscribe(company, [("starter", 1)], start_date=now + 10 * DAY)
        return self.world

    # what happens between the cycles -------------------------------------------------------
    def apply_changes(self) -> list[tuple[str, str]]:
        """An upgrade, a declined renewal, a cancellation and a re-subscription, then the
        Time Machine a month and a bit on (32 days: every monthly term renews once)."""
        w = self.world
        upgraded, failing, canceled = COMPANIES[0], COMPANIES[1], COMPANIES[2]
        self.post(f"/subscriptions/{w.subscriptions[upgraded]}/update_for_items",
                  subscription_items=[{"item_price_id": w.prices["growth"], "quantity": 1}])
        self.fail_payments(w.customers[failing])
        self.post(f"/subscriptions/{w.subscriptions[canceled]}/cancel_for_items")
        resubscriber = next(c for c, s in w.story.items() if s == "cancelled: churned")
        self._subscribe(resubscriber, [("growth", 1)])
        self.post("/time_machines/delorean/travel_forward", destination_time=self.now() + 32 * DAY)
        return [
            (upgraded, "upgraded Starter → Growth"),
            (failing, "card declined at renewal (due invoice)"),
            (canceled, "cancelled"),
            (resubscriber, "re-subscribed to Growth"),
        ]

    def more_seats(self, company: str) -> bool:
        """Two more seats on a live, paid-up, per-unit plan; False when it has none."""
        sid = self.world.subscriptions.get(company)
        if sid is None:
            return False
        sub = self.get(f"/subscriptions/{sid}")["subscription"]
        plan = next(i for i in sub["subscription_items"] if i["item_type"] == "plan")
        price = self.get(f"/item_prices/{plan['item_price_id']}")["item_price"]
        if sub["status"] != "active" or sub.get("due_invoices_count") or \
                price["pricing_model"] != "per_unit":  # fmt: skip
            return False
        self.post(f"/subscriptions/{sid}/update_for_items", subscription_items=[
            {"item_price_id": plan["item_price_id"], "quantity": int(plan["quantity"]) + 2}])
        return True

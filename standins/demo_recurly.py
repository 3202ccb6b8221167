"""Demo data for Recurly: the same story as ``demo_data`` (Stripe) told with Recurly's public
API v2021-02-25 over plain HTTP (the recurly SDK cannot be pointed at another host).

What the API offers for the story and what the stand-in does not model: a plan change is
``POST /subscriptions/{id}/change``, which the stand-in lacks, so the upgrade ends the Starter
subscription and buys Growth, and "two more seats" buys an Extra seats subscription; a declined
card (a sandbox test card) and moving time on (Recurly has no time machine) are the callables
the caller passes, the stand-in's own controls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from .demo_data import COMPANIES, DAY, DemoWorld, slug

__all__ = ["RecurlyDemo"]

ACCEPT = "application/vnd.recurly.v2021-02-25+json"


def _iso(ts: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


class RecurlyDemo:
    """One site's demo accounts. ``world.customers`` maps a company to its account code (the
    Account's link); ``world.subscriptions`` to its latest subscription id."""

    title = "Recurly"

    def __init__(self, base_url: str, api_key: str, *, now: Callable[[], int],
                 fail_payments: Callable[[str], None],
                 advance: Callable[[int], None]) -> None:  # fmt: skip
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.auth = (api_key, "")
        self.http.headers["Accept"] = ACCEPT
        self.now, self.fail_payments, self.advance = now, fail_payments, advance
        self.world = DemoWorld()

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        r = self.http.request(method, self.base + path, json=body, timeout=10)
        if r.status_code >= 300:
            raise RuntimeError(f"Recurly {method} {path}: HTTP {r.status_code} {r.text[:300]}")
        return r.json()

    # the catalog ---------------------------------------------------------------------------
    def _plan(self, code: str, name: str, amount: float, *, currency: str = "USD",
              months: int = 1, **extra: Any) -> None:  # fmt: skip
        self.call("POST", "/plans", {
            "code": code, "name": name, "interval_unit": "months", "interval_length": months,
            "currencies": [{"currency": currency, "unit_amount": amount}], **extra})

    def _catalog(self) -> None:
        self._plan("starter", "Starter", 29)
        self._plan("growth", "Growth", 99, add_ons=[{
            "code": "seat", "name": "Extra seat",
            "currencies": [{"currency": "USD", "unit_amount": 12}]}])
        self._plan("scale-year", "Scale", 9990, months=12)
        self._plan("seats", "Extra seats", 12)
        tiers = [{"ending_quantity": 10, "currencies": [{"currency": "USD", "unit_amount": 5}]},
                 {"currencies": [{"currency": "USD", "unit_amount": 3}]}]  # fmt: skip
        self._plan("api", "API platform", 10, add_ons=[
            {"code": "calls", "name": "API calls (committed)", "tier_type": "tiered",
             "tiers": tiers}])  # fmt: skip
        self._plan("growth-jp", "Growth Japan", 10000, currency="JPY")
        self.call("POST", "/coupons", {"code": "partner20", "name": "Partner 20%",
                                       "discount_type": "percent", "discount_percent": 20,
                                       "duration": "forever"})  # fmt: skip

    def _account(self, company: str, story: str) -> str:
        code = slug(company)
        self.world.customers[company] = code
        self.world.story[company] = story
        return code

    def _subscribe(self, company: str, plan: str, currency: str = "USD", **extra: Any) -> str:
        sub = self.call("POST", "/subscriptions", {
            "plan_code": plan, "currency": currency,
            "account": {"code": self.world.customers[company], "company": company}, **extra})
        self.world.subscriptions[company] = sub["id"]
        return str(sub["id"])

    def seed(self) -> DemoWorld:
        self._catalog()
        now = self.now()
        names = iter(COMPANIES)
        for plan in ("starter", "starter", "growth", "growth", "growth", "starter"):
            company = next(names)
            self._account(company, f"active on {plan}")
            self._subscribe(company, plan)
        company = next(names)
        self._account(company, "active, annual Scale plan")
        self._subscribe(company, "scale-year")
        company = next(names)
        self._account(company, "Growth + 15 extra seats (add-on)")
        self._subscribe(company, "growth", add_ons=[{"code": "seat", "quantity": 15}])
        company = next(names)
        self._account(company, "API plan, tiered add-on, 25 units")
        self._subscribe(company, "api", add_ons=[{"code": "calls", "quantity": 25}])
        company = next(names)
        self._account(company, "Growth with a forever 20% coupon")
        self._subscribe(company, "growth", coupon_codes=["partner20"])
        company = "Kaiju Tokyo KK"
        self._account(company, "JPY plan, ¥10,000 a month")
        self._subscribe(company, "growth-jp", currency="JPY")
        company = next(names)
        self._account(company, "canceled: live until the period ends")
        sid = self._subscribe(company, "growth")
        self.call("PUT", f"/subscriptions/{sid}/cancel")
        for _ in range(2):
            company = next(names)
            # 45 days, past the month the demo skips: a Recurly trial is trial_ends_at in the
            # future, which the engine judges by the wall clock, not the stand-in's.
            self._account(company, "trial, 45 days")
            self._subscribe(company, "growth", trial_ends_at=_iso(now + 45 * DAY))
        company = next(names)
        self._account(company, "pauses at the next renewal")
        sid = self._subscribe(company, "starter")
        self.call("PUT", f"/subscriptions/{sid}/pause", {"remaining_pause_cycles": 2})
        company = next(names)
        code = self._account(company, "card declines at the next renewal")
        self._subscribe(company, "growth")
        self.fail_payments(f"code-{code}")
        company = next(names)
        self._account(company, "terminated: churned")
        self.call("DELETE", f"/subscriptions/{self._subscribe(company, 'starter')}")
        company = next(names)
        code = self._account(company, "never subscribed")
        self.call("POST", "/accounts", {"code": code, "company": company})
        company = next(names)
        code = self._account(company, "account closed in Recurly")
        self._subscribe(company, "starter")
        self.call("DELETE", f"/accounts/code-{code}")
        company = next(names)
        self._account(company, "future: starts in 10 days")
        self._subscribe(company, "starter", starts_at=_iso(now + 10 * DAY))
        return self.world

    # what happens between the cycles -------------------------------------------------------
    def apply_changes(self) -> list[tuple[str, str]]:
        """An upgrade, a declined renewal, a cancellation and a re-subscription, then the
        clock a month and a bit on (32 days: every monthly period renews once)."""
        w = self.world
        upgraded, failing, canceled = COMPANIES[0], COMPANIES[1], COMPANIES[2]
        self.call("DELETE", f"/subscriptions/{w.subscriptions[upgraded]}")
        self._subscribe(upgraded, "growth")
        self.fail_payments(f"code-{w.customers[failing]}")
        self.call("DELETE", f"/subscriptions/{w.subscriptions[canceled]}")
        resubscriber = next(c for c, s in w.story.items() if s == "terminated: churned")
        self._subscribe(resubscriber, "growth")
        self.advance(32 * DAY)
        return [
            (upgraded, "moved Starter → Growth (Starter ended, Growth bought)"),
            (failing, "card declined at renewal (past-due invoice)"),
            (canceled, "terminated"),
            (resubscriber, "re-subscribed to Growth"),
        ]

    def more_seats(self, company: str) -> bool:
        """Two more seats (an Extra seats subscription) for an account with a live paid plan
        and nothing past due; False otherwise."""
        code = self.world.customers.get(company)
        sid = self.world.subscriptions.get(company)
        if code is None or sid is None:
            return False
        sub = self.call("GET", f"/subscriptions/{sid}")
        account = self.call("GET", f"/accounts/code-{code}")
        if sub["state"] != "active" or account.get("has_past_due_invoice"):
            return False
        self._subscribe(company, "seats", quantity=2)
        self.world.subscriptions[company] = sid  # the plan stays the company's subscription
        return True

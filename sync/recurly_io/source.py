"""Recurly billing source (API v2021-02-25): accounts' subscriptions as provider-neutral values.

The only module that reads Recurly (through ``RecurlyHttp``); its errors go through the one
table in ``errors`` and everything comes out as ``sync.model`` values (``convert``).

Call economy: every customer needs its *full* account (a subscription carries only a mini
account, without ``state`` or ``has_past_due_invoice``) and all of its subscriptions, ended
ones included (Churned vs No Subscription; the list endpoints return every state when no
``state`` is given, and no state filter selects "all"). Two ways, whichever costs fewer calls:
- ``per_customer``: ``GET /accounts/code-<code>`` (a 404 is an unknown code: nothing more is
  asked) then ``GET /accounts/code-<code>/subscriptions``: 2 calls a customer;
- ``list_all``: every subscription and every account on the site, 200 a page.
The site-wide totals come from the last full listing (``expected_subscriptions``) or from one
``HEAD`` each (``Recurly-Total-Records``), asked only when listing everything could win.
Plans, plan add-ons (only when a subscription's add-on carries no tiers of its own) and coupons
are fetched by id once per cycle and cached for it only. A reconcile that comes in slices
(``population``) has its strategy (and the ``HEAD`` counts behind it) chosen once for the whole
cycle; listing everything, the site is listed once and kept on disk for the cycle
(``listing``), each slice reading back its own customers.

Account codes (Recurly's rules, from its support article on creating accounts and the API
reference): at most 50 characters, unique on the site, fixed once set; they cannot start with
``.``, ``/``, ``-`` or ``;`` nor have ``/`` or ``;`` as second character, and a ``/`` or ``;``
anywhere could not travel in the ``code-<code>`` URL segment anyway. Lookups by code ignore
case (``ACME`` finds ``acme``), so what Recurly answers is keyed back to the code we asked
for. Codes breaking these rules, or carrying surrounding whitespace or control characters (a
paste into Salesforce, never a code), are refused before any request, for their Account only.

Rate limits: Recurly counts requests over a sliding 5-minute window and reports
``X-RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` on every answer. Once less than
``HEADROOM`` of the window is left we pause until ``-Reset`` (via the injected sleep), so a
sync never spends the last fifth a merchant's own integrations need; a 429 is retried by the
engine's backoff after ``Retry-After`` (or ``-Reset``) seconds.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from ..errors import SkipRecord
from ..model import BillingSnapshot, ChangeFeed, Customer, FetchStats
from ..retry import backoff_call
from . import errors
from .convert import Catalog, Unsupported, customer
from .events import FEEDS, hints
from .http import API_VERSION, RecurlyHttp, Reply
from .listing import CycleListing, fold

__all__ = ["API_VERSION", "HEADROOM", "PAGE", "RecurlySource", "choose_strategy", "refusal"]

PAGE = 200  # Recurly's largest page
HEADROOM = 0.2  # pause when less than this share of the rate-limit window is left
# Retry-After / X-RateLimit-Reset are honoured up to one rate-limit window (5 minutes).
RETRY_CAP = 300.0
_LEAD = frozenset("./-;")
_SECOND = frozenset("/;")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Calls are counted per endpoint template, as Recurly's reference names them.
TEMPLATE_ACCT = "/accounts/{account_id}"


def refusal(code: str) -> str | None:
    """Why ``code`` cannot be a Recurly account code, or None when it can."""
    if not code or len(code) > 50:
        return "Recurly account codes are 1 to 50 characters."
    if code != code.strip() or _CONTROL.search(code):
        return "Recurly account codes carry no surrounding spaces or control characters."
    if code[0] in _LEAD or code[1:2] in _SECOND or "/" in code or ";" in code:
        return (
            "Recurly account codes cannot start with . / - ; nor contain / or ; "
            "(see the Recurly account code rules)."
        )
    return None


def choose_strategy(customers: int, subscriptions: int, accounts: int) -> str:
    """``"list_all"`` when paging through every subscription and account on the site costs
    fewer calls than two per customer (``"per_customer"``)."""
    pages = math.ceil(max(subscriptions, 1) / PAGE) + math.ceil(max(accounts, 1) / PAGE)
    return "list_all" if pages < 2 * customers else "per_customer"


class RecurlySource:
    """Reads billing state for a set of Recurly account codes."""

    provider = "recurly"
    # A sliced reconcile's listing is listed once and kept on disk (``Spill``) for the cycle.
    keeps_listing = True

    def __init__(
        self,
        http: RecurlyHttp,
        *,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] | None = None,
    ):
        self.http = http
        self._sleep: Callable[[float], None] = sleep or time.sleep
        self._clock: Callable[[], float] = clock or time.time
        self._calls: Counter[str] = Counter()
        self.catalog = Catalog()
        self._add_ons_of: set[str] = set()  # plans whose add-ons this cycle's catalog holds
        # A sliced cycle's strategy, chosen on its first slice, and its listing on disk.
        self._cycle_strategy: str | None = None
        self._listing: CycleListing | None = None

    # -- public ---------------------------------------------------------------------------
    def begin_cycle(self) -> None:
        """Forget the catalog: a long-running daemon must see a renamed plan next cycle; and
        release the last cycle's listing."""
        self.catalog = Catalog()
        self._add_ons_of = set()
        self._cycle_strategy = None
        if self._listing is not None:
            self._listing.close()
            self._listing = None

    def changes(self, since: datetime) -> ChangeFeed:
        """Records updated at or after ``since``, oldest first, as hints (see ``events``)."""
        self._calls = Counter()
        begin = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # begin_time is inclusive
        params = {"sort": "updated_at", "order": "asc", "begin_time": begin}
        found = tuple(h for kind in FEEDS for h in hints(kind, self._list(f"/{kind}s", params)))
        return ChangeFeed(found, sum(self._calls.values()), API_VERSION)

    def fetch(
        self,
        customer_ids: Collection[str],
        *,
        expected_subscriptions: int | None = None,
        population: int | None = None,
    ) -> BillingSnapshot:
        """``population``: the customers of the whole cycle, asked for in slices: the
        strategy is chosen for all of them, and a full listing is made once per cycle, kept
        on disk and read back a slice at a time."""
        ids = sorted(set(customer_ids))
        if not ids:
            return BillingSnapshot()
        self._calls = Counter()
        sliced = population is not None and population > len(ids)
        refused = {cid: why for cid in ids if (why := refusal(cid)) is not None}
        asked = [cid for cid in ids if cid not in refused]
        if sliced and asked:
            if self._cycle_strategy is None:
                everyone = max(len(asked), population or 0)
                self._cycle_strategy = self._strategy(everyone, expected_subscriptions)
            strategy = self._cycle_strategy
        else:
            strategy = self._strategy(len(asked), expected_subscriptions)
        accounts: dict[str, dict[str, Any]] = {}
        subs: dict[str, list[dict[str, Any]]] = {cid: [] for cid in asked}
        listed = 0
        # Codes match ignoring case, so two Salesforce codes may name one account.
        wanted: dict[str, list[str]] = {}
        for cid in asked if strategy == "list_all" else ():
            wanted.setdefault(fold(cid), []).append(cid)
        if strategy == "list_all" and sliced:
            listing = self._cycle_listing()
            kept_subs, kept_accounts = listing.read(wanted)
            for key, cids in wanted.items():
                for cid in cids:
                    subs[cid] = list(kept_subs.get(key, ()))
                    if key in kept_accounts:
                        accounts[cid] = kept_accounts[key]
            listed = listing.listed
        elif strategy == "list_all":
            for sub in self._list("/subscriptions", {}):
                listed += 1
                for cid in wanted.get(fold((sub.get("account") or {}).get("code")), ()):
                    subs[cid].append(sub)
            for acct in self._list("/accounts", {}):
                for cid in wanted.get(fold(acct.get("code")), ()):
                    accounts[cid] = acct
        else:
            for cid in asked:
                try:
                    accounts[cid] = self._get(f"/accounts/code-{_seg(cid)}", {}, TEMPLATE_ACCT)
                except SkipRecord as exc:
                    if exc.http_status != 404:
                        refused[cid] = exc.message
                    continue
                path = f"/accounts/code-{_seg(cid)}/subscriptions"
                subs[cid] = list(self._list(path, {}, TEMPLATE_ACCT + "/subscriptions"))
                listed += len(subs[cid])
        now = datetime.fromtimestamp(self._clock(), UTC)
        self._load_catalog(s for cid in accounts for s in subs[cid])
        customers: dict[str, Customer] = {}
        for cid in accounts:
            try:
                found = customer(accounts[cid], subs[cid], self.catalog, now)
            except Unsupported as exc:
                refused[cid] = f"{exc}, which billing-sync cannot value yet."
                continue
            customers[cid] = _as_asked(found, cid)
        missing = frozenset(cid for cid in asked if cid not in accounts and cid not in refused)
        return BillingSnapshot(
            customers=customers,
            missing=missing,
            refused=refused,
            stats=FetchStats(strategy, listed, dict(self._calls)),
        )

    # -- strategy ---------------------------------------------------------------------------
    def _strategy(self, customers: int, expected_subscriptions: int | None) -> str:
        if customers == 0:
            return ""
        # Two pages at least for listing everything, plus a HEAD per unknown total: below
        # that, two calls a customer cannot lose and nothing is counted.
        heads = 1 + (expected_subscriptions is None)
        if 2 * customers <= 2 + heads:
            return "per_customer"
        subs = expected_subscriptions
        if subs is None:
            subs = self._count("/subscriptions")
        return choose_strategy(customers, subs, self._count("/accounts"))

    def _count(self, path: str) -> int:
        reply = self._request("HEAD", path, {}, path)
        try:
            return int(reply.headers.get("Recurly-Total-Records", ""))
        except ValueError:
            return 1 << 30  # no count: assume the site is too big to list whole

    # -- HTTP ------------------------------------------------------------------------------
    def _request(self, method: str, path: str, params: Mapping[str, str], template: str) -> Reply:
        send = self.http.head if method == "HEAD" else self.http.get

        def once() -> Reply:
            self._calls[f"{method} {template}"] += 1
            return errors.call(lambda: send(path, params), now=self._clock)

        reply = backoff_call(once, sleep=self._sleep, cap=RETRY_CAP)
        self._pace(reply.headers)
        return reply

    def _get(self, path: str, params: Mapping[str, str], template: str) -> dict[str, Any]:
        body = self._request("GET", path, params, template).body
        if not isinstance(body, dict):
            raise errors.translate(errors.BadReply("a JSON value that is not an object"))
        return body

    def _list(
        self, path: str, params: Mapping[str, str], template: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every record of a list, following ``next`` (a path with its own cursor query)."""
        for data in self._pages(path, params, template):
            yield from data

    def _pages(
        self, path: str, params: Mapping[str, str] | None = None, template: str | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """The pages of a list, one call each, fetched as the caller asks for the next."""
        query = {**(params or {}), "limit": str(PAGE)}
        page: dict[str, Any] = self._get(path, query, template or path)
        while True:
            yield page.get("data") or []
            nxt = page.get("next")
            if not page.get("has_more") or not nxt:
                return
            page = self._get(str(nxt), {}, template or path)

    def _cycle_listing(self) -> CycleListing:
        if self._listing is None:
            self._listing = CycleListing(self._pages)
        return self._listing

    def _pace(self, headers: Mapping[str, str]) -> None:
        """Stay under 80% of the window: with less than ``HEADROOM`` left, wait for -Reset."""
        try:
            limit = int(headers.get("X-RateLimit-Limit", ""))
            remaining = int(headers.get("X-RateLimit-Remaining", ""))
            reset = float(headers.get("X-RateLimit-Reset", ""))
        except ValueError:
            return
        if limit > 0 and remaining < limit * HEADROOM:
            wait = min(max(0.0, reset - self._clock()), RETRY_CAP)
            if wait > 0:
                self._sleep(wait)

    # -- catalog: plans, plan add-ons, coupons, fetched once per cycle ----------------------
    def _load_catalog(self, subs: Iterable[dict[str, Any]]) -> None:
        cat = self.catalog
        plans: set[str] = set()
        add_on_plans: set[str] = set()
        coupons: set[str] = set()
        for sub in subs:
            plan = str((sub.get("plan") or {}).get("id") or "")
            plans.add(plan)
            for line in sub.get("add_ons") or []:
                mini = line.get("add_on") or {}
                tiered = str(line.get("tier_type") or "flat") != "flat"
                if tiered and not line.get("tiers") and mini.get("add_on_type") != "usage":
                    add_on_plans.add(plan)
            for red in sub.get("coupon_redemptions") or []:
                coupons.add(str((red.get("coupon") or {}).get("id") or ""))
        for pid in sorted(plans - cat.plans.keys() - {""}):
            cat.plans[pid] = self._get(f"/plans/{_seg(pid)}", {}, "/plans/{plan_id}")
        for pid in sorted(add_on_plans - self._add_ons_of - {""}):
            path = f"/plans/{_seg(pid)}/add_ons"
            for add_on in self._list(path, {}, "/plans/{plan_id}/add_ons"):
                cat.add_ons[str(add_on["id"])] = add_on
            self._add_ons_of.add(pid)
        for cid in sorted(coupons - cat.coupons.keys() - {""}):
            cat.coupons[cid] = self._get(f"/coupons/{_seg(cid)}", {}, "/coupons/{coupon_id}")


def _seg(value: str) -> str:
    """One URL path segment: everything but unreserved characters percent-encoded."""
    return quote(value, safe="")


def _as_asked(found: Customer, cid: str) -> Customer:
    """Recurly matched ``cid`` ignoring case: key the customer by the code Salesforce holds."""
    if found.id == cid:
        return found
    subs = tuple(replace(s, customer_id=cid) for s in found.subscriptions)
    return replace(found, id=cid, subscriptions=subs)

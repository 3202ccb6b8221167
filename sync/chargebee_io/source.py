"""Chargebee billing source: reads customers' subscriptions and returns provider-neutral values.

The only module that talks to Chargebee (through chargebee-python's public resource calls,
each reply kept as the JSON dict the SDK parsed, ``raw_data``); its errors go through the one
table in ``errors`` and everything comes out as ``sync.model`` values (``convert``).

Call economy, as for Stripe: either one listing of every subscription on the site
(``include_deleted``, 100 a page) or listings filtered by ``customer_id[in]`` (100 ids a
call), whichever is fewer calls. Item prices, items and coupons are fetched by ``id[in]``
once per cycle and cached for it only. A reconcile that comes in slices (``population``) has
its strategy chosen once for the whole cycle; listing everything, the site is listed once and
kept on disk for the cycle (``listing``), each slice reading back its own customers.
Customers without a subscription are looked up with ``include_deleted`` to tell "never had
one" from "deleted" from "no such customer".

Ids are checked against Chargebee's id alphabet before they are sent: a malformed id typed
into Salesforce is refused for its Account alone instead of spoiling a 100-id filter. A
batch Chargebee still refuses is asked again id by id, which names the one it refuses.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterator
from datetime import datetime
from typing import Any

from ..errors import RetryLater, SkipRecord
from ..model import BillingSnapshot, ChangeFeed, Customer, FetchStats
from ..retry import backoff_call
from . import errors
from .convert import Catalog, Unsupported, subscription
from .events import hints
from .limiter import RateLimiter
from .listing import CycleListing

__all__ = ["API_VERSION", "ChargebeeSource", "choose_strategy"]

PAGE = 100
IN_CHUNK = 100  # ids per ``[in]`` filter: one full page of answers for one-subscription ids
API_VERSION = "v2"
# Chargebee's id alphabet (customers, item prices, coupons), at most 50 characters.
CUSTOMER_ID = re.compile(r"[A-Za-z0-9_\-.@~]{1,50}")
# Without a known site-wide total, a few batches are cheaper than a site that might hold
# millions of subscriptions paged in full.
UNKNOWN_TOTAL_CUTOFF = 20 * IN_CHUNK
# Every subscription on the site, deleted ones too (a deleted customer's last state).
LIST_ALL = {"include_deleted": True}


def choose_strategy(customers: int, expected_subscriptions: int | None) -> str:
    """``"list_all"`` when paging through every subscription on the site costs fewer calls
    than the ``customer_id[in]`` batches (``"per_customer"``)."""
    batches = math.ceil(customers / IN_CHUNK)
    if expected_subscriptions is None:
        return "per_customer" if customers <= UNKNOWN_TOTAL_CUTOFF else "list_all"
    pages = math.ceil(max(expected_subscriptions, 1) / PAGE)
    return "list_all" if pages < batches else "per_customer"


class ChargebeeSource:
    """Reads billing state for a set of Chargebee customer ids."""

    provider = "chargebee"
    # A sliced reconcile's listing is listed once and kept on disk (``Spill``) for the cycle.
    keeps_listing = True

    def __init__(
        self,
        client: Any,
        *,
        sleep: Callable[[float], None] | None = None,
        limiter: RateLimiter | None = None,
    ):
        self.client = client  # a chargebee.Chargebee
        self._sleep: Callable[[float], None] = sleep or time.sleep
        # Without one given, the lowest limit Chargebee has (a test site's), on real time.
        self.limiter = limiter or RateLimiter(sleep=self._sleep)
        self._calls: Counter[str] = Counter()
        self.catalog = Catalog()
        # A sliced cycle's strategy, chosen on its first slice, and its listing on disk.
        self._cycle_strategy: str | None = None
        self._listing: CycleListing | None = None

    # -- public ---------------------------------------------------------------------------
    def begin_cycle(self) -> None:
        """Forget the catalog: a long-running daemon must see a renamed item next cycle; and
        release the last cycle's listing."""
        self.catalog = Catalog()
        self._cycle_strategy = None
        if self._listing is not None:
            self._listing.close()
            self._listing = None

    def changes(self, since: datetime) -> ChangeFeed:
        """Events that occurred at or after ``since``, oldest first, as hints."""
        self._calls = Counter()
        # occurred_at[after] is strict: one second earlier keeps an event at ``since``.
        params = {
            "occurred_at": {"after": int(since.timestamp()) - 1},
            "sort_by": {"asc": "occurred_at"},
        }
        found = tuple(hints(e["event"] for e in self._list("Event", "events", params)))
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
        refused = {
            cid: "Chargebee ids are 1 to 50 letters, digits and - _ . @ ~ only."
            for cid in ids
            if not CUSTOMER_ID.fullmatch(cid)
        }
        asked = [cid for cid in ids if cid not in refused]
        if sliced:
            if self._cycle_strategy is None:
                everyone = max(len(asked), population or 0)
                self._cycle_strategy = choose_strategy(everyone, expected_subscriptions)
            strategy = self._cycle_strategy
        else:
            strategy = choose_strategy(len(asked), expected_subscriptions)
        entries: dict[str, list[dict[str, Any]]] = {cid: [] for cid in asked}
        people: dict[str, dict[str, Any]] = {}
        listed = 0
        if strategy == "list_all" and sliced:
            listing = self._cycle_listing()
            for kept in listing.entries(asked).values():
                for entry in kept:
                    _take(entry, entries, people)
            listed = listing.listed
        elif strategy == "list_all":
            wanted = set(asked)
            for entry in self._list("Subscription", "subscriptions", LIST_ALL):
                listed += 1
                if entry["subscription"]["customer_id"] in wanted:
                    _take(entry, entries, people)
        else:
            for entry in self._batched(
                "Subscription", "subscriptions", "customer_id", asked, refused
            ):
                listed += 1
                _take(entry, entries, people)
        alone = [cid for cid in asked if not entries.get(cid) and cid not in refused]
        for entry in self._batched("Customer", "customers", "id", alone, refused):
            people[entry["customer"]["id"]] = entry["customer"]
        self._load_catalog(entries)
        customers: dict[str, Customer] = {}
        missing: set[str] = set()
        for cid in asked:
            if cid in refused:
                continue
            if cid not in people:
                missing.add(cid)
                continue
            who = people[cid]
            try:
                subs = tuple(subscription(s, self.catalog) for s in entries.get(cid, []))
            except Unsupported as exc:
                refused[cid] = f"{exc}, which billing-sync cannot value yet."
                continue
            name = " ".join(str(who.get(k)) for k in ("first_name", "last_name") if who.get(k))
            customers[cid] = Customer(
                id=cid,
                deleted=bool(who.get("deleted")),
                name=who.get("company") or name or None,
                subscriptions=subs,
            )
        return BillingSnapshot(
            customers=customers,
            missing=frozenset(missing),
            refused=refused,
            stats=FetchStats(strategy, listed, dict(self._calls)),
        )

    # -- HTTP ------------------------------------------------------------------------------
    def _page(
        self, resource: str, path: str, params: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], str | None]:
        service = getattr(self.client, resource)

        def read() -> tuple[list[dict[str, Any]], str | None]:
            reply = service.list(params)
            # Every entry as the JSON the SDK parsed: {"subscription": {...}, "customer": ...}
            rows = [
                {k: v.raw_data for k, v in vars(e).items() if hasattr(v, "raw_data")}
                for e in reply.list
            ]
            return rows, reply.next_offset

        def once() -> tuple[list[dict[str, Any]], str | None]:
            self.limiter.acquire()
            self._calls[f"GET /api/v2/{path}"] += 1
            try:
                return errors.call(read)
            except RetryLater as exc:
                # backoff_call caps its wait at seconds; a 429's Retry-After may ask for up to
                # a minute, so the limiter makes the next attempt wait out the rest.
                if exc.retry_after:
                    self.limiter.hold(exc.retry_after)
                raise

        return backoff_call(once, sleep=self._sleep)

    def _list(self, resource: str, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for rows in self._pages(resource, path, params):
            yield from rows

    def _pages(
        self, resource: str, path: str, params: dict[str, Any]
    ) -> Iterator[list[dict[str, Any]]]:
        """The pages of a list, one call each, fetched as the caller asks for the next."""
        offset: str | None = None
        while True:
            page_params = {**params, "limit": PAGE}
            if offset:
                page_params["offset"] = offset
            rows, offset = self._page(resource, path, page_params)
            yield rows
            if not offset or not rows:
                return

    def _cycle_listing(self) -> CycleListing:
        if self._listing is None:
            self._listing = CycleListing(
                lambda: self._pages("Subscription", "subscriptions", LIST_ALL)
            )
        return self._listing

    def _batched(
        self, resource: str, path: str, key: str, ids: list[str], refused: dict[str, str]
    ) -> Iterator[dict[str, Any]]:
        """Entries whose ``key`` is one of ``ids``, ``IN_CHUNK`` ids a filter; a refused
        batch is asked again id by id, and an id refused alone lands in ``refused``."""
        extra = {"include_deleted": True}
        for start in range(0, len(ids), IN_CHUNK):
            chunk = ids[start : start + IN_CHUNK]
            try:
                yield from list(self._list(resource, path, {key: {"in": chunk}, **extra}))
            except SkipRecord as exc:
                if len(chunk) == 1:
                    refused[chunk[0]] = exc.message
                    continue
                for cid in chunk:
                    yield from self._batched(resource, path, key, [cid], refused)

    # -- catalog: item prices, items, coupons, fetched once per cycle -----------------------
    def _load_catalog(self, entries: dict[str, list[dict[str, Any]]]) -> None:
        prices: set[str] = set()
        coupons: set[str] = set()
        for subs in entries.values():
            for sub in subs:
                prices |= {i["item_price_id"] for i in sub.get("subscription_items") or []}
                coupons |= {c["coupon_id"] for c in sub.get("coupons") or []}
        cat = self.catalog
        self._fill(cat.prices, "ItemPrice", "item_prices", "item_price", prices)
        items = {str(p.get("item_id")) for p in cat.prices.values() if p.get("item_id")}
        self._fill(cat.items, "Item", "items", "item", items)
        self._fill(cat.coupons, "Coupon", "coupons", "coupon", coupons)

    def _fill(
        self, cache: dict[str, dict[str, Any]], resource: str, path: str, key: str, needed: set[str]
    ) -> None:
        wanted = sorted(i for i in needed - cache.keys() if CUSTOMER_ID.fullmatch(i))
        for start in range(0, len(wanted), IN_CHUNK):
            chunk = wanted[start : start + IN_CHUNK]
            for entry in self._list(resource, path, {"id": {"in": chunk}}):
                cache[entry[key]["id"]] = entry[key]
        for oid in wanted:
            # A deleted catalog object is not listed: its subscriptions still carry their own
            # prices, so it is valued from them rather than asked for again.
            cache.setdefault(oid, {"id": oid})


def _take(
    entry: dict[str, Any],
    entries: dict[str, list[dict[str, Any]]],
    people: dict[str, dict[str, Any]],
) -> None:
    """One listed entry into its customer's subscriptions, and the customer it carries."""
    sub = entry["subscription"]
    entries.setdefault(sub["customer_id"], []).append(sub)
    people[sub["customer_id"]] = entry.get("customer") or {}

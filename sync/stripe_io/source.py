"""Stripe billing source: reads customers' subscriptions and returns provider-neutral values.

This is the only module that sees Stripe objects. Stripe's errors go through the one table in
``errors``; everything comes out as ``sync.model`` values.

Call economy: either one ``status=all`` listing of every subscription in the account (100 a
page) or one listing per customer, whichever is fewer calls; products, coupons and tiered
prices are fetched once per fetch (a cycle) and cached for it only, so a long-running daemon
sees a renamed product on its next cycle.

Replies are read as JSON straight into dicts (``raw``); ``raw=False`` reads the same requests
through stripe-python's services and StripeObjects, kept to compare the two.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator, Iterable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

import stripe

from ..errors import SkipRecord
from ..model import (
    BillingSnapshot,
    ChangeFeed,
    Customer,
    FetchStats,
)
from .calls import StripeCalls
from .catalog import Catalog, catalog_needs
from .customers import LISTING_CUTOFF, find_listed
from .events import EVENT_TYPES, hints
from .fanout import fan_out
from .listing import CycleListing
from .pacing import Pacer
from .partition import Partitioning, newest_first
from .raw import RawReader
from .strategy import PAGE, choose_strategy

__all__ = ["StripeSource", "choose_strategy"]

log = logging.getLogger(__name__)

# Item discounts sit at depth 4 (data.items.data.discounts): the most Stripe allows, so
# coupons behind them are fetched separately and cached.
EXPAND = ["data.discounts", "data.items.data.discounts"]
COUPON_RETRIEVE_LIMIT = 3


class StripeSource:
    """Reads billing state for a set of Stripe customer ids."""

    provider = "stripe"
    # A sliced reconcile's listing is listed once and kept on disk (``Spill``) for the cycle.
    keeps_listing = True

    def __init__(
        self,
        client: stripe.StripeClient,
        *,
        sleep: Callable[[float], None] | None = None,
        raw: bool = True,
        pacer: Pacer | None = None,
        list_concurrency: int = 1,
    ):
        self.client = client
        reader = RawReader(client) if raw else None
        self._http = StripeCalls(client, reader, sleep or time.sleep, pacer)
        # Threads reading the account's subscription listing (by ``created`` ranges).
        self._partitioning = Partitioning(concurrency=max(1, list_concurrency))
        # The same number of threads for per-customer calls (listings, retrieves).
        self._threads = self._partitioning.concurrency
        self._expected: int | None = None  # about how many subscriptions the listing holds
        self._linked = 0  # the customers linked in the whole cycle
        self._catalog = Catalog()
        self._customers_listed = 0
        # One cycle's listings on disk, when its customers come in slices.
        self._listing: CycleListing | None = None
        self._asked = 0  # customers asked for so far this cycle
        self._cycle_strategy: str | None = None  # a sliced cycle's, chosen on its first slice

    @property
    def raw(self) -> RawReader | None:
        """The JSON reader, or None when replies go through stripe-python's objects."""
        return self._http.raw

    @raw.setter
    def raw(self, reader: RawReader | None) -> None:
        self._http.raw = reader

    # -- public ---------------------------------------------------------------------------
    def begin_cycle(self) -> None:
        """Forget the catalog: a long-running daemon must see a renamed product next cycle."""
        self._catalog = Catalog()
        if self._listing is not None:
            self._listing.close()
            self._listing = None
        self._asked = 0
        self._cycle_strategy = None

    def changes(self, since: datetime) -> ChangeFeed:
        """Events created at or after ``since``, as hints (ids only, never billing values)."""
        self._http.reset()
        params = {"types": list(EVENT_TYPES), "created": {"gte": int(since.timestamp())}}
        found = tuple(hints(self._list("events", params)))
        return ChangeFeed(found, sum(self._http.counts.values()), stripe.api_version)

    def fetch(
        self,
        customer_ids: Iterable[str],
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
        self._http.reset()
        # The partitioned listing's split points: the last listing's total, else one a
        # linked customer.
        self._linked = max(len(ids), population or 0)
        self._expected = expected_subscriptions or self._linked
        sliced = population is not None and population > len(ids)
        # A customer-listing page kept for later slices serves them too: each customer of
        # this slice stands for this many of those the cycle has still to ask for.
        weight = max(1.0, ((population or 0) - self._asked) / len(ids)) if sliced else None
        self._asked += len(ids)
        # Chosen once per sliced cycle: once the first slice has listed the account (and
        # recorded its total), asking later slices' customers one by one would only add calls.
        strategy = (self._cycle_strategy if sliced else None) or choose_strategy(
            max(len(ids), population or 0), expected_subscriptions
        )
        if sliced:
            self._cycle_strategy = strategy
        wanted = set(ids)
        raw: dict[str, list[dict[str, Any]]] = {cid: [] for cid in ids}
        refused: dict[str, str] = {}
        missing: set[str] = set()
        if strategy == "list_all" and sliced:
            listing = self._cycle_listing()
            raw.update(listing.subscriptions(ids))
            listed = listing.subscriptions_listed
        elif strategy == "list_all":
            listed = 0
            # Counted as they stream past: most of the account's subscriptions are not kept.
            for data in self._subscription_pages({"status": "all", "expand": EXPAND}):
                listed += len(data)
                for sub in data:
                    if sub["customer"] in wanted:
                        raw[sub["customer"]].append(sub)
            if self._partitioning.concurrency > 1:
                for subs in raw.values():
                    newest_first(subs)
        else:
            each = fan_out(self._own_subscriptions, ids, self._threads)
            for cid, own in zip(ids, each, strict=True):
                if isinstance(own, SkipRecord):
                    # Stripe refuses to list for an id it rejects (400): that Account's problem.
                    if own.code == "resource_missing":
                        missing.add(cid)
                    else:
                        refused[cid] = own.message
                else:
                    raw[cid] = own
            listed = sum(len(v) for v in raw.values())

        customers: dict[str, Customer] = {}
        bare = [c for c in ids if not raw[c] and c not in missing and c not in refused]
        retrieved = self._find_customers(bare, weight=weight)
        # Not found by the listing (nor worth one): each retrieved, to tell "never had a
        # subscription" from "deleted" from "no such customer".
        rest = [c for c in bare if c not in retrieved]
        retrieved.update(zip(rest, fan_out(self._customer, rest, self._threads), strict=True))
        if strategy == "list_all":
            # In test mode account-wide lists leave out subscriptions on test clocks: ask
            # for such a customer's own.
            for cid in rest:
                if (retrieved[cid] or {}).get("test_clock"):
                    own = self._own_subscriptions(cid)
                    if isinstance(own, SkipRecord):
                        raise own
                    raw[cid] = own
        self._load_catalog(raw)
        for cid in ids:
            if cid in missing or cid in refused:
                continue
            subs = raw[cid]
            if subs:
                customers[cid] = Customer(
                    id=cid, subscriptions=tuple(self._catalog.subscription(s) for s in subs)
                )
                continue
            found = retrieved[cid]
            if found is None:
                missing.add(cid)
            else:
                customers[cid] = Customer(
                    id=cid, deleted=bool(found.get("deleted")), name=found.get("name")
                )
        return BillingSnapshot(
            customers=customers,
            missing=frozenset(missing),
            refused=refused,
            stats=FetchStats(strategy, listed, dict(self._http.counts), self._customers_listed),
        )

    # -- HTTP ------------------------------------------------------------------------------
    def _get(
        self, label: str, path: str, params: dict[str, Any], sdk: Callable[[], Any]
    ) -> dict[str, Any]:
        return self._http.get(label, path, params, sdk)

    def _own_subscriptions(self, cid: str) -> list[dict[str, Any]] | SkipRecord:
        """One customer's subscriptions, or what Stripe refused about the customer."""
        params = {"customer": cid, "status": "all", "expand": EXPAND}
        try:
            return list(self._list("subscriptions", params))
        except SkipRecord as exc:
            return exc

    def _customer(self, cid: str) -> dict[str, Any] | None:
        return self._retrieve("customers", cid)

    def _list(self, resource: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        for data in self._http.pages(resource, params):
            yield from data

    def _subscription_pages(self, params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """The account's whole subscription listing, partitioned when concurrent."""
        return self._http.listing("subscriptions", params, self._partitioning, self._expected)

    def _find_customers(
        self, wanted: list[str], *, weight: float | None = None
    ) -> dict[str, dict[str, Any] | None]:
        """Of ``wanted`` (customers with no subscription), those the customer listing finds,
        while listing is the cheaper way (``customers.keep_listing``); the caller retrieves
        the rest. A few are not worth a listing: none is found that way.

        Sliced (``weight``), the listing goes on where the last slice left it, its pages kept
        on disk: no page is read twice in a cycle."""
        self._customers_listed = 0
        if len(wanted) <= LISTING_CUTOFF:
            return {}
        todo = set(wanted)
        if weight is not None:
            kept, self._customers_listed = self._cycle_listing().find_customers(todo, weight)
            return kept
        found: dict[str, dict[str, Any] | None] = {}
        pages = self._customer_pages()
        try:
            self._customers_listed = find_listed(pages, todo, found)
        finally:
            pages.close()
        return found

    def _customer_pages(self) -> Generator[list[dict[str, Any]], None, None]:
        # Customers are about as many as linked Accounts: the estimate for split points.
        how, linked = self._partitioning, self._linked
        return self._http.listing("customers", {}, how, linked, stoppable=True)

    def _cycle_listing(self) -> CycleListing:
        if self._listing is None:
            self._listing = CycleListing(
                self._customer_pages,
                self._subscription_pages,
                EXPAND,
                ordered=self._partitioning.concurrency <= 1,
            )
        return self._listing

    def _retrieve(
        self, resource: str, obj_id: str, params: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        service = getattr(self.client.v1, resource)
        # The id quoted as stripe-python's services quote it: an id typed into Salesforce
        # must not change the path.
        path = f"/v1/{resource}/{quote_plus(obj_id)}"
        try:
            return self._get(
                f"GET /v1/{resource}/:id",
                path,
                params or {},
                lambda: service.retrieve(obj_id, params=params or {}),
            )
        except SkipRecord as exc:
            if exc.code == "resource_missing":
                return None
            raise

    # -- catalog: products, coupons, tiers, fetched once per cycle ---------------------------
    def _load_catalog(self, raw: dict[str, list[dict[str, Any]]]) -> None:
        products, coupons, tiered = catalog_needs(raw)
        self._fill_products(products - self._catalog.products.keys())
        self._fill_coupons(coupons - self._catalog.coupons.keys())
        for price_id in sorted(tiered - self._catalog.tiers.keys()):
            price = self._retrieve("prices", price_id, {"expand": ["tiers"]})
            self._catalog.tiers[price_id] = (price or {}).get("tiers") or []

    def _fill_products(self, needed: set[str]) -> None:
        """Products by id, 100 a call through the list's ``ids`` filter."""
        ordered = sorted(needed)
        for start in range(0, len(ordered), PAGE):
            chunk = ordered[start : start + PAGE]

            def list_products(c: list[str] = chunk) -> Any:
                return self.client.v1.products.list(params={"ids": c, "limit": PAGE})

            params = {"ids": chunk, "limit": PAGE}
            page = self._get("GET /v1/products", "/v1/products", params, list_products)
            for obj in page.get("data", []):
                self._catalog.products[obj["id"]] = obj
        for product_id in ordered:
            self._catalog.products.setdefault(product_id, {"id": product_id, "name": product_id})

    def _fill_coupons(self, needed: set[str]) -> None:
        """Coupons have no ids filter: a few by id, more by listing them all (usually one page;
        a deleted coupon still applies to the discounts made from it, so fetch it by id)."""
        if len(needed) > COUPON_RETRIEVE_LIMIT:
            for obj in self._list("coupons", {}):
                self._catalog.coupons[obj["id"]] = obj
        for coupon_id in sorted(needed - self._catalog.coupons.keys()):
            found = self._retrieve("coupons", coupon_id)
            self._catalog.coupons[coupon_id] = found or {"id": coupon_id}

"""The benchmark's stand-ins, served from a process of their own.

The engine's CPU time and peak RSS are read in the engine's process: with the stand-ins in
that process too, their request handling (and their seeded data, hundreds of MB at 100,000
Accounts) would be counted as the engine's. ``StandInProcess`` starts both stand-ins in a
child process and drives them through a pipe: seeding, latency, counters, the pinned clock,
changes made through the public Stripe API, and the facts of the seeded data the call budget
is computed from.
"""

from __future__ import annotations

import multiprocessing
import random
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import SimpleNamespace
from typing import Any

__all__ = ["DataFacts", "StandInProcess"]

# Stripe statuses whose neutral state is "ended" (sync.core.status): not live for the MRR
# rollup, so they cannot make a customer's currencies mixed.
ENDED = frozenset({"canceled", "incomplete_expired"})


@dataclass(frozen=True)
class DataFacts:
    """What the seeded data holds, read from the stand-ins' stores, never from the engine."""

    accounts: int  # linked Accounts
    stripe_subscriptions: int  # in the whole Stripe account, every status
    linked_subscriptions: int  # of the linked customers
    customers_without_subs: int  # linked customers with no subscription at all
    stripe_customers: int  # customers in the whole Stripe account, not deleted
    # Customers the newest-first customer listing shows up to and including the last linked
    # customer without a subscription: the pages a listing needs to find them all.
    listing_depth: int
    products: int  # distinct products the linked customers' subscriptions use
    mixed_currency: frozenset[str]  # customers whose live subscriptions mix currencies
    sf_subscriptions: int  # Subscription__c rows in the org
    open_errors: int  # Sync_Error__c rows in the org


class _Server:
    """Runs in the child: both stand-ins and the commands the parent sends."""

    def __init__(self, workdir: Path) -> None:
        import stripe

        from standins.salesforce import SalesforceStandIn
        from standins.stripe import StripeStandIn

        self.stripe_standin = StripeStandIn()
        self.stripe_standin.start()
        self.sf = SalesforceStandIn(workdir / "sf")
        self.sf.start()
        # Changes go through the public API so that Stripe emits the events the daemon reads.
        self.client = stripe.StripeClient(
            self.stripe_standin.api_key,
            base_addresses={"api": self.stripe_standin.base_url},
        )
        self.linked: list[str] = []

    def endpoints(self) -> dict[str, Any]:
        s, sf = self.stripe_standin, self.sf
        return {"api_key": s.api_key, "base_url": s.base_url, "login_url": sf.login_url,
                "client_id": sf.client_id, "client_secret": sf.client_secret,
                "ca_file": str(sf.ca_file), "username": sf.username}  # fmt: skip

    def seed(self, accounts: int, subscriptions: int, without_subs: int, now: int) -> None:
        self.stripe_standin.set_time(now)
        with_subs = self.stripe_standin.seed_bulk(customers=accounts - without_subs,
                                                  subscriptions=subscriptions, events=False)
        # Customers with no subscription (a lead, a lapsed trial deleted long ago): a second
        # seeding with no subscriptions, among unlinked customers as many as the linked ones,
        # so that the listing must page through the account to find them. Its own catalog
        # goes unused.
        bare: list[str] = []
        if without_subs:
            extra = self.stripe_standin.seed_bulk(customers=accounts, subscriptions=0, seed=2)
            bare = random.Random(4).sample(extra, without_subs)
        self.linked = with_subs + bare
        random.Random(3).shuffle(self.linked)  # the org's Id order is not Stripe's
        self.sf.org.insert_many("Account", (
            {"Name": f"Bench Account {i + 1}", "Stripe_Customer_Id__c": cid}
            for i, cid in enumerate(self.linked)
        ))  # fmt: skip

    def facts(self) -> DataFacts:
        data = self.stripe_standin.store.data
        linked = set(self.linked)
        subs = [s for s in data["subscription"].values() if s["customer"] in linked]
        having = {s["customer"] for s in subs}
        products: set[str] = set()
        currencies: dict[str, set[str]] = {}
        for s in subs:
            for item in s["_items"]:
                products.add(data["price"][item["price"]]["product"])
            if s["status"] not in ENDED:
                currencies.setdefault(s["customer"], set()).add(s["currency"])
        mixed = frozenset(c for c, cur in currencies.items() if len(cur) > 1)
        bare, depth, seen = linked - having, 0, 0
        for cid in self.stripe_standin.store.order["customer"].newest_first():
            cus = data["customer"][cid]
            if cus["_deleted"] or cus["test_clock"]:
                continue  # not in the listing
            seen += 1
            if cid in bare:
                depth = seen
        return DataFacts(len(self.linked), len(data["subscription"]), len(subs),
                         len(linked - having),
                         sum(1 for c in data["customer"].values() if not c["_deleted"]), depth,
                         len(products), mixed,
                         self.sf.org.count("Subscription__c"), self.sf.org.count("Sync_Error__c"))

    def change(self, share: float, seed: int) -> dict[str, Any]:
        """Change ``share`` of the subscriptions: three in four get a new quantity, the rest
        are canceled. Returns the counts and the customers touched."""
        subs = self.stripe_standin.store.data["subscription"]
        active = sorted(sid for sid, s in subs.items() if s["status"] == "active")
        n = max(1, round(len(subs) * share))
        chosen = random.Random(seed).sample(active, n)
        cancels = n // 4
        for sid in chosen[:cancels]:
            self.client.v1.subscriptions.cancel(sid)
        for sid in chosen[cancels:]:
            sub = self.client.v1.subscriptions.retrieve(sid)
            item = sub["items"]["data"][0]
            self.client.v1.subscriptions.update(sid, params={
                "items": [{"id": item["id"], "quantity": int(item["quantity"] or 1) + 3}],
                "proration_behavior": "none",
            })  # fmt: skip
        customers = sorted({subs[sid]["customer"] for sid in chosen})
        return {"quantity": n - cancels, "canceled": cancels, "customers": customers}

    def events_since(self, ts: int, types: list[str]) -> int:
        """Events of ``types`` created at ``ts`` or later: what an events listing from ``ts``
        pages through (read from the store, so that counting them costs no request)."""
        log, wanted, now = self.stripe_standin.billing.events, set(types), self.stripe_standin.now()
        return sum(1 for e in self.stripe_standin.store.data["event"].values()
                   if e["created"] >= ts and e["type"] in wanted and log.visible(e, now))

    def stats(self) -> dict[str, Any]:
        sf = {k: v for k, v in self.sf.counters.items() if k != "POST oauth2/token"}
        return {"salesforce": sf, "stripe": self.stripe_standin.counters}

    def error_stamps(self) -> dict[str, str]:
        return {r["Id"]: r["SystemModstamp"] for r in self.sf.org.all("Sync_Error__c")}

    def dispatch(self, command: str, kwargs: dict[str, Any]) -> Any:
        if command == "latency":
            self.sf.set_latency(kwargs["salesforce"])
            self.stripe_standin.set_latency(kwargs["stripe"])
            return None
        if command == "reset":
            self.sf.reset_counters()
            self.stripe_standin.reset_counters()
            return None
        if command == "set_time":
            # Only the clock moves (new events are stamped with it): the renewals and trial
            # ends that fell due in between are not run, so that the data changes only where
            # the benchmark changes it and an unchanged cycle really has nothing to write.
            self.stripe_standin.wall.set(kwargs["now"])
            return None
        return getattr(self, command)(**kwargs)

    def stop(self) -> None:
        self.sf.stop()
        self.stripe_standin.stop()


def _serve(conn: Connection, workdir: str) -> None:
    server = _Server(Path(workdir))
    conn.send(server.endpoints())
    try:
        while True:
            command, kwargs = conn.recv()
            if command == "stop":
                break
            try:
                conn.send(("ok", server.dispatch(command, kwargs)))
            except Exception as exc:  # the parent re-raises it with the command named
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        server.stop()
        conn.close()


class StandInProcess:
    """The parent's handle on the child; ``with StandInProcess(dir) as world: ...``."""

    def __init__(self, workdir: Path) -> None:
        # spawn, not fork: the child must not inherit the engine's imported modules and heap.
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, str(workdir)), daemon=True,
                                 name="bench-stand-ins")
        self._proc.start()
        child.close()
        ep = self._conn.recv()
        self.stripe = SimpleNamespace(api_key=ep["api_key"], base_url=ep["base_url"])
        self.salesforce = SimpleNamespace(login_url=ep["login_url"], client_id=ep["client_id"],
                                          client_secret=ep["client_secret"],
                                          ca_file=Path(ep["ca_file"]), username=ep["username"])

    def call(self, command: str, **kwargs: Any) -> Any:
        self._conn.send((command, kwargs))
        status, value = self._conn.recv()
        if status == "error":
            raise RuntimeError(f"stand-in process, {command}: {value}")
        return value

    def stop(self) -> None:
        if self._proc.is_alive():
            self._conn.send(("stop", {}))
            self._proc.join(timeout=30)
        self._conn.close()

    def __enter__(self) -> StandInProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

"""Test clocks: frozen time for the customers attached to them, moved forward on request."""

from __future__ import annotations

from typing import Any

from .api import LIST_SPEC, RouteGroup
from .clock import period_boundary
from .errors import invalid, missing_param
from .objects import new_test_clock, public

__all__ = ["TestClockRoutes"]

BASE = "/v1/test_helpers/test_clocks"


class TestClockRoutes(RouteGroup):
    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("POST", BASE, self.create),
            ("GET", BASE, self.list),
            ("GET", BASE + "/{id}", self.retrieve),
            ("DELETE", BASE + "/{id}", self.delete),
            ("POST", BASE + "/{id}/advance", self.advance),
        ]

    def create(self, params: dict[str, Any]) -> dict[str, Any]:
        p = self.api.check({"frozen_time": "int", "name": "str", "expand": ["str"]}, params)
        if p.get("frozen_time") is None:
            raise missing_param("frozen_time")
        clock = new_test_clock(self.store, self.billing.wall.now(), p["frozen_time"],
                               p.get("name"))  # fmt: skip
        return public(self.store.put("test_clock", clock))

    def retrieve(self, params: dict[str, Any], cid: str) -> dict[str, Any]:
        self.api.check({"expand": ["str"]}, params)
        return public(self.api.get("test_clock", cid))

    def list(self, params: dict[str, Any]) -> dict[str, Any]:
        p = self.api.check({k: v for k, v in LIST_SPEC.items() if k != "created"}, params)
        return self.api.page("test_clock", self.store.order["test_clock"], p, BASE,
                             lambda r: not r.get("_deleted"))  # fmt: skip

    def delete(self, params: dict[str, Any], cid: str) -> dict[str, Any]:
        self.api.check({}, params)
        clock = self.api.get("test_clock", cid)
        clock["_deleted"] = True
        # Deleting a clock deletes the customers (and so the subscriptions) attached to it.
        for cus_id in self.store.customers_by_clock.get(cid, ()):
            self.store.data["customer"][cus_id]["_deleted"] = True
        return {"id": cid, "object": "test_helpers.test_clock", "deleted": True}

    def _subscriptions(self, cid: str) -> list[dict[str, Any]]:
        subs = []
        for cus_id in self.store.customers_by_clock.get(cid, ()):
            idx = self.store.subs_by_customer.get(cus_id)
            if idx is not None:
                subs.extend(self.store.data["subscription"][s] for s in idx.newest_first())
        return subs

    def advance(self, params: dict[str, Any], cid: str) -> dict[str, Any]:
        p = self.api.check({"frozen_time": "int", "expand": ["str"]}, params)
        clock = self.api.get("test_clock", cid)
        target = p.get("frozen_time")
        if target is None:
            raise missing_param("frozen_time")
        if clock["status"] != "ready":
            raise invalid("The test clock is not ready to be advanced.", "frozen_time")
        if target <= clock["frozen_time"]:
            raise invalid("The frozen time must be after the test clock's current frozen time.",
                          "frozen_time")  # fmt: skip
        subs = self._subscriptions(cid)
        limit = self._advance_limit(clock["frozen_time"], subs)
        if limit is not None and target > limit:
            raise invalid(
                "Cannot advance the test clock more than two intervals of the shortest "
                f"subscription interval at a time; the furthest allowed is {limit}.",
                "frozen_time",
            )
        self.billing.run(subs, target)
        clock["frozen_time"] = target
        # Stripe advances asynchronously: the call answers "advancing" and a later retrieve
        # says "ready". The work is already done here, so the next retrieve is ready.
        body = public(clock)
        body["status"] = "advancing"
        body["status_details"] = {"advancing": {"target_frozen_time": target}}
        return body

    def _advance_limit(self, frozen: int, subs: list[dict[str, Any]]) -> int | None:
        """Stripe refuses to move a clock more than two of the shortest intervals at once."""
        limits = []
        for sub in subs:
            if sub["status"] in ("canceled", "incomplete_expired"):
                continue
            rec = self.store.data["price"][sub["_items"][0]["price"]]["recurring"]
            limits.append(period_boundary(frozen, rec["interval"], rec["interval_count"], 2))
        return min(limits) if limits else None

"""What every route group shares: the store, the clock, lookups by id or ``code-``, lists.

Path ids follow Recurly: an id as it is, or a prefix naming another key (``code-bob`` for an
account, plan, coupon or add-on code; ``uuid-...`` for a subscription; ``number-1001`` for an
invoice). Account codes match without regard to case; plan and coupon codes match exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .billing import Billing
from .bodies import unprocessable
from .clock import WallClock
from .errors import bad_request, not_found
from .lists import ListQuery, keys_of, page, parse_list
from .render import Renderer
from .store import Store, norm_code

__all__ = ["Api", "B", "Handler", "J", "Q", "only"]

Handler = Callable[..., Any]
Q = dict[str, str]  # a request's query parameters
B = dict[str, Any]  # its JSON body
J = dict[str, Any]  # a resource as sent


def only(query: dict[str, str], *allowed: str) -> None:
    for name in query:
        if name not in allowed:
            raise bad_request(f"'{name}' is not a valid query parameter here", name)


class Api:
    def __init__(self, store: Store, clock: WallClock, billing: Billing) -> None:
        self.store, self.clock, self.billing = store, clock, billing
        self.render = Renderer(store)
        self.head = False  # set per request: a HEAD wants the count, not the page

    def now(self) -> int:
        return self.clock.now()

    # lookups -------------------------------------------------------------------------------
    def _lookup(self, kind: str, model: str, ref: str, param: str,
                prefixes: dict[str, Callable[[str], str | None]]) -> dict[str, Any]:  # fmt: skip
        for prefix, resolve in prefixes.items():
            if ref.startswith(prefix + "-"):
                value = ref[len(prefix) + 1:]
                oid = resolve(value)
                rec = self.store.get(kind, oid) if oid else None
                if rec is None:
                    raise not_found(model, prefix, value, param)
                return rec
        rec = self.store.get(kind, ref)
        if rec is None:
            raise not_found(model, "id", ref, param)
        return rec

    def account(self, ref: str) -> dict[str, Any]:
        codes = self.store.account_codes
        return self._lookup("account", "Account", ref, "account_id",
                            {"code": lambda c: codes.get(norm_code(c))})  # fmt: skip

    def plan(self, ref: str) -> dict[str, Any]:
        return self._lookup("plan", "Plan", ref, "plan_id", {"code": self.store.plan_codes.get})

    def coupon(self, ref: str, param: str = "coupon_id") -> dict[str, Any]:
        return self._lookup("coupon", "Coupon", ref, param, {"code": self.store.coupon_codes.get})

    def add_on(self, plan: dict[str, Any], ref: str) -> dict[str, Any]:
        codes = self.store.add_on_codes
        rec = self._lookup("add_on", "AddOn", ref, "add_on_id",
                           {"code": lambda c: codes.get((plan["id"], c))})  # fmt: skip
        if rec["plan_id"] != plan["id"]:
            raise not_found("AddOn", "id", ref, "add_on_id")
        return rec

    def subscription(self, ref: str) -> dict[str, Any]:
        def resolve(u: str) -> str | None:
            return next((s["id"] for s in self.store.data["subscription"].values()
                         if s["uuid"] == u), None)  # fmt: skip

        return self._lookup("subscription", "Subscription", ref, "subscription_id",
                            {"uuid": resolve})  # fmt: skip

    def invoice(self, ref: str) -> dict[str, Any]:
        def resolve(n: str) -> str | None:
            return next((i["id"] for i in self.store.data["invoice"].values()
                         if i["number"] == n), None)  # fmt: skip

        return self._lookup("invoice", "Invoice", ref, "invoice_id", {"number": resolve})

    def live_account(self, acct: dict[str, Any], param: str = "account_id") -> None:
        if acct["state"] != "active":
            raise unprocessable("Account is closed and cannot be modified", param)

    # lists ---------------------------------------------------------------------------------
    def listing(self, path: str, query: dict[str, str], kind: str, *,
                filters: dict[str, tuple[str, ...]] | None = None,
                keep: Callable[[dict[str, Any], dict[str, str]], bool] | None = None,
                scope: list[dict[str, Any]] | None = None,
                render: Callable[[dict[str, Any]], dict[str, Any]],
                common: tuple[str, ...] | None = None) -> Any:  # fmt: skip
        q: ListQuery = parse_list(path, query, filters or {}, *((common and (common,)) or ()))
        flt = q.filters or {}
        if scope is None:
            keys, ids = self.store.sorted_keys(kind, q.sort)
        else:
            keys, ids = keys_of(scope, q.sort)
        data = self.store.data[kind]
        obj, total = page(q, keys, ids, data.get,
                          (lambda r: keep(r, flt)) if keep else (lambda r: True), render,
                          want_total=self.head)  # fmt: skip
        return ("count", total) if self.head else obj

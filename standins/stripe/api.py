"""What every handler shares: lookups with Stripe's errors, list pages and ``expand``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from .billing import Billing
from .errors import StripeError, invalid, no_such
from .objects import clone, deleted_stub, render, render_price
from .params import coerce
from .store import OrderedIndex, Store

__all__ = ["LIST_SPEC", "Api"]

MAX_EXPAND_DEPTH = 4
LIST_SPEC = {
    "limit": "int", "starting_after": "str", "ending_before": "str", "created": "range",
    "expand": ["str"],
}  # fmt: skip
KIND_NAMES = {
    "customer": "customer", "product": "product", "price": "price", "coupon": "coupon",
    "subscription": "subscription", "invoice": "invoice", "event": "event",
    "test_clock": "test_clock", "payment_method": "PaymentMethod", "discount": "discount",
    "meter": "billing.meter",
}  # fmt: skip
# (object type, dotted field) -> kind the id resolves to; "tiers" is an includable field.
EXPANDABLE: dict[str, dict[str, str]] = {
    "customer": {
        "test_clock": "test_clock", "invoice_settings.default_payment_method": "payment_method",
    },
    "subscription": {
        "customer": "customer", "latest_invoice": "invoice", "test_clock": "test_clock",
        "default_payment_method": "payment_method", "discounts": "discount",
    },
    "subscription_item": {"discounts": "discount"},
    "price": {"product": "product", "tiers": "tiers"},
    "product": {"default_price": "price"},
    "discount": {"customer": "customer", "source.coupon": "coupon"},
    "invoice": {
        "customer": "customer", "default_payment_method": "payment_method",
        "discounts": "discount", "test_clock": "test_clock",
        "parent.subscription_details.subscription": "subscription",
    },
    "payment_method": {"customer": "customer"},
}  # fmt: skip


class Api:
    def __init__(self, store: Store, billing: Billing) -> None:
        self.store = store
        self.billing = billing

    # lookups -------------------------------------------------------------------------------
    def get(self, kind: str, oid: str, param: str | None = None) -> dict[str, Any]:
        rec = self.store.data[kind].get(oid)
        if rec is None or rec.get("_deleted"):
            raise no_such(KIND_NAMES[kind], oid, param)
        return rec

    @staticmethod
    def check(spec: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
        return coerce(spec, params)

    def now(self, customer_id: str | None = None) -> int:
        return self.billing.now_for(customer_id)

    # rendering + expand --------------------------------------------------------------------
    def out(self, kind: str, rec: dict[str, Any], expand: list[str] | None) -> dict[str, Any]:
        body = render(self.store, kind, rec)
        for path in expand or ():
            self.expand(body, path)
        return body

    def _ref(self, kind: str, oid: str) -> dict[str, Any] | str:
        rec = self.store.data[kind].get(oid)
        if rec is None:
            return oid
        if kind == "customer" and rec["_deleted"]:
            return deleted_stub(rec)
        if kind == "price":
            return render_price(rec)
        return render(self.store, kind, rec)

    def expand(self, body: dict[str, Any], path: str) -> None:
        segs = path.split(".")
        if len(segs) > MAX_EXPAND_DEPTH:
            raise invalid(
                f"You cannot expand more than {MAX_EXPAND_DEPTH} levels of a property. "
                f"Property: {path}",
                param="expand",
            )
        self._walk(body, body.get("object", ""), "", segs, path)

    def _walk(self, node: dict[str, Any], otype: str, prefix: str, segs: list[str],
              path: str) -> None:  # fmt: skip
        key, rest = segs[0], segs[1:]

        def refuse() -> StripeError:
            return invalid(f"This property cannot be expanded ({path}).", param="expand")

        if node.get("object") == "list" and key == "data" and not prefix:
            if not rest:
                raise refuse()
            for elem in node["data"]:
                self._walk(elem, elem.get("object", ""), "", rest, path)
            return
        field = prefix + key
        target = EXPANDABLE.get(otype, {}).get(field)
        if target == "tiers":
            if rest:
                raise refuse()
            node["tiers"] = clone(self.store.data["price"][node["id"]]["_tiers"])
            return
        if key not in node:
            raise refuse()
        val = node[key]
        if target:
            if isinstance(val, str):
                val = node[key] = self._ref(target, val)
            elif isinstance(val, list):
                val = node[key] = [self._ref(target, v) if isinstance(v, str) else v
                                   for v in val]  # fmt: skip
            if rest:
                for obj in val if isinstance(val, list) else [val]:
                    if isinstance(obj, dict):
                        self._walk(obj, obj.get("object", ""), "", rest, path)
            return
        if not rest:
            raise refuse()
        if isinstance(val, dict):
            if "object" in val:
                self._walk(val, val["object"], "", rest, path)
            else:
                self._walk(val, otype, field + ".", rest, path)
        elif isinstance(val, list):
            for obj in val:
                if isinstance(obj, dict):
                    self._walk(obj, obj.get("object", otype), "", rest, path)
        elif val is not None:
            raise refuse()

    # lists ---------------------------------------------------------------------------------
    def page(
        self, kind: str, index: OrderedIndex | None, p: dict[str, Any], url: str,
        pred: Callable[[dict[str, Any]], bool] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """One page, newest first, with Stripe's cursor rules."""
        limit = p.get("limit", 10)
        if limit is None or not 1 <= limit <= 100:
            raise invalid("Invalid limit: must be between 1 and 100", param="limit")
        after, before = p.get("starting_after"), p.get("ending_before")
        if after and before:
            raise invalid(
                "You may only specify one of these parameters: ending_before, starting_after.",
                param="starting_after",
            )
        created = p.get("created")
        data = self.store.data[kind]

        def ok(rec: dict[str, Any]) -> bool:
            if created and not _in_range(rec["created"], created):
                return False
            return pred is None or pred(rec)

        out: list[dict[str, Any]] = []
        it: Iterator[str]
        if index is None:
            it = iter(())
        elif after or before:
            cursor = data.get(after or before)  # type: ignore[arg-type]
            if cursor is None:
                raise no_such(KIND_NAMES[kind], after or before,  # type: ignore[arg-type]
                              "starting_after" if after else "ending_before")  # fmt: skip
            it = (index.newest_first(below=cursor["_seq"]) if after
                  else index.oldest_first(above=cursor["_seq"]))  # fmt: skip
        else:
            it = index.newest_first()
        for oid in it:
            rec = data[oid]
            if ok(rec):
                out.append(rec)
                if len(out) > limit:
                    break
        has_more = len(out) > limit
        out = out[:limit]
        if before:
            out.reverse()
        body = {
            "object": "list", "data": [render(self.store, kind, r) for r in out],
            "has_more": has_more, "url": url,
        }  # fmt: skip
        for path in p.get("expand") or ():
            self.expand(body, path)
        return body


def _in_range(value: int, rng: dict[str, int]) -> bool:
    checks = {
        "eq": value == rng.get("eq", value), "gt": value > rng.get("gt", value - 1),
        "gte": value >= rng.get("gte", value), "lt": value < rng.get("lt", value + 1),
        "lte": value <= rng.get("lte", value),
    }  # fmt: skip
    return all(checks.values())


class RouteGroup:
    """Base of the per-resource route modules: what every handler needs from the Api."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.billing = api.billing

"""A subscription list page decoded straight into the slim copy a cycle keeps (``slim``).

Parsing a whole page of 100 subscriptions (about 300 KB, ~60 fields each with expanded
prices), picking the few fields the conversion reads, then freeing the rest was a fifth of
an unchanged cycle's CPU. msgspec decodes the page against the shape below instead: fields not
named here are skipped without ever becoming Python objects, so a page costs about a third
as much. The few places where the slim copy is not simply a subset (a discount's coupon id,
an expanded product's id, a price without ``recurring``) are then put right by ``_settle``,
giving exactly what ``slim`` gives for the same JSON.

Where the page is not of this shape (a field of another type than Stripe documents, a
missing ``items`` or ``price``), or is JSON that msgspec refuses (a lone surrogate escape), it
is parsed whole and slimmed as before, with the same result or the same error as before.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

import msgspec

from .convert import slim, slim_discounts
from .raw import parse

__all__ = ["slim_page"]


class _Ref(TypedDict):
    """An expanded object (coupon, product) of which only the id is read."""

    id: str


class _Source(TypedDict, total=False):
    coupon: str | _Ref | None


class _Discount(TypedDict, total=False):
    coupon: str | _Ref | None
    source: _Source | None


class _Recurring(TypedDict, total=False):
    interval: Any
    interval_count: Any
    usage_type: Any


class _Price(TypedDict, total=False):
    # Only the keys present are kept: "tiers" absent (not expanded) differs from "tiers": [].
    id: Any
    currency: Any
    unit_amount_decimal: Any
    unit_amount: Any
    billing_scheme: Any
    tiers_mode: Any
    tiers: Any
    transform_quantity: Any
    nickname: Any
    product: str | _Ref  # required by ``slim``: a price without one takes the slow path
    recurring: _Recurring | None


class _Item(TypedDict):
    id: NotRequired[Any]
    quantity: NotRequired[Any]
    current_period_start: NotRequired[Any]
    current_period_end: NotRequired[Any]
    price: _Price
    discounts: NotRequired[list[str | _Discount] | None]


class _Items(TypedDict):
    data: list[_Item]


class _Subscription(TypedDict):
    id: NotRequired[Any]
    customer: NotRequired[Any]
    status: NotRequired[Any]
    currency: NotRequired[Any]
    cancel_at_period_end: NotRequired[Any]
    cancel_at: NotRequired[Any]
    canceled_at: NotRequired[Any]
    ended_at: NotRequired[Any]
    trial_end: NotRequired[Any]
    start_date: NotRequired[Any]
    created: NotRequired[Any]
    discounts: NotRequired[list[str | _Discount] | None]
    items: _Items


class _Page(TypedDict):
    data: list[_Subscription]
    has_more: NotRequired[Any]


_DECODER = msgspec.json.Decoder(_Page)


def slim_page(body: bytes | str) -> Any:
    """A subscription list page with each subscription as ``slim`` makes it."""
    try:
        page: Any = _DECODER.decode(body)
    except msgspec.DecodeError:  # ValidationError included
        page = parse(body)
        if isinstance(page, dict) and isinstance(page.get("data"), list):
            page["data"] = [slim(sub) for sub in page["data"]]
        return page
    for sub in page["data"]:
        _settle(sub)
    return page


def _settle(sub: dict[str, Any]) -> None:
    """Where ``slim`` is more than a subset of the fields: put it right, in place."""
    sub["discounts"] = slim_discounts(sub.get("discounts") or [])
    for item in sub["items"]["data"]:
        price = item["price"]
        product = price["product"]
        if not isinstance(product, str):
            price["product"] = product["id"]
        price["recurring"] = price.get("recurring") or {}
        item["discounts"] = slim_discounts(item.get("discounts") or [])

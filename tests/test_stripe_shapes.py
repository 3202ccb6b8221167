"""The typed page decoder (``shapes.slim_page``) gives exactly what parsing the whole page and
``slim``-ming each subscription gives, or fails the same way.

Fed the subscription list replies recorded in the cassettes, and variants of a recorded
subscription in the shapes Stripe documents (expanded product and coupons, discounts as ids,
a price without ``recurring``, tiers present or not), plus pages msgspec refuses.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from sync.stripe_io.convert import slim
from sync.stripe_io.raw import parse
from sync.stripe_io.shapes import slim_page

CASSETTES = Path(__file__).parent / "cassettes" / "stripe"


def _list_bodies() -> list[str]:
    bodies = []
    for path in sorted(CASSETTES.glob("*.yaml")):
        for event in yaml.safe_load(path.read_text())["interactions"]:
            uri = event["request"]["uri"].split("?")[0]
            body = event["response"]["body"]["string"]
            if uri.endswith("/v1/subscriptions") and event["request"]["method"] == "GET":
                bodies.append(body)
    return bodies


BODIES = _list_bodies()


def _expected(body: str) -> Any:
    page = parse(body)
    page["data"] = [slim(sub) for sub in page["data"]]
    return page


def _same(body: str) -> None:
    got, want = slim_page(body), _expected(body)
    assert got["data"] == want["data"]
    assert got.get("has_more") == want.get("has_more")


def test_the_cassettes_hold_listed_subscriptions() -> None:
    assert len(BODIES) >= 5 and sum(len(json.loads(b)["data"]) for b in BODIES) >= 5


@pytest.mark.parametrize("n", range(len(BODIES)))
def test_every_recorded_page_decodes_as_slim_makes_it(n: int) -> None:
    _same(BODIES[n])


def _recorded_sub() -> dict[str, Any]:
    for body in BODIES:
        data = json.loads(body)["data"]
        if data:
            return dict(data[0])
    raise AssertionError("no recorded subscription")


def _item(sub: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = sub["items"]["data"][0]
    return item


VARIANTS: dict[str, Callable[[dict[str, Any]], None]] = {
    "product expanded": lambda s: _item(s)["price"].update(
        product={"id": "prod_X", "object": "product", "name": "Pro", "metadata": {}}
    ),
    "recurring null": lambda s: _item(s)["price"].update(recurring=None),
    "recurring absent": lambda s: _item(s)["price"].pop("recurring"),
    "tiers expanded": lambda s: _item(s)["price"].update(
        tiers=[{"up_to": 10, "unit_amount": 100}, {"up_to": None, "unit_amount": 80}],
        tiers_mode="volume",
        billing_scheme="tiered",
    ),
    "tiers absent": lambda s: _item(s)["price"].pop("tiers", None),
    "discount ids unexpanded": lambda s: s.update(discounts=["di_1", "di_2"]),
    "discount with expanded coupon": lambda s: s.update(
        discounts=[{"id": "di_1", "coupon": {"id": "SAVE5", "percent_off": 5}}]
    ),
    "discount with source coupon": lambda s: s.update(
        discounts=[{"id": "di_1", "source": {"coupon": "SAVE9", "type": "coupon"}}]
    ),
    "item discounts null": lambda s: _item(s).update(discounts=None),
    "item without quantity": lambda s: _item(s).pop("quantity"),
    "discounts absent": lambda s: s.pop("discounts", None),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_each_documented_shape_decodes_as_slim_makes_it(name: str) -> None:
    sub = copy.deepcopy(_recorded_sub())
    VARIANTS[name](sub)
    _same(json.dumps({"object": "list", "data": [sub, _recorded_sub()], "has_more": True}))


def test_json_msgspec_refuses_is_parsed_whole() -> None:
    # A lone surrogate escape (a customer's garbled metadata): json accepts it.
    sub = _recorded_sub()
    body = json.dumps({"object": "list", "data": [sub], "has_more": False})
    body = body.replace('"metadata": {}', '"metadata": {"note": "\\ud800"}', 1)
    assert "\\ud800" in body
    _same(body)


@pytest.mark.parametrize(
    ("change", "error"),
    [
        (lambda s: _item(s)["price"].update(product=None), TypeError),
        (lambda s: s.pop("items"), KeyError),
        (lambda s: _item(s).pop("price"), KeyError),
    ],
)
def test_a_page_of_another_shape_fails_as_slim_does(
    change: Callable[[dict[str, Any]], None], error: type[Exception]
) -> None:
    sub = copy.deepcopy(_recorded_sub())
    change(sub)
    body = json.dumps({"object": "list", "data": [sub]})
    with pytest.raises(error):
        _expected(body)
    with pytest.raises(error):
        slim_page(body)


def test_a_reply_that_is_no_list_page_is_returned_as_parsed() -> None:
    assert slim_page('["not", "an", "object"]') == ["not", "an", "object"]
    assert slim_page('{"error": {"type": "api_error"}}') == {"error": {"type": "api_error"}}

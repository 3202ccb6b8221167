"""Chargebee's error envelope for each kind of error, and the SDK exception it becomes."""

from __future__ import annotations

import chargebee
import pytest
import requests

ENVELOPE = {"message", "api_error_code", "error_code", "error_msg", "http_status_code"}


def _check(body: dict, status: int, code: str, type_: str | None, param: str | None) -> None:
    assert set(body) >= ENVELOPE, body
    assert body["http_status_code"] == status and body["api_error_code"] == code
    assert body["error_msg"] == body["message"]
    assert body.get("type") == type_
    assert body.get("param") == param and body.get("error_param") == param


@pytest.mark.parametrize("auth", [None, ("wrong_key", ""), ("test_fake_standin_key", "pw")])
def test_401_for_missing_or_wrong_key(standin, auth) -> None:
    r = requests.get(standin.api_base + "/customers", auth=auth, timeout=5)
    assert r.status_code == 401
    _check(r.json(), 401, "api_authentication_failed", None, None)


def test_401_through_the_sdk_is_a_plain_api_error(standin, cb) -> None:
    bad = chargebee.Chargebee(api_key="wrong", site=standin.site, protocol="http")
    bad.env.api_endpoint = standin.api_base
    with pytest.raises(chargebee.APIError) as exc:
        bad.Customer.list()
    assert type(exc.value) is chargebee.APIError and exc.value.http_status_code == 401


def test_404_resource_and_route(cb, http) -> None:
    with pytest.raises(chargebee.InvalidRequestError) as exc:
        cb.Subscription.retrieve("nope")
    _check(exc.value.json_obj, 404, "resource_not_found", "invalid_request", None)
    r = http.get("/no_such_resource")
    _check(r.json(), 404, "resource_not_found", "invalid_request", None)
    r = http.post("/customers/nope/subscription_for_items",
                  **{"subscription_items[item_price_id][0]": "x"})
    assert r.status_code == 404


def test_customer_ids_are_case_sensitive(cb, http) -> None:
    cb.Customer.create({"id": "Acme"})
    assert cb.Customer.retrieve("Acme").customer.id == "Acme"
    assert http.get("/customers/acme").status_code == 404
    assert cb.Customer.create({"id": "acme"}).customer.id == "acme"


def test_405_for_a_method_the_path_does_not_have(standin, http) -> None:
    r = http.session.delete(standin.api_base + "/customers", timeout=5)
    _check(r.json(), 405, "http_method_not_supported", "invalid_request", None)


def test_400_blank_wrong_value_duplicate(cb, http, catalog) -> None:
    r = http.post("/customers/x/subscription_for_items")
    assert r.status_code == 404  # the customer is checked first
    cb.Customer.create({"id": "c1"})
    r = http.post("/customers/c1/subscription_for_items")
    _check(r.json(), 400, "param_wrong_value", "invalid_request",
           "subscription_items[item_price_id][0]")
    assert r.json()["message"] == "subscription_items[item_price_id][0] : cannot be blank"
    r = http.post("/customers/c1/subscription_for_items",
                  **{"subscription_items[item_price_id][0]": "p-missing"})
    _check(r.json(), 404, "resource_not_found", "invalid_request",
           "subscription_items[item_price_id][0]")
    r = http.post("/customers/c1/subscription_for_items",
                  **{"subscription_items[item_price_id][0]": "p-addon"})
    assert r.json()["api_error_code"] == "param_wrong_value"  # no plan item price
    with pytest.raises(chargebee.InvalidRequestError) as exc:
        cb.Customer.create({"id": "c1"})
    _check(exc.value.json_obj, 400, "duplicate_entry", "invalid_request", "id")
    r = http.post("/customers", email="not-an-email")
    _check(r.json(), 400, "param_wrong_value", "invalid_request", "email")
    r = http.post("/customers", nickname="x")
    _check(r.json(), 400, "invalid_request", "invalid_request", "nickname")


def test_catalog_rules(http, catalog) -> None:
    base = {"name": "n", "item_id": "usage", "period_unit": "month"}
    r = http.post("/item_prices", id="t1", pricing_model="tiered", **base)
    assert r.json()["param"] == "tiers[starting_unit][0]"
    r = http.post("/item_prices", id="t2", pricing_model="tiered", **base,
                  **{"tiers[starting_unit][0]": "1", "tiers[ending_unit][0]": "5",
                     "tiers[price][0]": "1", "tiers[starting_unit][1]": "7",
                     "tiers[price][1]": "1"})
    assert r.json()["param"] == "tiers[starting_unit][1]"  # a gap between tiers
    r = http.post("/item_prices", id="t3", price_in_decimal="1.005", **base)
    assert r.status_code == 400 and r.json()["param"] == "price_in_decimal"  # no multi-decimal
    r = http.post("/item_prices", id="t4", name="n", item_id="usage")
    assert r.json()["param"] == "period_unit"
    r = http.post("/coupons/create_for_items", id="c", name="c", apply_on="invoice_amount",
                  discount_type="percentage", discount_percentage="120")
    assert r.json()["param"] == "discount_percentage"


def test_invalid_state(cb, subscribe) -> None:
    sid = subscribe().subscription.id
    for call in (lambda: cb.Subscription.resume(sid),
                 lambda: cb.Subscription.reactivate(sid),
                 lambda: cb.Subscription.remove_scheduled_cancellation(sid)):
        with pytest.raises(chargebee.InvalidRequestError) as exc:
            call()
        _check(exc.value.json_obj, 400, "invalid_state_for_request", "invalid_request", None)
    cb.Subscription.cancel_for_items(sid, {"cancel_option": "immediately"})
    with pytest.raises(chargebee.InvalidRequestError):
        cb.Subscription.cancel_for_items(sid, {"cancel_option": "immediately"})


def test_decimal_pricing_site() -> None:
    from standins.chargebee import ChargebeeStandIn

    with ChargebeeStandIn(decimal_pricing=True) as s:
        s.set_time(1_793_577_600)
        session = requests.Session()
        session.auth = (s.api_key, "")
        post = lambda path, **d: session.post(s.api_base + path, data=d, timeout=5)  # noqa: E731
        post("/item_families", id="f", name="f")
        post("/items", id="i", name="i", type="plan", item_family_id="f")
        r = post("/item_prices", id="p", name="p", item_id="i", pricing_model="per_unit",
                 price_in_decimal="0.125", period_unit="month")
        assert r.json()["item_price"]["price_in_decimal"] == "0.125"
        post("/customers", id="c")
        r = post("/customers/c/subscription_for_items",
                 **{"subscription_items[item_price_id][0]": "p",
                    "subscription_items[quantity][0]": "100"})
        item = r.json()["subscription"]["subscription_items"][0]
        assert item["amount_in_decimal"] == "12.5" and item["unit_price_in_decimal"] == "0.125"
        assert r.json()["subscription"]["mrr"] == 1250 and "amount" not in item

"""Stripe's error behaviour: unknown parameters, missing ids, keys, envelopes, expand limits."""

from __future__ import annotations

import pytest
import requests
import stripe

from standins.stripe import StripeStandIn


def test_unknown_parameter_is_parameter_unknown(make_customer, client, monthly) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.customers.create({"nmae": "typo"})
    assert exc.value.http_status == 400
    assert exc.value.code == "parameter_unknown" and exc.value.param == "nmae"
    cus = make_customer()
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create({
            "customer": cus.id, "items": [{"price": monthly.id, "qty": 2}],
        })  # fmt: skip
    assert exc.value.param == "items[0][qty]"


def test_unknown_ids_give_404_resource_missing(client) -> None:
    for call in (
        lambda: client.v1.customers.retrieve("cus_doesnotexist"),
        lambda: client.v1.subscriptions.retrieve("sub_doesnotexist"),
        lambda: client.v1.prices.retrieve("price_nope"),
    ):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            call()
        assert exc.value.http_status == 404 and exc.value.code == "resource_missing"
        assert exc.value.request_id.startswith("req_")


def test_unknown_reference_in_params_is_400_naming_the_param(client) -> None:
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.create({"customer": "cus_missing", "items": [{"price": "x"}]})
    assert exc.value.http_status == 400 and exc.value.param == "customer"


def test_missing_or_wrong_key_is_401(standin: StripeStandIn) -> None:
    r = requests.get(standin.base_url + "/v1/customers", timeout=5)
    assert r.status_code == 401 and r.headers["Request-Id"].startswith("req_")
    assert r.json()["error"]["type"] == "invalid_request_error"
    bad = stripe.StripeClient("sk_test_fake_wrong_key_123",
                              base_addresses={"api": standin.base_url})
    with pytest.raises(stripe.AuthenticationError) as exc:
        bad.v1.customers.list()
    assert "sk_test_fake_wrong_key_123" not in str(exc.value)  # the key is masked


def test_error_envelope_and_request_id_header(standin: StripeStandIn) -> None:
    r = requests.post(standin.base_url + "/v1/prices", data={"currency": "usd"},
                      headers={"Authorization": f"Bearer {standin.api_key}"},
                      timeout=5)  # fmt: skip
    assert r.status_code == 400
    assert r.headers["Request-Id"].startswith("req_")
    err = r.json()["error"]
    assert set(err) >= {"message", "type"} and err["type"] == "invalid_request_error"
    r = requests.get(standin.base_url + "/v1/nothing", timeout=5,
                     headers={"Authorization": f"Bearer {standin.api_key}"})  # fmt: skip
    assert r.status_code == 404 and "Unrecognized request URL" in r.json()["error"]["message"]


def test_other_api_versions_are_refused(standin: StripeStandIn) -> None:
    r = requests.get(standin.base_url + "/v1/customers", timeout=5, headers={
        "Authorization": f"Bearer {standin.api_key}", "Stripe-Version": "2020-08-27",
    })  # fmt: skip
    assert r.status_code == 400


def test_limit_bounds(client) -> None:
    for bad in (0, 101):
        with pytest.raises(stripe.InvalidRequestError) as exc:
            client.v1.customers.list({"limit": bad})
        assert exc.value.param == "limit"


def test_expand_depth_limit_like_stripe(make_customer, client, monthly) -> None:
    cus = make_customer()
    client.v1.subscriptions.create({"customer": cus.id, "items": [{"price": monthly.id}]})
    ok = client.v1.subscriptions.list({"expand": ["data.items.data.discounts", "data.customer"]})
    assert ok.data[0]["items"].data[0].price.product.startswith("prod_")
    assert ok.data[0].customer.id == cus.id
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.subscriptions.list({"expand": ["data.items.data.price.product"]})
    assert "4 levels" in exc.value.user_message and exc.value.param == "expand"
    one = client.v1.subscriptions.list({"customer": cus.id})
    got = client.v1.subscriptions.retrieve(one.data[0].id,
                                           {"expand": ["items.data.price.product", "customer"]})
    assert got["items"].data[0].price.product.name == "Team"
    assert got.customer.id == cus.id
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.subscriptions.retrieve(one.data[0].id, {"expand": ["currency"]})


def test_form_encoding_roundtrip_metadata_and_nested(client) -> None:
    cus = client.v1.customers.create({"metadata": {"tier": "gold", "region": "eu"}})
    assert cus.metadata.to_dict() == {"tier": "gold", "region": "eu"}
    cus = client.v1.customers.update(cus.id, {"metadata": {"tier": ""}})
    assert cus.metadata.to_dict() == {"region": "eu"}

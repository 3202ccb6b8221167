"""Auth, version negotiation, Recurly's error envelope, and the validation rules reproduced."""

from __future__ import annotations

import pytest
import recurly
import requests

ACCEPT = "application/vnd.recurly.v2021-02-25"


def raw(standin, path: str, **headers: str) -> requests.Response:
    return requests.get(standin.base_url + path, headers=headers, timeout=5)


def test_basic_auth_with_the_key_as_username(standin) -> None:
    ok = requests.get(standin.base_url + "/accounts", auth=(standin.api_key, ""),
                      headers={"Accept": ACCEPT}, timeout=5)  # fmt: skip
    assert ok.status_code == 200 and ok.headers["Recurly-Version"] == "recurly.v2021-02-25"
    for auth in (None, ("wrong", ""), ("", standin.api_key)):
        r = requests.get(standin.base_url + "/accounts", auth=auth, headers={"Accept": ACCEPT},
                         timeout=5)  # fmt: skip
        assert r.status_code == 401 and r.json()["error"]["type"] == "unauthorized"
        assert r.headers["X-Request-Id"] and r.headers["X-RateLimit-Limit"]
    bad = recurly.Client("wrong")
    bad._BaseClient__conn = standin.sdk_client()._BaseClient__conn
    with pytest.raises(recurly.errors.UnauthorizedError):
        bad.list_accounts().first()


@pytest.mark.parametrize("accept", ["", "application/json", "application/vnd.recurly.v2019-10-10",
                                    "application/vnd.recurly.v2021-02-25+xml"])
def test_missing_or_other_version_is_refused_with_406(standin, accept: str) -> None:
    headers = {"Accept": accept} if accept else {"Accept": ""}
    r = requests.get(standin.base_url + "/accounts", auth=(standin.api_key, ""), headers=headers,
                     timeout=5)  # fmt: skip
    assert r.status_code == 406
    err = r.json()["error"]
    assert err["type"] == "invalid_api_version"
    assert f"{ACCEPT}+json" in err["acceptable_accept_headers"]


@pytest.mark.parametrize("accept", [ACCEPT, ACCEPT + "+json", "application/vnd.recurly.latest"])
def test_accepted_version_headers(standin, accept: str) -> None:
    r = requests.get(standin.base_url + "/plans", auth=(standin.api_key, ""),
                     headers={"Accept": accept}, timeout=5)  # fmt: skip
    assert r.status_code == 200


def test_not_found_envelope_and_sdk_class(client, http) -> None:
    r = http("GET", "/accounts/code-nobody")
    assert r.status_code == 404
    assert r.json() == {"error": {"type": "not_found",
                                  "message": "Couldn't find Account with code = nobody",
                                  "params": [{"param": "account_id"}]}}  # fmt: skip
    assert len(r.headers["X-Request-Id"]) >= 16
    with pytest.raises(recurly.errors.NotFoundError) as exc:
        client.get_subscription("uuid-0000")
    assert exc.value.error.type == "not_found"
    assert http("GET", "/nothing/here").json()["error"]["type"] == "not_found"


def test_validation_422_names_the_param(client, http) -> None:
    r = http("POST", "/accounts", json={"email": "a@b.test"})
    assert r.status_code == 422
    assert r.json()["error"] == {"type": "validation", "message": "Code can't be blank",
                                 "params": [{"param": "code", "message": "can't be blank"}]}
    with pytest.raises(recurly.errors.ValidationError) as exc:
        client.create_plan({"code": "p", "name": "P", "currencies": [{"currency": "usd",
                                                                       "unit_amount": 1}]})
    assert exc.value.error.params[0]["param"] == "currencies[0].currency"


def test_unknown_attributes_and_bad_json_are_bad_requests(client, http) -> None:
    with pytest.raises(recurly.errors.BadRequestError) as exc:
        client.create_account({"code": "a", "nickname": "x"})
    assert exc.value.error.params[0]["param"] == "nickname"
    r = http("POST", "/accounts", data=b"{not json")
    assert r.status_code == 400 and r.json()["error"]["type"] == "bad_request"
    r = http("POST", "/accounts", data=b'{"code": "a"}', headers={"Content-Type": "text/plain"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_content_type"
    assert http("GET", "/accounts/code-a", params={"expand": "x"}).status_code == 400


def test_account_codes_are_unique_regardless_of_case(client) -> None:
    made = client.create_account({"code": "Acme-01"})
    assert made.code == "Acme-01"  # kept as given
    assert client.get_account("code-acme-01").id == made.id
    with pytest.raises(recurly.errors.ValidationError) as exc:
        client.create_account({"code": "ACME-01"})
    assert exc.value.error.params == [{"param": "code", "message": "has already been taken"}]


@pytest.mark.parametrize("code", [".dot", "-dash", "a/b", "a;b", "x" * 51, ""])
def test_invalid_account_codes(client, code: str) -> None:
    with pytest.raises(recurly.errors.ValidationError):
        client.create_account({"code": code})


def test_plan_code_pattern_and_interval_unit(client) -> None:
    usd = [{"currency": "USD", "unit_amount": 1}]
    with pytest.raises(recurly.errors.ValidationError):
        client.create_plan({"code": "has space", "name": "P", "currencies": usd})
    with pytest.raises(recurly.errors.ValidationError):
        client.create_plan({"code": "p", "name": "P", "interval_unit": "weeks", "currencies": usd})
    with pytest.raises(recurly.errors.ValidationError):
        client.create_plan({"code": "p", "name": "P",
                            "currencies": [{"currency": "USD", "unit_amount": 1.005}]})
    assert client.create_plan({"code": "Gold+1_x-y", "name": "P", "currencies": usd}).code


def test_add_on_tier_and_decimal_rules(client, plan) -> None:
    def add(**f):
        return client.create_plan_add_on(plan.id, {"code": "t", "name": "T", **f})

    usd = [{"currency": "USD", "unit_amount": 1}]
    with pytest.raises(recurly.errors.ValidationError):  # flat add-ons have no tiers
        add(currencies=usd, tiers=[{"currencies": usd}])
    with pytest.raises(recurly.errors.ValidationError):  # the final tier is open-ended
        add(tier_type="tiered", tiers=[{"ending_quantity": 10, "currencies": usd}])
    with pytest.raises(recurly.errors.ValidationError):  # only the final tier is
        add(tier_type="volume", tiers=[{"currencies": usd}, {"currencies": usd}])
    with pytest.raises(recurly.errors.ValidationError):  # decimals are for usage add-ons
        add(currencies=[{"currency": "USD", "unit_amount_decimal": "0.5"}])
    with pytest.raises(recurly.errors.ValidationError):  # never beside unit_amount
        add(add_on_type="usage", usage_type="price",
            currencies=[{"currency": "USD", "unit_amount": 1, "unit_amount_decimal": "1"}])
    tiered = add(tier_type="stairstep", tiers=[{"ending_quantity": 10, "currencies": usd},
                                               {"currencies": usd}])
    assert [t.ending_quantity for t in tiered.tiers] == [10, None]


def test_coupon_rules(client) -> None:
    with pytest.raises(recurly.errors.ValidationError):
        client.create_coupon({"code": "p", "name": "P", "discount_type": "percent"})
    with pytest.raises(recurly.errors.ValidationError):
        client.create_coupon({"code": "f", "name": "F", "discount_type": "fixed"})
    with pytest.raises(recurly.errors.ValidationError):
        client.create_coupon({"code": "t", "name": "T", "discount_type": "percent",
                              "discount_percent": 5, "duration": "temporal"})
    with pytest.raises(recurly.errors.ValidationError):
        client.create_coupon({"code": "x", "name": "X", "discount_type": "percent",
                              "discount_percent": 5, "duration": "once"})


def test_state_rules_answer_422(client, subscribe) -> None:
    sub = subscribe()
    with pytest.raises(recurly.errors.ValidationError) as exc:
        client.reactivate_subscription(sub.id)
    assert exc.value.error.message == "Only canceled subscriptions can be reactivated"
    with pytest.raises(recurly.errors.ValidationError):
        client.pause_subscription(sub.id, {})
    with pytest.raises(recurly.errors.ValidationError):  # a currency the plan has no price in
        client.create_subscription({"plan_code": "team", "currency": "JPY",
                                    "account": {"code": "j"}})  # fmt: skip
    with pytest.raises(recurly.errors.ValidationError):
        client.create_subscription({"plan_code": "team", "currency": "USD",
                                    "account": {"code": "j"}, "add_ons": [{"code": "none"}]})

"""The calls the Chargebee scenarios make, held to Chargebee's rules: unknown parameters are
refused with Chargebee's error envelope on each endpoint they use, offline invoices wait for a
recorded payment, a failed recorded payment leaves the invoice due, and cards given on create
are checked and never echoed."""

from __future__ import annotations

from typing import Any

import pytest

from standins.chargebee import ChargebeeStandIn


def form(params: dict[str, Any]) -> dict[str, Any]:
    from chargebee import util

    return dict(util.serialize(params))


ENVELOPE = {"message", "type", "api_error_code", "http_status_code"}


def _refused(r: Any, param: str) -> None:
    assert r.status_code == 400, r.text
    body = r.json()
    assert set(body) >= ENVELOPE, body
    assert (body["type"], body["api_error_code"], body["http_status_code"]) == (
        "invalid_request", "invalid_request", 400)  # fmt: skip
    assert body["param"] == param and param in body["message"]


def _offline(http: Any, cid: str = "off") -> dict[str, Any]:
    http.ok("/item_families", id="fam", name="Fam")
    http.ok("/items", id="team", name="Team", type="plan", item_family_id="fam")
    http.ok("/item_prices", id="team-m", name="Team m", item_id="team", price=4900,
            period_unit="month")  # fmt: skip
    http.ok("/customers", id=cid, auto_collection="off")
    return http.ok(
        f"/customers/{cid}/subscription_for_items",
        **form({"subscription_items": [{"item_price_id": "team-m"}]}),
    )


@pytest.mark.parametrize(("path", "data"), [
    ("/customers", {"company": "x", "colour": "blue"}),
    ("/item_families", {"id": "f", "name": "F", "colour": "blue"}),
    ("/coupons/create_for_items", {"id": "c", "name": "C", "discount_type": "percentage",
                                   "discount_percentage": "5", "duration_type": "forever",
                                   "apply_on": "invoice_amount", "colour": "blue"}),
    ("/time_machines/delorean/travel_forward", {"destination_time": "1893577600",
                                                "colour": "blue"}),
])  # fmt: skip
def test_unknown_parameters_are_refused_with_chargebee_envelope(
    http: Any, path: str, data: dict[str, str]
) -> None:
    _refused(http.post(path, **data), "colour")


def test_unknown_card_and_transaction_fields_are_refused(http: Any) -> None:
    _refused(http.post("/customers", **{"card[colour]": "blue"}), "card[colour]")
    made = _offline(http)
    _refused(http.post(f"/invoices/{made['invoice']['id']}/record_payment",
                       **{"transaction[payment_method]": "cash", "transaction[colour]": "x"}),
             "transaction[colour]")  # fmt: skip


def test_an_offline_customer_owes_until_a_payment_is_recorded(
    http: Any, standin: ChargebeeStandIn
) -> None:
    made = _offline(http)
    inv, sub = made["invoice"], made["subscription"]
    # Formerly the stand-in charged an auto_collection off customer as if it had a card.
    assert (inv["status"], inv["amount_due"], sub["due_invoices_count"]) == \
        ("payment_due", 4900, 1)  # fmt: skip
    assert "dunning_status" not in inv  # no dunning for offline collection
    path = f"/invoices/{inv['id']}/record_payment"
    failed = http.ok(path, **{"transaction[payment_method]": "bank_transfer",
                              "transaction[status]": "failure"})  # fmt: skip
    assert failed["transaction"]["status"] == "failure"
    assert failed["invoice"]["status"] == "payment_due"
    standin.advance_time(3600)  # dunning's retry must not pay an offline invoice
    assert standin.store.data["subscription"][sub["id"]]["due_invoices_count"] == 1
    part = http.ok(path, **{"transaction[payment_method]": "cash", "transaction[amount]": 900})
    assert (part["invoice"]["status"], part["invoice"]["amount_due"]) == ("payment_due", 4000)
    paid = http.ok(path, **{"transaction[payment_method]": "cash"})
    assert (paid["invoice"]["status"], paid["transaction"]["amount"]) == ("paid", 4000)
    got = http.session.get(f"{http.base}/subscriptions/{sub['id']}", timeout=5).json()
    assert got["subscription"]["due_invoices_count"] == 0
    again = http.post(path, **{"transaction[payment_method]": "cash"})
    assert again.status_code == 400 and again.json()["api_error_code"] == \
        "invalid_state_for_request"  # fmt: skip


def test_record_payment_checks_its_values(http: Any) -> None:
    path = f"/invoices/{_offline(http)['invoice']['id']}/record_payment"
    r = http.post(path, **{"transaction[status]": "failure"})
    assert r.status_code == 400 and r.json()["param"] == "transaction[payment_method]"
    r = http.post(path, **{"transaction[payment_method]": "card"})  # a gateway method
    assert r.status_code == 400 and r.json()["api_error_code"] == "param_wrong_value"
    r = http.post(path, **{"transaction[payment_method]": "cash", "transaction[amount]": 5000})
    assert r.status_code == 400 and r.json()["param"] == "transaction[amount]"
    assert (
        http.post(
            "/invoices/nope/record_payment", **{"transaction[payment_method]": "cash"}
        ).status_code
        == 404
    )


def test_a_card_on_create_is_checked_and_only_its_shape_kept(http: Any) -> None:
    card = {"card[number]": "4111111111111111", "card[expiry_month]": "12",
            "card[expiry_year]": "2040", "card[cvv]": "100"}  # fmt: skip
    made = http.ok("/customers", id="carded", **card)
    assert made["customer"]["card_status"] == "valid"
    assert (made["card"]["last4"], made["card"]["card_type"]) == ("1111", "visa")
    assert "4111111111111111" not in str(made)
    bad = http.post("/customers", **{**card, "card[number]": "4111111111111112"})
    assert bad.status_code == 400 and bad.json()["param"] == "card[number]"
    old = http.post("/customers", **{**card, "card[expiry_year]": "2020"})
    assert old.status_code == 400 and old.json()["param"] == "card[expiry_year]"

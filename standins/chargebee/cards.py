"""Cards given with ``card[...]`` on customer create, as on a site with Chargebee's test
gateway: a well-formed number (Luhn) with a future expiry becomes the customer's valid card.

Only the card's shape is kept (last four digits, brand, expiry), never the number. Every card
the stand-in accepts pays; failing payments are set with ``fail_payments`` or come from an
``auto_collection: off`` customer's unpaid invoice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .errors import blank, wrong_value
from .params import unknown_param

__all__ = ["CARD_FIELDS", "read_card"]

CARD_FIELDS = ("number", "expiry_month", "expiry_year", "cvv", "first_name", "last_name",
               "gateway_account_id")  # fmt: skip


def _luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def read_card(given: dict[str, str], customer_id: str, now: int) -> dict[str, Any] | None:
    """The card record for ``card[...]`` parameters, or None when none were given."""
    if not given:
        return None
    for key in given:
        if key not in CARD_FIELDS:
            raise unknown_param(f"card[{key}]")
    for key in ("number", "expiry_month", "expiry_year"):
        if not given.get(key):
            raise blank(f"card[{key}]")
    number = given["number"].replace(" ", "")
    if not number.isdigit() or not 12 <= len(number) <= 19 or not _luhn(number):
        raise wrong_value("card[number]", "invalid card number")
    month, year = given["expiry_month"], given["expiry_year"]
    if not month.isdigit() or not 1 <= int(month) <= 12:
        raise wrong_value("card[expiry_month]", "invalid expiry month")
    today = datetime.fromtimestamp(now, UTC)
    if not year.isdigit() or (int(year), int(month)) < (today.year, today.month):
        raise wrong_value("card[expiry_year]", "the card has expired")
    cvv = given.get("cvv")
    if cvv is not None and not (cvv.isdigit() and 3 <= len(cvv) <= 4):
        raise wrong_value("card[cvv]", "invalid cvv")
    brand = {"4": "visa", "5": "mastercard", "3": "american_express"}.get(number[0], "other")
    return {
        "payment_source_id": f"pm_{customer_id[:20]}", "status": "valid",
        "gateway": "chargebee", "iin": number[:6], "last4": number[-4:], "card_type": brand,
        "funding_type": "credit", "expiry_month": int(month), "expiry_year": int(year),
        "masked_number": "*" * (len(number) - 4) + number[-4:], "customer_id": customer_id,
        "first_name": given.get("first_name"), "last_name": given.get("last_name"),
        "object": "card",
    }  # fmt: skip

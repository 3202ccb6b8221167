"""The diff settles common fields before asking ``same_value``: it must never disagree with it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from itertools import product
from typing import Any

from sync.core.diff import diff_record
from sync.core.mapping import DesiredRecord
from sync.core.values import same_value

MOMENT = datetime(2026, 3, 1, 10, 30, 15, 123456, tzinfo=UTC)
DESIRED: list[Any] = [
    None, "", "Pro", "2026-03-01", 0, 1, 3, 2**60, True, False,
    Decimal("0.00"), Decimal("49.00"), Decimal("0.1"), Decimal("1E+2"), Decimal("-0"),
    Decimal("12345678901234.57"), Decimal("NaN"), 0.1, 49.0, float("nan"),
    date(2026, 3, 1), MOMENT, MOMENT.replace(tzinfo=None),
    MOMENT.astimezone(timezone(timedelta(hours=5))),
]  # fmt: skip
# What Salesforce's JSON can hold, and what a test may hand in.
CURRENT: list[Any] = [
    *DESIRED, "pro", "49.00", "49", "1E+2", "0.10", "2026-3-1", "20260301", "2026-03-02",
    "2026-03-01T10:30:15.123+0000", "2026-03-01T10:30:15.000+0000", 49, 1.0, 3.0, 0.0, -0.0,
    100.0, 1e22, 2.0**60, 1.152921504606847e18, 12345678901234.57, float("inf"), [1], {"a": 1},
]  # fmt: skip


def _outcome(call: Any) -> Any:
    try:
        return bool(call())
    except Exception as exc:  # a value same_value cannot compare fails the same way in the diff
        return type(exc)


def _changes(desired: Any, current: dict[str, Any]) -> Any:
    record = DesiredRecord("Subscription__c", "sub_1", {"F__c": desired}, key_field="K__c")
    return _outcome(lambda: diff_record(record, {"Id": "a01", **current}) is not None)


def test_every_field_is_changed_exactly_when_same_value_says_so() -> None:
    for desired, current in product(DESIRED, CURRENT):
        expected = _outcome(lambda d=desired, c=current: not same_value(d, c))
        assert _changes(desired, {"F__c": current}) == expected, (desired, current)


def test_a_missing_field_is_compared_as_null() -> None:
    for desired in DESIRED:
        assert _changes(desired, {}) == _outcome(lambda d=desired: not same_value(d, None))


def test_a_change_holds_the_current_and_the_desired_value() -> None:
    record = DesiredRecord("Account", "cus_1", {"MRR__c": Decimal("49.00"), "N": "A"})
    change = diff_record(record, {"Id": "001", "MRR__c": 48.99, "N": "A"})
    assert change is not None and change.fields == {"MRR__c": (48.99, Decimal("49.00"))}

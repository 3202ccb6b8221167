"""The diff: only records with a changed field are written, whatever JSON form Salesforce uses."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from sync.core.diff import diff_record, diff_records
from sync.core.mapping import DesiredRecord, map_customer
from sync.core.values import same_value, to_salesforce
from tests.core.factories import customer, forever, item, price, sub, ts

NOW = ts(2026, 11, 26, 11)
LATER = NOW + timedelta(minutes=15)
D = Decimal


def as_salesforce_returns(record: DesiredRecord, record_id: str) -> dict:
    """What a SOQL query returns for a record written from ``record`` (through real JSON)."""
    body = {name: to_salesforce(value) for name, value in record.fields.items()}
    body.update({name: to_salesforce(value) for name, value in record.stamps.items()})
    body = {k: (None if v == "" else v) for k, v in body.items()}
    body["Id"] = record_id
    body["attributes"] = {"type": record.sobject, "url": f"/services/data/v66.0/x/{record_id}"}
    return json.loads(json.dumps(body))


def sample():
    return customer(
        sub(
            item(price(4990, "year", name="Pro"), 3, end=ts(2027, 1, 1)),
            id="sub_a",
            discounts=[forever("10")],
            trial_end=ts(2026, 1, 1),
        ),
        sub(
            item(price(1000, name="Seat", currency="usd")),
            id="sub_b",
            status="canceled",
            ended_at=ts(2026, 6, 1),
        ),
    )


def test_nothing_changed_writes_nothing():
    mapping = map_customer("cus_1", sample(), "001A", NOW)
    current_account = {"cus_1": as_salesforce_returns(mapping.account, "001A")}
    current_subs = {r.key: as_salesforce_returns(r, f"a00{r.key}") for r in mapping.subscriptions}
    # a later cycle, new stamps, same billing state
    again = map_customer("cus_1", sample(), "001A", LATER)
    assert diff_records([again.account], current_account) == []
    assert diff_records(again.subscriptions, current_subs) == []


def test_one_changed_field_is_the_only_change_and_the_stamp_rides_along():
    before = map_customer("cus_1", sample(), "001A", NOW)
    current = {"cus_1": as_salesforce_returns(before.account, "001A")}
    changed = map_customer(
        "cus_1",
        customer(*sample().subscriptions, sub(id="sub_c", status="past_due")),
        "001A",
        LATER,
    )
    [change] = diff_records([changed.account], current)
    assert change.record_id == "001A" and not change.is_create
    # the new plan is another "Pro" (plan names are deduplicated) without a period end, so
    # only status and MRR move: 11.23 (sub_a) + 10.00 (sub_c)
    assert change.fields == {
        "Billing_Status__c": ("Active", "Past Due"),
        "MRR__c": (11.23, D("21.23")),
    }
    payload = change.payload()
    assert payload["attributes"] == {"type": "Account"}
    assert payload["Id"] == "001A"
    assert payload["Last_Billing_Sync__c"] == "2026-11-26T11:15:00.000+0000"
    assert "Stripe_Customer_Id__c" not in payload
    json.dumps(payload)  # JSON-ready


@pytest.mark.parametrize(
    ("desired", "current"),
    [
        (D("1234.50"), 1234.5),
        (D("1234.50"), 1234.50),
        (D("1234.50"), "1234.50"),
        (D("0.00"), 0),
        (D("10000.00"), 10000.0),
        (3, 3.0),
        (date(2026, 12, 1), "2026-12-01"),
        (datetime(2026, 11, 26, 11, 17, 22, tzinfo=UTC), "2026-11-26T11:17:22.000+0000"),
        # Salesforce keeps milliseconds only
        (
            datetime(2026, 11, 26, 11, 17, 22, 123456, tzinfo=UTC),
            "2026-11-26T11:17:22.123+0000",
        ),
        # same instant in another zone
        (
            datetime(2026, 11, 26, 12, 17, 22, tzinfo=timezone(timedelta(hours=1))),
            "2026-11-26T11:17:22.000+0000",
        ),
        (True, True),
        (False, False),
        (False, None),
        ("", None),
        (None, ""),
        (None, None),
        ("Pro, Team", "Pro, Team"),
    ],
)
def test_equivalent_forms_are_equal(desired, current):
    assert same_value(desired, current)


@pytest.mark.parametrize(
    ("desired", "current"),
    [
        (D("1234.50"), 1234.51),
        (D("0.00"), None),  # empty MRR (mixed currencies) is not zero
        (None, 0),
        (3, 4.0),
        (date(2026, 12, 1), "2026-12-02"),
        (date(2026, 12, 1), None),
        (datetime(2026, 11, 26, 11, 17, 22, tzinfo=UTC), "2026-11-26T11:17:23.000+0000"),
        (True, False),
        (True, None),
        ("Pro", "pro"),  # picklist and text values are case-sensitive
        ("Pro", None),
        (D("1"), "not a number"),
        (date(2026, 12, 1), "garbage"),
    ],
)
def test_different_values_are_different(desired, current):
    assert not same_value(desired, current)


def test_payload_values():
    assert to_salesforce(D("1234.50")) == 1234.5
    assert to_salesforce(D("0.10")) == 0.1
    # beyond what a float holds exactly: a string, which Salesforce parses as a number
    assert to_salesforce(D("12345678901234567.89")) == "12345678901234567.89"
    assert to_salesforce(date(2026, 12, 1)) == "2026-12-01"
    assert to_salesforce(datetime(2026, 11, 26, 11, 17, 22, 987654, tzinfo=UTC)) == (
        "2026-11-26T11:17:22.987+0000"
    )
    eastern = timezone(timedelta(hours=-5))
    assert to_salesforce(datetime(2026, 11, 26, 23, 0, tzinfo=eastern)) == (
        "2026-11-27T04:00:00.000+0000"
    )
    assert to_salesforce(datetime(2026, 11, 26, 11, 0)) == "2026-11-26T11:00:00.000+0000"
    assert to_salesforce(None) is None and to_salesforce(True) is True
    with pytest.raises(TypeError):
        to_salesforce(object())


def test_new_subscription_is_an_upsert_by_external_id():
    mapping = map_customer("cus_1", sample(), "001A", NOW)
    changes = diff_records(mapping.subscriptions, {})
    assert [c.key for c in changes] == ["sub_a", "sub_b"]
    new = changes[0]
    assert new.is_create and new.record_id is None
    payload = new.payload()
    assert payload["Stripe_Subscription_Id__c"] == "sub_a"
    assert "Id" not in payload
    assert "Ended_At__c" not in payload  # nothing to say about an empty field on create
    assert payload["Last_Synced__c"] == "2026-11-26T11:00:00.000+0000"
    # 4990 x 3 / 12 = 1247.5c; 10% off forever = 1122.75c = 11.2275 -> 11.23
    assert payload["MRR__c"] == 11.23
    json.dumps(payload)


def test_existing_subscription_update_keeps_the_external_id_and_no_id():
    mapping = map_customer("cus_1", sample(), "001A", NOW)
    record = mapping.subscriptions[0]
    current = as_salesforce_returns(record, "a00X")
    current["Status__c"] = "trialing"
    change = diff_record(record, current)
    assert change is not None and change.record_id == "a00X"
    assert change.fields == {"Status__c": ("trialing", "active")}
    assert change.desired["Account__c"] == "001A"  # unchanged, so not in the payload
    payload = change.payload()
    assert payload == {
        "attributes": {"type": "Subscription__c"},
        "Stripe_Subscription_Id__c": "sub_a",
        "Status__c": "active",
        "Last_Synced__c": "2026-11-26T11:00:00.000+0000",
        # v2 stamps: backfilled on the records that change anyway, never a reason to write
        "Billing_System__c": "Stripe",
        "Billing_Customer_Id__c": "cus_1",
    }


def test_a_stamp_alone_is_not_a_change():
    record = DesiredRecord(
        "Account", "cus_1", {"MRR__c": D("5.00")}, {"Last_Billing_Sync__c": LATER}
    )
    current = {"Id": "001A", "MRR__c": 5.0, "Last_Billing_Sync__c": "2020-01-01T00:00:00.000+0000"}
    assert diff_record(record, current) is None


def test_accounts_are_never_created():
    record = DesiredRecord("Account", "cus_1", {"MRR__c": D("5.00")})
    with pytest.raises(ValueError, match="never created"):
        diff_records([record], {})


def test_records_salesforce_holds_but_we_do_not_map_are_left_alone():
    record = DesiredRecord(
        "Subscription__c", "sub_a", {"Status__c": "active"}, key_field="Stripe_Subscription_Id__c"
    )
    current = {
        "sub_a": {"Id": "a001", "Status__c": "active"},
        "sub_vanished": {"Id": "a002", "Status__c": "active"},
    }
    assert diff_records([record], current) == []


def test_the_same_record_twice_is_refused():
    record = DesiredRecord("Subscription__c", "sub_a", {}, key_field="Stripe_Subscription_Id__c")
    with pytest.raises(ValueError, match="twice"):
        diff_records([record, record], {})

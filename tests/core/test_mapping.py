"""Mapping a customer to the Account fields and Subscription__c records Salesforce should hold."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from metadata import schema
from metadata.billing_systems import BILLING_SYSTEMS, STRIPE
from sync.core.mapping import (
    ACCOUNT_STAMP,
    SUBSCRIPTION_STAMP,
    join_within,
    map_account,
    map_customer,
    map_subscription,
    to_date,
)
from tests.core.factories import customer, forever, item, price, sub, ts

NOW = ts(2026, 11, 26, 11)
D = Decimal


def account_fields(c, customer_id="cus_1"):
    record, problems = map_account(customer_id, c, NOW)
    return record.fields, problems


def test_account_fields_for_a_typical_customer():
    c = customer(
        sub(item(price(4900, name="Starter"), end=ts(2026, 12, 15)), id="sub_small"),
        sub(
            item(price(99000, "year", name="Enterprise"), 2, end=ts(2027, 3, 1)),
            id="sub_big",
            status="past_due",
        ),
        sub(item(price(1000, name="Legacy")), id="sub_old", status="canceled"),
    )
    fields, problems = account_fields(c)
    assert problems == ()
    assert fields == {
        "Billing_Status__c": "Past Due",
        # Enterprise 99000 x 2 / 12 = 16500c/month outranks Starter 4900c; Legacy has ended
        "Billing_Plan__c": "Enterprise, Starter",
        "MRR__c": D("214.00"),  # 165.00 + 49.00
        "Billing_Currency__c": "USD",
        "Renewal_Date__c": date(2026, 12, 15),
    }
    record, _ = map_account("cus_1", c, NOW)
    assert record.stamps == {ACCOUNT_STAMP: NOW}
    assert record.key == "cus_1" and record.key_field is None  # Accounts: update by Id only


def test_plan_order_counts_value_even_when_not_billing_and_names_are_deduplicated():
    c = customer(
        sub(item(price(900, name="Basic")), id="sub_a"),
        sub(item(price(50000, name="Enterprise")), id="sub_b", status="trialing"),
        sub(item(price(900, name="Basic")), id="sub_c"),
    )
    fields, _ = account_fields(c)
    assert fields["Billing_Plan__c"] == "Enterprise, Basic"
    assert fields["Billing_Status__c"] == "Active"
    assert fields["MRR__c"] == D("18.00")  # the trial counts for nothing yet


def test_plan_text_stays_within_the_field_and_says_what_was_left_out():
    many = customer(
        *(
            sub(item(price(1000 + n, name=f"Plan number {n:02d} " + "x" * 20)), id=f"sub_{n}")
            for n in range(20)
        )
    )
    fields, _ = account_fields(many)
    text = fields["Billing_Plan__c"]
    assert len(text) <= 255
    assert text.startswith("Plan number 19")  # most valuable first
    assert text.endswith(" more)")
    shown = text.count("Plan number")
    assert text.endswith(f"(+{20 - shown} more)")


def test_join_within_cuts_a_single_overlong_name():
    assert join_within(["y" * 300], 255) == "y" * 254 + "…"
    assert join_within([], 255) is None


def test_renewal_date_skips_subscriptions_that_will_not_renew():
    c = customer(
        sub(item(end=ts(2026, 12, 1)), id="sub_ending", cancel_at_period_end=True),
        sub(item(end=ts(2026, 12, 2)), id="sub_cancel_at", cancel_at=ts(2027, 1, 1)),
        sub(item(end=ts(2026, 12, 3)), id="sub_paused", status="paused"),
        sub(item(end=ts(2026, 12, 4)), id="sub_gone", status="canceled"),
        sub(item(end=ts(2026, 12, 20)), id="sub_trial", status="trialing"),
        sub(item(end=ts(2027, 1, 5)), id="sub_live"),
    )
    fields, _ = account_fields(c)
    assert fields["Renewal_Date__c"] == date(2026, 12, 20)
    only_ending = customer(sub(item(end=ts(2026, 12, 1)), cancel_at_period_end=True))
    ending_fields, _ = account_fields(only_ending)
    assert ending_fields["Renewal_Date__c"] is None
    assert ending_fields["Billing_Status__c"] == "Canceling"


def test_mixed_currencies_empty_the_mrr_and_report_a_validation_problem():
    c = customer(
        sub(item(price(1000, currency="usd")), id="sub_usd"),
        sub(item(price(1000, currency="eur")), id="sub_eur"),
    )
    fields, problems = account_fields(c)
    assert fields["MRR__c"] is None and fields["Billing_Currency__c"] is None
    [problem] = problems
    assert (problem.category, problem.code, problem.customer_id) == (
        "Validation",
        "MIXED_CURRENCY",
        "cus_1",
    )
    assert "EUR and USD" in problem.message


def test_deleted_customer_is_churned_with_nothing_live():
    fields, problems = account_fields(customer(sub(), deleted=True))
    assert problems == ()
    assert fields == {
        "Billing_Status__c": "Churned",
        "Billing_Plan__c": None,
        "MRR__c": D("0.00"),
        "Billing_Currency__c": None,
        "Renewal_Date__c": None,
    }
    assert account_fields(None, "cus_gone")[0] == fields


def test_customer_without_subscriptions():
    fields, _ = account_fields(customer())
    assert fields["Billing_Status__c"] == "No Subscription"
    assert fields["MRR__c"] == D("0.00") and fields["Billing_Plan__c"] is None


def test_unknown_status_leaves_the_status_alone_and_is_reported():
    fields, problems = account_fields(customer(sub(status="frozen")))
    assert "Billing_Status__c" not in fields
    assert [p.code for p in problems] == ["UNKNOWN_STATUS"]
    assert problems[0].record == {"subscription": "sub_1"}


def test_subscription_record():
    s = sub(
        item(price(2000, "month", 3, currency="jpy", name="Team"), 4, end=ts(2027, 2, 1)),
        item(price(1, name="API calls", usage_type="metered"), end=ts(2027, 2, 1)),
        id="sub_team",
        customer_id="cus_9",
        status="active",
        cancel_at_period_end=True,
        canceled_at=ts(2026, 11, 20),
        trial_end=ts(2026, 1, 10),
        start_date=ts(2025, 12, 31, 23),
    )
    record = map_subscription(s, "001000000000001AAA", NOW)
    assert record.sobject == "Subscription__c"
    assert (record.key, record.key_field) == ("sub_team", "Stripe_Subscription_Id__c")
    assert record.stamps == {
        SUBSCRIPTION_STAMP: NOW, "Billing_System__c": "Stripe", "Billing_Customer_Id__c": "cus_9"
    }
    assert record.fields == {
        "Name": "Team, API calls",
        "Account__c": "001000000000001AAA",
        "Stripe_Subscription_Id__c": "sub_team",
        "Stripe_Customer_Id__c": "cus_9",
        "Status__c": "active",
        "Plan__c": "Team, API calls",
        "MRR__c": D("2666.67"),  # 2000 yen x 4 / 3 months = 2666.666...
        "Currency__c": "JPY",
        "Quantity__c": 4,
        "Interval__c": "3 months",
        "Current_Period_End__c": date(2027, 2, 1),
        "Cancel_At_Period_End__c": True,
        "Cancel_At__c": None,
        "Canceled_At__c": date(2026, 11, 20),
        "Ended_At__c": None,
        "Trial_End__c": date(2026, 1, 10),
        "Started_At__c": date(2025, 12, 31),
    }


def test_subscription_name_is_cut_to_the_80_characters_of_a_name_field():
    s = sub(item(price(1000, name="A very long product name " * 5)))
    fields = map_subscription(s, "001x", NOW).fields
    assert len(fields["Name"]) == 80 and fields["Name"].endswith("…")
    assert fields["Plan__c"] == ("A very long product name " * 5).strip()


def test_plan_name_falls_back_to_the_nickname():
    p = price(1000, name="", nickname="Gold monthly")
    assert map_subscription(sub(item(p)), None, NOW).fields["Name"] == "Gold monthly"


def test_dates_are_utc_calendar_dates():
    late_in_new_york = datetime(2026, 12, 1, 22, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert to_date(late_in_new_york) == date(2026, 12, 2)
    assert to_date(datetime(2026, 12, 1, 23, 59)) == date(2026, 12, 1)  # naive is UTC


def test_map_customer_links_every_subscription_to_the_account():
    c = customer(sub(id="sub_a"), sub(id="sub_b", status="canceled"))
    mapping = map_customer("cus_1", c, "001A", NOW)
    assert [r.key for r in mapping.subscriptions] == ["sub_a", "sub_b"]
    assert {r.fields["Account__c"] for r in mapping.subscriptions} == {"001A"}
    assert mapping.account.fields["Billing_Status__c"] == "Active"


def test_mapped_names_are_the_schema_fields():
    account, _ = map_account("cus_1", customer(sub()), NOW)
    owned = {f.name for f in schema.owned_fields("Account")}
    # everything but the match keys, which admins set and we only read
    keys = {s.account_field for s in BILLING_SYSTEMS}
    assert set(account.fields) | set(account.stamps) == owned - keys
    sub_fields = {f.name for f in schema.SUBSCRIPTION.fields} | {"Name"}
    # Each provider writes its own external ID, and the provider MRR only where reported.
    for system in BILLING_SYSTEMS:
        others = {s.subscription_key for s in BILLING_SYSTEMS if s is not system}
        record = map_subscription(sub(reported_mrr=D(100)), "001A", NOW, system)
        stripe_only = {"Stripe_Customer_Id__c"} if system is not STRIPE else set()
        expected = sub_fields - others - stripe_only
        assert set(record.fields) | set(record.stamps) == expected, system.key


def test_status_values_fit_the_subscription_picklist():
    allowed = set(schema.SUBSCRIPTION.field("Status__c").picklist_values)
    for status in allowed:
        assert map_subscription(sub(status=status), None, NOW).fields["Status__c"] in allowed


def test_forever_discount_reaches_the_subscription_record():
    s = sub(item(price(10000)), discounts=[forever("20")])
    assert map_subscription(s, None, NOW).fields["MRR__c"] == D("80.00")


def test_provider_mrr_is_shown_and_a_difference_over_one_percent_is_a_notice():
    from metadata.billing_systems import CHARGEBEE
    from sync.core.mrr_check import MRR_MISMATCH

    # Ours: 100.00 a month. Chargebee says 100.90 (0.9% off: fine) or 102.00 (2%: a notice).
    close = customer(sub(item(price(10000)), id="sub_ok", reported_mrr=D(10090)))
    mapping = map_customer("cust_1", close, "001A", NOW, CHARGEBEE)
    record = mapping.subscriptions[0]
    assert record.fields["Provider_MRR__c"] == D("100.90")
    assert record.fields["MRR__c"] == D("100.00")
    assert record.key_field == "Chargebee_Subscription_Id__c"
    assert record.fields["Billing_Customer_Id__c"] == "cus_1"
    assert record.stamps["Billing_System__c"] == "Chargebee"
    assert "Stripe_Customer_Id__c" not in record.fields and not mapping.problems

    off = customer(sub(item(price(10000)), id="sub_off", reported_mrr=D(10200)))
    (notice,) = map_customer("cust_1", off, "001A", NOW, CHARGEBEE).problems
    assert notice.code == MRR_MISMATCH and notice.subject == "sub_off"
    assert "102.00" in notice.message and "100.00" in notice.message
    assert notice.record == {"subscription": "sub_off", "provider_mrr": "102.00", "mrr": "100.00"}
    # Both zero (a cancelled subscription) is agreement, not a division by zero.
    ended = customer(sub(item(price(10000)), status="canceled", reported_mrr=D(0)))
    assert not map_customer("cust_1", ended, "001A", NOW, CHARGEBEE).problems


def test_no_mrr_notice_for_a_deleted_customer_or_an_ended_subscription():
    from metadata.billing_systems import CHARGEBEE

    # Chargebee keeps the last `mrr` on a deleted customer's subscriptions; ours is 0.00.
    kept = sub(item(price(2900)), reported_mrr=D(2900))
    from sync.model import Customer

    deleted = Customer(id="cust_1", deleted=True, subscriptions=(kept,))
    assert not map_customer("cust_1", deleted, "001A", NOW, CHARGEBEE).problems
    ended = customer(sub(item(price(2900)), status="canceled", reported_mrr=D(2900)))
    assert not map_customer("cust_1", ended, "001A", NOW, CHARGEBEE).problems

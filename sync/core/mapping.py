"""Billing values -> the field values Salesforce should hold (pure; ``now`` is passed in).

Keys are field API names from ``metadata.schema``; Text values are cut to their field length.

Rules decided here (the data model leaves them open):
- *Live* means not ended (neutral state anything but ``ended``). Billing_Plan__c and
  the currency check look at live subscriptions.
- Renewal_Date__c is the earliest current period end of a live subscription that is not
  scheduled to end and will bill again: paused and incomplete subscriptions do not renew.
- Dates are the UTC calendar date of the provider's timestamp (a naive datetime is UTC).
- A deleted customer (or ``None``) is Churned with MRR 0.00 and no plan, currency or renewal.
  ``None`` is for a customer the provider reports deleted without details; an id the provider
  has never heard of is a Matching error and must not be mapped at all.
- With no live subscription, MRR__c is 0.00 and Billing_Currency__c empty.
- A subscription's plan name is its items' product names (nickname, then price id, as
  fallbacks), most valuable item first; Quantity__c and Interval__c are those of the most
  valuable licensed item.
- Last_Billing_Sync__c / Last_Synced__c are *stamps*: written with every record that is
  written anyway, never a reason to write (else an unchanged cycle would rewrite every
  Account). They therefore mean "when billing-sync last wrote a change to this record"; the
  SQLite run history says when the last cycle confirmed everything matched.
- Per provider (``BillingSystem``): the external ID a Subscription__c is upserted by and the
  field holding its customer id. Billing_System__c (and, for Stripe, the neutral
  Billing_Customer_Id__c) are stamps: constant for a record, so they are written with every
  write but never cause one, and a v1 org's Stripe records are not all rewritten on upgrade.
- Provider_MRR__c is the provider's own MRR where it reports one (Chargebee); a difference
  over 1% from ours is a Notice (MRR_MISMATCH) with both numbers, the records still written.
- A Subscription__c that Salesforce holds but the snapshot no longer lists is left alone:
  Stripe keeps canceled subscriptions (we list with status=all), so one that vanished was
  deleted with test data or moved away with its customer, and its last state is history worth
  keeping. Nothing here deletes records.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from metadata import schema
from metadata.billing_systems import STRIPE, BillingSystem
from metadata.schema import Category
from sync.core.facts import SubscriptionFacts, dedupe, plan_name
from sync.core.failures import Failure
from sync.core.money import to_major
from sync.core.mrr import customer_mrr, rollup_mrr
from sync.core.mrr_check import mrr_mismatch
from sync.core.status import UnknownStatus, account_status, is_live, is_scheduled_to_end
from sync.model import Customer, Subscription

__all__ = [
    "ACCOUNT",
    "ACCOUNT_STAMP",
    "SUBSCRIPTION",
    "SUBSCRIPTION_KEY",
    "SUBSCRIPTION_STAMP",
    "CustomerMapping",
    "DesiredRecord",
    "catalog_ids",
    "cleared_account",
    "interval_label",
    "join_within",
    "map_account",
    "map_customer",
    "map_subscription",
    "plan_name",
    "to_date",
    "truncate",
]

ACCOUNT = "Account"
SUBSCRIPTION = schema.SUBSCRIPTION.name
SUBSCRIPTION_KEY = STRIPE.subscription_key  # v1's; each provider has its own (BillingSystem)
ACCOUNT_STAMP = "Last_Billing_Sync__c"
SUBSCRIPTION_STAMP = "Last_Synced__c"
# Neutral states that bill again at the period end.
RENEWING_STATUSES = frozenset({"active", "past_due", "trialing", "unpaid"})
ELLIPSIS = "…"
ACCOUNT_BILLING_FIELDS = (
    "Billing_Status__c",
    "Billing_Plan__c",
    "MRR__c",
    "Billing_Currency__c",
    "Renewal_Date__c",
)


@dataclass(frozen=True)
class DesiredRecord:
    """What one Salesforce record should hold.

    ``key`` is the Stripe id the record is matched on. ``key_field`` names the external-ID
    field to upsert by; None means update by Salesforce Id only (Accounts: never created).
    ``stamps`` are written along with a change but never cause one.
    """

    sobject: str
    key: str
    fields: Mapping[str, Any]
    stamps: Mapping[str, Any] = field(default_factory=dict)
    key_field: str | None = None
    # Whose record this is (the linked Account, the billing customer).
    account_id: str | None = None
    customer_id: str | None = None


@dataclass(frozen=True)
class CustomerMapping:
    account: DesiredRecord
    subscriptions: tuple[DesiredRecord, ...]
    # Data problems to record (the records are still written): Validation failures.
    problems: tuple[Failure, ...] = ()


def _problem(
    code: str,
    message: str,
    customer_id: str,
    account_id: str | None,
    record: Mapping[str, Any] | None = None,
) -> Failure:
    return Failure(
        Category.VALIDATION,
        code,
        message,
        account_id or customer_id,
        account_id,
        customer_id,
        record or {},
        attempted=False,
    )


def _length(sobject: str, name: str) -> int:
    if sobject == ACCOUNT:
        fields = {f.name: f for f in schema.owned_fields(ACCOUNT)}
        length = fields[name].length
    else:
        length = schema.SUBSCRIPTION.field(name).length
    if length is None:
        raise KeyError(f"{sobject}.{name} is not a Text field")
    return length


# Looked up once: every record is cut to these.
_NAME_LENGTH = _length(SUBSCRIPTION, "Name")
_PLAN_LENGTH = _length(SUBSCRIPTION, "Plan__c")
_INTERVAL_LENGTH = _length(SUBSCRIPTION, "Interval__c")
_BILLING_PLAN_LENGTH = _length(ACCOUNT, "Billing_Plan__c")


def truncate(value: str | None, length: int) -> str | None:
    """Cut to ``length`` characters, marking the cut with an ellipsis."""
    if value is None or len(value) <= length:
        return value
    return value[: length - 1] + ELLIPSIS


def join_within(names: Iterable[str], length: int, sep: str = ", ") -> str | None:
    """Join whole names within ``length``; what does not fit is counted: "A, B (+2 more)"."""
    names = list(names)
    if not names:
        return None
    if len(names) == 1 and len(names[0]) <= length:
        return names[0]
    for keep in range(len(names), 0, -1):
        left = len(names) - keep
        text = sep.join(names[:keep]) + (f" (+{left} more)" if left else "")
        if len(text) <= length:
            return text
    return truncate(names[0], length)


def to_date(moment: datetime | None) -> date | None:
    if moment is None:
        return None
    if moment.tzinfo is UTC:  # as adapters make them: already the UTC calendar date
        return moment.date()
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).date()


def interval_label(interval: str, count: int) -> str:
    """ "month", "3 months", "year": how Interval__c reads."""
    return interval if count == 1 else f"{count} {interval}s"


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _value_order(subscriptions: list[SubscriptionFacts]) -> list[SubscriptionFacts]:
    # Compare in major units so a yen plan does not outrank a dollar plan by 100x; name and id
    # break ties so the joined text is stable from cycle to cycle (no spurious writes).
    if len(subscriptions) == 1:
        # Nothing to order, but the value and name are asked for as the sort key would.
        subscriptions[0].major()
        subscriptions[0].name()
        return subscriptions
    return sorted(subscriptions, key=lambda f: (-f.major(), f.name(), f.sub.id))


def map_subscription(
    subscription: Subscription,
    account_id: str | None,
    now: datetime,
    system: BillingSystem = STRIPE,
) -> DesiredRecord:
    return _map_subscription(SubscriptionFacts(subscription), account_id, now, system)


def _map_subscription(
    facts: SubscriptionFacts, account_id: str | None, now: datetime, system: BillingSystem
) -> DesiredRecord:
    subscription = facts.sub
    main = facts.main()
    name = facts.name()
    licensed = main is not None and main.price.usage_type != "metered"
    stamps: dict[str, Any] = {SUBSCRIPTION_STAMP: now, "Billing_System__c": system.label}
    if system.customer_field != "Billing_Customer_Id__c":
        stamps["Billing_Customer_Id__c"] = subscription.customer_id
    fields: dict[str, Any] = {
        "Name": truncate(name, _NAME_LENGTH),
        "Account__c": account_id,
        system.subscription_key: subscription.id,
        system.customer_field: subscription.customer_id,
        "Status__c": subscription.status,
        "Plan__c": truncate(name, _PLAN_LENGTH),
        "MRR__c": facts.mrr(),
        "Currency__c": subscription.currency.upper(),
        "Quantity__c": main.quantity if main is not None and licensed else None,
        "Interval__c": (
            truncate(
                interval_label(main.price.interval, main.price.interval_count),
                _INTERVAL_LENGTH,
            )
            if main is not None
            else None
        ),
        "Current_Period_End__c": to_date(facts.end()),
        "Cancel_At_Period_End__c": bool(subscription.cancel_at_period_end),
        "Cancel_At__c": to_date(subscription.cancel_at),
        "Canceled_At__c": to_date(subscription.canceled_at),
        "Ended_At__c": to_date(subscription.ended_at),
        "Trial_End__c": to_date(subscription.trial_end),
        "Started_At__c": to_date(subscription.start_date),
    }
    if subscription.reported_mrr is not None:
        fields["Provider_MRR__c"] = to_major(subscription.reported_mrr, subscription.currency)
    return DesiredRecord(
        sobject=SUBSCRIPTION,
        key=subscription.id,
        fields=fields,
        stamps=stamps,
        key_field=system.subscription_key,
        account_id=account_id,
        customer_id=subscription.customer_id,
    )


def map_account(
    customer_id: str, customer: Customer | None, now: datetime, account_id: str | None = None
) -> tuple[DesiredRecord, tuple[Failure, ...]]:
    """Desired Account billing fields for one customer, and the problems to record."""
    facts = [SubscriptionFacts(s) for s in customer.subscriptions] if customer is not None else []
    return _map_account(customer_id, customer, now, account_id, facts)


def _map_account(
    customer_id: str,
    customer: Customer | None,
    now: datetime,
    account_id: str | None,
    facts: list[SubscriptionFacts],
) -> tuple[DesiredRecord, tuple[Failure, ...]]:
    problems: list[Failure] = []
    fields: dict[str, Any] = {}
    try:
        fields["Billing_Status__c"] = account_status(customer)
    except UnknownStatus as exc:
        # Leave the current status as it is rather than guess one.
        problems.append(
            _problem(
                "UNKNOWN_STATUS",
                f"{exc}; Billing Status is left unchanged.",
                customer_id,
                account_id,
                {"subscription": exc.subscription_id},
            )
        )
    gone = customer is None or customer.deleted
    live = [] if customer is None or gone else [f for f in facts if is_live(f.sub)]
    fields["Billing_Plan__c"] = join_within(
        dedupe(f.name() for f in _value_order(live)), _BILLING_PLAN_LENGTH
    )
    mrr = (
        customer_mrr(customer)
        if customer is None or gone
        else rollup_mrr(customer, [f.mrr() for f in facts])
    )
    if mrr.mixed_currency:
        problems.append(
            _problem(
                "MIXED_CURRENCY",
                f"Customer {customer_id} has live subscriptions in "
                f"{' and '.join(mrr.currencies)}; MRR is left empty because it cannot be "
                "added up in one currency.",
                customer_id,
                account_id,
            )
        )
    fields["MRR__c"] = mrr.amount
    fields["Billing_Currency__c"] = mrr.currency
    renewals = [
        end
        for f in live
        if f.sub.state in RENEWING_STATUSES
        and not is_scheduled_to_end(f.sub)
        and (end := f.end()) is not None
    ]
    if len(renewals) > 1:
        renewals = [min(renewals, key=_utc)]
    fields["Renewal_Date__c"] = to_date(renewals[0]) if renewals else None
    record = DesiredRecord(
        sobject=ACCOUNT,
        key=customer_id,
        fields=fields,
        stamps={ACCOUNT_STAMP: now},
        account_id=account_id,
        customer_id=customer_id,
    )
    return record, tuple(problems)


def map_customer(
    customer_id: str,
    customer: Customer | None,
    account_id: str,
    now: datetime,
    system: BillingSystem = STRIPE,
) -> CustomerMapping:
    """Everything one linked Account should hold: its fields and its Subscription__c records."""
    facts = [SubscriptionFacts(s) for s in customer.subscriptions] if customer is not None else []
    account, problems = _map_account(customer_id, customer, now, account_id, facts)
    subscriptions = (
        ()
        if customer is None
        else tuple(_map_subscription(f, account_id, now, system) for f in facts)
    )
    # Only live subscriptions of a live customer: Chargebee keeps the last `mrr` of a deleted
    # customer's subscriptions, where ours is rightly 0.00.
    compared = () if customer is None or customer.deleted else customer.subscriptions
    notices = tuple(
        notice
        for sub, record in zip(compared, subscriptions, strict=False)
        if is_live(sub)
        and (
            notice := mrr_mismatch(record.key, record.fields, system.label, customer_id, account_id)
        )
        is not None
    )
    return CustomerMapping(account, subscriptions, problems + notices)


def cleared_account(account: Mapping[str, Any], now: datetime) -> DesiredRecord:
    """An Account whose billing link was cleared: its billing fields are emptied (they would
    otherwise go on showing a customer it is no longer linked to)."""
    fields = {f: None for f in ACCOUNT_BILLING_FIELDS}
    return DesiredRecord(
        ACCOUNT, str(account["Id"]), fields, {ACCOUNT_STAMP: now}, account_id=str(account["Id"])
    )


def catalog_ids(customer: Customer | None) -> set[str]:
    """The products, prices and coupons a customer's subscriptions use: what a catalog change
    (a product renamed, a coupon deleted) must re-read."""
    if customer is None:
        return set()
    out: set[str] = set()
    for sub in customer.subscriptions:
        for coupon in sub.discounts:
            out.add(coupon.id)
        for item in sub.items:
            out.add(item.price.id)
            out.add(item.price.product_id)
            for coupon in item.discounts:
                out.add(coupon.id)
    out.discard("")
    return out

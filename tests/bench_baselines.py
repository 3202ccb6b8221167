"""The benchmark's two yardsticks, run in the engine's process against the stand-ins.

- ``naive_sync``: the integration DESIGN A6 compares against: per Account one Stripe listing
  of its subscriptions, one Account update and one upsert per subscription, no diff.
- ``batched_no_diff``: the engine's own reads (Accounts, the account-wide Stripe listing),
  then every desired record written, 200 a Collections call, every cycle: what the cycle
  would cost without its diff against Salesforce's current values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sync.core import map_customer
from sync.core.diff import to_salesforce
from sync.core.mapping import SUBSCRIPTION_KEY, DesiredRecord
from sync.salesforce_io.gateway import SalesforceGateway
from sync.stripe_io.source import StripeSource

__all__ = ["batched_no_diff", "naive_sync"]

LINK = "Stripe_Customer_Id__c"


def _no_sleep(_s: float) -> None:
    return None


def _payload(record: DesiredRecord) -> dict[str, Any]:
    body: dict[str, Any] = {"attributes": {"type": record.sobject}}
    body[record.key_field or "Id"] = record.key if record.key_field else record.account_id
    for name, value in {**record.fields, **record.stamps}.items():
        body[name] = to_salesforce(value)
    return body


def batched_no_diff(stripe_client: Any, conn: Any, now: datetime) -> int:
    """Returns the records written (all of them)."""
    gw = SalesforceGateway(conn.sf, sleep=_no_sleep, own_user_id=conn.user_id)
    source = StripeSource(stripe_client, sleep=_no_sleep)
    linked = {a[LINK]: a["Id"] for a in gw.read_accounts() if a.get(LINK)}
    snapshot = source.fetch(linked)
    subs: list[dict[str, Any]] = []
    accounts: list[dict[str, Any]] = []
    for cid, account_id in linked.items():
        mapping = map_customer(cid, snapshot.customers.get(cid), account_id, now)
        subs += [_payload(s) for s in mapping.subscriptions]
        accounts.append(_payload(mapping.account))
    written = gw.upsert("Subscription__c", SUBSCRIPTION_KEY, subs)
    written += gw.update(accounts)
    return sum(1 for r in written if r.success)


def naive_sync(stripe_client: Any, conn: Any, sample: int, now: datetime) -> int:
    """The first ``sample`` linked Accounts in Id order; products are cached across Accounts
    (one listing), to be fair to it. Returns the records written."""
    gw = SalesforceGateway(conn.sf, sleep=_no_sleep, own_user_id=conn.user_id)
    rows = sorted((a for a in gw.read_accounts() if a.get(LINK)), key=lambda r: r["Id"])
    source = StripeSource(stripe_client, sleep=_no_sleep)
    sf = conn.sf
    written = 0
    for row in rows[:sample]:
        cid = row[LINK]
        snapshot = source.fetch([cid])  # one customer: one list call, per_customer strategy
        mapping = map_customer(cid, snapshot.customers.get(cid), row["Id"], now)
        for sub in mapping.subscriptions:
            fields = {**sub.fields, **sub.stamps}
            body = {k: to_salesforce(v) for k, v in fields.items() if k != SUBSCRIPTION_KEY}
            sf.Subscription__c.upsert(f"{SUBSCRIPTION_KEY}/{sub.key}", body)
            written += 1
        acct = {**mapping.account.fields, **mapping.account.stamps}
        sf.Account.update(row["Id"], {k: to_salesforce(v) for k, v in acct.items()})
        written += 1
    return written

"""The pure core of a sync cycle: status rollup, MRR, mapping to Salesforce fields, diff,
match hygiene, failures and their lifecycle.

Frozen dataclasses in, dataclasses out; no I/O and no clock reads (callers pass ``now``).
"""

from sync.core.diff import RecordChange, diff_records
from sync.core.failures import Failure, FailureRow, FailureState
from sync.core.mapping import CustomerMapping, DesiredRecord, map_customer
from sync.core.mrr import CustomerMrr, customer_mrr, subscription_mrr
from sync.core.status import account_status
from sync.core.values import to_salesforce

__all__ = [
    "CustomerMapping",
    "CustomerMrr",
    "DesiredRecord",
    "Failure",
    "FailureRow",
    "FailureState",
    "RecordChange",
    "account_status",
    "customer_mrr",
    "diff_records",
    "map_customer",
    "subscription_mrr",
    "to_salesforce",
]

"""A failure as admins see it: the Sync_Error__c record for a stored failure. Pure."""

from __future__ import annotations

import json
from typing import Any

from metadata import schema
from metadata.billing_systems import STRIPE, BillingSystem

from .failures import FailureRow
from .values import to_salesforce

__all__ = ["MESSAGE_LIMIT", "NOTICES", "PAYLOAD_LIMIT", "sync_error_record"]

# The LongTextArea lengths Sync_Error__c declares; longer text would fail the whole upsert.
MESSAGE_LIMIT = 32768
PAYLOAD_LIMIT = 131072
# Codes that are worth a look but report nothing failed (Severity__c Notice).
NOTICES = frozenset({"MRR_MISMATCH"})


def sync_error_record(row: FailureRow, system: BillingSystem = STRIPE) -> dict[str, Any]:
    """The Sync_Error__c upsert payload (by Fingerprint__c) for one stored failure."""
    payload = json.dumps(row.record, indent=1, sort_keys=True, default=str)
    customer = (row.customer_id or "")[:255] or None
    return {
        "attributes": {"type": schema.SYNC_ERROR.name},
        "Fingerprint__c": row.fingerprint,
        "Account__c": row.account_id,
        # v1 reports and list views read the Stripe field: kept for Stripe customers.
        "Stripe_Customer_Id__c": customer if system is STRIPE else None,
        "Billing_Customer_Id__c": customer,
        "Billing_System__c": system.label,
        "Category__c": str(row.category),
        "Severity__c": "Notice" if row.code in NOTICES else "Error",
        "Error_Code__c": (row.code or "")[:255] or None,
        "Message__c": row.message[:MESSAGE_LIMIT],
        "Payload__c": payload[:PAYLOAD_LIMIT],
        "Status__c": str(row.salesforce_status),
        "Attempts__c": row.attempts,
        "First_Seen__c": to_salesforce(row.first_seen),
        "Last_Seen__c": to_salesforce(row.last_seen),
        "Next_Retry__c": to_salesforce(row.shown_next_retry),
        "Resolved_At__c": to_salesforce(row.resolved_at),
        "Retry_Requested__c": False,
    }

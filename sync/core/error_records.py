"""A failure as admins see it: the Sync_Error__c record for a stored failure. Pure."""

from __future__ import annotations

import json
from typing import Any

from metadata import schema

from .failures import FailureRow
from .values import to_salesforce

__all__ = ["MESSAGE_LIMIT", "PAYLOAD_LIMIT", "sync_error_record"]

# The LongTextArea lengths Sync_Error__c declares; longer text would fail the whole upsert.
MESSAGE_LIMIT = 32768
PAYLOAD_LIMIT = 131072


def sync_error_record(row: FailureRow) -> dict[str, Any]:
    """The Sync_Error__c upsert payload (by Fingerprint__c) for one stored failure."""
    payload = json.dumps(row.record, indent=1, sort_keys=True, default=str)
    return {
        "attributes": {"type": schema.SYNC_ERROR.name},
        "Fingerprint__c": row.fingerprint,
        "Account__c": row.account_id,
        "Stripe_Customer_Id__c": (row.customer_id or "")[:255] or None,
        "Category__c": str(row.category),
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

"""Failures as values, their stable fingerprint, and the Sync_Error__c record admins see."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from metadata import schema

__all__ = ["Failure", "sync_error_record"]

MESSAGE_LIMIT = 32768
PAYLOAD_LIMIT = 131072


@dataclass(frozen=True)
class Failure:
    """One thing that went wrong with one subject (an Account Id, a subscription id, "cycle")."""

    category: str
    code: str
    message: str
    subject: str
    account_id: str | None = None
    customer_id: str | None = None
    record: dict[str, Any] = field(default_factory=dict)
    # True when a call was made and failed (a write, a cycle); False for problems read off the
    # data (matching, mixed currency), which every cycle sees again at no cost.
    attempted: bool = True

    @property
    def fingerprint(self) -> str:
        # What failed and why: the same failure seen again maps to the same Sync_Error__c.
        raw = f"{self.category}|{self.subject}|{self.code}"
        return hashlib.sha256(raw.encode()).hexdigest()[:40]

    @property
    def payload(self) -> dict[str, Any]:
        return {"subject": self.subject, "record": self.record}


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def sync_error_record(row: Any) -> dict[str, Any]:
    """The Sync_Error__c upsert payload for a store FailureRow."""
    payload = json.dumps(row.payload.get("record") or {}, indent=1, sort_keys=True, default=str)
    record = {
        "attributes": {"type": schema.SYNC_ERROR.name},
        "Fingerprint__c": row.fingerprint,
        "Account__c": row.account_id,
        "Stripe_Customer_Id__c": (row.customer_id or "")[:255] or None,
        "Category__c": row.category,
        "Error_Code__c": (row.code or "")[:255] or None,
        "Message__c": row.message[:MESSAGE_LIMIT],
        "Payload__c": payload[:PAYLOAD_LIMIT],
        "Status__c": row.salesforce_status,
        "Attempts__c": row.attempts,
        "First_Seen__c": _dt(row.first_seen),
        "Last_Seen__c": _dt(row.last_seen),
        "Next_Retry__c": _dt(row.next_retry) if row.status in ("open", "retrying") else None,
        "Resolved_At__c": _dt(row.resolved_at),
        "Retry_Requested__c": False,
    }
    return record

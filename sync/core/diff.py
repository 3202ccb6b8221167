"""Desired values vs what Salesforce holds: keep only records with a changed field.

Current values arrive as Salesforce's REST/SOQL JSON: numbers as JSON numbers (1234.5 for
1234.50), dates as "2026-12-01", datetimes as "2026-11-26T11:17:22.000+0000", checkboxes as
booleans, and null for an empty text field. Each comparison is made in the desired value's
type, so an unchanged record is never rewritten:
- numbers compare by value (Decimal("1234.50") == 1234.5 == "1234.50");
- "" and None are the same (Salesforce stores an empty text field as null);
- datetimes compare to the millisecond (all Salesforce keeps), in UTC;
- an unchecked checkbox equals a missing one.

Stamp fields (Last_Synced__c, Last_Billing_Sync__c) never make a change; they ride along in
the payload of a record that is written anyway. A record with no current counterpart is a
create (only for objects with an external ID to upsert by; Accounts are never created), and a
current record with no desired counterpart is left alone (see ``mapping``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sync.core.mapping import DesiredRecord
from sync.core.values import same_value, to_salesforce

__all__ = ["RecordChange", "diff_record", "diff_records"]


@dataclass(frozen=True)
class RecordChange:
    """One record to write: ``fields`` maps each changed field to (old, new).

    ``old`` is the value Salesforce returned (None for a create); ``new`` the desired Python
    value. ``record_id`` is the Salesforce Id, None when the record is to be created.
    ``desired`` holds every desired field, changed or not (e.g. a Subscription__c's
    Account__c, to link a failure to its Account when that field did not change).
    """

    sobject: str
    key: str
    record_id: str | None
    fields: Mapping[str, tuple[Any, Any]]
    stamps: Mapping[str, Any] = field(default_factory=dict)
    key_field: str | None = None
    desired: Mapping[str, Any] = field(default_factory=dict)
    # Whose record this is: failures are built from these, never dug out of field names.
    account_id: str | None = None
    customer_id: str | None = None

    @property
    def is_create(self) -> bool:
        return self.record_id is None

    @property
    def subject(self) -> str:
        """What a failure of this write is about: the Account Id, or the upsert key."""
        return self.key if self.key_field else str(self.record_id)

    def attempted_record(self) -> dict[str, Any]:
        """The changed values as written, without stamps or attributes: what a failure
        keeps, so a dead letter can tell the same record from a different one."""
        payload = self.payload()
        return {k: v for k, v in payload.items() if k != "attributes" and k not in self.stamps}

    def payload(self) -> dict[str, Any]:
        """The record as sObject Collections take it: JSON-ready, stamps included.

        Upserts (``key_field`` set) identify the record by its external ID and carry no Id;
        updates carry the Id.
        """
        record: dict[str, Any] = {"attributes": {"type": self.sobject}}
        if self.key_field:
            record[self.key_field] = self.key
        else:
            record["Id"] = self.record_id
        for name, (_old, new) in self.fields.items():
            record[name] = to_salesforce(new)
        for name, value in self.stamps.items():
            record[name] = to_salesforce(value)
        return record


def diff_record(desired: DesiredRecord, current: Mapping[str, Any] | None) -> RecordChange | None:
    """The change that brings ``current`` to ``desired``, or None when nothing differs."""
    if current is None:
        if desired.key_field is None:
            raise ValueError(
                f"{desired.sobject} {desired.key}: no record to update, and "
                f"{desired.sobject} records are never created"
            )
        changed = {
            name: (None, value)
            for name, value in desired.fields.items()
            if value is not None and value != ""
        }
        return RecordChange(
            desired.sobject,
            desired.key,
            None,
            changed,
            dict(desired.stamps),
            desired.key_field,
            dict(desired.fields),
            desired.account_id,
            desired.customer_id,
        )
    changed = _changed(desired.fields, current)
    if not changed:
        return None
    if desired.key_field is None and not current.get("Id"):
        raise ValueError(f"{desired.sobject} {desired.key}: the current record carries no Id")
    return RecordChange(
        desired.sobject,
        desired.key,
        current.get("Id"),
        changed,
        dict(desired.stamps),
        desired.key_field,
        dict(desired.fields),
        desired.account_id,
        desired.customer_id,
    )


def _changed(fields: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, tuple[Any, Any]]:
    """The fields whose current value is not ``same_value`` as the desired one.

    An unchanged cycle compares every field of every record and finds them all the same: the
    common cases are settled here first, each only where ``same_value`` would say "same" too
    (equal text, JSON null for None, a JSON number or ISO date equal to the desired value),
    and anything else is left to ``same_value``.
    """
    changed: dict[str, tuple[Any, Any]] = {}
    get = current.get
    for name, value in fields.items():
        old = get(name)
        kind = type(value)
        if kind is str and value:
            if old == value:
                continue
        elif value is None:
            if old is None:
                continue
        elif kind is type(old) and old == value:
            continue
        elif kind is date and type(old) is str:
            if old == value.isoformat():
                continue
        elif (kind is Decimal or kind is int) and type(old) is float:
            # What same_value parses a JSON number as: its shortest repr, exactly.
            if Decimal(repr(old)) == value:
                continue
        elif kind is Decimal and type(old) is int and old == value:
            continue
        if not same_value(value, old):
            changed[name] = (old, value)
    return changed


def diff_records(
    desired: Iterable[DesiredRecord], current: Mapping[str, Mapping[str, Any]]
) -> list[RecordChange]:
    """Changes for every desired record, in input order; ``current`` is keyed like ``key``.

    Keys in ``current`` with no desired record are not touched.
    """
    changes: list[RecordChange] = []
    seen: set[str] = set()
    for record in desired:
        if record.key in seen:
            raise ValueError(f"{record.sobject} {record.key} is desired twice")
        seen.add(record.key)
        change = diff_record(record, current.get(record.key))
        if change is not None:
            changes.append(change)
    return changes

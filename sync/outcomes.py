"""What a write's outcome becomes: a failure built from the record's owner, a stop when the
integration user lost access to a field, the mirror of stored failures to Sync_Error__c
(without the Account lookup when that Account was deleted), and which writes wait for a
failure's backoff."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from metadata import schema
from metadata.billing_systems import STRIPE, BillingSystem
from metadata.schema import Category

from .core.diff import RecordChange
from .core.error_records import sync_error_record
from .core.failures import Failure, FailureRow, is_held_back
from .errors import StopCycle, SyncFailure
from .ports import CrmGateway, Store, WriteOutcome
from .report import CycleReport

__all__ = ["held_back", "mirror_failures", "stop_on_lost_access", "write_failure"]

log = logging.getLogger(__name__)

SYNC_ERROR = schema.SYNC_ERROR.name


def _upsert(gateway: CrmGateway, records: list[dict[str, Any]]) -> Sequence[WriteOutcome]:
    return gateway.upsert(SYNC_ERROR, "Fingerprint__c", records)


def mirror_failures(
    store: Store, gateway: CrmGateway, report: CycleReport, system: BillingSystem = STRIPE
) -> None:
    """Write every failure state Salesforce has not seen yet to Sync_Error__c, a page of the
    file at a time (memory bounded by the page, not by how many failures a cycle recorded);
    Salesforce unreachable part way: the pages written so far stay written, the rest waits."""
    refused = 0
    for rows in store.iter_unmirrored():
        done = _mirror_page(store, gateway, report, system, rows, refused)
        if done is None:
            return
        refused = done


def _mirror_page(
    store: Store,
    gateway: CrmGateway,
    report: CycleReport,
    system: BillingSystem,
    rows: list[FailureRow],
    refused_before: int,
) -> int | None:
    """One page; the records refused so far, None when Salesforce could not be reached (the
    rest waits)."""
    records = [sync_error_record(r, system) for r in rows]
    try:
        results: Sequence[WriteOutcome] = _upsert(gateway, records)
    except SyncFailure as exc:
        log.warning(
            "could not mirror %d failures to Salesforce (%s); kept locally",
            len(rows),
            exc.message,
        )
        return None
    results = list(results)
    orphans = [
        i
        for i, res in enumerate(results)
        if not res.success and any(e.code in _DELETED_LOOKUP for e in res.errors)
    ]
    if orphans:
        # The Account is gone: the failure is still worth showing, without the lookup.
        again = _upsert(gateway, [{**records[i], "Account__c": None} for i in orphans])
        for i, res in zip(orphans, again, strict=True):
            results[i] = res
    refused = [(r, res) for r, res in zip(rows, results, strict=True) if not res.success]
    for r, res in refused:
        # Admins would never see this failure: that is a failure of the run itself.
        log.error(
            "Sync_Error__c for %s not written: %s",
            r.fingerprint,
            "; ".join(e.message for e in res.errors),
        )
    report.mirror_refused = refused_before + len(refused)
    store.mark_mirrored(r.fingerprint for r, res in zip(rows, results, strict=True) if res.success)
    # Lost access to a Sync_Error__c field: no failure can be shown, which the run must say.
    stop_on_lost_access(results, what="Sync_Error__c, so failures cannot be shown to admins")
    return report.mirror_refused


# Salesforce refuses a lookup to a deleted Account with one of these.
_DELETED_LOOKUP = frozenset({"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY"})
# Per-record codes that mean the integration user lost edit access to a field we own: every
# record would fail the same way, so it is one configuration stop, not one error per record.
_ACCESS_CODES = frozenset({"INVALID_FIELD_FOR_INSERT_UPDATE", "INVALID_FIELD"})


def stop_on_lost_access(results: Sequence[WriteOutcome], what: str = "") -> None:
    fields = sorted(
        {
            name
            for r in results
            if not r.success
            for e in r.errors
            if e.code in _ACCESS_CODES
            for name in (e.fields or ())
        }
    )
    if fields:
        raise StopCycle(
            f"The integration user cannot edit {', '.join(fields)}"
            f"{' on ' + what if what else ''}: billing-sync writes "
            "nothing more until it can. Check that the Billing_Sync_Integration permission set "
            "grants Edit on these fields and is assigned to the user (billing-sync deploy "
            "restores both).",
            category=Category.CONFIGURATION,
            code="FIELD_NOT_EDITABLE",
        )


def write_failure(change: RecordChange, result: WriteOutcome) -> Failure:
    is_account = change.sobject == "Account"
    customer_id = change.customer_id
    reasons = "; ".join(
        f"{e.message}" + (f" (fields: {', '.join(e.fields)})" if e.fields else "")
        for e in result.errors
    )
    what = (
        f"Account {change.account_id} (billing customer {customer_id})"
        if is_account
        else f"Subscription {change.key} (billing customer {customer_id})"
    )
    message = (
        f"Salesforce refused to update {what}: {reasons or result.code}. "
        "Fix the data or the rule; the write is retried automatically."
    )
    return Failure(
        result.category or Category.SALESFORCE_WRITE,
        result.code,
        message,
        change.subject,
        change.account_id,
        customer_id,
        change.attempted_record(),
    )


def held_back(
    changes: list[RecordChange], open_rows: Mapping[str, FailureRow], now: datetime
) -> dict[str, str]:
    """Subjects whose write waits this cycle (backoff, or the record that died): subject
    → the fingerprint holding it."""
    by_subject: dict[str, list[FailureRow]] = defaultdict(list)
    for row in open_rows.values():
        by_subject[row.subject].append(row)
    held: dict[str, str] = {}
    for change in changes:
        for row in by_subject.get(change.subject, ()):
            if is_held_back(row, now, change.attempted_record()):
                held[change.subject] = row.fingerprint
                break
    return held

"""Failures as values and their lifecycle. Pure: the store persists what these functions
decide, the cycle and the alerts ask them.

Every failure ends in exactly one of: written correctly (the failure resolves), or an open
failure that a later cycle retries (or, after ``MAX_ATTEMPTS``, a dead letter a person sees).

States (``FailureRow.status``)::

    open      first attempt failed; retried after ``retry_delay(1)``
    retrying  failed again; ``next_retry`` follows the capped exponential backoff
    dead      ``gives_up(attempts)``: no automatic retry, still Open in Salesforce. It blocks
              only the exact record that failed: a different desired record, Retry
              Requested, or the problem going away writes again
    resolved  the subject was examined and did not fail; failing again opens a new episode
              (attempts back to 1, ``is_new``)

Problems read off the data (matching, mixed currency: ``attempted=False``) are recorded once
and re-checked every cycle at no cost; they are never "retried" and have no next retry.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from metadata.schema import Category, ErrorStatus

from ..retry import gives_up

__all__ = [
    "CYCLE_SUBJECT",
    "Failure",
    "FailureRow",
    "FailureState",
    "is_held_back",
    "is_resolved_by",
    "needs_recording",
    "next_row",
]

# The subject of a failure that is about the whole cycle (a stop), not about one record.
CYCLE_SUBJECT = "cycle"


class FailureState(StrEnum):
    OPEN = "open"
    RETRYING = "retrying"
    DEAD = "dead"
    RESOLVED = "resolved"


UNRESOLVED = frozenset({FailureState.OPEN, FailureState.RETRYING, FailureState.DEAD})

# Sync_Error__c.Status__c has no "dead": a dead letter is still an open problem for a human.
_SALESFORCE_STATUS = {
    FailureState.OPEN: ErrorStatus.OPEN,
    FailureState.RETRYING: ErrorStatus.RETRYING,
    FailureState.DEAD: ErrorStatus.OPEN,
    FailureState.RESOLVED: ErrorStatus.RESOLVED,
}


@dataclass(frozen=True)
class Failure:
    """One thing that went wrong with one subject (an Account Id, a subscription id, "cycle").

    Matching, mapping and write problems, and whole-cycle stops, all produce this one value.
    """

    category: Category
    code: str
    message: str
    subject: str
    account_id: str | None = None
    customer_id: str | None = None
    record: Mapping[str, Any] = field(default_factory=dict)
    # True when a call was made and failed (a write, a cycle); False for problems read off the
    # data (matching, mixed currency), which every cycle sees again at no cost.
    attempted: bool = True

    @property
    def fingerprint(self) -> str:
        # What failed and why: the same failure seen again maps to the same Sync_Error__c.
        # Never change this formula: deployed Sync_Error__c records are keyed by it.
        raw = f"{self.category}|{self.subject}|{self.code}"
        return hashlib.sha256(raw.encode()).hexdigest()[:40]

    @property
    def kind(self) -> tuple[str, str]:
        return (str(self.category), self.code)


@dataclass(frozen=True)
class FailureRow:
    """A failure as the store holds it: the latest occurrence plus its lifecycle state."""

    fingerprint: str
    category: Category
    code: str
    message: str
    subject: str
    account_id: str | None
    customer_id: str | None
    record: dict[str, Any]
    status: FailureState
    attempts: int
    first_seen: datetime
    last_seen: datetime
    next_retry: datetime | None
    resolved_at: datetime | None
    mirrored: bool  # whether Salesforce's Sync_Error__c reflects the latest state
    attempted: bool = True
    is_new: bool = False  # this occurrence opened a new episode
    newly_dead: bool = False  # this occurrence made it a dead letter

    @property
    def kind(self) -> tuple[str, str]:
        return (str(self.category), self.code)

    @property
    def unresolved(self) -> bool:
        return self.status in UNRESOLVED

    @property
    def salesforce_status(self) -> ErrorStatus:
        """The Sync_Error__c.Status__c picklist value for this row."""
        return _SALESFORCE_STATUS[self.status]

    @property
    def shown_next_retry(self) -> datetime | None:
        """The next automatic retry an admin should see: none for data problems (they are
        re-checked every cycle, not retried) and none once resolved or dead."""
        if not self.attempted or self.status not in (FailureState.OPEN, FailureState.RETRYING):
            return None
        return self.next_retry


def next_row(
    old: FailureRow | None,
    failure: Failure,
    now: datetime,
    *,
    delay: Callable[[int], float],
    record: Mapping[str, Any] | None = None,
    message: str | None = None,
) -> FailureRow:
    """The row after ``failure`` happened (again) at ``now``.

    ``delay(attempts)`` gives the backoff in seconds; ``record``/``message`` are the scrubbed
    forms the store keeps (default: the failure's own).
    """
    if old is None or old.status == FailureState.RESOLVED:
        attempts, first_seen, is_new = 1, now, True
    else:
        attempts, first_seen, is_new = old.attempts + 1, old.first_seen, False
    if gives_up(attempts):
        status, next_retry = FailureState.DEAD, None
    else:
        status = FailureState.OPEN if attempts == 1 else FailureState.RETRYING
        # A data problem is re-checked by every cycle that reads its subject, never retried.
        next_retry = now + timedelta(seconds=delay(attempts)) if failure.attempted else None
    return FailureRow(
        fingerprint=failure.fingerprint,
        category=failure.category,
        code=failure.code,
        message=failure.message if message is None else message,
        subject=failure.subject,
        account_id=failure.account_id,
        customer_id=failure.customer_id,
        record=dict(failure.record if record is None else record),
        status=status,
        attempts=attempts,
        first_seen=first_seen,
        last_seen=now,
        next_retry=next_retry,
        resolved_at=None,
        mirrored=False,
        attempted=failure.attempted,
        is_new=is_new,
        newly_dead=status == FailureState.DEAD and (old is None or old.status != status),
    )


def resolved_row(row: FailureRow, now: datetime) -> FailureRow:
    return replace(
        row,
        status=FailureState.RESOLVED,
        resolved_at=now,
        next_retry=None,
        mirrored=False,
        is_new=False,
        newly_dead=False,
    )


def needs_recording(old: FailureRow | None, failure: Failure, now: datetime) -> bool:
    """Whether ``failure`` says something the store does not know yet.

    Not when it is a data problem seen again, a dead letter failing on the same record, or a
    failed write still inside its backoff: recording it again would rewrite its
    Sync_Error__c every cycle for no new information.
    """
    if old is None or not old.unresolved:
        return True
    if not failure.attempted:
        return False
    if old.status == FailureState.DEAD:
        return dict(failure.record) != old.record
    return old.next_retry is None or old.next_retry <= now


def is_held_back(row: FailureRow, now: datetime, record: Mapping[str, Any]) -> bool:
    """Whether the write of ``record`` for this row's subject waits this cycle.

    A failed write waits out its backoff; a dead letter blocks only the exact record that
    died. Data problems and cycle stops never hold a record back.
    """
    if not row.attempted or row.subject == CYCLE_SUBJECT or not row.unresolved:
        return False
    if row.status == FailureState.DEAD:
        return dict(record) == row.record
    return row.next_retry is not None and row.next_retry > now


def is_resolved_by(row: FailureRow, examined: set[str], still_failing: set[str]) -> bool:
    """An unresolved failure resolves when the cycle examined its subject completely and it
    did not fail again (nor was held back, which counts as still failing)."""
    return row.unresolved and row.subject in examined and row.fingerprint not in still_failing

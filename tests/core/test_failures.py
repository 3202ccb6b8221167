"""The failure lifecycle, pure: what is recorded, held back, resolved, and when a dead letter
heals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from metadata.schema import Category, ErrorStatus
from sync.core.error_records import sync_error_record
from sync.core.failures import (
    CYCLE_SUBJECT,
    Failure,
    FailureState,
    is_held_back,
    is_resolved_by,
    needs_recording,
    next_row,
)
from sync.retry import MAX_ATTEMPTS

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
RECORD = {"Plan__c": "Gold", "MRR__c": 50.0}


def write_failure(record=None, code="FIELD_CUSTOM_VALIDATION_EXCEPTION"):
    return Failure(Category.VALIDATION, code, "rule says no", "001A", "001A", "cus_A",
                   record if record is not None else RECORD)


def delay(attempts: int) -> float:
    return 60.0 * 2 ** (attempts - 1)


def dead_row():
    row = None
    for n in range(MAX_ATTEMPTS):
        row = next_row(row, write_failure(), T0 + timedelta(hours=n), delay=delay)
    assert row is not None
    return row


def test_first_occurrence_opens_a_new_episode_with_a_retry():
    row = next_row(None, write_failure(), T0, delay=delay)
    assert (row.status, row.attempts, row.is_new, row.next_retry) == (
        FailureState.OPEN, 1, True, T0 + timedelta(seconds=60))
    again = next_row(row, write_failure(), T0 + timedelta(minutes=2), delay=delay)
    assert (again.status, again.attempts, again.is_new, again.first_seen) == (
        FailureState.RETRYING, 2, False, T0)


def test_the_tenth_attempt_makes_a_dead_letter_once():
    row = dead_row()
    assert row.status == FailureState.DEAD and row.newly_dead and row.next_retry is None
    assert row.salesforce_status == ErrorStatus.OPEN and row.shown_next_retry is None
    later = next_row(row, write_failure({"Plan__c": "Platinum"}), T0 + timedelta(days=1),
                     delay=delay)
    assert later.status == FailureState.DEAD and not later.newly_dead


def test_a_dead_letter_blocks_only_the_exact_record_that_died():
    row = dead_row()
    assert is_held_back(row, T0 + timedelta(days=30), RECORD)
    assert not is_held_back(row, T0 + timedelta(days=30), {**RECORD, "MRR__c": 0.0})
    # and failing on that different record is news worth recording
    assert needs_recording(row, write_failure({**RECORD, "MRR__c": 0.0}), T0)
    assert not needs_recording(row, write_failure(), T0)


def test_a_failed_write_waits_out_its_backoff():
    row = next_row(None, write_failure(), T0, delay=delay)
    assert is_held_back(row, T0 + timedelta(seconds=59), RECORD)
    assert not is_held_back(row, T0 + timedelta(seconds=60), RECORD)
    assert not needs_recording(row, write_failure(), T0 + timedelta(seconds=30))
    assert needs_recording(row, write_failure(), T0 + timedelta(seconds=60))


def test_data_problems_are_recorded_once_and_never_hold_a_record_back():
    problem = Failure(Category.MATCHING, "MALFORMED_ID", "bad id", "001A", "001A", "cus x",
                      attempted=False)
    row = next_row(None, problem, T0, delay=delay)
    assert not needs_recording(row, problem, T0 + timedelta(days=1))
    assert not is_held_back(row, T0, {})
    assert row.shown_next_retry is None  # re-checked every cycle, not retried
    assert sync_error_record(row)["Next_Retry__c"] is None


def test_a_cycle_stop_never_holds_records_back():
    stop = Failure(Category.LIMITS, "REQUEST_LIMIT_EXCEEDED", "limit", CYCLE_SUBJECT)
    assert not is_held_back(next_row(None, stop, T0, delay=delay), T0, {})


def test_resolution_needs_the_subject_examined_and_not_failing():
    row = next_row(None, write_failure(), T0, delay=delay)
    assert is_resolved_by(row, {"001A"}, set())
    assert not is_resolved_by(row, {"001B"}, set())
    assert not is_resolved_by(row, {"001A"}, {row.fingerprint})


def test_a_resolved_failure_failing_again_is_a_new_episode():
    from sync.core.failures import resolved_row

    done = resolved_row(dead_row(), T0 + timedelta(days=2))
    assert needs_recording(done, write_failure(), T0 + timedelta(days=2))
    back = next_row(done, write_failure(), T0 + timedelta(days=3), delay=delay)
    assert (back.status, back.attempts, back.is_new) == (FailureState.OPEN, 1, True)


def test_the_sync_error_record_uses_the_one_datetime_codec():
    row = next_row(None, write_failure(), T0 + timedelta(microseconds=123456), delay=delay)
    record = sync_error_record(row)
    assert record["First_Seen__c"] == "2026-03-02T09:00:00.123+0000"
    assert record["Status__c"] == "Open" and record["Category__c"] == "Validation"
    assert record["Next_Retry__c"] == "2026-03-02T09:01:00.123+0000"

"""The SQLite state file: failures follow their lifecycle, nothing is lost, no secret lands."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from metadata import schema
from metadata.schema import Category
from sync.core.failures import Failure
from sync.redact import REDACTED, scrub_payload, scrub_text
from sync.retry import MAX_ATTEMPTS
from sync.store import SCHEMA_VERSION, StateStore, StoreError

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    # rand=1.0 makes every delay the top of its jitter range: attempt n waits 60 * 2**(n-1).
    with StateStore(tmp_path / "state.db", rand=lambda: 1.0) as s:
        yield s


def failure(fp="fp-1", *, account="001A", customer="cus_A", code="STRING_TOO_LONG",
            category="Salesforce Write", message="Plan name is too long", payload=None):
    """A failure whose fingerprint is ``fp`` (the subject is chosen to make it so)."""
    return _Pinned(Category(category), code, message, fp, account, customer,
                   payload or {"Plan__c": "x" * 300})


class _Pinned(Failure):
    # The store keys rows by fingerprint; these tests name them, so pin it to the subject.
    @property
    def fingerprint(self) -> str:
        return self.subject


def fail(store, fp="fp-1", *, now=T0, **kwargs):
    return store.record(failure(fp, **kwargs), now=now)


def test_creates_the_file_in_wal_mode_and_keeps_data_across_reopen(tmp_path):
    path = tmp_path / "sub" / "state.db"
    path.parent.mkdir()
    with StateStore(path) as s:
        fail(s)
        s.set_cursor("events", "evt_123")
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with StateStore(path) as s:
        assert [r.fingerprint for r in s.open_failures()] == ["fp-1"]
        assert s.get_cursor("events") == "evt_123"


def test_refuses_a_file_from_a_newer_schema(tmp_path):
    path = tmp_path / "state.db"
    StateStore(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 99")
    with pytest.raises(StoreError, match="newer billing-sync"):
        StateStore(path)


def test_first_failure_is_open_new_and_scheduled(store):
    row = fail(store)
    assert (row.status, row.attempts, row.is_new, row.mirrored) == ("open", 1, True, False)
    assert row.first_seen == row.last_seen == T0
    assert row.next_retry == T0 + timedelta(seconds=60)
    assert row.salesforce_status == "Open"
    assert store.failure("fp-1") == row.__class__(**{**row.__dict__, "is_new": False})


def test_repeated_failure_retries_with_growing_delay_and_keeps_first_seen(store):
    fail(store)
    later = T0 + timedelta(minutes=5)
    row = fail(store, now=later, message="Plan name is still too long")
    assert (row.status, row.attempts, row.is_new) == ("retrying", 2, False)
    assert row.first_seen == T0 and row.last_seen == later
    assert row.next_retry == later + timedelta(seconds=120)
    assert row.message == "Plan name is still too long"
    assert row.salesforce_status == "Retrying"


def test_failure_becomes_a_dead_letter_after_max_attempts(store):
    for n in range(MAX_ATTEMPTS):
        row = fail(store, now=T0 + timedelta(hours=n))
    assert (row.status, row.attempts, row.next_retry) == ("dead", MAX_ATTEMPTS, None)
    assert row.salesforce_status == "Open"  # still a problem a person must see
    far = T0 + timedelta(days=30)
    assert store.due_retries(far) == []
    assert [r.fingerprint for r in store.open_failures()] == ["fp-1"]
    assert [r.fingerprint for r in store.dead_letters()] == ["fp-1"]
    again = fail(store, now=far)
    assert (again.status, again.attempts, again.is_new) == ("dead", MAX_ATTEMPTS + 1, False)


def test_requeue_gives_a_dead_letter_one_more_attempt(store):
    for n in range(MAX_ATTEMPTS):
        fail(store, now=T0 + timedelta(hours=n))
    later = T0 + timedelta(days=1)
    row = store.requeue("fp-1", now=later)
    assert row is not None and row.status == "retrying" and not row.mirrored
    assert [r.fingerprint for r in store.due_retries(later)] == ["fp-1"]
    assert fail(store, now=later).status == "dead"
    assert store.requeue("unknown", now=later) is None


def test_due_retries_respects_next_retry_and_orders_by_it(store):
    fail(store, "a", now=T0)
    fail(store, "b", now=T0 - timedelta(seconds=30))
    assert store.due_retries(T0 + timedelta(seconds=29)) == []
    assert [r.fingerprint for r in store.due_retries(T0 + timedelta(seconds=30))] == ["b"]
    assert [r.fingerprint for r in store.due_retries(T0 + timedelta(hours=1))] == ["b", "a"]


def test_resolve_then_recur_opens_a_new_episode(store):
    fail(store)
    fail(store, now=T0 + timedelta(minutes=1))
    done = store.resolve("fp-1", now=T0 + timedelta(minutes=2))
    assert done is not None
    assert (done.status, done.resolved_at, done.next_retry) == (
        "resolved", T0 + timedelta(minutes=2), None)
    assert store.resolve("fp-1", now=T0 + timedelta(minutes=3)) is None
    assert store.resolve("never-seen", now=T0) is None
    assert store.open_failures() == []
    back = fail(store, now=T0 + timedelta(hours=1))
    assert (back.status, back.attempts, back.is_new, back.resolved_at) == ("open", 1, True, None)


def test_every_state_change_needs_mirroring_again(store):
    fail(store, "a")
    fail(store, "b")
    assert {r.fingerprint for r in store.unmirrored()} == {"a", "b"}
    store.mark_mirrored(["a", "b"])
    assert store.unmirrored() == []
    fail(store, "a", now=T0 + timedelta(minutes=1))
    assert [r.fingerprint for r in store.unmirrored()] == ["a"]
    store.mark_mirrored(iter(["a"]))
    store.resolve("b", now=T0 + timedelta(minutes=2))
    assert [(r.fingerprint, r.status) for r in store.unmirrored()] == [("b", "resolved")]


def test_runs_are_recorded_and_listed_newest_first(store):
    first = store.start_run("full", dry_run=True, now=T0)
    store.finish_run(first, status="ok", counts={"accounts_updated": 3},
                     api_calls={"salesforce": 4, "stripe": Decimal(2)}, duration_s=1.5,
                     now=T0 + timedelta(seconds=2))
    second = store.start_run("incremental", dry_run=False, now=T0 + timedelta(minutes=5))
    runs = store.runs()
    assert [r["id"] for r in runs] == [second, first]
    assert runs[0]["status"] == "running" and runs[0]["finished_at"] is None
    done = runs[1]
    assert done["dry_run"] is True and done["kind"] == "full"
    assert done["counts"] == {"accounts_updated": 3}
    assert done["api_calls"] == {"salesforce": 4, "stripe": "2"}
    assert done["finished_at"] == T0 + timedelta(seconds=2) and done["duration_s"] == 1.5
    assert [r["id"] for r in store.runs(kind="full")] == [first]
    assert len(store.runs(limit=1)) == 1
    with pytest.raises(KeyError):
        store.finish_run(999, status="ok", counts={}, api_calls={}, duration_s=0, now=T0)


def test_cursors_overwrite(store):
    assert store.get_cursor("events") is None
    store.set_cursor("events", "evt_1")
    store.set_cursor("events", "evt_2")
    assert store.get_cursor("events") == "evt_2"


def test_alerted_kind_is_forgotten_only_when_all_its_failures_resolve(store):
    fail(store, "a", code="STRING_TOO_LONG")
    fail(store, "b", code="STRING_TOO_LONG", account="001B")
    kind = ("Salesforce Write", "STRING_TOO_LONG")
    store.mark_alerted(kind)
    store.mark_alerted(("Matching", "DUPLICATE_ID"))
    store.resolve("a", now=T0)
    assert kind in store.alerted_kinds()
    store.resolve("b", now=T0)
    assert store.alerted_kinds() == {("Matching", "DUPLICATE_ID")}


def test_alert_marks_remember_when_sent(store):
    assert store.alert_sent_at("stop:x") is None
    store.mark_alert_sent("stop:x", now=T0)
    assert store.alert_sent_at("stop:x") == T0


def test_naive_datetimes_are_refused(store):
    with pytest.raises(ValueError, match="naive"):
        fail(store, now=datetime(2026, 1, 1))


def test_other_timezones_are_stored_as_utc(store):
    paris = datetime(2026, 3, 2, 10, 0, tzinfo=UTC).astimezone(
        __import__("zoneinfo").ZoneInfo("Europe/Paris"))
    row = fail(store, now=paris)
    raw = next(iter(store.db.query("SELECT first_seen FROM failures")))["first_seen"]
    assert raw == "2026-03-02T10:00:00.000000+00:00"
    assert row.first_seen == paris


def test_payload_round_trips_as_json(store):
    row = fail(store, payload={"MRR__c": Decimal("12.50"), "Renewal_Date__c": T0.date(),
                               "Quantity__c": 3, "Cancel_At_Period_End__c": False})
    assert store.failure(row.fingerprint).record == {
        "MRR__c": "12.50", "Renewal_Date__c": "2026-03-02", "Quantity__c": 3,
        "Cancel_At_Period_End__c": False}


def test_secrets_never_reach_the_file(tmp_path):
    path = tmp_path / "state.db"
    secrets = ["sk_test_fake_51Hx0000abcdef", "xoxb-fake-1234-5678-abcdef", "hunter2-fake",
               "fake-client-secret-123", "4242 4242 4242 4242"]
    with StateStore(path) as s:
        fail(s, "fp", category="Stripe", code="auth",
             message=f"Stripe refused key {secrets[0]} for card {secrets[4]}",
             payload={"Stripe_Customer_Id__c": "cus_A", "api_key": secrets[0],
                      "nested": [{"slackToken": secrets[1]}, {"password": secrets[2]}],
                      "oauth": {"client_secret": secrets[3]}})
        row = s.failure("fp")
    data = path.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("state.db-*"))
    for secret in secrets:
        assert secret.encode() not in data
    assert row.record["Stripe_Customer_Id__c"] == "cus_A"
    assert row.record["api_key"] == REDACTED
    assert row.message == f"Stripe refused key {REDACTED} for card {REDACTED}"


def test_scrub_keeps_every_field_name_we_own():
    for obj in schema.owned_object_names():
        record = {f.name: "value" for f in schema.owned_fields(obj)}
        assert scrub_payload(record) == record, obj
    kept = {"Id": "001A", "Name": "Acme", "lookup_key": "gold_monthly", "monkey": 1,
            "keyword_count": 2, "Stripe_Subscription_Id__c": "sub_1"}
    assert scrub_payload(kept) == kept


@pytest.mark.parametrize("key", ["api_key", "apiKey", "APIKey", "access_token", "refreshToken",
                                 "client_secret", "Password", "private_key", "sessionId",
                                 "Authorization", "card", "cvc", "x-api-key"])
def test_scrub_redacts_secret_named_keys(key):
    assert scrub_payload({key: {"anything": 1}}) == {key: REDACTED}


def test_scrub_text_redacts_secret_shaped_values_but_not_ids_or_amounts():
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2lnbmF0dXJl"
    sf_session = "00D5g000004ABCD!AQ4AQFakeSessionTokenValue1234567890"
    text = (f"Bearer abcdefgh12345678 {jwt} {sf_session} rk_live_fake0000 whsec_fake0000 "
            "https://hooks.slack.com/services/T0/B0/fakefake 5555-5555-5555-4444")
    out = scrub_text(text)
    assert out == " ".join(["Bearer", *[REDACTED] * 7])
    benign = ("Account 001000000000001AAA, cus_NffrFeUfNV2Hib, amount 4242424242424241 "
              "(not Luhn), invoice 2026-03-02, price 1999")
    assert scrub_text(benign) == benign


def test_prune_drops_old_history_but_never_open_or_unmirrored_failures(store):
    old_run = store.start_run("full", dry_run=False, now=T0)
    fail(store, "open")
    fail(store, "done-mirrored")
    fail(store, "done-unmirrored")
    store.resolve("done-mirrored", now=T0)
    store.resolve("done-unmirrored", now=T0)
    store.mark_mirrored(["done-mirrored"])
    new_run = store.start_run("full", dry_run=False, now=T0 + timedelta(days=100))
    removed = store.prune(before=T0 + timedelta(days=90))
    assert removed == 2
    assert [r["id"] for r in store.runs()] == [new_run] and old_run != new_run
    assert store.failure("done-mirrored") is None
    assert store.failure("open") and store.failure("done-unmirrored")
    assert store.failure_counts() == {"open": 1, "resolved": 1}


def test_usable_from_a_scheduler_worker_thread(store):
    # APScheduler runs jobs in a thread pool; the store is built in the main thread.
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        rows = list(pool.map(lambda i: fail(store, f"t{i}"), range(20)))
    assert all(r.is_new for r in rows)
    assert len(store.open_failures()) == 20


def test_a_version_1_file_is_migrated_in_place(tmp_path):
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as raw:
        raw.executescript("""
            CREATE TABLE runs (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, dry_run INTEGER
              NOT NULL, status TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT,
              duration_s FLOAT, counts TEXT, api_calls TEXT);
            CREATE TABLE failures (fingerprint TEXT PRIMARY KEY, category TEXT NOT NULL,
              code TEXT NOT NULL, message TEXT NOT NULL, account_id TEXT, customer_id TEXT,
              payload TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
              first_seen TEXT NOT NULL, last_seen TEXT NOT NULL, next_retry TEXT,
              resolved_at TEXT, mirrored INTEGER NOT NULL);
            CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT, updated_at TEXT);
            CREATE TABLE alerted_kinds (category TEXT, code TEXT, alerted_at TEXT,
              PRIMARY KEY (category, code));
            CREATE TABLE alert_marks (key TEXT PRIMARY KEY, sent_at TEXT);
            PRAGMA user_version = 1;
        """)
        raw.execute(
            "INSERT INTO failures VALUES ('fp', 'Matching', 'MALFORMED_ID', 'bad id', '001A', "
            "'cus x', ?, 'open', 1, ?, ?, ?, NULL, 1)",
            ('{"record": {"Plan__c": "Gold"}, "subject": "001A"}',
             "2026-03-02T09:00:00.000000+00:00", "2026-03-02T09:00:00.000000+00:00",
             "2026-03-02T09:01:00.000000+00:00"))
    with StateStore(path) as s:
        row = s.failure("fp")
        assert (row.subject, row.record, row.attempted) == ("001A", {"Plan__c": "Gold"}, False)
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_a_read_only_store_never_writes_the_file(tmp_path):
    path = tmp_path / "state.db"
    with StateStore(path) as s:
        fail(s)
    before = path.read_bytes()
    with StateStore(path, read_only=True) as ro:
        assert [r.fingerprint for r in ro.open_failures()] == ["fp-1"]
        assert ro.start_run("full", dry_run=True, now=T0) is None
        with pytest.raises(StoreError, match=r"read-only|readonly"):
            fail(ro, "fp-2")
    assert path.read_bytes() == before
    with StateStore(tmp_path / "never-created.db", read_only=True) as empty:
        assert empty.open_failures() == []
    assert not (tmp_path / "never-created.db").exists()


@pytest.mark.parametrize("content", [b"this is not a database at all" * 100,
                                     b"SQLite format 3\x00" + b"\x00" * 50])
def test_a_corrupt_or_truncated_file_is_one_clear_error(tmp_path, content):
    path = tmp_path / "state.db"
    path.write_bytes(content)
    with pytest.raises(StoreError) as info:
        StateStore(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_a_cycle_steps_failures_are_recorded_and_resolved_in_one_transaction_each(store):
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    try:
        rows = store.record_many([failure(f"fp-{i}") for i in range(50)], now=T0)
        resolved = store.resolve_many([f"fp-{i}" for i in range(50)], now=T0)
    finally:
        store.db.conn.set_trace_callback(None)
    assert len(rows) == len(resolved) == 50
    begins = [s for s in statements if s.startswith("BEGIN")]
    commits = [s for s in statements if s.startswith("COMMIT")]
    assert len(begins) == len(commits) == 2

"""The SQLite file itself: opening it, migrating its schema in place, transactions, encoding.

Writes run in ``BEGIN IMMEDIATE`` transactions: the write lock is taken before anything is
read, so a read-modify-write (a failure's attempt count) can never be overtaken by another
process between its read and its write, and a second process waits (``busy_timeout``) rather
than failing with "database is locked". WAL lets readers (status, dry runs) run beside it.

Datetimes are stored as ISO-8601 UTC with microseconds, so text order is time order; naive
datetimes are refused rather than guessed at.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlite_utils

__all__ = [
    "SCHEMA_VERSION",
    "StoreError",
    "StoreWriteFailed",
    "connect",
    "dt",
    "dumps",
    "transaction",
    "ts",
]

SCHEMA_VERSION = 4
BUSY_TIMEOUT_MS = 15_000


class StoreError(Exception):
    """The SQLite file cannot be used. The message is one line: the file and what to do."""


class StoreWriteFailed(StoreError):
    """A write failed mid-cycle (disk full, I/O error, locked past the busy timeout): the
    cycle stops at once, since it must never write to Salesforce what it cannot record."""


def connect(path: Path, *, read_only: bool = False) -> sqlite_utils.Database:
    """Open (creating and migrating unless ``read_only``) the state file at ``path``."""
    try:
        if read_only:
            if not path.exists():
                # Nothing recorded yet: an empty in-memory store reads the same.
                conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            else:
                conn = sqlite3.connect(
                    f"{path.resolve().as_uri()}?mode=ro",
                    uri=True,
                    check_same_thread=False,
                    isolation_level=None,
                )
        else:
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db = sqlite_utils.Database(conn)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path} was written by a newer billing-sync (schema {version}; this version "
                f"understands {SCHEMA_VERSION}): upgrade billing-sync or point BILLING_SYNC_DB "
                "at another file"
            )
        if read_only and path.exists():
            if version == SCHEMA_VERSION:
                return db
            # An older file is read through an upgraded copy in memory: never written.
            memory = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            conn.backup(memory)
            conn.close()
            db = sqlite_utils.Database(memory)
        if not read_only:
            conn.execute("PRAGMA journal_mode = WAL")
        _migrate(db, version)
        return db
    except sqlite3.DatabaseError as exc:
        raise StoreError(_explain(path, exc)) from None


def _explain(path: Path, exc: sqlite3.DatabaseError) -> str:
    text = str(exc)
    if "readonly" in text or "read-only" in text:
        return (
            f"{path} is read-only ({text}): make it and its folder writable by this user, "
            "or point BILLING_SYNC_DB elsewhere"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"{path} is not a usable billing-sync database ({text}): move it aside and "
            "start a new one (failures still open are shown in Salesforce's Sync Errors)"
        )
    if "unable to open" in text:
        return f"{path} cannot be opened ({text}): check the path and its folder's permissions"
    return f"{path}: SQLite error ({text})"


@contextmanager
def transaction(db: sqlite_utils.Database, path: Path) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken with BEGIN IMMEDIATE; SQLite errors become StoreError."""
    conn = db.conn
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.DatabaseError as exc:
        raise StoreWriteFailed(_explain(path, exc)) from None
    try:
        yield conn
    except sqlite3.DatabaseError as exc:
        conn.execute("ROLLBACK")
        raise StoreWriteFailed(_explain(path, exc)) from None
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        conn.execute("ROLLBACK")
        raise StoreWriteFailed(_explain(path, exc)) from None


def _v1(db: sqlite_utils.Database) -> None:
    db.table("runs").create(
        {
            "id": int,
            "kind": str,
            "dry_run": int,
            "status": str,
            "started_at": str,
            "finished_at": str,
            "duration_s": float,
            "counts": str,
            "api_calls": str,
        },
        pk="id",
        not_null={"kind", "dry_run", "status", "started_at"},
        if_not_exists=True,
    )
    db.table("failures").create(
        {
            "fingerprint": str,
            "category": str,
            "code": str,
            "message": str,
            "account_id": str,
            "customer_id": str,
            "payload": str,
            "status": str,
            "attempts": int,
            "first_seen": str,
            "last_seen": str,
            "next_retry": str,
            "resolved_at": str,
            "mirrored": int,
        },
        pk="fingerprint",
        not_null={
            "category",
            "code",
            "message",
            "payload",
            "status",
            "attempts",
            "first_seen",
            "last_seen",
            "mirrored",
        },
        if_not_exists=True,
    )
    db.table("failures").create_index(["status", "next_retry"], if_not_exists=True)
    db.table("failures").create_index(["mirrored"], if_not_exists=True)
    db.table("failures").create_index(["category", "code"], if_not_exists=True)
    db.table("cursors").create(
        {"name": str, "value": str, "updated_at": str}, pk="name", if_not_exists=True
    )
    db.table("alerted_kinds").create(
        {"category": str, "code": str, "alerted_at": str},
        pk=("category", "code"),
        if_not_exists=True,
    )
    db.table("alert_marks").create({"key": str, "sent_at": str}, pk="key", if_not_exists=True)


def _v2(db: sqlite_utils.Database) -> None:
    """The failure's subject becomes a column (it used to ride inside the JSON payload, as
    ``{"subject": …, "record": …}``); ``payload`` keeps the record alone; ``attempted``
    tells data problems (re-checked, never retried) from failed calls."""
    conn = db.conn
    conn.execute("ALTER TABLE failures ADD COLUMN subject TEXT NOT NULL DEFAULT ''")
    conn.execute("ALTER TABLE failures ADD COLUMN attempted INTEGER NOT NULL DEFAULT 1")
    conn.execute(
        "UPDATE failures SET subject = coalesce(json_extract(payload, '$.subject'), ''), "
        "payload = coalesce(json_extract(payload, '$.record'), '{}'), "
        "attempted = CASE WHEN category = 'Matching' THEN 0 ELSE 1 END"
    )
    conn.execute("CREATE INDEX IF NOT EXISTS idx_failures_subject ON failures (subject)")


def _v3(db: sqlite_utils.Database) -> None:
    """The incremental cycle's memory: events processed, customers to re-read, which catalog
    items each customer uses; and flags (pause)."""
    conn = db.conn
    conn.execute("CREATE TABLE events_seen (id TEXT PRIMARY KEY, created TEXT NOT NULL)")
    conn.execute("CREATE INDEX idx_events_seen_created ON events_seen (created)")
    conn.execute(
        "CREATE TABLE dirty_customers (customer_id TEXT PRIMARY KEY, reason TEXT NOT NULL, "
        "since TEXT NOT NULL)"
    )
    conn.execute(
        "CREATE TABLE customer_catalog (customer_id TEXT NOT NULL, item TEXT NOT NULL, "
        "PRIMARY KEY (customer_id, item))"
    )
    conn.execute("CREATE INDEX idx_customer_catalog_item ON customer_catalog (item)")
    conn.execute("CREATE TABLE flags (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT)")
    conn.execute("CREATE TABLE links (account_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL)")


def _v4(db: sqlite_utils.Database) -> None:
    """A pass looks up the open failures of a slice's Accounts."""
    db.conn.execute("CREATE INDEX idx_failures_account ON failures (account_id)")


_MIGRATIONS: tuple[Callable[[sqlite_utils.Database], None], ...] = (_v1, _v2, _v3, _v4)


def _migrate(db: sqlite_utils.Database, version: int) -> None:
    for number, step in enumerate(_MIGRATIONS, start=1):
        if number <= version:
            continue
        conn = db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            step(db)
            conn.execute(f"PRAGMA user_version = {number}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def ts(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: pass an aware datetime (e.g. datetime.now(UTC))")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


def dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, sort_keys=True)

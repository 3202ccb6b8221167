"""The local SQLite file: run history, cursors, the failure queue, dead letters, alert memory.

Salesforce is where people look; this file is where nothing is lost. A failure that could not
be written to Sync_Error__c (Salesforce down) is recorded here with ``mirrored = False`` and
written later (``unmirrored`` / ``mark_mirrored``).

Failure lifecycle (``FailureRow.status``):
    open      first attempt failed; retried after ``retry_delay(1)``
    retrying  failed again; ``next_retry`` follows the capped exponential backoff
    dead      ``gives_up(attempts)``: no automatic retry, still open for a human
              (Salesforce shows it as Open, see ``FailureRow.salesforce_status``);
              ``requeue`` (an admin ticked Retry) gives it one more attempt
    resolved  the record later wrote cleanly; the same fingerprint failing again re-opens it
              as a new episode (attempts back to 1, ``is_new`` True)

Datetimes are stored as ISO-8601 UTC with microseconds, so text order is time order; naive
datetimes are refused rather than guessed at.

Secrets: callers pass payloads already stripped. As a second line of defence every payload
and message is scrubbed on the way in (``scrub_payload`` / ``scrub_text``): values under keys
whose *words* name a credential (token, secret, password, key, ...) and values that look like
a credential or a card number whatever their key. Keys are split into words (snake_case and
camelCase), never matched as substrings, so our own field names such as
``Stripe_Customer_Id__c`` or ``Stripe_Subscription_Id__c`` are left alone.
"""

from __future__ import annotations

import functools
import json
import random
import sqlite3
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from .redact import scrub_payload, scrub_text
from .retry import gives_up, retry_delay

__all__ = ["FailureRow", "StateStore"]

SCHEMA_VERSION = 1

UNRESOLVED = ("open", "retrying", "dead")
RETRYABLE = ("open", "retrying")

# Sync_Error__c.Status__c has no "dead": a dead letter is still an open problem for a human.
_SALESFORCE_STATUS = {
    "open": "Open",
    "retrying": "Retrying",
    "dead": "Open",
    "resolved": "Resolved",
}


F = TypeVar("F", bound=Callable[..., Any])


def _locked(method: F) -> F:
    @functools.wraps(method)
    def wrapper(self: StateStore, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


@dataclass(frozen=True)
class FailureRow:
    fingerprint: str
    category: str
    code: str
    message: str
    account_id: str | None
    customer_id: str | None
    payload: dict
    status: str  # open | retrying | resolved | dead
    attempts: int
    first_seen: datetime
    last_seen: datetime
    next_retry: datetime | None
    resolved_at: datetime | None
    mirrored: bool  # whether Salesforce's Sync_Error__c reflects the latest state
    is_new: bool = False  # set by record_failure when the fingerprint was not open before

    @property
    def kind(self) -> tuple[str, str]:
        return (self.category, self.code)

    @property
    def salesforce_status(self) -> str:
        """The Sync_Error__c.Status__c picklist value for this row."""
        return _SALESFORCE_STATUS[self.status]


class StateStore:
    """One SQLite file. All writes run in transactions; one daemon process owns the file,
    while short-lived commands (status, dry runs) may read it concurrently thanks to WAL.

    The connection may be used from any thread (a scheduler runs jobs in a worker thread),
    one call at a time: every public method holds the store's lock.
    """

    def __init__(self, path: str | Path, *, rand: Callable[[], float] = random.random):
        self.path = Path(path)
        self._rand = rand
        self._lock = threading.RLock()
        self.db = sqlite_utils.Database(sqlite3.connect(self.path, check_same_thread=False))
        self.db.enable_wal()
        self._create_schema()

    @_locked
    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> StateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ schema

    def _create_schema(self) -> None:
        db = self.db
        with db.atomic():
            db["runs"].create(
                {
                    "id": int, "kind": str, "dry_run": int, "status": str,
                    "started_at": str, "finished_at": str, "duration_s": float,
                    "counts": str, "api_calls": str,
                },
                pk="id", not_null={"kind", "dry_run", "status", "started_at"},
                if_not_exists=True,
            )
            db["failures"].create(
                {
                    "fingerprint": str, "category": str, "code": str, "message": str,
                    "account_id": str, "customer_id": str, "payload": str, "status": str,
                    "attempts": int, "first_seen": str, "last_seen": str,
                    "next_retry": str, "resolved_at": str, "mirrored": int,
                },
                pk="fingerprint",
                not_null={"category", "code", "message", "payload", "status", "attempts",
                          "first_seen", "last_seen", "mirrored"},
                if_not_exists=True,
            )
            db["failures"].create_index(["status", "next_retry"], if_not_exists=True)
            db["failures"].create_index(["mirrored"], if_not_exists=True)
            db["failures"].create_index(["category", "code"], if_not_exists=True)
            db["cursors"].create(
                {"name": str, "value": str, "updated_at": str}, pk="name",
                if_not_exists=True,
            )
            db["alerted_kinds"].create(
                {"category": str, "code": str, "alerted_at": str},
                pk=("category", "code"), if_not_exists=True,
            )
            db["alert_marks"].create(
                {"key": str, "sent_at": str}, pk="key", if_not_exists=True,
            )
        version = next(iter(db.query("PRAGMA user_version")))["user_version"]
        if version == 0:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version > SCHEMA_VERSION:
            raise RuntimeError(
                f"{self.path} was written by a newer billing-sync (schema {version}); "
                f"this version understands schema {SCHEMA_VERSION}"
            )

    # ------------------------------------------------------------------ runs

    @_locked
    def start_run(self, kind: str, *, dry_run: bool, now: datetime) -> int:
        with self.db.atomic():
            cur = self.db.execute(
                "INSERT INTO runs (kind, dry_run, status, started_at) VALUES (?, ?, ?, ?)",
                (kind, int(dry_run), "running", _ts(now)),
            )
        assert cur.lastrowid is not None
        return cur.lastrowid

    @_locked
    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        counts: dict,
        api_calls: dict,
        duration_s: float,
        now: datetime,
    ) -> None:
        with self.db.atomic():
            cur = self.db.execute(
                "UPDATE runs SET status = ?, finished_at = ?, duration_s = ?, counts = ?, "
                "api_calls = ? WHERE id = ?",
                (status, _ts(now), float(duration_s), _dumps(counts), _dumps(api_calls),
                 run_id),
            )
            if cur.rowcount != 1:
                raise KeyError(f"no run with id {run_id}")

    @_locked
    def runs(self, limit: int = 20, *, kind: str | None = None) -> list[dict]:
        """The latest runs, newest first (datetimes decoded, counts/api_calls as dicts)."""
        where, params = ("WHERE kind = ?", [kind]) if kind else ("", [])
        rows = self.db.query(
            f"SELECT * FROM runs {where} ORDER BY id DESC LIMIT ?", [*params, limit]
        )
        return [
            {
                "id": r["id"],
                "kind": r["kind"],
                "dry_run": bool(r["dry_run"]),
                "status": r["status"],
                "started_at": _dt(r["started_at"]),
                "finished_at": _dt(r["finished_at"]),
                "duration_s": r["duration_s"],
                "counts": json.loads(r["counts"]) if r["counts"] else {},
                "api_calls": json.loads(r["api_calls"]) if r["api_calls"] else {},
            }
            for r in rows
        ]

    # ------------------------------------------------------------------ failures

    @_locked
    def record_failure(
        self,
        fingerprint: str,
        *,
        category: str,
        code: str,
        message: str,
        account_id: str | None,
        customer_id: str | None,
        payload: dict,
        now: datetime,
    ) -> FailureRow:
        """Upsert one failure by fingerprint and schedule its next attempt."""
        stamp = _ts(now)
        with self.db.atomic():
            old = self._get(fingerprint)
            if old is None or old["status"] == "resolved":
                attempts, first_seen, is_new = 1, stamp, True
            else:
                attempts, first_seen, is_new = old["attempts"] + 1, old["first_seen"], False
            if gives_up(attempts):
                status, next_retry = "dead", None
            else:
                status = "open" if attempts == 1 else "retrying"
                delay = retry_delay(attempts, rand=self._rand)
                next_retry = _ts(now + timedelta(seconds=delay))
            row = {
                "fingerprint": fingerprint,
                "category": category,
                "code": code or "",
                "message": scrub_text(message or ""),
                "account_id": account_id,
                "customer_id": customer_id,
                "payload": _dumps(scrub_payload(payload or {})),
                "status": status,
                "attempts": attempts,
                "first_seen": first_seen,
                "last_seen": stamp,
                "next_retry": next_retry,
                "resolved_at": None,
                "mirrored": 0,
            }
            self.db.execute(
                f"INSERT OR REPLACE INTO failures ({', '.join(row)}) "
                f"VALUES ({', '.join('?' for _ in row)})",
                list(row.values()),
            )
        return _row(row, is_new=is_new)

    @_locked
    def resolve(self, fingerprint: str, *, now: datetime) -> FailureRow | None:
        """Mark an unresolved failure resolved; None when unknown or already resolved.

        Dead letters resolve too: if the record now writes cleanly the problem is gone,
        whether or not the daemon had stopped retrying it.
        """
        with self.db.atomic():
            old = self._get(fingerprint)
            if old is None or old["status"] not in UNRESOLVED:
                return None
            resolved = self._resolve_rows([old], now)
        return resolved[0]

    @_locked
    def resolve_missing(
        self, seen: set[str], scope: set[str], *, now: datetime
    ) -> list[FailureRow]:
        """Resolve unresolved failures about something examined this cycle that did not fail.

        ``scope`` holds the subjects the cycle processed completely: Account ids and/or
        Stripe customer ids. A failure is in scope when its ``account_id`` or its
        ``customer_id`` is in ``scope``; it is resolved when its fingerprint is not in
        ``seen`` (the fingerprints recorded this cycle). Put an Account in scope only if every
        failure it could produce would have been recorded again this cycle: Accounts skipped
        (e.g. duplicate match keys) or not read (an incremental cycle) stay out. Failures
        tied to neither an Account nor a customer never resolve here; use ``resolve``.
        """
        if not scope:
            return []
        with self.db.atomic():
            candidates = [
                r for r in self._unresolved_rows()
                if r["fingerprint"] not in seen
                and (r["account_id"] in scope or r["customer_id"] in scope)
            ]
            return self._resolve_rows(candidates, now)

    @_locked
    def requeue(self, fingerprint: str, *, now: datetime) -> FailureRow | None:
        """Retry an unresolved failure on the next cycle (an admin ticked Retry_Requested__c).

        A dead letter gets exactly one more attempt: its attempt count is kept, so failing
        again makes it dead again at once. None when unknown or resolved.
        """
        with self.db.atomic():
            old = self._get(fingerprint)
            if old is None or old["status"] not in UNRESOLVED:
                return None
            status = "retrying" if old["status"] == "dead" else old["status"]
            self.db.execute(
                "UPDATE failures SET status = ?, next_retry = ?, mirrored = 0 "
                "WHERE fingerprint = ?",
                (status, _ts(now), fingerprint),
            )
            new = self._get(fingerprint)
        assert new is not None
        return _row(new)

    @_locked
    def failure(self, fingerprint: str) -> FailureRow | None:
        row = self._get(fingerprint)
        return _row(row) if row else None

    @_locked
    def open_failures(self) -> list[FailureRow]:
        """Every unresolved failure, dead letters included, oldest first."""
        return self._select("status IN ('open', 'retrying', 'dead')", (), "first_seen")

    @_locked
    def dead_letters(self) -> list[FailureRow]:
        return self._select("status = 'dead'", (), "last_seen")

    @_locked
    def due_retries(self, now: datetime) -> list[FailureRow]:
        """Open/retrying failures whose next attempt is due, the longest-waiting first."""
        return self._select(
            "status IN ('open', 'retrying') AND next_retry <= ?", (_ts(now),), "next_retry"
        )

    @_locked
    def unmirrored(self) -> list[FailureRow]:
        """Rows whose latest state Salesforce's Sync_Error__c does not show yet."""
        return self._select("mirrored = 0", (), "last_seen")

    @_locked
    def mark_mirrored(self, fingerprints: Iterable[str]) -> None:
        with self.db.atomic():
            self.db.conn.executemany(
                "UPDATE failures SET mirrored = 1 WHERE fingerprint = ?",
                [(fp,) for fp in fingerprints],
            )

    @_locked
    def failure_counts(self) -> dict[str, int]:
        """Number of failures per status (for the status command)."""
        rows = self.db.query("SELECT status, count(*) AS n FROM failures GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    @_locked
    def prune(self, *, before: datetime) -> int:
        """Delete runs started and failures resolved (and mirrored) before ``before``.

        Unresolved or unmirrored failures are never deleted. Returns the rows removed.
        """
        stamp = _ts(before)
        with self.db.atomic():
            a = self.db.execute("DELETE FROM runs WHERE started_at < ?", (stamp,)).rowcount
            b = self.db.execute(
                "DELETE FROM failures WHERE status = 'resolved' AND mirrored = 1 "
                "AND resolved_at < ?",
                (stamp,),
            ).rowcount
        return a + b

    # ------------------------------------------------------------------ cursors

    @_locked
    def get_cursor(self, name: str) -> str | None:
        rows = list(self.db.query("SELECT value FROM cursors WHERE name = ?", [name]))
        return rows[0]["value"] if rows else None

    @_locked
    def set_cursor(self, name: str, value: str, *, now: datetime | None = None) -> None:
        with self.db.atomic():
            self.db.execute(
                "INSERT OR REPLACE INTO cursors (name, value, updated_at) VALUES (?, ?, ?)",
                (name, value, _ts(now or datetime.now(UTC))),
            )

    # ------------------------------------------------------------------ alert memory

    @_locked
    def alerted_kinds(self) -> set[tuple[str, str]]:
        """Failure kinds (category, code) already announced and not yet fully resolved."""
        rows = self.db.query("SELECT category, code FROM alerted_kinds")
        return {(r["category"], r["code"]) for r in rows}

    @_locked
    def mark_alerted(self, kind: tuple[str, str], *, now: datetime | None = None) -> None:
        category, code = kind
        with self.db.atomic():
            self.db.execute(
                "INSERT OR REPLACE INTO alerted_kinds (category, code, alerted_at) "
                "VALUES (?, ?, ?)",
                (category, code, _ts(now or datetime.now(UTC))),
            )

    @_locked
    def alert_sent_at(self, key: str) -> datetime | None:
        """When the alert identified by ``key`` (e.g. a cycle-stop message) was last sent."""
        rows = list(self.db.query("SELECT sent_at FROM alert_marks WHERE key = ?", [key]))
        return _dt(rows[0]["sent_at"]) if rows else None

    @_locked
    def mark_alert_sent(self, key: str, *, now: datetime) -> None:
        with self.db.atomic():
            self.db.execute(
                "INSERT OR REPLACE INTO alert_marks (key, sent_at) VALUES (?, ?)",
                (key, _ts(now)),
            )

    # ------------------------------------------------------------------ internals

    def _get(self, fingerprint: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM failures WHERE fingerprint = ?", [fingerprint]))
        return rows[0] if rows else None

    def _unresolved_rows(self) -> list[dict]:
        return list(self.db.query(
            "SELECT * FROM failures WHERE status IN ('open', 'retrying', 'dead')"
        ))

    def _select(self, where: str, params: tuple, order: str) -> list[FailureRow]:
        rows = self.db.query(
            f"SELECT * FROM failures WHERE {where} ORDER BY {order}, fingerprint", list(params)
        )
        return [_row(r) for r in rows]

    def _resolve_rows(self, rows: list[dict], now: datetime) -> list[FailureRow]:
        """Resolve ``rows`` (inside the caller's transaction) and forget the alert for
        every kind that has no unresolved failure left, so that kind may alert again."""
        stamp = _ts(now)
        out = []
        for old in rows:
            self.db.execute(
                "UPDATE failures SET status = 'resolved', resolved_at = ?, next_retry = NULL, "
                "mirrored = 0 WHERE fingerprint = ?",
                (stamp, old["fingerprint"]),
            )
            out.append(_row({**old, "status": "resolved", "resolved_at": stamp,
                             "next_retry": None, "mirrored": 0}))
        for category, code in {(r["category"], r["code"]) for r in rows}:
            self.db.execute(
                "DELETE FROM alerted_kinds WHERE category = ? AND code = ? AND NOT EXISTS ("
                " SELECT 1 FROM failures WHERE category = ? AND code = ?"
                " AND status IN ('open', 'retrying', 'dead'))",
                (category, code, category, code),
            )
        return out


# ---------------------------------------------------------------------- helpers


def _ts(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime: pass an aware datetime (e.g. datetime.now(UTC))")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


def _dumps(value: Any) -> str:
    return json.dumps(value, default=_json_default, sort_keys=True)


def _row(r: dict, *, is_new: bool = False) -> FailureRow:
    first_seen = _dt(r["first_seen"])
    last_seen = _dt(r["last_seen"])
    assert first_seen is not None and last_seen is not None
    return FailureRow(
        fingerprint=r["fingerprint"],
        category=r["category"],
        code=r["code"],
        message=r["message"],
        account_id=r["account_id"],
        customer_id=r["customer_id"],
        payload=json.loads(r["payload"]),
        status=r["status"],
        attempts=r["attempts"],
        first_seen=first_seen,
        last_seen=last_seen,
        next_retry=_dt(r["next_retry"]),
        resolved_at=_dt(r["resolved_at"]),
        mirrored=bool(r["mirrored"]),
        is_new=is_new,
    )

"""The ``failures`` table: the retry queue, dead letters and what Salesforce has been shown.

The lifecycle is decided by ``sync.core.failures``; this module only persists it. A failure
that could not be written to Sync_Error__c (Salesforce down) stays ``mirrored = 0`` and is
written later (``unmirrored`` / ``mark_mirrored``). Messages and records are scrubbed of
secrets on the way in, whatever the caller already did.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from metadata.schema import Category

from ..core.failures import (
    Failure,
    FailureRow,
    FailureState,
    needs_recording,
    next_row,
    resolved_row,
)
from ..redact import Redactor
from .database import dt, dumps, transaction, ts

__all__ = ["FailureTable"]

_UNRESOLVED_SQL = "status IN ('open', 'retrying', 'dead')"
# The columns a pass looks failures up by; SQLite caps a statement's parameters.
_LOOKUP = frozenset({"fingerprint", "subject", "account_id"})
_IN_CHUNK = 500
_COLUMNS = (
    "fingerprint",
    "category",
    "code",
    "message",
    "subject",
    "account_id",
    "customer_id",
    "payload",
    "status",
    "attempts",
    "first_seen",
    "last_seen",
    "next_retry",
    "resolved_at",
    "mirrored",
    "attempted",
)


class FailureTable:
    def __init__(
        self,
        db: sqlite_utils.Database,
        path: Path,
        redactor: Redactor,
        delay: Callable[[int], float],
    ):
        self.db, self.path, self.redactor, self.delay = db, path, redactor, delay

    def record(self, failure: Failure, now: datetime) -> FailureRow:
        """Persist one occurrence of ``failure`` and schedule its next attempt."""
        return self.record_many([failure], now)[0]

    def record_many(self, failures: Iterable[Failure], now: datetime) -> list[FailureRow]:
        """Several occurrences in one transaction (a cycle step's worth)."""
        return self._record(failures, now, news_only=False)

    def record_news(self, failures: Iterable[Failure], now: datetime) -> list[FailureRow]:
        """Of ``failures`` (read as they come: a large pass streams them), persist those that
        say something new (``needs_recording``), all in one transaction."""
        return self._record(failures, now, news_only=True)

    def _record(
        self, failures: Iterable[Failure], now: datetime, *, news_only: bool
    ) -> list[FailureRow]:
        rows = []
        with transaction(self.db, self.path) as conn:
            for failure in failures:
                old = self._get(conn, failure.fingerprint)
                if news_only and not needs_recording(old, failure, now):
                    continue
                row = next_row(
                    old,
                    failure,
                    now,
                    delay=self.delay,
                    record=self._clean(failure),
                    message=self.redactor.text(failure.message),
                )
                self._write(conn, row)
                rows.append(row)
        return rows

    def resolve(self, fingerprints: Iterable[str], now: datetime) -> list[FailureRow]:
        """Resolve the unresolved ones among ``fingerprints``; forget the alert of every kind
        left with no unresolved failure, so that kind may alert again."""
        out = []
        with transaction(self.db, self.path) as conn:
            for fp in fingerprints:
                old = self._get(conn, fp)
                if old is None or not old.unresolved:
                    continue
                row = resolved_row(old, now)
                self._write(conn, row)
                out.append(row)
            for category, code in {r.kind for r in out}:
                conn.execute(
                    "DELETE FROM alerted_kinds WHERE category = ? AND code = ? AND NOT EXISTS ("
                    f" SELECT 1 FROM failures WHERE category = ? AND code = ? AND"
                    f" {_UNRESOLVED_SQL})",
                    (category, code, category, code),
                )
        return out

    def requeue(self, fingerprint: str, now: datetime) -> FailureRow | None:
        """Retry an unresolved failure on the next cycle (an admin ticked Retry Requested).

        A dead letter gets exactly one more attempt: its attempt count is kept, so failing
        again makes it dead again at once. None when unknown or resolved.
        """
        with transaction(self.db, self.path) as conn:
            old = self._get(conn, fingerprint)
            if old is None or not old.unresolved:
                return None
            status = FailureState.RETRYING if old.status == FailureState.DEAD else old.status
            conn.execute(
                "UPDATE failures SET status = ?, next_retry = ?, mirrored = 0 "
                "WHERE fingerprint = ?",
                (str(status), ts(now), fingerprint),
            )
            new = self._get(conn, fingerprint)
        return new

    def get(self, fingerprint: str) -> FailureRow | None:
        return self._get(self.db.conn, fingerprint)

    def select(
        self, where: str, params: tuple[Any, ...], order: str, limit: int = -1
    ) -> list[FailureRow]:
        by = f"{order}, fingerprint" if order else "fingerprint"
        rows = self.db.query(
            f"SELECT * FROM failures WHERE {where} ORDER BY {by} LIMIT ?", [*params, limit]
        )
        return [_row(r) for r in rows]

    def unresolved(self) -> list[FailureRow]:
        return self.select(_UNRESOLVED_SQL, (), "first_seen")

    def unresolved_where(self, column: str, values: Iterable[str]) -> list[FailureRow]:
        """The unresolved failures whose ``column`` is one of ``values``."""
        if column not in _LOOKUP:
            raise ValueError(f"failures are not looked up by {column!r}")
        wanted = sorted(set(values))
        rows: list[FailureRow] = []
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            marks = ", ".join("?" for _ in chunk)
            where = f"{_UNRESOLVED_SQL} AND {column} IN ({marks})"
            rows += self.select(where, tuple(chunk), column)
        return rows

    def unresolved_after(self, fingerprint: str, limit: int) -> list[FailureRow]:
        """A page of unresolved failures in fingerprint order, after ``fingerprint``."""
        return self.select(f"{_UNRESOLVED_SQL} AND fingerprint > ?", (fingerprint,), "", limit)

    def unmirrored_after(self, fingerprint: str, limit: int) -> list[FailureRow]:
        """A page of unmirrored failures in fingerprint order, after ``fingerprint``."""
        return self.select("mirrored = 0 AND fingerprint > ?", (fingerprint,), "", limit)

    def open_kinds(self, exclude: str | None) -> dict[tuple[str, str], int]:
        """Unresolved failures per (category, code), leaving out ``exclude``."""
        rows = self.db.query(
            f"SELECT category, code, count(*) AS n FROM failures WHERE {_UNRESOLVED_SQL} "
            "AND fingerprint != ? GROUP BY category, code",
            [exclude or ""],
        )
        return {(r["category"], r["code"]): r["n"] for r in rows}

    def first_open(self, kind: tuple[str, str], exclude: str | None) -> FailureRow | None:
        """The oldest unresolved failure of ``kind`` (its example), leaving out ``exclude``."""
        found = self.select(
            f"{_UNRESOLVED_SQL} AND category = ? AND code = ? AND fingerprint != ?",
            (kind[0], kind[1], exclude or ""),
            "first_seen",
            1,
        )
        return found[0] if found else None

    def mark_mirrored(self, fingerprints: Iterable[str]) -> None:
        with transaction(self.db, self.path) as conn:
            conn.executemany(
                "UPDATE failures SET mirrored = 1 WHERE fingerprint = ?",
                [(fp,) for fp in fingerprints],
            )

    def counts(self) -> dict[str, int]:
        rows = self.db.query("SELECT status, count(*) AS n FROM failures GROUP BY status")
        return {r["status"]: r["n"] for r in rows}

    def prune(self, conn: sqlite3.Connection, before: datetime) -> int:
        return conn.execute(
            "DELETE FROM failures WHERE status = 'resolved' AND mirrored = 1 AND resolved_at < ?",
            (ts(before),),
        ).rowcount

    # ------------------------------------------------------------------ internals

    def _clean(self, failure: Failure) -> dict[str, Any]:
        # Scrubbed, and in the JSON form it will be read back in, so the row returned now
        # equals the row read later.
        loaded: dict[str, Any] = json.loads(dumps(self.redactor.payload(dict(failure.record))))
        return loaded

    def _get(self, conn: sqlite3.Connection, fingerprint: str) -> FailureRow | None:
        cur = conn.execute("SELECT * FROM failures WHERE fingerprint = ?", (fingerprint,))
        found = cur.fetchone()
        if found is None:
            return None
        names = [d[0] for d in cur.description]
        return _row(dict(zip(names, found, strict=True)))

    def _write(self, conn: sqlite3.Connection, row: FailureRow) -> None:
        values = (
            row.fingerprint,
            str(row.category),
            row.code,
            row.message,
            row.subject,
            row.account_id,
            row.customer_id,
            dumps(row.record),
            str(row.status),
            row.attempts,
            ts(row.first_seen),
            ts(row.last_seen),
            ts(row.next_retry) if row.next_retry else None,
            ts(row.resolved_at) if row.resolved_at else None,
            int(row.mirrored),
            int(row.attempted),
        )
        conn.execute(
            f"INSERT OR REPLACE INTO failures ({', '.join(_COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in _COLUMNS)})",
            values,
        )


def _row(r: dict[str, Any]) -> FailureRow:
    first_seen, last_seen = dt(r["first_seen"]), dt(r["last_seen"])
    assert first_seen is not None and last_seen is not None
    return FailureRow(
        fingerprint=r["fingerprint"],
        category=Category(r["category"]),
        code=r["code"],
        message=r["message"],
        subject=r["subject"],
        account_id=r["account_id"],
        customer_id=r["customer_id"],
        record=json.loads(r["payload"]),
        status=FailureState(r["status"]),
        attempts=r["attempts"],
        first_seen=first_seen,
        last_seen=last_seen,
        next_retry=dt(r["next_retry"]),
        resolved_at=dt(r["resolved_at"]),
        mirrored=bool(r["mirrored"]),
        attempted=bool(r["attempted"]),
    )

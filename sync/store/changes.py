"""What the incremental cycle keeps between ticks: the billing events already processed, the
customers still to re-read (dirty), which catalog items each customer uses, and flags.

The events cursor, the processed event ids and the dirty set are written in one
transaction (``note_events``): a crash between reading events and writing Salesforce loses
nothing, because a customer leaves the dirty set only once its records were written or its
failure is queued (``clean``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

import sqlite_utils

from .database import dt, transaction, ts

__all__ = ["Changes"]

EVENTS_CURSOR = "billing_events"


class Changes:
    def __init__(self, db: sqlite_utils.Database, path: Path):
        self.db, self.path = db, path

    # ------------------------------------------------------------------ events and dirt

    def _rows_in(self, sql: str, values: Iterable[str]) -> list[tuple[str, ...]]:
        """``sql`` with its ``{marks}`` placeholder run over ``values``, 500 at a time (SQLite
        caps the parameters of one statement). Rows as SQLite's own tuples: a full reconcile
        reads every customer's rows here, and a dict per row cost more than the query."""
        wanted = list(values)
        rows: list[tuple[str, ...]] = []
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows += self.db.conn.execute(sql.format(marks=", ".join("?" * len(chunk))), chunk)
        return rows

    def seen_events(self, ids: Iterable[str]) -> set[str]:
        return {
            r[0] for r in self._rows_in("SELECT id FROM events_seen WHERE id IN ({marks})", ids)
        }

    def note_events(
        self,
        events: Mapping[str, datetime],
        dirty: Mapping[str, str],
        cursor: datetime | None,
        *,
        now: datetime,
        forget_before: datetime | None = None,
    ) -> None:
        """In one transaction: the events processed (id → created), the customers they made
        dirty (customer id → why), the new cursor; events older than ``forget_before`` are
        forgotten (they can no longer come back inside the overlap window)."""
        with transaction(self.db, self.path) as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO events_seen (id, created) VALUES (?, ?)",
                [(i, ts(c)) for i, c in events.items()],
            )
            conn.executemany(
                "INSERT OR IGNORE INTO dirty_customers (customer_id, reason, since) "
                "VALUES (?, ?, ?)",
                [(c, why, ts(now)) for c, why in dirty.items()],
            )
            if cursor is not None:
                conn.execute(
                    "INSERT OR REPLACE INTO cursors (name, value, updated_at) VALUES (?, ?, ?)",
                    (EVENTS_CURSOR, ts(cursor), ts(now)),
                )
            if forget_before is not None:
                conn.execute("DELETE FROM events_seen WHERE created < ?", (ts(forget_before),))

    def events_cursor(self) -> datetime | None:
        rows = list(self.db.query("SELECT value FROM cursors WHERE name = ?", [EVENTS_CURSOR]))
        return dt(rows[0]["value"]) if rows else None

    def set_events_cursor(self, cursor: datetime, *, now: datetime) -> None:
        self.note_events({}, {}, cursor, now=now)

    def dirty(self) -> dict[str, str]:
        return {
            r["customer_id"]: r["reason"]
            for r in self.db.query("SELECT customer_id, reason FROM dirty_customers")
        }

    def clean(self, customer_ids: Iterable[str]) -> None:
        with transaction(self.db, self.path) as conn:
            conn.executemany(
                "DELETE FROM dirty_customers WHERE customer_id = ?", [(c,) for c in customer_ids]
            )

    # ------------------------------------------------------------------ catalog index

    def index_catalog(self, uses: Mapping[str, Iterable[str]]) -> None:
        """Replace, for each customer in ``uses``, the catalog ids its subscriptions use.

        Only the pairs that changed are written: a full reconcile hands every customer over,
        and rewriting an unchanged index costs more than reading it."""
        wanted = {(c, item) for c, items in uses.items() for item in items}
        sql = "SELECT customer_id, item FROM customer_catalog WHERE customer_id IN ({marks})"
        known = set(self._rows_in(sql, uses))
        gone, new = known - wanted, wanted - known
        if not gone and not new:
            return
        with transaction(self.db, self.path) as conn:
            conn.executemany(
                "DELETE FROM customer_catalog WHERE customer_id = ? AND item = ?", sorted(gone)
            )
            conn.executemany(
                "INSERT OR IGNORE INTO customer_catalog (customer_id, item) VALUES (?, ?)",
                sorted(new),
            )

    def customers_using(self, items: Iterable[str]) -> set[str]:
        sql = "SELECT DISTINCT customer_id FROM customer_catalog WHERE item IN ({marks})"
        return {r[0] for r in self._rows_in(sql, items)}

    # ------------------------------------------------------------------ links

    def links(self, account_ids: Iterable[str]) -> dict[str, str]:
        """The customer each Account was linked to when last synced."""
        sql = "SELECT account_id, customer_id FROM links WHERE account_id IN ({marks})"
        return {r[0]: r[1] for r in self._rows_in(sql, account_ids)}

    def set_links(self, links: Mapping[str, str | None]) -> None:
        """Only what differs from the file is written (most Accounts keep their link)."""
        known = self.links(links)
        moved = [(a, c) for a, c in links.items() if c and known.get(a) != c]
        cleared = [(a,) for a, c in links.items() if not c and a in known]
        if not moved and not cleared:
            return
        with transaction(self.db, self.path) as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO links (account_id, customer_id) VALUES (?, ?)", moved
            )
            conn.executemany("DELETE FROM links WHERE account_id = ?", cleared)

    # ------------------------------------------------------------------ flags

    def get_flag(self, name: str) -> str | None:
        rows = list(self.db.query("SELECT value FROM flags WHERE name = ?", [name]))
        return rows[0]["value"] if rows else None

    def set_flag(self, name: str, value: str | None, *, now: datetime) -> None:
        with transaction(self.db, self.path) as conn:
            if value is None:
                conn.execute("DELETE FROM flags WHERE name = ?", (name,))
            else:
                conn.execute(
                    "INSERT OR REPLACE INTO flags (name, value, updated_at) VALUES (?, ?, ?)",
                    (name, value, ts(now)),
                )

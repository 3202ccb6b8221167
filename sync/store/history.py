"""Run history, cursors and alert memory: the small tables beside the failure queue."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from .database import dt, dumps, transaction, ts

__all__ = ["History"]


class History:
    def __init__(self, db: sqlite_utils.Database, path: Path):
        self.db, self.path = db, path

    # ------------------------------------------------------------------ runs

    def start_run(self, kind: str, *, dry_run: bool, now: datetime) -> int:
        with transaction(self.db, self.path) as conn:
            cur = conn.execute(
                "INSERT INTO runs (kind, dry_run, status, started_at) VALUES (?, ?, ?, ?)",
                (kind, int(dry_run), "running", ts(now)),
            )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        counts: dict[str, Any],
        api_calls: dict[str, int],
        duration_s: float,
        now: datetime,
    ) -> None:
        with transaction(self.db, self.path) as conn:
            cur = conn.execute(
                "UPDATE runs SET status = ?, finished_at = ?, duration_s = ?, counts = ?, "
                "api_calls = ? WHERE id = ?",
                (status, ts(now), float(duration_s), dumps(counts), dumps(api_calls), run_id),
            )
            if cur.rowcount != 1:
                raise KeyError(f"no run with id {run_id}")

    def runs(self, limit: int = 20, *, kind: str | None = None) -> list[dict[str, Any]]:
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
                "started_at": dt(r["started_at"]),
                "finished_at": dt(r["finished_at"]),
                "duration_s": r["duration_s"],
                "counts": json.loads(r["counts"]) if r["counts"] else {},
                "api_calls": json.loads(r["api_calls"]) if r["api_calls"] else {},
            }
            for r in rows
        ]

    def mark_interrupted(self, *, now: datetime) -> int:
        with transaction(self.db, self.path) as conn:
            changed: int = conn.execute(
                "UPDATE runs SET status = 'interrupted', finished_at = ? WHERE status = 'running'",
                (ts(now),),
            ).rowcount
        return changed

    def prune_runs(self, conn: Any, before: datetime) -> int:
        deleted: int = conn.execute("DELETE FROM runs WHERE started_at < ?", (ts(before),)).rowcount
        return deleted

    # ------------------------------------------------------------------ cursors

    def get_cursor(self, name: str) -> str | None:
        rows = list(self.db.query("SELECT value FROM cursors WHERE name = ?", [name]))
        return rows[0]["value"] if rows else None

    def set_cursor(self, name: str, value: str, *, now: datetime) -> None:
        with transaction(self.db, self.path) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO cursors (name, value, updated_at) VALUES (?, ?, ?)",
                (name, value, ts(now)),
            )

    # ------------------------------------------------------------------ alert memory

    def alerted_kinds(self) -> set[tuple[str, str]]:
        """Failure kinds (category, code) already announced and not yet fully resolved."""
        rows = self.db.query("SELECT category, code FROM alerted_kinds")
        return {(r["category"], r["code"]) for r in rows}

    def mark_alerted(self, kind: tuple[str, str], *, now: datetime) -> None:
        category, code = kind
        with transaction(self.db, self.path) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO alerted_kinds (category, code, alerted_at) "
                "VALUES (?, ?, ?)",
                (category, code, ts(now)),
            )

    def alert_sent_at(self, key: str) -> datetime | None:
        """When the alert identified by ``key`` (e.g. a cycle stop) was last sent."""
        rows = list(self.db.query("SELECT sent_at FROM alert_marks WHERE key = ?", [key]))
        return dt(rows[0]["sent_at"]) if rows else None

    def alert_keys(self, prefix: str) -> list[str]:
        rows = self.db.query(
            "SELECT key FROM alert_marks WHERE key LIKE ? ORDER BY key", [prefix + "%"]
        )
        return [r["key"] for r in rows]

    def forget_alerts(self, keys: list[str]) -> None:
        with transaction(self.db, self.path) as conn:
            conn.executemany("DELETE FROM alert_marks WHERE key = ?", [(k,) for k in keys])

    def mark_alert_sent(self, key: str, *, now: datetime) -> None:
        with transaction(self.db, self.path) as conn:
            conn.execute(
                "INSERT OR REPLACE INTO alert_marks (key, sent_at) VALUES (?, ?)", (key, ts(now))
            )

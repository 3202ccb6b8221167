"""What one reconcile pass learns about failures, kept on disk until the pass ends.

A pass resolves a failure only once its last write is done, and records what it saw fail in
one go at the end (a run killed half-way must not leave failures recorded but never
announced). So it must remember, from the first slice to the last, which open failures it
examined, which failed again and whose Accounts it read, and every failure it saw. Held in
memory that grows with the failures of the org (a tenth of a million-Account org failing is
100,000 of each); held here, in SQLite's private temporary file (an empty file name: never
shared, deleted on close), it costs a page cache. Failures are pickled: they are our own
frozen values, written and read back by this process only.
"""

from __future__ import annotations

import pickle
import sqlite3
from collections.abc import Iterable, Iterator

from ..core.failures import Failure
from ..ports import EXAMINED, SEEN, STILL

__all__ = ["PassLedger"]

KINDS = (EXAMINED, STILL, SEEN)
CHUNK = 500  # values per statement, well under SQLite's bound on variables


class PassLedger:
    """Marks on fingerprints (``mark``/``marked``) and the pass's failures (``add``/``drain``)."""

    def __init__(self) -> None:
        self._db = sqlite3.connect("", isolation_level=None)
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute(
            "CREATE TABLE marks (kind TEXT NOT NULL, fingerprint TEXT NOT NULL, "
            "PRIMARY KEY (kind, fingerprint)) WITHOUT ROWID"
        )
        self._db.execute("CREATE TABLE failures (seq INTEGER PRIMARY KEY, body BLOB NOT NULL)")
        self.pending = 0

    def mark(self, kind: str, fingerprints: Iterable[str]) -> None:
        if kind not in KINDS:
            raise ValueError(f"no such mark: {kind!r}")
        self._db.executemany(
            "INSERT OR IGNORE INTO marks (kind, fingerprint) VALUES (?, ?)",
            [(kind, fp) for fp in fingerprints],
        )

    def marked(self, kind: str, fingerprints: Iterable[str]) -> set[str]:
        """Which of ``fingerprints`` carry the mark ``kind``."""
        wanted = list(fingerprints)
        found: set[str] = set()
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            marks = ", ".join("?" for _ in chunk)
            cur = self._db.execute(
                f"SELECT fingerprint FROM marks WHERE kind = ? AND fingerprint IN ({marks})",
                [kind, *chunk],
            )
            found.update(fp for (fp,) in cur)
        return found

    def add(self, failures: Iterable[Failure]) -> None:
        rows = [(pickle.dumps(f, pickle.HIGHEST_PROTOCOL),) for f in failures]
        if rows:
            self._db.executemany("INSERT INTO failures (body) VALUES (?)", rows)
            self.pending += len(rows)

    def drain(self, page: int = 1000) -> Iterator[list[Failure]]:
        """The failures added so far, in order, a page at a time; each page read is
        forgotten, so a second ``drain`` gives only what was added since."""
        last = 0
        while True:
            rows = self._db.execute(
                "SELECT seq, body FROM failures WHERE seq > ? ORDER BY seq LIMIT ?", (last, page)
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            self._db.execute("DELETE FROM failures WHERE seq <= ?", (last,))
            self.pending -= len(rows)
            yield [pickle.loads(body) for _, body in rows]

    def close(self) -> None:
        self._db.close()

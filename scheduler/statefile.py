"""The local SQLite file as the operator commands (status, errors, retry) meet it.

Those commands read what the engine recorded and never contact a service, so a file with
nothing in it yet is an answer of its own ("nothing has run"), not an error of the file.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from metadata.schema import Category
from sync.store import StateStore

__all__ = ["has_state", "iso", "no_state_message", "number", "parse_category", "when"]


def has_state(path: Path) -> bool:
    """Whether the file holds anything the engine recorded: a run or a failure.

    Checked before opening, too: a missing or zero-byte file is "nothing yet", and opening a
    missing one read-write would create it.
    """
    if not path.is_file() or path.stat().st_size == 0:
        return False
    with StateStore(path, read_only=True) as store:
        return bool(store.runs(1) or store.failure_counts())


def no_state_message(path: Path, what: str = "nothing has run") -> str:
    return f"billing-sync: no state yet at {path}: {what}"


def parse_category(text: str) -> Category | None:
    """A category as typed: any case, ``_`` or ``-`` for the space (``salesforce_write``)."""
    wanted = " ".join(text.replace("_", " ").replace("-", " ").split()).casefold()
    return next((c for c in Category if c.value.casefold() == wanted), None)


def when(moment: datetime | None) -> str:
    """A timestamp for a table: minutes are enough to an operator, and always UTC."""
    return "" if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def iso(moment: datetime | None) -> str | None:
    """A timestamp for JSON: ISO 8601 in UTC, null when absent."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def number(value: Any) -> int | float | None:
    """A count read back from a run's JSON counts, or None when the run did not record it."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None

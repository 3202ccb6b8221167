"""Salesforce REST JSON values: the one codec between Python values and what Salesforce
sends and takes.

Salesforce sends numbers as JSON numbers (1234.5 for 1234.50), dates as "2026-12-01",
datetimes as "2026-11-26T11:17:22.000+0000", checkboxes as booleans and null for an empty text
field. Each comparison is made in the desired value's type, so an unchanged record is never
rewritten; datetimes compare to the millisecond (all Salesforce keeps), in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["from_salesforce", "same_value", "to_salesforce"]


def to_salesforce(value: Any) -> Any:
    """A Python value as Salesforce REST JSON takes it.

    Decimal becomes a float when the float prints back to the same number (every 2-place
    amount below 10^13 does), else a string, which Salesforce also parses; dates become
    "YYYY-MM-DD"; datetimes UTC "YYYY-MM-DDTHH:MM:SS.mmm+0000" (naive means UTC).
    """
    if value is None or isinstance(value, bool | str | int | float):
        return value
    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, datetime):
        moment = _utc(value)
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"no Salesforce JSON form for {type(value).__name__}: {value!r}")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _to_ms(moment: datetime) -> datetime:
    moment = _utc(moment)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def from_salesforce(raw: Any, like: Any) -> Any:
    """Read a Salesforce JSON value in the type of ``like`` (the desired value).

    Raises ValueError when the text cannot be read as that type.
    """
    if raw is None or raw == "":
        return None
    if isinstance(like, bool):
        if not isinstance(raw, bool):
            raise ValueError(f"not a checkbox value: {raw!r}")
        return raw
    if isinstance(like, Decimal | int | float):
        if isinstance(raw, bool):
            raise ValueError(f"not a number: {raw!r}")
        try:
            return Decimal(str(raw))
        except InvalidOperation as exc:
            raise ValueError(f"not a number: {raw!r}") from exc
    if isinstance(like, datetime):
        return _to_ms(datetime.fromisoformat(raw) if isinstance(raw, str) else raw)
    if isinstance(like, date):
        return date.fromisoformat(raw) if isinstance(raw, str) else raw
    return raw


def same_value(desired: Any, current: Any) -> bool:
    """Whether Salesforce's ``current`` JSON value already equals ``desired``."""
    if desired is None or desired == "":
        return current is None or current == "" or current is False
    if type(desired) is str:
        # Most fields are text, and JSON text needs no parsing: only equal text is the same
        # (what the general path below concludes too, after more work).
        return bool(current == desired)
    if isinstance(desired, bool) and current is None:
        return desired is False
    try:
        parsed = from_salesforce(current, desired)
    except (ValueError, TypeError):
        return False
    if parsed is None:
        return False
    if isinstance(desired, bool):
        return parsed is desired
    if isinstance(desired, int | float | Decimal):
        return bool(parsed == Decimal(str(desired)))
    if isinstance(desired, datetime):
        return bool(parsed == _to_ms(desired))
    if isinstance(desired, date):
        return bool(parsed == desired)
    return bool(parsed == desired)

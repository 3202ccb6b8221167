"""Turning JSON values into what a field stores, and checking them as Salesforce does.

Stored values are already in the shape the REST API sends back (dates "2026-12-01",
datetimes "2026-11-26T11:17:22.000+0000", numbers as int/float, checkboxes as bool), so
queries serialize without conversion and compare correctly as plain Python values.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from .components import FieldSpec
from .ids import normalize_id
from .schema import DEFAULT_LENGTHS, NUMBER_TYPES, TEXT_TYPES
from .sferrors import RecordError, SfError

__all__ = [
    "check_value",
    "coerce",
    "format_datetime",
    "now_stamp",
    "parse_datetime",
]

_DT = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:?\d{2})?)?$"
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def format_datetime(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def now_stamp() -> str:
    return format_datetime(datetime.now(UTC))


def parse_datetime(text: str) -> str | None:
    """Canonical datetime text for an ISO 8601 value, or None when it is not one."""
    m = _DT.match(text)
    if not m:
        return None
    year, month, day, hh, mm, ss, frac, tz = m.groups()
    try:
        moment = datetime(
            int(year), int(month), int(day), int(hh or 0), int(mm or 0), int(ss or 0),
            int((frac or "0")[:6].ljust(6, "0")),
        )
    except ValueError:
        return None
    offset = timedelta(0)
    if tz and tz != "Z":
        sign = -1 if tz[0] == "-" else 1
        digits = tz[1:].replace(":", "")
        offset = sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return format_datetime(moment.replace(tzinfo=timezone(offset)))


def parse_date(text: str) -> str | None:
    if len(text) != 10:
        return None
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return None


def _json_kind(value: object) -> str:
    if value is True or value is False:
        return "VALUE_" + str(value).upper()
    if isinstance(value, str):
        return "VALUE_STRING"
    if isinstance(value, int | float):
        return "VALUE_NUMBER_INT" if isinstance(value, int) else "VALUE_NUMBER_FLOAT"
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    return "VALUE_EMBEDDED_OBJECT"


def _parse_error(java_type: str, value: object) -> SfError:
    shown = "{" if isinstance(value, dict) else "[" if isinstance(value, list) else value
    if isinstance(shown, bool):
        shown = str(shown).lower()
    return SfError(
        400,
        "JSON_PARSER_ERROR",
        f"Cannot deserialize instance of {java_type} from {_json_kind(value)} value {shown} "
        "or request may be missing a required field",
    )


_JAVA_TYPES = {
    "Number": "double", "Currency": "currency", "Percent": "percent", "Checkbox": "boolean",
    "Date": "date", "DateTime": "datetime",
}


def coerce(f: FieldSpec, value: object) -> object:
    """The stored form of a JSON value for field ``f``.

    Raises SfError(JSON_PARSER_ERROR): like Salesforce, a value that cannot be read as the
    field's type fails while the request body is deserialized, before any record is saved.
    """
    if value is None:
        return False if f.type == "Checkbox" else None
    t = f.type
    if isinstance(value, dict | list):
        raise _parse_error(_JAVA_TYPES.get(t, "string"), value)
    if t in NUMBER_TYPES:
        if isinstance(value, bool):
            raise _parse_error(_JAVA_TYPES[t], value)
        if isinstance(value, int | float):
            return value
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise _parse_error(_JAVA_TYPES[t], value) from None
        if not number.is_finite():
            raise _parse_error(_JAVA_TYPES[t], value)
        return int(number) if number == number.to_integral_value() else float(number)
    if t == "Checkbox":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _parse_error("boolean", value)
    if t == "Date":
        parsed = parse_date(value) if isinstance(value, str) else None
        if parsed is None:
            raise _parse_error("date", value)
        return parsed
    if t == "DateTime":
        parsed = parse_datetime(value) if isinstance(value, str) else None
        if parsed is None:
            raise _parse_error("datetime", value)
        return parsed
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif not isinstance(value, str):
        value = str(value)
    # Salesforce stores an empty text value as null (so it fails "required" like null does).
    return value or None


def check_value(f: FieldSpec, value: object) -> object:
    """Apply the field's write rules to a coerced non-null value; returns the stored value."""
    label = f.label or f.full_name
    t = f.type
    if t in TEXT_TYPES:
        limit = f.length or DEFAULT_LENGTHS.get(t)
        if t == "Picklist":
            limit = 255
        if limit is not None and len(value) > limit:
            raise RecordError(
                "STRING_TOO_LONG",
                f"{label}: data value too large: {value[:40]}... (max length={limit})"
                if len(value) > 40
                else f"{label}: data value too large: {value} (max length={limit})",
                [f.full_name],
            )
        if t == "Picklist" and f.restricted and value not in f.picklist_values:
            raise RecordError(
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"{label}: bad value for restricted picklist field: {value}",
                [f.full_name],
            )
        if t == "Email" and not _EMAIL.match(value):
            raise RecordError(
                "INVALID_EMAIL_ADDRESS", f"{label}: invalid email address: {value}",
                [f.full_name],
            )
        return value
    if t in NUMBER_TYPES:
        precision = f.precision or 18
        scale = f.scale or 0
        number = Decimal(str(value)).quantize(Decimal(1).scaleb(-scale), ROUND_HALF_UP)
        if abs(number) >= Decimal(10) ** (precision - scale):
            raise RecordError(
                "NUMBER_OUTSIDE_VALID_RANGE",
                f"{label}: value outside of valid range on numeric field: {value}",
                [f.full_name],
            )
        return float(number)
    if t in ("Lookup", "MasterDetail"):
        normalized = normalize_id(value)
        if normalized is None:
            raise RecordError(
                "MALFORMED_ID", f"{label}: id value of incorrect type: {value}", [f.full_name]
            )
        return normalized
    return value

"""JSON request bodies checked against a small per-endpoint spec.

The SDK sends whatever dict the caller passes, so a typo (``plan_cod``) would reach Recurly; the
stand-in refuses any attribute it does not implement with 400 ``bad_request`` rather than
ignoring it, and refuses wrongly typed values with 422 ``validation`` naming the attribute.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from .clock import parse_time
from .errors import RecurlyError, bad_request, validation

__all__ = ["check", "parse_body", "require", "unprocessable"]


def parse_body(body: bytes) -> dict[str, Any]:
    if not body:
        return {}
    try:
        value = json.loads(body)
    except ValueError:
        raise bad_request("The request body is not valid JSON") from None
    if not isinstance(value, dict):
        raise bad_request("The request body must be a JSON object")
    return value


def check(spec: Any, value: Any, path: str = "") -> Any:
    """Specs: "str", "int", "num" (2 decimal places), "dec" (decimal string, 9 places),
    "bool", "time" (ISO 8601 -> epoch), a tuple of allowed strings, a dict (object) or a
    one-element list (array of that spec). ``None`` passes as "unset"."""
    if value is None:
        return None
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise validation(path or "body", "must be an object")
        out = {}
        for key, sub in value.items():
            name = f"{path}.{key}" if path else key
            if key not in spec:
                raise bad_request(f"'{name}' is not an attribute the billing-sync Recurly "
                                  "stand-in accepts here", name)  # fmt: skip
            out[key] = check(spec[key], sub, name)
        return out
    if isinstance(spec, list):
        if not isinstance(value, list):
            raise validation(path, "must be an array")
        return [check(spec[0], v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(spec, tuple):
        if value not in spec:
            raise validation(path, f"is not included in the list ({', '.join(spec)})")
        return value
    if spec == "str":
        if not isinstance(value, str):
            raise validation(path, "must be a string")
        return value
    if spec == "bool":
        if not isinstance(value, bool):
            raise validation(path, "must be true or false")
        return value
    if spec == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise validation(path, "must be an integer")
        return value
    if spec == "num":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise validation(path, "must be a number")
        if Decimal(str(value)).as_tuple().exponent < -2:  # type: ignore[operator]
            raise validation(path, "must have at most 2 decimal places")
        return float(value)
    if spec == "dec":
        try:
            d = Decimal(str(value))
        except InvalidOperation:
            raise validation(path, "must be a decimal") from None
        if not d.is_finite() or d.as_tuple().exponent < -9:  # type: ignore[operator]
            raise validation(path, "must have at most 9 decimal places")
        return str(value)
    if spec == "time":
        if not isinstance(value, str):
            raise validation(path, "must be an ISO 8601 timestamp")
        try:
            return parse_time(value)
        except ValueError:
            raise validation(path, "must be an ISO 8601 timestamp") from None
    raise AssertionError(f"bad spec {spec!r}")


def require(obj: dict[str, Any], *names: str, prefix: str = "") -> None:
    for name in names:
        if obj.get(name) in (None, "", []):
            raise validation(prefix + name, "can't be blank")


def unprocessable(message: str, param: str) -> RecurlyError:
    """A state rule broken (cancel an expired subscription): 422 with Recurly's sentence."""
    return RecurlyError(422, "validation", message, params=[{"param": param, "message": message}])

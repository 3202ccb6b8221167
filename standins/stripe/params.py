"""Form-encoded parameters the way stripe-python sends them, checked against a small spec.

stripe-python flattens nested values into bracketed keys (``items[0][price]``,
``metadata[k]``, ``expand[0]``); the stand-in rebuilds the structure and then checks every key
against the endpoint's spec, so an unknown parameter gets Stripe's ``parameter_unknown`` instead
of being silently ignored.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from .errors import invalid, unknown_param

__all__ = ["coerce", "parse_form"]

_SEGMENT = re.compile(r"\[([^\]]*)\]")
MAX_DECIMAL_PLACES = 12


def parse_form(raw: str) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for key, value in parse_qsl(raw, keep_blank_values=True):
        head, _, rest = key.partition("[")
        parts = [head] + (_SEGMENT.findall("[" + rest) if rest else [])
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # ``expand[]=x`` style: append
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {k: _listify(v) for k, v in node.items()}
    if items and all(k.isdigit() for k in items):
        return [items[k] for k in sorted(items, key=int)]
    return items


def _name(path: str, key: str) -> str:
    return f"{path}[{key}]" if path else key


def coerce(spec: Any, value: Any, path: str = "") -> Any:
    """Check ``value`` against ``spec`` and convert it; "" means "unset" (None) as in Stripe.

    Specs: "str", "int", "bool", "number", "decimal", "ts" (int or "now"), "meta"
    (string map), "range" (int or gt/gte/lt/lte), "int_or_inf", a tuple of allowed strings,
    a dict (nested object) or a one-element list (array of that spec).
    """
    if value == "" and spec != "str":
        return None
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            raise invalid(f"Invalid object: {path} must be an object", param=path)
        out = {}
        for key, sub in value.items():
            if key not in spec:
                raise unknown_param(_name(path, key))
            out[key] = coerce(spec[key], sub, _name(path, key))
        return out
    if isinstance(spec, list):
        if isinstance(value, dict) and not value:
            return []
        if not isinstance(value, list):
            raise invalid(f"Invalid array: {path} must be an array", param=path)
        return [coerce(spec[0], v, _name(path, str(i))) for i, v in enumerate(value)]
    if isinstance(spec, tuple):
        if value not in spec:
            raise invalid(f"Invalid {path}: must be one of {', '.join(spec)}", param=path)
        return value
    if isinstance(value, (dict, list)) and spec not in ("meta", "range"):
        raise invalid(f"Invalid {path}: expected a scalar value", param=path)
    if spec == "str":
        return value
    if spec == "int":
        return _int(value, path)
    if spec == "int_or_inf":
        return "inf" if value == "inf" else _int(value, path)
    if spec == "ts":
        return "now" if value == "now" else _int(value, path)
    if spec == "bool":
        if value not in ("true", "false"):
            raise invalid(f"Invalid boolean: {value}", param=path, code="parameter_invalid_boolean")
        return value == "true"
    if spec == "number":
        try:
            return float(value)
        except ValueError:
            raise invalid(f"Invalid decimal: {value}", param=path) from None
    if spec == "decimal":
        return _decimal(value, path)
    if spec == "meta":
        if not isinstance(value, dict):
            raise invalid(f"Invalid object: {path} must be an object", param=path)
        for k, v in value.items():
            if isinstance(v, (dict, list)):
                raise invalid(f"Invalid {path}[{k}]: metadata values are strings", param=path)
            if len(k) > 40 or len(v) > 500:
                raise invalid("Metadata keys are at most 40 characters and values 500.", path)
        return dict(value)
    if spec == "range":
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if k not in ("gt", "gte", "lt", "lte"):
                    raise unknown_param(_name(path, k))
                out[k] = _int(v, _name(path, k))
            return out
        return {"eq": _int(value, path)}
    raise AssertionError(f"bad spec {spec!r}")


def _int(value: str, path: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise invalid(
            f"Invalid integer: {value}", param=path, code="parameter_invalid_integer"
        ) from None


def _decimal(value: str, path: str) -> str:
    try:
        d = Decimal(value)
    except InvalidOperation:
        raise invalid(f"Invalid decimal: {value}", param=path) from None
    if not d.is_finite() or -d.as_tuple().exponent > MAX_DECIMAL_PLACES:  # type: ignore[operator]
        raise invalid(
            f"Invalid decimal: {value} (at most {MAX_DECIMAL_PLACES} decimal places)", param=path
        )
    return value

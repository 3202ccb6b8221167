"""Request parameters as chargebee-python 3.x sends them, read strictly.

Chargebee flattens arrays of objects as ``subscription_items[item_price_id][0]`` (field first,
index last), plain arrays as ``coupon_ids[0]``, filters as ``status[in]`` and sorting as
``sort_by[asc]``. The SDK sends the value of an ``in``/``not_in``/``between`` filter as Python's
``str()`` of a list (``['a', 'b']``), the docs show JSON (``["a","b"]``); both are read.

Every key a request carries must be read by its endpoint: whatever is left over is refused, so
a typo in the sync engine fails here instead of being silently ignored.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qsl

from .errors import ChargebeeError, blank, invalid_request, wrong_value

__all__ = ["Params", "parse_array", "unknown_param"]

_INT = re.compile(r"^-?\d+$")
_LIST_KEY = re.compile(r"^([a-z_]+)\[([a-z_]+)\]\[(\d+)\]$")
_ARRAY_KEY = re.compile(r"^([a-z_]+)\[(\d+)\]$")


def parse_array(param: str, raw: str) -> list[str]:
    """``["a","b"]`` (JSON), ``['a', 'b']`` (chargebee-python) or ``[a,b]`` -> ``["a", "b"]``."""
    text = raw.strip()
    if not (text.startswith("[") and text.endswith("]")):
        raise wrong_value(param, "invalid value, expected a list such as [\"a\",\"b\"]")
    try:
        parsed = json.loads(text)
        if isinstance(parsed, list):
            return [str(x) for x in parsed]
    except ValueError:
        pass
    inner = text[1:-1].strip()
    if not inner:
        return []
    out = []
    for part in inner.split(","):
        part = part.strip()
        if len(part) >= 2 and part[0] == part[-1] and part[0] in "'\"":
            part = part[1:-1]
        out.append(part)
    return out


class Params:
    """The flat ``key -> value`` parameters of one request, consumed key by key."""

    def __init__(self, raw: str) -> None:
        self.values: dict[str, str] = {}
        for key, value in parse_qsl(raw, keep_blank_values=True):
            self.values[key] = value
        self._used: set[str] = set()

    # scalars -------------------------------------------------------------------------------
    def has(self, key: str) -> bool:
        return key in self.values

    def raw(self, key: str) -> str | None:
        if key not in self.values:
            return None
        self._used.add(key)
        return self.values[key]

    def str(self, key: str, *, required: bool = False, max_len: int | None = None,
            default: str | None = None) -> str | None:  # fmt: skip
        value = self.raw(key)
        if value is None or value == "":
            if required:
                raise blank(key)
            return default
        if max_len is not None and len(value) > max_len:
            raise wrong_value(key, f"cannot be more than {max_len} characters")
        return value

    def int(self, key: str, *, required: bool = False, lo: int | None = None,
            hi: int | None = None, default: int | None = None) -> int | None:  # fmt: skip
        value = self.str(key, required=required)
        if value is None:
            return default
        if not _INT.match(value):
            raise wrong_value(key, f"invalid integer value {value}")
        n = int(value)
        if lo is not None and n < lo:
            raise wrong_value(key, f"The value {n} is lesser than the min value {lo}")
        if hi is not None and n > hi:
            raise wrong_value(key, f"The value {n} is greater than the max value {hi}")
        return n

    def bool(self, key: str, *, default: bool | None = None) -> bool | None:
        value = self.str(key)
        if value is None:
            return default
        if value not in ("true", "false"):
            raise wrong_value(key, f"invalid boolean value {value}, expected true or false")
        return value == "true"

    def enum(self, key: str, choices: tuple[str, ...], *, required: bool = False,
             default: str | None = None) -> str | None:  # fmt: skip
        value = self.str(key, required=required)
        if value is None:
            return default
        if value not in choices:
            raise wrong_value(key, f"invalid value {value}, must be one of {', '.join(choices)}")
        return value

    def decimal(self, key: str) -> str | None:
        value = self.str(key)
        if value is None:
            return None
        try:
            d = Decimal(value)
        except InvalidOperation:
            raise wrong_value(key, f"invalid decimal value {value}") from None
        if not d.is_finite() or d < 0:
            raise wrong_value(key, f"invalid decimal value {value}")
        return value

    def json(self, key: str) -> dict[str, Any] | None:
        value = self.str(key)
        if value is None:
            return None
        try:
            parsed = json.loads(value)
        except ValueError:
            raise wrong_value(key, "invalid JSON") from None
        if not isinstance(parsed, dict):
            raise wrong_value(key, "must be a JSON object")
        return parsed

    # structures ----------------------------------------------------------------------------
    def objects(self, name: str, fields: tuple[str, ...]) -> list[dict[str, str]]:
        """``name[field][i]`` keys -> a list of ``{field: raw value}`` (gaps refused)."""
        rows: dict[int, dict[str, str]] = {}
        for key in list(self.values):
            m = _LIST_KEY.match(key)
            if not m or m.group(1) != name:
                continue
            if m.group(2) not in fields:
                raise unknown_param(key)
            rows.setdefault(int(m.group(3)), {})[m.group(2)] = self.values[key]
            self._used.add(key)
        if sorted(rows) != list(range(len(rows))):
            raise wrong_value(f"{name}[{fields[0]}][{len(rows)}]", "array indexes must start at "
                              "0 and have no gaps")  # fmt: skip
        return [rows[i] for i in range(len(rows))]

    def array(self, name: str) -> list[str]:
        """``name[i]`` keys -> list of values."""
        items: dict[int, str] = {}
        for key in list(self.values):
            m = _ARRAY_KEY.match(key)
            if m and m.group(1) == name:
                items[int(m.group(2))] = self.values[key]
                self._used.add(key)
        return [items[i] for i in sorted(items)]

    def prefixed(self, name: str) -> dict[str, str]:
        """``name[op]`` keys (filters, sort_by, nested objects) -> ``{op: value}``."""
        out = {}
        for key in list(self.values):
            if key.startswith(name + "[") and key.endswith("]") and key.count("[") == 1:
                out[key[len(name) + 1:-1]] = self.values[key]
                self._used.add(key)
        return out

    def finish(self) -> None:
        """Refuse every key the endpoint did not read."""
        for key in self.values:
            if key not in self._used:
                raise unknown_param(key)


def unknown_param(key: str) -> ChargebeeError:
    return invalid_request(f"{key} : is not a valid parameter for this request", param=key)

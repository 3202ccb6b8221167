"""Chargebee list semantics: ``limit``/``offset`` paging, filter operators and ``sort_by``.

A page holds ``limit`` entries (1..100, default 10) and, when more follow, an opaque
``next_offset``; passing it back as ``offset`` continues after the last entry returned. Like
Chargebee's, the offset holds the last entry's sort value and tie-breaker, so paging a list
sorted by ``updated_at`` while records change neither repeats nor skips records that stay put.

Filters are ``field[operator]=value`` with the operators Chargebee defines per field type;
an operator the field type does not have is refused, as is an enum value outside the enum.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from .errors import wrong_value
from .params import Params, parse_array, unknown_param

__all__ = ["Field", "run_list"]

OPS = {
    "string": ("is", "is_not", "starts_with", "in", "not_in", "is_present"),
    "enum": ("is", "is_not", "in", "not_in", "is_present"),
    "number": ("is", "is_not", "lt", "lte", "gt", "gte", "between", "is_present"),
    "timestamp": ("after", "before", "on", "between", "is_present"),
    "boolean": ("is", "is_present"),
}


class Field:
    """A filterable field: its type, how to read it from a record, and (enums) its values."""

    def __init__(self, kind: str, get: Callable[[dict[str, Any]], Any] | str | None = None,
                 choices: tuple[str, ...] = ()) -> None:  # fmt: skip
        self.kind = kind
        self.get = get
        self.choices = choices


def _scalar(field: Field, param: str, raw: str) -> Any:
    if field.kind in ("number", "timestamp"):
        try:
            return int(raw)
        except ValueError:
            raise wrong_value(param, f"invalid integer value {raw}") from None
    if field.kind == "boolean":
        if raw not in ("true", "false"):
            raise wrong_value(param, f"invalid boolean value {raw}")
        return raw == "true"
    if field.kind == "enum" and raw not in field.choices:
        raise wrong_value(param, f"invalid value {raw}, must be one of {', '.join(field.choices)}")
    return raw


def _predicate(name: str, field: Field, op: str, raw: str) -> Callable[[Any], bool]:
    param = f"{name}[{op}]"
    if op not in OPS[field.kind]:
        raise unknown_param(param)
    if op == "is_present":
        want = _scalar(Field("boolean"), param, raw)
        return lambda v: (v is not None) == want
    if op in ("in", "not_in", "between"):
        values = [_scalar(field, param, x) for x in parse_array(param, raw)]
        if op == "between":
            if len(values) != 2:
                raise wrong_value(param, "between needs exactly two values")
            lo, hi = values
            return lambda v: v is not None and lo <= v <= hi
        if op == "in":
            return lambda v: v is not None and v in values
        return lambda v: v is not None and v not in values
    value = _scalar(field, param, raw)
    tests: dict[str, Callable[[Any], bool]] = {
        "is": lambda v: v == value, "is_not": lambda v: v != value,
        "starts_with": lambda v: str(v).startswith(value),
        "lt": lambda v: v < value, "lte": lambda v: v <= value,
        "gt": lambda v: v > value, "gte": lambda v: v >= value,
        "after": lambda v: v > value, "before": lambda v: v < value, "on": lambda v: v == value,
    }  # fmt: skip
    test = tests[op]
    return lambda v: v is not None and test(v)


def _getter(name: str, field: Field) -> Callable[[dict[str, Any]], Any]:
    if callable(field.get):
        return field.get
    key = field.get or name
    return lambda rec: rec.get(key)


def run_list(
    params: Params,
    records: Iterable[dict[str, Any]],
    fields: dict[str, Field],
    wrap: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    sortable: tuple[str, ...] = (),
    include_deleted: bool = False,
    extra: Callable[[Params], None] | None = None,
) -> dict[str, Any]:
    """One page of a Chargebee list endpoint. ``records`` come in creation order."""
    limit = params.int("limit", lo=1, hi=100, default=10)
    offset_raw = params.str("offset")
    with_deleted = params.bool("include_deleted", default=False) if include_deleted else False
    checks = []
    for name, field in fields.items():
        get = _getter(name, field)
        for op, raw in params.prefixed(name).items():
            checks.append((get, _predicate(name, field, op, raw)))
    sort = params.prefixed("sort_by")
    if len(sort) > 1 or any(d not in ("asc", "desc") for d in sort):
        raise wrong_value("sort_by", "pass one of sort_by[asc] or sort_by[desc]")
    direction, attr = next(iter(sort.items())) if sort else ("desc", None)
    if attr is not None and attr not in sortable:
        raise wrong_value(f"sort_by[{direction}]",
                          f"invalid value {attr}, must be one of {', '.join(sortable)}")
    if extra is not None:
        extra(params)
    params.finish()

    def key(rec: dict[str, Any]) -> tuple[int, int]:
        if attr == "updated_at":
            return (rec.get("resource_version") or 0, rec["_seq"])
        if attr is not None:
            return (rec.get(attr) or 0, rec["_seq"])
        return (rec["_seq"], rec["_seq"])

    matched = [
        r for r in records
        if (with_deleted or not r.get("deleted")) and all(t(g(r)) for g, t in checks)
    ]  # fmt: skip
    matched.sort(key=key, reverse=direction == "desc")
    start = 0
    if offset_raw is not None:
        try:
            after = tuple(int(x) for x in json.loads(offset_raw))
            assert len(after) == 2
        except (ValueError, TypeError, AssertionError):
            raise wrong_value("offset", f"invalid value {offset_raw}") from None
        if direction == "desc":
            start = next((i for i, r in enumerate(matched) if key(r) < after), len(matched))
        else:
            start = next((i for i, r in enumerate(matched) if key(r) > after), len(matched))
    page = matched[start:start + limit]
    out: dict[str, Any] = {"list": [wrap(r) for r in page]}
    if start + limit < len(matched):
        out["next_offset"] = json.dumps([str(v) for v in key(page[-1])])
    return out

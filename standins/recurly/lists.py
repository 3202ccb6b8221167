"""List endpoints as v2021-02-25 pages them: strict query parameters and opaque cursors.

Every list takes ``ids`` (alone), ``limit`` 1..200 (default 20), ``order`` asc|desc (default
desc), ``sort`` created_at|updated_at (default created_at) and ``begin_time``/``end_time``
(inclusive, on the sort field); some add a ``state`` or other filter. The answer is
``{"object": "list", "has_more", "next", "data"}`` where ``next`` is a path carrying an opaque
``cursor`` plus the original parameters; the SDK's pager requests that path as it is. The
cursor pins the last record's (sort value, sequence), so records that move while a client
pages ascending by ``updated_at`` are seen again at the end, never lost; descending, they
slip behind the cursor, which is why Recurly recommends ``sort=updated_at&order=asc``.
"""

from __future__ import annotations

import base64
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .clock import parse_time
from .errors import bad_request

__all__ = ["ListQuery", "keys_of", "page", "parse_list"]

COMMON = ("ids", "limit", "order", "sort", "begin_time", "end_time", "cursor")


@dataclass
class ListQuery:
    path: str
    raw: dict[str, str]
    ids: list[str] | None = None
    limit: int = 20
    order: str = "desc"
    sort: str = "created_at"
    begin: int | None = None
    end: int | None = None
    after: tuple[int, int] | None = None
    filters: dict[str, str] | None = None


def parse_list(path: str, query: dict[str, str], filters: dict[str, tuple[str, ...]],
               common: tuple[str, ...] = COMMON) -> ListQuery:  # fmt: skip
    """Check every query parameter; ``filters`` maps extra names to their allowed values."""
    for name in query:
        if name not in common and name not in filters:
            raise bad_request(f"'{name}' is not a valid query parameter for {path}", name)
    q = ListQuery(path=path, raw=dict(query), filters={})
    if "ids" in query:
        others = sorted(set(query) - {"ids"})
        if others:
            raise bad_request("The ids parameter cannot be combined with other ordering or "
                              f"filtering parameters ({', '.join(others)})", "ids")  # fmt: skip
        q.ids = [i for i in query["ids"].split(",") if i]
        if len(q.ids) > 200:
            raise bad_request("Up to 200 ids can be requested at once", "ids")
        return q
    if "limit" in query:
        try:
            q.limit = int(query["limit"])
        except ValueError:
            raise bad_request("limit must be an integer between 1 and 200", "limit") from None
        if not 1 <= q.limit <= 200:
            raise bad_request("limit must be an integer between 1 and 200", "limit")
    q.order = _choice(query, "order", ("asc", "desc"), q.order)
    q.sort = _choice(query, "sort", ("created_at", "updated_at"), q.sort)
    for name in ("begin_time", "end_time"):
        if name in query:
            try:
                setattr(q, name[:-5] if name == "begin_time" else "end", parse_time(query[name]))
            except ValueError:
                raise bad_request(f"{name} must be an ISO 8601 timestamp", name) from None
    for name, allowed in filters.items():
        if name in query:
            q.filters[name] = _choice(query, name, allowed, "")
    if "cursor" in query:
        q.after = _decode_cursor(query["cursor"], q.sort, q.order)
    return q


def _choice(query: dict[str, str], name: str, allowed: tuple[str, ...], default: str) -> str:
    value = query.get(name, default)
    if allowed and value not in allowed:
        raise bad_request(f"{name} must be one of: {', '.join(allowed)}", name)
    return value


def _encode_cursor(key: tuple[int, int], sort: str, order: str) -> str:
    text = f"{key[0]}:{key[1]}:{sort}:{order}".encode()
    return base64.urlsafe_b64encode(text).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str, order: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, seq, c_sort, c_order = raw.split(":")
        if (c_sort, c_order) != (sort, order):
            raise ValueError
        return int(value), int(seq)
    except ValueError:
        raise bad_request("The cursor is invalid or belongs to another sort or order",
                          "cursor") from None  # fmt: skip


def page(q: ListQuery, keys: list[tuple[int, int]], ids: list[str],
         fetch: Callable[[str], dict[str, Any] | None],
         keep: Callable[[dict[str, Any]], bool],
         render: Callable[[dict[str, Any]], dict[str, Any]],
         want_total: bool = False) -> tuple[dict[str, Any], int]:  # fmt: skip
    """One page over ``keys``/``ids`` (ascending by (sort value, seq)); returns the list object
    and the total number of matching records (for HEAD's ``Recurly-Total-Records``)."""
    if q.ids is not None:
        recs = [r for r in (fetch(i) for i in q.ids) if r is not None and keep(r)]
        return {"object": "list", "has_more": False, "next": None,
                "data": [render(r) for r in recs]}, len(recs)  # fmt: skip
    lo = 0 if q.begin is None else bisect_left(keys, (q.begin, -1))
    hi = len(keys) if q.end is None else bisect_right(keys, (q.end, 1 << 62))
    total_range = range(lo, hi)
    if q.after is not None:
        if q.order == "asc":
            lo = max(lo, bisect_right(keys, q.after))
        else:
            hi = min(hi, bisect_left(keys, q.after))
    order: Iterable[int] = range(lo, hi) if q.order == "asc" else range(hi - 1, lo - 1, -1)
    out: list[dict[str, Any]] = []
    last: tuple[int, int] | None = None
    has_more = False
    for i in order:
        rec = fetch(ids[i])
        if rec is None or not keep(rec):
            continue
        if len(out) == q.limit:
            has_more = True
            break
        out.append(rec)
        last = keys[i]
    nxt = None
    if has_more and last is not None:
        params = {k: v for k, v in q.raw.items() if k != "cursor"}
        nxt = q.path + "?" + urlencode({"cursor": _encode_cursor(last, q.sort, q.order),
                                        **params})  # fmt: skip
    total = -1
    if want_total:
        total = sum(1 for i in total_range if (r := fetch(ids[i])) is not None and keep(r))
    return {"object": "list", "has_more": has_more, "next": nxt,
            "data": [render(r) for r in out]}, total  # fmt: skip


def keys_of(recs: Iterable[dict[str, Any]], field: str) -> tuple[list[tuple[int, int]], list[str]]:
    """Sorted keys for a small set (an account's subscriptions) without the site-wide cache."""
    rows = sorted((r[field], r["_seq"], r["id"]) for r in recs)
    return [(v, s) for v, s, _ in rows], [i for _, _, i in rows]

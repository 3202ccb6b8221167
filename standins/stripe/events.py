"""``GET /v1/events`` and ``GET /v1/events/{id}`` (eventlog.py: what goes into the log).

Newest first by ``created`` and, within one second, by creation order. Only the last 30 days
(stand-in wall clock) exist; events delayed with ``delay_next_events`` are left out of lists
until they become visible, as Stripe's eventually consistent list may do.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
from typing import Any

from .api import LIST_SPEC, RouteGroup
from .errors import invalid, no_such
from .objects import public
from .store import OrderedIndex, event_key

__all__ = ["EventRoutes"]

MAX_TYPES = 20
SPEC = {**LIST_SPEC, "type": "str", "types": ["str"], "delivery_success": "bool"}


class EventRoutes(RouteGroup):
    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", "/v1/events", self.list),
            ("GET", "/v1/events/{id}", self.retrieve),
        ]

    @property
    def log(self) -> Any:
        return self.billing.events

    def _render(self, evt: dict[str, Any], expand: list[str] | None) -> dict[str, Any]:
        """The stored event; copied deeply only when ``expand`` may write into it (the body
        is serialized straight away otherwise)."""
        evt = self.log.materialize(evt)
        if expand:
            return public(evt)
        return {k: v for k, v in evt.items() if not k.startswith("_")}

    def retrieve(self, params: dict[str, Any], eid: str) -> dict[str, Any]:
        p = self.api.check({"expand": ["str"]}, params)
        evt = self.store.data["event"].get(eid)
        if evt is None or not self.log.retained(evt):
            raise no_such("event", eid)
        body = self._render(evt, p.get("expand"))
        for path in p.get("expand") or ():
            self.api.expand(body, path)
        return body

    def _indexes(self, etype: str | None, types: list[str] | None) -> list[OrderedIndex]:
        by_type = self.store.events_by_type
        if etype and "*" in etype:  # "*" matches any run of characters, dots included
            pattern = re.compile(".*".join(re.escape(part) for part in etype.split("*")))
            return [idx for t, idx in by_type.items() if pattern.fullmatch(t)]
        if etype:
            return [by_type[etype]] if etype in by_type else []
        if types is not None:
            return [by_type[t] for t in dict.fromkeys(types) if t in by_type]
        return [self.store.order["event"]]

    def _cursor(self, eid: str, param: str) -> dict[str, Any]:
        evt = self.store.data["event"].get(eid)
        if evt is None or not self.log.retained(evt):
            raise no_such("event", eid, param)
        return evt

    def list(self, params: dict[str, Any]) -> dict[str, Any]:
        p = self.api.check(SPEC, params)
        etype, types = p.get("type"), p.get("types")
        if etype and types:
            raise invalid("You may only specify one of these parameters: type, types.", "type")
        if types is not None and len(types) > MAX_TYPES:
            raise invalid(f"You may pass at most {MAX_TYPES} types.", "types")
        limit = p.get("limit", 10)
        if limit is None or not 1 <= limit <= 100:
            raise invalid("Invalid limit: must be between 1 and 100", param="limit")
        after, before = p.get("starting_after"), p.get("ending_before")
        if after and before:
            raise invalid(
                "You may only specify one of these parameters: ending_before, starting_after.",
                param="starting_after",
            )
        cursor = None
        if after or before:
            cursor = self._cursor(after or before, "starting_after" if after else "ending_before")
        low, high = self._bounds(p.get("created") or {})
        indexes = self._indexes(etype, types)
        out = self._scan(indexes, cursor, bool(before), low, high, limit + 1,
                         p.get("delivery_success"))  # fmt: skip
        has_more = len(out) > limit
        out = out[:limit]
        if before:
            out.reverse()
        expand = p.get("expand")
        body = {"object": "list", "data": [self._render(e, expand) for e in out],
                "has_more": has_more, "url": "/v1/events"}  # fmt: skip
        for path in expand or ():
            self.api.expand(body, path)
        return body

    def _bounds(self, rng: dict[str, int]) -> tuple[int, int | None]:
        """``created`` filter as an inclusive [low, high], low never before the retention."""
        lows = [self.log.cutoff() + 1, rng.get("gte"), rng.get("eq")]
        highs = [rng.get("lte"), rng.get("eq")]
        if "gt" in rng:
            lows.append(rng["gt"] + 1)
        if "lt" in rng:
            highs.append(rng["lt"] - 1)
        present = [h for h in highs if h is not None]
        return max(x for x in lows if x is not None), (min(present) if present else None)

    def _scan(self, indexes: list[OrderedIndex], cursor: dict[str, Any] | None, backwards: bool,
              low: int, high: int | None, want: int,
              delivered: bool | None) -> list[dict[str, Any]]:  # fmt: skip
        """Up to ``want`` visible events with ``low <= created <= high``, walking away from
        the cursor (newest first, or oldest first for ``ending_before``)."""
        if delivered is False:  # no webhook endpoints: every event counts as delivered
            return []
        data, now = self.store.data["event"], self.log.wall.now()
        ceiling = event_key(high + 1, 0) if high is not None else None
        floor = event_key(low, 0) - 1
        it: Iterator[tuple[int, str]]
        if backwards:
            start = max(cursor["_key"], floor)  # type: ignore[index]
            it = heapq.merge(*(i.keyed_oldest_first(start) for i in indexes))
        else:
            below = cursor["_key"] if cursor else None
            if ceiling is not None:
                below = ceiling if below is None else min(below, ceiling)
            it = heapq.merge(*(i.keyed_newest_first(below) for i in indexes), reverse=True)
        out: list[dict[str, Any]] = []
        for key, eid in it:
            if (not backwards and key <= floor) or (
                backwards and ceiling is not None and key >= ceiling
            ):
                break
            evt = data[eid]
            if self.log.visible(evt, now):
                out.append(evt)
                if len(out) >= want:
                    break
        return out

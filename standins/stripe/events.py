"""The event log: ``GET /v1/events`` with ``type`` wildcards, ``types`` and ``created``."""

from __future__ import annotations

from typing import Any

from .api import LIST_SPEC, RouteGroup
from .errors import invalid

__all__ = ["EventRoutes"]

MAX_TYPES = 20


class EventRoutes(RouteGroup):
    def routes(self) -> list[tuple[str, str, Any]]:
        return [
            ("GET", "/v1/events", self.list),
            ("GET", "/v1/events/{id}", self.retrieve),
        ]

    def retrieve(self, params: dict[str, Any], eid: str) -> dict[str, Any]:
        p = self.api.check({"expand": ["str"]}, params)
        return self.api.out("event", self.api.get("event", eid), p.get("expand"))

    def list(self, params: dict[str, Any]) -> dict[str, Any]:
        spec = {**LIST_SPEC, "type": "str", "types": ["str"], "delivery_success": "bool"}
        p = self.api.check(spec, params)
        etype, types = p.get("type"), p.get("types")
        if etype and types:
            raise invalid("You may only specify one of these parameters: type, types.", "type")
        if types is not None and len(types) > MAX_TYPES:
            raise invalid(f"You may pass at most {MAX_TYPES} types.", "types")
        index = self.store.order["event"]
        pred = None
        if etype and "*" not in etype:
            index = self.store.events_by_type.get(etype)  # type: ignore[assignment]
        elif etype:
            prefix = etype.split("*", 1)[0]

            def pred(r: dict[str, Any]) -> bool:
                return r["type"].startswith(prefix)
        elif types:
            wanted = set(types)

            def pred(r: dict[str, Any]) -> bool:
                return r["type"] in wanted

        return self.api.page("event", index, p, "/v1/events", pred)

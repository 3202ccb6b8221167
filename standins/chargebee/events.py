"""The event log (``/events``) and Chargebee's Time Machine endpoints.

Events are kept as Chargebee keeps them: immutable, ``content`` holding a snapshot of the
changed resources as they were when the event occurred, newest first unless
``sort_by[asc]=occurred_at``. Events made by the clock are stamped with the simulated moment
they happened and ``source: scheduled_job``; events from requests have ``source: api``.
"""

from __future__ import annotations

from typing import Any

from .errors import invalid_request, not_found, wrong_value
from .listing import Field, run_list
from .params import Params
from .site import Site
from .store import public

__all__ = ["EVENT_TYPES", "EventRoutes", "TimeMachineRoutes"]

EVENT_TYPES = (
    "customer_created", "customer_changed", "customer_deleted", "item_created",
    "item_price_created", "coupon_created", "subscription_created", "subscription_started",
    "subscription_activated", "subscription_changed", "subscription_cancellation_scheduled",
    "subscription_cancelled", "subscription_reactivated", "subscription_renewed",
    "subscription_scheduled_cancellation_removed", "subscription_deleted",
    "subscription_paused", "subscription_pause_scheduled", "subscription_resumed",
    "subscription_resumption_scheduled", "invoice_generated", "invoice_updated",
    "payment_succeeded", "payment_failed",
)  # fmt: skip


class EventRoutes:
    def __init__(self, site: Site) -> None:
        self.store = site.store

    def routes(self) -> list[tuple[str, str, Any]]:
        return [("GET", "/events", self.list), ("GET", "/events/{id}", self.retrieve)]

    def retrieve(self, p: Params, oid: str) -> dict[str, Any]:
        p.finish()
        evt = self.store.get("event", oid)
        if evt is None:
            raise not_found("Event", oid)
        return {"event": public(evt)}

    def list(self, p: Params) -> dict[str, Any]:
        fields = {
            "id": Field("string"), "event_type": Field("enum", choices=EVENT_TYPES),
            "source": Field("enum", choices=("api", "scheduled_job", "admin_console")),
            "webhook_status": Field("enum", choices=("not_configured", "scheduled",
                                                     "succeeded", "re_scheduled", "failed",
                                                     "skipped", "not_applicable")),
            "occurred_at": Field("timestamp"),
        }  # fmt: skip

        def window(q: Params) -> None:  # the older start_time / end_time parameters
            start, end = q.int("start_time", lo=0), q.int("end_time", lo=0)
            if start is not None or end is not None:
                raise invalid_request("start_time : use occurred_at[after] / occurred_at[before]"
                                      " with the billing-sync Chargebee stand-in",
                                      param="start_time")

        return run_list(p, self.store.data["event"].values(), fields,
                        lambda r: {"event": public(r)}, sortable=("occurred_at",), extra=window)


class TimeMachineRoutes:
    """``/time_machines/delorean``: the site's one time machine, moved only forward."""

    def __init__(self, site: Site, travel: Any) -> None:
        self.site = site
        self.travel = travel
        self.genesis: int | None = None

    def routes(self) -> list[tuple[str, str, Any]]:
        return [("GET", "/time_machines/{id}", self.retrieve),
                ("POST", "/time_machines/{id}/travel_forward", self.forward)]

    def _machine(self, oid: str) -> dict[str, Any]:
        if oid != "delorean":
            raise not_found("Time machine", oid)
        now = self.site.now()
        return {"name": "delorean", "time_travel_status": "succeeded",
                "genesis_time": self.genesis or now, "destination_time": now,
                "object": "time_machine"}  # fmt: skip

    def retrieve(self, p: Params, oid: str) -> dict[str, Any]:
        p.finish()
        return {"time_machine": self._machine(oid)}

    def forward(self, p: Params, oid: str) -> dict[str, Any]:
        self._machine(oid)
        dest = p.int("destination_time", required=True, lo=0)
        p.finish()
        if dest <= self.site.now():
            raise wrong_value("destination_time", "should be later than the current time of "
                              "the time machine")  # fmt: skip
        self.genesis = self.genesis or self.site.now()
        self.travel(dest)
        return {"time_machine": self._machine(oid)}

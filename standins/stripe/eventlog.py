"""The account's event log: what goes into an event, and which events a list may show.

- ``created`` is the stand-in's wall clock, except for objects not on a test clock whose
  transition ran at an earlier time ``t`` (a wall-clock jump replays renewals at their own
  time). Objects on a test clock keep their frozen time in the payload, but the event itself
  happens "now", so the 30-day retention and the list order stay on one clock.
- ``data.object`` is rendered in the API version in force for the account when the event
  was created (``default_api_version``); it never changes afterwards.
- ``data.previous_attributes`` (``*.updated`` only) holds the changed fields' old values:
  nested hashes hold only their changed keys, arrays are given whole, as Stripe does.
- Retention: 30 days by the wall clock. Older events are neither listed nor retrievable.
- Late events: ``delay_next(n, seconds)`` makes the next n events invisible to lists (but
  retrievable by id) until the wall clock reaches ``created + seconds`` or ``release``.
- Bulk seeding adds "lazy" events: a serialized snapshot of the object, rendered on first read.
"""

from __future__ import annotations

import marshal
import pickle
import re
from datetime import date
from types import SimpleNamespace
from typing import Any

from .clock import DAY, WallClock
from .objects import API_VERSION, render, render_plan
from .store import Store

__all__ = ["RETENTION", "EventLog", "check_api_version", "diff", "render_in"]

RETENTION = 30 * DAY
BASIL = date(2025, 3, 31)  # 2025-03-31.basil: item-level billing periods, no singular discount
NAMED_SINCE = date(2024, 9, 30)  # from 2024-09-30.acacia on, versions carry a release name
RELEASES = {"acacia": date(2024, 9, 30), "basil": BASIL, "clover": date(2025, 9, 30)}
_VERSION = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:\.([a-z]+))?")


def _version_date(version: str) -> date:
    m = _VERSION.fullmatch(version)
    if m is None:
        raise ValueError(f"not a Stripe API version: {version!r}")
    return date(int(m[1]), int(m[2]), int(m[3]))


def check_api_version(version: str) -> str:
    """A plausible Stripe API version no newer than the one the stand-in speaks."""
    d = _version_date(version)
    name = _VERSION.fullmatch(version)[4]  # type: ignore[index]
    if d > _version_date(API_VERSION):
        raise ValueError(f"{version} is newer than the stand-in's {API_VERSION}")
    if (d >= NAMED_SINCE) != (name is not None):
        raise ValueError(f"{version}: versions from 2024-09-30 on are named (e.g. .acacia)")
    names = list(RELEASES)
    if name in RELEASES:
        later = [RELEASES[n] for n in names[names.index(name) + 1:]]
        if d < RELEASES[name] or (later and d >= later[0]):
            raise ValueError(f"{version}: {name} releases run from {RELEASES[name]}")
    elif name is not None and d < RELEASES["clover"]:
        raise ValueError(f"{version}: unknown release name {name!r} for that date")
    return version


def _pre_basil(version: str) -> bool:
    return _version_date(version) < BASIL


def _downgrade_subscription(store: Any, body: dict[str, Any]) -> dict[str, Any]:
    """Before 2025-03-31.basil the subscription held the shared billing period and, for a
    single-item subscription, that item's ``plan`` and ``quantity``; items had no period."""
    items = body["items"]["data"]
    first = items[0] if items else {}
    out = dict(body)
    out["current_period_start"] = first.get("current_period_start")
    out["current_period_end"] = first.get("current_period_end")
    single = len(items) == 1
    out["plan"] = render_plan(store.data["price"][first["price"]["id"]]) if single else None
    out["quantity"] = first.get("quantity") if single else None
    disc = store.data["discount"].get(body["discounts"][0]) if body["discounts"] else None
    out["discount"] = render(store, "discount", disc) if disc else None
    out["items"] = dict(body["items"])
    out["items"]["data"] = [
        {k: v for k, v in it.items() if k not in ("current_period_start", "current_period_end")}
        for it in items
    ]
    return out


def _downgrade_invoice(body: dict[str, Any]) -> dict[str, Any]:
    """Before basil an invoice named its subscription at the top level (no ``parent``)."""
    out = {k: v for k, v in body.items() if k != "parent"}
    details = (body.get("parent") or {}).get("subscription_details") or {}
    out["subscription"] = details.get("subscription")
    out["subscription_details"] = {"metadata": details.get("metadata") or {}}
    out["paid"] = body["status"] == "paid"
    out["paid_out_of_band"] = False
    return out


def render_in(store: Any, version: str, kind: str, rec: dict[str, Any]) -> dict[str, Any]:
    body = render(store, kind, rec)
    return downgrade(store, version, kind, body)


def downgrade(store: Any, version: str, kind: str, body: dict[str, Any]) -> dict[str, Any]:
    if not _pre_basil(version) or body.get("deleted"):
        return body
    if kind == "subscription":
        return _downgrade_subscription(store, body)
    if kind == "invoice":
        return _downgrade_invoice(body)
    return body


def _same_object(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return "id" not in a or a.get("id") == b.get("id")


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The old values of what changed: a key new in ``after`` was null before."""
    out: dict[str, Any] = {}
    for k in before.keys() | after.keys():
        old, new = before.get(k), after.get(k)
        if old == new:
            continue
        if isinstance(old, dict) and isinstance(new, dict) and _same_object(old, new):
            out[k] = diff(old, new)
        else:
            out[k] = old
    return out


class EventLog:
    def __init__(self, store: Store, wall: WallClock) -> None:
        self.store = store
        self.wall = wall
        self.api_version = API_VERSION
        self._late: list[int | None] = []  # delays for the next events, consumed in order
        self.hidden: set[str] = set()  # events not yet visible to lists

    # controls ------------------------------------------------------------------------------
    def set_api_version(self, version: str) -> None:
        self.api_version = check_api_version(version)

    def delay_next(self, n: int, seconds: int | None = None) -> None:
        if n < 0 or (seconds is not None and seconds < 0):
            raise ValueError("n and seconds must not be negative")
        self._late = [seconds] * n

    def release(self) -> int:
        n = len(self.hidden)
        for eid in self.hidden:
            self.store.data["event"][eid].pop("_visible_at", None)
        self.hidden.clear()
        return n

    # writing -------------------------------------------------------------------------------
    def emit(
        self, etype: str, kind: str, rec: dict[str, Any], now: int,
        before: dict[str, Any] | None, request: dict[str, Any],
    ) -> dict[str, Any] | None:  # fmt: skip
        """Record one event; ``before`` (a render from before the change) makes it carry
        ``previous_attributes`` and is skipped when nothing changed."""
        version = self.api_version
        obj = render_in(self.store, version, kind, rec)
        data: dict[str, Any] = {"object": obj}
        if before is not None:
            prev = diff(downgrade(self.store, version, kind, before), obj)
            if not prev:
                return None
            data["previous_attributes"] = prev
        on_clock = rec.get("test_clock") is not None
        created = self.wall.now() if on_clock else min(now, self.wall.now())
        return self._put(etype, created, data, request)

    def _put(self, etype: str, created: int, data: dict[str, Any],
             request: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
        evt = {
            "id": self.store.new_id("evt", 24), "object": "event",
            "api_version": self.api_version, "created": created, "data": data,
            "livemode": False, "pending_webhooks": 0, "request": request, "type": etype,
        }  # fmt: skip
        if self._late:
            delay = self._late.pop(0)
            evt["_visible_at"] = None if delay is None else created + delay
            self.hidden.add(evt["id"])
        return self.store.put_event(evt)

    def add_lazy(self, items: list[tuple[str, str, dict[str, Any], str]],
                 frozen: SimpleNamespace) -> None:  # fmt: skip
        """Seeded events, one per (type, kind, record, event id): the records are pickled
        now, in one go, and each event's payload is rendered when first read. They do not
        use up ``delay_next``: seeding stands for history, already visible."""
        batch = SnapshotBatch([rec for _, _, rec, _ in items], frozen)
        version, put = self.api_version, self.store.put_event
        for i, (etype, kind, rec, eid) in enumerate(items):
            put({
                "id": eid, "object": "event", "api_version": version, "created": rec["created"],
                "data": None, "livemode": False, "pending_webhooks": 0,
                "request": {"id": None, "idempotency_key": None}, "type": etype,
                "_lazy": (kind, batch, i),
            })  # fmt: skip

    # reading -------------------------------------------------------------------------------
    def materialize(self, evt: dict[str, Any]) -> dict[str, Any]:
        lazy = evt.pop("_lazy", None)
        if lazy is not None:
            kind, batch, i = lazy
            obj = render_in(batch.frozen, evt["api_version"], kind, batch.record(i))
            evt["data"] = {"object": obj}
        return evt

    def cutoff(self) -> int:
        """Events created at or before this are gone."""
        return self.wall.now() - RETENTION

    def retained(self, evt: dict[str, Any]) -> bool:
        return evt["created"] > self.cutoff()

    def visible(self, evt: dict[str, Any], now: int) -> bool:
        if evt["id"] not in self.hidden:
            return True
        at = evt.get("_visible_at")
        if at is not None and now >= at:
            evt.pop("_visible_at", None)
            self.hidden.discard(evt["id"])
            return True
        return False


class SnapshotBatch:
    """Records pickled together at seeding time, unpickled together on the first read."""

    __slots__ = ("_blob", "_loads", "_records", "frozen")

    def __init__(self, records: list[dict[str, Any]], frozen: SimpleNamespace) -> None:
        # marshal is twice as fast as pickle for plain JSON-like records; pickle is the
        # fallback should a record ever hold anything else.
        try:
            self._blob, self._loads = marshal.dumps(records), marshal.loads
        except ValueError:
            self._blob, self._loads = pickle.dumps(records, pickle.HIGHEST_PROTOCOL), pickle.loads
        self._records: list[dict[str, Any]] | None = None
        self.frozen = frozen

    def record(self, i: int) -> dict[str, Any]:
        if self._records is None:
            self._records = self._loads(self._blob)
            self._blob = b""
        return self._records[i]


def frozen_view(store: Store) -> SimpleNamespace:
    """What rendering a seeded record needs, frozen at seeding time (prices, discounts)."""
    return SimpleNamespace(data={
        "price": pickle.loads(pickle.dumps(store.data["price"])), "discount": {},
    })  # fmt: skip

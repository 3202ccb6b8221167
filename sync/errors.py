"""The engine's error hierarchy, named for what the caller should do.

Adapters translate vendor exceptions into these once, at their edge, through one table per
vendor (``sync.salesforce_io.errors``, ``sync.stripe_io.errors``); nothing past the edge
catches a Stripe, Salesforce or requests exception::

    SyncFailure            base: message, category, code, HTTP status, vendor request id
    ├── RetryLater         transient (network, 5xx, rate limits, row locks): back off, retry
    ├── SkipRecord         this record cannot be written as it is: record it, go on
    └── StopCycle          nothing useful can happen this cycle (credentials, limits,
                           missing metadata or field access, an unwritable store)

The base class carries no default category: whoever raises one says what kind of problem it
is, so a Stripe outage can never be filed as a Salesforce write failure by accident.
"""

from __future__ import annotations

from metadata.schema import Category

__all__ = ["RetryLater", "SkipRecord", "StopCycle", "SyncFailure"]


class SyncFailure(Exception):
    """Base class. ``code`` is the vendor's error code when there is one."""

    def __init__(
        self,
        message: str,
        *,
        category: Category,
        code: str = "",
        http_status: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.category = category
        self.code = code
        self.http_status = http_status
        self.request_id = request_id
        # Seconds the service asked us to wait (Retry-After): the backoff waits at least this.
        self.retry_after = retry_after

    @property
    def action(self) -> str:
        """What the caller does: retry later, skip this record, stop the cycle."""
        return _ACTIONS.get(type(self), "stop")


class RetryLater(SyncFailure):
    """Transient: network, 5xx, rate limits, row locks. Back off and try the call again."""


class SkipRecord(SyncFailure):
    """This record cannot be written as it is; record the failure and go on with the others.

    Batch writes report such failures per record as ``WriteResult`` values rather than raising;
    this is for single-record operations (one customer's listing, one retrieve)."""


class StopCycle(SyncFailure):
    """Nothing useful can happen this cycle: credentials, missing metadata/FLS, daily limit."""


_ACTIONS: dict[type[SyncFailure], str] = {
    RetryLater: "retry",
    SkipRecord: "skip",
    StopCycle: "stop",
}

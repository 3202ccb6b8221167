"""The engine's error hierarchy, named for what the caller should do.

Adapters translate vendor exceptions into these once, at their edge; nothing past the edge
catches a Stripe or Salesforce exception.
"""

from __future__ import annotations

__all__ = ["RetryLater", "SkipRecord", "StopCycle", "SyncFailure"]


class SyncFailure(Exception):
    """Base class. ``code`` is the vendor's error code when there is one."""

    category = "Salesforce Write"

    def __init__(self, message: str, *, code: str = "", category: str | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        if category is not None:
            self.category = category


class RetryLater(SyncFailure):
    """Transient: network, 5xx, rate limits, row locks. Back off and try the call again."""


class SkipRecord(SyncFailure):
    """This record cannot be written as it is; record the failure and go on with the others.

    Batch writes report such failures per record as ``WriteResult`` values rather than raising;
    this is for single-record operations."""


class StopCycle(SyncFailure):
    """Nothing useful can happen this cycle: credentials, missing metadata/FLS, daily limit."""

"""The sync engine: read Accounts, fetch billing state, map, diff, write, record failures."""

from .errors import RetryLater, SkipRecord, StopCycle, SyncFailure

__all__ = ["RetryLater", "SkipRecord", "StopCycle", "SyncFailure"]

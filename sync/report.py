"""What one cycle did: the typed report the CLI prints, the run history stores and the
alerts read."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .core.diff import RecordChange
from .core.failures import Failure, FailureRow

__all__ = ["CycleReport"]


@dataclass
class CycleReport:
    kind: str  # full | account
    started: datetime
    dry_run: bool = False
    accounts_read: int = 0
    accounts_matched: int = 0
    accounts_changed: int = 0
    subscriptions_changed: int = 0
    written: int = 0
    deferred: int = 0
    resolved: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # by category, seen this cycle
    recorded: list[FailureRow] = field(default_factory=list)  # rows written this cycle
    would_record: list[Failure] = field(default_factory=list)  # a dry run's new failures
    api_calls: dict[str, int] = field(default_factory=dict)
    strategy: str = ""
    duration_s: float = 0.0
    changes: list[RecordChange] = field(default_factory=list)
    account_names: dict[str, str] = field(default_factory=dict)  # Id -> Name, for display
    stop: Failure | None = None  # what stopped the cycle, if anything did
    halted: str | None = None  # why writing stopped early on request (signal, deadline)
    fields_changed: int = 0  # in a full reconcile after incremental ones: the drift
    drift_examples: list[str] = field(default_factory=list)
    mirror_refused: int = 0  # failures Salesforce would not take as Sync_Error__c
    # incremental cycles
    needs_full: str | None = None  # why a full reconcile must run instead
    events: int = 0  # new billing events read
    events_other_version: int = 0  # of which rendered in another API version than ours
    dirty: int = 0  # customers re-read
    salesforce_api_usage: tuple[int, int] | None = None  # (used, total) at the end
    calls_before: int = 0  # the gateway's call count when the cycle began

    @property
    def stopped(self) -> str | None:
        return self.stop.message if self.stop else None

    @property
    def new_failures(self) -> list[FailureRow]:
        """Failures that opened a new episode this cycle."""
        return [r for r in self.recorded if r.is_new]

    @property
    def newly_dead(self) -> list[FailureRow]:
        return [r for r in self.recorded if r.newly_dead]

    @property
    def exit_code(self) -> int:
        """What a monitor can trust: 3 the cycle stopped (credentials, limits, metadata, the
        deadline); 1 it completed and recorded *new* failures (or Salesforce refused to show
        one); 0 it completed with nothing new — standing data problems already recorded are
        in the summary, but a monitor is not kept red by one mistyped customer id forever."""
        if self.stop or self.halted:
            return 3
        return 1 if self.new_failures or self.would_record or self.mirror_refused else 0

    @property
    def outcome(self) -> str:
        if self.stop:
            return "stopped"
        if self.halted:
            return "halted"
        return "failures" if self.exit_code else "ok"

    def summary(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "started": self.started.isoformat(),
            "dry_run": self.dry_run,
            "accounts_read": self.accounts_read,
            "accounts_matched": self.accounts_matched,
            "accounts_changed": self.accounts_changed,
            "subscriptions_changed": self.subscriptions_changed,
            "records_written": self.written,
            "records_deferred": self.deferred,
            "errors_resolved": self.resolved,
            "errors_by_category": {str(k): v for k, v in self.errors.items()},
            "new_failures": len(self.new_failures) + len(self.would_record),
            "api_calls": self.api_calls,
            "stripe_strategy": self.strategy,
            "duration_s": round(self.duration_s, 3),
            "stopped": self.stopped,
            "halted": self.halted,
            "fields_changed": self.fields_changed,
            "drift_examples": self.drift_examples,
            "sync_errors_refused": self.mirror_refused,
            "needs_full": self.needs_full,
            "events": self.events,
            "events_other_api_version": self.events_other_version,
            "customers_reread": self.dirty,
            "salesforce_api_usage": list(self.salesforce_api_usage)
            if self.salesforce_api_usage
            else None,
        }

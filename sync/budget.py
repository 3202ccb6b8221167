"""The Salesforce API budget: the org's daily allocation is shared with every other
integration, so billing-sync keeps well below it.

Salesforce reports usage on every REST response (``Sforce-Limit-Info: api-usage=used/total``;
simple-salesforce keeps the last one). ``/limits`` is not used: it needs View Setup, which an
API-only integration user lacks. Above the soft threshold only incremental cycles run (the
daemon postpones full reconciles); above the hard one no cycle writes — one Limits failure is
recorded and alerted once, and cycles resume by themselves when usage falls back.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ApiBudget"]


@dataclass(frozen=True)
class ApiBudget:
    soft_percent: float = 70.0
    hard_percent: float = 90.0
    max_per_cycle: int | None = None  # Salesforce calls one cycle may make

    def over_soft(self, usage: tuple[int, int] | None) -> bool:
        return usage is not None and _percent(usage) >= self.soft_percent

    def blocks_writes(self, usage: tuple[int, int] | None, calls: int) -> str | None:
        """Why the next write call must not go out, or None."""
        if usage is not None and _percent(usage) >= self.hard_percent:
            used, total = usage
            return (
                f"Salesforce API usage is at {used:,} of {total:,} daily requests "
                f"({_percent(usage):.0f}%, at or above BILLING_SYNC_API_HARD_PERCENT="
                f"{self.hard_percent:g}): billing-sync writes nothing until it falls back, "
                "so other integrations keep working"
            )
        if self.max_per_cycle is not None and calls >= self.max_per_cycle:
            return (
                f"this cycle made {calls} Salesforce calls, the most "
                f"BILLING_SYNC_API_MAX_PER_CYCLE allows: the rest waits for the next cycle"
            )
        return None


def _percent(usage: tuple[int, int]) -> float:
    used, total = usage
    return 100.0 * used / total if total else 0.0

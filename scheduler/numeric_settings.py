"""The numeric settings: the API budget and the daemon's schedule, each checked against its
range with a one-line error naming the setting. Reads nothing (``scheduler.settings`` reads
the environment and calls these)."""

from __future__ import annotations

import re
from typing import Any

from .setting_values import ConfigError

__all__ = ["budget_settings", "daemon_settings", "write_concurrency"]


def _number(
    raw: dict[str, str],
    name: str,
    default: float | None,
    low: float,
    high: float | None = None,
    *,
    whole: bool = False,
) -> float | None:
    value = raw.get(name)
    if value is None:
        return default
    try:
        number = int(value) if whole else float(value)
    except ValueError:
        number = None
    if number is None or number < low or (high is not None and number > high):
        span = f"{low:g} to {high:g}" if high is not None else f"at least {low:g}"
        kind = "a whole number" if whole else "a number"
        raise ConfigError(f"{name}: expected {kind}, {span}, got '{value}'")
    return number


def budget_settings(raw: dict[str, str]) -> dict[str, Any]:
    soft = _number(raw, "BILLING_SYNC_API_SOFT_PERCENT", 70.0, 1, 100)
    hard = _number(raw, "BILLING_SYNC_API_HARD_PERCENT", 90.0, 1, 100)
    if soft is not None and hard is not None and soft > hard:
        raise ConfigError(
            f"BILLING_SYNC_API_SOFT_PERCENT: {soft:g} is above BILLING_SYNC_API_HARD_PERCENT "
            f"({hard:g}); the soft threshold must come first"
        )
    cap = _number(raw, "BILLING_SYNC_API_MAX_PER_CYCLE", None, 1, whole=True)
    return {
        "api_soft_percent": soft,
        "api_hard_percent": hard,
        "api_max_per_cycle": None if cap is None else int(cap),
    }


# requests keeps 10 connections to a host (HTTPAdapter's pool_maxsize): more calls in flight
# would open and drop a connection each time.
MAX_WRITE_CONCURRENCY = 10


def write_concurrency(raw: dict[str, str]) -> int:
    """BILLING_SYNC_SALESFORCE_WRITE_CONCURRENCY: sObject Collections calls in flight at once;
    1 writes one call at a time."""
    name = "BILLING_SYNC_SALESFORCE_WRITE_CONCURRENCY"
    value = _number(raw, name, 4, 1, MAX_WRITE_CONCURRENCY, whole=True)
    return int(value if value is not None else 4)


def _seconds(raw: dict[str, str], name: str, default: int, minimum: int, unit: str) -> int:
    value = raw.get(name)
    if value is None:
        return default
    if not re.fullmatch(r"[0-9]+", value) or int(value) < minimum:
        raise ConfigError(
            f"{name}: expected a whole number of {unit}, at least {minimum}, got '{value}'"
        )
    return int(value)


def daemon_settings(raw: dict[str, str]) -> dict[str, Any]:
    """BILLING_SYNC_INTERVAL, _FULL_RECONCILE, _RETENTION_DAYS, _CYCLE_TIMEOUT, _HTTP_ADDR."""
    # Imported here: every command loads settings, only these need the scheduler's parsers.
    from apscheduler.triggers.cron import CronTrigger

    from .health import parse_http_addr

    cron = raw.get("BILLING_SYNC_FULL_RECONCILE", "0 3 * * *")
    try:
        CronTrigger.from_crontab(cron, timezone="UTC")
    except ValueError as exc:
        raise ConfigError(
            f"BILLING_SYNC_FULL_RECONCILE: expected a 5-field cron expression in UTC such as "
            f"'0 3 * * *', got '{cron}' ({' '.join(str(exc).split())})"
        ) from None
    try:
        http_addr = parse_http_addr(raw.get("BILLING_SYNC_HTTP_ADDR"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return {
        # Below 5 s the three calls of an idle tick would be most of the org's API budget.
        "interval_s": _seconds(raw, "BILLING_SYNC_INTERVAL", 60, 5, "seconds"),
        "full_reconcile": cron,
        "retention_days": _seconds(raw, "BILLING_SYNC_RETENTION_DAYS", 90, 1, "days"),
        "cycle_timeout_s": _seconds(raw, "BILLING_SYNC_CYCLE_TIMEOUT", 900, 10, "seconds"),
        "http_addr": http_addr,
    }

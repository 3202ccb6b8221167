"""The org's API request limits as the REST API shows them: the ``Sforce-Limit-Info`` header,
the daily limit (TotalRequests) and injected whole-call faults."""

from __future__ import annotations

import threading

from .org import Org
from .sferrors import SfError

__all__ = ["CALL_FAULTS", "FaultQueue", "limit_header", "use_api_call"]

# fail_next(n, name) faults that fail a whole API call: name -> (status, errorCode, message).
CALL_FAULTS = {
    "SERVER_UNAVAILABLE": (503, "SERVER_UNAVAILABLE", "Server temporarily unavailable"),
    "REQUEST_LIMIT_EXCEEDED": (403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
    # The concurrent long-running request limit shares the daily limit's errorCode.
    "CONCURRENT_LONG_TXN": (403, "REQUEST_LIMIT_EXCEEDED",
                            "ConcurrentPerOrgLongTxn Limit exceeded."),
}
# Faults answered before the session is checked (the service is down); the others after.
BEFORE_AUTH = frozenset({"SERVER_UNAVAILABLE"})


def limit_header(org: Org) -> dict[str, str]:
    """``api-usage=USED/TOTAL``, then ``; api-bursts=USED/TOTAL`` when the org has burst
    allowance (format of Salesforce's REST API Limit Info header)."""
    value = f"api-usage={org.api_usage}/{org.daily_limit}"
    if org.api_bursts is not None:
        value += f"; api-bursts={org.api_bursts[0]}/{org.api_bursts[1]}"
    return {"Sforce-Limit-Info": value}


def use_api_call(org: Org) -> dict[str, str]:
    """Count one API call, or refuse it once the daily limit is used up."""
    with org.lock:
        if org.api_usage >= org.daily_limit:
            raise SfError(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        org.api_usage += 1
        return limit_header(org)


class FaultQueue:
    """Whole-call faults still to come, oldest first: ``[name, calls left]``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[list] = []

    def add(self, name: str, n: int) -> None:
        if name not in CALL_FAULTS:
            raise ValueError(f"unsupported fault {name!r}")
        with self._lock:
            self._faults.append([name, n])

    def take(self) -> str | None:
        with self._lock:
            for fault in self._faults:
                if fault[1] > 0:
                    fault[1] -= 1
                    return fault[0]
            self._faults = [f for f in self._faults if f[1] > 0]
        return None

    @staticmethod
    def error(name: str) -> SfError:
        status, code, message = CALL_FAULTS[name]
        return SfError(status, code, message)

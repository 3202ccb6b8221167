"""The one Chargebee site the stand-in serves: its settings and the state every route shares.

Settings are the site configuration a real site has in its dashboard (currencies, multi-decimal
pricing, dunning); they are fixed when the stand-in is built.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .clock import Clock
from .errors import wrong_value
from .store import Store, public

__all__ = ["ID_CHARS", "Settings", "Site", "check_id", "minor_exponent"]

ID_CHARS = re.compile(r"^[A-Za-z0-9_\-.@~]+$")
_ZERO_DECIMAL = {"JPY", "KRW", "VND", "CLP", "ISK", "UGX", "XAF", "XOF", "PYG", "RWF", "KMF",
                 "GNF", "DJF", "BIF", "MGA", "VUV", "XPF"}  # fmt: skip
_THREE_DECIMAL = {"BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD"}


def minor_exponent(currency: str) -> int:
    """Digits after the point in ``currency``'s minor unit (USD 2, JPY 0, KWD 3)."""
    if currency in _ZERO_DECIMAL:
        return 0
    return 3 if currency in _THREE_DECIMAL else 2


def check_id(param: str, value: str, max_len: int) -> str:
    if len(value) > max_len:
        raise wrong_value(param, f"cannot be more than {max_len} characters")
    if not ID_CHARS.match(value):
        raise wrong_value(param, "can only contain letters, digits and the characters - _ . @ ~")
    return value


@dataclass(frozen=True)
class Settings:
    """``dunning_days``: days a subscription may keep unpaid invoices before Chargebee cancels
    it (None: dunning never cancels). ``decimal_pricing``: the site's multi-decimal feature."""

    site: str = "billing-sync-test"
    base_currency: str = "USD"
    currencies: tuple[str, ...] = ("USD", "EUR", "GBP", "JPY")
    decimal_pricing: bool = False
    dunning_days: int | None = None
    rate_limit: int | None = None  # requests per minute; Chargebee test sites allow 150


@dataclass
class Site:
    store: Store
    clock: Clock
    settings: Settings
    source: str = "api"  # "api" for requests, "scheduled_job" while the clock runs

    def now(self) -> int:
        return self.clock.now()

    def emit(self, event_type: str, **content: dict[str, Any]) -> None:
        self.store.emit(event_type, self.now(), self.source, content)

    def currency(self, param: str, value: str | None) -> str:
        code = value or self.settings.base_currency
        if code not in self.settings.currencies:
            raise wrong_value(param, f"currency {code} is not enabled for the site")
        return code

    def card(self, customer: dict[str, Any]) -> dict[str, Any] | None:
        return customer.get("_card")

    def with_customer(self, key: str, rec: dict[str, Any]) -> dict[str, Any]:
        """``{key: rec, "customer": ..., "card": ...}`` as subscription answers carry them."""
        cus = self.store.data["customer"][rec["customer_id"]]
        out = {key: public(rec), "customer": public(cus)}
        card = self.card(cus)
        if card:
            out["card"] = public(card)
        return out

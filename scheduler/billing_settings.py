"""Billing provider settings: which provider (``BILLING_PROVIDER``) and its own settings.

Part of settings validation (``scheduler.settings`` calls it with the settings it read); it
reads nothing itself. Only the chosen provider's settings are required: a Chargebee
installation needs no Stripe key.
"""

from __future__ import annotations

import re
from typing import Any

from .setting_values import ConfigError, Problems, Secret, url_setting

__all__ = [
    "DEFAULT_CHARGEBEE_RATE_LIMIT",
    "PROVIDERS",
    "PROVIDER_SECRETS",
    "PROVIDER_SETTINGS",
    "billing_settings",
]

PROVIDERS = ("stripe", "chargebee", "recurly")
RESERVED: tuple[str, ...] = ()  # named providers get "not supported yet" rather than "unknown"
DEFAULT_STRIPE_API_BASE = "https://api.stripe.com"
# Recurly's v3 API host (EU sites: https://v3.eu.recurly.com). A v3 API key belongs to one
# site, so no RECURLY_SITE is needed: the key alone says which site is read.
DEFAULT_RECURLY_API_BASE = "https://v3.recurly.com"
PROVIDER_SETTINGS = (
    "BILLING_PROVIDER",
    "STRIPE_API_KEY",
    "STRIPE_API_BASE",
    "CHARGEBEE_SITE",
    "CHARGEBEE_API_KEY",
    "CHARGEBEE_API_BASE",
    "RECURLY_API_KEY",
    "RECURLY_API_BASE",
    "CHARGEBEE_RATE_LIMIT",
)
PROVIDER_SECRETS = ("STRIPE_API_KEY", "CHARGEBEE_API_KEY", "RECURLY_API_KEY")
# Chargebee site names are the subdomain of chargebee.com: letters, digits and hyphens.
_SITE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}", re.I)
# Requests per minute we allow ourselves: a test site's limit, the lowest Chargebee has; a
# live site allows more, and raising this is then the operator's informed choice.
DEFAULT_CHARGEBEE_RATE_LIMIT = 150


def _provider(raw: dict[str, str]) -> str:
    provider = raw.get("BILLING_PROVIDER", "stripe").lower()
    if provider in RESERVED:
        raise ConfigError(
            f"BILLING_PROVIDER: {provider} is not supported yet; expected one of "
            f"{', '.join(PROVIDERS)}"
        )
    if provider not in PROVIDERS:
        raise ConfigError(
            f"BILLING_PROVIDER: expected one of {', '.join(PROVIDERS)}, got '{provider}'"
        )
    return provider


def _stripe_key(raw: dict[str, str]) -> str:
    key = raw.get("STRIPE_API_KEY")
    if not key:
        raise ConfigError(
            "STRIPE_API_KEY: not set; expected a Stripe secret or restricted key (sk_… or rk_…)"
        )
    if not re.fullmatch(r"(sk|rk)_(test|live)_[A-Za-z0-9_]+", key):
        raise ConfigError(
            "STRIPE_API_KEY: expected a Stripe secret or restricted key (sk_… or rk_…)"
        )
    return key


def _chargebee(raw: dict[str, str], problems: Problems) -> dict[str, Any]:
    site = raw.get("CHARGEBEE_SITE")
    if not site:
        problems.add(
            "CHARGEBEE_SITE: not set; expected your site name (acme for acme.chargebee.com)"
        )
    elif not _SITE.fullmatch(site):
        problems.add(
            f"CHARGEBEE_SITE: expected the site name only (acme for acme.chargebee.com), "
            f"got '{site}'"
        )
    key = raw.get("CHARGEBEE_API_KEY")
    if not key:
        problems.add("CHARGEBEE_API_KEY: not set; expected a read-only API key of the site")
    base = problems.check(url_setting, raw, "CHARGEBEE_API_BASE", None, ("https", "http"))
    if base is not None and not base.endswith("/api/v2"):
        problems.add(f"CHARGEBEE_API_BASE: expected a URL ending in /api/v2, got '{base}'")
    return {
        "chargebee_site": site,
        "chargebee_api_key": Secret(key) if key else None,
        "chargebee_api_base": base,
        "chargebee_rate_limit": problems.check(_rate_limit, raw) or DEFAULT_CHARGEBEE_RATE_LIMIT,
    }


def _recurly(raw: dict[str, str], problems: Problems) -> dict[str, Any]:
    key = raw.get("RECURLY_API_KEY")
    if not key:
        problems.add("RECURLY_API_KEY: not set; expected a private API key of the Recurly site")
    base = problems.check(
        url_setting, raw, "RECURLY_API_BASE", DEFAULT_RECURLY_API_BASE, ("https", "http")
    )
    return {
        "recurly_api_key": Secret(key) if key else None,
        "recurly_api_base": (base or DEFAULT_RECURLY_API_BASE).rstrip("/"),
    }


def _rate_limit(raw: dict[str, str]) -> int:
    value = raw.get("CHARGEBEE_RATE_LIMIT")
    if value is None:
        return DEFAULT_CHARGEBEE_RATE_LIMIT
    if not re.fullmatch(r"[0-9]+", value) or int(value) < 1:
        raise ConfigError(
            f"CHARGEBEE_RATE_LIMIT: expected a whole number of requests per minute, at least 1, "
            f"got '{value}'"
        )
    return int(value)


def billing_settings(raw: dict[str, str], problems: Problems) -> dict[str, Any]:
    """The Settings fields of the billing provider; problems are added, never raised."""
    provider = problems.check(_provider, raw) or "stripe"
    stripe_base = problems.check(
        url_setting, raw, "STRIPE_API_BASE", DEFAULT_STRIPE_API_BASE, ("https", "http")
    )
    out: dict[str, Any] = {
        "billing_provider": provider,
        "stripe_api_key": None,
        "stripe_api_base": stripe_base or DEFAULT_STRIPE_API_BASE,
    }
    if provider == "stripe":
        key = problems.check(_stripe_key, raw)
        out["stripe_api_key"] = Secret(key) if key else None
    elif provider == "chargebee":
        out.update(_chargebee(raw, problems))
    elif provider == "recurly":
        out.update(_recurly(raw, problems))
    return out

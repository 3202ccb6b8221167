"""Configuration: the one module that reads the environment and the optional TOML file.

Everything is validated here, once, at start. A bad value raises ConfigError with one line
that names the setting and says what is expected; the CLI turns it into exit code 2.
Secret values are wrapped in Secret so no repr, log line or error message can show them.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from metadata import schema

__all__ = ["ConfigError", "Secret", "Settings", "load_settings"]

DEFAULT_STRIPE_API_BASE = "https://api.stripe.com"
DEFAULT_LOGIN_URL = "https://login.salesforce.com"
DEFAULT_API_VERSION = schema.DEFAULT_API_VERSION
DEFAULT_DB = "./billing-sync.db"
# Salesforce REST answers from 20.0, but sObject Collections upsert needs 46.0.
MIN_API_VERSION = 46

# Every name this module understands; the TOML file may use them too (any case).
KNOWN = (
    "STRIPE_API_KEY",
    "STRIPE_API_BASE",
    "SALESFORCE_LOGIN_URL",
    "SALESFORCE_CLIENT_ID",
    "SALESFORCE_CLIENT_SECRET",
    "SALESFORCE_USERNAME",
    "SALESFORCE_PRIVATE_KEY_FILE",
    "SALESFORCE_INSTANCE_URL",
    "SALESFORCE_ACCESS_TOKEN",
    "SALESFORCE_API_VERSION",
    "SALESFORCE_CA_BUNDLE",
    "SLACK_WEBHOOK_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_CHANNEL",
    "BILLING_SYNC_DB",
)


class ConfigError(Exception):
    """A setting is missing or malformed. The message is one line and names the setting."""


class Secret:
    """A string that never shows itself: repr/str/format give a mask."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class Settings:
    stripe_api_key: Secret
    stripe_api_base: str
    salesforce_auth: str  # client_credentials | jwt | token
    salesforce_login_url: str
    salesforce_api_version: str
    salesforce_client_id: str | None = None
    salesforce_client_secret: Secret | None = None
    salesforce_username: str | None = None
    salesforce_private_key_file: Path | None = None
    salesforce_instance_url: str | None = None
    salesforce_access_token: Secret | None = None
    salesforce_ca_bundle: Path | None = None
    slack_webhook_url: Secret | None = None
    slack_bot_token: Secret | None = None
    slack_channel: str | None = None
    db_path: Path = Path(DEFAULT_DB)

    @property
    def stripe_mode(self) -> str:
        return "live" if "_live_" in self.stripe_api_key.reveal() else "test"

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_webhook_url or self.slack_bot_token)

    def secrets(self) -> list[str]:
        """Every secret value, for the log redaction filter."""
        return [
            getattr(self, f.name).reveal()
            for f in fields(self)
            if isinstance(getattr(self, f.name), Secret)
        ]


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read TOML (``BILLING_SYNC_CONFIG``) then the environment, which wins; validate."""
    env = dict(os.environ if environ is None else environ)
    raw = _read_toml(env.get("BILLING_SYNC_CONFIG", "").strip())
    for name in KNOWN:
        value = env.get(name)
        if value is not None and value.strip() != "":
            raw[name] = value.strip()
    return _validate(raw)


def _read_toml(path: str) -> dict[str, str]:
    if not path:
        return {}
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"BILLING_SYNC_CONFIG: file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"BILLING_SYNC_CONFIG: {path} is not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"BILLING_SYNC_CONFIG: cannot read {path} ({exc.strerror})") from None
    out: dict[str, str] = {}
    for key, value in data.items():
        name = key.upper()
        if name not in KNOWN:
            raise ConfigError(f"BILLING_SYNC_CONFIG: unknown setting '{key}' in {path}")
        if not isinstance(value, str):
            raise ConfigError(f"{name}: expected a string in {path}")
        if value.strip():
            out[name] = value.strip()
    return out


def _url(
    raw: dict[str, str], name: str, default: str | None, schemes: tuple[str, ...] = ("https",)
) -> str | None:
    value = raw.get(name, default)
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in schemes or not parsed.netloc:
        expected = " or ".join(f"{s}://" for s in schemes)
        raise ConfigError(f"{name}: expected a URL starting with {expected}, got '{value}'")
    return value.rstrip("/")


def _file(raw: dict[str, str], name: str) -> Path | None:
    value = raw.get(name)
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise ConfigError(f"{name}: expected a readable file, {value} does not exist")
    return path


def _validate(raw: dict[str, str]) -> Settings:
    key = raw.get("STRIPE_API_KEY")
    if not key:
        raise ConfigError(
            "STRIPE_API_KEY: not set; expected a Stripe secret or restricted key (sk_… or rk_…)"
        )
    if not re.fullmatch(r"(sk|rk)_(test|live)_[A-Za-z0-9_]+", key):
        raise ConfigError(
            "STRIPE_API_KEY: expected a Stripe secret or restricted key (sk_… or rk_…)"
        )
    stripe_base = _url(raw, "STRIPE_API_BASE", DEFAULT_STRIPE_API_BASE, ("https", "http"))

    version = raw.get("SALESFORCE_API_VERSION", DEFAULT_API_VERSION)
    match = re.fullmatch(r"(\d{2,3})\.0", version)
    if not match or int(match.group(1)) < MIN_API_VERSION:
        raise ConfigError(
            f"SALESFORCE_API_VERSION: expected a version like 66.0 "
            f"({MIN_API_VERSION}.0 or later), got '{version}'"
        )
    login_url = _url(raw, "SALESFORCE_LOGIN_URL", DEFAULT_LOGIN_URL)
    ca_bundle = _file(raw, "SALESFORCE_CA_BUNDLE")

    auth, extra = _salesforce_auth(raw)

    webhook = _url(raw, "SLACK_WEBHOOK_URL", None)
    bot_token = raw.get("SLACK_BOT_TOKEN")
    channel = raw.get("SLACK_CHANNEL")
    if bot_token and not channel:
        raise ConfigError("SLACK_CHANNEL: required with SLACK_BOT_TOKEN (e.g. #billing-ops)")
    if bot_token and not bot_token.startswith("xox"):
        raise ConfigError("SLACK_BOT_TOKEN: expected a Slack bot token (xoxb-…)")

    db = Path(raw.get("BILLING_SYNC_DB", DEFAULT_DB)).expanduser()
    if not db.parent.is_dir():
        raise ConfigError(f"BILLING_SYNC_DB: directory {db.parent} does not exist")

    return Settings(
        stripe_api_key=Secret(key),
        stripe_api_base=stripe_base or DEFAULT_STRIPE_API_BASE,
        salesforce_auth=auth,
        salesforce_login_url=login_url or DEFAULT_LOGIN_URL,
        salesforce_api_version=version,
        salesforce_ca_bundle=ca_bundle,
        slack_webhook_url=Secret(webhook) if webhook else None,
        slack_bot_token=Secret(bot_token) if bot_token else None,
        slack_channel=channel,
        db_path=db,
        **extra,
    )


def _salesforce_auth(raw: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """Detect the auth mode from what is set; name the first missing piece if incomplete."""
    has = {name for name in KNOWN if raw.get(name)}
    if {"SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN"} & has and not (
        {"SALESFORCE_CLIENT_ID"} & has
    ):
        for name in ("SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN"):
            if name not in has:
                raise ConfigError(f"{name}: required with direct-token authentication")
        return "token", {
            "salesforce_instance_url": _url(raw, "SALESFORCE_INSTANCE_URL", None),
            "salesforce_access_token": Secret(raw["SALESFORCE_ACCESS_TOKEN"]),
        }
    if "SALESFORCE_CLIENT_ID" not in has:
        raise ConfigError(
            "SALESFORCE_CLIENT_ID: not set; configure Salesforce with client credentials "
            "(SALESFORCE_CLIENT_ID + SALESFORCE_CLIENT_SECRET), JWT bearer (SALESFORCE_CLIENT_ID "
            "+ SALESFORCE_USERNAME + SALESFORCE_PRIVATE_KEY_FILE) or a direct token "
            "(SALESFORCE_INSTANCE_URL + SALESFORCE_ACCESS_TOKEN)"
        )
    client_id = raw["SALESFORCE_CLIENT_ID"]
    if "SALESFORCE_PRIVATE_KEY_FILE" in has or "SALESFORCE_USERNAME" in has:
        if "SALESFORCE_USERNAME" not in has:
            raise ConfigError("SALESFORCE_USERNAME: required with JWT bearer authentication")
        if "SALESFORCE_PRIVATE_KEY_FILE" not in has:
            raise ConfigError(
                "SALESFORCE_PRIVATE_KEY_FILE: required with JWT bearer authentication"
            )
        key_file = _file(raw, "SALESFORCE_PRIVATE_KEY_FILE")
        assert key_file is not None
        head = key_file.read_bytes()[:100]
        if b"PRIVATE KEY-----" not in head:
            raise ConfigError(
                f"SALESFORCE_PRIVATE_KEY_FILE: expected a PEM private key, {key_file} is not one"
            )
        return "jwt", {
            "salesforce_client_id": client_id,
            "salesforce_username": raw["SALESFORCE_USERNAME"],
            "salesforce_private_key_file": key_file,
        }
    if "SALESFORCE_CLIENT_SECRET" not in has:
        raise ConfigError(
            "SALESFORCE_CLIENT_SECRET: required with client-credentials authentication "
            "(or set SALESFORCE_USERNAME + SALESFORCE_PRIVATE_KEY_FILE for JWT bearer)"
        )
    return "client_credentials", {
        "salesforce_client_id": client_id,
        "salesforce_client_secret": Secret(raw["SALESFORCE_CLIENT_SECRET"]),
    }

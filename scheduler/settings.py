"""Configuration: the one module that reads the environment and the optional TOML file.

Everything is validated here, once, at start. Every problem found is reported at once, one
line each naming the setting and saying what is expected (``ConfigError.problems``); the CLI
turns them into exit code 2.
Secret values are wrapped in Secret so no repr, log line or error message can show them.
"""

from __future__ import annotations

import os
import re
import ssl
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from metadata import schema

from .billing_settings import PROVIDER_SECRETS, PROVIDER_SETTINGS, billing_settings
from .numeric_settings import budget_settings, daemon_settings, write_concurrency
from .salesforce_settings import salesforce_auth
from .setting_values import ConfigError, Problems, Secret, file_setting, url_setting

__all__ = ["ConfigError", "Secret", "Settings", "load_settings"]

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
DEFAULT_API_VERSION = schema.DEFAULT_API_VERSION
DEFAULT_DB = "./billing-sync.db"
# Salesforce REST answers from 20.0, but sObject Collections upsert needs 46.0.
MIN_API_VERSION = 46

# Every name this module understands; the TOML file may use them too (any case).
KNOWN = (
    *PROVIDER_SETTINGS,
    "SALESFORCE_LOGIN_URL",
    "SALESFORCE_CLIENT_ID",
    "SALESFORCE_CLIENT_SECRET",
    "SALESFORCE_USERNAME",
    "SALESFORCE_PRIVATE_KEY_FILE",
    "SALESFORCE_INSTANCE_URL",
    "SALESFORCE_ACCESS_TOKEN",
    "SALESFORCE_API_VERSION",
    "SALESFORCE_CA_BUNDLE",
    "SALESFORCE_AUTH",
    "SALESFORCE_JWT_AUDIENCE",
    "SLACK_WEBHOOK_URL",
    "SLACK_BOT_TOKEN",
    "SLACK_CHANNEL",
    "BILLING_SYNC_DB",
    "BILLING_SYNC_API_SOFT_PERCENT",
    "BILLING_SYNC_API_HARD_PERCENT",
    "BILLING_SYNC_API_MAX_PER_CYCLE",
    "BILLING_SYNC_SALESFORCE_WRITE_CONCURRENCY",
    # the daemon (`billing-sync run`)
    "BILLING_SYNC_INTERVAL",
    "BILLING_SYNC_FULL_RECONCILE",
    "BILLING_SYNC_RETENTION_DAYS",
    "BILLING_SYNC_CYCLE_TIMEOUT",
    "BILLING_SYNC_HTTP_ADDR",
    "BILLING_SYNC_STRIPE_LIST_CONCURRENCY",
)


@dataclass(frozen=True)
class Settings:
    stripe_api_key: Secret | None  # None unless billing_provider is "stripe"
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
    salesforce_jwt_audience: str = "https://login.salesforce.com"
    slack_webhook_url: Secret | None = None
    slack_bot_token: Secret | None = None
    slack_channel: str | None = None
    db_path: Path = Path(DEFAULT_DB)
    api_soft_percent: float = 70.0
    api_hard_percent: float = 90.0
    api_max_per_cycle: int | None = None
    salesforce_write_concurrency: int = 4  # collection calls in flight at once
    # the daemon (`billing-sync run`); see _daemon_settings
    interval_s: int = 60
    full_reconcile: str = "0 3 * * *"
    retention_days: int = 90
    cycle_timeout_s: int = 900
    http_addr: tuple[str, int] | None = ("127.0.0.1", 9464)
    # the billing provider; see billing_settings
    billing_provider: str = "stripe"  # stripe | chargebee | recurly
    chargebee_site: str | None = None
    chargebee_api_key: Secret | None = None
    chargebee_api_base: str | None = None
    recurly_api_key: Secret | None = None
    recurly_api_base: str = "https://v3.recurly.com"
    chargebee_rate_limit: int = 150  # requests per minute (CHARGEBEE_RATE_LIMIT)
    # threads listing Stripe subscriptions by created ranges (BILLING_SYNC_STRIPE_LIST_CONCURRENCY)
    stripe_list_concurrency: int = 4

    @property
    def stripe_mode(self) -> str:
        key = self.stripe_api_key
        return "live" if key is not None and "_live_" in key.reveal() else "test"

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


# Secrets may also come from files (the Docker secrets / systemd credentials convention):
# ``STRIPE_API_KEY_FILE=/run/credentials/billing-sync/stripe`` reads the key from that file.
SECRET_FILES = (
    *PROVIDER_SECRETS,
    "SALESFORCE_CLIENT_SECRET",
    "SALESFORCE_ACCESS_TOKEN",
    "SLACK_WEBHOOK_URL",
    "SLACK_BOT_TOKEN",
)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read TOML (``BILLING_SYNC_CONFIG``) then the environment, which wins; validate."""
    env = dict(os.environ if environ is None else environ)
    raw = _read_toml(env.get("BILLING_SYNC_CONFIG", "").strip())
    for name in KNOWN:
        value = env.get(name)
        if value is not None and value.strip() != "":
            raw[name] = value.strip()
    problems = Problems()
    for name in SECRET_FILES:
        path = env.get(f"{name}_FILE", "").strip()
        if path and name not in raw:
            secret = problems.check(_read_secret_file, f"{name}_FILE", path)
            if secret:
                raw[name] = secret
    if problems.found:
        raise ConfigError(problems.found)
    return _validate(raw)


def _read_secret_file(name: str, path: str) -> str:
    try:
        value = Path(path).expanduser().read_text().strip()
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read {path} ({exc.strerror})") from None
    if not value:
        raise ConfigError(f"{name}: {path} is empty")
    return value


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
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ConfigError(f"{name}: expected a string or a number in {path}")
        # A number is taken as written: 62.0 and 62 both mean API version 62.0.
        text = f"{value:.1f}" if isinstance(value, float) else str(value)
        if text.strip():
            out[name] = text.strip()
    return out


SANDBOX_HOSTS = ("test.salesforce.com", ".sandbox.my.salesforce.com")


def _ca_bundle(raw: dict[str, str]) -> Path | None:
    path = file_setting(raw, "SALESFORCE_CA_BUNDLE")
    if path is None:
        return None
    try:
        ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, ValueError):
        raise ConfigError(
            f"SALESFORCE_CA_BUNDLE: {path} is not a PEM bundle of CA certificates"
        ) from None
    return path


def _api_version(raw: dict[str, str]) -> str:
    version = raw.get("SALESFORCE_API_VERSION", DEFAULT_API_VERSION)
    match = re.fullmatch(r"(\d{2,3})\.0", version)
    if not match or int(match.group(1)) < MIN_API_VERSION:
        raise ConfigError(
            f"SALESFORCE_API_VERSION: expected a version like 66.0 "
            f"({MIN_API_VERSION}.0 or later), got '{version}'"
        )
    return version


def _jwt_audience(raw: dict[str, str], login_url: str) -> str:
    """Salesforce wants the login or test host as ``aud``, never the My Domain the token
    request goes to; derive it from the login URL where that is unambiguous."""
    sandbox = any(h in login_url for h in SANDBOX_HOSTS)
    default = "https://test.salesforce.com" if sandbox else "https://login.salesforce.com"
    audience = url_setting(raw, "SALESFORCE_JWT_AUDIENCE", default)
    return audience or default


def _slack(raw: dict[str, str], problems: Problems) -> dict[str, Any]:
    webhook = problems.check(url_setting, raw, "SLACK_WEBHOOK_URL", None, ("https",), secret=True)
    bot_token = raw.get("SLACK_BOT_TOKEN")
    channel = raw.get("SLACK_CHANNEL")
    if bot_token and not channel:
        problems.add("SLACK_CHANNEL: required with SLACK_BOT_TOKEN (e.g. #billing-ops)")
    if bot_token and not bot_token.startswith("xox"):
        problems.add("SLACK_BOT_TOKEN: expected a Slack bot token (xoxb-…)")
    return {
        "slack_webhook_url": Secret(webhook) if webhook else None,
        "slack_bot_token": Secret(bot_token) if bot_token else None,
        "slack_channel": channel,
    }


# Stripe allows 25 requests a second per endpoint: at ~300 ms a page, 8 threads already
# reach the pacer's 20 a second, and more would only wait.
MAX_LIST_CONCURRENCY = 8


def _stripe_list_concurrency(raw: dict[str, str]) -> int:
    name = "BILLING_SYNC_STRIPE_LIST_CONCURRENCY"
    value = raw.get(name)
    if value is None:
        return 4
    if not re.fullmatch(r"[0-9]+", value) or not 1 <= int(value) <= MAX_LIST_CONCURRENCY:
        raise ConfigError(
            f"{name}: expected a whole number, 1 to {MAX_LIST_CONCURRENCY}, got '{value}'"
        )
    return int(value)


def _db(raw: dict[str, str]) -> Path:
    db = Path(raw.get("BILLING_SYNC_DB", DEFAULT_DB)).expanduser()
    if not db.parent.is_dir():
        raise ConfigError(f"BILLING_SYNC_DB: directory {db.parent} does not exist")
    return db


def _validate(raw: dict[str, str]) -> Settings:
    problems = Problems()
    billing = billing_settings(raw, problems)
    version = problems.check(_api_version, raw)
    login_url = problems.check(url_setting, raw, "SALESFORCE_LOGIN_URL", DEFAULT_LOGIN_URL)
    ca_bundle = problems.check(_ca_bundle, raw)
    audience = problems.check(_jwt_audience, raw, login_url or DEFAULT_LOGIN_URL)
    auth = problems.check(salesforce_auth, raw)
    slack = _slack(raw, problems)
    db = problems.check(_db, raw)
    budget = problems.check(budget_settings, raw)
    list_concurrency = problems.check(_stripe_list_concurrency, raw)
    concurrency = problems.check(write_concurrency, raw)
    if problems.found:
        raise ConfigError(problems.found)
    mode, extra = auth
    return Settings(
        **billing,
        salesforce_auth=mode,
        salesforce_login_url=login_url or DEFAULT_LOGIN_URL,
        salesforce_api_version=version,
        salesforce_ca_bundle=ca_bundle,
        salesforce_jwt_audience=audience,
        db_path=db,
        **budget,
        salesforce_write_concurrency=concurrency,
        **slack,
        **extra,
        **daemon_settings(raw),
        stripe_list_concurrency=list_concurrency,
    )


# ---------------------------------------------------------------- the daemon's settings

"""Salesforce authentication settings: which of the three auth modes, and what each needs.

Part of settings validation (``scheduler.settings`` calls it with the settings it read); it
reads nothing itself.
"""

from __future__ import annotations

from typing import Any

from .setting_values import ConfigError, Secret, file_setting, url_setting

__all__ = ["AUTH_MODES", "salesforce_auth"]

AUTH_MODES = ("client_credentials", "jwt", "token")


def _detect_mode(raw: dict[str, str]) -> str:
    """The auth mode: SALESFORCE_AUTH when set, else what the settings present suggest."""
    chosen = raw.get("SALESFORCE_AUTH")
    if chosen is not None:
        if chosen not in AUTH_MODES:
            raise ConfigError(
                f"SALESFORCE_AUTH: expected one of {', '.join(AUTH_MODES)}, got '{chosen}'"
            )
        return chosen
    has = {name for name, value in raw.items() if value}
    if {"SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN"} & has and (
        "SALESFORCE_CLIENT_ID" not in has
    ):
        return "token"
    if "SALESFORCE_CLIENT_ID" not in has:
        raise ConfigError(
            "SALESFORCE_CLIENT_ID: not set; configure Salesforce with client credentials "
            "(SALESFORCE_CLIENT_ID + SALESFORCE_CLIENT_SECRET), JWT bearer (SALESFORCE_CLIENT_ID "
            "+ SALESFORCE_USERNAME + SALESFORCE_PRIVATE_KEY_FILE) or a direct token "
            "(SALESFORCE_INSTANCE_URL + SALESFORCE_ACCESS_TOKEN)"
        )
    if "SALESFORCE_CLIENT_SECRET" in has:
        return "client_credentials"
    if {"SALESFORCE_PRIVATE_KEY_FILE", "SALESFORCE_USERNAME"} & has:
        return "jwt"
    raise ConfigError(
        "SALESFORCE_CLIENT_SECRET: required with client-credentials authentication "
        "(or set SALESFORCE_USERNAME + SALESFORCE_PRIVATE_KEY_FILE for JWT bearer)"
    )


_NEEDS = {
    "token": ("SALESFORCE_INSTANCE_URL", "SALESFORCE_ACCESS_TOKEN"),
    "client_credentials": ("SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET"),
    "jwt": ("SALESFORCE_CLIENT_ID", "SALESFORCE_USERNAME", "SALESFORCE_PRIVATE_KEY_FILE"),
}
_MODE_NAMES = {
    "token": "direct-token",
    "client_credentials": "client-credentials",
    "jwt": "JWT bearer",
}


def salesforce_auth(raw: dict[str, str]) -> tuple[str, dict[str, Any]]:
    mode = _detect_mode(raw)
    missing = [n for n in _NEEDS[mode] if not raw.get(n)]
    if missing:
        raise ConfigError(
            [f"{n}: required with {_MODE_NAMES[mode]} authentication" for n in missing]
        )
    if mode == "token":
        return mode, {
            "salesforce_instance_url": url_setting(raw, "SALESFORCE_INSTANCE_URL", None),
            "salesforce_access_token": Secret(raw["SALESFORCE_ACCESS_TOKEN"]),
        }
    if mode == "client_credentials":
        return mode, {
            "salesforce_client_id": raw["SALESFORCE_CLIENT_ID"],
            "salesforce_client_secret": Secret(raw["SALESFORCE_CLIENT_SECRET"]),
        }
    key_file = file_setting(raw, "SALESFORCE_PRIVATE_KEY_FILE")
    assert key_file is not None
    if b"PRIVATE KEY-----" not in key_file.read_bytes()[:100]:
        raise ConfigError(
            f"SALESFORCE_PRIVATE_KEY_FILE: expected a PEM private key, {key_file} is not one"
        )
    return mode, {
        "salesforce_client_id": raw["SALESFORCE_CLIENT_ID"],
        "salesforce_username": raw["SALESFORCE_USERNAME"],
        "salesforce_private_key_file": key_file,
    }

"""The billing-sync settings that point at running stand-ins (demo, tests, benchmark)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["stand_in_environment"]


def stand_in_environment(stripe_standin, sf_standin, db_path: str | Path) -> dict[str, str]:
    """Environment variables for client-credentials auth against the stand-ins."""
    env = {"BILLING_SYNC_DB": str(db_path)}
    if stripe_standin is not None:
        env |= {"STRIPE_API_KEY": stripe_standin.api_key,
                "STRIPE_API_BASE": stripe_standin.base_url}
    if sf_standin is not None:
        env |= {
            "SALESFORCE_LOGIN_URL": sf_standin.login_url,
            "SALESFORCE_CLIENT_ID": sf_standin.client_id,
            "SALESFORCE_CLIENT_SECRET": sf_standin.client_secret,
            "SALESFORCE_CA_BUNDLE": str(sf_standin.ca_file),
        }
    return env

"""Configuration is validated once, names the setting at fault, and never shows a secret."""

from __future__ import annotations

import pytest

from scheduler.settings import ConfigError, Secret, load_settings

BASE = {"STRIPE_API_KEY": "sk_test_fake_settings_key", "SALESFORCE_CLIENT_ID": "3MVG9fake",
        "SALESFORCE_CLIENT_SECRET": "fake-client-secret-123"}


def test_client_credentials_detected_with_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings(BASE)
    assert s.salesforce_auth == "client_credentials"
    assert s.salesforce_login_url == "https://login.salesforce.com"
    assert s.salesforce_api_version == "66.0"
    assert s.stripe_api_base == "https://api.stripe.com"
    assert str(s.db_path) == "billing-sync.db"
    assert not s.slack_enabled
    assert s.stripe_mode == "test"


def test_jwt_mode_needs_a_pem_key(tmp_path):
    key = tmp_path / "key.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\nfake\n-----END PRIVATE KEY-----\n")
    env = {"STRIPE_API_KEY": "rk_live_fake", "SALESFORCE_CLIENT_ID": "id",
           "SALESFORCE_USERNAME": "u@example.com", "SALESFORCE_PRIVATE_KEY_FILE": str(key),
           "BILLING_SYNC_DB": str(tmp_path / "x.db")}
    s = load_settings(env)
    assert (s.salesforce_auth, s.salesforce_private_key_file, s.stripe_mode) == ("jwt", key, "live")
    key.write_text("not a key")
    with pytest.raises(ConfigError, match=r"^SALESFORCE_PRIVATE_KEY_FILE: expected a PEM"):
        load_settings(env)


def test_direct_token_mode(tmp_path):
    env = {"STRIPE_API_KEY": "sk_test_x", "SALESFORCE_INSTANCE_URL": "https://acme.my.salesforce.com/",
           "SALESFORCE_ACCESS_TOKEN": "00Dfake!token", "BILLING_SYNC_DB": str(tmp_path / "x.db")}
    s = load_settings(env)
    assert s.salesforce_auth == "token"
    assert s.salesforce_instance_url == "https://acme.my.salesforce.com"
    assert "00Dfake!token" in s.secrets()


@pytest.mark.parametrize(
    ("change", "setting"),
    [
        ({"STRIPE_API_KEY": ""}, "STRIPE_API_KEY"),
        ({"STRIPE_API_KEY": "pk_test_publishable"}, "STRIPE_API_KEY"),
        ({"STRIPE_API_BASE": "ftp://x"}, "STRIPE_API_BASE"),
        ({"SALESFORCE_API_VERSION": "66"}, "SALESFORCE_API_VERSION"),
        ({"SALESFORCE_API_VERSION": "45.0"}, "SALESFORCE_API_VERSION"),
        ({"SALESFORCE_LOGIN_URL": "http://login.salesforce.com"}, "SALESFORCE_LOGIN_URL"),
        ({"SALESFORCE_CLIENT_SECRET": ""}, "SALESFORCE_CLIENT_SECRET"),
        ({"SALESFORCE_USERNAME": "u@example.com"}, "SALESFORCE_PRIVATE_KEY_FILE"),
        ({"SALESFORCE_CA_BUNDLE": "/nonexistent/ca.pem"}, "SALESFORCE_CA_BUNDLE"),
        ({"SLACK_BOT_TOKEN": "xoxb-fake"}, "SLACK_CHANNEL"),
        ({"SLACK_WEBHOOK_URL": "not a url"}, "SLACK_WEBHOOK_URL"),
        ({"BILLING_SYNC_DB": "/nonexistent/dir/x.db"}, "BILLING_SYNC_DB"),
    ],
)
def test_bad_setting_is_named_in_one_line(change, setting):
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, **change})
    message = str(info.value)
    assert message.startswith(f"{setting}:")
    assert "\n" not in message
    assert "fake-client-secret-123" not in message


def test_toml_file_and_environment_wins(tmp_path):
    cfg = tmp_path / "billing-sync.toml"
    cfg.write_text('stripe_api_key = "sk_test_from_file"\nSALESFORCE_API_VERSION = "64.0"\n'
                   f'BILLING_SYNC_DB = "{tmp_path / "file.db"}"\n')
    env = {k: v for k, v in BASE.items() if k != "STRIPE_API_KEY"}
    s = load_settings({**env, "BILLING_SYNC_CONFIG": str(cfg)})
    assert s.stripe_api_key.reveal() == "sk_test_from_file"
    assert s.salesforce_api_version == "64.0"
    s = load_settings({**env, "BILLING_SYNC_CONFIG": str(cfg), "SALESFORCE_API_VERSION": "66.0",
                       "STRIPE_API_KEY": "sk_test_from_env"})
    assert (s.salesforce_api_version, s.stripe_api_key.reveal()) == ("66.0", "sk_test_from_env")


def test_toml_errors_name_the_file_setting(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("stripe_key = 'x'\n")
    with pytest.raises(ConfigError, match="unknown setting 'stripe_key'"):
        load_settings({**BASE, "BILLING_SYNC_CONFIG": str(cfg)})
    cfg.write_text("= broken")
    with pytest.raises(ConfigError, match=r"^BILLING_SYNC_CONFIG: .* not valid TOML"):
        load_settings({**BASE, "BILLING_SYNC_CONFIG": str(cfg)})
    with pytest.raises(ConfigError, match=r"^BILLING_SYNC_CONFIG: file .* does not exist"):
        load_settings({**BASE, "BILLING_SYNC_CONFIG": str(tmp_path / "none.toml")})


def test_secrets_are_masked_in_repr(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    s = load_settings({**BASE, "SLACK_WEBHOOK_URL": "https://hooks.example.test/T0/B0/fakefake"})
    text = repr(s) + str(s) + f"{s.stripe_api_key}"
    for secret in ("sk_test_fake_settings_key", "fake-client-secret-123", "fakefake"):
        assert secret not in text
    assert Secret("a") == Secret("a") and Secret("a") != Secret("b")

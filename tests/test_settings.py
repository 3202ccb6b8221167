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
    key.write_text("-----BEGIN " + "PRIVATE KEY-----\nfake\n-----END " + "PRIVATE KEY-----\n")
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
        ({"SALESFORCE_AUTH": "jwt", "SALESFORCE_USERNAME": "u@example.com"},
         "SALESFORCE_PRIVATE_KEY_FILE"),
        ({"SALESFORCE_AUTH": "oauth"}, "SALESFORCE_AUTH"),
        ({"SALESFORCE_JWT_AUDIENCE": "login.salesforce.com"}, "SALESFORCE_JWT_AUDIENCE"),
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


def test_a_client_secret_with_a_username_is_client_credentials_unless_told_otherwise(tmp_path):
    env = {**BASE, "SALESFORCE_USERNAME": "u@example.com", "BILLING_SYNC_DB": str(tmp_path / "x")}
    assert load_settings(env).salesforce_auth == "client_credentials"
    with pytest.raises(ConfigError, match="SALESFORCE_PRIVATE_KEY_FILE: required with JWT"):
        load_settings({**env, "SALESFORCE_AUTH": "jwt"})


def test_every_problem_is_reported_at_once_one_line_each():
    with pytest.raises(ConfigError) as info:
        load_settings({"STRIPE_API_KEY": "pk_test_x", "SALESFORCE_API_VERSION": "12",
                       "SLACK_BOT_TOKEN": "xoxb-fake", "BILLING_SYNC_DB": "/nope/x.db"})
    names = [p.split(":", 1)[0] for p in info.value.problems]
    assert names == ["STRIPE_API_KEY", "SALESFORCE_API_VERSION", "SALESFORCE_CLIENT_ID",
                     "SLACK_CHANNEL", "BILLING_SYNC_DB"]
    assert str(info.value).count("\n") == len(names) - 1


def test_a_toml_number_is_taken_as_written(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text("SALESFORCE_API_VERSION = 62.0\n")
    s = load_settings({**BASE, "BILLING_SYNC_CONFIG": str(cfg)})
    assert s.salesforce_api_version == "62.0"


def test_a_malformed_webhook_url_is_never_echoed():
    secret_url = "hooks.slack.com/services/T000/B000/fakesecretpart"
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, "SLACK_WEBHOOK_URL": secret_url})
    assert "fakesecretpart" not in str(info.value)
    assert str(info.value).startswith("SLACK_WEBHOOK_URL:")


def test_unreadable_key_and_non_pem_ca_are_named(tmp_path):
    key = tmp_path / "sf.key"
    key.write_text("-----BEGIN " + "PRIVATE KEY-----\nnot really a key\n")  # a fake, split
    key.chmod(0)
    ca = tmp_path / "ca.pem"
    ca.write_text("this is not a certificate\n")
    env = {"STRIPE_API_KEY": "sk_test_x", "SALESFORCE_CLIENT_ID": "id",
           "SALESFORCE_USERNAME": "u@example.com", "SALESFORCE_PRIVATE_KEY_FILE": str(key),
           "SALESFORCE_CA_BUNDLE": str(ca)}
    with pytest.raises(ConfigError) as info:
        load_settings(env)
    problems = info.value.problems
    assert any(p.startswith("SALESFORCE_CA_BUNDLE:") and "not a PEM bundle" in p
               for p in problems)
    import os

    if os.geteuid() != 0:  # root reads any file
        assert any(p.startswith("SALESFORCE_PRIVATE_KEY_FILE: cannot read") for p in problems)


@pytest.mark.parametrize(("login_url", "audience"), [
    ("https://login.salesforce.com", "https://login.salesforce.com"),
    ("https://acme.my.salesforce.com", "https://login.salesforce.com"),
    ("https://test.salesforce.com", "https://test.salesforce.com"),
    ("https://acme--uat.sandbox.my.salesforce.com", "https://test.salesforce.com"),
])
def test_the_jwt_audience_is_the_login_or_test_host(login_url, audience):
    s = load_settings({**BASE, "SALESFORCE_LOGIN_URL": login_url})
    assert s.salesforce_jwt_audience == audience


def test_secrets_can_come_from_files(tmp_path):
    key = tmp_path / "stripe"
    key.write_text("sk_test_from_a_file\n")
    env = {k: v for k, v in BASE.items() if k != "STRIPE_API_KEY"}
    s = load_settings({**env, "STRIPE_API_KEY_FILE": str(key)})
    assert s.stripe_api_key.reveal() == "sk_test_from_a_file"
    with pytest.raises(ConfigError) as info:
        load_settings({**env, "STRIPE_API_KEY_FILE": str(tmp_path / "missing")})
    assert str(info.value).startswith("STRIPE_API_KEY_FILE: cannot read")

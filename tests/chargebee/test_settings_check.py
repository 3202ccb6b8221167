"""BILLING_PROVIDER and the Chargebee settings; `billing-sync check` reaching the Chargebee
stand-in; the engine refusing to sync Chargebee before Salesforce schema v2."""

from __future__ import annotations

import chargebee
import pytest

from scheduler.cli import main
from scheduler.settings import ConfigError, load_settings

SF = {"SALESFORCE_CLIENT_ID": "id", "SALESFORCE_CLIENT_SECRET": "fake-cli-client-secret"}
CB = {"BILLING_PROVIDER": "chargebee", "CHARGEBEE_SITE": "acme-test",
      "CHARGEBEE_API_KEY": "test_fake_chargebee_key"}  # fmt: skip


def _problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_settings(env)
    return [p.split(":")[0] for p in exc.value.problems]


def test_stripe_is_the_default_and_needs_its_key(tmp_path) -> None:
    assert _problems(SF) == ["STRIPE_API_KEY"]
    s = load_settings({**SF, "STRIPE_API_KEY": "sk_test_x"})
    assert (s.billing_provider, s.chargebee_site, s.chargebee_api_key) == ("stripe", None, None)


def test_chargebee_needs_its_own_settings_and_no_stripe_key(tmp_path) -> None:
    assert _problems({**SF, "BILLING_PROVIDER": "chargebee"}) == [
        "CHARGEBEE_SITE", "CHARGEBEE_API_KEY"]  # fmt: skip
    s = load_settings({**SF, **CB})
    assert (s.billing_provider, s.chargebee_site, s.stripe_api_key) == (
        "chargebee",
        "acme-test",
        None,
    )
    assert "test_fake_chargebee_key" not in repr(s)
    assert "test_fake_chargebee_key" in s.secrets()
    bad = {**SF, **CB, "CHARGEBEE_SITE": "acme.chargebee.com",
           "CHARGEBEE_API_BASE": "http://127.0.0.1:1/v1"}  # fmt: skip
    assert _problems(bad) == ["CHARGEBEE_SITE", "CHARGEBEE_API_BASE"]


def test_the_key_from_a_file(tmp_path) -> None:
    path = tmp_path / "cb"
    path.write_text("test_key_from_a_file\n")
    env = {**SF, **CB, "CHARGEBEE_API_KEY": "", "CHARGEBEE_API_KEY_FILE": str(path)}
    assert load_settings(env).chargebee_api_key.reveal() == "test_key_from_a_file"


@pytest.mark.parametrize(
    ("value", "says"), [("paddle", "expected one of stripe, chargebee, recurly")]
)
def test_other_providers_are_refused(value: str, says: str) -> None:
    with pytest.raises(ConfigError) as exc:
        load_settings({**SF, "BILLING_PROVIDER": value})
    assert exc.value.problems[0].startswith("BILLING_PROVIDER:") and says in str(exc.value)


@pytest.fixture
def world_env(tmp_path, standin, monkeypatch):
    from standins.env import stand_in_environment
    from standins.salesforce import SalesforceStandIn

    # build_chargebee clears this class attribute for a plain-http base: restore it after.
    monkeypatch.setattr(chargebee.Chargebee, "verify_ca_certs", True)
    sf = SalesforceStandIn(tmp_path / "sf")
    sf.start()
    env = stand_in_environment(None, sf, tmp_path / "state.db")
    env |= {
        "BILLING_PROVIDER": "chargebee",
        "CHARGEBEE_SITE": standin.site,
        "CHARGEBEE_API_KEY": standin.api_key,
        "CHARGEBEE_API_BASE": standin.api_base,
    }
    try:
        yield env
    finally:
        sf.stop()


def test_check_reaches_the_chargebee_stand_in(world_env, standin, capsys) -> None:
    standin.reset_counters()
    assert main(["check"], environ=world_env) == 0
    out = capsys.readouterr().out
    assert "chargebee" in out and f"reached site {standin.site}" in out
    assert "Chargebee site" in out and "stripe" not in out.split("slack")[0].lower()
    assert standin.counters == {"GET /api/v2/customers": 1}
    assert standin.api_key not in out


def test_check_names_a_refused_chargebee_key(world_env, capsys) -> None:
    assert main(["check"], environ={**world_env, "CHARGEBEE_API_KEY": "wrong"}) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "Chargebee refused the API key" in out

"""BILLING_PROVIDER=recurly and its settings; `billing-sync check` reaching the Recurly
stand-in with one cheap call; the engine waiting for schema v2."""

from __future__ import annotations

import pytest

from scheduler.cli import main
from scheduler.clients import build_recurly
from scheduler.settings import ConfigError, load_settings

SF = {"SALESFORCE_CLIENT_ID": "id", "SALESFORCE_CLIENT_SECRET": "fake-cli-client-secret"}
RC = {"BILLING_PROVIDER": "recurly", "RECURLY_API_KEY": "fake-recurly-settings-key"}


def _problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        load_settings(env)
    return [p.split(":")[0] for p in exc.value.problems]


def test_recurly_needs_its_key_and_no_stripe_key() -> None:
    assert _problems({**SF, "BILLING_PROVIDER": "recurly"}) == ["RECURLY_API_KEY"]
    s = load_settings({**SF, **RC})
    assert (s.billing_provider, s.recurly_api_base, s.stripe_api_key) == (
        "recurly", "https://v3.recurly.com", None)  # fmt: skip
    assert "fake-recurly-settings-key" not in repr(s)
    assert "fake-recurly-settings-key" in s.secrets()
    assert _problems({**SF, **RC, "RECURLY_API_BASE": "v3.recurly.com"}) == ["RECURLY_API_BASE"]
    eu = load_settings({**SF, **RC, "RECURLY_API_BASE": "https://v3.eu.recurly.com/"})
    assert eu.recurly_api_base == "https://v3.eu.recurly.com"
    http = build_recurly(eu)
    assert http.base_url == "https://v3.eu.recurly.com"
    assert "fake-recurly-settings-key" not in repr(http)


def test_the_key_from_a_file(tmp_path) -> None:
    path = tmp_path / "recurly"
    path.write_text("key-from-a-file\n")
    env = {**SF, "BILLING_PROVIDER": "recurly", "RECURLY_API_KEY_FILE": str(path)}
    assert load_settings(env).recurly_api_key.reveal() == "key-from-a-file"


@pytest.fixture
def world_env(tmp_path, standin):
    from standins.env import stand_in_environment
    from standins.salesforce import SalesforceStandIn

    sf = SalesforceStandIn(tmp_path / "sf")
    sf.start()
    env = stand_in_environment(None, sf, tmp_path / "state.db")
    env |= {"BILLING_PROVIDER": "recurly", "RECURLY_API_KEY": standin.api_key,
            "RECURLY_API_BASE": standin.base_url}  # fmt: skip
    env.pop("STRIPE_API_KEY", None)
    try:
        yield env
    finally:
        sf.stop()


def test_check_reaches_the_recurly_stand_in(world_env, standin, capsys) -> None:
    standin.reset_counters()
    assert main(["check"], environ=world_env) == 0
    out = capsys.readouterr().out
    assert "recurly" in out and "API version v2021-02-25" in out and "Recurly at" in out
    assert "stripe" not in out.split("slack")[0].lower()
    assert standin.counters == {"GET /accounts": 1}
    assert standin.api_key not in out


def test_check_names_a_refused_recurly_key(world_env, standin, capsys) -> None:
    assert main(["check"], environ={**world_env, "RECURLY_API_KEY": "wrong-key-4411"}) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "Recurly refused the API key" in out
    assert "wrong-key-4411" not in out and standin.api_key not in out

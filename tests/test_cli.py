"""The CLI as an admin meets it: help, version, exit codes, one-line config errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scheduler.cli import build_parser, main

SECRET = "sk_test_fake_cli_secret_value"


def run_cli(*args: str, env: dict[str, str] | None = None, cwd=None):
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("STRIPE_", "SALESFORCE_", "SLACK_", "BILLING_SYNC_"))}
    return subprocess.run([sys.executable, "-m", "scheduler.cli", *args],
                          env={**clean, **(env or {})}, capture_output=True, text=True,
                          timeout=60, cwd=cwd)


def test_help_lists_commands_and_every_subcommand_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert "check" in sub.choices
    for name, subparser in sub.choices.items():
        assert subparser.format_help().startswith("usage: billing-sync " + name)


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.startswith("billing-sync ")


def test_check_without_configuration_exits_2_naming_stripe_key(tmp_path):
    result = run_cli("check", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    # every problem at once, one line each, each naming its setting
    assert [line.split(": ")[2] for line in lines] == ["STRIPE_API_KEY", "SALESFORCE_CLIENT_ID"]
    assert "Traceback" not in result.stderr


def test_malformed_api_version_exits_2_and_never_echoes_secrets(tmp_path):
    env = {"STRIPE_API_KEY": SECRET, "SALESFORCE_API_VERSION": "sixty-six",
           "SALESFORCE_CLIENT_ID": "id", "SALESFORCE_CLIENT_SECRET": "fake-cli-client-secret"}
    result = run_cli("check", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "SALESFORCE_API_VERSION" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    for secret in (SECRET, "fake-cli-client-secret"):
        assert secret not in result.stdout + result.stderr


def test_unknown_subcommand_is_a_usage_error(tmp_path):
    result = run_cli("frobnicate", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_check_offline_reports_a_table(tmp_path, capsys):
    env = {"STRIPE_API_KEY": SECRET, "SALESFORCE_CLIENT_ID": "id",
           "SALESFORCE_CLIENT_SECRET": "fake-cli-client-secret",
           "BILLING_SYNC_DB": str(tmp_path / "state.db")}
    assert main(["check", "--offline"], environ=env) == 0
    out = capsys.readouterr().out
    assert "configuration" in out and "database" in out and "client_credentials" in out
    assert SECRET not in out


def test_terminal_progress_draws_a_bar_then_ends_the_line():
    import io

    from scheduler.commands.sync import TerminalProgress

    out = io.StringIO()
    progress = TerminalProgress(out)
    progress("reading Salesforce Accounts")
    progress("writing records 1,000/2,000", 1000, 2000)
    progress("writing records 2,000/2,000", 2000, 2000)
    text = out.getvalue()
    assert text.startswith("… reading Salesforce Accounts\n")
    assert "\r[###############---------------] writing records 1,000/2,000" in text
    assert text.endswith("[##############################] writing records 2,000/2,000\n")


def test_json_logs_redact_secrets_from_any_library(capsys):
    import json
    import logging

    from scheduler.logs import configure_logging
    from sync.redact import Redactor

    # Not shaped like a Stripe key: only the redactor's knowledge of it can mask it.
    configure_logging("json", "INFO", Redactor(["fake-logged-secret-value"]))
    try:
        logging.getLogger("stripe").info("Request with key %s", "fake-logged-secret-value")
        err = capsys.readouterr().err.strip().splitlines()
        entry = json.loads(err[-1])
        assert entry["logger"] == "stripe" and entry["level"] == "info"
        assert entry["message"] == "Request with key ***"
    finally:
        configure_logging("text", "WARNING", Redactor())


def test_printed_output_drops_terminal_escapes():
    import io

    from scheduler.context import Context

    out = io.StringIO()
    Context({}, stdout=out).out("Plan \x1b[2J\x1b]0;pwned\x07Gold\tok\nnext")
    assert out.getvalue() == "Plan [2J]0;pwnedGold\tok\nnext\n"


def test_log_options_after_the_subcommand_in_any_case_and_from_the_environment():
    parser = build_parser()
    args = parser.parse_args(["check", "--log-level", "debug", "--log-format", "JSON"])
    assert (args.log_level, args.log_format) == ("DEBUG", "json")
    args = parser.parse_args(["--log-level", "info", "check"])
    assert args.log_level == "INFO"
    assert main(["check", "--offline"], environ={"BILLING_SYNC_LOG_LEVEL": "loud"}) == 2

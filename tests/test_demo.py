"""`make demo` runs `billing-sync demo`: it must keep working end to end."""

from scheduler.cli import main


def test_demo_runs_end_to_end(tmp_path, capsys):
    assert main(["demo", "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "deploy: Succeeded; 58 components" in out
    third = out.split("== 7.")[1].split("== 8.")[0]
    assert "0 records written" in third
    second = out.split("== 6.")[1].split("== 7.")[0]
    assert "Past Due" in second and "Growth" in second
    assert "UNKNOWN_CUSTOMER" in out and "MALFORMED_ID" in out
    assert (tmp_path / "billing-sync.db").exists()
    daemon = out.split("== 9.")[1]
    assert daemon.count("in Salesforce after") == 3 and "exited 0" in daemon


def test_without_a_workdir_the_demo_leaves_no_private_key_behind(tmp_path, monkeypatch, capsys):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(["demo", "--no-daemon"]) == 0
    assert "Demo finished" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []  # CA, JWT key pair and SQLite file all removed


def _story(out: str) -> dict[str, str]:
    """The demo's output by step: {"6": "...", "9": "..."}."""
    return {part.split(".", 1)[0]: part for part in out.split("\n== ")[1:]}


def _assert_the_story(out: str, provider: str, *, daemon: bool) -> None:
    steps = _story(out)
    assert f"Seed {provider} and link" in steps["2"] and f"In {provider}:" in steps["5"]
    assert "Past Due" in steps["6"] and "Growth" in steps["6"]
    assert "0 records written" in steps["7"] and f"nothing changed in {provider}" in steps["7"]
    assert "UNKNOWN_CUSTOMER" in steps["8"] and "MALFORMED_ID" in steps["8"]
    assert f"{provider} has no customer does-not-exist-0001" in steps["8"]
    if daemon:
        assert steps["9"].count(f"two more seats in {provider}") == 3
        assert steps["9"].count("in Salesforce after") == 3 and "exited 0" in steps["9"]
    else:
        assert "9" not in steps


def test_the_demo_tells_the_same_story_in_chargebee(tmp_path, capsys):
    assert main(["demo", "--provider", "chargebee", "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Chargebee stand-in at http://127.0.0.1:" in out
    _assert_the_story(out, "Chargebee", daemon=True)
    # Only the two bad links are open: no MRR notice against Chargebee's own figure.
    assert "errors: Matching 2; API calls" in _story(out)["7"]


def test_the_demo_tells_the_same_story_in_recurly(tmp_path, capsys):
    assert main(["demo", "--provider", "recurly", "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Recurly stand-in at http://127.0.0.1:" in out
    _assert_the_story(out, "Recurly", daemon=True)
    assert "'has/slash'" in _story(out)["8"]


def test_the_demo_provider_must_be_one_it_knows(capsys):
    import pytest

    with pytest.raises(SystemExit) as exc:
        main(["demo", "--provider", "paddle"])
    assert exc.value.code == 2
    assert "invalid choice: 'paddle'" in capsys.readouterr().err

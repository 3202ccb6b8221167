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

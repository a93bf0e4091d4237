"""The foundation's commands as a user types them: init, maps, run, global options."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tests.helpers import run_executable

MAP = [
    {
        "name": "site",
        "s3": "bkt/site",
        "master": "/srv/site",
        "slave": "/var/www",
        "ignore": ["*.tmp"],
    }
]


@pytest.fixture
def maps_bucket(s3_http, moto_server):
    s3_http.create_bucket(Bucket="bkt")
    s3_http.put_object(Bucket="bkt", Key="maps/site.json", Body=json.dumps(MAP))
    return moto_server


def test_help_lists_commands(cli) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    for name in ("init", "maps", "run"):
        assert f"  {name} " in result.stdout


def test_version(cli) -> None:
    from s32s import __version__

    assert cli("--version").stdout.strip() == f"s32s, version {__version__}"


def test_init_without_terminal_needs_answers(cli, tmp_path: Path) -> None:
    config = tmp_path / "s32s.ini"
    result = cli("--config", str(config), "init", "--mode", "slave")
    assert result.exit_code == 2
    assert "--maps must be given" in result.stderr
    assert not config.exists()


def test_init_checks_maps_over_http(cli, maps_bucket, tmp_path: Path) -> None:
    config = tmp_path / "s32s.ini"
    base = ["--config", str(config), "--endpoint-url", maps_bucket.url]
    bad = cli(*base, "init", "--mode", "slave", "--maps", "bkt/nothing-here")
    assert bad.exit_code == 2 and "No .json map file under s3://bkt/nothing-here" in bad.stderr
    assert not config.exists()
    good = cli(*base, "init", "--mode", "slave", "--maps", "bkt/maps")
    assert good.exit_code == 0, good.output
    assert "maps_s3_path = bkt/maps" in config.read_text()
    again = cli(*base, "init", "--mode", "master", "--maps", "bkt/maps")
    assert again.exit_code == 2 and "already exists" in again.stderr
    assert "ismaster = False" in config.read_text()
    forced = cli(*base, "init", "--mode", "master", "--maps", "bkt/maps", "--force")
    assert forced.exit_code == 0 and "ismaster = True" in config.read_text()


def test_init_interactive_prompts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from s32s.cli import cli as root
    from s32s.cli.app import App

    monkeypatch.setattr(App, "interactive", property(lambda self: True))
    maps_dir = tmp_path / "maps"
    maps_dir.mkdir()
    (maps_dir / "m.json").write_text(json.dumps(MAP))
    config = tmp_path / "s32s.ini"
    answers = f"slave\n{tmp_path / 'missing'}\n{maps_dir}\n"
    result = CliRunner().invoke(root, ["--config", str(config), "init"], input=answers)
    assert result.exit_code == 0, result.output
    assert "does not exist" in result.output  # the bad path was reported and asked again
    assert f"maps_s3_path = {maps_dir}" in config.read_text()


def test_maps_list_show_validate_json(cli, maps_bucket) -> None:
    base = ["--endpoint-url", maps_bucket.url, "--json"]
    listed = cli(*base, "maps", "list", "--mode", "master", "--maps", "s3://bkt/maps")
    assert listed.exit_code == 0, listed.output
    assert listed.json["maps"][0]["s3"] == "s3://bkt/site"
    shown = cli(*base, "maps", "show", "site", "--mode", "slave", "--maps", "bkt/maps")
    assert shown.json["slave"] == "/var/www" and shown.json["ignore"] == ["*.tmp"]
    valid = cli(*base, "maps", "validate", "--mode", "master", "--maps", "bkt/maps")
    assert valid.json == {"valid": True, "maps": 1, "warnings": []}
    missing = cli(*base, "maps", "show", "nope", "--mode", "slave", "--maps", "bkt/maps")
    assert missing.exit_code == 2 and "Known maps: site" in missing.stderr


def test_maps_table(cli, maps_bucket) -> None:
    result = cli(
        "--endpoint-url", maps_bucket.url, "maps", "list", "--mode", "slave", "--maps", "bkt/maps"
    )
    assert result.exit_code == 0
    assert "s3://bkt/site" in result.stdout and "/var/www" in result.stdout


def test_maps_missing_bucket_and_no_config(cli, moto_server, tmp_path: Path) -> None:
    result = cli(
        "--endpoint-url",
        moto_server.url,
        "maps",
        "list",
        "--mode",
        "master",
        "--maps",
        "nobkt/maps",
    )
    assert result.exit_code == 2 and "bucket 'nobkt' does not exist" in result.stderr
    no_ini = cli("--config", str(tmp_path / "none.ini"), "maps", "list")
    assert no_ini.exit_code == 2 and "does not exist" in no_ini.stderr


def test_maps_validate_malformed_json(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[{]")
    result = cli("maps", "validate", "--mode", "master", "--maps", str(bad))
    assert result.exit_code == 2
    assert "line 1, column 3" in result.stderr
    assert "Traceback" not in result.output


def test_run_custom_commands(cli, tmp_path: Path) -> None:
    config = tmp_path / "s32s.ini"
    marker = tmp_path / "it ran"
    script = "import sys, pathlib; pathlib.Path(sys.argv[1]).write_text('x'); sys.exit(7)"
    config.write_text(
        "[MAIN]\nismaster = True\n[CUSTOMCOMMAND]\n"
        f'touch = "{sys.executable}" -c "{script}" "{marker}"\n'
        "pipe = echo a | cat\n"
    )
    listed = cli("--config", str(config), "--json", "run", "--list")
    assert set(listed.json) == {"touch", "pipe"}
    ran = cli("--config", str(config), "run", "touch")
    assert ran.exit_code == 7 and marker.exists()
    unknown = cli("--config", str(config), "run", "nope")
    assert unknown.exit_code == 2 and "Known commands: pipe, touch" in unknown.stderr


def test_run_uses_no_shell(tmp_path: Path) -> None:
    config = tmp_path / "s32s.ini"
    config.write_text(
        f'[CUSTOMCOMMAND]\nshow = "{sys.executable}" -c "import sys; print(sys.argv[1:])" a | b\n'
    )
    result = run_executable(["--config", str(config), "run", "show"])
    assert result.exit_code == 0
    assert "['a', '|', 'b']" in result.stdout  # the pipe is an argument, not a shell pipe


def test_installed_executable_reports_errors_without_traceback(tmp_path: Path) -> None:
    result = run_executable(["--config", str(tmp_path / "x.ini"), "maps", "list"])
    assert result.exit_code == 2
    assert "Error:" in result.stderr and "Traceback" not in result.stderr


def test_unreachable_endpoint_is_one_sentence(cli) -> None:
    result = cli(
        "--endpoint-url",
        "http://127.0.0.1:9",
        "maps",
        "list",
        "--mode",
        "master",
        "--maps",
        "bkt/maps",
    )
    assert result.exit_code == 2
    assert "Cannot reach http://127.0.0.1:9." in result.stderr and "Traceback" not in result.stderr

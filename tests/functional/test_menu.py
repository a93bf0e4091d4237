"""The interactive menu and the first-run wizard, through a pseudo-terminal and with piped input.

Every test talks to a moto server over HTTP. Piped tests run the CLI in-process
(CliRunner feeds stdin); custom commands run as a subprocess so their output is
captured; terminal tests spawn the installed `s32s` under pexpect.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_executable, s32s_executable

BUCKET = "menu-bkt"
TIMEOUT = 30  # seconds per pexpect expectation, for a loaded machine

COMMENTED_INI = """\
[MAIN]
; my own note about this machine
ismaster = True
; keep this comment
skip_delete_alert = False
time_sleep_after_rm = 0
[MASTER]
maps_s3_path = {maps}
[SLAVE]
maps_s3_path = {maps}
{extra}"""


@dataclass
class Site:
    url: str
    master: Path
    slave: Path
    ini: Path
    s3: Any

    def args(self) -> list[str]:
        return ["--config", str(self.ini), "--endpoint-url", self.url]

    def write_ini(self, maps: str = f"{BUCKET}/maps", extra: str = "") -> None:
        self.ini.write_text(COMMENTED_INI.format(maps=maps, extra=extra))

    def keys(self, prefix: str) -> set[str]:
        listing = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
        return {item["Key"] for item in listing.get("Contents", [])}


@pytest.fixture
def site(moto_server: Any, s3_http: Any, tmp_path: Path) -> Site:
    """A bucket with two maps (docs, site) at maps/ and one (extra) at other/; no ini yet."""
    s3_http.create_bucket(Bucket=BUCKET)
    master, slave = tmp_path / "master", tmp_path / "slave"
    (master / "sub").mkdir(parents=True)
    (master / "index.html").write_text("<h1>hi</h1>")
    (master / "sub" / "deep.txt").write_text("deep")

    def entry(name: str, folder: str) -> dict[str, str]:
        return {
            "name": name,
            "s3": f"{BUCKET}/{folder}",
            "master": str(master),
            "slave": str(slave / folder),
        }

    maps = [entry("site", "site"), entry("docs", "docs")]
    s3_http.put_object(Bucket=BUCKET, Key="maps/maps.json", Body=json.dumps(maps))
    s3_http.put_object(
        Bucket=BUCKET, Key="other/maps.json", Body=json.dumps([entry("extra", "extra")])
    )
    return Site(moto_server.url, master, slave, tmp_path / "s32s.ini", s3_http)


# choices ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2", ("run", 2)),
        (" ALL ", ("all", None)),
        ("d  3", ("details", 3)),
        ("exit", ("quit", None)),
        ("t", ("settings", None)),
    ],
)
def test_parse_choice(text: str, expected: tuple[str, int | None]) -> None:
    from s32s.menu import parse_choice

    choice = parse_choice(text, map_count=3)
    assert choice is not None and (choice.action.value, choice.number) == expected


@pytest.mark.parametrize("text", ["4", "-1", "d x", "a 1", "push", "1 2"])
def test_parse_choice_refuses(text: str) -> None:
    from s32s.menu import MenuInputError, parse_choice

    with pytest.raises(MenuInputError):
        parse_choice(text, map_count=3)


def test_parse_choice_blank_and_no_maps() -> None:
    from s32s.menu import MenuInputError, parse_choice

    assert parse_choice("   ", map_count=3) is None
    with pytest.raises(MenuInputError, match="No maps are loaded"):
        parse_choice("a", map_count=0)


# piped input ------------------------------------------------------------------


def test_piped_first_run_wizard_retries_a_bad_maps_path(cli, site: Site) -> None:
    answers = "master\nno-such-bucket/maps\nmenu-bkt/maps\nq\n"
    result = cli(*site.args(), "menu", input=answers)
    assert result.exit_code == 0, result.output
    assert "no config file" in result.stdout
    assert "no-such-bucket" in result.stderr and "does not exist" in result.stderr
    assert "Try again" in result.stderr
    assert "Found 2 map(s)." in result.stderr
    text = site.ini.read_text()
    assert "ismaster = True" in text and "maps_s3_path = menu-bkt/maps" in text
    menu = result.stdout.split("s32s menu", 1)[1]
    assert menu.index("docs") < menu.index("site")  # by number, in name order
    assert "Bye." in result.stdout


def test_piped_runs_one_map_to_s3_over_http(cli, site: Site) -> None:
    site.write_ini()
    result = cli(*site.args(), "menu", input="2\nq\n")  # 2 = site (docs is 1)
    assert result.exit_code == 0, result.output
    assert site.keys("site/") == {"site/index.html", "site/sub/deep.txt"}
    assert site.keys("docs/") == set()
    assert "Pushing site" in result.stdout and "Summary" in result.stdout
    assert "Done." in result.stdout


def test_piped_all_maps_then_delete_refused_until_skip_delete_alert(cli, site: Site) -> None:
    site.write_ini()
    first = cli(*site.args(), "menu", input="a\nq\n")
    assert first.exit_code == 0, first.output
    assert site.keys("docs/") and site.keys("site/")
    (site.master / "index.html").unlink()
    refused = cli(*site.args(), "menu", input="2\nq\n")
    assert "no terminal to confirm" in refused.stderr
    assert "Refused by a safeguard (exit code 3)" in refused.stdout
    assert "site/index.html" in site.keys("site/")
    allowed = cli(*site.args(), "menu", input="t\n2\n\n2\nq\n")
    assert allowed.exit_code == 0, allowed.output
    assert "site/index.html" not in site.keys("site/")
    assert "Done." in allowed.stdout


def test_piped_switch_mode_is_saved_with_comments_kept(cli, site: Site) -> None:
    site.write_ini()
    result = cli(*site.args(), "menu", input="s\nq\n")
    assert result.exit_code == 0, result.output
    assert "Switched to slave mode" in result.stdout
    assert "slave mode (pulls from S3)" in result.stdout
    text = site.ini.read_text()
    assert "ismaster = False" in text
    assert "; my own note about this machine" in text and "; keep this comment" in text


def test_piped_toggle_settings_saved_with_comments_kept(cli, site: Site) -> None:
    site.write_ini()
    result = cli(*site.args(), "menu", input="t\n2\n7\n3\n\nq\n")
    assert result.exit_code == 0, result.output
    assert "Saved skip_delete_alert = True" in result.stdout
    assert "There is no setting '7'" in result.stdout
    text = site.ini.read_text()
    assert "skip_delete_alert = True" in text
    assert "skip_tranfer_detail = True" in text  # added to [MAIN], S32S's spelling
    assert "skip_order_maps" not in text  # untouched keys are not written
    assert "; keep this comment" in text
    from s32s.maps.ini import load_config

    config = load_config(site.ini)
    assert config.skip_delete_alert and config.skip_transfer_detail and config.is_master


def test_piped_open_another_maps_path(cli, site: Site) -> None:
    site.write_ini()
    answers = "o\nmenu-bkt/nothing-here\nmenu-bkt/other\n1\nq\n"
    result = cli(*site.args(), "menu", input=answers)
    assert result.exit_code == 0, result.output
    assert "Try again, or leave it blank to cancel." in result.stderr
    assert "Saved [MASTER] maps_s3_path = menu-bkt/other" in result.stdout
    assert "extra" in result.stdout.rsplit("s32s menu", 1)[1]
    assert site.keys("extra/")  # map 1 is now extra, pushed
    text = site.ini.read_text()
    assert "[MASTER]\nmaps_s3_path = menu-bkt/other\n" in text
    assert "[SLAVE]\nmaps_s3_path = menu-bkt/maps\n" in text


def test_piped_open_cancelled_with_a_blank_line(cli, site: Site) -> None:
    site.write_ini()
    before = site.ini.read_text()
    result = cli(*site.args(), "menu", input="o\n\nq\n")
    assert result.exit_code == 0, result.output
    assert "Cancelled: the maps path is unchanged." in result.stdout
    assert site.ini.read_text() == before


def test_piped_details_and_bad_input_are_answered(cli, site: Site) -> None:
    site.write_ini()
    result = cli(*site.args(), "menu", input="d 2\nx\n9\nd\nd 0\nq 1\n\nq\n")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Map 2: site" in out and f"s3://{BUCKET}/site" in out
    assert "master folder exists" in out
    assert "Unknown choice 'x'" in out
    assert "There is no map 9: choose a number from 1 to 2." in out
    assert "Type d and a map number" in out
    assert "There is no map 0" in out
    assert "'q' takes no argument" in out
    assert site.keys("") == {"maps/maps.json", "other/maps.json"}  # nothing ran


def test_piped_end_of_input_exits_cleanly(cli, site: Site) -> None:
    site.write_ini()
    result = cli(*site.args(), "menu", input="1")  # no newline, then EOF at the next prompt
    assert result.exit_code == 0, result.output
    assert "End of input" in result.stdout
    assert site.keys("docs/")  # the answer before EOF still ran


def test_piped_wizard_end_of_input_writes_nothing(cli, site: Site) -> None:
    result = cli(*site.args(), "menu", input="slave\n")
    assert result.exit_code == 0, result.output
    assert not site.ini.exists()


def test_menu_refuses_json(cli, site: Site) -> None:
    site.write_ini()
    result = cli(*site.args(), "--json", "menu", input="q\n")
    assert result.exit_code == 2
    assert "no JSON output" in result.stderr


def test_unloadable_maps_are_shown_and_the_menu_goes_on(cli, site: Site) -> None:
    site.write_ini(maps="menu-bkt/gone")
    result = cli(*site.args(), "menu", input="1\na\nq\n")
    assert result.exit_code == 0, result.output
    assert "Maps not loaded:" in result.stdout
    assert result.stdout.count("No maps are loaded") == 2


def test_piped_custom_commands_listed_and_run(site: Site) -> None:
    command = f'{sys.executable} -c "print(42 * 2)"'
    site.write_ini(
        extra=f'[CUSTOMCOMMAND]\nanswer = {command}\nfail = {sys.executable} -c "raise SystemExit(4)"\n'
    )
    result = run_executable([*site.args(), "menu"], input="c\nnope\nanswer\nc\n2\nq\n", timeout=60)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Custom commands" in out and "print(42 * 2)" in out
    assert "There is no custom command 'nope'" in out
    assert "Running answer:" in out
    assert "\n84\n" in out
    assert "answer exited with code 0." in out
    assert "fail exited with code 4." in out


# a real terminal ----------------------------------------------------------------


def spawn(site: Site, *args: str) -> Any:
    pexpect = pytest.importorskip("pexpect")
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": site.url,
        "S32S_CONFIG": str(site.ini),
        "TERM": "dumb",
        "NO_COLOR": "1",
    }
    return pexpect.spawn(
        s32s_executable(),
        list(args),
        env=env,
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(50, 200),
    )


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_terminal_first_run_push_and_switch(site: Site) -> None:
    child = spawn(site)  # `s32s` alone on a terminal opens the menu
    child.expect("no config file")
    child.expect(r"\[master/slave\]")
    child.sendline("master")
    child.expect("Maps path")
    child.sendline("no-such-bucket/maps")
    child.expect("does not exist")
    child.expect("Maps path")
    child.sendline(f"{BUCKET}/maps")
    child.expect("Found 2 map")
    child.expect("Choice: ")
    child.sendline("zz")
    child.expect("Unknown choice 'zz'")
    child.expect("Choice: ")
    child.sendline("2")
    child.expect("Summary")
    child.expect("Done.")
    child.expect("Choice: ")
    child.sendline("s")
    child.expect("Switched to slave mode")
    child.expect("Choice: ")
    child.sendline("q")
    child.expect("Bye.")
    child.expect(pytest.importorskip("pexpect").EOF)
    child.close()
    assert child.exitstatus == 0
    assert site.keys("site/") == {"site/index.html", "site/sub/deep.txt"}
    text = site.ini.read_text()
    assert "ismaster = False" in text and f"maps_s3_path = {BUCKET}/maps" in text


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_terminal_delete_is_previewed_and_confirmed_then_ctrl_c(site: Site) -> None:
    site.write_ini()
    child = spawn(site, "menu")
    child.expect("Choice: ")
    child.sendline("2")
    child.expect("Done.")
    (site.master / "sub" / "deep.txt").unlink()
    child.expect("Choice: ")
    child.sendline("2")
    child.expect("would be deleted")
    child.expect("sub/deep.txt")
    child.expect(r"Delete them\?")
    child.sendline("y")
    child.expect("Done.")
    child.expect("Choice: ")
    child.sendintr()
    child.expect("Interrupted.")
    child.expect(pytest.importorskip("pexpect").EOF)
    child.close()
    assert child.exitstatus == 130
    assert site.keys("site/") == {"site/index.html", "site/sub/"}  # the empty folder stays

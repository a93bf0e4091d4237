from __future__ import annotations

from pathlib import Path

import pytest

from s32s.errors import ConfigError
from s32s.maps.ini import (
    Config,
    load_config,
    render_config,
    resolve_config_path,
    save_config,
    set_value,
)

S32S_INI = """[MAIN]
ismaster = True
; comment kept
skip_order_maps = False
skip_delete_alert = False
skip_tranfer_detail = False
time_sleep_after_rm = 3
[MASTER]
maps_s3_path = bucketname/spam/site
[SLAVE]
maps_s3_path = bucketname/spam/site_data
[CUSTOMCOMMAND]
http_restart = sudo service httpd restart
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s32s.ini"
    path.write_text(text)
    return path


def test_loads_s32s_ini(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, S32S_INI))
    assert config.is_master and config.mode == "master"
    assert (
        not config.skip_order_maps
        and not config.skip_delete_alert
        and not config.skip_transfer_detail
    )
    assert config.time_sleep_after_rm == 3
    assert config.master_maps == "bucketname/spam/site"
    assert config.slave_maps == "bucketname/spam/site_data"
    assert config.custom_commands == {"http_restart": "sudo service httpd restart"}
    assert config.warnings == ()


def test_s32s_16_spellings_are_inverted(tmp_path: Path) -> None:
    text = "[MAIN]\nismaster = no\norder_maps = False\nshow_delete_alert = False\nshow_transfer_detail = True\n"
    config = load_config(write(tmp_path, text))
    assert config.mode == "slave"
    assert config.skip_order_maps is True
    assert config.skip_delete_alert is True
    assert config.skip_transfer_detail is False


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[MAIN]\nismaster = maybe\n", "[MAIN] ismaster = 'maybe' is not a boolean"),
        ("[MAIN]\ntime_sleep_after_rm = soon\n", "time_sleep_after_rm = 'soon'"),
        ("[MAIN]\ntime_sleep_after_rm = -1\n", "time_sleep_after_rm = '-1'"),
        ("ismaster = True\n", "not a valid ini file"),
        ("[MAIN]\nismaster = True\n[MAIN]\n", "not a valid ini file"),
        ("[CUSTOMCOMMAND]\nempty =\n", "[CUSTOMCOMMAND] empty is empty"),
    ],
)
def test_invalid_values_name_file_section_key(tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in info.value.message
    assert fragment in info.value.message
    assert path.read_text() == text  # never rewritten


def test_boolean_error_lists_accepted_values(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, "[MAIN]\nskip_delete_alert = 2\n"))
    assert "True or False" in (info.value.hint or "")


def test_missing_and_unreadable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.ini")
    binary = tmp_path / "bin.ini"
    binary.write_bytes(b"\xff\xfe\x00garbage\x80")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(binary)


def test_unknown_keys_warn(tmp_path: Path) -> None:
    config = load_config(
        write(tmp_path, "[MAIN]\nismaster = True\ncolour = blue\n[EXTRA]\na = 1\n")
    )
    assert any("colour" in w for w in config.warnings)
    assert any("[EXTRA]" in w for w in config.warnings)


def test_save_round_trip(tmp_path: Path) -> None:
    config = Config(
        is_master=False, skip_order_maps=True, slave_maps="b/maps", custom_commands={"x": "echo 1"}
    )
    path = tmp_path / "out" / "s32s.ini"
    save_config(config, path)
    loaded = load_config(path)
    assert (loaded.is_master, loaded.skip_order_maps, loaded.slave_maps) == (False, True, "b/maps")
    assert loaded.custom_commands == {"x": "echo 1"}
    assert "skip_tranfer_detail" in render_config(config)


def test_set_value_keeps_comments(tmp_path: Path) -> None:
    path = write(tmp_path, S32S_INI)
    config = set_value(path, "MAIN", "skip_delete_alert", True)
    assert config.skip_delete_alert is True
    text = path.read_text()
    assert "; comment kept" in text and "http_restart = sudo service httpd restart" in text
    config = set_value(path, "SLAVE", "maps_s3_path", "other/maps")
    assert config.slave_maps == "other/maps" and config.master_maps == "bucketname/spam/site"


def test_set_value_updates_inverted_spelling(tmp_path: Path) -> None:
    path = write(tmp_path, "[MAIN]\nismaster = True\nshow_delete_alert = True\n")
    assert set_value(path, "MAIN", "skip_delete_alert", True).skip_delete_alert is True
    assert "show_delete_alert = False" in path.read_text()


def test_resolve_config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_config_path(None) == tmp_path / "s32s.ini"
    monkeypatch.setenv("S32S_CONFIG", "/etc/s32s.ini")
    assert resolve_config_path(None) == Path("/etc/s32s.ini")
    assert resolve_config_path("/x.ini") == Path("/x.ini")

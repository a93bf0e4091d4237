"""The Snowball folder: manifest discovery, sbe_config.yaml, keys.yaml."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from s32s.errors import ConfigError
from s32s.snowball.folder import DeviceKeys, load_folder, read_keys, write_keys
from tests.snowball_fake import ENDPOINT, UNLOCK_CODE, make_folder


def test_load_folder_reads_manifest_code_and_endpoint(tmp_path: Path) -> None:
    folder = load_folder(make_folder(tmp_path))
    assert folder.manifest.name == "JID2EXAMPLE-manifest.bin"
    assert folder.unlock_code == UNLOCK_CODE
    assert folder.endpoint_url == ENDPOINT
    assert folder.name == "sbe-1"
    assert UNLOCK_CODE not in repr(folder)


def test_bare_address_gets_https(tmp_path: Path) -> None:
    folder = load_folder(make_folder(tmp_path, endpoint="192.0.2.7/"))
    assert folder.endpoint_url == "https://192.0.2.7"


def test_no_manifest(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"No \*manifest.bin file in .*sbe-1"):
        load_folder(make_folder(tmp_path, manifests=()))


def test_several_manifests(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, manifests=("a-manifest.bin", "b-manifest.bin"))
    with pytest.raises(ConfigError, match=r"several manifests \(a-manifest.bin, b-manifest.bin\)"):
        load_folder(folder)


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist or is not a folder"):
        load_folder(tmp_path / "nope")


def test_missing_config_file(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    (folder / "sbe_config.yaml").unlink()
    with pytest.raises(ConfigError, match=r"sbe_config.yaml does not exist") as info:
        load_folder(folder)
    assert "unlock_key" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("code", "endpoint", "missing"),
    [(None, ENDPOINT, "unlock_key"), (UNLOCK_CODE, None, "endpoint_url")],
)
def test_missing_key_is_named(
    tmp_path: Path, code: str | None, endpoint: str | None, missing: str
) -> None:
    with pytest.raises(ConfigError, match=rf"sbe_config.yaml has no `{missing}`"):
        load_folder(make_folder(tmp_path, unlock_code=code, endpoint=endpoint))


def test_invalid_yaml_does_not_quote_the_file(tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    (folder / "sbe_config.yaml").write_text(f"unlock_key: [{UNLOCK_CODE}\nendpoint_url: x\n")
    with pytest.raises(ConfigError, match="is not valid YAML") as info:
        load_folder(folder)
    assert UNLOCK_CODE not in str(info.value)


def test_keys_round_trip_with_private_mode(tmp_path: Path) -> None:
    path = write_keys(tmp_path, DeviceKeys("AKID", "s3cr3t/+"))
    assert path.read_text() == "aws_access_key_id: AKID\naws_secret_access_key: s3cr3t/+\n"
    assert read_keys(tmp_path) == DeviceKeys("AKID", "s3cr3t/+")
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_read_keys_without_unlock(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"keys\.yaml does not exist") as info:
        read_keys(tmp_path)
    assert "s32s snowball unlock" in (info.value.hint or "")

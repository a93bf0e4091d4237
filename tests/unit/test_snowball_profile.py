"""Writing the device's profile into the AWS shared files without touching the rest."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from s32s.errors import ConfigError
from s32s.snowball.folder import DeviceKeys
from s32s.snowball.profile import aws_files, write_profile

KEYS = DeviceKeys("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def test_profile_written_to_both_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    credentials, config = tmp_path / "creds", tmp_path / "conf"
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    assert aws_files() == (credentials, config)
    credentials.write_text("[work]\naws_access_key_id = W\naws_secret_access_key = WS\n")
    config.write_text("[default]\nregion = eu-west-3\n[profile work]\nregion = us-east-1\n")
    result = write_profile("sbe-1", KEYS, endpoint_url="https://192.0.2.10:8443")
    assert result.credentials_file == credentials
    assert credentials.read_text() == (
        "[work]\naws_access_key_id = W\naws_secret_access_key = WS\n\n"
        f"[sbe-1]\naws_access_key_id = {KEYS.access_key_id}\n"
        f"aws_secret_access_key = {KEYS.secret_access_key}\n"
    )
    assert config.read_text() == (
        "[default]\nregion = eu-west-3\n[profile work]\nregion = us-east-1\n\n"
        "[profile sbe-1]\nregion = snow\noutput = json\nendpoint_url = https://192.0.2.10:8443\n"
    )
    if os.name == "posix":
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        assert stat.S_IMODE(config.stat().st_mode) == 0o600
    # Writing again changes nothing.
    before = (credentials.read_text(), config.read_text())
    write_profile("sbe-1", KEYS, endpoint_url="https://192.0.2.10:8443")
    assert (credentials.read_text(), config.read_text()) == before


def test_default_profile_has_no_prefix_in_config(tmp_path: Path) -> None:
    config = tmp_path / "conf"
    write_profile("default", KEYS, credentials_file=tmp_path / "creds", config_file=config)
    assert config.read_text().startswith("[default]\nregion = snow\n")


@pytest.mark.parametrize("name", ["has space", "br]acket", ""])
def test_bad_profile_names(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="cannot be an AWS profile name"):
        write_profile(name, KEYS, credentials_file=tmp_path / "c", config_file=tmp_path / "f")
    assert not (tmp_path / "c").exists()


def test_boto3_reads_the_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    # AWS_DEFAULT_REGION would override the profile's region, as it does for any profile.
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    write_profile("sbe-1", KEYS, endpoint_url="https://192.0.2.10:8443")
    session = boto3.Session(profile_name="sbe-1")
    credentials = session.get_credentials()
    assert session.region_name == "snow"
    assert credentials.access_key == KEYS.access_key_id  # not the AWS_* variables of the test
    assert credentials.secret_key == KEYS.secret_access_key
    assert session.client("s3").meta.endpoint_url == "https://192.0.2.10:8443"

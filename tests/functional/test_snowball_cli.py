"""`s32s snowball ...` as a user types it, against the fake snowballEdge client."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.helpers import run_executable
from tests.snowball_fake import (
    ACCESS_KEY,
    DEVICE_ID,
    SECRET_KEY,
    UNLOCK_CODE,
    FakeSnowball,
    activate_fake,
    make_folder,
)

FAST = ("--poll-interval", "0.01")


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSnowball:
    return activate_fake(tmp_path, monkeypatch)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "jobs")


def _no_secrets(text: str) -> None:
    assert UNLOCK_CODE not in text
    assert SECRET_KEY not in text


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_setup_then_sync_with_the_profile(
    cli,
    fake: FakeSnowball,
    folder: Path,
    moto_server,
    s3_http,
    isolated_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")  # would override the profile's region
    result = cli("snowball", "setup", str(folder), *FAST)
    assert result.exit_code == 0, result.output
    for line in ("Step 1/3: unlock", "Device state: UNLOCKING", "Device state: UNLOCKED"):
        assert line in result.stderr
    assert "--profile sbe-1 --endpoint-url https://192.0.2.10:8443 sync" in result.stderr
    _no_secrets(result.output)
    assert fake.commands()[-2:] == ["configure", "describe-device"]
    configure_call = fake.calls()[-2]
    assert UNLOCK_CODE not in configure_call  # answered on stdin, not in the arguments
    keys = folder / "keys.yaml"
    credentials = isolated_env / ".aws" / "credentials"
    assert SECRET_KEY in keys.read_text() and SECRET_KEY in credentials.read_text()
    if os.name == "posix":
        assert _mode(keys) == _mode(credentials) == _mode(isolated_env / ".aws" / "config") == 0o600

    # The profile works with boto3: its keys sign the requests, its region is snow.
    import boto3

    session = boto3.Session(profile_name="sbe-1")
    s3 = session.client("s3", endpoint_url=moto_server.url)
    signatures: list[str] = []
    s3.meta.events.register(
        "before-send.s3",
        lambda request, **_: signatures.append(request.headers["Authorization"].decode()),
    )
    s3_http.create_bucket(Bucket="bucket")
    s3.put_object(Bucket="bucket", Key="hello.txt", Body=b"hi")
    assert s3.get_object(Bucket="bucket", Key="hello.txt")["Body"].read() == b"hi"
    assert signatures
    assert all(f"Credential={ACCESS_KEY}/" in s and "/snow/s3/" in s for s in signatures)

    # ... and with s32s itself, as the docs show it.
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    (data / "a.txt").write_text("a")
    (data / "sub" / "b.txt").write_text("b")
    synced = cli(
        "--profile",
        "sbe-1",
        "--endpoint-url",
        moto_server.url,
        "sync",
        str(data),
        "s3://bucket/data",
    )
    assert synced.exit_code == 0, synced.output
    listed = s3_http.list_objects_v2(Bucket="bucket", Prefix="data/")
    assert sorted(o["Key"] for o in listed["Contents"]) == ["data/a.txt", "data/sub/b.txt"]


def test_unlock_json_reports_without_secrets(cli, fake: FakeSnowball, folder: Path) -> None:
    result = cli("--json", "snowball", "unlock", str(folder), *FAST)
    assert result.exit_code == 0, result.output
    assert result.json["state"] == "UNLOCKED"
    assert result.json["device_id"] == DEVICE_ID
    assert result.json["access_key_id"] == ACCESS_KEY
    assert result.json["polls"] == 3
    assert "Device state" not in result.stderr  # --json: nothing but the document
    _no_secrets(result.output)


@pytest.mark.parametrize("verbosity", [[], ["-vv"]])
def test_refused_unlock_masks_the_code(
    cli, fake: FakeSnowball, folder: Path, verbosity: list[str]
) -> None:
    fake.set(unlock_code="00000-11111-22222-33333-44444")  # the device expects another code
    result = cli(*verbosity, "snowball", "unlock", str(folder), *FAST)
    assert result.exit_code == 2
    assert "Error: `snowballEdge describe-device` failed (exit 1)" in result.stderr
    assert "the unlock code **** does not match" in result.stderr
    assert "belong to this device's job" in result.stderr
    _no_secrets(result.output)
    assert not (folder / "keys.yaml").exists()


def test_device_that_never_unlocks(cli, fake: FakeSnowball, folder: Path) -> None:
    fake.set(scenario="never")
    result = cli("snowball", "unlock", str(folder), "--timeout", "0.2", "--poll-interval", "0.05")
    assert result.exit_code == 2
    assert "is still UNLOCKING after 0.2 s" in result.stderr
    assert "Device state: UNLOCKING" in result.stderr
    assert not (folder / "keys.yaml").exists()


def test_missing_client(cli, folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("S32S_SNOWBALL_CLIENT", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    result = cli("snowball", "status", str(folder))
    assert result.exit_code == 2
    assert "Error: The `snowballEdge` client was not found on PATH." in result.stderr
    assert "--client PATH" in result.stderr


def test_client_option_wins_over_the_environment(
    cli, fake: FakeSnowball, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S32S_SNOWBALL_CLIENT", "/nowhere/snowballEdge")
    result = cli("--json", "snowball", "status", str(folder), "--client", str(fake.executable))
    assert result.exit_code == 0, result.output
    assert result.json["state"] == "LOCKED"


def test_status_table(cli, fake: FakeSnowball, folder: Path) -> None:
    result = cli("snowball", "status", str(folder))
    assert result.exit_code == 0, result.output
    for text in (DEVICE_ID, "LOCKED", "192.0.2.10", "RJ45", "s.ni-EXAMPLEd9ecbf03e3"):
        assert text in result.stdout


def test_setup_stops_at_the_failing_step(
    cli, fake: FakeSnowball, folder: Path, isolated_env: Path
) -> None:
    fake.set(scenario="reject")
    result = cli("snowball", "setup", str(folder), *FAST)
    assert result.exit_code == 2
    assert "Setup step 1/3 (unlock) failed:" in result.stderr
    assert "Not run: profile, configure." in result.stderr
    assert not (isolated_env / ".aws" / "credentials").exists()
    assert "configure" not in fake.commands()

    fake.set(scenario="ok", state="UNLOCKED", configure_error="Invalid manifest path.")
    result = cli("snowball", "setup", str(folder), *FAST)
    assert result.exit_code == 2
    assert "Setup step 3/3 (configure) failed:" in result.stderr
    assert "Invalid manifest path." in result.stderr
    assert (isolated_env / ".aws" / "credentials").exists()


def test_missing_unlock_key(cli, fake: FakeSnowball, tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "jobs", unlock_code=None)
    result = cli("snowball", "unlock", str(folder))
    assert result.exit_code == 2
    assert "sbe_config.yaml has no `unlock_key`." in result.stderr
    assert fake.calls() == []


def test_profile_before_unlock(cli, folder: Path) -> None:
    result = cli("snowball", "profile", str(folder))
    assert result.exit_code == 2
    assert "keys.yaml does not exist" in result.stderr
    assert f"s32s snowball unlock {folder}" in result.stderr.replace("\n", " ")


def test_profile_name_and_endpoint(
    cli, fake: FakeSnowball, folder: Path, isolated_env: Path
) -> None:
    assert cli("-q", "snowball", "unlock", str(folder), *FAST).exit_code == 0
    result = cli(
        "--json",
        "snowball",
        "profile",
        str(folder),
        "--name",
        "edge",
        "--endpoint-url",
        "https://192.0.2.10:8443",
    )
    assert result.exit_code == 0, result.output
    assert result.json["profile"] == "edge"
    config = (isolated_env / ".aws" / "config").read_text()
    assert (
        "[profile edge]\nregion = snow\noutput = json\nendpoint_url = https://192.0.2.10:8443\n"
        in config
    )


def test_configure_with_a_client_profile(cli, fake: FakeSnowball, folder: Path) -> None:
    result = cli("snowball", "configure", str(folder), "--configure-profile", "sbe")
    assert result.exit_code == 0, result.output
    assert fake.calls() == [
        ["configure", "--profile", "sbe"],
        ["describe-device", "--profile", "sbe"],
    ]
    status = cli("--json", "snowball", "status", str(folder), "--client-profile", "sbe")
    assert status.exit_code == 0 and status.json["device_id"] == DEVICE_ID
    assert all(UNLOCK_CODE not in argv for argv in fake.calls())


def test_installed_executable_runs_setup_without_a_terminal(
    fake: FakeSnowball, folder: Path
) -> None:
    result = run_executable(["snowball", "setup", str(folder), *FAST], timeout=60)
    assert result.exit_code == 0, result.output
    assert "Snowball set-up complete." in result.stderr
    _no_secrets(result.output)

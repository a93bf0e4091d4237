"""Unlock polling, key retrieval, status and client configuration against the fake client."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from s32s.errors import ExternalToolError
from s32s.polling import FakeClock
from s32s.snowball.client import ClientAuth, SnowballClient
from s32s.snowball.device import (
    configure_client,
    default_auth,
    device_status,
    unlock_device,
    wait_until_unlocked,
)
from s32s.snowball.folder import SnowballFolder, load_folder, read_keys
from tests.snowball_fake import (
    ACCESS_KEY,
    DEVICE_ID,
    SECRET_KEY,
    UNLOCK_CODE,
    FakeSnowball,
    activate_fake,
    make_folder,
)


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeSnowball:
    return activate_fake(tmp_path, monkeypatch)


@pytest.fixture
def folder(tmp_path: Path) -> SnowballFolder:
    return load_folder(make_folder(tmp_path / "jobs"))


def _unlock(folder: SnowballFolder, fake: FakeSnowball, clock: FakeClock, **options):
    states: list[str] = []
    result = unlock_device(
        folder,
        SnowballClient(fake.executable),
        clock=clock,
        on_state=states.append,
        **options,
    )
    return result, states


def test_unlock_takes_several_polls(folder: SnowballFolder, fake: FakeSnowball) -> None:
    clock = FakeClock()
    result, states = _unlock(folder, fake, clock, poll_interval=7)
    assert states == ["UNLOCKING", "UNLOCKED"]
    assert result.polls == 3 and result.device_id == DEVICE_ID and not result.already_unlocked
    assert clock.slept == [7, 7]
    assert fake.commands() == [
        "describe-device",
        "unlock-device",
        "describe-device",
        "describe-device",
        "describe-device",
        "list-access-keys",
        "get-secret-access-key",
    ]
    assert fake.calls()[-1][1:3] == ["--access-key-id", ACCESS_KEY]
    assert read_keys(folder.path).secret_access_key == SECRET_KEY
    assert result.keys_file == folder.path / "keys.yaml"


def test_already_unlocked_device_is_not_unlocked_again(
    folder: SnowballFolder, fake: FakeSnowball
) -> None:
    fake.set(state="UNLOCKED")
    result, states = _unlock(folder, fake, FakeClock())
    assert result.already_unlocked and states == ["UNLOCKED"]
    assert "unlock-device" not in fake.commands()


def test_refused_unlock_fails_without_keys(folder: SnowballFolder, fake: FakeSnowball) -> None:
    fake.set(scenario="reject")
    with pytest.raises(ExternalToolError, match=r"unlock-device` failed .*rejected the manifest"):
        _unlock(folder, fake, FakeClock())
    assert not (folder.path / "keys.yaml").exists()


def test_device_falling_back_to_locked(folder: SnowballFolder, fake: FakeSnowball) -> None:
    fake.set(scenario="relock")
    with pytest.raises(ExternalToolError, match="went back to LOCKED while unlocking"):
        _unlock(folder, fake, FakeClock())
    assert not (folder.path / "keys.yaml").exists()


def test_device_that_never_unlocks_times_out_naming_the_state(
    folder: SnowballFolder, fake: FakeSnowball
) -> None:
    fake.set(scenario="never")
    clock = FakeClock()
    with pytest.raises(ExternalToolError, match=r"still UNLOCKING after 30 s") as info:
        _unlock(folder, fake, clock, timeout=30, poll_interval=10)
    assert "--timeout" in (info.value.hint or "")
    assert sum(clock.slept) == 30
    assert fake.commands().count("describe-device") == 5  # first look + 4 polls
    assert not (folder.path / "keys.yaml").exists()


def test_last_sleep_is_cut_to_the_deadline(folder: SnowballFolder, fake: FakeSnowball) -> None:
    fake.set(state="UNLOCKING", scenario="never")
    clock = FakeClock()
    with pytest.raises(ExternalToolError, match="still UNLOCKING after 25 s"):
        wait_until_unlocked(
            SnowballClient(fake.executable),
            default_auth(folder),
            timeout=25,
            poll_interval=10,
            clock=clock,
        )
    assert clock.slept == [10, 10, 5]


def test_status_summary(folder: SnowballFolder, fake: FakeSnowball) -> None:
    status = device_status(SnowballClient(fake.executable), default_auth(folder))
    assert status.device_id == DEVICE_ID and status.state == "LOCKED"
    assert status.ip_address == "192.0.2.10"
    assert status.interfaces[0]["PhysicalConnectorType"] == "RJ45"


def test_configure_then_use_the_client_profile(
    folder: SnowballFolder, fake: FakeSnowball, isolated_env: Path
) -> None:
    client = SnowballClient(fake.executable)
    status = configure_client(folder, client, profile="sbe-1")
    assert status.device_id == DEVICE_ID
    saved = json.loads((isolated_env / ".aws/snowball/config/snowball-edge.config").read_text())
    assert saved["profiles"]["sbe-1"]["manifestPath"] == str(folder.manifest)
    # The check after configure, and an unlock through the profile, never pass the code.
    result = unlock_device(
        folder,
        client,
        auth=ClientAuth.profile("sbe-1"),
        clock=FakeClock(),
    )
    assert result.access_key_id == ACCESS_KEY
    assert all(UNLOCK_CODE not in " ".join(argv) for argv in fake.calls())


def test_configure_failure_is_reported(folder: SnowballFolder, fake: FakeSnowball) -> None:
    fake.set(configure_error="Invalid endpoint.")
    with pytest.raises(ExternalToolError, match=r"configure` failed \(exit 1\): Invalid endpoint"):
        configure_client(folder, SnowballClient(fake.executable))


def test_configure_that_does_not_reach_the_device(
    folder: SnowballFolder, fake: FakeSnowball
) -> None:
    fake.set(endpoint="https://192.0.2.99")  # the device is elsewhere
    with pytest.raises(ExternalToolError, match="saved configuration does not reach the device"):
        configure_client(folder, SnowballClient(fake.executable))


def test_device_without_access_keys(folder: SnowballFolder, fake: FakeSnowball) -> None:
    fake.set(state="UNLOCKED", access_keys={})
    with pytest.raises(ExternalToolError, match="has no access key"):
        _unlock(folder, fake, FakeClock())

"""Unlock a device, wait for it, fetch its keys, describe it, configure the client.

Unlocking is a long-running job on the device: start it, then poll
`describe-device` until `UnlockStatus.State` is UNLOCKED (`s32s.polling.poll`:
tests pass a fake clock, so the loop runs instantly).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s32s.errors import ExternalToolError
from s32s.polling import Clock, PollTimeout, poll
from s32s.snowball.client import CLIENT_NAME, ClientAuth, SnowballClient
from s32s.snowball.folder import DeviceKeys, SnowballFolder, write_keys

log = logging.getLogger(__name__)

UNLOCKED = "UNLOCKED"
UNLOCKING = "UNLOCKING"
LOCKED = "LOCKED"
DEFAULT_TIMEOUT = 1200.0
DEFAULT_POLL_INTERVAL = 10.0

StateCallback = Callable[[str], None]


@dataclass(frozen=True)
class UnlockResult:
    """What `unlock` did. Holds no secret: the keys are in `keys_file`."""

    device_id: str | None
    state: str
    access_key_id: str
    keys_file: Path
    already_unlocked: bool
    polls: int
    access_key_count: int = 1


@dataclass(frozen=True)
class DeviceStatus:
    """A summary of `describe-device`."""

    device_id: str | None
    state: str
    ip_address: str | None
    interfaces: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "state": self.state,
            "ip_address": self.ip_address,
            "interfaces": self.interfaces,
        }


def default_auth(folder: SnowballFolder, client_profile: str | None = None) -> ClientAuth:
    """A configured client profile if given, else the folder's manifest, code and endpoint."""
    if client_profile:
        return ClientAuth.profile(client_profile, folder.endpoint_url)
    return ClientAuth.inline(folder.manifest, folder.unlock_code, folder.endpoint_url)


def unlock_state(description: dict[str, Any]) -> str:
    status = description.get("UnlockStatus")
    state = status.get("State") if isinstance(status, dict) else None
    if not isinstance(state, str) or not state:
        raise ExternalToolError(
            f"`{CLIENT_NAME} describe-device` printed no UnlockStatus.State.",
            "Run `snowballEdge describe-device` by hand to see its output, or update the client.",
        )
    return state.upper()


def summarize(description: dict[str, Any]) -> DeviceStatus:
    active = description.get("ActiveNetworkInterface")
    interfaces = description.get("PhysicalNetworkInterfaces")
    return DeviceStatus(
        device_id=description.get("DeviceId"),
        state=unlock_state(description),
        ip_address=active.get("IpAddress") if isinstance(active, dict) else None,
        interfaces=[i for i in interfaces if isinstance(i, dict)]
        if isinstance(interfaces, list)
        else [],
    )


def device_status(client: SnowballClient, auth: ClientAuth) -> DeviceStatus:
    return summarize(client.describe_device(auth))


def wait_until_unlocked(
    client: SnowballClient,
    auth: ClientAuth,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    clock: Clock | None = None,
    on_state: StateCallback | None = None,
) -> tuple[dict[str, Any], int]:
    """Poll describe-device until UNLOCKED; return the last description and the poll count.

    Fails when the device falls back to LOCKED after UNLOCKING (the unlock was
    refused), and when `timeout` seconds pass, naming the state it was stuck in.
    """
    states: list[str] = []

    def look(description: dict[str, Any]) -> None:
        state = unlock_state(description)
        if not states or state != states[-1]:
            log.info("device state: %s", state)
            if on_state is not None:
                on_state(state)
        if state == LOCKED and UNLOCKING in states:
            raise ExternalToolError(
                f"The device at {auth.description} went back to LOCKED while unlocking.",
                "Check that the manifest and unlock_key in sbe_config.yaml belong to this "
                "device's job, then run unlock again.",
            )
        states.append(state)

    try:
        description = poll(
            lambda: client.describe_device(auth),
            lambda description: unlock_state(description) == UNLOCKED,
            interval=poll_interval,
            timeout=timeout,
            clock=clock,
            on_update=look,
        )
    except PollTimeout as exc:
        raise ExternalToolError(
            f"The device at {auth.description} is still {unlock_state(exc.last)} after {timeout:g} s.",
            "Look at the device's screen; run `s32s snowball status` to check on it, or "
            "try again with a longer --timeout.",
        ) from None
    return description, len(states)


def fetch_keys(client: SnowballClient, auth: ClientAuth) -> tuple[DeviceKeys, int]:
    """The first access key of the device and its secret, and how many keys it has."""
    key_ids = client.list_access_keys(auth)
    if not key_ids:
        raise ExternalToolError(
            f"The device at {auth.description} has no access key.",
            "Check the device in AWS OpsHub, or ask AWS Support.",
        )
    access_key_id = key_ids[0]
    secret = client.get_secret_access_key(auth, access_key_id)
    return DeviceKeys(access_key_id, secret), len(key_ids)


def unlock_device(
    folder: SnowballFolder,
    client: SnowballClient,
    *,
    auth: ClientAuth | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    clock: Clock | None = None,
    on_state: StateCallback | None = None,
) -> UnlockResult:
    """Unlock the device (unless it already is), wait for it, write keys.yaml."""
    auth = auth or default_auth(folder)
    first = client.describe_device(auth)
    already = unlock_state(first) == UNLOCKED
    polls = 0
    description = first
    if already:
        if on_state is not None:
            on_state(UNLOCKED)
    else:
        client.unlock_device(auth)
        description, polls = wait_until_unlocked(
            client,
            auth,
            timeout=timeout,
            poll_interval=poll_interval,
            clock=clock,
            on_state=on_state,
        )
    keys, count = fetch_keys(client, auth)
    keys_file = write_keys(folder.path, keys)
    return UnlockResult(
        device_id=description.get("DeviceId"),
        state=UNLOCKED,
        access_key_id=keys.access_key_id,
        keys_file=keys_file,
        already_unlocked=already,
        polls=polls,
        access_key_count=count,
    )


def configure_client(
    folder: SnowballFolder, client: SnowballClient, *, profile: str | None = None
) -> DeviceStatus:
    """Save the folder's manifest, code and endpoint as a client profile, then check it.

    The check runs `describe-device` with the saved profile (no secret on the
    command line): if the client cannot reach the device with what it saved,
    the configuration did not work.
    """
    client.configure(folder.manifest, folder.unlock_code, folder.endpoint_url, profile=profile)
    auth = (
        ClientAuth.profile(profile, folder.endpoint_url)
        if profile
        else ClientAuth((), description=f"{folder.endpoint_url} (default client profile)")
    )
    try:
        return device_status(client, auth)
    except ExternalToolError as exc:
        raise ExternalToolError(
            f"`{CLIENT_NAME} configure` ran, but the saved configuration does not reach the "
            f"device: {exc.message}",
            exc.hint,
        ) from None

"""A fake `snowballEdge` client for tests, and the pytest fixture that installs it.

The fake reproduces the documented interface of the AWS Snowball Edge client
(awsdocs "Commands for the Snowball Edge client"): the subcommands
`unlock-device`, `describe-device`, `list-access-keys`,
`get-secret-access-key --access-key-id ID` and `configure`; authentication by
`--profile NAME` or by `--manifest-file`, `--unlock-code` and `--endpoint`;
JSON output in the client's `"Key" : value` style; the `[snowballEdge]` INI
block of get-secret-access-key; the three prompts of `configure`, whose
answers it saves to ~/.aws/snowball/config/snowball-edge.config.

Its behaviour comes from a JSON state file ($FAKE_SNOWBALL_STATE), which it
also updates: the device's state, how many describe-device polls an unlock
takes, the scenario (`ok`, `never` = stays UNLOCKING, `relock` = falls back to
LOCKED), and a log of every call's arguments and standard input.
"""

from __future__ import annotations

import json
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

UNLOCK_CODE = "4a859-ce942-73077-9cd73-d5d9c"
ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ENDPOINT = "https://192.0.2.10"
DEVICE_ID = "JID-EXAMPLE12345-123-456-7-890"

FAKE_CLIENT = r"""
import json, os, sys
from pathlib import Path

STATE = Path(os.environ["FAKE_SNOWBALL_STATE"])
CONFIG = Path.home() / ".aws" / "snowball" / "config" / "snowball-edge.config"


def dump(document):
    # The client's Jackson style: two-space indent, "Key" : value.
    print(json.dumps(document, indent=2, separators=(",", " : ")))


def fail(state, message, code=1):
    save(state)
    print(message, file=sys.stderr)
    sys.exit(code)


def save(state):
    STATE.write_text(json.dumps(state))


def options(argv):
    parsed, index = {}, 0
    while index < len(argv):
        name = argv[index]
        if not name.startswith("--") or index + 1 >= len(argv):
            print(f"Unknown option {name}", file=sys.stderr)
            sys.exit(2)
        parsed[name[2:]] = argv[index + 1]
        index += 2
    return parsed


def credentials(state, opts):
    if "unlock-code" in opts or "manifest-file" in opts or "endpoint" in opts:
        return opts.get("manifest-file"), opts.get("unlock-code"), opts.get("endpoint")
    profiles = json.loads(CONFIG.read_text())["profiles"] if CONFIG.exists() else {}
    profile = profiles.get(opts.get("profile", "default"))
    if profile is None:
        fail(state, "Unable to find a profile. Run snowballEdge configure, or pass "
             "--manifest-file, --unlock-code and --endpoint.")
    return profile["manifestPath"], profile["unlockCode"], profile["defaultEndpoint"]


def authenticate(state, opts):
    manifest, code, endpoint = credentials(state, opts)
    if endpoint != state["endpoint"]:
        fail(state, f"Could not connect to the device at {endpoint}: connection timed out.")
    if not manifest or not Path(manifest).is_file():
        fail(state, f"The manifest file {manifest} does not exist.")
    if code != state["unlock_code"]:
        # Echoes the code on purpose: s32s must mask whatever the client prints.
        fail(state, f"Authentication failed: the unlock code {code} does not match the manifest.")


def describe(state):
    if state["state"] == "UNLOCKING":
        state["polls"] += 1
        if state["polls"] >= state["polls_to_unlock"]:
            scenario = state["scenario"]
            if scenario == "ok":
                state["state"] = "UNLOCKED"
            elif scenario == "relock":
                state["state"] = "LOCKED"
    return {
        "DeviceId": state["device_id"],
        "UnlockStatus": {"State": state["state"]},
        "ActiveNetworkInterface": {"IpAddress": state["endpoint"].split("//")[-1]},
        "PhysicalNetworkInterfaces": [
            {
                "PhysicalNetworkInterfaceId": "s.ni-EXAMPLEd9ecbf03e3",
                "PhysicalConnectorType": "RJ45",
                "IpAddressAssignment": "DHCP",
                "IpAddress": state["endpoint"].split("//")[-1],
                "Netmask": "255.255.255.0",
                "DefaultGateway": "192.0.2.1",
                "MacAddress": "EX:AM:PL:E0:12:34",
            }
        ],
    }


def require_unlocked(state):
    if state["state"] != "UNLOCKED":
        fail(state, "The device is locked. Unlock it with the unlock-device command first.")


def configure(state, opts):
    stdin_lines = iter(sys.stdin.read().splitlines())
    print(f"Configuration will stored at {CONFIG}")
    answers = []
    for prompt in ("Snowball Edge Manifest Path", "Unlock Code", "Default Endpoint"):
        print(f"{prompt}: ", end="", flush=True)
        answer = next(stdin_lines, None)
        if answer is None:
            print()
            fail(state, f"No value given for {prompt}.")
        answers.append(answer.strip())
    print()
    if state.get("configure_error"):
        fail(state, state["configure_error"])
    manifest, code, endpoint = answers
    if not Path(manifest).is_file():
        fail(state, f"The manifest file {manifest} does not exist.")
    document = json.loads(CONFIG.read_text()) if CONFIG.exists() else {"version": 1, "profiles": {}}
    name = opts.get("profile", "default")
    document["profiles"][name] = {
        "name": name, "manifestPath": manifest, "unlockCode": code, "defaultEndpoint": endpoint,
    }
    CONFIG.parent.mkdir(parents=True, exist_ok=True)
    CONFIG.write_text(json.dumps(document, indent=2))


def main():
    state = json.loads(STATE.read_text())
    argv = sys.argv[1:]
    if not argv:
        fail(state, "usage: snowballEdge <command> [options]", 2)
    command, opts = argv[0], options(argv[1:])
    call = {"argv": argv}
    state["calls"].append(call)
    if command == "configure":
        configure(state, opts)
    elif command == "unlock-device":
        authenticate(state, opts)
        if state["scenario"] == "reject":
            fail(state, "Unlock failed: the device rejected the manifest for this job.")
        if state["state"] == "LOCKED":
            state["state"], state["polls"] = "UNLOCKING", 0
        print("Your Snowball Edge device is unlocking. You may determine the unlock state of "
              "your device using the describe-device command. Your Snowball Edge device will "
              "be available for use when it is in the UNLOCKED state.")
    elif command == "describe-device":
        authenticate(state, opts)
        dump(describe(state))
    elif command == "list-access-keys":
        authenticate(state, opts)
        require_unlocked(state)
        dump({"AccessKeyIds": list(state["access_keys"])})
    elif command == "get-secret-access-key":
        key_id = opts.pop("access-key-id", None)
        authenticate(state, opts)
        require_unlocked(state)
        secret = state["access_keys"].get(key_id)
        if secret is None:
            fail(state, f"The access key {key_id} does not exist on this device.")
        print("[snowballEdge]")
        print(f"aws_access_key_id = {key_id}")
        print(f"aws_secret_access_key = {secret}")
    else:
        fail(state, f"Unknown command {command}.", 2)
    save(state)


main()
"""


@dataclass
class FakeSnowball:
    """Handle on the installed fake: its path, its state, its call log."""

    executable: Path
    state_file: Path

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text())

    def set(self, **changes: Any) -> None:
        state = self.state()
        state.update(changes)
        self.state_file.write_text(json.dumps(state))

    def calls(self) -> list[list[str]]:
        return [call["argv"] for call in self.state()["calls"]]

    def commands(self) -> list[str]:
        return [argv[0] for argv in self.calls()]


def install_fake(directory: Path, **scenario: Any) -> FakeSnowball:
    """Write the fake client as `directory/snowballEdge` with its state file."""
    directory.mkdir(parents=True, exist_ok=True)
    executable = directory / "snowballEdge"
    # -IS: no site import, no PYTHON* variables; the fake needs only the standard library.
    executable.write_text(f"#!{sys.executable} -IS\n{FAKE_CLIENT}")
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    state = {
        "state": "LOCKED",
        "polls": 0,
        "polls_to_unlock": 3,
        "scenario": "ok",
        "unlock_code": UNLOCK_CODE,
        "endpoint": ENDPOINT,
        "device_id": DEVICE_ID,
        "access_keys": {ACCESS_KEY: SECRET_KEY},
        "calls": [],
    }
    state.update(scenario)
    state_file = directory / "fake-snowball-state.json"
    state_file.write_text(json.dumps(state))
    return FakeSnowball(executable, state_file)


def make_folder(
    parent: Path,
    name: str = "sbe-1",
    *,
    unlock_code: str | None = UNLOCK_CODE,
    endpoint: str | None = ENDPOINT,
    manifests: tuple[str, ...] = ("JID2EXAMPLE-manifest.bin",),
) -> Path:
    """A Snowball folder with manifest(s) and sbe_config.yaml."""
    folder = parent / name
    folder.mkdir(parents=True)
    for manifest in manifests:
        (folder / manifest).write_bytes(b"\x00encrypted manifest\x00")
    lines = []
    if unlock_code is not None:
        lines.append(f'unlock_key: "{unlock_code}"')
    if endpoint is not None:
        lines.append(f'endpoint_url: "{endpoint}"')
    (folder / "sbe_config.yaml").write_text("\n".join(lines) + "\n")
    return folder


def activate_fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **scenario: Any) -> FakeSnowball:
    """Install the fake and make s32s find it through $S32S_SNOWBALL_CLIENT.

    Test modules wrap this in a fixture; by default an unlock takes three polls.
    """
    fake = install_fake(tmp_path / "fake-client", **scenario)
    monkeypatch.setenv("FAKE_SNOWBALL_STATE", str(fake.state_file))
    monkeypatch.setenv("S32S_SNOWBALL_CLIENT", str(fake.executable))
    return fake

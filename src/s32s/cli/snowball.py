"""`s32s snowball unlock|profile|configure|setup|status DIR`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import click

from s32s.cli.app import App, pass_app

if TYPE_CHECKING:
    from s32s.snowball.client import SnowballClient
    from s32s.snowball.device import DeviceStatus, UnlockResult
    from s32s.snowball.folder import SnowballFolder
    from s32s.snowball.profile import ProfileResult

S3_PORT = 8443

folder_argument = click.argument(
    "folder", metavar="DIR", type=click.Path(file_okay=False, path_type=Path)
)


def client_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--client",
        "client_path",
        metavar="PATH",
        envvar="S32S_SNOWBALL_CLIENT",
        help="The snowballEdge client executable [env: S32S_SNOWBALL_CLIENT; default: snowballEdge on PATH].",
    )(function)


def client_profile_option(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--client-profile",
        metavar="NAME",
        help="Authenticate with this snowballEdge client profile (saved by `snowball configure`) "
        "instead of passing the unlock code on the client's command line.",
    )(function)


def unlock_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option(
        "--poll-interval",
        type=click.FloatRange(min=0, min_open=True),
        default=10.0,
        show_default=True,
        help="Seconds between two describe-device checks while the device unlocks.",
    )(function)
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0),
        default=1200.0,
        show_default=True,
        help="Seconds to wait for the device to reach UNLOCKED before giving up.",
    )(function)


def profile_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option(
        "--endpoint-url",
        "profile_endpoint",
        metavar="URL",
        help="Also store this S3 endpoint (e.g. https://DEVICE:8443) as the profile's endpoint_url.",
    )(function)
    return click.option(
        "--name", metavar="NAME", help="Profile name [default: the folder's name]."
    )(function)


def configure_options(function: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--configure-profile",
        metavar="NAME",
        help="Save the client configuration under this snowballEdge profile [default: the client's default profile].",
    )(function)


@click.group("snowball")
def snowball_group() -> None:
    """Unlock a Snowball Edge device and set up access to it from one folder.

    DIR holds the job's *manifest.bin and sbe_config.yaml (unlock_key,
    endpoint_url). `unlock` writes DIR/keys.yaml; `profile` turns it into an
    AWS profile named after DIR; `configure` saves the client's settings;
    `setup` runs all three.
    """


# helpers -----------------------------------------------------------------------
def _client(client_path: str | None) -> SnowballClient:
    from s32s.snowball.client import SnowballClient, find_client

    return SnowballClient(find_client(client_path))


def _load(folder: Path) -> SnowballFolder:
    from s32s.snowball.folder import load_folder

    return load_folder(folder)


def s3_endpoint_for(device_endpoint: str) -> str:
    """The device's S3 endpoint (HTTPS on port 8443) for the address in sbe_config.yaml."""
    host = urlsplit(device_endpoint).hostname or device_endpoint
    return f"https://{host}:{S3_PORT}"


def _do_unlock(
    app: App,
    folder: SnowballFolder,
    client_path: str | None,
    client_profile: str | None,
    timeout: float,
    poll_interval: float,
) -> UnlockResult:
    from s32s.snowball.device import default_auth, unlock_device

    client = _client(client_path)
    app.info(f"Unlocking the device at {folder.endpoint_url} (manifest {folder.manifest.name}).")
    result = unlock_device(
        folder,
        client,
        auth=default_auth(folder, client_profile),
        timeout=timeout,
        poll_interval=poll_interval,
        on_state=lambda state: app.info(f"Device state: [bold]{state}[/]"),
    )
    if result.access_key_count > 1:
        app.warn(
            f"The device has {result.access_key_count} access keys; keys.yaml holds the first, "
            f"{result.access_key_id}."
        )
    app.info(f"Wrote {result.keys_file} (access key {result.access_key_id}, mode 0600).")
    return result


def _unlock_document(result: UnlockResult) -> dict[str, Any]:
    return {
        "device_id": result.device_id,
        "state": result.state,
        "already_unlocked": result.already_unlocked,
        "polls": result.polls,
        "access_key_id": result.access_key_id,
        "keys_file": str(result.keys_file),
    }


def _do_profile(
    app: App, folder_path: Path, name: str | None, endpoint: str | None
) -> ProfileResult:
    from s32s.snowball.folder import read_keys, resolve_folder
    from s32s.snowball.profile import write_profile

    folder = resolve_folder(folder_path)
    keys = read_keys(folder)
    result = write_profile(name or folder.name, keys, endpoint_url=endpoint)
    app.info(
        f"Wrote AWS profile [bold]{result.name}[/] (region snow) to "
        f"{result.credentials_file} and {result.config_file}."
    )
    return result


def _profile_document(result: ProfileResult) -> dict[str, Any]:
    return {
        "profile": result.name,
        "region": "snow",
        "endpoint_url": result.endpoint_url,
        "credentials_file": str(result.credentials_file),
        "config_file": str(result.config_file),
    }


def _usage_hint(app: App, profile: str, endpoint_url: str | None, device_endpoint: str) -> None:
    if endpoint_url:
        app.info(f"Use it: s32s --profile {profile} sync ./data s3://bucket/data")
    else:
        s3 = s3_endpoint_for(device_endpoint)
        app.info(
            f"Use it: s32s --profile {profile} --endpoint-url {s3} sync ./data s3://bucket/data"
        )


def _do_configure(
    app: App, folder: SnowballFolder, client_path: str | None, profile: str | None
) -> DeviceStatus:
    from s32s.snowball.device import configure_client

    client = _client(client_path)
    where = f"profile {profile!r}" if profile else "its default profile"
    app.info(f"Configuring the snowballEdge client ({where}) for {folder.endpoint_url}.")
    status = configure_client(folder, client, profile=profile)
    app.info(f"Client configured: device {status.device_id or '?'} answers, state {status.state}.")
    return status


# commands ----------------------------------------------------------------------
@snowball_group.command("unlock")
@folder_argument
@unlock_options
@client_profile_option
@client_option
@pass_app
def unlock_command(
    app: App,
    folder: Path,
    timeout: float,
    poll_interval: float,
    client_profile: str | None,
    client_path: str | None,
) -> None:
    """Unlock the device, wait until it is UNLOCKED, write DIR/keys.yaml."""
    result = _do_unlock(app, _load(folder), client_path, client_profile, timeout, poll_interval)
    if app.json_output:
        app.emit_json(_unlock_document(result))


@snowball_group.command("profile")
@folder_argument
@profile_options
@pass_app
def profile_command(app: App, folder: Path, name: str | None, profile_endpoint: str | None) -> None:
    """Write DIR/keys.yaml as an AWS profile (region snow) in your AWS config files."""
    result = _do_profile(app, folder, name, profile_endpoint)
    if app.json_output:
        app.emit_json(_profile_document(result))
        return
    device_endpoint = _device_endpoint_or_none(folder)
    if device_endpoint or profile_endpoint:
        _usage_hint(app, result.name, profile_endpoint, device_endpoint or "DEVICE")


def _device_endpoint_or_none(folder: Path) -> str | None:
    from s32s.errors import S32SError

    try:
        return _load(folder).endpoint_url
    except S32SError:
        return None


@snowball_group.command("configure")
@folder_argument
@configure_options
@client_option
@pass_app
def configure_command(
    app: App, folder: Path, configure_profile: str | None, client_path: str | None
) -> None:
    """Run `snowballEdge configure` with DIR's manifest, unlock code and endpoint."""
    status = _do_configure(app, _load(folder), client_path, configure_profile)
    if app.json_output:
        app.emit_json({"client_profile": configure_profile, **status.to_dict()})


@snowball_group.command("setup")
@folder_argument
@unlock_options
@profile_options
@configure_options
@client_option
@pass_app
def setup_command(
    app: App,
    folder: Path,
    timeout: float,
    poll_interval: float,
    name: str | None,
    profile_endpoint: str | None,
    configure_profile: str | None,
    client_path: str | None,
) -> None:
    """Run unlock, profile and configure in order; stop at the first failure."""
    from s32s.snowball.setup import Step, run_steps

    loaded = _load(folder)
    steps = [
        Step(
            "unlock",
            lambda: _do_unlock(app, loaded, client_path, None, timeout, poll_interval),
        ),
        Step("profile", lambda: _do_profile(app, loaded.path, name, profile_endpoint)),
        Step("configure", lambda: _do_configure(app, loaded, client_path, configure_profile)),
    ]
    results = run_steps(
        steps, on_start=lambda n, step: app.info(f"[bold]Step {n}/{len(steps)}: {step.name}[/]")
    )
    profile: ProfileResult = results["profile"]
    if app.json_output:
        app.emit_json(
            {
                "unlock": _unlock_document(results["unlock"]),
                "profile": _profile_document(profile),
                "configure": {
                    "client_profile": configure_profile,
                    **results["configure"].to_dict(),
                },
            }
        )
        return
    app.info("[green]Snowball set-up complete.[/]")
    _usage_hint(app, profile.name, profile_endpoint, loaded.endpoint_url)


@snowball_group.command("status")
@folder_argument
@client_profile_option
@client_option
@pass_app
def status_command(
    app: App, folder: Path, client_profile: str | None, client_path: str | None
) -> None:
    """Summarise describe-device: device id, lock state, network interfaces."""
    from s32s.snowball.device import default_auth, device_status

    loaded = _load(folder)
    status = device_status(_client(client_path), default_auth(loaded, client_profile))
    if app.json_output:
        app.emit_json({"endpoint": loaded.endpoint_url, **status.to_dict()})
        return
    _print_status(loaded, status)


def _print_status(folder: SnowballFolder, status: DeviceStatus) -> None:
    from s32s.cli.output import stdout_console, table

    console = stdout_console()
    summary = [
        ["folder", str(folder.path)],
        ["endpoint", folder.endpoint_url],
        ["device id", status.device_id or "?"],
        ["state", status.state],
        ["active IP address", status.ip_address or "?"],
    ]
    console.print(table("Snowball Edge device", ["", ""], summary))
    if status.interfaces:
        rows = [
            [
                i.get("PhysicalNetworkInterfaceId"),
                i.get("PhysicalConnectorType"),
                i.get("IpAddressAssignment"),
                i.get("IpAddress"),
                i.get("Netmask"),
                i.get("MacAddress"),
            ]
            for i in status.interfaces
        ]
        console.print(
            table(
                "Physical network interfaces",
                ["id", "connector", "assignment", "IP address", "netmask", "MAC"],
                rows,
            )
        )

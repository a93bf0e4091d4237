"""`s32s init`: write an s32s.ini."""

from __future__ import annotations

import click

from s32s.cli.app import App, pass_app
from s32s.errors import ConfigError


def check_maps_path(app: App, maps: str, mode: str) -> int:
    """Load the maps at `maps` as `mode` would; return how many there are."""
    from s32s.maps.pathmap import load_maps

    mapset = load_maps(maps, mode=mode, factory=app.factory)
    for warning in mapset.warnings:
        app.warn(warning)
    return len(mapset.maps)


def ask_mode(default: str = "master") -> str:
    from rich.prompt import Prompt

    return Prompt.ask(
        "Is this machine the [bold]master[/] (pushes) or a [bold]slave[/] (pulls)?",
        choices=["master", "slave"],
        default=default,
    )


def ask_maps(app: App, mode: str, *, check: bool, allow_blank: bool = False) -> str:
    """Ask for a maps path until one loads (or, without checking, until one is given).

    With `allow_blank`, an empty answer returns "" so a caller (the menu) can cancel.
    """
    from rich.prompt import Prompt

    from s32s.errors import S32SError

    question = "Maps path (bucket/prefix, s3://bucket/file.json or a local folder)"
    if allow_blank:
        question += ", blank to cancel"
    while True:
        maps = Prompt.ask(question).strip()
        if not maps:
            if allow_blank:
                return ""
            continue
        if not check:
            return maps
        try:
            count = check_maps_path(app, maps, mode)
        except S32SError as exc:
            app.info(f"[red]{exc.message}[/] {exc.hint or ''}")
            app.info(
                "Try again, or leave it blank to cancel."
                if allow_blank
                else "Try again, or press Ctrl-C to stop."
            )
            continue
        app.info(f"[green]Found {count} map(s).[/]")
        return maps


def write_config(app: App, mode: str, maps: str) -> None:
    from s32s.maps.ini import Config, save_config

    config = Config(
        is_master=(mode == "master"),
        master_maps=maps if mode == "master" else None,
        slave_maps=maps if mode == "slave" else None,
    )
    save_config(config, app.config_path)


@click.command("init")
@click.option("--mode", type=click.Choice(["master", "slave"]), help="Role of this machine.")
@click.option(
    "--maps",
    "maps",
    metavar="S3PATH",
    help="Where the path maps are (bucket/prefix or a local path).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing config file.")
@click.option(
    "--check/--no-check",
    default=True,
    show_default=True,
    help="Load the maps once to check the path, bucket and credentials.",
)
@pass_app
def init_command(app: App, mode: str | None, maps: str | None, force: bool, check: bool) -> None:
    """Write s32s.ini for a master or a slave.

    Missing answers are asked on a terminal; without one, --mode and --maps
    are required. The file goes to --config, $S32S_CONFIG or ./s32s.ini.
    """
    path = app.config_path
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists.", "Pass --force to replace it, or edit it by hand."
        )
    if (mode is None or maps is None) and not app.interactive:
        missing = " and ".join(
            name for name, value in (("--mode", mode), ("--maps", maps)) if value is None
        )
        raise ConfigError(
            f"No terminal to ask on: {missing} must be given.",
            "Example: s32s init --mode slave --maps bucket/maps",
        )
    mode = mode or ask_mode()
    if maps is None:
        maps = ask_maps(app, mode, check=check)
    elif check:
        count = check_maps_path(app, maps, mode)
        app.info(f"Found {count} map(s) at {maps}.")
    write_config(app, mode, maps)
    if app.json_output:
        app.emit_json({"config": str(path), "mode": mode, "maps": maps})
    else:
        app.info(f"Wrote {path} ({mode}, maps at {maps}).")

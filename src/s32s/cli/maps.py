"""`s32s maps list|validate|show`."""

from __future__ import annotations

import click

from s32s.cli.app import App, pass_app


def resolve_mode(app: App, mode: str | None) -> str:
    if mode:
        return mode
    return app.load_config(required=False).mode


def load_mapset(app: App, maps: str | None, mode: str):
    """The maps at --maps, else at the ini's maps path for `mode`; warnings shown."""
    from s32s.runs import open_maps
    from s32s.sync.session import RunHooks

    config = app.load_config(required=maps is None)
    return open_maps(config, maps, mode, app.factory, RunHooks(warn=app.warn))


mode_option = click.option(
    "--mode",
    type=click.Choice(["master", "slave"]),
    help="Validate as master or slave [default: the ini's ismaster].",
)
maps_option = click.option(
    "--maps",
    metavar="PATH",
    help="Maps path: bucket/prefix, s3://bucket/file.json, or a local file or folder [default: from s32s.ini].",
)


@click.group("maps")
def maps_group() -> None:
    """Inspect and validate path maps."""


@maps_group.command("list")
@mode_option
@maps_option
@pass_app
def list_command(app: App, mode: str | None, maps: str | None) -> None:
    """List the maps with their S3 path and local folder."""
    mode = resolve_mode(app, mode)
    mapset = load_mapset(app, maps, mode)
    if app.json_output:
        app.emit_json(
            {"maps_path": mapset.location, "mode": mode, "maps": [m.to_dict() for m in mapset.maps]}
        )
        return
    from s32s.cli.output import stdout_console, table

    rows = []
    for number, pathmap in enumerate(mapset.maps, start=1):
        kind = f"{len(pathmap.files)} files" if pathmap.files is not None else "folder"
        rows.append(
            [
                number,
                pathmap.name,
                str(pathmap.s3),
                pathmap.local_for(mode),
                kind,
                len(pathmap.ignore),
            ]
        )
    stdout_console().print(
        table(
            f"Maps at {mapset.location} ({mode})",
            ["#", "name", "s3", mode, "kind", "ignore rules"],
            rows,
        )
    )


@maps_group.command("validate")
@mode_option
@maps_option
@pass_app
def validate_command(app: App, mode: str | None, maps: str | None) -> None:
    """Check every map; exit 2 naming the file, map and key of the first error."""
    mode = resolve_mode(app, mode)
    mapset = load_mapset(app, maps, mode)
    if app.json_output:
        app.emit_json({"valid": True, "maps": len(mapset.maps), "warnings": mapset.warnings})
    else:
        app.info(
            f"[green]OK:[/] {len(mapset.maps)} valid map(s) at {mapset.location} for {mode} mode."
        )


@maps_group.command("show")
@click.argument("name")
@mode_option
@maps_option
@pass_app
def show_command(app: App, name: str, mode: str | None, maps: str | None) -> None:
    """Show every key of one map."""
    mode = resolve_mode(app, mode)
    pathmap = load_mapset(app, maps, mode).select([name])[0]
    if app.json_output:
        app.emit_json(pathmap.to_dict())
        return
    from s32s.cli.output import stdout_console, table

    data = pathmap.to_dict()
    rows = [
        [key, "\n".join(value) if isinstance(value, list) else value] for key, value in data.items()
    ]
    stdout_console().print(table(f"Map {name}", ["key", "value"], rows))

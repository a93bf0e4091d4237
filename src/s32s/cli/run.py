"""`s32s run`: the custom commands of [CUSTOMCOMMAND]."""

from __future__ import annotations

import click

from s32s.cli.app import App, end_with, pass_app


@click.command("run")
@click.argument("name", required=False)
@click.option("--list", "list_only", is_flag=True, help="List the custom commands and exit.")
@pass_app
def run_command(app: App, name: str | None, list_only: bool) -> None:
    """Run a custom command from [CUSTOMCOMMAND] of the local s32s.ini.

    The command line is split like a shell would (shlex) but run without a
    shell; its exit code becomes s32s's. Commands are only ever read from the
    local ini, never from maps on S3.
    """
    from s32s.maps.customcommands import find_command, run_custom_command

    config = app.load_config()
    if list_only or name is None:
        if app.json_output:
            app.emit_json(config.custom_commands)
            return
        if not config.custom_commands:
            app.info(f"No custom commands in {config.path} ([CUSTOMCOMMAND] is empty).")
            return
        from s32s.cli.output import stdout_console, table

        rows = [[key, value] for key, value in config.custom_commands.items()]
        stdout_console().print(table("Custom commands", ["name", "command"], rows))
        return
    argv = find_command(config, name)
    app.info(f"Running {name}: {' '.join(argv)}")
    end_with(run_custom_command(argv))

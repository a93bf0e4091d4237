"""`s32s menu`: the interactive menu, and the first-run wizard when there is no ini.

Every action calls the code the commands use: the library's `run_maps` for
transfers, drawn by the commands' hooks (so the preview, confirmation,
progress and summary are the commands'), `set_value` for
every saved change, `ask_mode` / `ask_maps` / `write_config` for the wizard and
the custom-command functions of `s32s run`. Answers are read one line at a
time with `Console.input`, which is `input()`: a terminal or piped stdin.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from s32s.cli.app import App, end_with, pass_app
from s32s.errors import ExitCode, S32SError
from s32s.menu import (
    SETTINGS,
    Action,
    Choice,
    MenuInputError,
    other_mode,
    parse_choice,
    parse_setting,
    pick_custom_command,
)

if TYPE_CHECKING:
    from rich.console import Console

    from s32s.maps.ini import Config
    from s32s.maps.pathmap import MapSet

_OUTCOMES = {
    ExitCode.OK: "[green]Done.[/]",
    ExitCode.PARTIAL_FAILURE: "[yellow]Some files failed (exit code 1); the lines above name them.[/]",
    ExitCode.USAGE: "[red]Nothing was changed (exit code 2).[/]",
    ExitCode.REFUSED: "[yellow]Refused by a safeguard (exit code 3): nothing was deleted.[/]",
}


def _section(mode: str) -> str:
    return "MASTER" if mode == "master" else "SLAVE"


def _esc(value: object) -> str:
    from rich.markup import escape

    return escape("" if value is None else str(value))


class MenuSession:
    """The menu's state (config, loaded maps) and one method per action."""

    def __init__(self, app: App, console: Console) -> None:
        self.app = app
        self.out = console
        self.config: Config | None = None
        self.mapset: MapSet | None = None
        self.maps_problem: str | None = None

    # state ------------------------------------------------------------------
    @property
    def mode(self) -> str:
        assert self.config is not None
        return self.config.mode

    @property
    def map_count(self) -> int:
        return len(self.mapset.maps) if self.mapset else 0

    def reload(self) -> None:
        """Read the ini again and load the maps of its mode; a maps problem is kept for display."""
        from s32s.cli.maps import load_mapset

        self.config = self.app.load_config()
        self.mapset, self.maps_problem = None, None
        if not self.config.maps_for(self.mode):
            self.maps_problem = (
                f"No maps path for {self.mode} mode yet: choose o to set one "
                f"([{_section(self.mode)}] maps_s3_path in {self.config.path})."
            )
            return
        try:
            self.mapset = load_mapset(self.app, None, self.mode)
        except Exception as exc:
            error = _as_s32s_error(exc)
            self.maps_problem = " ".join(part for part in (error.message, error.hint) if part)

    # input and output ---------------------------------------------------------
    def say(self, markup: str) -> None:
        self.out.print(markup, highlight=False)

    def ask(self, question: str) -> str:
        """One answer line. EOF (end of piped input) and Ctrl-C propagate to `run_menu`.

        Piped answers are not echoed by anything, so they are printed after
        the question to keep a scripted session's transcript readable.
        """
        answer = self.out.input(f"[bold]{question}[/]: ")
        if not self.app.stdin_isatty:
            self.out.print(answer, markup=False, highlight=False)
        return answer

    def ask_choice(self) -> Choice:
        """Ask until the answer is a valid choice; bad answers are explained."""
        while True:
            try:
                choice = parse_choice(self.ask("Choice"), self.map_count)
            except MenuInputError as exc:
                self.say(f"[yellow]{_esc(exc)}[/]")
                continue
            if choice is not None:
                return choice

    # the loop -----------------------------------------------------------------
    def loop(self) -> None:
        self.reload()
        while True:
            self.draw()
            choice = self.ask_choice()
            if choice.action is Action.QUIT:
                self.say("Bye.")
                return
            self.guarded(lambda choice=choice: self.handle(choice))

    def guarded(self, action: Callable[[], None]) -> None:
        """Run an action; an s32s or AWS error is printed and the menu goes on."""
        from s32s.cli.output import print_error

        try:
            action()
        except Exception as exc:
            error = _as_s32s_error(exc, reraise=True)
            if self.app.verbose > 1:
                import traceback

                traceback.print_exception(exc)
            print_error(error.message, error.hint)

    def handle(self, choice: Choice) -> None:
        handlers: dict[Action, Callable[[], None]] = {
            Action.RUN: lambda: self.run((self._map_name(choice),)),
            Action.RUN_ALL: lambda: self.run(()),
            Action.DETAILS: lambda: self.details(choice.number or 0),
            Action.RELOAD: self.reload,
            Action.OPEN: self.open_maps,
            Action.SWITCH: self.switch_mode,
            Action.SETTINGS: self.settings,
            Action.CUSTOM: self.custom_commands,
        }
        handlers[choice.action]()

    def _map_name(self, choice: Choice) -> str:
        assert self.mapset is not None and choice.number is not None
        return self.mapset.maps[choice.number - 1].name

    # drawing ------------------------------------------------------------------
    def draw(self) -> None:
        from rich.table import Table

        assert self.config is not None
        mode = self.mode
        role = "pushes local folders to S3" if mode == "master" else "pulls from S3"
        self.say("")
        self.say(f"[bold]s32s menu[/] — [bold cyan]{mode}[/] mode ({role})")
        self.say(f"config  {_esc(self.config.path)}")
        location = self.config.maps_for(mode)
        count = f" — {self.map_count} map(s)" if self.mapset else ""
        self.say(f"maps    {_esc(location or '(not set)')}{count}")
        if self.maps_problem:
            self.say(f"[red]Maps not loaded:[/] {_esc(self.maps_problem)}")
        if self.mapset and self.mapset.maps:
            table = Table(title_justify="left")
            for column in ("#", "name", "s3", f"{mode} folder"):
                table.add_column(column, overflow="fold")
            for number, pathmap in enumerate(self.mapset.maps, start=1):
                table.add_row(
                    str(number),
                    _esc(pathmap.name),
                    _esc(pathmap.s3),
                    _esc(pathmap.local_for(mode)),
                )
            self.out.print(table)
        verb = "push" if mode == "master" else "pull"
        self.say(
            f"[bold]N[/] {verb} map N   [bold]a[/] {verb} all   [bold]d N[/] details of map N   "
            "[bold]r[/] reload   [bold]o[/] open another maps path"
        )
        self.say(
            f"[bold]s[/] switch to {other_mode(mode)}   [bold]t[/] advanced settings   "
            "[bold]c[/] custom commands   [bold]q[/] quit"
        )

    # actions ------------------------------------------------------------------
    def run(self, names: tuple[str, ...]) -> None:
        """Push or pull through the library's `run_maps`, then show its outcome and come back.

        An error that stops the run (a bad map, a missing bucket) reaches
        `guarded`, which prints it; the menu goes on.
        """
        from s32s import runs
        from s32s.cli.sync import run_hooks, show_summary
        from s32s.sync.session import worst_exit_code

        verb = "Pushing" if self.mode == "master" else "Pulling"
        self.say(f"{verb} {', '.join(names) if names else 'all maps'}…")
        config = self.app.load_config()
        reports = runs.run_maps(
            self.mode,
            config=config,
            names=names,
            hooks=run_hooks(self.app, yes=config.skip_delete_alert),
            **self.app.aws_keywords(),
        )
        show_summary(self.app, config, reports)
        code = int(worst_exit_code(reports))
        self.say(_OUTCOMES.get(code, f"Finished with exit code {code}."))

    def details(self, number: int) -> None:
        from pathlib import Path

        from s32s.cli.output import table

        assert self.mapset is not None
        pathmap = self.mapset.maps[number - 1]
        rows: list[list[Any]] = []
        for key, value in pathmap.to_dict().items():
            text = "\n".join(value) if isinstance(value, list) else value
            rows.append([_esc(key), _esc(text)])
        local = pathmap.local_for(self.mode)
        if local:
            exists = "yes" if Path(local).is_dir() else "no"
            rows.append([f"{self.mode} folder exists", exists])
        self.out.print(table(f"Map {number}: {_esc(pathmap.name)}", ["key", "value"], rows))

    def open_maps(self) -> None:
        """Ask for a maps path checked like the wizard's, and save it for the current mode."""
        from s32s.cli.init import ask_maps
        from s32s.maps.ini import set_value

        assert self.config is not None and self.config.path is not None
        maps = ask_maps(self.app, self.mode, check=True, allow_blank=True)
        if not maps:
            self.say("Cancelled: the maps path is unchanged.")
            return
        section = _section(self.mode)
        set_value(self.config.path, section, "maps_s3_path", maps)
        self.say(f"Saved [{section}] maps_s3_path = {_esc(maps)} in {_esc(self.config.path)}.")
        self.reload()

    def switch_mode(self) -> None:
        from s32s.maps.ini import set_value

        assert self.config is not None and self.config.path is not None
        new_mode = other_mode(self.mode)
        set_value(self.config.path, "MAIN", "ismaster", new_mode == "master")
        self.say(
            f"Switched to {new_mode} mode (saved ismaster = {new_mode == 'master'} "
            f"in {_esc(self.config.path)})."
        )
        self.reload()

    def settings(self) -> None:
        """Toggle [MAIN] booleans one at a time until a blank answer."""
        from s32s.cli.output import table
        from s32s.maps.ini import set_value

        assert self.config is not None and self.config.path is not None
        changed = False
        while True:
            rows = [
                [number, setting.key, getattr(self.config, setting.attribute), setting.meaning]
                for number, setting in enumerate(SETTINGS, start=1)
            ]
            self.out.print(
                table("Advanced settings", ["#", "[MAIN] key", "value", "when True"], rows)
            )
            try:
                setting = parse_setting(self.ask("Number to toggle (blank to go back)"))
            except MenuInputError as exc:
                self.say(f"[yellow]{_esc(exc)}[/]")
                continue
            if setting is None:
                break
            value = not getattr(self.config, setting.attribute)
            self.config = set_value(self.config.path, "MAIN", setting.key, value)
            self.say(f"Saved {setting.key} = {value} in {_esc(self.config.path)}.")
            changed = True
        if changed:
            self.reload()

    def custom_commands(self) -> None:
        """List [CUSTOMCOMMAND] and run one chosen by number or name (no shell)."""
        from s32s.cli.output import table
        from s32s.maps.customcommands import find_command, run_custom_command

        assert self.config is not None
        names = list(self.config.custom_commands)
        if not names:
            self.say(
                f"No custom commands: add `name = command line` under [CUSTOMCOMMAND] "
                f"in {_esc(self.config.path)}."
            )
            return
        rows = [
            [number, _esc(name), _esc(self.config.custom_commands[name])]
            for number, name in enumerate(names, start=1)
        ]
        self.out.print(table("Custom commands", ["#", "name", "command"], rows))
        while True:
            try:
                name = pick_custom_command(
                    self.ask("Command to run (number or name, blank to go back)"), names
                )
            except MenuInputError as exc:
                self.say(f"[yellow]{_esc(exc)}[/]")
                continue
            break
        if name is None:
            return
        argv = find_command(self.config, name)
        self.say(f"Running {_esc(name)}: {_esc(' '.join(argv))}")
        sys.stdout.flush()
        code = run_custom_command(argv)
        self.say(f"{_esc(name)} exited with code {code}.")


def _as_s32s_error(exc: Exception, *, reraise: bool = False) -> S32SError:
    """`exc` itself if it is an s32s error, else its translation (AWS errors).

    Anything else is a bug: re-raised when `reraise`, else wrapped so the
    menu can show it next to the maps path.
    """
    if isinstance(exc, S32SError):
        return exc
    from s32s.aws.clients import translate_error

    translated = translate_error(exc)
    if translated is not None:
        return translated
    if reraise:
        raise exc
    return S32SError(f"{type(exc).__name__}: {exc}")


def first_run(app: App, console: Console) -> None:
    """The init wizard: mode, then a maps path checked as it is entered; writes the ini."""
    from s32s.cli.init import ask_maps, ask_mode, write_config

    path = app.config_path
    console.print(
        f"[bold]Welcome to s32s.[/] There is no config file at {_esc(path)} yet: "
        "two questions will write one.",
        highlight=False,
    )
    mode = ask_mode()
    maps = ask_maps(app, mode, check=True)
    write_config(app, mode, maps)
    console.print(f"Wrote {_esc(path)} ({mode}, maps at {_esc(maps)}).", highlight=False)


def run_menu(app: App) -> None:
    """The menu, after the wizard when the ini is missing.

    End of input (piped answers running out) ends the menu with exit code 0;
    Ctrl-C ends it with 130.
    """
    from s32s.cli.output import stdout_console

    console = stdout_console()
    try:
        if not app.config_path.exists():
            first_run(app, console)
        MenuSession(app, console).loop()
    except EOFError:
        console.print("\nEnd of input: bye.", highlight=False)
    except KeyboardInterrupt:
        click.echo("\nInterrupted.", err=True)
        end_with(ExitCode.INTERRUPTED)


@click.command("menu")
@pass_app
def menu_command(app: App) -> None:
    """Open the interactive menu (what `s32s` alone does on a terminal).

    Choose a map by number to push it (master) or pull it (slave) with the
    same preview, confirmation, progress and summary as `master push` and
    `slave pull`; `a` runs every map. The menu also shows map details,
    reloads, opens another maps path, switches master/slave, toggles the
    [MAIN] settings (each change is saved to s32s.ini, comments kept) and
    runs the custom commands. With no s32s.ini at the config path it first
    asks for the mode and the maps path and writes one.

    Without a terminal the answers are read from stdin, one per line, so the
    menu can be scripted, e.g. `printf '1\\nq\\n' | s32s menu`. Deletions then
    are refused (exit code 3 shown, nothing deleted) unless skip_delete_alert
    is True, as there is no terminal to confirm them. The menu ends at `q` or
    at the end of the input (exit 0); Ctrl-C ends it with exit 130.
    """
    if app.json_output:
        raise click.UsageError("The menu has no JSON output; use the commands with --json.")
    run_menu(app)

"""The `s32s` command line: a thin click layer over the library.

Subcommands live in their own modules and are imported only when used, so
`s32s --help` does not pay for boto3. Errors become exit codes in one place,
`main()`.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import click

from s32s import __version__
from s32s.cli.app import App
from s32s.errors import ExitCode, S32SError

# command name -> "module:attribute" (relative to s32s.cli)
COMMANDS: dict[str, str] = {
    "init": "init:init_command",
    "menu": "menu:menu_command",
    "maps": "maps:maps_group",
    "master": "sync:master_group",
    "slave": "sync:slave_group",
    "sync": "sync:sync_command",
    "check": "check:check_command",
    "backup": "backup:backup_group",
    "bucket": "bucket:bucket_group",
    "run": "run:run_command",
    "transfer": "transfer:transfer_group",
    "logs": "logs:logs_group",
    "datasync": "datasync:datasync_group",
    "snowball": "snowball:snowball_group",
    "produce": "produce:produce_command",
    "demo": "demo:demo_command",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for name in COMMANDS if self._spec_exists(name)]

    @staticmethod
    def _spec_exists(name: str) -> bool:
        module = COMMANDS[name].split(":")[0]
        return importlib.util.find_spec(f"s32s.cli.{module}") is not None

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS or not self._spec_exists(cmd_name):
            return None
        module_name, attribute = COMMANDS[cmd_name].split(":")
        module = importlib.import_module(f"s32s.cli.{module_name}")
        command: click.Command = getattr(module, attribute)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; turn s32s's errors into a message and an exit code."""
        try:
            return super().invoke(ctx)
        except S32SError as exc:
            _report_error(exc, _verbosity(ctx) > 1)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("\nInterrupted.", err=True)
            ctx.exit(ExitCode.INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except Exception as exc:
            from s32s.aws.clients import translate_error

            translated = translate_error(exc)
            if translated is None or _verbosity(ctx) > 1:
                raise
            _report_error(translated, False)
            ctx.exit(translated.exit_code)


def _verbosity(ctx: click.Context) -> int:
    app = ctx.obj
    return int(getattr(app, "verbose", 0))


@click.group(
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--config",
    "config_option",
    type=click.Path(dir_okay=False),
    envvar="S32S_CONFIG",
    help="The s32s.ini to use [env: S32S_CONFIG; default: ./s32s.ini].",
)
@click.option(
    "--profile",
    envvar="AWS_PROFILE",
    help="AWS profile from your AWS config files [env: AWS_PROFILE].",
)
@click.option("--region", help="AWS region; `snow` for a Snowball Edge device.")
@click.option(
    "--endpoint-url",
    envvar="AWS_ENDPOINT_URL",
    help="S3-compatible endpoint, e.g. http://127.0.0.1:9000 [env: AWS_ENDPOINT_URL].",
)
@click.option(
    "--no-verify-ssl",
    is_flag=True,
    help="Do not verify TLS certificates (self-signed endpoints). Implied by --region snow.",
)
@click.option(
    "--json",
    "json_output",
    is_flag=True,
    help="Print one JSON document on stdout and nothing else.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print errors only.")
@click.option(
    "-v", "--verbose", count=True, help="More detail; -vv adds tracebacks and AWS debug logs."
)
@click.version_option(__version__, "--version", prog_name="s32s")
@click.pass_context
def cli(ctx: click.Context, **options: Any) -> None:
    """s32s moves folders between machines through Amazon S3.

    A master pushes local folders to S3 following path maps; slaves pull them.
    Run `s32s` alone on a terminal for the interactive menu, or `s32s demo` to
    watch a full round trip on a local S3 endpoint.
    """
    app = App.from_options(**options)
    ctx.obj = app
    if ctx.invoked_subcommand is None:
        if app.interactive:
            from s32s.cli.menu import run_menu

            run_menu(app)
        else:
            click.echo(ctx.get_help())


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `s32s` executable."""
    cli.main(args=argv, prog_name="s32s")


def _report_error(exc: S32SError, verbose: bool) -> None:
    if verbose:
        import traceback

        traceback.print_exception(exc)
    from s32s.cli.output import print_error

    print_error(exc.message, exc.hint)

"""The object every command receives: global options, config, clients, output."""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from s32s.aws.clients import AwsOptions, ClientFactory
    from s32s.maps.ini import Config


@dataclass
class App:
    """State built once by the root group and passed to every command."""

    config_option: str | None = None
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    no_verify_ssl: bool = False
    json_output: bool = False
    quiet: bool = False
    verbose: int = 0
    stdin_isatty: bool = field(default_factory=lambda: sys.stdin.isatty())
    stdout_isatty: bool = field(default_factory=lambda: sys.stdout.isatty())

    @classmethod
    def from_options(cls, **options: Any) -> App:
        app = cls(**options)
        app._setup_logging()
        return app

    def _setup_logging(self) -> None:
        level = logging.WARNING
        if self.verbose == 1:
            level = logging.INFO
        elif self.verbose >= 2:
            level = logging.DEBUG
        logger = logging.getLogger("s32s")
        logger.setLevel(level)
        if not logger.handlers:
            logger.addHandler(_LazyRichHandler())
        if self.verbose >= 2:
            logging.getLogger("botocore").setLevel(logging.DEBUG)
            logging.getLogger("botocore").addHandler(logger.handlers[0])

    @property
    def interactive(self) -> bool:
        """True when a person can answer prompts: both stdin and stdout are terminals."""
        return self.stdin_isatty and self.stdout_isatty and not self.json_output

    @property
    def config_path(self) -> Path:
        from s32s.maps.ini import resolve_config_path

        return resolve_config_path(self.config_option)

    def load_config(self, *, required: bool = True) -> Config:
        """The ini file's settings; defaults when it is absent and not `required`."""
        from s32s.maps.ini import Config, load_config

        path = self.config_path
        if not path.exists() and not required:
            return Config(path=None)
        config = load_config(path)
        for warning in config.warnings:
            self.warn(warning)
        return config

    @cached_property
    def factory(self) -> ClientFactory:
        """Clients for commands that send a few requests at a time (botocore's default pool)."""
        from s32s.aws.clients import ClientFactory

        return ClientFactory(self.aws_options())

    def aws_keywords(self) -> dict[str, Any]:
        """The global AWS options as the library's calls take them (`s32s.runs`)."""
        return {
            "profile": self.profile,
            "region": self.region,
            "endpoint_url": self.endpoint_url,
            "verify_tls": False if self.no_verify_ssl else None,
        }

    def aws_options(self) -> AwsOptions:
        from s32s.aws.clients import AwsOptions

        return AwsOptions(**self.aws_keywords())

    def client_factory(self, workers: int | None) -> ClientFactory:
        """Clients whose connection pool fits `workers` requests (None: adaptive concurrency's maximum)."""
        from s32s.aws.clients import ClientFactory

        return ClientFactory(self.aws_options().for_workers(workers))

    # output -----------------------------------------------------------------
    def info(self, message: str) -> None:
        """A status line on stderr, hidden by --quiet and --json."""
        if not (self.quiet or self.json_output):
            from s32s.cli.output import error_console

            error_console().print(message, highlight=False)

    def error(self, message: str) -> None:
        """A problem line on stderr, shown even with --quiet (never with --json: it is in the document)."""
        if not self.json_output:
            from rich.markup import escape

            from s32s.cli.output import error_console

            error_console().print(f"[red]{escape(message)}[/]", highlight=False)

    def warn(self, message: str) -> None:
        if not self.quiet:
            from rich.markup import escape

            from s32s.cli.output import error_console

            error_console().print(f"[yellow]Warning:[/] {escape(message)}", highlight=False)

    def emit_json(self, document: Any) -> None:
        import json

        click.echo(json.dumps(document, indent=2, default=str))


pass_app = click.make_pass_decorator(App)


def end_with(code: int) -> None:
    """End the command with exit `code` when it is not 0; `cli.main` makes it the process's."""
    if code:
        raise click.exceptions.Exit(int(code))


ignore_option = click.option(
    "--ignore",
    "ignore_rules",
    multiple=True,
    metavar="RULE",
    help="Skip paths matching RULE (`*` matches anything, `/` included). Repeatable.",
)


def workers_option(what: str, *, adaptive: bool = True) -> Any:
    """`--workers`: None (the default) lets the engine choose, from one place (sync.concurrency)."""
    from s32s.sync.concurrency import DEFAULT_MAXIMUM, DEFAULT_START

    default = (
        f"adapts to the link, from {DEFAULT_START} up to {DEFAULT_MAXIMUM}"
        if adaptive
        else str(DEFAULT_START)
    )
    return click.option(
        "--workers",
        type=click.IntRange(1, 256),
        default=None,
        help=f"{what} [default: {default}].",
    )


class _LazyRichHandler(logging.Handler):
    """Logs through rich, imported only when a record arrives: most runs log nothing."""

    def __init__(self) -> None:
        super().__init__()
        self._rich: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if self._rich is None:
            from rich.logging import RichHandler

            from s32s.cli.output import error_console

            self._rich = RichHandler(console=error_console(), show_path=False, show_time=False)
        self._rich.emit(record)

"""Consoles and small rendering helpers shared by the commands."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from s32s.sync.events import Reporter


@lru_cache(maxsize=1)
def error_console() -> Console:
    """Messages, warnings and progress go to stderr; stdout is kept for results."""
    from rich.console import Console

    return Console(stderr=True, soft_wrap=True)


def stdout_console() -> Console:
    from rich.console import Console

    return Console()


def print_error(message: str, hint: str | None = None) -> None:
    from rich.markup import escape

    error_console().print(f"[bold red]Error:[/] {escape(message)}", highlight=False)
    if hint:
        error_console().print(escape(hint), highlight=False)


def human_bytes(size: float) -> str:
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    value = float(size)
    for unit in units:
        if abs(value) < 1024 or unit == units[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> Any:
    from rich.table import Table

    result = Table(title=title, title_justify="left")
    for column in columns:
        result.add_column(column, overflow="fold")
    for row in rows:
        result.add_row(*("" if cell is None else str(cell) for cell in row))
    return result


@contextlib.contextmanager
def progress_reporter(app: Any, source: str, dest: str) -> Iterator[Reporter]:
    """The reporter a run shows itself with: nothing (quiet, --json; rich is not even
    imported), a progress bar on a terminal, plain lines otherwise (logs and cron)."""
    if app.quiet or app.json_output:
        from s32s.sync.events import NullReporter

        yield NullReporter()
        return
    from s32s.cli import progress as view

    if app.stdout_isatty or error_console().is_terminal:
        bar = view.make_progress()
        with bar:
            yield view.RichReporter(bar)
    else:
        yield view.LineReporter(source, dest, quiet=False)

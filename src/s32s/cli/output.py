"""Consoles and small rendering helpers shared by the commands."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


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

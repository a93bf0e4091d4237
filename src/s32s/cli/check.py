"""`s32s check SRC DST`, `s32s master check` and `s32s slave check`: where two sides differ."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from s32s.cli.app import App, end_with, ignore_option, pass_app, workers_option
from s32s.errors import ExitCode

if TYPE_CHECKING:
    from s32s.sync.check import Comparison

SHOWN = 50  # paths listed per kind before "… and N more"


def check_options(function: Any) -> Any:
    """--checksum and --workers, shared by every check command."""
    function = workers_option("Files hashed in parallel.", adaptive=False)(function)
    return click.option(
        "--checksum",
        is_flag=True,
        help="Compare content (MD5 / multipart ETag) instead of size and modification time.",
    )(function)


def show_comparisons(app: App, comparisons: list[Comparison]) -> None:
    """Print the differences (or the JSON document) and exit 0 when all sides match, 1 otherwise."""
    code = ExitCode.OK if all(c.same for c in comparisons) else ExitCode.PARTIAL_FAILURE
    if app.json_output:
        app.emit_json({"checks": [c.to_dict() for c in comparisons], "exit_code": int(code)})
    else:
        for comparison in comparisons:
            _show(app, comparison)
    end_with(code)


def _show(app: App, comparison: Comparison) -> None:
    for warning in comparison.warnings:
        app.warn(warning)
    groups = [
        (f"only in {comparison.source}", comparison.only_in_source),
        (f"only in {comparison.destination}", comparison.only_in_destination),
        ("differ", [f"{k} ({v})" for k, v in sorted(comparison.differ.items())]),
    ]
    for title, paths in groups:
        for path in paths[:SHOWN]:
            click.echo(f"{title}: {path}")
        if len(paths) > SHOWN:
            click.echo(f"{title}: … and {len(paths) - SHOWN} more")
    verdict = "identical" if comparison.same else "different"
    app.info(
        f"{comparison.name}: {verdict}: {comparison.identical} same, "
        f"{len(comparison.only_in_source)} only at the source, "
        f"{len(comparison.only_in_destination)} only at the destination, "
        f"{len(comparison.differ)} differ"
        + (f", {comparison.ignored} ignored" if comparison.ignored else "")
    )


@click.command("check")
@click.argument("source")
@click.argument("destination")
@ignore_option
@check_options
@pass_app
def check_command(
    app: App,
    source: str,
    destination: str,
    ignore_rules: tuple[str, ...],
    checksum: bool,
    workers: int | None,
) -> None:
    """Compare SOURCE and DESTINATION (folders or s3://bucket/prefix) as a sync would.

    Lists what is only on one side and what differs; exit 0 when identical, 1
    otherwise. Changes nothing.
    """
    from s32s.backup.api import check

    comparison = check(
        source,
        destination,
        ignore=ignore_rules,
        checksum=checksum,
        workers=workers,
        **app.aws_keywords(),
    )
    show_comparisons(app, [comparison])


def check_maps(
    app: App,
    mode: str,
    names: tuple[str, ...],
    maps: str | None,
    checksum: bool,
    workers: int | None,
) -> None:
    """`master check` / `slave check`: each selected map's two sides compared."""
    from s32s import runs
    from s32s.sync.session import RunHooks

    config = app.load_config(required=maps is None)
    comparisons = runs.check_maps(
        mode,
        config=config,
        maps=maps,
        names=names,
        checksum=checksum,
        workers=workers,
        hooks=RunHooks(warn=app.warn, info=app.info),
        **app.aws_keywords(),
    )
    show_comparisons(app, comparisons)

"""`s32s master push`, `s32s slave pull` and `s32s sync SRC DST`."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from s32s.cli.app import App, end_with, ignore_option, pass_app, workers_option
from s32s.cli.check import check_options
from s32s.cli.objectoptions import object_options, parse_object_options

if TYPE_CHECKING:
    from s32s.maps.ini import Config
    from s32s.maps.runner import RunOptions
    from s32s.sync.events import Report, Reporter
    from s32s.sync.job import PreparedSync, SyncJob
    from s32s.sync.session import RunHooks


notify_option = click.option(
    "--notify",
    "notify",
    multiple=True,
    metavar="URL",
    help="Announce the finished run: sqs://QUEUE, a queue URL or sns:arn:aws:sns:…; repeatable "
    "[default: notify = in s32s.ini's [MAIN]]. A failed notification is only a warning.",
)


def run_options(function: Callable[..., Any]) -> Callable[..., Any]:
    """The options every sync command shares."""
    options = [
        click.option(
            "--dry-run", is_flag=True, help="Show what would be copied and deleted; change nothing."
        ),
        click.option(
            "--yes",
            "-y",
            is_flag=True,
            help="Do not ask before deleting (needed without a terminal).",
        ),
        workers_option("Files transferred in parallel (one shared connection pool)."),
        click.option(
            "--checksum",
            is_flag=True,
            help="Compare content (MD5 / multipart ETag) instead of size and modification time.",
        ),
        click.option(
            "--max-delete",
            metavar="N|all",
            help="Allow up to N deletions (or all). Default: refuse deleting more than half the destination.",
        ),
        click.option(
            "--allow-empty-source",
            is_flag=True,
            help="Allow mirroring a missing or empty source (deletes everything at the destination).",
        ),
        click.option(
            "--delete-excluded",
            is_flag=True,
            help="Also delete destination files matched by ignore rules (S32S's wipe).",
        ),
        click.option(
            "--cleanup-uploads",
            is_flag=True,
            help="Start large files afresh: abort the unfinished multipart uploads s32s left at "
            "the destination and remove the partial downloads it kept, instead of resuming them.",
        ),
        notify_option,
    ]
    for option in reversed(options):
        function = option(function)
    return object_options(function)


def build_run_options(
    app: App, config: Config, kwargs: dict[str, Any], backup_dir: str | None = None
) -> RunOptions:
    from s32s.maps.runner import RunOptions
    from s32s.sync.safeguards import Safeguards

    try:
        max_delete = Safeguards.parse_max_delete(kwargs["max_delete"])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--max-delete") from None
    objects = parse_object_options(kwargs, config)
    return RunOptions(
        workers=kwargs["workers"],
        checksum=kwargs["checksum"],
        max_delete=max_delete,
        allow_empty_source=kwargs["allow_empty_source"],
        delete_excluded=kwargs["delete_excluded"],
        backup_dir=Path(backup_dir).resolve() if backup_dir else None,
        sleep_after_rmdir=config.time_sleep_after_rm,
        cleanup_uploads=kwargs.get("cleanup_uploads", False),
        notify=notify_targets(kwargs.get("notify", ()), config),
        **objects.run_fields(),
    )


def notify_targets(option: tuple[str, ...], config: Config) -> tuple[Any, ...]:
    """`--notify` values when given (they replace the ini's), else `notify =` of [MAIN]."""
    from s32s.notify.targets import parse_targets

    return parse_targets(option, where="--notify") if option else config.notify


def run_hooks(app: App, *, yes: bool) -> RunHooks:
    """How the CLI takes part in a run: it draws plans and progress and asks before deleting."""
    from s32s.sync.session import RunHooks

    visible = not (app.quiet or app.json_output)

    def planned(prepared: PreparedSync, dry_run: bool) -> None:
        job, plan = prepared.job, prepared.plan
        if visible or plan.deletes:  # rich costs start-up time: quiet no-op runs skip it
            from s32s.cli import progress as view
        if visible:
            view.render_plan(job.name, str(job.source), str(job.dest), plan, dry_run=dry_run)
        if plan.deletes and not (prepared.refused or dry_run) and (visible or not yes):
            view.render_delete_preview(str(job.dest), plan)

    def confirm(prepared: PreparedSync) -> bool:
        from s32s.cli.progress import confirm_deletes

        return confirm_deletes()

    def progress(job: SyncJob) -> AbstractContextManager[Reporter]:
        from s32s.cli.output import progress_reporter

        return progress_reporter(app, str(job.source), str(job.dest))

    def finished(report: Report) -> None:
        problems = (
            report.refused
            or report.failed
            or report.archived
            or report.deletes_skipped
            or report.warnings
        )
        if problems and not report.dry_run and not app.json_output:
            from s32s.cli.progress import render_problems

            render_problems(report)

    return RunHooks(
        planned=planned,
        confirm=confirm if app.interactive else None,
        progress=progress,
        finished=finished,
        warn=app.warn,
        info=app.info,
    )


def show_summary(app: App, config: Config, reports: list[Report]) -> None:
    """The table of what each job did, unless quiet, --json or skip_tranfer_detail."""
    if reports and not config.skip_transfer_detail and not app.quiet and not app.json_output:
        from s32s.cli.progress import render_summary

        render_summary(reports)


def finish(app: App, config: Config, reports: list[Report], **extra: Any) -> None:
    """Print the summary (or the JSON report, with `extra` fields); end with the worst exit code."""
    from s32s.sync.session import worst_exit_code

    code = worst_exit_code(reports)
    if app.json_output:
        app.emit_json(
            {"maps": [report.to_dict() for report in reports], **extra, "exit_code": int(code)}
        )
    else:
        show_summary(app, config, reports)
    end_with(code)


def run_maps(
    app: App,
    mode: str,
    names: tuple[str, ...],
    maps: str | None,
    kwargs: dict[str, Any],
    backup_dir: str | None = None,
) -> None:
    config, reports = run_selected_maps(app, mode, names, maps, kwargs, backup_dir)
    finish(app, config, reports)


def run_selected_maps(
    app: App,
    mode: str,
    names: tuple[str, ...] | list[str],
    maps: str | None,
    kwargs: dict[str, Any],
    backup_dir: str | None = None,
) -> tuple[Config, list[Report]]:
    """Run the named maps (all when none) through the library; the ini and the reports."""
    from s32s import runs

    config = app.load_config(required=maps is None)
    options = build_run_options(app, config, kwargs, backup_dir)
    reports = runs.run_maps(
        mode,
        config=config,
        maps=maps,
        names=names,
        yes=kwargs["yes"],
        dry_run=kwargs["dry_run"],
        options=options,
        hooks=run_hooks(app, yes=kwargs["yes"] or config.skip_delete_alert),
        **app.aws_keywords(),
    )
    return config, reports


def names_and_maps(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option("--maps", metavar="PATH", help="Maps path [default: from s32s.ini].")(
        function
    )
    return click.argument("names", nargs=-1, metavar="[NAME]...")(function)


backup_dir_option = click.option(
    "--backup-dir",
    type=click.Path(file_okay=False),
    help="Move replaced or deleted local files here instead of destroying them.",
)


@click.group("master")
def master_group() -> None:
    """Commands of the machine that pushes (ismaster = True)."""


@master_group.command("push")
@names_and_maps
@run_options
@pass_app
def push_command(app: App, names: tuple[str, ...], maps: str | None, **kwargs: Any) -> None:
    """Push each map's local folder to its S3 path (all maps when no NAME is given).

    New and changed files are uploaded; files gone from the folder are deleted
    from S3 after a preview and confirmation. Symbolic links are not followed.
    """
    run_maps(app, "master", names, maps, kwargs)


@master_group.command("check")
@names_and_maps
@check_options
@pass_app
def master_check_command(
    app: App, names: tuple[str, ...], maps: str | None, checksum: bool, workers: int | None
) -> None:
    """Compare each map's local folder with its S3 path (all maps when no NAME is given).

    Exit 0 when every map matches, 1 otherwise; nothing is changed.
    """
    from s32s.cli.check import check_maps

    check_maps(app, "master", names, maps, checksum, workers)


@click.group("slave")
def slave_group() -> None:
    """Commands of the machines that pull (ismaster = False)."""


@slave_group.command("pull")
@names_and_maps
@run_options
@backup_dir_option
@click.option(
    "--watch",
    "watch_queue",
    metavar="sqs://QUEUE",
    help="Keep running: long-poll this SQS queue and pull a map whenever a message says its "
    "S3 path changed (docs/watch.md). Deletions then need --yes or skip_delete_alert.",
)
@click.option(
    "--idle-exit",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    help="With --watch: stop after this many seconds without a message (for scripts and tests).",
)
@click.option(
    "--delete-unrelated",
    is_flag=True,
    help="With --watch: delete messages about none of these maps [default: leave them in the queue].",
)
@click.option(
    "--visibility-timeout",
    type=click.IntRange(0, 43200),
    metavar="SECONDS",
    help="With --watch: how long a received message stays hidden while its pull runs, and so "
    "how soon a failed pull is retried [default: the queue's setting].",
)
@pass_app
def pull_command(
    app: App,
    names: tuple[str, ...],
    maps: str | None,
    backup_dir: str | None,
    watch_queue: str | None,
    idle_exit: float | None,
    delete_unrelated: bool,
    visibility_timeout: int | None,
    **kwargs: Any,
) -> None:
    """Pull each map's S3 path into its local folder (all maps when no NAME is given).

    Files are written under a temporary name and renamed into place, with the
    master's modification time. Files gone from S3 are deleted locally after a
    preview and confirmation. With --watch, pull whenever a queue says so.
    """
    if watch_queue is None:
        for name, value in (
            ("--idle-exit", idle_exit),
            ("--delete-unrelated", delete_unrelated),
            ("--visibility-timeout", visibility_timeout),
        ):
            if value is not None and value is not False:
                raise click.UsageError(f"{name} only applies with --watch.")
        run_maps(app, "slave", names, maps, kwargs, backup_dir)
        return
    if kwargs["dry_run"]:
        raise click.UsageError(
            "--watch cannot be combined with --dry-run: messages are deleted once pulled."
        )
    from s32s.cli.watch import watch_and_pull
    from s32s.notify.watch import WatchOptions

    options = WatchOptions(
        idle_exit=idle_exit,
        delete_unrelated=delete_unrelated,
        visibility_timeout=visibility_timeout,
    )
    watch_and_pull(app, watch_queue, options, names, maps, kwargs, backup_dir)


@slave_group.command("check")
@names_and_maps
@check_options
@pass_app
def slave_check_command(
    app: App, names: tuple[str, ...], maps: str | None, checksum: bool, workers: int | None
) -> None:
    """Compare each map's S3 path with its local folder (all maps when no NAME is given).

    Exit 0 when every map matches, 1 otherwise; nothing is changed.
    """
    from s32s.cli.check import check_maps

    check_maps(app, "slave", names, maps, checksum, workers)


@click.command("sync")
@click.argument("source")
@click.argument("destination")
@click.option(
    "--delete", is_flag=True, help="Delete destination files that are not in the source (mirror)."
)
@ignore_option
@click.option(
    "--snowball-batch",
    is_flag=True,
    help="To a Snowball Edge (--region snow): send files of 1 MB or less in tar archives the "
    "import unpacks (snowball-auto-extract).",
)
@run_options
@backup_dir_option
@pass_app
def sync_command(
    app: App,
    source: str,
    destination: str,
    delete: bool,
    ignore_rules: tuple[str, ...],
    backup_dir: str | None,
    snowball_batch: bool,
    **kwargs: Any,
) -> None:
    """Sync SOURCE to DESTINATION: each a local folder or s3://bucket/prefix.

    Copies what is new or changed (size or modification time). With --delete,
    also removes what the source no longer has. S3 → S3 on one endpoint copies
    server-side. Symbolic links are not followed.
    """
    from s32s import runs

    if snowball_batch and (app.region or "").lower() != "snow":
        raise click.UsageError("--snowball-batch is for a Snowball Edge: pass --region snow.")
    config = app.load_config(required=False)
    options = build_run_options(app, config, kwargs, backup_dir)
    yes = kwargs["yes"] or config.skip_delete_alert
    report = runs.sync(
        source,
        destination,
        delete=delete,
        yes=yes,
        dry_run=kwargs["dry_run"],
        ignore=ignore_rules,
        snowball_batch=snowball_batch,
        options=options,
        hooks=run_hooks(app, yes=yes),
        **app.aws_keywords(),
    )
    if not snowball_batch:
        finish(app, config, [report])
        return
    if report.archives:
        app.info(
            f"{report.archived_files} small file(s) in {len(report.archives)} archive(s) "
            f"under {report.destination}/.s32s-snowball/"
        )
    finish(app, config, [report], archives=report.archives)

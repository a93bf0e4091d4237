"""`s32s master push`, `s32s slave pull` and `s32s sync SRC DST`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from s32s.cli.app import App, ignore_option, pass_app, workers_option
from s32s.cli.check import check_options
from s32s.cli.objectoptions import object_options, parse_object_options
from s32s.errors import ExitCode, S32SError

if TYPE_CHECKING:
    from s32s.maps.ini import Config
    from s32s.maps.runner import RunOptions, StoreFactory
    from s32s.sync.events import Report
    from s32s.sync.job import SyncJob


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
        object_settings=objects.settings,
        bwlimit=objects.bwlimit,
        skip_archived=objects.skip_archived,
        restore_archived_days=objects.restore_archived_days,
    )


def store_factory(app: App, options: RunOptions) -> StoreFactory:
    """The stores of one run: one client, one part pool, one bandwidth limiter."""
    from s32s.maps.runner import StoreFactory

    return StoreFactory(
        app.client_factory(options.workers),
        options.workers,
        pause_after_rmdir=options.sleep_after_rmdir,
        bwlimit=options.bwlimit,
    )


def notify_targets(option: tuple[str, ...], config: Config) -> tuple[Any, ...]:
    """`--notify` values when given (they replace the ini's), else `notify =` of [MAIN]."""
    from s32s.notify.targets import parse_targets

    return parse_targets(option, where="--notify") if option else config.notify


class SyncSession:
    """Runs jobs one after the other with preview, confirmation, progress and summary."""

    def __init__(
        self,
        app: App,
        config: Config,
        *,
        dry_run: bool,
        yes: bool,
        command: str = "sync",
        notify: tuple[Any, ...] = (),
    ) -> None:
        self.app = app
        self.config = config
        self.command = command
        self.notify = notify
        self.dry_run = dry_run
        self.assume_yes = yes or config.skip_delete_alert
        self.reports: list[Report] = []
        self.stop = threading.Event()
        self._extra_reporters: tuple[Any, ...] = ()

    def run_job(
        self,
        job: SyncJob,
        *extra_reporters: Any,
        run: Callable[..., Report] | None = None,
        log: str | None = None,
    ) -> Report:
        """Lock the destination, plan, show, confirm and run one job; extra reporters get its events.

        `run(prepared, reporter, stop)` replaces the engine's `execute` (e.g.
        Snowball batching). The finished run is announced to the session's
        notification targets.
        """
        self._extra_reporters = extra_reporters
        from s32s.aws.clients import aws_errors
        from s32s.sync.job import execute, prepare
        from s32s.sync.lock import destination_lock

        bucket = getattr(getattr(job.dest, "url", None), "bucket", None) or getattr(
            getattr(job.source, "url", None), "bucket", None
        )
        endpoint = getattr(job.dest, "endpoint", None) or getattr(job.source, "endpoint", None)
        started = time.time()
        try:
            with (
                aws_errors(bucket=bucket, endpoint=endpoint),
                destination_lock(job.dest.identity, str(job.dest)),
            ):
                prepared = prepare(job)
                report = self._decide_and_run(prepared, run or execute)
        except S32SError as exc:
            if self.notify and not self.dry_run:
                from s32s.notify.send import notify_failure

                notify_failure(
                    self.command, job.name, str(job.source), str(job.dest), started, exc,
                    self.notify, self.app.factory, log=log,
                )  # fmt: skip
            raise
        self.reports.append(report)
        if self.notify:
            from s32s.notify.send import notify_run

            notify_run(self.command, report, self.notify, self.app.factory, log=log)
        return report

    def _decide_and_run(self, prepared: Any, execute: Callable[..., Report]) -> Report:
        job, plan, app = prepared.job, prepared.plan, self.app
        visible = not (app.quiet or app.json_output)
        if visible or plan.deletes:  # rich costs start-up time: quiet no-op runs skip it
            from s32s.cli import progress as view
        if visible:
            view.render_plan(job.name, str(job.source), str(job.dest), plan, dry_run=self.dry_run)
        if prepared.refused or self.dry_run:
            report = prepared.empty_report(dry_run=self.dry_run)
            if not self.dry_run:
                self._show(report)
            return report
        if plan.deletes and (visible or not self.assume_yes):
            view.render_delete_preview(str(job.dest), plan)
        if plan.deletes and not self.assume_yes:
            if not app.interactive:
                report = prepared.empty_report()
                report.refused.append(
                    f"{len(plan.deletes)} file(s) would be deleted and there is no terminal to confirm: "
                    "pass --yes (or set skip_delete_alert = True)"
                )
                self._show(report)
                return report
            if not view.confirm_deletes():
                report = prepared.empty_report()
                report.refused.append("deletion not confirmed")
                self._show(report)
                return report
        report = self._execute(prepared, execute)
        self._show(report)
        return report

    def _execute(self, prepared: Any, execute: Callable[..., Report]) -> Report:
        from s32s.cli.output import progress_reporter
        from s32s.sync.events import TeeReporter

        job = prepared.job
        with progress_reporter(self.app, str(job.source), str(job.dest)) as shown:
            reporter = TeeReporter(shown, *self._extra_reporters)
            reporter.planned(job.name, prepared.plan)
            return execute(prepared, reporter, self.stop)

    def _show(self, report: Report) -> None:
        problems = (
            report.refused
            or report.failed
            or report.archived
            or report.deletes_skipped
            or report.warnings
        )
        if problems and not self.app.json_output:
            from s32s.cli.progress import render_problems

            render_problems(report)

    def show_summary(self) -> None:
        """The table of what each job did, unless quiet, --json or skip_tranfer_detail."""
        if self.reports and not self.config.skip_transfer_detail and not self.app.quiet:
            if self.app.json_output:
                return
            from s32s.cli.progress import render_summary

            render_summary(self.reports)

    def finish(self, **extra: Any) -> None:
        """Print the summary (or the JSON report, with `extra` fields) and exit with the worst code."""
        code = max(
            (report.exit_code for report in self.reports), default=ExitCode.OK, key=_severity
        )
        if self.app.json_output:
            self.app.emit_json(
                {
                    "maps": [report.to_dict() for report in self.reports],
                    **extra,
                    "exit_code": int(code),
                }
            )
        else:
            self.show_summary()
        if code:
            raise SystemExit(int(code))


def _severity(code: ExitCode) -> int:
    return {ExitCode.OK: 0, ExitCode.PARTIAL_FAILURE: 1, ExitCode.REFUSED: 2}.get(code, 3)


def run_maps(
    app: App,
    mode: str,
    names: tuple[str, ...],
    maps: str | None,
    kwargs: dict[str, Any],
    backup_dir: str | None = None,
) -> None:
    run_selected_maps(app, mode, names, maps, kwargs, backup_dir).finish()


def run_selected_maps(
    app: App,
    mode: str,
    names: tuple[str, ...] | list[str],
    maps: str | None,
    kwargs: dict[str, Any],
    backup_dir: str | None = None,
) -> SyncSession:
    """Run the named maps (all when none); the session holds their reports."""
    from s32s.cli.maps import load_mapset
    from s32s.maps.runner import check_no_shared_s3_paths, job_for_map

    config = app.load_config(required=maps is None)
    mapset = load_mapset(app, maps, mode)
    selected = mapset.select(names)
    _check_other_mode(app, config, mode, mapset.maps, check_no_shared_s3_paths)
    options = build_run_options(app, config, kwargs, backup_dir)
    session = SyncSession(
        app,
        config,
        dry_run=kwargs["dry_run"],
        yes=kwargs["yes"],
        command="push" if mode == "master" else "pull",
        notify=options.notify,
    )
    with store_factory(app, options) as stores:
        for pathmap in selected:
            session.run_job(job_for_map(pathmap, mode, stores, options))
    return session


def _check_other_mode(
    app: App, config: Config, mode: str, maps: list[Any], check: Callable[..., None]
) -> None:
    """When this machine's ini names both a master and a slave maps path, they must not share S3 paths."""
    other_mode = "slave" if mode == "master" else "master"
    other_location = config.maps_for(other_mode)
    if not other_location or other_location == config.maps_for(mode):
        return
    from s32s.errors import S32SError
    from s32s.maps.pathmap import load_maps

    try:
        other = load_maps(other_location, mode=None, factory=app.factory).maps
    except S32SError as exc:
        app.warn(
            f"The {other_mode} maps at {other_location} could not be checked for shared S3 paths: {exc.message}"
        )
        return
    masters, slaves = (maps, other) if mode == "master" else (other, maps)
    check(masters, slaves)


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
    from s32s.maps.runner import job_for_paths

    config = app.load_config(required=False)
    options = build_run_options(app, config, kwargs, backup_dir)
    session = SyncSession(
        app, config, dry_run=kwargs["dry_run"], yes=kwargs["yes"], notify=options.notify
    )
    with store_factory(app, options) as stores:
        job = job_for_paths(
            source, destination, stores, options, delete=delete, ignore=ignore_rules
        )
        if snowball_batch:
            from s32s.snowball.batch import SnowballBatching

            if (app.region or "").lower() != "snow":
                raise click.UsageError(
                    "--snowball-batch is for a Snowball Edge: pass --region snow."
                )
            batching = SnowballBatching()
            session.run_job(batching.job(job), run=batching.run)
            archives = batching.by_archive()
            if archives:
                app.info(
                    f"{len(batching.archives)} small file(s) in {len(archives)} archive(s) "
                    f"under {job.dest}/.s32s-snowball/"
                )
            session.finish(archives=archives)
            return
        session.run_job(job)
    session.finish()

"""`s32s backup create|list|restore|prune|check`: a thin layer over `s32s.backup`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from s32s.cli.app import App, end_with, ignore_option, pass_app, workers_option
from s32s.cli.objectoptions import ObjectOptions, object_options, parse_object_options
from s32s.sync.concurrency import DEFAULT_START

if TYPE_CHECKING:
    from s32s.backup.prune import PrunePlan

backup_workers_option = workers_option(
    f"Files transferred in parallel (`backup check`: files read at once, {DEFAULT_START})."
)
dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Show what would happen; change nothing."
)
break_lock_option = click.option(
    "--break-lock",
    is_flag=True,
    help="Remove a lock left by a run that died (only when no other run is active).",
)


def _stores(app: App, workers: int | None, objects: ObjectOptions | None = None) -> Any:
    from s32s.backup.api import open_stores

    if objects is None:
        return open_stores(workers, **app.aws_keywords())
    return open_stores(
        workers, settings=objects.settings, bwlimit=objects.bwlimit, **app.aws_keywords()
    )


@click.group("backup")
def backup_group() -> None:
    """Timestamped, incremental snapshots in an S3 backup location."""


@backup_group.command("create")
@click.argument("source")
@click.argument("location")
@ignore_option
@click.option(
    "--checksum", is_flag=True, help="Compare content with the last snapshot, not size and mtime."
)
@backup_workers_option
@dry_run_option
@break_lock_option
@object_options
@pass_app
def create_command(
    app: App,
    source: str,
    location: str,
    ignore_rules: tuple[str, ...],
    checksum: bool,
    workers: int | None,
    dry_run: bool,
    break_lock: bool,
    **kwargs: Any,
) -> None:
    """Snapshot SOURCE (a folder or s3://…) into LOCATION (s3://bucket/prefix).

    The snapshot is a folder named by its UTC start time. Files unchanged
    since the newest complete snapshot are copied server-side from it; only
    new and changed files are uploaded. Its manifest is written last: a
    snapshot without one is unfinished. The object options say how the
    snapshot's objects are written; an archived source object fails the
    snapshot (--skip-archived does not apply: a snapshot holds every file).
    """
    from s32s.backup.create import CreateOptions, create_backup
    from s32s.cli.output import progress_reporter

    objects = parse_object_options(kwargs, app.load_config(required=False))
    if objects.skip_archived:
        raise click.UsageError(
            "--skip-archived does not apply to backup create: a snapshot holds every file. "
            "Use --restore-archived DAYS, then create the snapshot once they are restored."
        )
    options = CreateOptions(
        ignore_rules, checksum, workers, dry_run, break_lock, objects.restore_archived_days
    )
    with (
        _stores(app, workers, objects) as stores,
        progress_reporter(app, source, f"{location.rstrip('/')}/…") as reporter,
    ):
        report = create_backup(source, location, stores, options, reporter=reporter)
    if app.json_output:
        app.emit_json(report.to_dict())
    else:
        _show_create(app, report)
    end_with(report.exit_code)


def _show_create(app: App, report: Any) -> None:
    from s32s.cli.output import human_bytes

    for warning in report.warnings:
        app.warn(warning)
    for key, reason in sorted(report.failed.items()):
        app.error(f"failed: {key}: {reason}")
    if report.dry_run:
        app.info(
            f"(dry run) snapshot {report.snapshot}: {len(report.would_upload)} to upload, "
            f"{len(report.would_copy)} unchanged to copy from {report.base or 'no earlier snapshot'}"
        )
        for key in report.would_upload:
            app.info(f"  upload {key}")
        return
    if report.complete:
        app.info(
            f"Snapshot {report.snapshot} complete: {report.files} files ({human_bytes(report.bytes)}); "
            f"{report.uploaded} uploaded ({human_bytes(report.bytes_uploaded)}), "
            f"{report.copied} copied server-side from {report.base or '-'}."
        )
    else:
        app.error(
            f"Snapshot {report.snapshot} is unfinished ({len(report.failed)} file(s) failed); "
            "the next create still starts from the last complete snapshot."
        )


@backup_group.command("list")
@click.argument("location")
@pass_app
def list_command(app: App, location: str) -> None:
    """The snapshots in LOCATION: time, files, bytes, and whether each is complete."""
    from s32s.backup.create import open_location
    from s32s.cli.output import human_bytes, stdout_console, table

    with _stores(app, 8) as stores:
        snapshots = open_location(location, stores).snapshots()
    if app.json_output:
        app.emit_json({"location": location, "snapshots": [s.to_dict() for s in snapshots]})
        return
    if not snapshots:
        app.info(f"No snapshots in {location}.")
        return
    rows = [
        [s.name, s.status.value, s.files, human_bytes(s.bytes), s.problem or ""] for s in snapshots
    ]
    stdout_console().print(
        table(location, ["snapshot (UTC)", "status", "files", "bytes", "note"], rows)
    )


@backup_group.command("restore")
@click.argument("location")
@click.argument("snapshot", metavar="SNAPSHOT|latest")
@click.argument("destination")
@click.option(
    "--include",
    "include_rules",
    multiple=True,
    metavar="RULE",
    help="Restore only paths matching RULE (`*` matches anything, `/` included). Repeatable.",
)
@click.option("--delete", is_flag=True, help="Delete destination files the snapshot does not hold.")
@click.option(
    "--yes", "-y", is_flag=True, help="Do not ask before deleting (needed without a terminal)."
)
@click.option(
    "--checksum", is_flag=True, help="Compare content instead of size and modification time."
)
@click.option(
    "--max-delete",
    metavar="N|all",
    help="Allow up to N deletions (or all). Default: refuse deleting more than half the destination.",
)
@backup_workers_option
@dry_run_option
@object_options
@pass_app
def restore_command(
    app: App,
    location: str,
    snapshot: str,
    destination: str,
    include_rules: tuple[str, ...],
    delete: bool,
    yes: bool,
    checksum: bool,
    max_delete: str | None,
    workers: int | None,
    dry_run: bool,
    **kwargs: Any,
) -> None:
    """Restore SNAPSHOT (or the newest complete one, `latest`) from LOCATION into DESTINATION.

    DESTINATION is a folder (created when missing) or s3://bucket/prefix.
    Files are written atomically with their original modification times;
    with --delete, files the snapshot lacks are deleted after a preview and a
    confirmation, as a pull does. Snapshot files in an archive storage class
    are reported 'archived, restore first' (see --restore-archived).
    """
    from s32s.backup.restore import RestoreOptions, restore_job
    from s32s.cli.sync import finish, run_hooks
    from s32s.sync.safeguards import Safeguards
    from s32s.sync.session import RunSession

    try:
        cap = Safeguards.parse_max_delete(max_delete)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--max-delete") from None
    config = app.load_config(required=False)
    objects = parse_object_options(kwargs, config)
    options = RestoreOptions(
        include_rules,
        delete,
        dry_run,
        checksum,
        workers,
        cap,
        yes,
        objects.skip_archived,
        objects.restore_archived_days,
    )
    yes = yes or config.skip_delete_alert
    session = RunSession(
        dry_run=dry_run, yes=yes, factory=app.factory, hooks=run_hooks(app, yes=yes)
    )
    with _stores(app, workers, objects) as stores:
        restore = restore_job(location, snapshot, destination, stores, options)
        report = restore.account(session.run_job(restore.job))
    if not app.json_output:
        for key in restore.missing if report.failed else []:
            app.error(f"failed: {key}: {report.failed.get(key, '')}")
        for warning in restore.warnings:
            app.warn(warning)
    finish(app, config, session.reports, snapshot=restore.snapshot.name)


def _keep_options(function: Any) -> Any:
    for name, unit in reversed(
        [
            ("last", "snapshots"),
            ("hourly", "hours"),
            ("daily", "days"),
            ("weekly", "weeks"),
            ("monthly", "months"),
            ("yearly", "years"),
        ]
    ):
        text = (
            "Keep the N newest snapshots."
            if name == "last"
            else f"Keep the newest snapshot of each of the last N {unit} that have one (-1: all)."
        )
        function = click.option(
            f"--keep-{name}", type=click.IntRange(min=-1), metavar="N", help=text
        )(function)
    return click.option(
        "--keep-within",
        metavar="DURATION",
        help="Keep every snapshot within DURATION of the newest one (e.g. 30d, 1y6m, 12h).",
    )(function)


@backup_group.command("prune")
@click.argument("location")
@_keep_options
@click.option(
    "--yes", "-y", is_flag=True, help="Do not ask before removing (needed without a terminal)."
)
@dry_run_option
@break_lock_option
@pass_app
def prune_command(
    app: App, location: str, yes: bool, dry_run: bool, break_lock: bool, **keep: Any
) -> None:
    """Remove the snapshots no --keep-* rule keeps (restic's rules; any rule keeping one keeps it).

    The newest complete snapshot is kept unless --keep-last 0 is given.
    Unfinished snapshots older than the newest complete one are removed;
    damaged ones are never removed.
    """
    from s32s.backup.prune import prune_backups
    from s32s.backup.retention import KeepPolicy

    try:
        policy = KeepPolicy.from_options(
            *(
                keep[f"keep_{name}"]
                for name in ("last", "hourly", "daily", "weekly", "monthly", "yearly")
            ),
            within=keep["keep_within"],
        )
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--keep-within") from None

    def confirm(plan: PrunePlan) -> bool:
        _show_prune_plan(app, plan, dry_run=False)
        if not app.interactive:
            return False
        from s32s.cli.progress import confirm_deletes

        return confirm_deletes()

    with _stores(app, 8) as stores:
        report = prune_backups(
            location,
            stores,
            policy,
            dry_run=dry_run,
            yes=yes,
            confirm=confirm,
            break_lock=break_lock,
        )
    if report.refused and not app.interactive and report.refused[0] == "removal not confirmed":
        report.refused[0] = (
            f"{len(report.plan.remove)} snapshot(s) would be removed and there is no terminal to "
            "confirm: pass --yes"
        )
    if app.json_output:
        app.emit_json(report.to_dict())
    else:
        if dry_run or yes:
            _show_prune_plan(app, report.plan, dry_run=dry_run)
        for warning in report.warnings:
            app.warn(warning)
        for reason in report.refused:
            app.error(f"Refused: {reason}")
        for name, reason in sorted(report.failed.items()):
            app.error(f"failed: {name}: {reason}")
        if report.removed:
            app.info(f"Removed {len(report.removed)} snapshot(s).")
    end_with(report.exit_code)


def _show_prune_plan(app: App, plan: PrunePlan, *, dry_run: bool) -> None:
    if app.json_output or app.quiet:
        return
    from s32s.cli.output import human_bytes

    prefix = "(dry run) " if dry_run else ""
    for snapshot, reasons in plan.keep:
        app.info(f"{prefix}keep   {snapshot.name}  ({', '.join(reasons)})")
    for snapshot, reason in plan.remove:
        app.info(f"{prefix}remove {snapshot.name}  ({reason})")
    app.info(
        f"{prefix}{len(plan.remove)} snapshot(s) to remove ({human_bytes(plan.bytes_to_remove)}), "
        f"{len(plan.keep)} kept."
    )


@backup_group.command("check")
@click.argument("location")
@click.argument("snapshot", required=False, metavar="[SNAPSHOT|latest]")
@click.option("--all", "all_snapshots", is_flag=True, help="Check every snapshot.")
@click.option("--read-data", is_flag=True, help="Also download every file and hash it.")
@backup_workers_option
@pass_app
def check_command(
    app: App,
    location: str,
    snapshot: str | None,
    all_snapshots: bool,
    read_data: bool,
    workers: int | None,
) -> None:
    """Prove snapshots whole: every file of the manifest present with its size and ETag.

    Checks the newest complete snapshot unless SNAPSHOT or --all is given.
    Exit 1 when anything is missing or different (each listed).
    """
    from s32s.backup.verify import check_backup

    if snapshot and all_snapshots:
        raise click.UsageError("Give a SNAPSHOT or --all, not both.")
    with _stores(app, workers) as stores:
        report = check_backup(
            location,
            stores,
            snapshot,
            all_snapshots=all_snapshots,
            read_data=read_data,
            workers=workers,
        )
    if app.json_output:
        app.emit_json(report.to_dict())
    else:
        for item in report.snapshots:
            for warning in item.warnings:
                app.warn(f"{item.name}: {warning}")
            for key, reason in sorted(item.problems.items()):
                app.error(f"{item.name}: {key}: {reason}")
            verdict = "ok" if not item.problems else f"{len(item.problems)} problem(s)"
            app.info(f"{item.name} ({item.status}): {item.files} files checked, {verdict}")
    end_with(report.exit_code)

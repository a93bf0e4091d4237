"""The backup commands and `check` as Python calls: what the CLI does, without the CLI.

    import s32s
    report = s32s.backup_create("/data", "s3://bucket/backups", ignore=["*.tmp"])
    s32s.backup_prune("s3://bucket/backups", keep_within="30d", yes=True)

Each call makes its own clients from `profile`, `region` and `endpoint_url`
(or the environment, as the AWS CLI does) and returns the report the CLI
renders. Nothing is ever asked: a restore that would delete, or a prune that
would remove, is refused unless `yes=True`, exactly as without a terminal.

`backup_create` and `backup_restore` take the object options of the other
commands that move data: `settings` (an `ObjectSettings`: storage class,
encryption, SSE-C key, Content-Type guessing), `bwlimit` (`"10M"`, or a
timetable such as `"08:00,2M 19:00,off"`) and `restore_archived_days`
(`skip_archived` on restore).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING

from s32s.maps.runner import StoreFactory

if TYPE_CHECKING:
    from s32s.aws.bucketsetup import SetupReport
    from s32s.backup.location import Snapshot
    from s32s.backup.prune import PruneReport
    from s32s.backup.report import BackupReport
    from s32s.backup.verify import CheckReport
    from s32s.sync.bwlimit import RateSchedule
    from s32s.sync.check import Comparison
    from s32s.sync.events import Report, Reporter
    from s32s.sync.objectsettings import ObjectSettings


@contextmanager
def open_stores(
    workers: int | None,
    *,
    settings: ObjectSettings | None = None,
    bwlimit: str | RateSchedule | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    verify_tls: bool | None = None,
) -> Iterator[StoreFactory]:
    """The stores of one backup run (one client, part pool and limiter); AWS errors made plain."""
    from s32s.aws.clients import ClientFactory, aws_errors
    from s32s.runs import aws_options
    from s32s.sync.bwlimit import parse_bwlimit
    from s32s.sync.objectsettings import DEFAULT_SETTINGS

    options = aws_options(profile, region, endpoint_url, verify_tls)
    factory = ClientFactory(options.for_workers(workers))
    with (
        StoreFactory(
            factory,
            workers,
            bwlimit=parse_bwlimit(bwlimit) if isinstance(bwlimit, str) else bwlimit,
            settings=settings or DEFAULT_SETTINGS,
        ) as stores,
        aws_errors(endpoint=factory.endpoint_url),
    ):
        yield stores


def _stores(
    workers: int | None,
    profile: str | None,
    region: str | None,
    endpoint_url: str | None,
    settings: ObjectSettings | None = None,
    bwlimit: str | None = None,
    verify_tls: bool | None = None,
) -> AbstractContextManager[StoreFactory]:
    where = {"profile": profile, "region": region, "endpoint_url": endpoint_url}
    return open_stores(workers, settings=settings, bwlimit=bwlimit, verify_tls=verify_tls, **where)


def backup_create(
    source: str,
    location: str,
    *,
    ignore: Sequence[str] = (),
    checksum: bool = False,
    workers: int | None = None,
    dry_run: bool = False,
    break_lock: bool = False,
    reporter: Reporter | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    settings: ObjectSettings | None = None,
    bwlimit: str | None = None,
    restore_archived_days: int | None = None,
) -> BackupReport:
    """A new snapshot of `source` (a folder or s3://…) in `location`; see `backup.create`."""
    from s32s.backup.create import CreateOptions, create_backup

    options = CreateOptions(
        tuple(ignore), checksum, workers, dry_run, break_lock, restore_archived_days
    )
    with _stores(workers, profile, region, endpoint_url, settings, bwlimit) as stores:
        return create_backup(source, location, stores, options, reporter=reporter)


def backup_list(
    location: str,
    *,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> list[Snapshot]:
    """Every snapshot of `location`, oldest first, with its status, files and bytes."""
    from s32s.backup.create import open_location

    with _stores(8, profile, region, endpoint_url) as stores:
        return open_location(location, stores).snapshots()


def backup_restore(
    location: str,
    snapshot: str,
    destination: str,
    *,
    include: Sequence[str] = (),
    delete: bool = False,
    yes: bool = False,
    dry_run: bool = False,
    checksum: bool = False,
    max_delete: int | None = None,
    workers: int | None = None,
    reporter: Reporter | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    settings: ObjectSettings | None = None,
    bwlimit: str | None = None,
    skip_archived: bool = False,
    restore_archived_days: int | None = None,
) -> Report:
    """Restore `snapshot` (a name or `latest`) into `destination`, as a pull would."""
    from s32s.backup.restore import RestoreOptions, restore_backup

    options = RestoreOptions(
        tuple(include),
        delete,
        dry_run,
        checksum,
        workers,
        max_delete,
        yes,
        skip_archived,
        restore_archived_days,
    )
    with _stores(workers, profile, region, endpoint_url, settings, bwlimit) as stores:
        return restore_backup(location, snapshot, destination, stores, options, reporter=reporter)


def backup_prune(
    location: str,
    *,
    keep_last: int | None = None,
    keep_hourly: int | None = None,
    keep_daily: int | None = None,
    keep_weekly: int | None = None,
    keep_monthly: int | None = None,
    keep_yearly: int | None = None,
    keep_within: str | None = None,
    dry_run: bool = False,
    yes: bool = False,
    break_lock: bool = False,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> PruneReport:
    """Remove what no keep rule keeps (restic's rules); refused unless `yes` or `dry_run`."""
    from s32s.backup.prune import prune_backups
    from s32s.backup.retention import KeepPolicy

    policy = KeepPolicy.from_options(
        keep_last, keep_hourly, keep_daily, keep_weekly, keep_monthly, keep_yearly, keep_within
    )
    with _stores(8, profile, region, endpoint_url) as stores:
        return prune_backups(
            location, stores, policy, dry_run=dry_run, yes=yes, break_lock=break_lock
        )


def backup_check(
    location: str,
    snapshot: str | None = None,
    *,
    all_snapshots: bool = False,
    read_data: bool = False,
    workers: int | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> CheckReport:
    """Check one snapshot (default: the newest complete one) or all of them against their manifests."""
    from s32s.backup.verify import check_backup

    with _stores(workers, profile, region, endpoint_url) as stores:
        return check_backup(
            location,
            stores,
            snapshot,
            all_snapshots=all_snapshots,
            read_data=read_data,
            workers=workers,
        )


def bucket_setup(
    bucket: str,
    *,
    versioning: bool = False,
    encryption: str | None = None,
    expire: Sequence[str] = (),
    block_public_access: bool = False,
    dry_run: bool = False,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> SetupReport:
    """Set `bucket` (name or s3://name) up for backups, changing only what differs."""
    from s32s.aws.bucketsetup import settings_from_options, setup_bucket
    from s32s.paths import parse_s3_url

    url = parse_s3_url(bucket, what="bucket")
    settings = settings_from_options(versioning, encryption, tuple(expire), block_public_access)
    with _stores(4, profile, region, endpoint_url) as stores:
        return setup_bucket(stores.client_factory.s3(), url.bucket, settings, dry_run=dry_run)


def check(
    source: str,
    destination: str,
    *,
    ignore: Sequence[str] = (),
    checksum: bool = False,
    workers: int | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    verify_tls: bool | None = None,
) -> Comparison:
    """Compare two sides (folders or s3://…) as a sync would; `.same`, `.exit_code`, the lists."""
    from s32s.maps.runner import RunOptions, compare_paths

    options = RunOptions(workers=workers, checksum=checksum)
    with _stores(workers, profile, region, endpoint_url, verify_tls=verify_tls) as stores:
        return compare_paths(source, destination, stores, options, tuple(ignore))
